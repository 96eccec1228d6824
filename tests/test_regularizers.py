"""Tests of nn.regularizers and of weight penalties in training.

The penalties and their gradients by Keras' formulas; names, configs and bad factors;
the penalty in the loss that train_on_batch, fit and evaluate report and in the
gradient an optimizer steps on (checked against finite differences, and one wrong
gradient that the check catches); fit's separate 'regularization_loss'; the link to
SGD's weight decay; saving and loading.
"""
import numpy as np
import pytest
from helpers import assert_gradients_match

import nn
from nn import regularizers
from nn.gradcheck import check_model, numerical_gradient, rel_error
from nn.layers import Dense

WEIGHTS = np.array([[0.5, -2.0, 0.25], [-0.75, 1.5, 3.0]])


# --- the penalties ---------------------------------------------------------------------

@pytest.mark.parametrize("regularizer, penalty, gradient", [
    (regularizers.L1(0.1), 0.1 * 8.0, 0.1 * np.sign(WEIGHTS)),
    (regularizers.L2(0.1), 0.1 * 16.125, 0.2 * WEIGHTS),
    (regularizers.L1L2(l1=0.1, l2=0.01), 0.8 + 0.16125, 0.1 * np.sign(WEIGHTS) + 0.02 * WEIGHTS),
])
def test_penalty_and_gradient_by_keras_formulas(regularizer, penalty, gradient):
    # sum |w| = 8.0 and sum w^2 = 16.125 for WEIGHTS, worked out by hand
    assert regularizer(WEIGHTS) == pytest.approx(penalty, rel=1e-15)
    np.testing.assert_allclose(regularizer.gradient(WEIGHTS), gradient, rtol=1e-15)
    weights = WEIGHTS.copy()  # no entry within h of L1's kink at 0
    numeric = numerical_gradient(lambda: regularizer(weights), weights)
    assert rel_error(regularizer.gradient(weights), numeric) < 1e-8


def test_defaults_and_names_are_keras_ones():
    assert regularizers.L1().l1 == 0.01 and regularizers.L2().l2 == 0.01
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.l1 is regularizers.L1 and regularizers.l2 is regularizers.L2
    assert regularizers.l1_l2 is regularizers.L1L2
    for name, cls in [("l1", regularizers.L1), ("l2", regularizers.L2),
                      ("l1_l2", regularizers.L1L2), ("l1l2", regularizers.L1L2),
                      ("L2", regularizers.L2)]:
        assert type(regularizers.get(name)) is cls
    l2 = regularizers.L2(3e-4)
    assert regularizers.get(l2) is l2 and regularizers.get(None) is None
    again = regularizers.get(regularizers.serialize(l2))
    assert type(again) is regularizers.L2 and again.l2 == 3e-4
    assert regularizers.serialize(None) is None
    assert regularizers.L2(l2=None).l2 == 0.01  # None means the default, as in Keras


def test_an_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown regularizer 'l3'.*'l1'.*'l1_l2'.*'l2'"):
        regularizers.get("l3")
    with pytest.raises(TypeError, match="Received: 0.01"):
        regularizers.get(0.01)


@pytest.mark.parametrize("make, name, value", [
    (regularizers.L1, "l1", -0.01), (regularizers.L2, "l2", float("nan")),
    (regularizers.L2, "l2", float("inf")), (regularizers.L2, "l2", "0.01"),
    (lambda value: regularizers.L1L2(l2=value), "l2", -1), (regularizers.L1, "l1", True),
])
def test_a_negative_or_non_finite_factor_is_refused(make, name, value):
    with pytest.raises(ValueError, match=f"Received: {name}={value!r}"):
        make(value)


# --- the penalty in training -----------------------------------------------------------

def small_problem(seed=0, n=40):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4))
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64)


def regularized_model(dtype="float64", kernel_regularizer=None, bias_regularizer=None,
                      optimizer=None, seed=0):
    model = nn.Sequential([
        nn.Input((4,)),
        Dense(5, activation="tanh", kernel_regularizer=kernel_regularizer,
              bias_regularizer=bias_regularizer, name="hidden"),
        Dense(2, activation="softmax", kernel_regularizer=kernel_regularizer, name="output"),
    ], seed=seed, dtype=dtype)
    model.compile(optimizer=optimizer or nn.optimizers.SGD(0.1),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.build()
    for layer in model.layers:  # biases away from 0, where L1's gradient is defined
        layer.params["bias"][...] = np.linspace(-0.5, 0.5, layer.units) + 0.05
    return model


def data_loss(model, x, y):
    return model.loss(y, model.predict(x, batch_size=len(x)))


def test_the_reported_loss_is_the_data_loss_plus_the_penalty():
    x, y = small_problem()
    model = regularized_model(kernel_regularizer=regularizers.L2(0.05),
                              bias_regularizer=regularizers.L1(0.02))
    kernels = [layer.params["kernel"] for layer in model.layers]
    penalty = 0.05 * sum(np.sum(k ** 2) for k in kernels) \
        + 0.02 * np.sum(np.abs(model.layers[0].params["bias"]))
    assert model.regularization_penalty() == pytest.approx(penalty, rel=1e-12)
    expected = data_loss(model, x, y) + penalty
    loss, accuracy = model.evaluate(x, y, verbose=0)  # still [loss, accuracy], as in Keras
    assert loss == pytest.approx(expected, rel=1e-12)
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "accuracy"}
    batch_loss, _ = model.train_on_batch(x, y)  # computed before the step
    assert batch_loss == pytest.approx(expected, rel=1e-12)


def test_one_sgd_step_follows_the_gradient_of_the_penalized_loss():
    x, y = small_problem()
    plain = regularized_model()
    penalized = regularized_model(kernel_regularizer=regularizers.L2(0.05))
    plain.compute_gradients(x, y)  # the data loss's gradients at the same weights
    expected = [layer.params["kernel"] - 0.1 * (layer.grads["kernel"]
                                                 + 0.1 * layer.params["kernel"])
                for layer in plain.layers]
    penalized.train_on_batch(x, y)
    for layer, kernel in zip(penalized.layers, expected):
        np.testing.assert_allclose(layer.params["kernel"], kernel, rtol=1e-12)


@pytest.mark.parametrize("kernel_regularizer, bias_regularizer", [
    (regularizers.L2(0.05), None), (regularizers.L1(0.03), regularizers.L2(0.1)),
    (regularizers.L1L2(l1=0.02, l2=0.04), regularizers.L1(0.05))])
def test_check_model_includes_the_penalties(kernel_regularizer, bias_regularizer):
    x, y = small_problem()
    model = regularized_model(kernel_regularizer=kernel_regularizer,
                              bias_regularizer=bias_regularizer)
    errors = check_model(model, x, y)
    assert_gradients_match(errors, {"hidden/kernel", "hidden/bias", "output/kernel",
                                    "output/bias"})


class HalfL2(regularizers.L2):
    """A wrong gradient: the textbook l2 / 2 * sum w^2's, with Keras' penalty."""

    def gradient(self, weights):
        return self.l2 * weights


def test_check_model_catches_a_wrong_penalty_gradient():
    x, y = small_problem()
    errors = check_model(regularized_model(kernel_regularizer=HalfL2(0.5)), x, y)
    assert errors["hidden/kernel"] > 1e-2 and errors["output/kernel"] > 1e-2, errors
    assert errors["hidden/bias"] < 1e-6, errors


def test_fit_reports_the_penalty_apart_only_when_there_is_one():
    x, y = small_problem(n=64)
    model = regularized_model(dtype="float32", kernel_regularizer="l2")
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert list(history.history) == ["loss", "accuracy", "regularization_loss", "val_loss",
                                     "val_accuracy", "val_regularization_loss"]
    # the validation penalty is the penalty of the weights at the end of the epoch
    assert history.history["val_regularization_loss"][-1] == pytest.approx(
        model.regularization_penalty(), rel=1e-6)
    assert all(0 < penalty < loss for penalty, loss in
               zip(history.history["regularization_loss"], history.history["loss"]))
    plain = regularized_model(dtype="float32")
    assert "regularization_loss" not in plain.fit(x, y, epochs=1, verbose=0).history


def test_l2_penalty_pulls_weights_towards_zero():
    x, y = small_problem(n=64)
    norms = {}
    for factor in (0.0, 0.1):
        model = regularized_model(kernel_regularizer=regularizers.L2(factor))
        model.fit(x, y, epochs=30, batch_size=16, verbose=0, seed=0)
        norms[factor] = np.linalg.norm(model.layers[0].params["kernel"])
    assert norms[0.1] < 0.7 * norms[0.0], norms


def test_sgd_weight_decay_is_an_l2_penalty_of_half_the_factor():
    """SGD(weight_decay=wd) and L2(l2=wd / 2) take the same steps, momentum or not."""
    x, y = small_problem()
    for momentum in (0.0, 0.9):
        decayed = regularized_model(optimizer=nn.optimizers.SGD(0.1, momentum=momentum,
                                                                weight_decay=0.2))
        penalized = nn.Sequential([
            nn.Input((4,)),
            Dense(5, activation="tanh", kernel_regularizer=regularizers.L2(0.1),
                  bias_regularizer=regularizers.L2(0.1)),
            Dense(2, activation="softmax", kernel_regularizer=regularizers.L2(0.1),
                  bias_regularizer=regularizers.L2(0.1)),
        ], seed=0, dtype="float64")
        penalized.compile(optimizer=nn.optimizers.SGD(0.1, momentum=momentum),
                          loss="sparse_categorical_crossentropy")
        penalized.set_weights(decayed.get_weights())
        for _ in range(5):
            decayed.train_on_batch(x, y)
            penalized.train_on_batch(x, y)
        for ours, theirs in zip(decayed.get_weights(), penalized.get_weights()):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_regularizers_are_saved_and_loaded(tmp_path):
    x, y = small_problem()
    model = regularized_model(dtype="float32", kernel_regularizer=regularizers.L1L2(1e-3, 1e-2),
                              bias_regularizer="l1")
    model.fit(x, y, epochs=2, verbose=0)
    config = model.layers[0].get_config()
    assert config["kernel_regularizer"] == {"class_name": "L1L2",
                                            "config": {"l1": 1e-3, "l2": 1e-2}}
    assert config["bias_regularizer"] == {"class_name": "L1", "config": {"l1": 0.01}}
    model.save(tmp_path / "model.npz")
    loaded = nn.load_model(tmp_path / "model.npz")
    assert loaded.get_config() == model.get_config()
    assert loaded.regularization_penalty() == model.regularization_penalty()
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    assert isinstance(loaded.layers[1].kernel_regularizer, regularizers.L1L2)
    assert set(loaded.layers[0].regularizers) == {"kernel", "bias"}


def test_conv2d_takes_kernel_and_bias_regularizers(tmp_path):
    """Conv2D's penalties join the loss and its gradients exactly as Dense's do."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 5, 5, 2))
    y = rng.integers(0, 2, size=6)
    model = nn.Sequential([
        nn.Input((5, 5, 2)),
        nn.layers.Conv2D(3, 3, activation="tanh", name="conv",
                         kernel_regularizer=regularizers.L2(0.05),
                         bias_regularizer=regularizers.L1(0.02)),
        nn.layers.Flatten(),
        Dense(2, activation="softmax", name="output"),
    ], seed=0, dtype="float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.build()
    conv = model.layers[0]
    conv.params["bias"][...] = [0.3, -0.1, 0.2]  # away from |b|'s kink at zero
    by_hand = (0.05 * np.sum(conv.params["kernel"] ** 2)
               + 0.02 * np.sum(np.abs(conv.params["bias"])))
    assert model.regularization_penalty() == pytest.approx(by_hand, rel=1e-12)
    errors = check_model(model, x, y)
    assert_gradients_match(errors, {"conv/kernel", "conv/bias", "output/kernel",
                                    "output/bias"})
    model.save(tmp_path / "conv.npz")
    loaded = nn.load_model(tmp_path / "conv.npz")
    assert loaded.layers[0].get_config()["kernel_regularizer"] == {
        "class_name": "L2", "config": {"l2": 0.05}}
    assert loaded.regularization_penalty() == model.regularization_penalty()
