"""Pooling layers: MaxPooling2D, AveragePooling2D and their global versions.

A pooling layer summarizes each window of each channel by one number (its maximum or
mean) and has no parameters. Windows that tile the image without overlapping are
read through a reshape, (n, ho, ph, wo, pw, c); overlapping or padded windows
through one strided slice per window offset (``nn.ops.window_positions``).
"""
import numpy as np

from .. import ops
from .convolution import (image_geometry, standardize_data_format, standardize_padding,
                          standardize_pair)
from .layer import Layer, _default_name


def _keras_name(kwargs, base):
    """Keras' default names are the class name in snake case: max_pooling2d, max_pooling2d_1."""
    if kwargs.get("name") is None:
        kwargs["name"] = _default_name(base)
    return kwargs


class Pooling2D(Layer):
    """Base class of MaxPooling2D and AveragePooling2D: window, strides, padding, geometry.

    ``strides=None`` means strides equal to ``pool_size`` (windows side by side). Per
    spatial axis the output has floor((h - ph) / sh) + 1 rows for padding='valid' and
    ceil(h / sh) for 'same', which pads as Conv2D does (the odd row at the bottom).
    """

    default_name = "pooling2d"  # what an unnamed layer is called (plus _1, _2, ...)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**_keras_name(kwargs, self.default_name))
        self.pool_size = standardize_pair("pool_size", pool_size)
        self.strides = standardize_pair("strides", pool_size if strides is None else strides)
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.out_shape = self.pads = None  # (ho, wo) and ((top, bottom), (left, right)), by build
        self.inputs = self.outputs = None  # forward's input and output, which backward needs

    @property
    def tiles(self):
        """Whether the windows tile the image (side by side, no padding, no overlap)."""
        return self.strides == self.pool_size and self.padding == "valid"

    def build(self, input_shape, rng=None, dtype=None):
        self.out_shape, self.pads = image_geometry(self, input_shape, self.pool_size,
                                                   self.strides, self.padding)
        super().build(input_shape, rng, dtype)

    def ensure_built(self, x):
        if x.ndim != 4:  # say what is wrong before the generic shape message
            image_geometry(self, x.shape[1:], self.pool_size, self.strides, self.padding)
        super().ensure_built(x)

    def compute_output_shape(self, input_shape):
        out_shape, _ = image_geometry(self, input_shape, self.pool_size, self.strides,
                                      self.padding)
        return (*out_shape, input_shape[2])

    def offsets(self, image):
        """Views of ``image`` (n, h, w, c), padded, one per window offset (i, j) in row-major
        order: view t, (n, ho, wo, c), holds the pixel at offset t of every window.

        Windows that tile the image are a reshape to (n, ho, ph, wo, pw, c), indexed at
        [:, :, i, :, j, :] (rows and columns no window covers are left out); others are
        one strided slice per offset (``nn.ops.window_positions``).
        """
        if self.tiles:
            (ho, wo), (ph, pw) = self.out_shape, self.pool_size
            windows = image[:, :ho * ph, :wo * pw, :].reshape(
                image.shape[0], ho, ph, wo, pw, image.shape[3])
            return [windows[:, :, i, :, j, :] for i in range(ph) for j in range(pw)]
        return [image[:, rows, columns, :] for _, (rows, columns)
                in ops.window_positions(self.pool_size, self.strides, self.out_shape)]

    def zeros_padded(self, like):
        """Zeros shaped as the padded input, for backward to add the windows' gradients to."""
        (top, bottom), (left, right) = self.pads
        n, height, width, channels = self.inputs.shape
        return np.zeros((n, height + top + bottom, width + left + right, channels), like.dtype)

    def uncovered_zeroed(self, like):
        """For tiling windows: an input-shaped array, zero only in the rows and columns at
        the bottom and right that no window covers (the rest is for backward to write)."""
        (ho, wo), (ph, pw) = self.out_shape, self.pool_size
        grad = np.empty(self.inputs.shape, like.dtype)
        grad[:, ho * ph:] = 0
        grad[:, :, wo * pw:] = 0
        return grad

    def crop(self, padded):
        """The part of a padded array that lies over the input image."""
        (top, _), (left, _) = self.pads
        return padded[:, top:top + self.input_shape[0], left:left + self.input_shape[1], :]

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format}


class MaxPooling2D(Pooling2D):
    """The maximum of each window of each channel.

    ::

        forward:  y[m, p, q, k] = max over the window (i, j) of x[m, p sh + i, q sw + j, k]
                  x: (n, h, w, c)   y: (n, ho, wo, c)   ('same' pads with -inf)
        backward: dx = g routed to the position of each window's maximum (the first one
                  in row-major order if several are equal, as PyTorch), 0 elsewhere;
                  summed where overlapping windows share a pixel

    The maximum is built by pairwise np.maximum over the ph*pw window offsets, noting
    where offset t beats offsets 0..t-1 (``takes``); the window's maximum sits at the last
    offset that did. Backward hands the gradient out from the last offset to the first.
    """

    default_name = "max_pooling2d"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
        self.takes = None  # takes[t - 1]: where offset t is larger than offsets 0..t-1

    def forward(self, x, training=False):
        self.ensure_built(x)
        self.inputs = x
        offsets = self.offsets(ops.pad_images(x, self.pads, value=-np.inf))
        self.outputs, self.takes = offsets[0].copy(), []
        for offset in offsets[1:]:
            self.takes.append(offset > self.outputs)  # strictly: the first maximum wins ties
            np.maximum(self.outputs, offset, out=self.outputs)
        return self.outputs

    def backward(self, grad_output):
        # Windows that tile the image share no pixel: each offset's gradient is written into
        # its view of an array that is zero only where no window reaches; otherwise the
        # offsets' gradients are added into zeros.
        tiles = self.tiles
        grad_padded = (self.uncovered_zeroed if tiles else self.zeros_padded)(grad_output)
        grads = self.offsets(grad_padded)  # views: writing or adding to them fills grad_padded
        remaining = grad_output.copy()  # the gradient of windows whose maximum is not found
        for grad, take in zip(grads[:0:-1], self.takes[::-1]):  # offsets t = last, ..., 1
            claimed = np.multiply(remaining, take, out=grad if tiles else None)
            if not tiles:
                grad += claimed
            remaining -= claimed
        if tiles:  # no later offset beat offset 0
            grads[0][...] = remaining
        else:
            grads[0] += remaining
        return self.crop(grad_padded)


class AveragePooling2D(Pooling2D):
    """The mean of each window of each channel.

    ::

        forward:  y[m, p, q, k] = mean over the window (i, j) of x[m, p sh + i, q sw + j, k]
                  x: (n, h, w, c)   y: (n, ho, wo, c)
        backward: dx = g / (window size), spread over the window's pixels; summed where
                  overlapping windows share a pixel

    With padding='same' a window's mean is over the pixels inside the image only (the
    padding is not counted), as in Keras.
    """

    default_name = "average_pooling2d"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
        self.counts = None  # (ho, wo, 1): pixels of the image in each window, by build

    def build(self, input_shape, rng=None, dtype=None):
        super().build(input_shape, rng, dtype)
        ones = ops.pad_images(np.ones((1, *input_shape[:2], 1), self.dtype), self.pads)
        self.counts = sum(self.offsets(ones))[0]

    def forward(self, x, training=False):
        self.ensure_built(x)
        self.inputs = x
        return sum(self.offsets(ops.pad_images(x, self.pads))) / self.counts

    def backward(self, grad_output):
        grad_padded = self.zeros_padded(grad_output)
        share = grad_output / self.counts
        for grad in self.offsets(grad_padded):
            grad += share
        return self.crop(grad_padded)


class GlobalPooling2D(Layer):
    """Base class of the global poolings: one number per channel for the whole image."""

    default_name = "global_pooling2d"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**_keras_name(kwargs, self.default_name))
        self.data_format = standardize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.inputs = None  # forward's input, whose shape (and values) backward needs

    def build(self, input_shape, rng=None, dtype=None):
        image_geometry(self, input_shape, (1, 1), (1, 1), "valid")  # checks: an image
        super().build(input_shape, rng, dtype)

    def ensure_built(self, x):
        if x.ndim != 4:
            image_geometry(self, x.shape[1:], (1, 1), (1, 1), "valid")
        super().ensure_built(x)

    def compute_output_shape(self, input_shape):
        return (1, 1, input_shape[-1]) if self.keepdims else (input_shape[-1],)

    def _shaped(self, y):
        """(n, c) as the layer returns it: (n, 1, 1, c) when keepdims."""
        return y[:, None, None, :] if self.keepdims else y

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling2D(GlobalPooling2D):
    """The mean of each channel over the whole image.

    ::

        forward:  y[m, k] = mean over p, q of x[m, p, q, k]     x: (n, h, w, c)  y: (n, c)
        backward: dx[m, p, q, k] = g[m, k] / (h w)               ((n, 1, 1, c) if keepdims)
    """

    default_name = "global_average_pooling2d"

    def forward(self, x, training=False):
        self.ensure_built(x)
        self.inputs = x
        return self._shaped(x.mean(axis=(1, 2)))

    def backward(self, grad_output):
        n, height, width, channels = self.inputs.shape
        share = grad_output.reshape(n, 1, 1, channels) / grad_output.dtype.type(height * width)
        return np.broadcast_to(share, self.inputs.shape).copy()


class GlobalMaxPooling2D(GlobalPooling2D):
    """The maximum of each channel over the whole image.

    ::

        forward:  y[m, k] = max over p, q of x[m, p, q, k]      x: (n, h, w, c)  y: (n, c)
        backward: dx = g at each channel's maximum (the first in row-major order), 0 elsewhere
    """

    default_name = "global_max_pooling2d"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.argmax = None  # (n, 1, c): the flat pixel index of each maximum, for backward

    def forward(self, x, training=False):
        self.ensure_built(x)
        self.inputs = x
        pixels = x.reshape(x.shape[0], -1, x.shape[3])  # (n, h*w, c)
        self.argmax = pixels.argmax(axis=1)[:, None, :]
        return self._shaped(np.take_along_axis(pixels, self.argmax, axis=1)[:, 0, :])

    def backward(self, grad_output):
        n, height, width, channels = self.inputs.shape
        grad_pixels = np.zeros((n, height * width, channels), dtype=grad_output.dtype)
        np.put_along_axis(grad_pixels, self.argmax, grad_output.reshape(n, 1, channels), axis=1)
        return grad_pixels.reshape(self.inputs.shape)
