"""Metrics: numbers that say how good predictions are, for people rather than for gradients.

Accuracy functions take ``(y_true, y_pred)`` as a model sees them (labels or one-hot
targets, and scores or probabilities) and return a Python float. The confusion matrix
and the per-class scores take integer labels for both arguments: pass
``y_pred.argmax(axis=1)`` rather than the scores.
"""
import numpy as np

from .checks import check_positive_int, check_same_rows

_AVERAGES = ("macro", None)


# --- checking inputs -----------------------------------------------------------


def _check_rows(y_true, y_pred):
    check_same_rows(y_true, y_pred, "y_true", "y_pred")
    if len(y_true) == 0:
        raise ValueError("Accuracy needs at least one sample. Received empty y_true and y_pred.")


def _as_vector(values, name):
    """(n,) or (n, 1) -> (n,)."""
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"{name} must have shape (n,) or (n, 1). "
                         f"Received: {name}.shape={values.shape}")
    return values


def _as_scores(values, name):
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n, k), one column per class. "
            f"Received: {name}.shape={values.shape}"
        )
    return values


def _as_labels(values, name):
    """Integer class labels of shape (n,), from any integer, bool or whole-valued float array."""
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] > 1:
        raise ValueError(
            f"{name} must hold integer class labels of shape (n,), not scores of shape "
            f"{values.shape}. Pass {name}.argmax(axis=1)."
        )
    values = _as_vector(values, name)
    if values.dtype.kind == "f" and np.array_equal(values, np.round(values)):
        values = values.astype(np.int64)
    if values.dtype.kind not in "iub":
        raise ValueError(
            f"{name} must hold integer class labels (use y_pred.argmax(axis=1) for scores). "
            f"Received dtype {values.dtype}."
        )
    return values.astype(np.int64, copy=False)


def _check_range(labels, name, num_classes):
    if labels.size == 0:
        return
    low, high = labels.min(), labels.max()
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        raise ValueError(
            f"{name} contains label {bad}, outside the range [0, {num_classes}) "
            f"for num_classes={num_classes}."
        )


def _check_average(average):
    if average not in _AVERAGES:
        raise ValueError(f"average must be 'macro' or None. Received: average={average!r}")


# --- accuracy ------------------------------------------------------------------


def _mean(correct, sample_weight):
    """The mean of per-sample values, or their weighted mean sum(w v) / sum(w) (as Keras's
    metrics weigh); 0 when every weight is 0."""
    if sample_weight is None:
        return float(np.mean(correct))
    if correct.ndim > 1:  # one value per step (n, T): each sample's mean, as Keras reduces
        correct = correct.reshape(len(correct), -1).mean(axis=1)
    weights = _as_vector(sample_weight, "sample_weight")
    check_same_rows(weights, correct, "sample_weight", "y_true")
    total = float(np.sum(weights))
    return float(np.sum(weights * correct) / total) if total else 0.0


def sparse_categorical_accuracy(y_true, y_pred, sample_weight=None):
    """Fraction of samples whose highest score is at the true label.

    y_true: (n,) or (n, 1) integer labels    y_pred: (n, k) scores or probabilities
    accuracy = mean_i [argmax_j y_pred[i, j] == y_true[i]]
    (with sample_weight w: sum_i w_i [...] / sum_i w_i, here and in every accuracy)

    With a label per step, y_true: (n, T) and y_pred: (n, T, k), it is the fraction of
    the n T (sample, step) pairs (with sample_weight, of each sample's steps, weighted).
    """
    y_pred = np.asarray(y_pred)
    if y_pred.ndim > 2:
        y_true = np.asarray(y_true)
        if y_true.shape == y_pred.shape[:-1] + (1,):
            y_true = y_true[..., 0]
        if y_true.shape != y_pred.shape[:-1]:
            raise ValueError(f"y_true must have shape {y_pred.shape[:-1]}, one label per step "
                             f"of y_pred {y_pred.shape}. Received: y_true.shape={y_true.shape}")
        return _mean(y_pred.argmax(axis=-1) == y_true, sample_weight)
    y_true, y_pred = _as_vector(y_true, "y_true"), _as_scores(y_pred, "y_pred")
    _check_rows(y_true, y_pred)
    return _mean(y_pred.argmax(axis=1) == y_true, sample_weight)


def categorical_accuracy(y_true, y_pred, sample_weight=None):
    """Fraction of samples whose highest score is at the hot entry of the one-hot target.

    y_true: (n, k) one-hot                   y_pred: (n, k) scores or probabilities
    accuracy = mean_i [argmax_j y_pred[i, j] == argmax_j y_true[i, j]]
    """
    y_true, y_pred = _as_scores(y_true, "y_true"), _as_scores(y_pred, "y_pred")
    _check_rows(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    return _mean(y_pred.argmax(axis=1) == y_true.argmax(axis=1), sample_weight)


def binary_accuracy(y_true, y_pred, threshold=0.5, sample_weight=None):
    """Fraction of samples whose thresholded probability equals the 0/1 target.

    y_true: (n,) or (n, 1) zeros and ones   y_pred: (n,) or (n, 1) probabilities
    accuracy = mean_i [(y_pred[i] > threshold) == y_true[i]]

    Both are flattened first, so (n,) against (n, 1) compares n pairs, not n^2.
    """
    y_true, y_pred = _as_vector(y_true, "y_true"), _as_vector(y_pred, "y_pred")
    _check_rows(y_true, y_pred)
    return _mean((y_pred > threshold) == (y_true == 1), sample_weight)


def accuracy(y_true, y_pred, sample_weight=None):
    """Accuracy for any of the three target formats, chosen from the shapes.

    y_pred (n,) or (n, 1)            -> binary_accuracy
    y_true (n, k) like y_pred (n, k) -> categorical_accuracy
    otherwise (y_true labels)        -> sparse_categorical_accuracy
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == 1 or (y_pred.ndim == 2 and y_pred.shape[1] == 1):
        return binary_accuracy(y_true, y_pred, sample_weight=sample_weight)
    if y_true.ndim == 2 and y_true.shape[1] > 1:
        return categorical_accuracy(y_true, y_pred, sample_weight)
    return sparse_categorical_accuracy(y_true, y_pred, sample_weight)


# --- per-class scores --------------------------------------------------------------


def confusion_matrix(y_true, y_pred, num_classes=None):
    """Count samples by (true class, predicted class).

    y_true, y_pred: (n,) integer labels (pass y_pred.argmax(axis=1), not scores)
    returns C: (k, k) int64,  C[i, j] = #{samples of class i predicted as j}
    k = num_classes, or 1 + the largest label seen. Rows sum to the class sizes.
    """
    y_true, y_pred = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    check_same_rows(y_true, y_pred, "y_true", "y_pred")
    if num_classes is None:
        num_classes = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    else:
        num_classes = check_positive_int("num_classes", num_classes)
    _check_range(y_true, "y_true", num_classes)
    _check_range(y_pred, "y_pred", num_classes)
    # each (true, predicted) pair becomes one index into the flattened k x k matrix
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64, copy=False)


def _ratio(numerator, denominator):
    """numerator / denominator, and 0 where the denominator is 0."""
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)


def _averaged(scores, average):
    return float(scores.mean()) if average == "macro" else scores


def precision(y_true, y_pred, num_classes=None, average=None):
    """Of the samples predicted as class j, the fraction that are class j.

    y_true, y_pred: (n,) integer labels      returns (k,) float64, or a float if average='macro'
    precision_j = C[j, j] / sum_i C[i, j]    (0 for a class that is never predicted)
    average='macro' is the unweighted mean over the k classes.
    """
    _check_average(average)
    counts = confusion_matrix(y_true, y_pred, num_classes)
    return _averaged(_ratio(np.diag(counts), counts.sum(axis=0)), average)


def recall(y_true, y_pred, num_classes=None, average=None):
    """Of the samples of class i, the fraction predicted as class i.

    y_true, y_pred: (n,) integer labels      returns (k,) float64, or a float if average='macro'
    recall_i = C[i, i] / sum_j C[i, j]       (0 for a class with no samples)
    average='macro' is the unweighted mean over the k classes.
    """
    _check_average(average)
    counts = confusion_matrix(y_true, y_pred, num_classes)
    return _averaged(_ratio(np.diag(counts), counts.sum(axis=1)), average)


def f1_score(y_true, y_pred, num_classes=None, average=None):
    """Harmonic mean of precision and recall, per class.

    y_true, y_pred: (n,) integer labels      returns (k,) float64, or a float if average='macro'
    f1_j = 2 P_j R_j / (P_j + R_j) = 2 C[j, j] / (sum_i C[i, j] + sum_i C[j, i])
    (0 for a class that is neither present nor predicted)
    average='macro' is the unweighted mean of the per-class f1 (not f1 of the means).
    """
    _check_average(average)
    counts = confusion_matrix(y_true, y_pred, num_classes)
    true_positives = np.diag(counts)
    return _averaged(_ratio(2 * true_positives, counts.sum(axis=0) + counts.sum(axis=1)), average)


def classification_report(y_true, y_pred, num_classes=None, digits=3):
    """A plain-text table of precision, recall, f1 and support for each class, and their macro
    average.

    y_true, y_pred: (n,) integer labels. Support is the number of samples of each class.
    """
    counts = confusion_matrix(y_true, y_pred, num_classes)
    true_positives, predicted, support = np.diag(counts), counts.sum(axis=0), counts.sum(axis=1)
    columns = {
        "precision": _ratio(true_positives, predicted),
        "recall": _ratio(true_positives, support),
        "f1-score": _ratio(2 * true_positives, predicted + support),
    }
    width = max(len("macro avg"), len(str(len(counts) - 1)))
    number_width = max(len("precision"), digits + 3)

    def row(label, values, total):
        cells = "".join(f" {value:>{number_width}.{digits}f}" for value in values)
        return f"{label:>{width}}{cells} {total:>{number_width}}"

    header = " " * width + "".join(f" {name:>{number_width}}" for name in (*columns, "support"))
    lines = [header, ""]
    lines += [row(str(k), [column[k] for column in columns.values()], support[k])
              for k in range(len(counts))]
    lines += ["", row("macro avg", [column.mean() for column in columns.values()], support.sum())]
    return "\n".join(lines)


# --- calibration -------------------------------------------------------------------


def _top_class(y_true, probabilities):
    """Each sample's top-class confidence and whether that class is the true one.

    probabilities: (n, k) rows of class probabilities, or (n,) / (n, 1) for the
    probability of class 1 in a binary problem; y_true: (n,) labels or (n, k) one-hot.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim == 1 or (probabilities.ndim == 2 and probabilities.shape[1] == 1):
        positive = _as_vector(probabilities, "probabilities")
        probabilities = np.stack([1 - positive, positive], axis=1)
    probabilities = _as_scores(probabilities, "probabilities")
    if len(probabilities) == 0:
        raise ValueError("Calibration needs at least one sample. Received empty probabilities.")
    if np.any(probabilities < 0) or np.any(probabilities > 1):
        raise ValueError("probabilities must lie in [0, 1]. Received values from "
                         f"{probabilities.min()} to {probabilities.max()}.")
    y_true = np.asarray(y_true)
    if y_true.ndim == 2 and y_true.shape[1] > 1:
        y_true = y_true.argmax(axis=1)
    y_true = _as_labels(y_true, "y_true")
    check_same_rows(y_true, probabilities, "y_true", "probabilities")
    _check_range(y_true, "y_true", probabilities.shape[1])
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    return confidence, correct


def reliability_curve(y_true, probabilities, n_bins=10):
    """Accuracy against confidence, in equal-width bins of the top-class confidence.

    Bin m (m = 1..M) holds the samples whose top-class probability lies in
    ((m-1)/M, m/M] (a confidence of exactly 0 goes in the first bin).

    returns (confidences, accuracies, counts), each of shape (n_bins,):
    the mean confidence and the accuracy of the samples in each bin (NaN for an
    empty bin) and the number of samples in it. A calibrated model has
    accuracies == confidences.
    """
    n_bins = check_positive_int("n_bins", n_bins)
    confidence, correct = _top_class(y_true, probabilities)
    # bin m holds boundaries[m] < confidence <= boundaries[m + 1]
    boundaries = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(boundaries, confidence, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidences = np.bincount(bins, weights=confidence, minlength=n_bins) / counts
        accuracies = np.bincount(bins, weights=correct, minlength=n_bins) / counts
    return confidences, accuracies, counts.astype(np.int64, copy=False)


def expected_calibration_error(y_true, probabilities, n_bins=15):
    """Expected calibration error (Guo et al., 2017, "On calibration of modern neural
    networks"): the gap between accuracy and confidence, averaged over equal-width
    confidence bins weighted by the fraction of samples in each::

        ECE = sum_m |B_m| / n * |acc(B_m) - conf(B_m)|

    where B_m are the samples whose top-class probability lies in ((m-1)/M, m/M].
    Returns a float in [0, 1]; 0 for perfect calibration.
    """
    confidences, accuracies, counts = reliability_curve(y_true, probabilities, n_bins)
    filled = counts > 0
    gaps = np.abs(accuracies[filled] - confidences[filled])
    return float(np.sum(counts[filled] * gaps) / counts.sum())


# --- names ---------------------------------------------------------------------------

_BY_NAME = {fn.__name__: fn
            for fn in (sparse_categorical_accuracy, categorical_accuracy, binary_accuracy)}
_ACCURACY_FOR_LOSS = {
    "sparse_categorical_crossentropy": sparse_categorical_accuracy,
    "categorical_crossentropy": categorical_accuracy,
    "binary_crossentropy": binary_accuracy,
}


def get(identifier, loss=None):
    """Resolve a metric for ``model.compile(metrics=[...])``; returns ``(name, fn)``.

    'accuracy' (or 'acc') picks the accuracy that matches the loss, as Keras does:
    sparse_categorical_crossentropy -> sparse_categorical_accuracy,
    categorical_crossentropy -> categorical_accuracy, binary_crossentropy ->
    binary_accuracy, any other loss -> accuracy (which looks at the shapes); its
    name stays 'accuracy'. Other names resolve directly; a callable passes through
    under its ``__name__``. `loss` is a loss name or an object with a ``name``.
    """
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            loss_name = loss if isinstance(loss, str) else getattr(loss, "name", None)
            return "accuracy", _ACCURACY_FOR_LOSS.get(str(loss_name).lower(), accuracy)
        if key in _BY_NAME:
            return key, _BY_NAME[key]
        valid = sorted(["accuracy", "acc", *_BY_NAME])
        raise ValueError(
            f"Unknown metric {identifier!r}. Expected a callable or one of: "
            f"{', '.join(map(repr, valid))}."
        )
    if callable(identifier):
        return getattr(identifier, "__name__", type(identifier).__name__), identifier
    raise TypeError(f"Expected a metric name or a callable. Received: {identifier!r}")
