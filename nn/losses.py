"""Loss functions: how wrong a batch of predictions is, and its gradient.

Each loss computes one value per sample, ``l_i``, and the base class ``Loss``
weighs and reduces them once, as Keras does::

    L = sum_i w_i l_i / n          reduction 'sum_over_batch_size' (the default)
    L = sum_i w_i l_i              reduction 'sum'
    l_i w_i                        reduction None or 'none' (the gradient is that of the sum)

with w_i the ``sample_weight`` (1 when none is given) and n the batch size.
Keras divides by n, not by the sum of the weights, so a weight of 2 counts a
sample twice and weights of 0 leave the divisor alone.

A sequence model that predicts at every step (outputs (n, T, k), labels (n, T))
has one loss per sample and step, ``l_it``, shape (n, T); as in Keras the
default reduction then divides their weighted sum by their number, n T, and a
sample's weight w_i applies to all its steps::

    L = sum_i sum_t w_i l_it / (n T)

A loss is called as ``loss.forward(y_true, y_pred, sample_weight=None)`` (a
Python float) and ``loss.backward()`` (dL/dy_pred, same shape as ``y_pred``).
Calling the loss object, ``loss(y_true, y_pred, sample_weight)``, also checks
the shapes, labels and weights first.

With ``from_logits=True`` the cross-entropies take the scores *before* the
softmax/sigmoid and compute log-probabilities with the log-sum-exp trick, so no
log(0) can appear however confident the network is; their gradient with respect
to the logits is the exact, stable (p - y) / n.  A model ending in softmax (or
sigmoid) compiled with the matching cross-entropy uses this path automatically
(see ``fused``).
"""
import numpy as np

from . import registry
from .ops import log_softmax, sigmoid

__all__ = [
    "Loss", "MeanSquaredError", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "EPSILON", "log_softmax", "fused", "get",
    "check_sample_weight",
]

# Probabilities are clipped to [EPSILON, 1 - EPSILON] before log when the loss is
# given probabilities (as Keras does); the from_logits path needs no clipping.
EPSILON = 1e-7

REDUCTIONS = ("sum_over_batch_size", "sum", "none", None)


class Loss(registry.Serializable, family="loss"):
    """Base class of the losses: sample weights, the reduction, input checks, configs.

    A subclass implements ``call(y_true, y_pred)``, the per-sample losses (shape
    ``(n,)``, or ``(n, T)`` for one loss per step), caching what its gradient needs,
    and ``gradient()``, the per-sample gradients d l_i / d y_pred (shape of ``y_pred``,
    a fresh array); the base class applies the weights and the reduction to both.
    """

    name = None

    def __init__(self, from_logits=False, reduction="sum_over_batch_size"):
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}. "
                             f"Received: reduction={reduction!r}")
        self.from_logits = bool(from_logits)
        self.reduction = reduction
        self.sample_weight = self.divisor = None  # of the last forward, for backward

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        self.check(y_true, y_pred.shape)
        return self.forward(y_true, y_pred, check_sample_weight(sample_weight, y_pred.shape[0]))

    def forward(self, y_true, y_pred, sample_weight=None):
        """The reduced loss of one batch (see the module docstring); caches for backward."""
        values = self.call(y_true, y_pred)
        self.sample_weight = sample_weight
        if sample_weight is not None:  # w_i for every value of sample i
            values = values * sample_weight.astype(values.dtype, copy=False).reshape(
                (-1,) + (1,) * (values.ndim - 1))
        if self.reduction in (None, "none"):
            self.divisor = 1
            return values
        if self.reduction == "sum":
            self.divisor = 1
            return float(np.sum(values))
        self.divisor = values.size  # the number of values: n, or n T
        return float(np.mean(values))

    def backward(self):
        """dL/dy_pred for the last ``forward``: each sample's gradient times w_i / n
        (w_i / (n T) for one loss per step)."""
        grad = self.gradient()
        if self.sample_weight is None:
            if self.divisor != 1:
                grad /= self.divisor
            return grad
        scale = (self.sample_weight / self.divisor).astype(grad.dtype, copy=False)
        grad *= scale.reshape((-1,) + (1,) * (grad.ndim - 1))
        return grad

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def gradient(self):
        raise NotImplementedError

    def check(self, y_true, output_shape):
        """Raise ValueError if ``y_true`` cannot be compared with outputs of ``output_shape``."""
        if y_true.shape[0] != output_shape[0]:
            raise ValueError(f"{self.name}: y_true has {y_true.shape[0]} rows but y_pred has "
                             f"{output_shape[0]}: they must match.")
        if np.prod(y_true.shape) != np.prod(output_shape):
            raise ValueError(f"{self.name}: y_true of shape {y_true.shape} does not match "
                             f"predictions of shape {output_shape}.")

    def get_config(self):
        return {"from_logits": self.from_logits, "reduction": self.reduction}


def check_sample_weight(sample_weight, n):
    """``sample_weight`` as a float64 array of shape (n,), or None; clear errors otherwise.

    Weights must be finite and non-negative, one per sample ((n,) or (n, 1)).
    """
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight)
    if weights.ndim == 2 and weights.shape[1] == 1:
        weights = weights[:, 0]
    if weights.ndim != 1 or weights.shape[0] != n:
        raise ValueError(f"sample_weight must hold one weight per sample, shape ({n},). "
                         f"Received shape {weights.shape}.")
    if not (np.issubdtype(weights.dtype, np.number) or weights.dtype == bool):
        raise TypeError(f"sample_weight must be numeric. Received dtype {weights.dtype}.")
    weights = weights.astype(np.float64)
    if not np.all(np.isfinite(weights)):
        raise ValueError("sample_weight must be finite. "
                         f"Received {weights[~np.isfinite(weights)][0]} "
                         f"at index {int(np.flatnonzero(~np.isfinite(weights))[0])}.")
    if np.any(weights < 0):
        raise ValueError(f"sample_weight must be non-negative. Received {weights[weights < 0][0]} "
                         f"at index {int(np.flatnonzero(weights < 0)[0])}.")
    return weights


class MeanSquaredError(Loss):
    """Mean squared error, for regression.

    ::

        l_i = 1/k sum_j (y_pred_ij - y_ij)^2                  y, y_pred: (n, k)
        d l_i / d y_pred_i = 2 (y_pred_i - y_i) / k
        L = 1/n sum_i l_i  (unweighted),  dL/dy_pred = 2 (y_pred - y) / (n k)
    """

    name = "mean_squared_error"
    aliases = ("mse",)

    def __init__(self, reduction="sum_over_batch_size"):
        super().__init__(from_logits=False, reduction=reduction)
        self.error = None  # y_pred - y, cached by call for the gradient

    def call(self, y_true, y_pred):
        self.error = y_pred - y_true.reshape(y_pred.shape).astype(y_pred.dtype, copy=False)
        return np.mean(self.error.reshape(self.error.shape[0], -1) ** 2, axis=1)

    def gradient(self):
        per_sample = int(np.prod(self.error.shape[1:]))  # k values per sample
        return self.error * (2.0 / per_sample)

    def get_config(self):
        return {"reduction": self.reduction}


class BinaryCrossentropy(Loss):
    """Cross-entropy of 0/1 labels and predicted probabilities of class 1.

    ::

        l_i = -1/k sum_j [y_ij log p_ij + (1 - y_ij) log(1 - p_ij)]    y, p: (n, k) or (n,)
        from probabilities: d l_i / d p_i = (p_i - y_i) / (p_i (1 - p_i)) / k
        from logits z, p = sigmoid(z):
            l_i = 1/k sum_j [max(z_ij, 0) - z_ij y_ij + log(1 + exp(-|z_ij|))]
            d l_i / d z_i = (p_i - y_i) / k          so unweighted, dL/dz = (p - y) / (n k)
    """

    name = "binary_crossentropy"

    def __init__(self, from_logits=False, reduction="sum_over_batch_size"):
        super().__init__(from_logits, reduction)
        self.y_true = self.probabilities = None  # cached by call for the gradient

    def check(self, y_true, output_shape):
        super().check(y_true, output_shape)
        if np.min(y_true) < 0 or np.max(y_true) > 1:
            raise ValueError(f"{self.name}: labels must lie in [0, 1]. Received values from "
                             f"{np.min(y_true)} to {np.max(y_true)}.")

    def call(self, y_true, y_pred):
        self.y_true = y_true.reshape(y_pred.shape).astype(y_pred.dtype, copy=False)
        y = self.y_true
        if self.from_logits:
            self.probabilities = sigmoid(y_pred)
            losses = np.maximum(y_pred, 0) - y_pred * y + np.log1p(np.exp(-np.abs(y_pred)))
        else:
            self.probabilities = np.clip(y_pred, EPSILON, 1 - EPSILON)
            p = self.probabilities
            losses = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        return np.mean(losses.reshape(losses.shape[0], -1), axis=1)

    def gradient(self):
        p, y = self.probabilities, self.y_true
        per_sample = int(np.prod(y.shape[1:]))  # k values per sample
        grad = p - y if self.from_logits else (p - y) / (p * (1 - p))
        if per_sample != 1:
            grad /= per_sample
        return grad


class CategoricalCrossentropy(Loss):
    """Cross-entropy of one-hot labels and predicted class probabilities.

    ::

        l_i = -sum_j y_ij log p_ij                          y, p: (n, k), y one-hot
        from probabilities: d l_i / d p_i = -y_i / p_i
        from logits z, p = softmax(z):
            log p_ij = z_ij - logsumexp_k(z_ik)             (no exp of a large number, no log 0)
            d l_i / d z_i = p_i - y_i                       so unweighted, dL/dz = (p - y) / n
    """

    name = "categorical_crossentropy"

    def __init__(self, from_logits=False, reduction="sum_over_batch_size"):
        super().__init__(from_logits, reduction)
        self.y_true = self.probabilities = None  # cached by call for the gradient

    def call(self, y_true, y_pred):
        self.y_true = y_true.astype(y_pred.dtype, copy=False)
        if self.from_logits:
            log_probabilities = log_softmax(y_pred)
            self.probabilities = np.exp(log_probabilities)
        else:
            self.probabilities = np.clip(y_pred, EPSILON, 1 - EPSILON)
            log_probabilities = np.log(self.probabilities)
        return -np.sum(self.y_true * log_probabilities, axis=-1)

    def gradient(self):
        if self.from_logits:
            return self.probabilities - self.y_true
        return -self.y_true / self.probabilities


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy of integer labels and predicted class probabilities.

    The same loss as CategoricalCrossentropy with y = one_hot(labels), without
    building the one-hot matrix:

    ::

        l_i = -log p_{i, y_i}                               y: (n,) ints in [0, k),  p: (n, k)
        from probabilities: d l_i / d p_ij = -[j = y_i] / p_ij
        from logits z: d l_i / d z_i = p_i - one_hot(y_i)   so unweighted, dL/dz = (p - Y) / n

    With a label per step, y: (n, T) and p: (n, T, k), the same holds for each of
    the n T (sample, step) pairs: l_it = -log p_{i, t, y_it}, and dL/dz = (p - Y) / (n T).
    """

    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False, reduction="sum_over_batch_size"):
        super().__init__(from_logits, reduction)
        self.labels = self.probabilities = None  # cached by call for the gradient

    def check(self, y_true, output_shape):
        output_shape = tuple(output_shape)
        if y_true.ndim == len(output_shape) and y_true.shape[-1] == 1:
            y_true = y_true[..., 0]
        if y_true.ndim and y_true.shape[0] != output_shape[0]:
            raise ValueError(f"{self.name}: y_true has {y_true.shape[0]} rows but y_pred has "
                             f"{output_shape[0]}: they must match.")
        if y_true.shape != output_shape[:-1]:
            expected = "(" + ", ".join(["n", *map(str, output_shape[1:-1])]) + ")"
            expected = "(n,)" if expected == "(n)" else expected
            hint = (" If the model should make one prediction per sample, its output has too "
                    "many axes: add a Flatten layer before the Dense layers."
                    if y_true.ndim < len(output_shape) - 1 else "")
            raise ValueError(f"{self.name}: expects integer labels of shape {expected}. Received "
                             f"shape {y_true.shape}; for one-hot labels use "
                             "'categorical_crossentropy'." + hint)
        if not np.issubdtype(y_true.dtype, np.integer) and not np.all(np.mod(y_true, 1) == 0):
            raise TypeError(f"{self.name}: labels must be integers. "
                            f"Received dtype {y_true.dtype}.")
        num_classes = output_shape[-1]
        low, high = np.min(y_true), np.max(y_true)
        if low < 0 or high >= num_classes:
            bad = low if low < 0 else high
            raise ValueError(f"{self.name}: labels must lie in [0, {num_classes}) for "
                             f"{num_classes} outputs. Received label {bad}.")

    def call(self, y_true, y_pred):
        # (..., 1): the index of each row's label along the class axis
        self.labels = y_true.reshape(y_pred.shape[:-1] + (1,)).astype(np.intp, copy=False)
        if self.from_logits:
            log_probabilities = log_softmax(y_pred)
            self.probabilities = np.exp(log_probabilities)
            return -np.take_along_axis(log_probabilities, self.labels, axis=-1)[..., 0]
        self.probabilities = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return -np.log(np.take_along_axis(self.probabilities, self.labels, axis=-1)[..., 0])

    def gradient(self):
        picked = np.take_along_axis(self.probabilities, self.labels, axis=-1)  # p at the labels
        if self.from_logits:
            grad = self.probabilities.copy()
            np.put_along_axis(grad, self.labels, picked - 1, axis=-1)
        else:
            grad = np.zeros_like(self.probabilities)
            np.put_along_axis(grad, self.labels, -1 / picked, axis=-1)
        return grad


# Which output activation each cross-entropy can absorb.
_FUSES_WITH = {
    BinaryCrossentropy: "sigmoid",
    CategoricalCrossentropy: "softmax",
    SparseCategoricalCrossentropy: "softmax",
}


def get(identifier):
    """Resolve a loss: a name ('mse', 'sparse_categorical_crossentropy', ...), an instance,
    or the ``{'class_name', 'config'}`` dict that a saved model stores."""
    return registry.get(identifier, "loss", Loss)


def fused(output_activation, loss):
    """The from-logits twin of ``loss`` if it can absorb ``output_activation``, else None.

    softmax followed by (sparse) categorical cross-entropy, or sigmoid followed by
    binary cross-entropy, is computed as one step from the logits: stable, and
    cheaper than the two backward passes it replaces.
    """
    absorbs = _FUSES_WITH.get(type(loss))
    if loss.from_logits or absorbs is None or absorbs != output_activation:
        return None
    return type(loss)(from_logits=True, reduction=loss.reduction)
