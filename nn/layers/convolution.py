"""Convolution layers: Conv2D, a dense layer applied to every patch of an image.

Images are channels last, as in Keras: a batch is (batch, height, width, channels).
The arithmetic lives in ``nn.ops`` (im2col, col2im, window_positions); this module
holds the layer, and the argument checks and window geometry it shares with the
pooling layers.
"""
import math

import numpy as np

from .. import activations, initializers, ops, registry, regularizers
from ..checks import check_positive_int
from .layer import Layer

PADDINGS = ("valid", "same")


def standardize_pair(name, value):
    """``value`` as a pair of positive ints: 3 -> (3, 3), (3, 5) -> (3, 5)."""
    values = (value, value) if isinstance(value, (int, np.integer)) else value
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    if len(values) != 2:
        raise ValueError(f"{name} must be a positive integer or a pair of them. "
                         f"Received: {name}={value!r}")
    for single in values:
        if isinstance(single, bool) or not isinstance(single, (int, np.integer)) or single < 1:
            raise ValueError(f"{name} must be a positive integer or a pair of them. "
                             f"Received: {name}={value!r}")
    return int(values[0]), int(values[1])


def standardize_padding(padding):
    """'valid' or 'same' (any case), lower-cased; anything else is a ValueError."""
    if not isinstance(padding, str) or padding.lower() not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same'. Received: padding={padding!r}")
    return padding.lower()


def standardize_data_format(data_format):
    """Only channels last, (batch, height, width, channels), as Keras' default."""
    if data_format not in (None, "channels_last"):
        raise ValueError("nn supports data_format='channels_last' only, (batch, height, width, "
                         "channels); move the channel axis last with np.transpose(x, (0, 2, 3, "
                         f"1)). Received: data_format={data_format!r}")
    return "channels_last"


def image_geometry(layer, input_shape, window, strides, padding):
    """The output size ``(ho, wo)`` and the padding ``((top, bottom), (left, right))`` of a
    windowed layer on samples of ``input_shape = (h, w, c)``; a ValueError that says what to
    do for samples that are not images or are smaller than the window."""
    kind = type(layer).__name__
    if len(input_shape) != 3:
        hint = ""
        if len(input_shape) == 2:
            hint = (" Greyscale images such as MNIST's (n, 28, 28) need a channel axis: "
                    "x = np.expand_dims(x, -1) gives (n, 28, 28, 1).")
        raise ValueError(f"{kind} layer '{layer.name}' expects 4-D inputs (batch, height, "
                         f"width, channels); received samples of shape {tuple(input_shape)}."
                         + hint)
    pads = tuple(ops.same_padding(size, size_window, stride) if padding == "same" else (0, 0)
                 for size, size_window, stride in zip(input_shape[:2], window, strides))
    padded = tuple(size + sum(pad) for size, pad in zip(input_shape[:2], pads))
    if padded[0] < window[0] or padded[1] < window[1]:
        raise ValueError(f"{kind} layer '{layer.name}' has a {window[0]}x{window[1]} window, "
                         f"larger than its {padding}-padded input of {padded[0]}x{padded[1]} "
                         f"pixels (samples of shape {tuple(input_shape)}). Use a smaller window, "
                         "padding='same', or larger images.")
    out_shape = tuple(ops.output_size(size, size_window, stride, "valid")
                      for size, size_window, stride in zip(padded, window, strides))
    return out_shape, pads


class Conv2D(Layer):
    """A 2-D convolution: the same small dense layer applied to every patch of the image.

    ::

        forward:  cols = im2col(pad(x))              x: (n, h, w, c)   cols: (n*ho*wo, kh*kw*c)
                  z = cols K2 + b,  y = activation(z)   K2 = K.reshape(kh*kw*c, f)
                  K ('kernel'): (kh, kw, c, f)   b ('bias'): (f,)   y: (n, ho, wo, f)
        backward: dz = g * activation'(z), viewed as (n*ho*wo, f)
                  dK = cols^T dz,   db = sum of dz over n, ho, wo
                  dx = crop(col2im(dz K2^T))         (each patch's gradient added back in place;
                                                      nn.ops.conv2d_input_grad, offset by offset)

    y[m, p, q, k] = b[k] + sum over i, j, c of x[m, p sh + i, q sw + j, c] K[i, j, c, k], a
    cross-correlation (the kernel is not flipped), as in Keras and PyTorch. Per spatial axis,
    ho = floor((h - kh) / sh) + 1 for padding='valid'; 'same' gives ho = ceil(h / sh) by
    padding (ho - 1) sh + kh - h zeros, the odd one at the bottom (right), as TensorFlow.
    Glorot and He initializers see fan_in = kh*kw*c and fan_out = kh*kw*f, as in Keras.
    ``kernel_regularizer`` and ``bias_regularizer`` (``nn.regularizers``) add a penalty R(K)
    or R(b) to the loss, as on Dense.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = standardize_pair("kernel_size", kernel_size)
        self.strides = standardize_pair("strides", strides)
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.activation = activation
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.out_shape = self.pads = None  # (ho, wo) and ((top, bottom), (left, right)), by build
        self.cols = None  # forward's patches, which backward needs for dK = cols^T dz
        self.padded_shape = None  # the shape of the padded input the patches came from
        self._workspace = {}  # arrays reused from batch to batch (the patches, ones)

    @property
    def activation(self):
        """The activation layer applied after the convolution, or None for the identity."""
        return self._activation

    @activation.setter
    def activation(self, activation):
        self._activation = activations.get(activation)

    @property
    def output_activation(self):
        """The activation's name when the loss can absorb it ('softmax', 'sigmoid'), else None."""
        return getattr(self.activation, "output_activation", None)

    def build(self, input_shape, rng=None, dtype=None):
        self.out_shape, self.pads = image_geometry(self, input_shape, self.kernel_size,
                                                   self.strides, self.padding)
        super().build(input_shape, rng, dtype)
        kernel_shape = (*self.kernel_size, input_shape[2], self.filters)
        self.add_param("kernel", self.kernel_initializer(kernel_shape, self.rng, self.dtype),
                       regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.add_param("bias", self.bias_initializer((self.filters,), self.rng, self.dtype),
                           regularizer=self.bias_regularizer)

    def ensure_built(self, x):
        if x.ndim != 4:  # say what is wrong before the generic shape message
            image_geometry(self, x.shape[1:], self.kernel_size, self.strides, self.padding)
        super().ensure_built(x)

    def forward(self, x, training=False):
        logits = self.forward_logits(x, training)
        if self.activation is None:
            return logits
        return self.activation.forward(logits, out=logits)  # z is ours: activate in place

    def backward(self, grad_output):
        if self.activation is not None:
            grad_output = self.activation.backward(grad_output)
        return self.backward_logits(grad_output)

    def forward_logits(self, x, training=False):
        """The convolution alone, z = im2col(pad(x)) K2 + b, shaped (n, ho, wo, f)."""
        self.ensure_built(x)
        padded = ops.pad_images(x, self.pads)
        self.padded_shape = padded.shape
        size = x.shape[0] * math.prod(self.out_shape) * math.prod(self.kernel_size) * x.shape[3]
        self.cols = ops.im2col(padded, self.kernel_size, self.strides,
                               out=self._scratch("cols", size, x.dtype))
        z = self.cols @ self.params["kernel"].reshape(-1, self.filters)
        if self.use_bias:
            z += self.params["bias"]
        return z.reshape(x.shape[0], *self.out_shape, self.filters)

    def backward_logits(self, grad_output):
        """Gradients of the convolution, given dL/dz of shape (n, ho, wo, f)."""
        grad_z = grad_output.reshape(-1, self.filters)  # (n*ho*wo, f)
        kernel = self.params["kernel"].reshape(-1, self.filters)  # K2, a view
        np.matmul(self.cols.T, grad_z, out=self.grads["kernel"].reshape(kernel.shape))
        if self.use_bias:  # sum over the rows, as a product with ones (faster than np.sum)
            np.matmul(self._ones(grad_z.shape[0], grad_z.dtype), grad_z, out=self.grads["bias"])
        if not self.needs_input_grad:
            return None
        grad_padded = ops.conv2d_input_grad(grad_z, self.params["kernel"], self.padded_shape,
                                            self.strides)  # = col2im(dz K2^T)
        (top, _), (left, _) = self.pads
        height, width = self.input_shape[:2]
        return grad_padded[:, top:top + height, left:left + width, :]

    def compute_output_shape(self, input_shape):
        out_shape, _ = image_geometry(self, input_shape, self.kernel_size, self.strides,
                                      self.padding)
        return (*out_shape, self.filters)

    def _ones(self, size, dtype):
        """A vector of ``size`` ones, kept between batches."""
        ones = self._workspace.get("ones")
        if ones is None or ones.size < size or ones.dtype != dtype:
            ones = self._workspace["ones"] = np.ones(size, dtype)
        return ones[:size]

    def _scratch(self, key, size, dtype):
        """A flat array of ``size`` elements kept between batches (grown when too small)."""
        buffer = self._workspace.get(key)
        if buffer is None or buffer.size < size or buffer.dtype != dtype:
            buffer = self._workspace[key] = np.empty(size, dtype)
        return buffer[:size]

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": registry.serialize(self.kernel_initializer),
            "bias_initializer": registry.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
        }
