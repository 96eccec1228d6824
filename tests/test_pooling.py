"""Tests of the pooling layers: MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
GlobalMaxPooling2D.

Float64 gradient checks (windows side by side, overlapping 3x3 windows at stride 2,
'same' padding, odd sizes), one negative check, the forward pass against a loop over
windows and against PyTorch (forward and gradient), ties, saving and the errors.
"""
import numpy as np
import pytest
from helpers import assert_gradients_match

import nn
from nn.gradcheck import check_layer
from nn.layers import (AveragePooling2D, Conv2D, Dense, Flatten, GlobalAveragePooling2D,
                       GlobalMaxPooling2D, MaxPooling2D)

# (sample shape (h, w, c), pool_size, strides, padding)
GEOMETRIES = [
    ((4, 6, 2), 2, None, "valid"),  # windows side by side: the reshape path
    ((5, 7, 3), 2, None, "valid"),  # odd sizes: the last row and column are in no window
    ((7, 7, 2), 3, 2, "valid"),  # overlapping windows
    ((5, 6, 1), (3, 2), (2, 1), "valid"),
    ((5, 5, 2), 2, None, "same"),  # padded at the bottom and right
    ((6, 7, 2), 3, 2, "same"),  # overlapping and padded
    ((4, 4, 1), (2, 3), 1, "same"),
]
POOLS = [MaxPooling2D, AveragePooling2D]


def reference_pool(x, layer, reduce):
    """The definition: reduce each window of the padded input, one output pixel at a time."""
    (top, bottom), (left, right) = layer.pads
    fill = -np.inf if reduce is np.max else np.nan
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    (ph, pw), (sh, sw) = layer.pool_size, layer.strides
    ho, wo = layer.out_shape
    y = np.empty((x.shape[0], ho, wo, x.shape[3]))
    for p in range(ho):
        for q in range(wo):
            window = padded[:, p * sh:p * sh + ph, q * sw:q * sw + pw, :]
            y[:, p, q, :] = reduce(window, axis=(1, 2))
    return y


def distinct_values(shape, rng):
    """Values at least 0.01 apart, so that finite differences never swap a maximum."""
    values = rng.permutation(np.prod(shape)).reshape(shape) * 0.01
    return values + rng.uniform(-0.002, 0.002, shape)


# --- gradient checks -------------------------------------------------------------------------

@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("pool", POOLS)
def test_pooling_gradient(pool, geometry):
    shape, pool_size, strides, padding = geometry
    rng = np.random.default_rng(0)
    layer = pool(pool_size, strides, padding, dtype="float64")
    assert_gradients_match(check_layer(layer, distinct_values((2, *shape), rng), rng=0),
                           {"input"})


@pytest.mark.parametrize("pool", [GlobalAveragePooling2D, GlobalMaxPooling2D])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_gradient(pool, keepdims):
    x = distinct_values((3, 5, 4, 2), np.random.default_rng(1))
    assert_gradients_match(check_layer(pool(keepdims=keepdims, dtype="float64"), x, rng=0),
                           {"input"})


def test_the_check_fails_on_a_wrong_backward():
    class SpreadMaxPooling2D(MaxPooling2D):
        """Wrong on purpose: spreads the gradient over the window as average pooling does."""

        def backward(self, grad_output):
            return np.repeat(np.repeat(grad_output, 2, axis=1), 2, axis=2) / 4

    x = distinct_values((2, 4, 4, 2), np.random.default_rng(0))
    assert check_layer(SpreadMaxPooling2D(2, dtype="float64"), x, rng=0)["input"] > 1e-2


# --- forward against the definition ----------------------------------------------------------

@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("pool, reduce", [(MaxPooling2D, np.max),
                                          (AveragePooling2D, np.nanmean)])
def test_pooling_equals_a_loop_over_windows(pool, reduce, geometry):
    shape, pool_size, strides, padding = geometry
    x = np.random.default_rng(2).standard_normal((3, *shape))
    layer = pool(pool_size, strides, padding, dtype="float64")
    y = layer(x)
    assert y.shape == (3, *layer.compute_output_shape(shape))
    np.testing.assert_allclose(y, reference_pool(x, layer, reduce), rtol=1e-14)


def test_average_pooling_with_same_padding_does_not_count_the_padding():
    # As Keras: the corner window of a 3x3 image pooled 2x2 'same' holds one pixel, not four.
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    y = AveragePooling2D(2, padding="same", dtype="float64")(x)[0, :, :, 0]
    np.testing.assert_array_equal(y, [[(0 + 1 + 3 + 4) / 4, (2 + 5) / 2], [(6 + 7) / 2, 8]])


def test_global_pooling_values_and_shapes():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    np.testing.assert_allclose(GlobalAveragePooling2D(dtype="float64")(x), x.mean(axis=(1, 2)))
    np.testing.assert_array_equal(GlobalMaxPooling2D(dtype="float64")(x), x.max(axis=(1, 2)))
    kept = GlobalMaxPooling2D(keepdims=True, dtype="float64")(x)
    assert kept.shape == (2, 1, 1, 4)
    assert GlobalAveragePooling2D().compute_output_shape((3, 5, 4)) == (4,)
    assert GlobalAveragePooling2D(keepdims=True).compute_output_shape((3, 5, 4)) == (1, 1, 4)


def test_tied_maxima_get_the_gradient_once_at_the_first():
    x = np.zeros((1, 2, 2, 1))  # four equal values in one window: after a ReLU this is common
    layer = MaxPooling2D(2, dtype="float64")
    layer(x)
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, 1, 1)))[0, :, :, 0],
                                  [[1.0, 0.0], [0.0, 0.0]])
    overlapping = MaxPooling2D(3, strides=1, dtype="float64")
    overlapping(np.zeros((1, 4, 4, 1)))
    grad = overlapping.backward(np.ones((1, 2, 2, 1)))
    assert grad.sum() == 4  # each window passes its gradient on once
    global_max = GlobalMaxPooling2D(dtype="float64")
    global_max(np.zeros((1, 2, 3, 1)))
    np.testing.assert_array_equal(global_max.backward(np.ones((1, 1)))[0, :, :, 0],
                                  [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def test_the_reshape_path_is_a_view_and_the_last_odd_row_gets_no_gradient():
    layer = MaxPooling2D(2, dtype="float64")
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 3))
    layer(x)
    assert layer.tiles and all(np.shares_memory(view, x) for view in layer.offsets(x))
    assert len(layer.offsets(x)) == 4 and layer.offsets(x)[0].shape == (2, 2, 2, 3)
    grad = layer.backward(np.ones((2, 2, 2, 3)))
    assert not grad[:, 4, :, :].any() and not grad[:, :, 4, :].any()
    assert grad.sum() == 2 * 2 * 2 * 3


def test_pooling_keeps_float32_and_leaves_its_arguments_alone():
    for layer in (MaxPooling2D(3, 2, "same"), AveragePooling2D(2), GlobalMaxPooling2D(),
                  GlobalAveragePooling2D(), MaxPooling2D(2)):
        x = np.random.default_rng(0).random((2, 7, 6, 3), dtype=np.float32)
        x_before = x.copy()
        y = layer(x)
        grad_output = np.ones_like(y)
        grad = layer.backward(grad_output)
        assert y.dtype == grad.dtype == np.float32 and grad.shape == x.shape
        np.testing.assert_array_equal(x, x_before)
        np.testing.assert_array_equal(grad_output, np.ones_like(y))


# --- PyTorch ---------------------------------------------------------------------------------

@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("pool", POOLS)
def test_pooling_matches_pytorch(pool, geometry):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    shape, pool_size, strides, padding = geometry
    rng = np.random.default_rng(4)
    layer = pool(pool_size, strides, padding, dtype="float64")
    x = rng.standard_normal((3, *shape))
    y = layer(x)
    grad_output = rng.standard_normal(y.shape)
    grad_input = layer.backward(grad_output)

    x_torch = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    (top, bottom), (left, right) = layer.pads  # PyTorch pads evenly only: pad by hand
    pads = (left, right, top, bottom)
    if pool is MaxPooling2D:
        y_torch = functional.max_pool2d(functional.pad(x_torch, pads, value=-np.inf),
                                        layer.pool_size, layer.strides)
    else:  # the mean over the pixels inside the image: sums divided by counts
        sums = functional.avg_pool2d(functional.pad(x_torch, pads), layer.pool_size,
                                     layer.strides, divisor_override=1)
        counts = functional.avg_pool2d(functional.pad(torch.ones_like(x_torch), pads),
                                       layer.pool_size, layer.strides, divisor_override=1)
        y_torch = sums / counts
    y_torch.backward(torch.tensor(grad_output.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(y, y_torch.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-10)
    np.testing.assert_allclose(grad_input, x_torch.grad.numpy().transpose(0, 2, 3, 1),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("pool, torch_name", [(GlobalAveragePooling2D, "mean"),
                                              (GlobalMaxPooling2D, "amax")])
def test_global_pooling_matches_pytorch(pool, torch_name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 5, 4, 2))
    layer = pool(dtype="float64")
    y = layer(x)
    grad_output = rng.standard_normal(y.shape)
    grad_input = layer.backward(grad_output)
    x_torch = torch.tensor(x, requires_grad=True)
    y_torch = getattr(torch, torch_name)(x_torch, dim=(1, 2))
    y_torch.backward(torch.tensor(grad_output))
    np.testing.assert_allclose(y, y_torch.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(grad_input, x_torch.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_ties_are_broken_as_pytorch_breaks_them():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x = rng.integers(0, 3, (2, 6, 6, 2)).astype(np.float64)  # many equal values per window
    for layer in (MaxPooling2D(2, dtype="float64"), MaxPooling2D(3, 2, dtype="float64")):
        y = layer(x)
        grad_output = rng.standard_normal(y.shape)
        x_torch = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
        torch.nn.functional.max_pool2d(x_torch, layer.pool_size, layer.strides).backward(
            torch.tensor(grad_output.transpose(0, 3, 1, 2)))
        np.testing.assert_allclose(layer.backward(grad_output),
                                   x_torch.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-12)


# --- configs, saving, Keras' names -------------------------------------------------------------

def test_strides_default_to_the_pool_size_as_in_keras():
    assert MaxPooling2D((3, 2)).strides == (3, 2)
    assert AveragePooling2D(2, strides=1).strides == (1, 1)
    assert MaxPooling2D().pool_size == (2, 2)
    assert MaxPooling2D(3, 2).compute_output_shape((7, 8, 5)) == (3, 3, 5)  # floor((7-3)/2)+1
    assert MaxPooling2D(3, 2, "same").compute_output_shape((7, 8, 5)) == (4, 4, 5)  # ceil(7/2)


def test_default_names_are_keras_snake_case():
    nn.utils.clear_session()
    names = [layer.name for layer in (MaxPooling2D(), MaxPooling2D(), AveragePooling2D(),
                                      GlobalAveragePooling2D(), GlobalMaxPooling2D())]
    assert names == ["max_pooling2d", "max_pooling2d_1", "average_pooling2d",
                     "global_average_pooling2d", "global_max_pooling2d"]
    assert nn.layers.MaxPool2D is MaxPooling2D and nn.layers.GlobalAvgPool2D is \
        GlobalAveragePooling2D


def test_a_model_with_every_pooling_saves_and_loads(tmp_path):
    model = nn.Sequential([
        nn.Input((9, 9, 1)), Conv2D(4, 3, padding="same", activation="relu"),
        MaxPooling2D(3, strides=2, padding="same"), AveragePooling2D(2, strides=1),
        Conv2D(6, 2), GlobalMaxPooling2D(keepdims=True), Flatten(),
        Dense(3, activation="softmax"),
    ], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((6, 9, 9, 1), dtype=np.float32)
    model.fit(x, np.arange(6) % 3, epochs=1, batch_size=3, verbose=0)
    model.save(tmp_path / "pools.npz")
    restored = nn.load_model(tmp_path / "pools.npz")
    np.testing.assert_array_equal(restored.predict(x), model.predict(x))
    assert restored.get_config() == model.get_config()
    pool = restored.layers[1]
    assert (pool.pool_size, pool.strides, pool.padding) == ((3, 3), (2, 2), "same")
    assert restored.layers[4].keepdims
    glob = nn.layers.deserialize(nn.layers.serialize(GlobalAveragePooling2D(name="gap")))
    assert type(glob) is GlobalAveragePooling2D and glob.name == "gap"


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("pool", [MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
                                  GlobalMaxPooling2D])
def test_images_without_a_channel_axis_are_refused_with_the_fix(pool):
    with pytest.raises(ValueError, match=r"4-D inputs.*\(28, 28\).*np\.expand_dims\(x, -1\)"):
        pool()(np.zeros((2, 28, 28), dtype=np.float32))


def test_a_window_larger_than_the_input_is_refused():
    with pytest.raises(ValueError, match=r"3x3 window, larger than its valid-padded input of "
                                         r"2x5 pixels"):
        MaxPooling2D(3)(np.zeros((1, 2, 5, 1)))
    assert MaxPooling2D(3, padding="same")(np.zeros((1, 2, 5, 1))).shape == (1, 1, 2, 1)


@pytest.mark.parametrize("name, value", [("pool_size", 0), ("pool_size", (2, 0)),
                                         ("pool_size", (2,)), ("strides", -1),
                                         ("strides", (1, 2, 3)), ("pool_size", 1.5)])
def test_bad_pool_sizes_and_strides_are_refused(name, value):
    with pytest.raises(ValueError, match=rf"{name} must be a positive integer or a pair of "
                                         rf"them. Received: {name}="):
        MaxPooling2D(**{name: value})


@pytest.mark.parametrize("padding", ["full", None, "Valid "])
def test_unknown_paddings_are_refused(padding):
    with pytest.raises(ValueError, match=rf"Received: padding={padding!r}"):
        AveragePooling2D(padding=padding)
