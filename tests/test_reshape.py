"""Tests of nn.layers.Reshape: shapes (with one inferred -1), gradient, saving, errors."""
import numpy as np
import pytest
from helpers import assert_gradients_match

import nn
from nn.gradcheck import check_layer
from nn.layers import Conv2D, Dense, Flatten, Reshape


@pytest.mark.parametrize("input_shape, target, expected", [
    ((784,), (28, 28, 1), (28, 28, 1)),
    ((784,), (-1, 28, 1), (28, 28, 1)),
    ((4, 6), (3, -1), (3, 8)),
    ((2, 3, 4), (24,), (24,)),
    ((2, 3, 4), -1, (24,)),
])
def test_reshape_shapes(input_shape, target, expected):
    layer = Reshape(target)
    assert layer.compute_output_shape(input_shape) == expected
    x = np.arange(5 * np.prod(input_shape), dtype=np.float32).reshape(5, *input_shape)
    y = layer(x)
    np.testing.assert_array_equal(y, x.reshape(5, *expected))
    assert np.shares_memory(x, y)  # a view
    np.testing.assert_array_equal(layer.backward(y), x)


def test_reshape_gradient():
    x = np.random.default_rng(0).standard_normal((3, 12))
    assert_gradients_match(check_layer(Reshape((2, -1, 3), dtype="float64"), x, rng=0),
                           {"input"})


def test_reshape_feeds_a_convolution_and_saves(tmp_path):
    model = nn.Sequential([nn.Input((36,)), Reshape((6, 6, 1)), Conv2D(2, 3), Flatten(),
                           Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((4, 36), dtype=np.float32)
    model.fit(x, [0, 1, 0, 1], epochs=1, verbose=0)
    assert model.layers[0].output_shape == (6, 6, 1)
    model.save(tmp_path / "reshape.npz")
    restored = nn.load_model(tmp_path / "reshape.npz")
    assert restored.layers[0].target_shape == (6, 6, 1)
    np.testing.assert_array_equal(restored.predict(x), model.predict(x))


@pytest.mark.parametrize("target", [(-1, -1), (0, 4), (2, -2), (), "28", (2.0, 3), None])
def test_bad_target_shapes_are_refused(target):
    with pytest.raises((ValueError, TypeError), match="target_shape"):
        Reshape(target)


@pytest.mark.parametrize("target", [(5, 5), (5, -1)])
def test_a_target_shape_of_another_size_is_refused(target):
    with pytest.raises(ValueError, match=r"cannot reshape samples of shape \(4, 6\) \(24 "
                                         r"values\)"):
        Reshape(target)(np.zeros((2, 4, 6)))
