"""Regression tests for the five bugs the foundations issue fixed, one test (or two) each.

Each is written against the public API that existed before the fix, so that it fails
on the old code and passes on the new: run it against an older checkout to see that.
"""
import numpy as np
import pytest
from helpers import assert_gradients_match

import nn
from nn.gradcheck import check_model
from nn.layers import Dense, Dropout, Layer, Tanh


def _blobs(n=24, dim=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim))
    return x, np.argmax(x @ rng.standard_normal((dim, classes)), axis=1)


# 1. check_model compared training-mode gradients with inference-mode differences.
@pytest.mark.parametrize("rate", [0.3, 0.5])
def test_check_model_with_dropout_compares_one_function_with_one_mask(rate):
    x, y = _blobs()
    model = nn.Sequential([Dense(6, activation="tanh", input_dim=4), Dropout(rate, seed=1),
                           Dense(3, activation="softmax")], seed=0, dtype="float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    errors = check_model(model, x, y)
    assert_gradients_match(errors, {f"{layer.name}/{key}" for layer in model.layers
                                    for key in layer.params})


# 2. One activation instance passed to two layers shared one cache between them.
def test_one_activation_instance_given_to_two_layers_keeps_their_gradients_apart():
    x, y = _blobs()
    shared = Tanh()
    model = nn.Sequential([Dense(5, activation=shared, input_dim=4), Dense(5, activation=shared),
                           Dense(3, activation="softmax")], seed=0, dtype="float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    errors = check_model(model, x, y)
    assert_gradients_match(errors, {f"{layer.name}/{key}" for layer in model.layers
                                    for key in layer.params})
    assert model.layers[0].activation is not model.layers[1].activation


# 3. Dense.output_activation was copied at construction and went stale.
def test_dense_output_activation_follows_a_reassigned_activation():
    layer = Dense(3, activation="relu")
    assert layer.output_activation is None
    layer.activation = nn.activations.Softmax()
    assert layer.output_activation == "softmax"
    layer.activation = "sigmoid"
    assert layer.output_activation == "sigmoid"
    x, y = _blobs()
    model = nn.Sequential([Dense(6, activation="relu", input_dim=4), Dense(3)], seed=0,
                          dtype="float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.layers[-1].activation = "softmax"  # now the loss can take the logits
    assert model.training_loss.from_logits
    np.testing.assert_allclose(model.predict(x).sum(axis=1), 1.0)
    assert_gradients_match(check_model(model, x, y), {f"{layer.name}/{key}"
                                                      for layer in model.layers
                                                      for key in layer.params})


# 4. A reader's own layer saved but did not load, and the error blamed the file.
class Scale(Layer):
    """y = x * s, one trained scale per feature: a reader's own layer."""

    def __init__(self, initial=1.0, **kwargs):
        super().__init__(**kwargs)
        self.initial = float(initial)
        self.inputs = None

    def build(self, input_shape, rng=None, dtype=None):
        super().build(input_shape, rng, dtype)
        self.params["scale"] = np.full(input_shape, self.initial, dtype=self.dtype)
        self.grads["scale"] = np.zeros_like(self.params["scale"])

    def forward(self, x, training=False):
        self.inputs = x
        return x * self.params["scale"]

    def backward(self, grad_output):
        np.sum(grad_output * self.inputs, axis=0, out=self.grads["scale"])
        return grad_output * self.params["scale"]

    def get_config(self):
        return {**super().get_config(), "initial": self.initial}


def test_a_model_with_a_layer_of_your_own_saves_and_loads(tmp_path):
    x, y = _blobs()
    model = nn.Sequential([Scale(2.0, input_shape=(4,)), Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "own.npz")
    loaded = nn.load_model(tmp_path / "own.npz")
    assert type(loaded.layers[0]) is Scale and loaded.layers[0].initial == 2.0
    for before, after in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


class Picky(Layer):
    """A layer whose constructor refuses a setting that a file then carries."""

    def __init__(self, level=1, **kwargs):
        super().__init__(**kwargs)
        if level > 3:
            raise ValueError(f"Picky expects level <= 3. Received: level={level}")
        self.level = level

    def forward(self, x, training=False):
        return x

    def backward(self, grad_output):
        return grad_output

    def get_config(self):
        return {**super().get_config(), "level": 5}  # a bug of the reader's own


def test_load_errors_name_the_real_reason_not_a_corrupt_file(tmp_path):
    model = nn.Sequential([Picky(input_shape=(4,)), Dense(3)], seed=0)
    model.save(tmp_path / "picky.npz")
    with pytest.raises(ValueError, match="level <= 3") as info:
        nn.load_model(tmp_path / "picky.npz")
    assert "truncated" not in str(info.value) and "corrupt" not in str(info.value)


# 5. evaluate silently raised batch sizes below 256.
def test_evaluate_uses_the_batch_size_it_is_given():
    x, y = _blobs(n=300)
    model = nn.Sequential([Dense(6, activation="relu", input_dim=4),
                           Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    seen = []
    first = model.layers[0]
    forward = first.forward
    first.forward = lambda batch, training=False: seen.append(len(batch)) or forward(batch, training)
    model.evaluate(x, y, batch_size=32, verbose=0)
    assert seen == [32] * 9 + [12]
