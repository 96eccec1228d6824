"""Activation functions, each a layer with its derivative beside it.

Every activation acts elementwise (softmax: along the last axis) and keeps what
its backward needs.  ``forward`` accepts ``out=`` so that a ``Dense`` layer can
apply its activation in place on the pre-activation array it owns.
"""
import numpy as np

from .layer import Layer


class ReLU(Layer):
    """Rectified linear unit.

    ::

        forward:  y = max(0, x)
        backward: dx = g * [y > 0]
    """

    alias = "relu"

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

    def __init__(self, alpha=0.3, negative_slope=None, **kwargs):
        super().__init__(**kwargs)
        if negative_slope is not None:  # Keras 3's name for alpha
            alpha = negative_slope
        if not 0 <= alpha < 1:
            raise ValueError(f"LeakyReLU expects 0 <= alpha < 1. Received: alpha={alpha}")
        self.alpha = float(alpha)

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


def sigmoid(x, out=None):
    """Numerically stable logistic function (no overflow for any finite x)."""
    exp_minus_abs = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.divide(np.where(x >= 0, 1.0, exp_minus_abs), 1.0 + exp_minus_abs, out=out)


def softmax(x, out=None):
    """Softmax along the last axis with the row maximum subtracted first."""
    out = np.subtract(x, np.max(x, axis=-1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= np.sum(out, axis=-1, keepdims=True)
    return out


_BY_ALIAS = {cls.alias: cls for cls in (ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, Linear)}


def serialize(activation):
    """The name of an activation with default settings, else ``{'class_name', 'config'}``."""
    if activation is None:
        return "linear"
    settings = {key: value for key, value in activation.get_config().items() if key != "name"}
    if not settings:
        return activation.alias
    return {"class_name": type(activation).__name__, "config": settings}


def get(identifier):
    """Resolve an activation: a name ('relu', ...), an activation layer, a ``serialize``
    dict, or None (identity).

    Returns a fresh activation layer, or None for the identity ('linear' or None).
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        classes = {cls.__name__: cls for cls in _BY_ALIAS.values()}
        if identifier.get("class_name") not in classes:
            raise ValueError(f"Unknown activation {identifier!r}. Expected one of: {', '.join(sorted(classes))}.")
        return classes[identifier["class_name"]](**identifier.get("config", {}))
    if isinstance(identifier, Layer):
        return None if isinstance(identifier, Linear) else identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _BY_ALIAS:
            return None if key == "linear" else _BY_ALIAS[key]()
        raise ValueError(
            f"Unknown activation {identifier!r}. Expected one of: {', '.join(map(repr, sorted(_BY_ALIAS)))}."
        )
    raise TypeError(f"Expected an activation name or layer. Received: {identifier!r}")
