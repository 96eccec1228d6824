"""Metrics: numbers that say how good predictions are, for people rather than for gradients.

Accuracy functions take ``(y_true, y_pred)`` as a model sees them (labels or one-hot
targets, and scores or probabilities) and return a Python float. The confusion matrix
and the per-class scores take integer labels for both arguments: pass
``y_pred.argmax(axis=1)`` rather than the scores.

The ranking metrics (ROC and precision-recall curves, their areas) take probabilities:
of class 1, shape (n,), with labels 0/1; or of each class, shape (n, k), with labels
0..k-1, scored one class against the rest. Calibration (reliability curve, ECE,
temperature scaling) and the comparison of two models (bootstrap interval, McNemar's
test) follow.
"""
import math
from collections import namedtuple

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


def _top_k_hits(labels, scores, k):
    """Whether each sample's true class is among its k highest scores.

    As Keras's ``in_top_k``: the true class counts when its score is at least the k-th
    largest, so a class tied with the k-th score is in; with k >= the number of classes
    every sample is a hit. Equivalently: fewer than k classes score strictly higher.
    """
    k = check_positive_int("k", k)
    true_scores = scores[np.arange(len(scores)), labels]
    return np.sum(scores > true_scores[:, None], axis=1) < k


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, sample_weight=None):
    """Fraction of samples whose true label is among the k highest scores (Keras' name).

    y_true: (n,) or (n, 1) integer labels    y_pred: (n, c) scores or probabilities
    accuracy = mean_i [#{j : y_pred[i, j] > y_pred[i, y_true[i]]} < k]
    (ties with the k-th score count as hits, as in Keras); k=1 is sparse_categorical_accuracy
    when there are no ties.
    """
    y_true, y_pred = _as_labels(y_true, "y_true"), _as_scores(y_pred, "y_pred")
    _check_rows(y_true, y_pred)
    _check_range(y_true, "y_true", y_pred.shape[1])
    return _mean(_top_k_hits(y_true, y_pred, k), sample_weight)


def top_k_categorical_accuracy(y_true, y_pred, k=5, sample_weight=None):
    """Fraction of samples whose hot class is among the k highest scores (Keras' name).

    y_true: (n, c) one-hot                   y_pred: (n, c) scores or probabilities
    The same count as sparse_top_k_categorical_accuracy on y_true.argmax(axis=1).
    """
    y_true, y_pred = _as_scores(y_true, "y_true"), _as_scores(y_pred, "y_pred")
    _check_rows(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    return _mean(_top_k_hits(y_true.argmax(axis=1), y_pred, k), sample_weight)


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


# --- ranking: ROC and precision-recall curves ----------------------------------------

_NOT_PROBABILITIES = "apply a sigmoid/softmax, or use a model whose last layer has one"


def _as_probabilities(y_score):
    """(n,) or (n, 1) probabilities of class 1, or (n, k) rows of class probabilities."""
    scores = np.asarray(y_score)
    if scores.dtype.kind not in "iufb":
        raise TypeError(f"y_score must be numeric probabilities. Received dtype {scores.dtype}.")
    scores = scores.astype(np.float64)
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.ndim not in (1, 2) or len(scores) == 0:
        raise ValueError("y_score must have shape (n,) (probabilities of class 1) or (n, k) "
                         f"(class probabilities), with n > 0. Received shape {scores.shape}.")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"y_score must hold probabilities, but it contains "
                         f"{scores[~np.isfinite(scores)][0]}: {_NOT_PROBABILITIES}.")
    if scores.min() < 0 or scores.max() > 1:
        raise ValueError("y_score must hold probabilities in [0, 1]. Received values from "
                         f"{scores.min():.6g} to {scores.max():.6g}: {_NOT_PROBABILITIES}.")
    if scores.ndim == 2:
        errors = np.abs(scores.sum(axis=1) - 1)
        worst = int(errors.argmax())
        if errors[worst] > 1e-3:
            raise ValueError(
                f"Each row of an (n, k) y_score must hold class probabilities that sum to 1. "
                f"Received row {worst} summing to {scores[worst].sum():.6g}: "
                f"{_NOT_PROBABILITIES} (softmax, for k exclusive classes).")
    return scores


def _binary_labels(y_true, scores):
    labels = _as_labels(y_true, "y_true")
    check_same_rows(labels, scores, "y_true", "y_score")
    bad = labels[(labels != 0) & (labels != 1)]
    if bad.size:
        raise ValueError(f"With a 1-D y_score (the probability of class 1), y_true must hold "
                         f"the labels 0 and 1. Received the label {bad[0]}; for k classes pass "
                         "y_score of shape (n, k).")
    return labels


def _one_vs_rest(y_true, scores):
    """Class j against the rest, for each column j of scores (n, k): (name, 0/1 labels, scores)."""
    labels = _as_labels(y_true, "y_true")
    check_same_rows(labels, scores, "y_true", "y_score")
    _check_range(labels, "y_true", scores.shape[1])
    return [(f"class {j} against the rest", (labels == j).astype(np.int64), scores[:, j])
            for j in range(scores.shape[1])]


def _cumulative_counts(labels, scores):
    """False and true positives when predicting 1 for score >= t, at each distinct score t.

    labels, scores: (n,)   returns fps, tps, thresholds: (m,), thresholds decreasing.
    Tied scores cross a threshold together, so they add one point, not one per sample.
    """
    order = np.argsort(scores, kind="stable")[::-1]
    scores, labels = scores[order], labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    tps = np.cumsum(labels)[last_of_tie]
    return last_of_tie + 1 - tps, tps, scores[last_of_tie]


def _roc(labels, scores, drop_intermediate, what="y_true"):
    fps, tps, thresholds = _cumulative_counts(labels, scores)
    if tps[-1] == 0 or fps[-1] == 0:
        present = 1 if fps[-1] == 0 else 0
        raise ValueError(f"The ROC curve and its AUC need both classes, but {what} has only "
                         f"samples of class {present} ({len(labels)} of them): the "
                         f"{'false' if present else 'true'} positive rate is 0/0.")
    if drop_intermediate and len(fps) > 2:
        # a point whose steps to both neighbours are equal lies on their straight segment
        keep = np.r_[True, (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fpr, tpr = np.r_[0, fps] / fps[-1], np.r_[0, tps] / tps[-1]
    return fpr, tpr, np.r_[np.inf, thresholds]


def roc_curve(y_true, y_score, drop_intermediate=True):
    """The receiver operating characteristic: true against false positive rate, per threshold.

    y_true: (n,) labels 0/1, y_score: (n,) probabilities of class 1. Predicting 1 when
    y_score >= t gives, at each distinct score t (decreasing)::

        fpr(t) = FP(t) / #negatives      tpr(t) = TP(t) / #positives

    It returns fpr, tpr, thresholds: (m + 1,); the first point (0, 0) has threshold inf.
    Tied scores make one point (a diagonal step), and drop_intermediate=True drops points
    that lie midway on a straight segment: the conventions of scikit-learn's roc_curve.

    y_true: (n,) labels 0..k-1 with y_score: (n, k) class probabilities gives the k
    one-vs-rest curves (class j against the others, scored by column j) as three lists.
    """
    scores = _as_probabilities(y_score)
    if scores.ndim == 2:
        curves = [_roc(labels, column, drop_intermediate, what)
                  for what, labels, column in _one_vs_rest(y_true, scores)]
        return tuple(list(values) for values in zip(*curves))
    return _roc(_binary_labels(y_true, scores), scores, drop_intermediate)


def auc(x, y):
    """Area under the curve through the points (x, y), by the trapezoidal rule.

    x, y: (m,), m >= 2, x increasing or decreasing (both give the same area)
    area = sum_i (x_{i+1} - x_i) (y_{i+1} + y_i) / 2
    """
    x, y = _as_vector(x, "x").astype(np.float64), _as_vector(y, "y").astype(np.float64)
    check_same_rows(x, y, "x", "y")
    if len(x) < 2 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError(f"auc needs at least 2 finite points. Received {len(x)} points"
                         f"{'' if len(x) < 2 else ', not all finite'}.")
    steps = np.diff(x)
    if np.any(steps < 0) and np.any(steps > 0):
        turn = int(np.flatnonzero(np.sign(steps) != np.sign(steps[steps != 0][0]))[0])
        raise ValueError(f"x must be increasing or decreasing; it turns at x[{turn + 1}] = "
                         f"{x[turn + 1]:.6g}.")
    direction = -1.0 if np.any(steps < 0) else 1.0
    return direction * float(np.sum(steps * (y[1:] + y[:-1]) / 2))


def _per_class(score, y_true, scores, average):
    """score(labels, scores, what) of each class against the rest, or their macro mean."""
    values = np.array([score(labels, column, what)
                       for what, labels, column in _one_vs_rest(y_true, scores)])
    return _averaged(values, average)


def roc_auc_score(y_true, y_score, average="macro"):
    """Area under the ROC curve: the probability that a random positive outscores a random
    negative (ties counting 1/2).

    y_true: (n,) labels 0/1 with y_score: (n,) probabilities of class 1 give a float.
    y_true: (n,) labels 0..k-1 with y_score: (n, k) class probabilities give one-vs-rest
    scores: AUC_j of class j against the rest, scored by column j; average='macro' returns
    mean_j AUC_j, average=None the (k,) array (scikit-learn's multi_class='ovr').
    Both classes (every class, one-vs-rest) must occur in y_true.
    """
    _check_average(average)
    scores = _as_probabilities(y_score)

    def area(labels, column, what="y_true"):
        fpr, tpr, _ = _roc(labels, column, True, what)
        return auc(fpr, tpr)

    if scores.ndim == 2:
        return _per_class(area, y_true, scores, average)
    return area(_binary_labels(y_true, scores), scores)


def _precision_recall(labels, scores, what="y_true"):
    fps, tps, thresholds = _cumulative_counts(labels, scores)
    if tps[-1] == 0:
        raise ValueError(f"The precision-recall curve needs positives, but {what} has none "
                         f"(all {len(labels)} samples are negatives): recall is 0/0.")
    precision, recall = tps / (tps + fps), tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def precision_recall_curve(y_true, y_score):
    """Precision against recall, per threshold.

    y_true: (n,) labels 0/1, y_score: (n,) probabilities of class 1. Predicting 1 when
    y_score >= t gives, at each distinct score t (increasing)::

        precision(t) = TP(t) / (TP(t) + FP(t))      recall(t) = TP(t) / #positives

    It returns precision, recall: (m + 1,) and thresholds: (m,). The last point (precision
    1, recall 0) has no threshold; tied scores make one point. These are the conventions of
    scikit-learn's precision_recall_curve; y_true must contain at least one positive.

    With y_score: (n, k) class probabilities and labels 0..k-1: the k one-vs-rest curves,
    as three lists.
    """
    scores = _as_probabilities(y_score)
    if scores.ndim == 2:
        curves = [_precision_recall(labels, column, what)
                  for what, labels, column in _one_vs_rest(y_true, scores)]
        return tuple(list(values) for values in zip(*curves))
    return _precision_recall(_binary_labels(y_true, scores), scores)


def average_precision_score(y_true, y_score, average="macro"):
    """Average precision: the precisions at the thresholds, each weighted by its gain in recall.

    ::

        AP = sum_n (R_n - R_{n-1}) P_n

    over the points of precision_recall_curve (step rule, no interpolation, as
    scikit-learn's average_precision_score; not the trapezoidal area, which is optimistic).
    y_true: (n,) labels 0/1 with y_score: (n,) probabilities of class 1 give a float;
    y_true: (n,) labels 0..k-1 with y_score: (n, k) class probabilities give one-vs-rest
    AP_j; average='macro' returns their mean, average=None the (k,) array.
    """
    _check_average(average)
    scores = _as_probabilities(y_score)

    def step_area(labels, column, what="y_true"):
        precision, recall, _ = _precision_recall(labels, column, what)
        return float(-np.sum(np.diff(recall) * precision[:-1]))

    if scores.ndim == 2:
        return _per_class(step_area, y_true, scores, average)
    return step_area(_binary_labels(y_true, scores), scores)


# --- temperature scaling -------------------------------------------------------------


def _temperature_inputs(logits, y_true):
    """(n, k) float64 logits and (n,) labels; a binary model's (n,) logits z become [0, z]."""
    logits = np.asarray(logits)
    if logits.dtype.kind not in "iuf":
        raise TypeError(f"logits must be numeric. Received dtype {logits.dtype}.")
    logits = logits.astype(np.float64)
    if logits.ndim == 2 and logits.shape[1] == 1:
        logits = logits[:, 0]
    if logits.ndim not in (1, 2) or len(logits) == 0:
        raise ValueError("logits must have shape (n,) (a sigmoid's input) or (n, k) (a "
                         f"softmax's input), with n > 0. Received shape {logits.shape}.")
    if not np.all(np.isfinite(logits)):
        raise ValueError(f"logits must be finite. Received {logits[~np.isfinite(logits)][0]}.")
    if logits.ndim == 1:  # sigmoid(z) = softmax([0, z])[1]
        return np.stack([np.zeros_like(logits), logits], axis=1), _binary_labels(y_true, logits)
    y_true = np.asarray(y_true)
    if y_true.ndim == 2 and y_true.shape[1] > 1:
        y_true = y_true.argmax(axis=1)
    labels = _as_labels(y_true, "y_true")
    check_same_rows(labels, logits, "y_true", "logits")
    _check_range(labels, "y_true", logits.shape[1])
    return logits, labels


def _softmax(logits):
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def fit_temperature(logits, y_true):
    """The temperature T > 0 that calibrates a classifier on validation data (Guo et al.,
    2017, "On calibration of modern neural networks").

    logits: (n, k) inputs of the softmax (not probabilities: np.log(probabilities) are valid
    logits), y_true: (n,) labels or (n, k) one-hot; or
    logits: (n,) inputs of a binary model's sigmoid, y_true: (n,) labels 0/1.
    Returns the float T minimizing the mean negative log-likelihood of softmax(z / T):

        NLL(b) = 1/n sum_i [log sum_j exp(b z_ij) - b z_i,y_i],      b = 1/T
        NLL'(b) = 1/n sum_i [E_p(b)[z_i] - z_i,y_i]     p(b) = softmax(b z_i)
        NLL''(b) = 1/n sum_i Var_p(b)[z_i] >= 0

    so NLL is convex in b and its minimum is the one root of NLL'(b), found by bisection on
    log T (to 1e-12) inside a bracket of 1e-6 to 1e6 times the logits' typical spread.
    Apply it as softmax(logits / T) (sigmoid(z / T)): T > 1 softens overconfident
    predictions, and the argmax, hence the accuracy, is unchanged. No finite T exists when
    every sample's true class has the strictly largest logit (NLL falls to 0 as T -> 0) or
    when NLL'(0) >= 0 (the logits rank the true class no better than chance); both raise.
    """
    logits, labels = _temperature_inputs(logits, y_true)
    true_logits = logits[np.arange(len(logits)), labels]

    def slope(inverse_temperature):  # NLL'(b)
        mean_logit = np.sum(_softmax(inverse_temperature * logits) * logits, axis=1)
        return np.mean(mean_logit - true_logits)

    if slope(0.0) >= 0:
        raise ValueError("No temperature fits: on average the logits rank the true class no "
                         "higher than the mean logit (NLL'(1/T = 0) >= 0), so the NLL only "
                         "falls as T -> inf. Check the labels match the logits.")
    spread = np.mean(logits.max(axis=1) - logits.min(axis=1))
    low, high = np.log(spread * 1e-6), np.log(spread * 1e6)  # bracket of log T
    if slope(np.exp(-low)) <= 0:
        raise ValueError("No finite temperature fits: the NLL keeps falling as T -> 0 (every "
                         "sample's true class has the largest logit). Fit T on a larger "
                         "validation set, one with mistakes.")
    while high - low > 1e-12:  # slope(1/T) > 0 below the optimum T, < 0 above it
        middle = (low + high) / 2
        low, high = (middle, high) if slope(np.exp(-middle)) > 0 else (low, middle)
    return float(np.exp((low + high) / 2))


# --- comparing models ------------------------------------------------------------------


def bootstrap_confidence_interval(metric, y_true, y_pred, n_resamples=1000, confidence=0.95,
                                  seed=None):
    """A percentile bootstrap confidence interval for metric(y_true, y_pred).

    y_true, y_pred: arrays with the same number n of rows (samples); metric returns a float.
    Draw n_resamples resamples of n rows with replacement (np.random.default_rng(seed), or
    the Generator given as seed), compute the metric m_b on each, and return::

        (low, high) = the (1 - c)/2 and (1 + c)/2 quantiles of the m_b,   c = confidence

    The same seed gives the same interval. The interval reflects test-set sampling only
    (not training randomness); with small n it tends to be a little too narrow.
    """
    if not callable(metric):
        raise TypeError(f"metric must be a function metric(y_true, y_pred) -> float. "
                        f"Received: {metric!r}")
    n_resamples = check_positive_int("n_resamples", n_resamples)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1). Received: confidence={confidence!r}")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    check_same_rows(y_true, y_pred, "y_true", "y_pred")
    if len(y_true) == 0:
        raise ValueError("The bootstrap needs at least one sample. Received empty y_true.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    values = np.empty(n_resamples)
    for resample in range(n_resamples):
        rows = rng.integers(0, len(y_true), size=len(y_true))
        try:
            values[resample] = metric(y_true[rows], y_pred[rows])
        except ValueError as error:
            raise ValueError(f"metric failed on bootstrap resample {resample + 1}: {error}") \
                from error
    if not np.all(np.isfinite(values)):
        raise ValueError(f"metric returned {values[~np.isfinite(values)][0]} on a bootstrap "
                         "resample; it must return a finite number on every resample.")
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


McNemarResult = namedtuple("McNemarResult", ["statistic", "pvalue", "b", "c"])


def _binomial_two_sided(b, c):
    """P-value of min(b, c) successes in b + c fair coin flips, two-sided, exact."""
    flips, fewer = b + c, min(b, c)
    tail = sum(math.comb(flips, count) for count in range(fewer + 1))  # exact integers
    return min(1.0, 2 * tail / 2 ** flips)


def mcnemar_test(y_true, y_pred_a, y_pred_b, exact=None):
    """McNemar's test: do two classifiers, scored on the same samples, differ in accuracy?

    y_true, y_pred_a, y_pred_b: (n,) integer labels (pass probabilities.argmax(axis=1)).
    Only the discordant samples count: b = #{a right, b wrong}, c = #{a wrong, b right}.
    Under H0 (equal accuracy) each discordant sample is a fair coin flip, b ~ Bin(b + c, 1/2)::

        exact (when b + c < 25, or exact=True): statistic = min(b, c),
            pvalue = min(1, 2 sum_{i <= min(b, c)} C(b + c, i) / 2^(b + c))
        otherwise: statistic = max(|b - c| - 1, 0)^2 / (b + c)  (continuity-corrected),
            pvalue = P(chi2_1 > statistic) = erfc(sqrt(statistic / 2))

    Returns McNemarResult(statistic, pvalue, b, c); with b + c = 0 it is (0, 1, 0, 0).
    """
    if exact not in (None, True, False):
        raise ValueError(f"exact must be None (exact when b + c < 25), True or False. "
                         f"Received: exact={exact!r}")
    y_true = _as_labels(y_true, "y_true")
    right_a = _as_labels(y_pred_a, "y_pred_a")
    right_b = _as_labels(y_pred_b, "y_pred_b")
    check_same_rows(y_true, right_a, "y_true", "y_pred_a")
    check_same_rows(y_true, right_b, "y_true", "y_pred_b")
    right_a, right_b = right_a == y_true, right_b == y_true
    b, c = int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))
    if exact or (exact is None and b + c < 25):
        return McNemarResult(float(min(b, c)), _binomial_two_sided(b, c), b, c)
    statistic = max(abs(b - c) - 1, 0) ** 2 / (b + c) if b + c else 0.0
    return McNemarResult(float(statistic), math.erfc(math.sqrt(statistic / 2)), b, c)


# --- names ---------------------------------------------------------------------------

_BY_NAME = {fn.__name__: fn
            for fn in (sparse_categorical_accuracy, categorical_accuracy, binary_accuracy,
                       sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)}
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
