"""Tests of nn.layers.Conv2D and its kernels in nn.ops (im2col, col2im, the reference loop).

Gradient checks in float64 for the input and every parameter (odd sizes, strides 2,
'same' padding, rectangular kernels), one negative check, agreement with the naive loop
and with PyTorch, Keras' layout, shapes and padding rule, saving, and the errors.
"""
import warnings

import numpy as np
import pytest
from helpers import assert_gradients_match

import nn
from nn import ops
from nn.gradcheck import check_layer
from nn.layers import Conv2D, Dense, Flatten, MaxPooling2D

# (sample shape (h, w, c), filters, kernel_size, strides, padding)
GEOMETRIES = [
    ((5, 5, 1), 2, 3, 1, "valid"),
    ((7, 6, 2), 3, (3, 2), 2, "valid"),  # odd and even sizes, stride 2, rectangular kernel
    ((5, 7, 3), 2, 3, 1, "same"),
    ((6, 5, 2), 3, (2, 3), 2, "same"),  # even kernel: 'same' pads unevenly
    ((7, 7, 1), 2, 4, (2, 3), "same"),
    ((4, 6, 2), 1, (4, 1), (1, 2), "valid"),
    ((5, 6, 9), 2, 3, 2, "same"),  # 8 channels or more: im2col copies the view at once
]


def conv_input(layer, rng, n, shape, margin=1e-3):
    """Inputs whose pre-activations all stay ``margin`` away from 0 (ReLU's kink)."""
    for _ in range(1000):
        x = rng.standard_normal((n, *shape))
        if np.min(np.abs(layer.forward_logits(x))) > margin:
            return x
    raise AssertionError("no input away from the kink found")


# --- gradient checks -------------------------------------------------------------------------

@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("activation", [None, "tanh", "relu"])
def test_conv2d_gradient(geometry, activation):
    shape, filters, kernel_size, strides, padding = geometry
    rng = np.random.default_rng(len(shape) + filters)
    layer = Conv2D(filters, kernel_size, strides=strides, padding=padding, activation=activation,
                   dtype="float64", seed=1)
    layer.build(shape)
    layer.params["bias"][...] = rng.standard_normal(filters)  # a bias of 0 would hide its use
    x = conv_input(layer, rng, 2, shape)
    assert_gradients_match(check_layer(layer, x, rng=0), {"input", "kernel", "bias"})


def test_conv2d_gradient_without_bias():
    layer = Conv2D(2, 3, padding="same", use_bias=False, dtype="float64", seed=0)
    x = np.random.default_rng(0).standard_normal((2, 5, 4, 3))
    assert_gradients_match(check_layer(layer, x, rng=0), {"input", "kernel"})


def test_the_check_fails_on_a_wrong_backward(monkeypatch):
    # The classic slip: flipping the kernel where the input's gradient needs it unflipped
    # (each patch's gradient must go back through the weight that produced it).
    correct = ops.conv2d_input_grad

    def flipped(grad_z, kernel, image_shape, strides):
        return correct(grad_z, kernel[::-1, ::-1], image_shape, strides)

    monkeypatch.setattr(ops, "conv2d_input_grad", flipped)
    layer = Conv2D(2, 3, dtype="float64", seed=0)
    errors = check_layer(layer, np.random.default_rng(0).standard_normal((2, 5, 6, 2)), rng=0)
    assert errors["input"] > 1e-2
    assert errors["kernel"] < 1e-6  # the kernel's gradient does not go through it


# --- against the definition ----------------------------------------------------------------

@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_conv2d_equals_the_reference_loop(geometry):
    shape, filters, kernel_size, strides, padding = geometry
    rng = np.random.default_rng(7)
    layer = Conv2D(filters, kernel_size, strides=strides, padding=padding, dtype="float64",
                   seed=0)
    x = rng.standard_normal((3, *shape))
    y = layer(x)
    expected = ops.conv2d_reference(ops.pad_images(x, layer.pads), layer.params["kernel"],
                                    layer.strides)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    assert y.shape == (3, *layer.compute_output_shape(shape))


def test_the_reference_loop_on_a_worked_example():
    # A 3x3 image, a 2x2 kernel: each output is the sum of a patch times the kernel.
    image = np.arange(9.0).reshape(1, 3, 3, 1)  # 0 1 2 / 3 4 5 / 6 7 8
    kernel = np.array([[1.0, 0.0], [0.0, -1.0]]).reshape(2, 2, 1, 1)  # x[i, j] - x[i+1, j+1]
    y = ops.conv2d_reference(image, kernel)
    np.testing.assert_array_equal(y[0, :, :, 0], [[-4.0, -4.0], [-4.0, -4.0]])
    np.testing.assert_array_equal(ops.conv2d_reference(image, kernel, (2, 2))[0, :, :, 0],
                                  [[-4.0]])


@pytest.mark.parametrize("channels", [3, 8])  # both ways of copying
def test_im2col_rows_are_the_patches_in_kernel_order(channels):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 6, channels))
    cols = ops.im2col(x, (2, 3), (2, 1))
    ho, wo = 2, 4
    assert cols.shape == (2 * ho * wo, 2 * 3 * channels)
    patches = cols.reshape(2, ho, wo, 2, 3, channels)
    np.testing.assert_array_equal(patches[1, 1, 2], x[1, 2:4, 2:5, :])
    buffer = np.empty(cols.size)
    assert np.shares_memory(ops.im2col(x, (2, 3), (2, 1), out=buffer), buffer)


@pytest.mark.parametrize("strides", [(1, 1), (2, 2), (2, 3)])
def test_col2im_is_the_adjoint_of_im2col(strides):
    # <im2col(x), C> = <x, col2im(C)> for all x and C: col2im is im2col's transpose.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 7, 6, 3))
    cols = ops.im2col(x, (3, 2), strides)
    other = rng.standard_normal(cols.shape)
    back = ops.col2im(other, x.shape, (3, 2), strides)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * other), np.sum(x * back), rtol=1e-12)


# --- shapes, padding rule, Keras layout --------------------------------------------------------

@pytest.mark.parametrize("size, window, stride, expected", [
    (5, 2, 2, (0, 1)),  # out 3: total 1, the odd one at the end
    (6, 3, 2, (0, 1)),
    (7, 4, 1, (1, 2)),
    (7, 3, 1, (1, 1)),
    (8, 1, 3, (0, 0)),
    (4, 6, 1, (2, 3)),  # a window larger than the image: 'same' still works
])
def test_same_padding_follows_tensorflow(size, window, stride, expected):
    assert ops.same_padding(size, window, stride) == expected
    assert ops.output_size(size, window, stride, "same") == -(-size // stride)
    before, after = expected
    assert ops.output_size(size + before + after, window, stride, "valid") == -(-size // stride)


def test_output_shapes_and_parameter_count_of_the_keras_mnist_convnet():
    nn.utils.clear_session()  # default names from the start: conv2d, max_pooling2d, ...
    model = nn.Sequential([
        nn.Input((28, 28, 1)), Conv2D(32, 3, activation="relu"), MaxPooling2D(2),
        Conv2D(64, (3, 3), activation="relu"), MaxPooling2D((2, 2)), Flatten(),
        Dense(10, activation="softmax"),
    ], seed=0)
    model.build()
    shapes = [layer.output_shape for layer in model.layers]
    assert shapes == [(26, 26, 32), (13, 13, 32), (11, 11, 64), (5, 5, 64), (1600,), (10,)]
    # Keras prints 320, 18,496 and 16,010 parameters for this network
    assert [layer.count_params() for layer in model.layers] == [320, 0, 18496, 0, 0, 16010]
    lines = []
    model.summary(print_fn=lines.append)
    rows = lines[0].splitlines()
    assert any(row.split() == ["conv2d", "(Conv2D)", "(None,", "26,", "26,", "32)", "320"]
               for row in rows), rows
    assert any(row.split() == ["max_pooling2d_1", "(MaxPooling2D)", "(None,", "5,", "5,", "64)",
                               "0"] for row in rows), rows


def test_kernel_and_bias_are_stored_as_keras_stores_them():
    layer = Conv2D(5, (3, 2), input_shape=(8, 8, 4), seed=0)
    layer.build((8, 8, 4))
    assert list(layer.params) == ["kernel", "bias"]
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 4, 5) and bias.shape == (5,)
    assert kernel.dtype == np.float32 and not bias.any()
    # glorot_uniform with Keras' fans: fan_in = 3*2*4, fan_out = 3*2*5
    limit = np.sqrt(6 / (3 * 2 * 4 + 3 * 2 * 5))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit
    he = Conv2D(64, 3, kernel_initializer="he_normal", seed=0)
    he.build((10, 10, 32))
    assert np.std(he.params["kernel"]) == pytest.approx(np.sqrt(2 / (9 * 32)), rel=0.03)


def test_float32_in_float32_out_and_the_gradient_of_nobody_is_skipped():
    layer = Conv2D(4, 3, padding="same", seed=0)
    x = np.random.default_rng(0).random((2, 6, 6, 3), dtype=np.float32)
    y = layer(x)
    assert y.dtype == np.float32 and y.shape == (2, 6, 6, 4)
    grad = layer.backward(np.ones_like(y))
    assert grad.dtype == np.float32 and grad.shape == x.shape
    layer.needs_input_grad = False
    assert layer.backward(np.ones_like(y)) is None
    assert layer.grads["kernel"].dtype == np.float32


def test_backward_writes_the_gradients_and_leaves_its_arguments_alone():
    rng = np.random.default_rng(0)
    layer = Conv2D(3, 3, strides=2, padding="same", activation="relu", dtype="float64", seed=0)
    x = rng.standard_normal((2, 7, 7, 2))
    x_before = x.copy()
    y = layer(x)
    grad_output = rng.standard_normal(y.shape)
    grad_before = grad_output.copy()
    kernel_grad = layer.grads["kernel"]
    first = layer.backward(grad_output).copy()
    first_kernel = kernel_grad.copy()
    second = layer.backward(grad_output)  # written, not accumulated
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(kernel_grad, first_kernel)
    assert layer.grads["kernel"] is kernel_grad
    np.testing.assert_array_equal(grad_output, grad_before)
    np.testing.assert_array_equal(x, x_before)


def test_outputs_of_successive_batches_do_not_share_memory():
    # The patches live in a buffer reused from batch to batch; the outputs must not, or
    # predict would concatenate one batch many times.
    layer = Conv2D(2, 3, seed=0)
    rng = np.random.default_rng(0)
    first_x, second_x = rng.random((3, 6, 6, 1)), rng.random((5, 6, 6, 1))
    first = layer(first_x)
    kept = first.copy()
    second = layer(second_x)
    layer(first_x[:1])
    np.testing.assert_array_equal(first, kept)
    assert not np.shares_memory(first, second)
    np.testing.assert_allclose(second, ops.conv2d_reference(second_x.astype(np.float32),
                                                            layer.params["kernel"]), rtol=1e-5)


def test_conv2d_can_be_the_last_layer_and_fuses_with_its_loss():
    layer = Conv2D(3, 1, activation="softmax")
    assert layer.output_activation == "softmax"
    layer.activation = "relu"
    assert layer.output_activation is None
    assert Conv2D(3, 1).activation is None


# --- saving ---------------------------------------------------------------------------------

def test_a_conv_model_saves_and_loads(tmp_path):
    model = nn.Sequential([
        nn.Input((9, 8, 2)),
        Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="relu",
               kernel_initializer="he_uniform"),
        MaxPooling2D(2),
        Conv2D(3, 2, use_bias=False),
        Flatten(),
        Dense(3, activation="softmax"),
    ], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((6, 9, 8, 2), dtype=np.float32)
    model.fit(x, np.arange(6) % 3, epochs=2, batch_size=3, verbose=0)
    model.save(tmp_path / "cnn.npz")
    restored = nn.load_model(tmp_path / "cnn.npz")
    np.testing.assert_array_equal(restored.predict(x), model.predict(x))
    assert restored.get_config() == model.get_config()
    conv = restored.layers[0]
    assert (conv.filters, conv.kernel_size, conv.strides, conv.padding) == (4, (3, 2), (2, 1),
                                                                           "same")
    assert conv.kernel_initializer.name == "he_uniform" and not restored.layers[2].use_bias


# --- PyTorch ---------------------------------------------------------------------------------

@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("activation", [None, "relu"])
def test_conv2d_matches_pytorch(geometry, activation):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    shape, filters, kernel_size, strides, padding = geometry
    rng = np.random.default_rng(3)
    layer = Conv2D(filters, kernel_size, strides=strides, padding=padding, activation=activation,
                   dtype="float64", seed=0)
    layer.build(shape)
    layer.params["bias"][...] = rng.standard_normal(filters)
    x = rng.standard_normal((3, *shape))
    y = layer(x)
    grad_output = rng.standard_normal(y.shape)
    grad_input = layer.backward(grad_output)

    x_torch = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)  # NCHW
    kernel = torch.tensor(layer.params["kernel"].transpose(3, 2, 0, 1).copy(),  # (f, c, kh, kw)
                          requires_grad=True)
    bias = torch.tensor(layer.params["bias"].copy(), requires_grad=True)
    (top, bottom), (left, right) = layer.pads
    y_torch = functional.conv2d(functional.pad(x_torch, (left, right, top, bottom)), kernel,
                                bias, stride=layer.strides)
    if activation == "relu":
        y_torch = torch.relu(y_torch)
    y_torch.backward(torch.tensor(grad_output.transpose(0, 3, 1, 2)))

    def close(ours, theirs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)

    close(y, y_torch.detach().numpy().transpose(0, 2, 3, 1))
    close(grad_input, x_torch.grad.numpy().transpose(0, 2, 3, 1))
    close(layer.grads["kernel"], kernel.grad.numpy().transpose(2, 3, 1, 0))
    close(layer.grads["bias"], bias.grad.numpy())


@pytest.mark.parametrize("kernel_size", [(3, 3), (2, 4), (4, 1)])
def test_same_padding_at_stride_one_matches_pytorchs(kernel_size):
    # PyTorch's padding='same' (stride 1 only) also puts the odd row at the end.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    layer = Conv2D(2, kernel_size, padding="same", dtype="float64", seed=0)
    x = rng.standard_normal((2, 6, 7, 3))
    y = layer(x)
    kernel = torch.tensor(layer.params["kernel"].transpose(3, 2, 0, 1).copy())
    with warnings.catch_warnings():  # "may require a zero-padded copy": it may
        warnings.simplefilter("ignore", UserWarning)
        expected = torch.nn.functional.conv2d(torch.tensor(x.transpose(0, 3, 1, 2)), kernel,
                                              padding="same")
    np.testing.assert_allclose(y, expected.numpy().transpose(0, 2, 3, 1), rtol=1e-10,
                               atol=1e-12)


# --- bad input --------------------------------------------------------------------------------

def test_images_without_a_channel_axis_are_refused_with_the_fix():
    x = np.zeros((4, 28, 28), dtype=np.float32)
    with pytest.raises(ValueError, match=r"4-D inputs.*\(28, 28\).*np\.expand_dims\(x, -1\)"):
        Conv2D(8, 3)(x)
    with pytest.raises(ValueError, match=r"np\.expand_dims\(x, -1\)"):
        Conv2D(8, 3, input_shape=(28, 28)).build((28, 28))
    model = nn.Sequential([Conv2D(8, 3), Flatten(), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"np\.expand_dims\(x, -1\)"):
        model.fit(x, np.zeros(4, dtype=int), verbose=0)
    with pytest.raises(ValueError, match=r"4-D inputs.*\(5,\)"):
        Conv2D(8, 3)(np.zeros((4, 5)))


def test_a_kernel_larger_than_the_input_is_refused():
    with pytest.raises(ValueError, match=r"5x5 window, larger than its valid-padded input of "
                                         r"4x6 pixels"):
        Conv2D(2, 5)(np.zeros((1, 4, 6, 1)))
    assert Conv2D(2, 5, padding="same")(np.zeros((1, 4, 6, 1))).shape == (1, 4, 6, 2)


@pytest.mark.parametrize("filters", [0, -3, 2.5, "8", None, True])
def test_bad_filter_counts_are_refused(filters):
    with pytest.raises(ValueError, match=rf"filters must be a positive integer.*"
                                         rf"Received: filters={filters!r}"):
        Conv2D(filters, 3)


@pytest.mark.parametrize("name, value", [
    ("kernel_size", 0), ("kernel_size", (3,)), ("kernel_size", (3, -1)), ("kernel_size", 2.0),
    ("kernel_size", "3"), ("strides", 0), ("strides", (1, 0)), ("strides", (1, 1, 1)),
])
def test_bad_kernel_sizes_and_strides_are_refused(name, value):
    arguments = {"kernel_size": 3, name: value}
    with pytest.raises(ValueError, match=rf"{name} must be a positive integer or a pair of "
                                         rf"them. Received: {name}="):
        Conv2D(4, **arguments)


@pytest.mark.parametrize("padding", ["full", "causal", "", None, 1])
def test_unknown_paddings_are_refused(padding):
    with pytest.raises(ValueError, match=rf"'valid' or 'same'. Received: padding={padding!r}"):
        Conv2D(4, 3, padding=padding)
    assert Conv2D(4, 3, padding="SAME").padding == "same"  # as Keras, in any case


def test_channels_first_is_refused_with_the_transpose_that_helps():
    with pytest.raises(ValueError, match=r"channels_last' only.*np\.transpose.*"
                                         r"Received: data_format='channels_first'"):
        Conv2D(4, 3, data_format="channels_first")


def test_config_recreates_the_layer():
    layer = Conv2D(6, (3, 1), strides=2, padding="same", activation="tanh", use_bias=False,
                   kernel_initializer="he_normal", input_shape=(9, 9, 3))
    clone = nn.layers.deserialize(nn.layers.serialize(layer))
    assert (clone.filters, clone.kernel_size, clone.strides, clone.padding, clone.use_bias,
            clone.input_shape) == (6, (3, 1), (2, 2), "same", False, (9, 9, 3))
    assert clone.activation.alias == "tanh" and clone.kernel_initializer.name == "he_normal"


@pytest.mark.parametrize("strides", [(1, 1), (2, 2), (2, 3)])
def test_the_input_gradient_offset_by_offset_equals_col2im(strides):
    rng = np.random.default_rng(2)
    image_shape, kernel = (2, 8, 7, 3), rng.standard_normal((3, 2, 3, 4))
    rows = 2 * ops.output_size(8, 3, strides[0], "valid") * ops.output_size(7, 2, strides[1],
                                                                             "valid")
    grad_z = rng.standard_normal((rows, 4))
    expected = ops.col2im(grad_z @ kernel.reshape(-1, 4).T, image_shape, (3, 2), strides)
    np.testing.assert_allclose(ops.conv2d_input_grad(grad_z, kernel, image_shape, strides),
                               expected, rtol=1e-12, atol=1e-12)
