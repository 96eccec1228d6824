"""Mini-batches, train/validation splits, one-hot labels and small seeded toy datasets.

Everything takes and returns plain NumPy arrays: features ``x`` with one row per
sample and labels ``y`` with one entry (or row) per sample.
"""
import numpy as np

from .checks import check_positive_int, check_same_rows


def batches(x, y=None, batch_size=32, shuffle=False, rng=None, sample_weight=None):
    """Split a dataset into mini-batches, one pass (epoch) per call.

    x: (n, ...)   y: (n, ...) or None   sample_weight: (n,) or None
    yields (x_batch, y_batch) with x_batch: (batch_size, ...), y_batch: (batch_size, ...),
    or just x_batch when y is None, or (x_batch, y_batch, weight_batch) when sample_weight
    is given. The last batch holds the n % batch_size rows left over. This is the one
    batching helper: ``fit``, ``evaluate`` and ``predict`` all iterate it.

    With shuffle=True the rows come in the order of one permutation drawn from rng
    (a numpy Generator, or an int seed; None means a fresh unseeded Generator), so every
    row appears exactly once per call. Batches are copies: changing one leaves x and y as
    they were.
    """
    arrays = [np.asarray(x)]
    for name, array in (("y", y), ("sample_weight", sample_weight)):
        if array is not None:
            arrays.append(np.asarray(array))
            check_same_rows(arrays[0], arrays[-1], "x", name)
    if sample_weight is not None and y is None:
        raise ValueError("batches: sample_weight needs y as well.")
    check_positive_int("batch_size", batch_size)
    n = len(arrays[0])
    order = np.random.default_rng(rng).permutation(n) if shuffle else np.arange(n)
    # The checks above run at the call; the generator below runs only when iterated.
    return _generate_batches(arrays, order, batch_size)


def _generate_batches(arrays, order, batch_size):
    for start in range(0, len(order), batch_size):
        indices = order[start:start + batch_size]
        batch = tuple(np.take(array, indices, axis=0) for array in arrays)
        yield batch[0] if len(batch) == 1 else batch


def train_validation_split(x, y, validation_fraction=0.2, shuffle=True, rng=None):
    """Hold out part of a dataset to measure how well a model generalises.

    x: (n, ...)   y: (n, ...)
    returns (x_train, y_train), (x_val, y_val), with round(n * validation_fraction)
    validation rows and the rest for training.

    With shuffle=True the rows are first permuted with rng (a Generator or an int seed).
    With shuffle=False the validation set is the *last* rows, as Keras's
    ``validation_split`` does, so shuffle first if the rows are sorted (by class, say).
    """
    x, y = np.asarray(x), np.asarray(y)
    check_same_rows(x, y)
    if not 0 < validation_fraction < 1:
        raise ValueError("validation_fraction must be between 0 and 1 (exclusive). "
                         f"Received: validation_fraction={validation_fraction!r}")
    n_validation = round(len(x) * validation_fraction)
    if not 0 < n_validation < len(x):
        raise ValueError(f"validation_fraction={validation_fraction!r} of {len(x)} samples "
                         f"gives {n_validation} validation samples; both parts must be non-empty")
    order = np.random.default_rng(rng).permutation(len(x)) if shuffle else np.arange(len(x))
    train, validation = order[:-n_validation], order[-n_validation:]
    return ((np.take(x, train, axis=0), np.take(y, train, axis=0)),
            (np.take(x, validation, axis=0), np.take(y, validation, axis=0)))


def one_hot(labels, num_classes=None, dtype=np.float32):
    """Turn integer class labels into one-hot rows, the targets of a softmax output.

    labels: (n,) integers in [0, num_classes)   returns: (n, num_classes) of dtype
    (any shape of labels works: a class axis is appended).
    num_classes defaults to labels.max() + 1.
    Example: one_hot([2, 0], 3) -> [[0, 0, 1], [1, 0, 0]]
    """
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integers. Received: labels of dtype {labels.dtype}")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    else:
        check_positive_int("num_classes", num_classes)
    outside = (labels < 0) | (labels >= num_classes)
    if outside.any():
        raise ValueError(f"label {labels[outside][0]} is outside the range "
                         f"[0, {num_classes}) for num_classes={num_classes}")
    return np.eye(num_classes, dtype=dtype)[labels]


# Toy datasets. Each returns x: (n_samples, d) float32 and labels y, and draws all its
# randomness from rng (a numpy Generator or an int seed), so a seed fixes the data.

_GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
_GATE_OUTPUTS = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "xor": [0, 1, 1, 0],
    "nand": [1, 1, 1, 0],
}


def logic_gate(name):
    """The truth table of a two-input logic gate: the smallest classification problem.

    name: 'and', 'or', 'xor' or 'nand'. XOR is the one no linear model can learn.
    returns x: (4, 2) float32, the inputs 00, 01, 10, 11, and y: (4,) int64, the outputs.
    """
    if name not in _GATE_OUTPUTS:
        valid = ", ".join(repr(gate) for gate in _GATE_OUTPUTS)
        raise ValueError(f"Unknown logic gate: {name!r}. Valid names: {valid}")
    return _GATE_INPUTS.copy(), np.array(_GATE_OUTPUTS[name], dtype=np.int64)


def xor(n_samples=200, noise=0.1, rng=None):
    """Noisy points around the four corners of the XOR truth table, for a 2-D boundary plot.

    returns x: (n_samples, 2) float32, the corners (0, 0), (0, 1), (1, 0), (1, 1) plus
    Gaussian noise of standard deviation `noise`, and y: (n_samples,) int64, the XOR of
    the corner's two bits. Each corner is used equally often (give or take one), in
    random order.
    """
    _check_toy_arguments(n_samples, noise)
    rng = np.random.default_rng(rng)
    corners, labels = logic_gate("xor")
    corner = rng.permutation(np.arange(n_samples) % 4)
    x = corners[corner] + noise * rng.standard_normal((n_samples, 2))
    return x.astype(np.float32), labels[corner]


def two_moons(n_samples=200, noise=0.1, rng=None):
    """Two interleaving half circles (like scikit-learn's make_moons): not linearly separable.

    returns x: (n_samples, 2) float32 and y: (n_samples,) int64 in {0, 1}, balanced
    (give or take one) and in random order.
    Class 0 lies on the upper half of the unit circle centred at (0, 0), class 1 on the
    lower half of the unit circle centred at (1, 0.5); then Gaussian noise of standard
    deviation `noise` is added to both coordinates.
    """
    _check_toy_arguments(n_samples, noise)
    rng = np.random.default_rng(rng)
    y = rng.permutation(np.arange(n_samples, dtype=np.int64) % 2)
    angle = rng.uniform(0, np.pi, n_samples)
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    lower = np.array([1.0, 0.5]) - upper
    x = np.where(y[:, None] == 0, upper, lower) + noise * rng.standard_normal((n_samples, 2))
    return x.astype(np.float32), y


def spirals(n_samples=300, n_classes=3, noise=0.2, rng=None):
    """Spiral arms, one per class, wound into each other (the CS231n toy set).

    returns x: (n_samples, 2) float32 inside the unit disc and y: (n_samples,) int64 in
    [0, n_classes), balanced (give or take one) and in random order.
    A point of class k at radius r (uniform in [0, 1]) sits at the angle::

        4 r + 2 pi k / n_classes + noise * N(0, 1)        (radians)

    so the arms start evenly spaced; n_classes=2 gives the classic two-spirals problem.
    """
    _check_toy_arguments(n_samples, noise)
    check_positive_int("n_classes", n_classes)
    rng = np.random.default_rng(rng)
    y = rng.permutation(np.arange(n_samples, dtype=np.int64) % n_classes)
    radius = rng.uniform(0, 1, n_samples)
    angle = 4 * radius + 2 * np.pi * y / n_classes + noise * rng.standard_normal(n_samples)
    x = radius[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1)
    return x.astype(np.float32), y


def regression_1d(n_samples=100, noise=0.1, rng=None, function=np.sin):
    """Noisy samples of a function of one variable, for fitting a curve.

    returns x: (n_samples, 1) float32, uniform in [-pi, pi] (unsorted; sort before
    drawing a line), and y: (n_samples, 1) float32, function(x) plus Gaussian noise of
    standard deviation `noise`.
    """
    _check_toy_arguments(n_samples, noise)
    rng = np.random.default_rng(rng)
    x = rng.uniform(-np.pi, np.pi, (n_samples, 1))
    y = function(x) + noise * rng.standard_normal((n_samples, 1))
    return x.astype(np.float32), y.astype(np.float32)


def _check_toy_arguments(n_samples, noise):
    check_positive_int("n_samples", n_samples)
    if not noise >= 0:
        raise ValueError(f"noise must be a non-negative number. Received: noise={noise!r}")
