"""Activation functions, each a layer with its derivative beside it.

Every activation acts elementwise (softmax: along the last axis) and keeps what
its backward needs.  ``forward`` accepts ``out=`` so that a ``Dense`` layer can
apply its activation in place on the pre-activation array it owns.

Each activation layer has an ``alias``, the string that names it in
``Dense(activation=...)``; the aliases are read from the layer registry, so an
activation of your own with an ``alias`` resolves by name too.  The string may
stand for settings other than the class's defaults (``alias_config``): as in
Keras, ``activation="leaky_relu"`` means a negative slope of 0.2, while the
``LeakyReLU()`` layer's default is 0.3.
"""
import copy

import numpy as np

from . import registry
from .layers.layer import Layer
from .ops import sigmoid, softmax


class ReLU(Layer):
    """Rectified linear unit.

    ::

        forward:  y = max(0, x)
        backward: dx = g * [y > 0]
    """

    alias = "relu"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.output = None  # forward's result, which backward needs

    def forward(self, x, training=False, out=None):
        self.output = np.maximum(x, 0, out=out)
        return self.output

    def backward(self, grad_output):
        return np.multiply(grad_output, self.output > 0)


class LeakyReLU(Layer):
    """ReLU with a small slope ``alpha`` for negative inputs, so no unit is ever fully dead.

    ::

        forward:  y = x if x > 0 else alpha x
        backward: dx = g * slope,  slope = 1 if x > 0 else alpha
    """

    alias = "leaky_relu"
    # Keras's string activation 'leaky_relu' (keras.activations.leaky_relu) uses
    # negative_slope=0.2; its LeakyReLU layer defaults to 0.3. We follow both.
    alias_config = {"alpha": 0.2}

    def __init__(self, alpha=0.3, negative_slope=None, **kwargs):
        super().__init__(**kwargs)
        if negative_slope is not None:  # Keras 3's name for alpha
            alpha = negative_slope
        if not 0 <= alpha < 1:
            raise ValueError(f"LeakyReLU expects 0 <= alpha < 1. Received: alpha={alpha}")
        self.alpha = float(alpha)
        self.slope = self.output = None  # cached by forward for backward

    def forward(self, x, training=False, out=None):
        self.slope = np.where(x > 0, x.dtype.type(1), x.dtype.type(self.alpha))
        self.output = np.multiply(x, self.slope, out=out)
        return self.output

    def backward(self, grad_output):
        return grad_output * self.slope

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Sigmoid(Layer):
    """Logistic sigmoid, computed without overflow for any input.

    ::

        forward:  y = 1 / (1 + exp(-x)),  evaluated as exp(x) / (1 + exp(x)) for x < 0
                  so that exp never sees a large positive argument
        backward: dx = g * y (1 - y)
    """

    alias = "sigmoid"
    output_activation = "sigmoid"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.output = None  # forward's result, which backward needs

    def forward(self, x, training=False, out=None):
        self.output = sigmoid(x, out=out)
        return self.output

    def backward(self, grad_output):
        return grad_output * self.output * (1 - self.output)


class Tanh(Layer):
    """Hyperbolic tangent.

    ::

        forward:  y = tanh(x)
        backward: dx = g * (1 - y^2)
    """

    alias = "tanh"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.output = None  # forward's result, which backward needs

    def forward(self, x, training=False, out=None):
        self.output = np.tanh(x, out=out)
        return self.output

    def backward(self, grad_output):
        return grad_output * (1 - self.output**2)


class Softmax(Layer):
    """Softmax along the last axis: turns scores into probabilities that sum to 1.

    ::

        forward:  y_i = exp(x_i - max_j x_j) / sum_k exp(x_k - max_j x_j)
                  (subtracting the row maximum changes nothing mathematically and
                  keeps exp from overflowing)
        backward: dx = y * (g - sum_i g_i y_i)      (the Jacobian diag(y) - y y^T applied to g)
    """

    alias = "softmax"
    output_activation = "softmax"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.output = None  # forward's result, which backward needs

    def forward(self, x, training=False, out=None):
        self.output = softmax(x, out=out)
        return self.output

    def backward(self, grad_output):
        weighted = np.sum(grad_output * self.output, axis=-1, keepdims=True)
        return self.output * (grad_output - weighted)


class Linear(Layer):
    """The identity, y = x: what 'linear' (no activation) means."""

    alias = "linear"

    def forward(self, x, training=False, out=None):
        if out is not None and out is not x:
            out[...] = x
            return out
        return x

    def backward(self, grad_output):
        return grad_output


def _alias_config(cls):
    """The settings the alias string stands for (``{}``: the class's defaults)."""
    return dict(getattr(cls, "alias_config", {}))


def _by_alias():
    """Every registered activation layer, by alias ('relu', ...)."""
    return {cls.__dict__["alias"]: cls for cls in registry.registered("layer").values()
            if "alias" in cls.__dict__}


def serialize(activation):
    """The activation's alias when its settings are those the alias stands for
    (``alias_config``), else ``{'class_name', 'config'}``."""
    if activation is None:
        return "linear"
    settings = {key: value for key, value in activation.get_config().items() if key != "name"}
    if settings == _alias_config(type(activation)):
        return activation.alias
    return {"class_name": type(activation).__name__, "config": settings}


def get(identifier):
    """Resolve an activation: a name ('relu', ...), an activation layer, a ``serialize``
    dict, or None (identity).

    Returns an activation layer of the caller's own (an instance passed in is copied,
    so two layers given the same instance never share a cache), or None for the
    identity ('linear' or None).
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        activation = registry.deserialize(identifier, "layer")
        if "alias" not in type(activation).__dict__:
            raise ValueError(f"{identifier['class_name']!r} is a layer, not an activation. "
                             f"Expected one of: {', '.join(sorted(_by_alias()))}.")
        return activation
    if isinstance(identifier, Layer):
        return None if isinstance(identifier, Linear) else copy.copy(identifier)
    if isinstance(identifier, str):
        key = identifier.lower()
        classes = _by_alias()
        if key in classes:
            if key == "linear":
                return None
            return classes[key](**_alias_config(classes[key]))
        raise ValueError(f"Unknown activation {identifier!r}. "
                         f"Expected one of: {', '.join(map(repr, sorted(classes)))}.")
    raise TypeError(f"Expected an activation name or layer. Received: {identifier!r}")
