"""Tests of nn.layers.normalization: BatchNormalization and LayerNormalization.

Gradient checks in both modes for the input and every parameter (and one that must
fail), the moving statistics by Keras' rule, weights in Keras' order, save and load,
the bad arguments, and a comparison with PyTorch.
"""
import re

import numpy as np
import pytest
from helpers import assert_gradients_match

import nn
from nn.gradcheck import check_layer
from nn.layers import BatchNormalization, LayerNormalization
from nn.layers.normalization import standardize_backward


def randomized(layer, input_shape, rng):
    """``layer`` built for ``input_shape`` with random gamma, beta and moving statistics
    (the defaults 1 and 0 would hide a gamma or beta left out of a formula)."""
    layer.build(input_shape)
    for array in layer.params.values():
        array[...] = rng.standard_normal(array.shape)
    if "moving_mean" in layer.state:
        layer.state["moving_mean"][...] = rng.standard_normal(layer.state["moving_mean"].shape)
        layer.state["moving_variance"][...] = rng.uniform(0.5, 2, layer.state["moving_mean"].shape)
    return layer


# --- gradient checks -----------------------------------------------------------------

BN_CASES = [((6, 4), {}), ((3, 4, 5, 2), {}), ((3, 4, 5, 2), {"axis": 1}),
            ((5, 3), {"center": False}), ((5, 3), {"scale": False}),
            ((4, 3), {"center": False, "scale": False})]


@pytest.mark.parametrize("shape, options", BN_CASES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_normalization_gradient(shape, options, training):
    rng = np.random.default_rng(len(shape) + len(options))
    layer = randomized(BatchNormalization(dtype="float64", **options), shape[1:], rng)
    x = 2 * rng.standard_normal(shape) + 1
    expected = {"input", "gamma", "beta"} - ({"beta"} if options.get("center") is False else set()) \
        - ({"gamma"} if options.get("scale") is False else set())
    assert_gradients_match(check_layer(layer, x, rng=0, training=training), expected)


@pytest.mark.parametrize("shape, axis", [((6, 4), -1), ((3, 4, 5, 2), [1, 2, 3]),
                                         ((3, 4, 5, 2), 2), ((2, 3, 4), [-2, -1])])
def test_layer_normalization_gradient(shape, axis):
    rng = np.random.default_rng(len(shape))
    layer = randomized(LayerNormalization(axis=axis, dtype="float64"), shape[1:], rng)
    x = rng.standard_normal(shape)
    for training in (True, False):  # the same function in both modes
        assert_gradients_match(check_layer(layer, x, rng=0, training=training),
                               {"input", "gamma", "beta"})


class FrozenStatisticsBatchNormalization(BatchNormalization):
    """A classic bug: backward treats the batch mean and variance as constants."""

    def backward(self, grad_output):
        super().backward(grad_output)
        return grad_output * self.params["gamma"] * self.inv_std


def test_gradient_check_catches_a_backward_that_ignores_the_batch_statistics():
    rng = np.random.default_rng(0)
    layer = randomized(FrozenStatisticsBatchNormalization(dtype="float64"), (4,), rng)
    errors = check_layer(layer, rng.standard_normal((6, 4)), rng=0, training=True)
    assert errors["input"] > 1e-2, errors  # gamma and beta are still right
    assert errors["gamma"] < 1e-6 and errors["beta"] < 1e-6, errors


def test_compact_backward_equals_the_step_by_step_chain_rule():
    """The compact formula against the graph of xhat = (x - mu) / sqrt(var + eps), node by
    node, as chapter 8 derives it."""
    rng = np.random.default_rng(3)
    x, grad_xhat, eps = rng.standard_normal((7, 3)), rng.standard_normal((7, 3)), 1e-3
    n = x.shape[0]
    mu = x.mean(axis=0)
    centred = x - mu
    var = (centred ** 2).mean(axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    xhat = centred * inv_std
    grad_inv_std = (grad_xhat * centred).sum(axis=0)
    grad_var = grad_inv_std * -0.5 * (var + eps) ** -1.5
    grad_centred = grad_xhat * inv_std + grad_var * 2 * centred / n
    grad_x = grad_centred - grad_centred.sum(axis=0) / n
    np.testing.assert_allclose(standardize_backward(grad_xhat, xhat, inv_std, (0,)), grad_x,
                               rtol=1e-12, atol=1e-14)


# --- forward, moving statistics, weights ----------------------------------------------

def test_training_standardizes_each_channel_over_batch_height_and_width():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((8, 5, 6, 3)) * [1, 10, 0.1] + [0, 5, -3]).astype(np.float32)
    y = BatchNormalization(epsilon=0.0)(x, training=True)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 1, rtol=1e-4)


def test_moving_statistics_follow_keras_rule_with_the_biased_variance():
    rng = np.random.default_rng(2)
    layer = BatchNormalization(momentum=0.9, dtype="float64")
    batches = [rng.standard_normal((10, 3)) * 2 + 1 for _ in range(3)]
    mean, variance = np.zeros(3), np.ones(3)  # Keras' initial moving statistics
    for batch in batches:
        layer(batch, training=True)
        mean = 0.9 * mean + 0.1 * batch.mean(axis=0)
        variance = 0.9 * variance + 0.1 * batch.var(axis=0)  # ddof=0: biased
    np.testing.assert_allclose(layer.state["moving_mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(layer.state["moving_variance"], variance, rtol=1e-12)
    layer(batches[0], training=False)  # inference leaves them alone
    np.testing.assert_allclose(layer.state["moving_mean"], mean, rtol=1e-12)


def test_inference_uses_the_moving_statistics_not_the_batch():
    rng = np.random.default_rng(4)
    layer = randomized(BatchNormalization(dtype="float64"), (3,), rng)
    x = rng.standard_normal((5, 3))
    expected = (layer.params["gamma"] * (x - layer.state["moving_mean"])
                / np.sqrt(layer.state["moving_variance"] + 1e-3) + layer.params["beta"])
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12)
    np.testing.assert_allclose(layer(x[:1]), expected[:1], rtol=1e-12)  # one sample is fine


def test_layer_normalization_standardizes_each_sample():
    x = np.random.default_rng(5).standard_normal((4, 6)) * [[1], [10], [100], [0.1]]
    y = LayerNormalization(epsilon=0.0, dtype="float64")(x)
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=1), 1, rtol=1e-12)


def test_weights_are_gamma_beta_moving_mean_moving_variance_and_only_two_are_trained():
    model = nn.Sequential([nn.Input((4,)), nn.layers.Dense(3), BatchNormalization()], seed=0)
    model.build()
    layer = model.layers[1]
    assert list(layer.weights) == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert list(layer.params) == ["gamma", "beta"]
    np.testing.assert_array_equal(np.stack(layer.get_weights()), [[1] * 3, [0] * 3, [0] * 3,
                                                                  [1] * 3])
    assert len(model.params_and_grads) == 4  # kernel, bias, gamma, beta
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 27" in lines[0] and "Non-trainable params: 6" in lines[0]
    bare = BatchNormalization(center=False, scale=False)
    bare.build((3,))
    assert list(bare.weights) == ["moving_mean", "moving_variance"] and not bare.params


def test_fit_updates_moving_statistics_and_predict_uses_them():
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((256, 4)) * 3 + 2).astype(np.float32)
    y = (x[:, 0] > 2).astype(np.int64)
    model = nn.Sequential([nn.Input((4,)), BatchNormalization(momentum=0.9),
                           nn.layers.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=32, verbose=0, seed=0)
    layer = model.layers[0]
    np.testing.assert_allclose(layer.state["moving_mean"], x.mean(axis=0), atol=0.3)
    np.testing.assert_allclose(layer.state["moving_variance"], x.var(axis=0), rtol=0.3)
    before = [w.copy() for w in layer.state.values()]
    model.predict(x)
    model.evaluate(x, y, verbose=0)
    for array, old in zip(layer.state.values(), before):
        np.testing.assert_array_equal(array, old)


def test_save_and_load_round_trip_bit_for_bit(tmp_path):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((64, 6, 6, 2)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    model = nn.Sequential([
        nn.Input((6, 6, 2)),
        BatchNormalization(momentum=0.8, epsilon=1e-2, gamma_regularizer=nn.regularizers.l2(1e-3)),
        LayerNormalization(axis=[1, 2, 3]), nn.layers.Flatten(),
        nn.layers.Dense(8, activation="relu", kernel_regularizer="l1", bias_regularizer="l2"),
        BatchNormalization(center=False), nn.layers.Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    model.save(tmp_path / "model.npz")
    loaded = nn.load_model(tmp_path / "model.npz")
    assert loaded.get_config() == model.get_config()
    for ours, theirs in zip(model.get_weights(), loaded.get_weights()):
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    assert loaded.regularization_penalty() == model.regularization_penalty() > 0


# --- bad arguments ---------------------------------------------------------------------

@pytest.mark.parametrize("momentum", [1.0, 1.5, -0.1, float("nan"), "0.9"])
def test_momentum_outside_zero_one_is_refused(momentum):
    with pytest.raises(ValueError, match=f"Received: momentum={momentum!r}"):
        BatchNormalization(momentum=momentum)


@pytest.mark.parametrize("cls", [BatchNormalization, LayerNormalization])
@pytest.mark.parametrize("epsilon", [-1e-3, float("inf"), float("nan")])
def test_negative_or_non_finite_epsilon_is_refused(cls, epsilon):
    with pytest.raises(ValueError, match=f"Received: epsilon={epsilon!r}"):
        cls(epsilon=epsilon)


@pytest.mark.parametrize("cls, axis, shape", [
    (BatchNormalization, 2, (5, 3)), (BatchNormalization, -3, (5, 3)),
    (BatchNormalization, 0, (5, 3)), (BatchNormalization, 4, (2, 3, 4, 5)),
    (LayerNormalization, 3, (5, 3, 2)), (LayerNormalization, [1, 3], (5, 3)),
    (LayerNormalization, [], (5, 3))])
def test_an_axis_the_input_does_not_have_is_refused(cls, axis, shape):
    layer = cls(axis=axis)
    with pytest.raises(ValueError, match=re.escape(f"axis={axis!r}") + ".*do not have"):
        layer(np.zeros(shape))


@pytest.mark.parametrize("axis", [1.0, "channels", None])
def test_a_non_integer_axis_is_refused(axis):
    with pytest.raises(TypeError, match=f"Received: axis={axis!r}"):
        BatchNormalization(axis=axis)


# --- PyTorch ---------------------------------------------------------------------------

def test_batch_normalization_matches_pytorch():
    """Forward, gradients and moving statistics against torch.nn.BatchNorm1d/2d.

    torch's momentum is 1 minus Keras's, and its running_var uses the unbiased batch
    variance (times N / (N - 1)); nn, as Keras, the biased one.
    """
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    for shape in [(16, 5), (6, 4, 3, 5)]:  # (n, features) and (n, h, w, channels)
        channels = shape[-1]
        ours = randomized(BatchNormalization(momentum=0.9, dtype="float64"), shape[1:], rng)
        ours.state["moving_mean"][...] = 0
        ours.state["moving_variance"][...] = 1
        cls = torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d
        theirs = cls(channels, eps=1e-3, momentum=0.1, dtype=torch.float64)
        with torch.no_grad():
            theirs.weight.copy_(torch.from_numpy(ours.params["gamma"]))
            theirs.bias.copy_(torch.from_numpy(ours.params["beta"]))
        to_torch = (lambda a: a) if len(shape) == 2 else (lambda a: a.transpose(0, 3, 1, 2))
        from_torch = (lambda a: a) if len(shape) == 2 else (lambda a: a.transpose(0, 2, 3, 1))
        count = int(np.prod(shape[:-1]))
        for _ in range(3):
            x = rng.standard_normal(shape) * 2 + 1
            grad = rng.standard_normal(shape)
            x_torch = torch.tensor(np.ascontiguousarray(to_torch(x)), requires_grad=True)
            y_torch = theirs(x_torch)
            y_torch.backward(torch.from_numpy(np.ascontiguousarray(to_torch(grad))))
            y = ours(x, training=True)
            grad_x = ours.backward(grad)
            np.testing.assert_allclose(y, from_torch(y_torch.detach().numpy()), rtol=1e-10,
                                       atol=1e-12)
            np.testing.assert_allclose(grad_x, from_torch(x_torch.grad.numpy()), rtol=1e-9,
                                       atol=1e-11)
            np.testing.assert_allclose(ours.grads["gamma"], theirs.weight.grad.numpy(),
                                       rtol=1e-10)
            np.testing.assert_allclose(ours.grads["beta"], theirs.bias.grad.numpy(), rtol=1e-10)
            theirs.weight.grad = theirs.bias.grad = None
        np.testing.assert_allclose(ours.state["moving_mean"], theirs.running_mean.numpy(),
                                   rtol=1e-12)
        # moving = m^3 + sum of (1 - m) m^k var_k: torch's var_k are N / (N - 1) times ours
        decayed = 0.9 ** 3
        np.testing.assert_allclose(ours.state["moving_variance"] - decayed,
                                   (theirs.running_var.numpy() - decayed) * (count - 1) / count,
                                   rtol=1e-12)
        theirs.eval()
        x = rng.standard_normal(shape)
        expected = from_torch(theirs(torch.from_numpy(np.ascontiguousarray(to_torch(x))))
                              .detach().numpy())
        ours.state["moving_variance"][...] = theirs.running_var.numpy()  # same statistics
        np.testing.assert_allclose(ours(x), expected, rtol=1e-10, atol=1e-12)


def test_layer_normalization_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    for shape, axis in [((5, 7), -1), ((3, 4, 5, 2), [1, 2, 3])]:
        ours = randomized(LayerNormalization(axis=axis, dtype="float64"), shape[1:], rng)
        theirs = torch.nn.LayerNorm(shape[1:] if axis != -1 else shape[-1:], eps=1e-3,
                                    dtype=torch.float64)
        with torch.no_grad():
            theirs.weight.copy_(torch.from_numpy(ours.params["gamma"]))
            theirs.bias.copy_(torch.from_numpy(ours.params["beta"]))
        x, grad = rng.standard_normal(shape), rng.standard_normal(shape)
        x_torch = torch.tensor(x, requires_grad=True)
        y_torch = theirs(x_torch)
        y_torch.backward(torch.from_numpy(grad))
        np.testing.assert_allclose(ours(x), y_torch.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.backward(grad), x_torch.grad.numpy(), rtol=1e-9,
                                   atol=1e-11)
        np.testing.assert_allclose(ours.grads["gamma"], theirs.weight.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.grads["beta"], theirs.bias.grad.numpy(), rtol=1e-10)
