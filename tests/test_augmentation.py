"""Tests of nn.layers.RandomTranslation: the shifts and fills against NumPy's padding,
interpolation, the range of the random shifts, seeding, the gradient (and one wrong
backward that the check catches), layouts, saving, and the bad arguments."""
import numpy as np
import pytest
from helpers import assert_gradients_match

import nn
from nn.gradcheck import check_layer
from nn.layers import RandomTranslation

# nn's fill modes and the np.pad modes that extend an image the same way
PAD_MODES = {"constant": "constant", "reflect": "symmetric", "wrap": "wrap", "nearest": "edge"}


def expected_shift(images, down, right, pad_mode):
    """images (n, h, w) shifted by whole pixels, built by padding and slicing."""
    _, height, width = images.shape
    padded = np.pad(images, ((0, 0), (height, height), (width, width)), mode=pad_mode)
    return padded[:, height - down:2 * height - down, width - right:2 * width - right]


@pytest.mark.parametrize("fill_mode", list(PAD_MODES))
@pytest.mark.parametrize("down, right", [(2, -3), (-1, 4), (0, 0), (4, 5)])
def test_whole_pixel_shifts_match_numpy_padding(fill_mode, down, right):
    images = np.random.default_rng(0).standard_normal((3, 5, 6))
    height_factor, width_factor = down / 5, right / 6  # exact pixel counts
    layer = RandomTranslation((height_factor, height_factor), (width_factor, width_factor),
                              fill_mode=fill_mode, interpolation="nearest", dtype="float64")
    shifted = layer(images, training=True)
    np.testing.assert_array_equal(shifted, expected_shift(images, down, right,
                                                          PAD_MODES[fill_mode]))


def test_bilinear_interpolates_between_the_two_nearest_whole_shifts():
    images = np.random.default_rng(1).standard_normal((2, 8, 8))
    layer = RandomTranslation((0.3125, 0.3125), 0.0, fill_mode="wrap", dtype="float64")
    # 0.3125 * 8 = 2.5 pixels down: half of the 2-pixel shift, half of the 3-pixel one
    expected = 0.5 * (np.roll(images, 2, axis=1) + np.roll(images, 3, axis=1))
    np.testing.assert_allclose(layer(images, training=True), expected, rtol=1e-14)


def test_constant_fill_value_fills_what_the_shift_uncovers():
    images = np.ones((1, 4, 4))
    layer = RandomTranslation((0.5, 0.5), (-0.25, -0.25), fill_mode="constant",
                              fill_value=7.0, interpolation="nearest", dtype="float64")
    shifted = layer(images, training=True)[0]
    expected = np.full((4, 4), 7.0)
    expected[2:, :3] = 1.0  # two rows down, one column left
    np.testing.assert_array_equal(shifted, expected)
    bilinear = RandomTranslation((0.125, 0.125), 0.0, fill_mode="constant", fill_value=7.0,
                                 dtype="float64")(images, training=True)[0]
    np.testing.assert_allclose(bilinear[0], 0.5 * 7 + 0.5 * 1)  # half a row of fill


def test_shifts_are_drawn_per_sample_within_the_range():
    images = np.zeros((400, 20, 20))
    images[:, 10, 10] = 1.0  # one bright pixel, which shows each sample's shift
    layer = RandomTranslation(0.2, (-0.1, 0.3), fill_mode="constant",
                              interpolation="nearest", seed=0, dtype="float64")
    shifted = layer(images, training=True)
    rows, columns = np.nonzero(shifted.reshape(400, 20, 20).max(axis=2))[1], \
        np.nonzero(shifted.max(axis=1))[1]
    down, right = rows - 10, columns - 10
    assert down.min() == -4 and down.max() == 4  # 0.2 * 20 pixels either way
    assert right.min() == -2 and right.max() == 6  # from -0.1 * 20 to 0.3 * 20
    assert len(np.unique(down)) == 9 and abs(np.mean(down)) < 0.5


def test_identity_at_inference_and_seeded_while_training():
    images = np.random.default_rng(2).standard_normal((4, 6, 6, 2)).astype(np.float32)
    layer = RandomTranslation(0.3, 0.3, seed=5)
    assert layer(images) is images
    first, second = layer(images, training=True), layer(images, training=True)
    assert first.dtype == np.float32 and first.shape == images.shape
    assert not np.array_equal(first, second)  # a new draw every batch
    np.testing.assert_array_equal(RandomTranslation(0.3, 0.3, seed=5)(images, training=True),
                                  first)


def test_channels_share_the_shift_and_layouts_agree():
    images = np.random.default_rng(3).standard_normal((3, 5, 7, 2))
    last = RandomTranslation(0.4, 0.4, seed=1, dtype="float64")(images, training=True)
    first = RandomTranslation(0.4, 0.4, seed=1, dtype="float64", data_format="channels_first")(
        images.transpose(0, 3, 1, 2), training=True)
    np.testing.assert_allclose(first.transpose(0, 2, 3, 1), last, rtol=1e-14)
    gray = RandomTranslation(0.4, 0.4, seed=1, dtype="float64")(images[..., 0], training=True)
    np.testing.assert_allclose(gray, last[..., 0], rtol=1e-14)


@pytest.mark.parametrize("fill_mode", list(PAD_MODES))
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("shape", [(3, 5, 6), (2, 4, 5, 3)])
def test_gradient_is_the_transposed_translation(fill_mode, interpolation, shape):
    layer = RandomTranslation(0.4, (-0.3, 0.5), fill_mode=fill_mode, interpolation=interpolation,
                              fill_value=0.5, seed=2, dtype="float64")
    x = np.random.default_rng(4).standard_normal(shape)
    assert_gradients_match(check_layer(layer, x, rng=0, training=True), {"input"})
    assert_gradients_match(check_layer(layer, x, rng=0), {"input"})  # identity


class ForwardShiftBackward(RandomTranslation):
    """A wrong backward: shifts the gradient the same way as the input, not back."""

    def backward(self, grad_output):
        grads = self._channels_first(grad_output)
        rows, columns = self.row_matrices[:, None], self.column_matrices[:, None]
        return self._restore(rows @ grads @ columns.swapaxes(2, 3), grad_output.shape)


def test_gradient_check_catches_a_gradient_shifted_the_wrong_way():
    layer = ForwardShiftBackward((0.4, 0.4), (0.2, 0.2), fill_mode="constant",
                                 interpolation="nearest", dtype="float64")
    x = np.random.default_rng(5).standard_normal((2, 5, 5))
    assert check_layer(layer, x, rng=0, training=True)["input"] > 1e-2


def test_in_a_model_it_trains_reproducibly_and_saves(tmp_path):
    rng = np.random.default_rng(6)
    x = rng.random((64, 8, 8)).astype(np.float32)
    y = (x[:, :4].mean(axis=(1, 2)) > x[:, 4:].mean(axis=(1, 2))).astype(np.int64)

    def trained():
        model = nn.Sequential([nn.Input((8, 8)),
                               RandomTranslation(0.1, 0.1, fill_mode="constant"),
                               nn.layers.Flatten(), nn.layers.Dense(2, activation="softmax")],
                              seed=0)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=1)
        return model

    model = trained()
    for ours, again in zip(model.get_weights(), trained().get_weights()):
        np.testing.assert_array_equal(ours, again)
    model.save(tmp_path / "model.npz")
    loaded = nn.load_model(tmp_path / "model.npz")
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("name, value", [
    ("height_factor", 1.0), ("height_factor", -0.1), ("height_factor", (0.1,)),
    ("height_factor", (-1.0, 0.2)), ("width_factor", float("nan")), ("width_factor", "0.1"),
    ("width_factor", (0.2, 1.5))])
def test_factors_outside_zero_one_are_refused(name, value):
    arguments = {"height_factor": 0.1, "width_factor": 0.1, name: value}
    with pytest.raises(ValueError, match=rf"Received: {name}={value!r}".replace("(", r"\(")
                       .replace(")", r"\)")):
        RandomTranslation(**arguments)


@pytest.mark.parametrize("name, value", [("fill_mode", "mirror"), ("interpolation", "cubic"),
                                         ("data_format", "channels_middle")])
def test_unknown_modes_are_refused(name, value):
    with pytest.raises(ValueError, match=f"Received: {name}='{value}'"):
        RandomTranslation(0.1, 0.1, **{name: value})


def test_inputs_that_are_not_images_are_refused():
    with pytest.raises(ValueError, match=r"received samples of shape \(5,\)"):
        RandomTranslation(0.1, 0.1)(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"\(batch, channels, height, width\)"):
        RandomTranslation(0.1, 0.1, data_format="channels_first")(np.zeros((2, 5, 5)))
