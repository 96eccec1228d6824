"""The layers a model is built from.

Each layer states its shapes and math next to ``forward`` and ``backward``; the
activation layers live in ``nn.activations`` and are re-exported here.
"""
import numpy as np

from . import activations, initializers
from .activations import LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from .layer import Layer

__all__ = [
    "Layer", "Dense", "Flatten", "Dropout", "Activation",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Linear", "deserialize",
]


class Dense(Layer):
    """A fully connected layer: every output is a weighted sum of every input.

    ::

        forward:  z = x W + b,  y = activation(z)
                  x: (n, d_in)   W ('kernel'): (d_in, units)   b ('bias'): (units,)   y: (n, units)
        backward: dz = g * activation'(z)      (elementwise; softmax applies its Jacobian)
                  dW = x^T dz,   db = sum over the batch of dz,   dx = dz W^T
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense expects a positive integer number of units. Received: units={units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.output_activation = getattr(self.activation, "output_activation", None)

    def build(self, input_shape, rng=None, dtype=None):
        if len(input_shape) != 1:
            raise ValueError(
                f"Dense layer '{self.name}' expects inputs of shape (batch, features); "
                f"received samples of shape {tuple(input_shape)}. Add a Flatten layer before it."
            )
        super().build(input_shape, rng, dtype)
        fan_in = input_shape[0]
        self.params["kernel"] = self.kernel_initializer((fan_in, self.units), self.rng, self.dtype)
        self.grads["kernel"] = np.zeros_like(self.params["kernel"])
        if self.use_bias:
            self.params["bias"] = self.bias_initializer((self.units,), self.rng, self.dtype)
            self.grads["bias"] = np.zeros_like(self.params["bias"])

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
        self.inputs = x
        z = x @ self.params["kernel"]
        if self.use_bias:
            z += self.params["bias"]
        return z

    def backward_logits(self, grad_output):
        """Gradients of the affine part, given dL/dz."""
        np.matmul(self.inputs.T, grad_output, out=self.grads["kernel"])
        if self.use_bias:
            np.sum(grad_output, axis=0, out=self.grads["bias"])
        if self.needs_input_grad:
            return grad_output @ self.params["kernel"].T
        return None

    def output_shape(self, input_shape):
        return (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer.get_config(),
            "bias_initializer": self.bias_initializer.get_config(),
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

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)


class Dropout(Layer):
    """Inverted dropout: while training, zero each input with probability ``rate``.

    ::

        forward (training):  y = x * m / (1 - rate),   m_i ~ Bernoulli(1 - rate)
        forward (inference): y = x      (the 1 / (1 - rate) scaling already kept the mean)
        backward:            dx = g * m / (1 - rate)
    """

    uses_randomness = True

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout expects 0 <= rate < 1. Received: rate={rate}")
        self.rate = float(rate)

    def forward(self, x, training=False):
        self.ensure_built(x)
        if not training or self.rate == 0:
            self.scaled_mask = None
            return x
        keep = self.rng.random(x.shape, dtype=self.dtype) >= self.rate
        self.scaled_mask = keep.astype(self.dtype) / self.dtype.type(1 - self.rate)
        return x * self.scaled_mask

    def backward(self, grad_output):
        if self.scaled_mask is None:
            return grad_output
        return grad_output * self.scaled_mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


class Activation(Layer):
    """Applies an activation given by name, e.g. ``Activation('relu')``."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation) or Linear()
        self.output_activation = self.activation.output_activation

    def forward(self, x, training=False):
        return self.activation.forward(x, training)

    def backward(self, grad_output):
        return self.activation.backward(grad_output)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


_CLASSES = {cls.__name__: cls for cls in (Dense, Flatten, Dropout, Activation, ReLU, LeakyReLU, Sigmoid,
                                          Tanh, Softmax, Linear)}


def deserialize(spec):
    """Recreate a layer from ``{'class_name': ..., 'config': {...}}`` (what ``save`` writes)."""
    class_name = spec.get("class_name")
    if class_name not in _CLASSES:
        raise ValueError(f"Unknown layer class {class_name!r}. Expected one of: {', '.join(sorted(_CLASSES))}.")
    return _CLASSES[class_name](**spec.get("config", {}))
