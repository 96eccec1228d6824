"""Loss functions: how wrong a batch of predictions is, and its gradient.

A loss is called as ``loss.forward(y_true, y_pred)`` (the mean over the batch, a
Python float) and ``loss.backward()`` (dL/dy_pred, same shape as ``y_pred``).
Calling the loss object, ``loss(y_true, y_pred)``, also checks the shapes and
labels first.

With ``from_logits=True`` the cross-entropies take the scores *before* the
softmax/sigmoid and compute log-probabilities with the log-sum-exp trick, so no
log(0) can appear however confident the network is; their gradient with respect
to the logits is the exact, stable (p - y) / n.  A model ending in softmax (or
sigmoid) compiled with the matching cross-entropy uses this path automatically
(see ``fused``).
"""
import numpy as np

from .activations import sigmoid

# Probabilities are clipped to [EPSILON, 1 - EPSILON] before log when the loss is
# given probabilities (as Keras does); the from_logits path needs no clipping.
EPSILON = 1e-7


class Loss:
    """Base class of the losses: ``from_logits``, input checks and serialisation."""

    name = None

    def __init__(self, from_logits=False):
        self.from_logits = bool(from_logits)

    def __call__(self, y_true, y_pred):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        self.check(y_true, y_pred.shape)
        return self.forward(y_true, y_pred)

    def check(self, y_true, output_shape):
        """Raise ValueError if ``y_true`` cannot be compared with outputs of ``output_shape``."""
        if y_true.shape[0] != output_shape[0]:
            raise ValueError(f"{self.name}: y_true has {y_true.shape[0]} rows but y_pred has {output_shape[0]}.")
        if np.prod(y_true.shape) != np.prod(output_shape):
            raise ValueError(
                f"{self.name}: y_true of shape {y_true.shape} does not match predictions of shape {output_shape}."
            )

    def get_config(self):
        return {"class_name": type(self).__name__, "config": {"from_logits": self.from_logits}}


class MeanSquaredError(Loss):
    """Mean squared error, for regression.

    ::

        L = 1/(n k) sum_i sum_j (y_pred_ij - y_ij)^2          y, y_pred: (n, k)
        dL/dy_pred = 2 (y_pred - y) / (n k)
    """

    name = "mean_squared_error"

    def __init__(self):
        super().__init__(from_logits=False)

    def forward(self, y_true, y_pred):
        self.error = y_pred - y_true.reshape(y_pred.shape).astype(y_pred.dtype, copy=False)
        return float(np.mean(self.error**2))

    def backward(self):
        return self.error * (2.0 / self.error.size)

    def get_config(self):
        return {"class_name": type(self).__name__, "config": {}}


class BinaryCrossentropy(Loss):
    """Cross-entropy of 0/1 labels and predicted probabilities of class 1.

    ::

        L = -1/n sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)]        y, p: (n, 1) or (n,)
        from probabilities: dL/dp = (p - y) / (p (1 - p)) / n
        from logits z, p = sigmoid(z):
            L = 1/n sum_i [max(z_i, 0) - z_i y_i + log(1 + exp(-|z_i|))]
            dL/dz = (p - y) / n
    """

    name = "binary_crossentropy"

    def check(self, y_true, output_shape):
        super().check(y_true, output_shape)
        if np.min(y_true) < 0 or np.max(y_true) > 1:
            raise ValueError(f"{self.name}: labels must lie in [0, 1]. Received values from "
                             f"{np.min(y_true)} to {np.max(y_true)}.")

    def forward(self, y_true, y_pred):
        self.y_true = y_true.reshape(y_pred.shape).astype(y_pred.dtype, copy=False)
        if self.from_logits:
            self.probabilities = sigmoid(y_pred)
            losses = np.maximum(y_pred, 0) - y_pred * self.y_true + np.log1p(np.exp(-np.abs(y_pred)))
        else:
            self.probabilities = np.clip(y_pred, EPSILON, 1 - EPSILON)
            p = self.probabilities
            losses = -(self.y_true * np.log(p) + (1 - self.y_true) * np.log(1 - p))
        return float(np.mean(losses))

    def backward(self):
        p, y, n = self.probabilities, self.y_true, self.y_true.size
        if self.from_logits:
            return (p - y) / n
        return (p - y) / (p * (1 - p)) / n


class CategoricalCrossentropy(Loss):
    """Cross-entropy of one-hot labels and predicted class probabilities.

    ::

        L = -1/n sum_i sum_j y_ij log p_ij                  y, p: (n, k), y one-hot
        from probabilities: dL/dp = -y / p / n
        from logits z, p = softmax(z):
            log p_ij = z_ij - logsumexp_k(z_ik)             (no exp of a large number, no log 0)
            dL/dz = (p - y) / n
    """

    name = "categorical_crossentropy"

    def forward(self, y_true, y_pred):
        self.y_true = y_true.astype(y_pred.dtype, copy=False)
        if self.from_logits:
            log_probabilities = log_softmax(y_pred)
            self.probabilities = np.exp(log_probabilities)
        else:
            self.probabilities = np.clip(y_pred, EPSILON, 1 - EPSILON)
            log_probabilities = np.log(self.probabilities)
        return float(-np.sum(self.y_true * log_probabilities) / y_pred.shape[0])

    def backward(self):
        n = self.probabilities.shape[0]
        if self.from_logits:
            grad = self.probabilities - self.y_true
            grad /= n
            return grad
        return -self.y_true / self.probabilities / n


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy of integer labels and predicted class probabilities.

    The same loss as CategoricalCrossentropy with y = one_hot(labels), without
    building the one-hot matrix:

    ::

        L = -1/n sum_i log p_{i, y_i}                       y: (n,) ints in [0, k),  p: (n, k)
        from probabilities: dL/dp_ij = -[j = y_i] / p_ij / n
        from logits z: dL/dz = (p - one_hot(y)) / n
    """

    name = "sparse_categorical_crossentropy"

    def check(self, y_true, output_shape):
        if y_true.ndim == 2 and y_true.shape[1] == 1:
            y_true = y_true[:, 0]
        if y_true.ndim != 1:
            raise ValueError(f"{self.name}: expects integer labels of shape (n,). Received shape {y_true.shape}; "
                             "for one-hot labels use 'categorical_crossentropy'.")
        if y_true.shape[0] != output_shape[0]:
            raise ValueError(f"{self.name}: y_true has {y_true.shape[0]} rows but y_pred has {output_shape[0]}.")
        if not np.issubdtype(y_true.dtype, np.integer) and not np.all(np.mod(y_true, 1) == 0):
            raise TypeError(f"{self.name}: labels must be integers. Received dtype {y_true.dtype}.")
        num_classes = output_shape[-1]
        low, high = np.min(y_true), np.max(y_true)
        if low < 0 or high >= num_classes:
            bad = low if low < 0 else high
            raise ValueError(f"{self.name}: labels must lie in [0, {num_classes}) for {num_classes} outputs. "
                             f"Received label {bad}.")

    def forward(self, y_true, y_pred):
        self.labels = y_true.reshape(-1).astype(np.intp, copy=False)
        rows = np.arange(y_pred.shape[0])
        if self.from_logits:
            log_probabilities = log_softmax(y_pred)
            self.probabilities = np.exp(log_probabilities)
            log_probabilities = log_probabilities[rows, self.labels]
        else:
            self.probabilities = np.clip(y_pred, EPSILON, 1 - EPSILON)
            log_probabilities = np.log(self.probabilities[rows, self.labels])
        return float(-np.mean(log_probabilities))

    def backward(self):
        n = self.probabilities.shape[0]
        rows = np.arange(n)
        if self.from_logits:
            grad = self.probabilities.copy()
            grad[rows, self.labels] -= 1
        else:
            grad = np.zeros_like(self.probabilities)
            grad[rows, self.labels] = -1 / self.probabilities[rows, self.labels]
        grad /= n
        return grad


def log_softmax(logits):
    """log softmax(z) = z - logsumexp(z), with the row maximum subtracted first."""
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


_BY_NAME = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_BY_CLASS_NAME = {cls.__name__: cls for cls in set(_BY_NAME.values())}

# Which output activation each cross-entropy can absorb.
_FUSES_WITH = {
    "binary_crossentropy": "sigmoid",
    "categorical_crossentropy": "softmax",
    "sparse_categorical_crossentropy": "softmax",
}


def get(identifier):
    """Resolve a loss: a name ('mse', 'sparse_categorical_crossentropy', ...), an instance,
    or the ``{'class_name', 'config'}`` dict that a saved model stores."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in _BY_NAME:
            return _BY_NAME[identifier.lower()]()
        raise ValueError(f"Unknown loss {identifier!r}. Expected one of: {', '.join(map(repr, sorted(_BY_NAME)))}.")
    if isinstance(identifier, dict) and identifier.get("class_name") in _BY_CLASS_NAME:
        return _BY_CLASS_NAME[identifier["class_name"]](**identifier.get("config", {}))
    raise TypeError(f"Expected a loss name or Loss instance. Received: {identifier!r}")


def fused(output_activation, loss):
    """The from-logits twin of ``loss`` if it can absorb ``output_activation``, else None.

    softmax followed by (sparse) categorical cross-entropy, or sigmoid followed by
    binary cross-entropy, is computed as one step from the logits: stable, and
    cheaper than the two backward passes it replaces.
    """
    absorbs = _FUSES_WITH.get(loss.name)
    if loss.from_logits or absorbs is None or absorbs != output_activation:
        return None
    return type(loss)(from_logits=True)
