"""Tests of nn.activations: gradient checks, values, numerical stability, the resolver."""
import math
import warnings

import numpy as np
import pytest
from helpers import assert_gradients_match, away_from_zero

from nn import activations
from nn.activations import LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from nn.gradcheck import check_layer
from nn.layers import Activation, Dense

ACTIVATION_FACTORIES = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "leaky_relu_0.05": lambda: LeakyReLU(alpha=0.05),
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
    "linear": Linear,
    "Activation('tanh')": lambda: Activation("tanh"),
    "Activation('softmax')": lambda: Activation("softmax"),
}
SHAPES = [(4, 3), (2, 5), (3, 2, 4)]  # softmax acts along the last axis of any rank


# --- gradient checks ---------------------------------------------------------------

@pytest.mark.parametrize("name", ACTIVATION_FACTORIES)
@pytest.mark.parametrize("seed, shape", list(enumerate(SHAPES)))
def test_activation_gradient(name, seed, shape):
    rng = np.random.default_rng(seed)
    x = away_from_zero(2 * rng.standard_normal(shape))  # no input within 1e-3 of ReLU's kink
    errors = check_layer(ACTIVATION_FACTORIES[name](), x, rng=seed)
    assert_gradients_match(errors, {"input"})


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "sigmoid", "tanh", "softmax"])
def test_activation_backward_agrees_with_the_derivative_formula(name):
    # Independent of finite differences: the documented derivative, written out here.
    rng = np.random.default_rng(7)
    x = away_from_zero(rng.standard_normal((3, 4)))
    grad_output = rng.standard_normal((3, 4))
    layer = ACTIVATION_FACTORIES[name]()
    y = layer.forward(x)
    if name == "relu":
        expected = grad_output * (x > 0)
    elif name == "leaky_relu":
        expected = grad_output * np.where(x > 0, 1.0, 0.3)
    elif name == "sigmoid":
        expected = grad_output * y * (1 - y)
    elif name == "tanh":
        expected = grad_output * (1 - np.tanh(x) ** 2)
    else:  # softmax: the Jacobian diag(y) - y y^T applied row by row
        expected = np.stack([(np.diag(row) - np.outer(row, row)) @ g for row, g in zip(y, grad_output)])
    np.testing.assert_allclose(layer.backward(grad_output), expected, rtol=1e-12, atol=1e-15)


# --- values --------------------------------------------------------------------------

def test_relu_and_leaky_relu_values():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    np.testing.assert_array_equal(ReLU().forward(x), [[0.0, 0.0, 0.0, 0.5, 3.0]])
    np.testing.assert_allclose(LeakyReLU().forward(x), [[-0.6, -0.15, 0.0, 0.5, 3.0]], rtol=1e-15)  # alpha 0.3
    np.testing.assert_allclose(LeakyReLU(alpha=0.1).forward(x), [[-0.2, -0.05, 0.0, 0.5, 3.0]], rtol=1e-15)


@pytest.mark.parametrize("value", [-20.0, -5.0, -2.0, -0.5, 0.0, 0.25, 1.0, 3.0, 15.0])
def test_sigmoid_matches_the_textbook_formula(value):
    reference = 1.0 / (1.0 + math.exp(-value))
    assert Sigmoid().forward(np.array([[value]]))[0, 0] == pytest.approx(reference, rel=1e-14)
    assert activations.sigmoid(np.array(value)) == pytest.approx(reference, rel=1e-14)


def test_tanh_values():
    x = np.linspace(-3, 3, 13).reshape(1, -1)
    np.testing.assert_allclose(Tanh().forward(x), [[math.tanh(v) for v in x[0]]], rtol=1e-14)


@pytest.mark.parametrize("row", [[0.0, 1.0, 2.0], [-1.0, 0.5, 0.5, 3.0], [2.0, -3.0]])
def test_softmax_matches_the_textbook_formula(row):
    exps = [math.exp(v) for v in row]
    reference = [e / sum(exps) for e in exps]
    np.testing.assert_allclose(Softmax().forward(np.array([row])), [reference], rtol=1e-14)


def test_softmax_acts_along_the_last_axis():
    x = np.random.default_rng(8).standard_normal((2, 3, 4))
    y = Softmax().forward(x)
    np.testing.assert_allclose(y.sum(axis=-1), np.ones((2, 3)), rtol=1e-14)
    np.testing.assert_allclose(y[1, 2], Softmax().forward(x[1, 2][None])[0], rtol=1e-14)


def test_linear_is_the_identity():
    x = np.array([[1.5, -2.0]])
    np.testing.assert_array_equal(Linear().forward(x), x)
    np.testing.assert_array_equal(Linear().backward(x), x)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "sigmoid", "tanh", "softmax", "linear"])
def test_forward_in_place_gives_the_same_values(name):
    # Dense applies its activation in place on the pre-activation array it owns.
    x = np.random.default_rng(9).standard_normal((3, 4))
    expected = ACTIVATION_FACTORIES[name]().forward(x.copy())
    buffer = x.copy()
    result = ACTIVATION_FACTORIES[name]().forward(buffer, out=buffer)
    assert result is buffer
    np.testing.assert_array_equal(result, expected)


# --- numerical stability ----------------------------------------------------------------

@pytest.fixture
def strict_floating_point():
    """Turn every floating-point warning (overflow, invalid, divide by zero) into an error."""
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_does_not_overflow(dtype, strict_floating_point):
    x = np.array([[-1e4, -1000.0, -100.0, -50.0, 0.0, 50.0, 100.0, 1000.0, 1e4]], dtype=dtype)
    dense = Dense(9, activation="sigmoid", use_bias=False, dtype=dtype)
    dense.build((9,))
    dense.set_weights([np.eye(9)])  # its pre-activations are x itself
    for y in (Sigmoid().forward(x), activations.sigmoid(x), dense(x)):
        assert y.dtype == dtype
        assert np.all(np.isfinite(y)) and np.all((y >= 0) & (y <= 1))
        assert y[0, 0] == 0.0 and y[0, -1] == 1.0 and y[0, 4] == 0.5
        assert np.all(np.diff(y[0]) >= 0)  # monotone


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("row, expected", [
    ([1000.0, 1001.0, 1002.0], np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()),  # = softmax([0, 1, 2])
    ([-1e4, 0.0, 1e4], [0.0, 0.0, 1.0]),
    ([-1e4, -1e4 + 1.0, -1e4 + 2.0], np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()),
])
def test_softmax_of_large_scores_is_finite_and_sums_to_one(dtype, row, expected, strict_floating_point):
    x = np.array([row], dtype=dtype)
    y = Softmax().forward(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=-1), [1.0], rtol=1e-6)
    # float32 cannot resolve 1000 + 1 exactly enough for more than ~5 digits
    np.testing.assert_allclose(y[0], expected, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-30)


def test_tanh_and_relu_saturate_cleanly(strict_floating_point):
    x = np.array([[-1e4, -50.0, 50.0, 1e4]])
    np.testing.assert_array_equal(Tanh().forward(x), [[-1.0, -1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(ReLU().forward(x), [[0.0, 0.0, 50.0, 1e4]])


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "sigmoid", "tanh", "softmax"])
def test_activations_keep_float32(name):
    x = np.random.default_rng(10).standard_normal((3, 4)).astype(np.float32)
    layer = ACTIVATION_FACTORIES[name]()
    assert layer.forward(x).dtype == np.float32
    assert layer.backward(np.ones_like(x)).dtype == np.float32


# --- the layer contract ---------------------------------------------------------------

@pytest.mark.parametrize("name", ACTIVATION_FACTORIES)
def test_activation_backward_does_not_modify_its_arguments(name):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4))
    x_before = x.copy()
    layer = ACTIVATION_FACTORIES[name]()
    layer.forward(x)
    grad_output = rng.standard_normal((3, 4))
    grad_before = grad_output.copy()
    layer.backward(grad_output)
    np.testing.assert_array_equal(grad_output, grad_before)
    np.testing.assert_array_equal(x, x_before)


# --- resolving names -------------------------------------------------------------------

@pytest.mark.parametrize("alias, cls", [("relu", ReLU), ("leaky_relu", LeakyReLU), ("sigmoid", Sigmoid),
                                        ("tanh", Tanh), ("softmax", Softmax), ("ReLU", ReLU), ("Softmax", Softmax)])
def test_get_resolves_names_to_fresh_layers(alias, cls):
    first, second = activations.get(alias), activations.get(alias)
    assert type(first) is cls and type(second) is cls
    assert first is not second  # two Dense layers must not share one activation's cache


def test_get_linear_none_and_instances():
    assert activations.get(None) is None
    assert activations.get("linear") is None
    assert activations.get(Linear()) is None
    layer = LeakyReLU(alpha=0.1)
    own = activations.get(layer)  # a copy: two layers given one instance must not share a cache
    assert type(own) is LeakyReLU and own.alpha == 0.1 and own is not layer


def test_get_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="relux") as info:
        activations.get("relux")
    for name in ("relu", "leaky_relu", "sigmoid", "tanh", "softmax", "linear"):
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("identifier", [3, 1.5, ["relu"]])
def test_get_rejects_non_names(identifier):
    with pytest.raises(TypeError, match="activation"):
        activations.get(identifier)


def test_dense_with_unknown_activation_names_it():
    with pytest.raises(ValueError, match="'sigmoidal'.*'sigmoid'"):
        Dense(3, activation="sigmoidal")


@pytest.mark.parametrize("alpha", [1.0, 1.5, -0.1])
def test_leaky_relu_alpha_out_of_range(alpha):
    with pytest.raises(ValueError, match=rf"0 <= alpha < 1.*alpha={alpha}"):
        LeakyReLU(alpha=alpha)


# --- the 'leaky_relu' string means Keras's slope 0.2 ---------------------------------

def test_leaky_relu_string_uses_keras_slope_while_layer_default_stays():
    # keras.activations.leaky_relu has negative_slope=0.2; keras.layers.LeakyReLU 0.3
    assert activations.get("leaky_relu").alpha == 0.2
    assert LeakyReLU().alpha == 0.3
    x = np.array([[-2.0, -0.5, 1.5]])
    y = Dense(3, activation="leaky_relu").activation.forward(x)
    np.testing.assert_allclose(y, [[-0.4, -0.1, 1.5]])


def test_serialize_uses_the_alias_only_for_the_alias_settings():
    assert activations.serialize(LeakyReLU(alpha=0.2)) == "leaky_relu"
    assert activations.serialize(activations.get("leaky_relu")) == "leaky_relu"
    assert activations.serialize(LeakyReLU()) == {"class_name": "LeakyReLU",
                                                  "config": {"alpha": 0.3}}
    assert activations.serialize(ReLU()) == "relu"
    for layer in (LeakyReLU(), LeakyReLU(alpha=0.2), LeakyReLU(alpha=0.05)):
        assert activations.get(activations.serialize(layer)).alpha == layer.alpha


def test_dense_leaky_relu_string_round_trips_through_config():
    layer = Dense(4, activation="leaky_relu")
    assert layer.get_config()["activation"] == "leaky_relu"
    again = Dense.from_config(layer.get_config())
    assert again.activation.alpha == 0.2
    layer = Dense(4, activation=LeakyReLU())
    assert Dense.from_config(layer.get_config()).activation.alpha == 0.3
