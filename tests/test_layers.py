"""Tests of nn.layers: gradient checks of Dense, Flatten and Dropout, and the layer contract."""
import numpy as np
import pytest
from helpers import TOLERANCE, assert_gradients_match

import nn
from nn.gradcheck import check_layer, numerical_gradient, rel_error
from nn.layers import Activation, Dense, Dropout, Flatten, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh

ACTIVATIONS = ["linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"]
SEEDS = [0, 1, 2]


def random_dense_input(layer, rng, n):
    """Inputs whose pre-activations all stay at least 1e-3 from 0 (ReLU's kink)."""
    for _ in range(1000):
        x = rng.standard_normal((n, layer.input_shape[0]))
        logits = x @ layer.params["kernel"] + layer.params.get("bias", 0.0)
        if np.min(np.abs(logits)) > 1e-3:
            return x
    raise AssertionError("no input away from the kink found")


# --- gradient checks -----------------------------------------------------------------

@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_dense_gradient(activation, use_bias, seed):
    rng = np.random.default_rng(seed)
    n, d_in = rng.integers(1, 6), rng.integers(1, 7)
    units = rng.integers(2, 6)  # softmax over a single unit is the constant 1
    layer = Dense(units, activation=activation, use_bias=use_bias, dtype="float64", seed=seed)
    layer.build((d_in,))
    if use_bias:  # the default bias is 0; a random one checks it enters the forward pass
        layer.params["bias"][...] = rng.standard_normal(units)
    errors = check_layer(layer, random_dense_input(layer, rng, n), rng=seed)
    assert_gradients_match(errors, {"input", "kernel", "bias"} if use_bias else {"input", "kernel"})


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 2), (5, 1, 7)])
def test_flatten_gradient(shape):
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    layer = Flatten(dtype="float64")
    y = layer(x)
    assert y.shape == (shape[0], int(np.prod(shape[1:])))
    np.testing.assert_array_equal(y, x.reshape(shape[0], -1))
    assert_gradients_match(check_layer(Flatten(dtype="float64"), x, rng=0), {"input"})
    grad = np.arange(y.size, dtype=float).reshape(y.shape)
    np.testing.assert_array_equal(layer.backward(grad), grad.reshape(shape))


@pytest.mark.parametrize("rate", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("seed", SEEDS)
def test_dropout_backward_uses_the_mask_of_its_forward(rate, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((int(rng.integers(2, 6)), int(rng.integers(2, 6))))
    layer = Dropout(rate, dtype="float64", seed=seed)
    y = layer(x, training=True)
    mask = (y != 0) / (1 - rate)  # what this forward pass did: x -> x * mask
    np.testing.assert_allclose(y, x * mask, rtol=1e-15)
    grad_output = rng.standard_normal(y.shape)
    analytic = layer.backward(grad_output)
    numeric = numerical_gradient(lambda: x * mask, x, grad_output)
    assert rel_error(analytic, numeric) < TOLERANCE


def test_dropout_drops_the_expected_fraction_and_keeps_the_mean():
    layer = Dropout(0.3, seed=0)
    x = np.ones((400, 500), dtype=np.float32)
    y = layer(x, training=True)
    assert y.dtype == np.float32
    assert set(np.unique(y)) == {np.float32(0), np.float32(1 / 0.7)}
    assert np.mean(y == 0) == pytest.approx(0.3, abs=0.005)  # 200,000 draws: std 0.001
    assert np.mean(y) == pytest.approx(1.0, abs=0.01)


def test_dropout_masks_differ_between_batches_but_repeat_with_the_seed():
    x = np.ones((20, 30))
    first, second = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    a, b = first(x, training=True), first(x, training=True)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(second(x, training=True), a)
    np.testing.assert_array_equal(second(x, training=True), b)


def test_dropout_is_the_identity_at_inference():
    x = np.random.default_rng(0).standard_normal((4, 5))
    layer = Dropout(0.5, dtype="float64", seed=0)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(x * 2), x * 2)
    np.testing.assert_array_equal(Dropout(0.0, seed=0)(x, training=True), x.astype(np.float32))
    assert_gradients_match(check_layer(Dropout(0.5, dtype="float64", seed=0), x, rng=0), {"input"})


# --- the layer contract ------------------------------------------------------------------

def _dense(activation):
    return lambda: Dense(3, activation=activation, dtype="float64", seed=0)


LAYERS = {  # name -> (factory, input shape, training)
    **{f"Dense({activation})": (_dense(activation), (4, 5), True) for activation in ACTIVATIONS},
    "Dense(no bias)": (lambda: Dense(3, use_bias=False, dtype="float64", seed=0), (4, 5), True),
    "Flatten": (lambda: Flatten(dtype="float64"), (4, 3, 2), True),
    "Dropout(training)": (lambda: Dropout(0.5, dtype="float64", seed=0), (4, 5), True),
    "Dropout(inference)": (lambda: Dropout(0.5, dtype="float64", seed=0), (4, 5), False),
    "Activation(relu)": (lambda: Activation("relu"), (4, 5), True),
    "ReLU": (ReLU, (4, 5), True),
    "LeakyReLU": (LeakyReLU, (4, 5), True),
    "Sigmoid": (Sigmoid, (4, 5), True),
    "Tanh": (Tanh, (4, 5), True),
    "Softmax": (Softmax, (4, 5), True),
    "Linear": (Linear, (4, 5), True),
}


@pytest.mark.parametrize("name", LAYERS)
def test_forward_and_backward_do_not_modify_their_arguments(name):
    factory, shape, training = LAYERS[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    x_before = x.copy()
    layer = factory()
    y = layer(x, training=training)
    grad_output = rng.standard_normal(y.shape)
    grad_before = grad_output.copy()
    grad_input = layer.backward(grad_output)
    np.testing.assert_array_equal(grad_output, grad_before)
    np.testing.assert_array_equal(x, x_before)
    assert grad_input.shape == x.shape


@pytest.mark.parametrize("name", LAYERS)
def test_params_and_grads_have_the_same_keys_shapes_and_dtypes(name):
    factory, shape, training = LAYERS[name]
    layer = factory()
    layer(np.zeros(shape), training=training)
    assert layer.params.keys() == layer.grads.keys()
    for key in layer.params:
        assert layer.grads[key].shape == layer.params[key].shape
        assert layer.grads[key].dtype == layer.params[key].dtype
        assert layer.grads[key] is not layer.params[key]


def test_dense_gradients_fill_the_existing_arrays():
    # The model hands the optimizer (param, grad) pairs once: grads must not be rebound either.
    layer = Dense(3, seed=0)
    x = np.ones((2, 4), dtype=np.float32)
    layer(x)
    kernel, bias, kernel_grad, bias_grad = (layer.params["kernel"], layer.params["bias"],
                                            layer.grads["kernel"], layer.grads["bias"])
    layer.backward(np.ones((2, 3), dtype=np.float32))
    assert layer.grads["kernel"] is kernel_grad and layer.grads["bias"] is bias_grad
    assert layer.params["kernel"] is kernel and layer.params["bias"] is bias
    np.testing.assert_array_equal(kernel_grad, np.full((4, 3), 2.0))  # x^T g
    np.testing.assert_array_equal(bias_grad, [2.0, 2.0, 2.0])  # sum over the batch


def test_dense_shapes_and_default_initialisation():
    layer = Dense(7, input_dim=5, seed=0)
    assert not layer.built and layer.params == {}
    layer.build((5,))
    assert layer.params["kernel"].shape == (5, 7)
    assert layer.params["bias"].shape == (7,)
    assert list(layer.params) == ["kernel", "bias"]  # Keras' order
    np.testing.assert_array_equal(layer.params["bias"], np.zeros(7))
    limit = np.sqrt(6 / (5 + 7))  # glorot_uniform
    assert np.all(np.abs(layer.params["kernel"]) <= limit) and np.std(layer.params["kernel"]) > 0
    assert layer.count_params() == 5 * 7 + 7
    assert Dense(7, use_bias=False).compute_output_shape((5,)) == (7,)


def test_dense_without_bias_has_only_a_kernel():
    layer = Dense(2, use_bias=False, seed=0)
    layer(np.ones((3, 4), dtype=np.float32))
    assert list(layer.params) == ["kernel"] and list(layer.grads) == ["kernel"]
    assert layer.count_params() == 8


def test_dense_builds_lazily_from_the_first_batch():
    layer = Dense(4, seed=0)
    assert not layer.built and layer.input_shape is None and layer.params == {}
    y = layer(np.ones((2, 3), dtype=np.float32))
    assert layer.built and layer.input_shape == (3,)
    assert layer.params["kernel"].shape == (3, 4) and y.shape == (2, 4)
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 3\).*\(2, 5\)"):
        layer(np.ones((2, 5), dtype=np.float32))


def test_float32_is_the_default_dtype():
    assert nn.config.floatx() == np.float32
    layer = Dense(3, seed=0)
    y = layer(np.ones((2, 4), dtype=np.float32))
    assert layer.params["kernel"].dtype == np.float32 and layer.params["bias"].dtype == np.float32
    assert layer.grads["kernel"].dtype == np.float32
    assert y.dtype == np.float32
    assert layer.backward(np.ones((2, 3), dtype=np.float32)).dtype == np.float32
    assert Dense(3, dtype="float64", seed=0)(np.ones((2, 4))).dtype == np.float64


@pytest.mark.parametrize("x_dtype", [np.float64, np.int64, np.uint8])
def test_a_float32_layer_computes_in_float32_whatever_it_is_fed(x_dtype):
    # As in Keras, where Dense(3)(np.random.randn(4, 2)) is float32: a layer called on
    # float64 or integer data casts it to its own dtype instead of computing in float64.
    layer = Dense(3, activation="tanh", seed=0)
    y = layer(np.ones((2, 4), dtype=x_dtype))
    assert y.dtype == np.float32
    assert layer.backward(np.ones((2, 3), dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("dtype", ["float16", "int32", np.int64])
def test_only_float32_and_float64_are_accepted(dtype):
    with pytest.raises(ValueError, match="float32 or float64"):
        Dense(3, dtype=dtype)


def test_the_same_seed_gives_the_same_weights():
    first, second, other = Dense(5, seed=1), Dense(5, seed=1), Dense(5, seed=2)
    for layer in (first, second, other):
        layer.build((4,))
    np.testing.assert_array_equal(first.params["kernel"], second.params["kernel"])
    assert not np.array_equal(first.params["kernel"], other.params["kernel"])


def test_default_names_are_unique_and_explicit_names_are_kept():
    layers = [Dense(2) for _ in range(4)] + [Flatten(), Flatten(), Dropout(0.1)]
    names = [layer.name for layer in layers]
    assert len(set(names)) == len(names)
    assert all(name.startswith("dense") for name in names[:4])
    assert names[4].startswith("flatten") and names[6].startswith("dropout")
    assert Dense(2, name="classifier").name == "classifier"


def test_get_and_set_weights_round_trip():
    rng = np.random.default_rng(0)
    layer = Dense(3, seed=0)
    layer.build((2,))
    kernel, bias = layer.params["kernel"], layer.params["bias"]
    new = [rng.standard_normal((2, 3)), rng.standard_normal(3)]
    layer.set_weights(new)
    assert layer.params["kernel"] is kernel and layer.params["bias"] is bias  # copied in place
    assert kernel.dtype == np.float32
    weights = layer.get_weights()
    for got, expected in zip(weights, new):
        np.testing.assert_array_equal(got, expected.astype(np.float32))
    weights[0][...] = 0  # get_weights returns copies
    assert np.any(layer.params["kernel"] != 0)


def test_set_weights_rejects_a_wrong_count():
    layer = Dense(3, seed=0)
    layer.build((2,))
    with pytest.raises(ValueError, match="expects 2 weight arrays, received 1"):
        layer.set_weights([np.zeros((2, 3))])
    with pytest.raises(ValueError, match="expects 2 weight arrays, received 3"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(3), np.zeros(3)])


def test_set_weights_rejects_a_wrong_shape_and_names_both_shapes():
    layer = Dense(3, seed=0)
    layer.build((2,))
    with pytest.raises(ValueError, match=r"'kernel'.*\(2, 3\).*\(3, 2\)"):
        layer.set_weights([np.zeros((3, 2)), np.zeros(3)])
    with pytest.raises(ValueError, match=r"'bias'.*\(3,\).*\(4,\)"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(4)])


def test_a_rejected_set_weights_changes_nothing():
    # As in Keras, every shape is checked before any weight is written: a wrong bias
    # must not leave the layer with the new kernel and the old bias.
    layer = Dense(3, seed=0)
    layer.build((2,))
    before = layer.get_weights()
    with pytest.raises(ValueError):
        layer.set_weights([np.zeros((2, 3)), np.zeros(4)])
    np.testing.assert_array_equal(layer.params["kernel"], before[0])
    np.testing.assert_array_equal(layer.params["bias"], before[1])


def test_a_layer_whose_input_gradient_nobody_needs_returns_none():
    layer = Dense(3, seed=0)
    layer(np.ones((2, 4), dtype=np.float32))
    layer.needs_input_grad = False
    assert layer.backward(np.ones((2, 3), dtype=np.float32)) is None
    np.testing.assert_array_equal(layer.grads["kernel"], np.full((4, 3), 2.0))  # still computed


# --- bad arguments ---------------------------------------------------------------------------

@pytest.mark.parametrize("units", [-3, 0, "a", 2.5, None, True])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ValueError, match=rf"positive integer.*Received: units={units!r}"):
        Dense(units)


@pytest.mark.parametrize("activation", [None, "tanh", "softmax"])
def test_dense_on_sequences_acts_on_the_last_axis(activation):
    """(n, T, d) inputs: each of the n T rows goes through the same layer, as in Keras."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 5, 4))
    layer = Dense(2, activation=activation, dtype="float64", seed=0)
    y = layer(x)
    assert y.shape == (3, 5, 2) and layer.compute_output_shape((5, 4)) == (5, 2)
    rows = Dense(2, activation=activation, dtype="float64", seed=0)(x.reshape(15, 4))
    np.testing.assert_allclose(y, rows.reshape(3, 5, 2), rtol=1e-14)
    errors = check_layer(Dense(2, activation=activation, dtype="float64", seed=0), x, rng=0)
    assert_gradients_match(errors, {"input", "kernel", "bias"})


def test_dense_refuses_one_number_per_sample():
    with pytest.raises(ValueError, match=r"one number per sample.*\(batch, 1\)"):
        Dense(3)(np.ones(4, dtype=np.float32))


@pytest.mark.parametrize("rate", [1.0, 1.5, -0.1])
def test_dropout_rejects_bad_rates(rate):
    with pytest.raises(ValueError, match=rf"0 <= rate < 1.*rate={rate}"):
        Dropout(rate)


def test_unknown_initializer_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'glorot'.*'glorot_uniform'.*'he_normal'"):
        Dense(3, kernel_initializer="glorot")


def test_deserialize_rejects_unknown_classes():
    with pytest.raises(ValueError, match="'Conv3D'.*Dense"):
        nn.layers.deserialize({"class_name": "Conv3D", "config": {}})


def test_layer_config_recreates_the_layer():
    layer = Dense(4, activation="tanh", use_bias=False, kernel_initializer="he_normal", input_dim=3)
    clone = nn.layers.deserialize({"class_name": "Dense", "config": layer.get_config()})
    assert (clone.units, clone.use_bias, clone.input_shape, clone.name) == (4, False, (3,), layer.name)
    assert type(clone.activation) is Tanh and clone.kernel_initializer.name == "he_normal"
    assert nn.layers.deserialize({"class_name": "Dropout", "config": Dropout(0.25).get_config()}).rate == 0.25
