"""sample_weight and class_weight follow Keras' rule, checked against hand computation.

Keras 3's losses weigh each sample's loss and divide the weighted sum by the batch size
(reduction "sum_over_batch_size", keras/src/losses/loss.py); its ``metrics`` are not
weighted, its ``weighted_metrics`` are weighted means sum(w v) / sum(w); fit's reported
loss is the mean of the batch losses weighted by batch size; ``class_weight`` becomes
the weight of each sample's class (1 for classes it does not name).
"""
import numpy as np
import pytest
from helpers import assert_gradients_match

import nn
from nn.gradcheck import check_model
from nn.layers import Dense
from nn.losses import BinaryCrossentropy, MeanSquaredError, SparseCategoricalCrossentropy
from nn.optimizers import SGD

N, DIM, CLASSES = 10, 4, 3


@pytest.fixture
def problem():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((N, DIM))
    y = rng.integers(0, CLASSES, N)
    weights = rng.uniform(0.0, 3.0, N)  # they sum to about 15, not to N: the divisor shows
    weights[3] = 0.0
    return x, y, weights


def model(learning_rate=1e-12, seed=0):
    built = nn.Sequential([Dense(5, activation="tanh", input_dim=DIM),
                           Dense(CLASSES, activation="softmax")], seed=seed, dtype="float64")
    built.compile(optimizer=SGD(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    return built


def hand(built, x, y, weights):
    """Keras' rule by hand: the weighted loss over n, plain and weighted accuracy."""
    probabilities = built.predict(x)
    losses = -np.log(probabilities[np.arange(len(y)), y])
    correct = probabilities.argmax(axis=1) == y
    return (np.sum(weights * losses) / len(y), np.mean(correct),
            np.sum(weights * correct) / np.sum(weights))


def test_the_loss_divides_the_weighted_sum_by_the_batch_size(problem):
    x, y, weights = problem
    probabilities = nn.activations.softmax(x[:, :CLASSES])
    loss = SparseCategoricalCrossentropy()
    expected = np.sum(weights * -np.log(probabilities[np.arange(N), y])) / N
    assert loss(y, probabilities, sample_weight=weights) == pytest.approx(expected, rel=1e-12)
    assert SparseCategoricalCrossentropy(reduction="sum")(y, probabilities, weights) == \
        pytest.approx(expected * N, rel=1e-12)
    unreduced = SparseCategoricalCrossentropy(reduction=None)(y, probabilities, weights)
    np.testing.assert_allclose(unreduced, weights * -np.log(probabilities[np.arange(N), y]))


@pytest.mark.parametrize("make_loss, make_target, activation", [
    (SparseCategoricalCrossentropy, lambda y: y, "softmax"),
    (MeanSquaredError, lambda y: np.eye(CLASSES)[y], "tanh"),
    (BinaryCrossentropy, lambda y: np.eye(CLASSES)[y], "sigmoid"),
])
def test_the_weighted_gradient_is_each_samples_gradient_times_w_over_n(problem, make_loss,
                                                                       make_target, activation):
    x, y, weights = problem
    target = make_target(y)
    rng = np.random.default_rng(1)
    y_pred = nn.activations.get(activation).forward(rng.standard_normal((N, CLASSES)))
    loss = make_loss()
    loss(target, y_pred)
    unweighted = loss.backward()
    loss(target, y_pred, sample_weight=weights)
    np.testing.assert_allclose(loss.backward(), unweighted * weights[:, None], rtol=1e-12)


def test_model_gradients_with_sample_weights_pass_the_gradient_check(problem):
    x, y, weights = problem
    built = model()
    errors = check_model(built, x, y, sample_weight=weights)
    assert_gradients_match(errors, {f"{layer.name}/{key}" for layer in built.layers
                                    for key in layer.params})


def test_train_on_batch_reports_keras_loss_and_metrics(problem):
    x, y, weights = problem
    built = model()
    loss, accuracy, weighted_accuracy = hand(built, x, y, weights)
    logs = built.train_on_batch(x, y, sample_weight=weights, return_dict=True)
    assert logs["loss"] == pytest.approx(loss, rel=1e-10)
    assert logs["accuracy"] == pytest.approx(accuracy)
    assert logs["weighted_accuracy"] == pytest.approx(weighted_accuracy)
    assert weighted_accuracy != pytest.approx(accuracy)  # the weights matter in this problem


def test_fit_and_evaluate_report_keras_loss_and_metrics(problem):
    x, y, weights = problem
    built = model()
    loss, accuracy, weighted_accuracy = hand(built, x, y, weights)
    # batches of 4, 4 and 2: the epoch's loss weighs each batch loss by its size
    history = built.fit(x, y, batch_size=4, epochs=1, shuffle=False, sample_weight=weights,
                        verbose=0, validation_data=(x, y, weights))
    for prefix in ("", "val_"):
        assert history.history[prefix + "loss"][0] == pytest.approx(loss, rel=1e-9)
        assert history.history[prefix + "accuracy"][0] == pytest.approx(accuracy)
        assert history.history[prefix + "weighted_accuracy"][0] == pytest.approx(weighted_accuracy)
    logs = built.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    assert logs == pytest.approx({"loss": loss, "accuracy": accuracy,
                                  "weighted_accuracy": weighted_accuracy}, rel=1e-9)
    assert built.evaluate(x, y, verbose=0)[0] == pytest.approx(hand(built, x, y, np.ones(N))[0])


def test_class_weight_is_the_sample_weight_of_each_samples_class(problem):
    x, y, _ = problem
    class_weight = {0: 2.0, 2: 0.5}  # class 1 is not named: weight 1
    by_class = model(learning_rate=0.1)
    by_class.fit(x, y, batch_size=4, epochs=3, class_weight=class_weight, verbose=0, seed=0)
    by_sample = model(learning_rate=0.1)
    by_sample.fit(x, y, batch_size=4, epochs=3, sample_weight=np.array([2.0, 1.0, 0.5])[y],
                  verbose=0, seed=0)
    for a, b in zip(by_class.get_weights(), by_sample.get_weights()):
        np.testing.assert_array_equal(a, b)
    one_hot = model(learning_rate=0.1)
    one_hot.compile(optimizer=SGD(0.1), loss="categorical_crossentropy")
    one_hot.fit(x, np.eye(CLASSES)[y], batch_size=4, epochs=3, class_weight=class_weight,
                verbose=0, seed=0)
    for a, b in zip(one_hot.get_weights(), by_sample.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_validation_split_splits_the_sample_weights_too(problem):
    x, y, weights = problem
    built = model()
    history = built.fit(x, y, epochs=1, validation_split=0.3, sample_weight=weights, verbose=0)
    val_loss = hand(built, x[7:], y[7:], weights[7:])[0]
    assert history.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-9)


@pytest.mark.parametrize("weights, message", [
    (np.ones(N - 1), r"one weight per sample, shape \(10,\).*\(9,\)"),
    (np.r_[np.ones(N - 1), -1.0], r"non-negative.*-1\.0 at index 9"),
    (np.r_[np.nan, np.ones(N - 1)], r"finite.*nan at index 0"),
    (np.ones((N, 2)), r"shape \(10,\).*\(10, 2\)"),
])
def test_bad_sample_weights_are_refused_at_every_entry_point(problem, weights, message):
    x, y, _ = problem
    built = model()
    with pytest.raises(ValueError, match=message):
        built.fit(x, y, sample_weight=weights, verbose=0)
    with pytest.raises(ValueError, match=message):
        built.evaluate(x, y, sample_weight=weights, verbose=0)
    with pytest.raises(ValueError, match=message):
        built.train_on_batch(x, y, sample_weight=weights)


@pytest.mark.parametrize("class_weight, message", [
    ({3: 1.0}, r"class 3, which the labels do not have.*0 to 2"),
    ({-1: 1.0}, r"class -1"),
    ({"cat": 1.0}, r"class 'cat'"),
    ({0: -2.0}, r"class_weight\[0\] must be a finite number >= 0.*-2\.0"),
    ({0: float("inf")}, r"class_weight\[0\].*inf"),
    ([1.0, 2.0, 3.0], r"must be a dict"),
])
def test_bad_class_weights_are_refused(problem, class_weight, message):
    x, y, _ = problem
    with pytest.raises((ValueError, TypeError), match=message):
        model().fit(x, y, class_weight=class_weight, verbose=0)


def test_class_weight_and_sample_weight_together_are_refused(problem):
    x, y, weights = problem
    with pytest.raises(ValueError, match="not both"):
        model().fit(x, y, class_weight={0: 2.0}, sample_weight=weights, verbose=0)
