"""The core layers: Dense, Flatten, Reshape, Activation, and the model's Input.

Each layer states its shapes and math next to ``forward`` and ``backward``.
"""
import numpy as np

from .. import activations, initializers, registry, regularizers
from ..activations import Linear
from ..checks import check_positive_int
from .layer import Layer
class Dense(Layer):
    """A fully connected layer: every output is a weighted sum of every input.

    ::

        forward:  z = x W + b,  y = activation(z)
                  x: (n, d_in)   W ('kernel'): (d_in, units)   b ('bias'): (units,)   y: (n, units)
        backward: dz = g * activation'(z)      (elementwise; softmax applies its Jacobian)
                  dW = x^T dz,   db = sum over the batch of dz,   dx = dz W^T

    On inputs with more axes, (n, ..., d_in), the layer acts on the last one, as in Keras:
    every position (each time step of a sequence, say) is one more row of x, so the output
    is (n, ..., units) and dW, db sum over all the rows.

    ``kernel_regularizer`` and ``bias_regularizer`` (``nn.regularizers``, e.g. ``'l2'``) add
    a penalty R(W) or R(b) to the loss; the model adds dR/dW to dW after ``backward``.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.activation = activation
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.inputs = None  # forward's input x, which backward needs for dW = x^T dz

    @property
    def activation(self):
        """The activation layer applied after x W + b, or None for the identity."""
        return self._activation

    @activation.setter
    def activation(self, activation):
        self._activation = activations.get(activation)

    @property
    def output_activation(self):
        """The activation's name when the loss can absorb it ('softmax', 'sigmoid'), else None."""
        return getattr(self.activation, "output_activation", None)

    def build(self, input_shape, rng=None, dtype=None):
        if len(input_shape) == 0:
            raise ValueError(
                f"Dense layer '{self.name}' expects inputs of shape (batch, features); "
                "received one number per sample. Reshape x to (batch, 1).")
        super().build(input_shape, rng, dtype)
        fan_in = input_shape[-1]
        self.add_param("kernel",
                       self.kernel_initializer((fan_in, self.units), self.rng, self.dtype),
                       regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.add_param("bias", self.bias_initializer((self.units,), self.rng, self.dtype),
                           regularizer=self.bias_regularizer)

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
        """The affine part alone, z = x W + b (what a fused softmax loss takes)."""
        self.ensure_built(x)
        self.inputs = x.reshape(-1, x.shape[-1])  # rows: samples (and positions)
        z = self.inputs @ self.params["kernel"]
        if self.use_bias:
            z += self.params["bias"]
        return z.reshape(x.shape[:-1] + (self.units,))

    def backward_logits(self, grad_output):
        """Gradients of the affine part, given dL/dz."""
        grad_rows = grad_output.reshape(-1, self.units)
        np.matmul(self.inputs.T, grad_rows, out=self.grads["kernel"])
        if self.use_bias:
            np.sum(grad_rows, axis=0, out=self.grads["bias"])
        if self.needs_input_grad:
            return (grad_rows @ self.params["kernel"].T).reshape(
                grad_output.shape[:-1] + (self.inputs.shape[1],))
        return None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": registry.serialize(self.kernel_initializer),
            "bias_initializer": registry.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
        }


class Flatten(Layer):
    """Flattens each sample into a vector; no parameters.

    ::

        forward:  (n, d_1, ..., d_k) -> (n, d_1 * ... * d_k)     (a view, no copy)
        backward: reshape the gradient back to (n, d_1, ..., d_k)
    """

    def forward(self, x, training=False):
        self.ensure_built(x)
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_output):
        return grad_output.reshape((grad_output.shape[0],) + self.input_shape)

    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)


class Reshape(Layer):
    """Reshapes each sample to ``target_shape``; one entry may be -1 (inferred). No parameters.

    ::

        forward:  (n, *input_shape) -> (n, *target_shape)     (a view when x is contiguous)
        backward: reshape the gradient back to (n, *input_shape)

    ``target_shape`` excludes the batch axis, as in Keras: ``Reshape((28, 28, 1))``.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, (int, np.integer)):
            target = (target_shape,)
        else:
            target = tuple(target_shape) if isinstance(target_shape, (tuple, list)) else ()
        if not target or target.count(-1) > 1 or not all(
                isinstance(size, (int, np.integer)) and not isinstance(size, bool)
                and (size > 0 or size == -1) for size in target):
            raise ValueError("Reshape expects target_shape as positive integers, one of which "
                             "may be -1 (inferred), without the batch axis. "
                             f"Received: target_shape={target_shape!r}")
        self.target_shape = tuple(int(size) for size in target)

    def forward(self, x, training=False):
        self.ensure_built(x)
        return x.reshape((x.shape[0],) + self.output_shape)

    def backward(self, grad_output):
        return grad_output.reshape((grad_output.shape[0],) + self.input_shape)

    def compute_output_shape(self, input_shape):
        size = int(np.prod(input_shape))
        known = int(np.prod([dim for dim in self.target_shape if dim != -1]))
        if -1 in self.target_shape and size % known == 0:
            return tuple(size // known if dim == -1 else dim for dim in self.target_shape)
        if -1 not in self.target_shape and size == known:
            return self.target_shape
        raise ValueError(f"Reshape layer '{self.name}' cannot reshape samples of shape "
                         f"{tuple(input_shape)} ({size} values) to {self.target_shape}.")

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Activation(Layer):
    """Applies an activation given by name, e.g. ``Activation('relu')``."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activation

    @property
    def activation(self):
        """The activation layer this layer applies (Linear for the identity)."""
        return self._activation

    @activation.setter
    def activation(self, activation):
        self._activation = activations.get(activation) or Linear()

    @property
    def output_activation(self):
        return self.activation.output_activation

    def forward(self, x, training=False):
        return self.activation.forward(x, training)

    def backward(self, grad_output):
        return self.activation.backward(grad_output)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class InputLayer(Layer):
    """The model's input: declares one sample's shape (and dtype); passes ``x`` through.

    Made by ``nn.Input(shape)``, as ``keras.Input``; a ``Sequential`` given one as
    its first element takes the input shape from it and, like Keras, does not list
    it in ``model.layers``.
    """

    def __init__(self, shape=None, dtype=None, name=None, input_shape=None):
        shape = input_shape if shape is None else shape
        if shape is None:
            raise ValueError("Input needs the shape of one sample, e.g. nn.Input(shape=(784,)).")
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        if not shape or not all(isinstance(size, (int, np.integer)) and not isinstance(size, bool)
                                and size > 0 for size in shape):
            raise ValueError("Input expects the shape of one sample (no batch axis) as positive "
                             f"integers, e.g. shape=(28, 28). Received: shape={shape!r}")
        super().__init__(name=name, input_shape=shape)
        try:
            self.input_dtype = None if dtype is None else np.dtype(dtype)
        except TypeError:
            raise TypeError(f"Input expects a NumPy dtype. Received: dtype={dtype!r}") from None

    def forward(self, x, training=False):
        return x

    def backward(self, grad_output):
        return grad_output

    def get_config(self):
        config_ = {"name": self.name, "shape": list(self.input_shape)}
        if self.input_dtype is not None:
            config_["dtype"] = self.input_dtype.name
        return config_


def Input(shape=None, dtype=None, name=None):  # noqa: N802 (Keras' name for a factory)
    """The input of a model, ``nn.Input(shape=(28, 28))``, as ``keras.Input``.

    shape: one sample's shape, without the batch axis.  dtype: the dtype inputs are
    given to the first layer in (default: the model's float dtype).
    """
    return InputLayer(shape=shape, dtype=dtype, name=name)
