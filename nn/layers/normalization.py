"""Normalization layers: BatchNormalization and LayerNormalization.

Both standardize their input over some axes and then scale and shift it::

    xhat = (x - mean) / sqrt(var + epsilon),    y = gamma * xhat + beta

with the mean and the (biased) variance of x taken over some of its axes.  Batch
normalization takes them over the batch (and over height and width for images), per
feature or channel; layer normalization over each sample's features, per sample.
They share one backward pass: with N the number of values each statistic averages,
``dxhat = g * gamma`` and ``inv_std = 1 / sqrt(var + epsilon)``::

    dx = inv_std / N * (N * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))

the sums over the same axes as the statistics (``standardize_backward``).
"""
import math

import numpy as np

from .. import initializers, registry, regularizers
from .layer import Layer


def moments(x, axes):
    """The mean and the biased variance (the mean squared deviation) of x over ``axes``,
    keeping those axes with size 1 so that both broadcast against x."""
    mean = x.mean(axis=axes, keepdims=True)
    return mean, np.square(x - mean).mean(axis=axes, keepdims=True)


def standardize_backward(grad_xhat, xhat, inv_std, axes):
    """dL/dx given dL/dxhat, for xhat = (x - mean) inv_std with the statistics over ``axes``
    depending on x too: ``inv_std / N * (N dxhat - sum(dxhat) - xhat sum(dxhat xhat))``."""
    count = math.prod(xhat.shape[axis] for axis in axes)
    sum_grad = grad_xhat.sum(axis=axes, keepdims=True)
    sum_grad_xhat = (grad_xhat * xhat).sum(axis=axes, keepdims=True)
    return (inv_std / count) * (count * grad_xhat - sum_grad - xhat * sum_grad_xhat)


def _scale_and_shift(layer, xhat):
    """y = gamma xhat + beta (either left out when the layer's scale or center is False)."""
    y = xhat * layer.params["gamma"].reshape(layer.broadcast_shape) if layer.scale else xhat
    return y + layer.params["beta"].reshape(layer.broadcast_shape) if layer.center else y


def _backward_scale_and_shift(layer, grad_output, axes):
    """Write dgamma = sum(g xhat) and dbeta = sum(g) over ``axes``; return dxhat = g gamma."""
    if layer.center:
        np.sum(grad_output, axis=axes, out=layer.grads["beta"])
    if not layer.scale:
        return grad_output
    np.sum(grad_output * layer.xhat, axis=axes, out=layer.grads["gamma"])
    return grad_output * layer.params["gamma"].reshape(layer.broadcast_shape)


def _check_epsilon(layer, epsilon):
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.number)) \
            or not math.isfinite(epsilon) or epsilon < 0:
        raise ValueError(f"{layer} expects a finite epsilon >= 0. Received: epsilon={epsilon!r}")
    return float(epsilon)


def _check_axes(layer, axis, input_shape):
    """The axes ``axis`` names in a batch of samples of ``input_shape``, as non-negative
    indices into ``(n,) + input_shape``; never the batch axis 0."""
    rank = len(input_shape) + 1
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    if not axes or any(not -rank <= int(a) < rank or int(a) % rank == 0 for a in axes):
        shape = ", ".join(["batch", *map(str, input_shape)])
        raise ValueError(f"{layer} got axis={axis!r}, which inputs of shape ({shape}) do not "
                         f"have: expected 1 to {rank - 1} or -{rank - 1} to -1 (axis 0 is the "
                         "batch).")
    return tuple(sorted({int(a) % rank for a in axes}))


class BatchNormalization(Layer):
    """Batch normalization (Ioffe and Szegedy, 2015): each feature standardized over the batch.

    ::

        x: (n, features) or (n, h, w, channels), any rank; axis: the feature axis (-1)
        gamma, beta, moving_mean, moving_variance: (x.shape[axis],)
        forward (training):  mean, var over every axis but ``axis`` (var biased),
                             xhat = (x - mean) / sqrt(var + eps),  y = gamma xhat + beta
                             moving_mean <- momentum moving_mean + (1 - momentum) mean
                             moving_variance <- momentum moving_variance + (1 - momentum) var
        forward (inference): xhat = (x - moving_mean) / sqrt(moving_variance + eps),
                             y = gamma xhat + beta
        backward:            dgamma = sum(g xhat),  dbeta = sum(g),  dxhat = g gamma
                  training:  dx = inv_std / N (N dxhat - sum(dxhat) - xhat sum(dxhat xhat))
                  inference: dx = dxhat inv_std      (the statistics are constants)

    The sums run over the statistics' axes; N is the number of values per feature (n, or
    n h w for images).  The moving statistics live in ``state``: saved, listed by
    ``get_weights`` after gamma and beta (Keras' order), never trained.  Defaults as in
    Keras: axis=-1, momentum=0.99, epsilon=1e-3, center=True (beta), scale=True (gamma).
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"BatchNormalization expects an integer axis. Received: axis={axis!r}")
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.number)) \
                or not 0 <= momentum < 1:
            raise ValueError("BatchNormalization expects 0 <= momentum < 1. "
                             f"Received: momentum={momentum!r}")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = _check_epsilon("BatchNormalization", epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.xhat = self.inv_std = None  # forward's, for backward
        self.used_batch_statistics = False  # whether forward standardized by the batch's

    def build(self, input_shape, rng=None, dtype=None):
        (feature_axis,) = _check_axes(f"BatchNormalization '{self.name}'", self.axis, input_shape)
        super().build(input_shape, rng, dtype)
        #: The axes the statistics average over: all but the feature axis.
        self.reduction_axes = tuple(a for a in range(len(input_shape) + 1) if a != feature_axis)
        self.broadcast_shape = tuple(-1 if a == feature_axis else 1
                                     for a in range(len(input_shape) + 1))
        shape = (input_shape[feature_axis - 1],)
        if self.scale:
            self.add_param("gamma", self.gamma_initializer(shape, self.rng, self.dtype),
                           regularizer=self.gamma_regularizer)
        if self.center:
            self.add_param("beta", self.beta_initializer(shape, self.rng, self.dtype),
                           regularizer=self.beta_regularizer)
        self.state["moving_mean"] = self.moving_mean_initializer(shape, self.rng, self.dtype)
        self.state["moving_variance"] = self.moving_variance_initializer(shape, self.rng,
                                                                         self.dtype)

    def forward(self, x, training=False):
        self.ensure_built(x)
        self.used_batch_statistics = bool(training)
        if training:
            mean, variance = moments(x, self.reduction_axes)
            self._update_moving_statistics(mean, variance)
        else:
            mean = self.state["moving_mean"].reshape(self.broadcast_shape)
            variance = self.state["moving_variance"].reshape(self.broadcast_shape)
        self.inv_std = 1 / np.sqrt(variance + self.epsilon)
        self.xhat = (x - mean) * self.inv_std
        return _scale_and_shift(self, self.xhat)

    def backward(self, grad_output):
        grad_xhat = _backward_scale_and_shift(self, grad_output, self.reduction_axes)
        if not self.needs_input_grad:
            return None
        if self.used_batch_statistics:
            return standardize_backward(grad_xhat, self.xhat, self.inv_std, self.reduction_axes)
        return grad_xhat * self.inv_std

    def _update_moving_statistics(self, mean, variance):
        """moving <- momentum moving + (1 - momentum) batch statistic, in place."""
        for key, batch_value in (("moving_mean", mean), ("moving_variance", variance)):
            self.state[key] *= self.momentum
            self.state[key] += (1 - self.momentum) * batch_value.reshape(-1)

    def get_config(self):
        return {
            **super().get_config(), "axis": self.axis, "momentum": self.momentum,
            "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
            "beta_initializer": registry.serialize(self.beta_initializer),
            "gamma_initializer": registry.serialize(self.gamma_initializer),
            "moving_mean_initializer": registry.serialize(self.moving_mean_initializer),
            "moving_variance_initializer":
                registry.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
        }


class LayerNormalization(Layer):
    """Layer normalization (Ba, Kiros and Hinton, 2016): each sample standardized on its own.

    ::

        x: (n, features), or any rank; axis: the axis or axes normalized (-1)
        gamma, beta: the shape of x along ``axis``, e.g. (features,)
        forward:  mean, var of each sample over ``axis`` (var biased),
                  xhat = (x - mean) / sqrt(var + eps),   y = gamma xhat + beta
        backward: dgamma = sum over the other axes of g xhat,  dbeta = likewise of g,
                  dxhat = g gamma,
                  dx = inv_std / N (N dxhat - sum(dxhat) - xhat sum(dxhat xhat))

    with the last sums over ``axis`` and N the number of values each sample's statistics
    average.  No batch statistics, so training and inference compute the same function
    and there is nothing to keep in ``state``.  Defaults as in Keras: axis=-1,
    epsilon=1e-3, center=True, scale=True.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axis = list(axis)
        if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                   for a in (axis if isinstance(axis, list) else [axis])):
            raise TypeError("LayerNormalization expects an integer axis or a list of them. "
                            f"Received: axis={axis!r}")
        self.axis = axis if isinstance(axis, list) else int(axis)
        self.epsilon = _check_epsilon("LayerNormalization", epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.xhat = self.inv_std = None  # forward's, for backward

    def build(self, input_shape, rng=None, dtype=None):
        axes = _check_axes(f"LayerNormalization '{self.name}'", self.axis, input_shape)
        super().build(input_shape, rng, dtype)
        #: The axes each sample's statistics average over, and the other (batch) axes.
        self.normalized_axes = axes
        self.other_axes = tuple(a for a in range(len(input_shape) + 1) if a not in axes)
        self.broadcast_shape = tuple(input_shape[a - 1] if a in axes else 1
                                     for a in range(len(input_shape) + 1))
        shape = tuple(input_shape[a - 1] for a in axes)
        if self.scale:
            self.add_param("gamma", self.gamma_initializer(shape, self.rng, self.dtype),
                           regularizer=self.gamma_regularizer)
        if self.center:
            self.add_param("beta", self.beta_initializer(shape, self.rng, self.dtype),
                           regularizer=self.beta_regularizer)

    def forward(self, x, training=False):
        self.ensure_built(x)
        mean, variance = moments(x, self.normalized_axes)
        self.inv_std = 1 / np.sqrt(variance + self.epsilon)
        self.xhat = (x - mean) * self.inv_std
        return _scale_and_shift(self, self.xhat)

    def backward(self, grad_output):
        grad_xhat = _backward_scale_and_shift(self, grad_output, self.other_axes)
        if not self.needs_input_grad:
            return None
        return standardize_backward(grad_xhat, self.xhat, self.inv_std, self.normalized_axes)

    def get_config(self):
        return {
            **super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "beta_initializer": registry.serialize(self.beta_initializer),
            "gamma_initializer": registry.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
        }
