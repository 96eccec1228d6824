"""Tests of nn.metrics against small examples worked out by hand."""
import warnings

import numpy as np
import pytest

from nn import metrics

# Three classes, six samples:      true: 0  1  2  2  1  0
#                             predicted: 0  2  2  2  1  1
Y_TRUE = np.array([0, 1, 2, 2, 1, 0])
Y_PRED = np.array([0, 2, 2, 2, 1, 1])
# rows = true class, columns = predicted class
CONFUSION = np.array([
    [1, 1, 0],  # class 0: one right, one called 1
    [0, 1, 1],  # class 1: one right, one called 2
    [0, 0, 2],  # class 2: both right
])


# --- accuracy ------------------------------------------------------------------

SCORES = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])  # argmax: 1, 0, 1


def test_sparse_categorical_accuracy():
    assert metrics.sparse_categorical_accuracy(np.array([1, 1, 1]), SCORES) == pytest.approx(2 / 3)
    assert metrics.sparse_categorical_accuracy(np.array([[1], [0], [1]]), SCORES) == 1.0
    assert isinstance(metrics.sparse_categorical_accuracy([1, 0, 0], SCORES), float)


def test_categorical_accuracy():
    one_hot = np.array([[0, 1], [0, 1], [0, 1]])
    assert metrics.categorical_accuracy(one_hot, SCORES) == pytest.approx(2 / 3)
    assert metrics.categorical_accuracy(np.eye(2)[[1, 0, 0]], SCORES) == pytest.approx(2 / 3)


def test_binary_accuracy_flattens_columns():
    y_true = np.array([1, 1, 1, 0])
    probabilities = np.array([0.9, 0.8, 0.7, 0.1])  # all right
    # broadcasting (4, 1) against (4,) would compare 16 pairs and give 10/16
    for truth in (y_true, y_true[:, None]):
        for pred in (probabilities, probabilities[:, None]):
            assert metrics.binary_accuracy(truth, pred) == 1.0


def test_binary_accuracy_threshold():
    y_true = np.array([0, 1, 1, 0])
    probabilities = np.array([0.2, 0.6, 0.5, 0.9])  # > 0.5: 0 1 0 1
    assert metrics.binary_accuracy(y_true, probabilities) == 0.5
    # > 0.75: 0 0 0 1, right on sample 0 only; > 0.1: 1 1 1 1, right on samples 1 and 2
    assert metrics.binary_accuracy(y_true, probabilities, threshold=0.75) == 0.25
    assert metrics.binary_accuracy(y_true, probabilities, threshold=0.1) == 0.5


def test_accuracy_dispatches_on_shapes():
    assert metrics.accuracy(np.array([1, 0]), np.array([0.9, 0.4])) == 1.0  # binary, (n,)
    assert metrics.accuracy(np.array([[1], [0]]), np.array([[0.4], [0.4]])) == 0.5  # binary, (n, 1)
    assert metrics.accuracy(np.eye(2)[[1, 1, 1]], SCORES) == pytest.approx(2 / 3)  # one-hot
    assert metrics.accuracy(np.array([1, 0, 0]), SCORES) == pytest.approx(2 / 3)  # labels
    assert metrics.accuracy(np.array([[1], [0], [0]]), SCORES) == pytest.approx(2 / 3)  # labels (n, 1)


def test_accuracy_rejects_mismatched_rows():
    with pytest.raises(ValueError, match="y_true has 5 rows but y_pred has 4"):
        metrics.sparse_categorical_accuracy(np.zeros(5, int), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="y_true has 5 rows but y_pred has 4"):
        metrics.binary_accuracy(np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match=r"shape \(n,\) or \(n, 1\)"):
        metrics.binary_accuracy(np.zeros(4), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"\(n, k\)"):
        metrics.sparse_categorical_accuracy(np.zeros(4, int), np.zeros(4))


# --- confusion matrix and per-class scores -----------------------------------------


def test_confusion_matrix():
    result = metrics.confusion_matrix(Y_TRUE, Y_PRED)
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, CONFUSION)
    np.testing.assert_array_equal(result.sum(axis=1), [2, 2, 2])


def test_confusion_matrix_num_classes_and_label_types():
    result = metrics.confusion_matrix(Y_TRUE.astype(np.uint8), Y_PRED.astype(np.uint8), num_classes=4)
    expected = np.zeros((4, 4), dtype=np.int64)
    expected[:3, :3] = CONFUSION
    np.testing.assert_array_equal(result, expected)
    # (n, 1) and whole-valued floats are labels too
    np.testing.assert_array_equal(metrics.confusion_matrix(Y_TRUE[:, None], Y_PRED.astype(float)), CONFUSION)


def test_confusion_matrix_uint8_labels_do_not_overflow():
    # 20 * 20 + 19 does not fit in uint8
    labels = np.arange(20, dtype=np.uint8)
    np.testing.assert_array_equal(metrics.confusion_matrix(labels, labels), np.eye(20, dtype=np.int64))


def test_precision_recall_f1():
    # predicted per class (column sums) 1, 2, 3; true per class (row sums) 2, 2, 2; hits 1, 1, 2
    precision = metrics.precision(Y_TRUE, Y_PRED)
    recall = metrics.recall(Y_TRUE, Y_PRED)
    f1 = metrics.f1_score(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(precision, [1 / 1, 1 / 2, 2 / 3])
    np.testing.assert_allclose(recall, [1 / 2, 1 / 2, 2 / 2])
    # 2 P R / (P + R): 2(1)(.5)/1.5, 2(.5)(.5)/1, 2(2/3)(1)/(5/3)
    np.testing.assert_allclose(f1, [2 / 3, 1 / 2, 4 / 5])
    assert precision.dtype == recall.dtype == f1.dtype == np.float64


def test_macro_average():
    assert metrics.precision(Y_TRUE, Y_PRED, average="macro") == pytest.approx((1 + 1 / 2 + 2 / 3) / 3)
    assert metrics.recall(Y_TRUE, Y_PRED, average="macro") == pytest.approx((1 / 2 + 1 / 2 + 1) / 3)
    # mean of per-class f1, not the f1 of mean precision and mean recall (0.6933...)
    assert metrics.f1_score(Y_TRUE, Y_PRED, average="macro") == pytest.approx((2 / 3 + 1 / 2 + 4 / 5) / 3)
    assert isinstance(metrics.f1_score(Y_TRUE, Y_PRED, average="macro"), float)


def test_class_never_predicted_scores_zero_without_warning():
    y_true, y_pred = np.array([0, 1, 2]), np.array([0, 0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        precision = metrics.precision(y_true, y_pred)
        recall = metrics.recall(y_true, y_pred)
        f1 = metrics.f1_score(y_true, y_pred)
        absent = metrics.f1_score(y_true, y_true, num_classes=4)  # class 3: no samples, no predictions
        metrics.classification_report(y_true, y_pred, num_classes=4)
    np.testing.assert_allclose(precision, [1 / 3, 0, 0])
    np.testing.assert_allclose(recall, [1, 0, 0])
    np.testing.assert_allclose(f1, [2 * (1 / 3) * 1 / (1 / 3 + 1), 0, 0])
    np.testing.assert_allclose(absent, [1, 1, 1, 0])


def test_classification_report():
    report = metrics.classification_report(Y_TRUE, Y_PRED)
    assert report.splitlines() == [
        "          precision    recall  f1-score   support",
        "",
        "        0     1.000     0.500     0.667         2",
        "        1     0.500     0.500     0.500         2",
        "        2     0.667     1.000     0.800         2",
        "",
        "macro avg     0.722     0.667     0.656         6",
    ]
    assert "0.67 " in metrics.classification_report(Y_TRUE, Y_PRED, digits=2)


# --- errors ------------------------------------------------------------------------


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="y_true has 5 rows but y_pred has 4"):
        metrics.confusion_matrix(np.zeros(5, int), np.zeros(4, int))
    with pytest.raises(ValueError, match="y_true has 5 rows but y_pred has 4"):
        metrics.precision(np.zeros(5, int), np.zeros(4, int))


def test_labels_out_of_range():
    with pytest.raises(ValueError, match=r"y_pred contains label 3, outside the range \[0, 3\)"):
        metrics.confusion_matrix([0, 1], [0, 3], num_classes=3)
    with pytest.raises(ValueError, match=r"y_true contains label -1"):
        metrics.recall([-1, 1], [0, 1])
    with pytest.raises(ValueError, match="num_classes=0"):
        metrics.confusion_matrix([0], [0], num_classes=0)


def test_scores_instead_of_labels():
    with pytest.raises(ValueError, match="argmax"):
        metrics.confusion_matrix(Y_TRUE[:3], SCORES)
    with pytest.raises(ValueError, match="integer class labels"):
        metrics.precision([0, 1], [0.2, 0.9])


def test_unknown_average():
    with pytest.raises(ValueError, match=r"'macro' or None. Received: average='micro'"):
        metrics.f1_score(Y_TRUE, Y_PRED, average="micro")


# --- get ---------------------------------------------------------------------------


class _Loss:
    def __init__(self, name):
        self.name = name


@pytest.mark.parametrize(
    "loss, expected",
    [
        ("sparse_categorical_crossentropy", metrics.sparse_categorical_accuracy),
        ("categorical_crossentropy", metrics.categorical_accuracy),
        ("binary_crossentropy", metrics.binary_accuracy),
        (_Loss("sparse_categorical_crossentropy"), metrics.sparse_categorical_accuracy),
        (_Loss("binary_crossentropy"), metrics.binary_accuracy),
        ("mse", metrics.accuracy),
        (None, metrics.accuracy),
    ],
)
def test_get_accuracy_follows_loss(loss, expected):
    assert metrics.get("accuracy", loss=loss) == ("accuracy", expected)
    assert metrics.get("acc", loss=loss) == ("accuracy", expected)


def test_get_by_name_and_callable():
    assert metrics.get("binary_accuracy") == ("binary_accuracy", metrics.binary_accuracy)
    assert metrics.get("categorical_accuracy", loss="binary_crossentropy") == (
        "categorical_accuracy", metrics.categorical_accuracy,
    )
    assert metrics.get("sparse_categorical_accuracy") == (
        "sparse_categorical_accuracy", metrics.sparse_categorical_accuracy,
    )

    def top_score(y_true, y_pred):
        return 1.0

    assert metrics.get(top_score) == ("top_score", top_score)


def test_get_unknown():
    with pytest.raises(ValueError) as error:
        metrics.get("f1")
    message = str(error.value)
    assert "'f1'" in message
    for name in ("accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy"):
        assert f"'{name}'" in message
    with pytest.raises(TypeError):
        metrics.get(3)


# --- calibration -------------------------------------------------------------------
# Five samples, two classes, worked by hand with two bins (0, 0.5] and (0.5, 1]:
#   top-class confidence 0.9 0.8 0.7 0.6 0.5,  right? yes no yes yes no
#   bin 1: one sample, confidence 0.5, accuracy 0
#   bin 2: four samples, confidence 0.75, accuracy 0.75
#   ECE = 1/5 * |0 - 0.5| + 4/5 * |0.75 - 0.75| = 0.1
CAL_PROBS = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4], [0.5, 0.5]])
CAL_TRUE = np.array([0, 0, 1, 0, 1])


def test_reliability_curve_two_bins_by_hand():
    confidences, accuracies, counts = metrics.reliability_curve(CAL_TRUE, CAL_PROBS, n_bins=2)
    np.testing.assert_allclose(confidences, [0.5, 0.75])
    np.testing.assert_allclose(accuracies, [0.0, 0.75])
    np.testing.assert_array_equal(counts, [1, 4])


def test_expected_calibration_error_two_bins_by_hand():
    assert metrics.expected_calibration_error(CAL_TRUE, CAL_PROBS, n_bins=2) == pytest.approx(0.1)
    one_hot = np.eye(2)[CAL_TRUE]
    assert metrics.expected_calibration_error(one_hot, CAL_PROBS, n_bins=2) == pytest.approx(0.1)


def test_calibration_ten_bins_three_classes_by_hand():
    # confidences 0.95 (right), 0.85 (wrong), 0.45 (right), 0.82 (right)
    probs = np.array([[0.95, 0.03, 0.02], [0.10, 0.85, 0.05],
                      [0.45, 0.35, 0.20], [0.13, 0.05, 0.82]])
    y_true = np.array([0, 2, 0, 2])
    confidences, accuracies, counts = metrics.reliability_curve(y_true, probs, n_bins=10)
    np.testing.assert_array_equal(counts, [0, 0, 0, 0, 1, 0, 0, 0, 2, 1])
    np.testing.assert_allclose(confidences[[4, 8, 9]], [0.45, 0.835, 0.95])
    np.testing.assert_allclose(accuracies[[4, 8, 9]], [1.0, 0.5, 1.0])
    assert np.isnan(confidences[0]) and np.isnan(accuracies[0])  # empty bin
    # (2 * |0.5 - 0.835| + |1 - 0.95| + |1 - 0.45|) / 4 = 1.27 / 4
    ece = metrics.expected_calibration_error(y_true, probs, n_bins=10)
    assert ece == pytest.approx(0.3175)


def test_calibration_binary_probabilities_of_class_one():
    # p(class 1) = 0.9 (right, confidence 0.9) and 0.2 (predicts 0, wrong, confidence 0.8)
    for probs in (np.array([0.9, 0.2]), np.array([[0.9], [0.2]])):
        ece = metrics.expected_calibration_error(np.array([1, 1]), probs, n_bins=1)
        assert ece == pytest.approx(abs(0.5 - 0.85))


def test_calibrated_predictions_have_zero_error_and_confident_errors_do_not():
    # four samples at confidence 0.75, three right: calibrated
    probs = np.tile([0.75, 0.25], (4, 1))
    assert metrics.expected_calibration_error([0, 0, 0, 1], probs) == pytest.approx(0.0)
    # all wrong at confidence 0.75: the whole gap
    assert metrics.expected_calibration_error([1, 1, 1, 1], probs) == pytest.approx(0.75)


def test_confidence_on_a_bin_edge_goes_in_the_lower_bin():
    probs = np.array([[0.5, 0.5], [1.0, 0.0]])
    _, _, counts = metrics.reliability_curve([0, 0], probs, n_bins=2)
    np.testing.assert_array_equal(counts, [1, 1])


def test_calibration_rejects_bad_input():
    with pytest.raises(ValueError, match="n_bins=0"):
        metrics.reliability_curve(CAL_TRUE, CAL_PROBS, n_bins=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.expected_calibration_error([0], np.array([[1.5, -0.5]]))
    with pytest.raises(ValueError, match="rows"):
        metrics.expected_calibration_error([0, 1], CAL_PROBS)
    with pytest.raises(ValueError, match="label 3"):
        metrics.expected_calibration_error([3, 0, 0, 0, 0], CAL_PROBS)
