"""Tests of nn.metrics' ranking, calibration and comparison metrics, against examples
worked out by hand (and, when installed, scikit-learn)."""
import math

import numpy as np
import pytest

from nn import metrics

# Six samples, P = 3 positives, N = 3 negatives; 0.7 is a tie between a positive and a negative.
#   y:     1    0    1    0    1    0
#   score: 0.9  0.8  0.7  0.7  0.4  0.2
# predict 1 when score >= t:   t=0.9: TP 1 FP 0 | 0.8: 1 1 | 0.7: 2 2 | 0.4: 3 2 | 0.2: 3 3
Y = np.array([1, 0, 1, 0, 1, 0])
S = np.array([0.9, 0.8, 0.7, 0.7, 0.4, 0.2])


def test_roc_curve_by_hand():
    fpr, tpr, thresholds = metrics.roc_curve(Y, S, drop_intermediate=False)
    np.testing.assert_allclose(fpr, [0, 0, 1 / 3, 2 / 3, 2 / 3, 1])
    np.testing.assert_allclose(tpr, [0, 1 / 3, 1 / 3, 2 / 3, 1, 1])
    np.testing.assert_array_equal(thresholds, [np.inf, 0.9, 0.8, 0.7, 0.4, 0.2])
    # no point here has equal steps on both sides, so dropping changes nothing
    for dropped, full in zip(metrics.roc_curve(Y, S), (fpr, tpr, thresholds)):
        np.testing.assert_array_equal(dropped, full)


def test_roc_curve_drops_points_midway_on_a_segment():
    # y 1 1 1 0 0, scores .9 .8 .7 .6 .5: (FP, TP) = (0,1) (0,2) (0,3) (1,3) (2,3);
    # (0,2) and (1,3) lie midway between equal steps and are dropped
    fpr, tpr, thresholds = metrics.roc_curve([1, 1, 1, 0, 0], [0.9, 0.8, 0.7, 0.6, 0.5])
    np.testing.assert_allclose(fpr, [0, 0, 0, 1])
    np.testing.assert_allclose(tpr, [0, 1 / 3, 1, 1])
    np.testing.assert_array_equal(thresholds, [np.inf, 0.9, 0.7, 0.5])


def test_auc_and_roc_auc_by_hand():
    # trapezoids: 0 + (1/3)(1/3) + (1/3)(1/3 + 2/3)/2 + 0 + (1/3)(1) = 11/18
    # pairs: 0.9 beats 3 negatives, 0.7 beats 0.2 and ties 0.7 (1.5), 0.4 beats 0.2: 5.5 / 9
    assert metrics.roc_auc_score(Y, S) == pytest.approx(11 / 18)
    assert metrics.auc([0, 0.5, 1], [0, 1, 1]) == pytest.approx(0.75)
    assert metrics.auc([1, 0.5, 0], [1, 1, 0]) == pytest.approx(0.75)  # decreasing x
    assert metrics.auc([0, 1], [-1, -1]) == pytest.approx(-1.0)
    # a (n, 2) softmax matrix: both one-vs-rest AUCs equal the binary AUC
    assert metrics.roc_auc_score(Y, np.stack([1 - S, S], axis=1)) == pytest.approx(11 / 18)


def test_precision_recall_and_average_precision_by_hand():
    precision, recall, thresholds = metrics.precision_recall_curve(Y, S)
    # t = 0.2: 3/6, R 1 | 0.4: 3/5, 1 | 0.7: 2/4, 2/3 | 0.8: 1/2, 1/3 | 0.9: 1/1, 1/3 | (1, 0)
    np.testing.assert_allclose(precision, [1 / 2, 3 / 5, 1 / 2, 1 / 2, 1, 1])
    np.testing.assert_allclose(recall, [1, 1, 2 / 3, 1 / 3, 1 / 3, 0])
    np.testing.assert_array_equal(thresholds, [0.2, 0.4, 0.7, 0.8, 0.9])
    # AP = (1/3)(1) + 0 (1/2) + (1/3)(1/2) + (1/3)(3/5) + 0 (1/2) = 7/10
    assert metrics.average_precision_score(Y, S) == pytest.approx(0.7)


# Four samples, three classes; labels 0 1 2 1
P3 = np.array([[0.7, 0.2, 0.1], [0.3, 0.5, 0.2], [0.2, 0.3, 0.5], [0.5, 0.2, 0.3]])
Y3 = np.array([0, 1, 2, 1])


def test_one_vs_rest_by_hand():
    # class 0: .7 beats .3 .2 .5 -> 1;  class 2: .5 beats .1 .2 .3 -> 1
    # class 1: positives .5 .2, negatives .2 .3: .5 wins twice, .2 ties .2 and loses -> 2.5/4
    np.testing.assert_allclose(metrics.roc_auc_score(Y3, P3, average=None), [1, 5 / 8, 1])
    assert metrics.roc_auc_score(Y3, P3) == pytest.approx((1 + 5 / 8 + 1) / 3)
    # class 1 AP: t=.5 P 1 R 1/2, t=.3 P 1/2 R 1/2, t=.2 P 2/4 R 1 -> 1/2 + 1/4 = 3/4
    np.testing.assert_allclose(metrics.average_precision_score(Y3, P3, average=None),
                               [1, 3 / 4, 1])
    fpr, tpr, thresholds = metrics.roc_curve(Y3, P3)
    assert len(fpr) == len(tpr) == len(thresholds) == 3
    np.testing.assert_allclose(tpr[0], [0, 1, 1])
    precision, recall, _ = metrics.precision_recall_curve(Y3, P3)
    np.testing.assert_allclose(precision[1], [1 / 2, 1 / 2, 1, 1])


def test_curves_reject_bad_input():
    with pytest.raises(ValueError, match="only samples of class 1"):
        metrics.roc_auc_score([1, 1, 1], [0.2, 0.5, 0.9])
    with pytest.raises(ValueError, match="only samples of class 0"):
        metrics.roc_curve([0, 0], [0.2, 0.5])
    with pytest.raises(ValueError, match="class 2 against the rest"):
        metrics.roc_auc_score([0, 1, 0, 1], P3)
    with pytest.raises(ValueError, match="needs positives"):
        metrics.average_precision_score([0, 0, 0], [0.2, 0.5, 0.9])
    with pytest.raises(ValueError, match=r"from -2 to 3.*apply a sigmoid/softmax"):
        metrics.roc_curve([0, 1, 1], [-2.0, 0.5, 3.0])
    with pytest.raises(ValueError, match="contains nan.*sigmoid/softmax"):
        metrics.precision_recall_curve([0, 1], [np.nan, 0.5])
    with pytest.raises(ValueError, match="row 1 summing to 1.4.*softmax"):
        metrics.roc_auc_score([0, 1], [[0.5, 0.5], [0.7, 0.7]])
    with pytest.raises(ValueError, match="labels 0 and 1. Received the label 2"):
        metrics.roc_auc_score([0, 1, 2], [0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match="y_true has 2 rows but y_score has 3"):
        metrics.roc_curve([0, 1], [0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match="average must be"):
        metrics.roc_auc_score(Y, S, average="micro")
    with pytest.raises(ValueError, match=r"turns at x\[2\]"):
        metrics.auc([0, 1, 0.5], [0, 1, 1])


# --- top-k ---------------------------------------------------------------------------

# true class's rank: sample 0 (class 0) has 3 higher; 1 (class 1) 1 higher;
# 2 (class 3) none higher, all tied; 3 (class 2) 1 higher, tied with class 1 at the 2nd place
TOPK = np.array([[.1, .2, .3, .4], [.4, .3, .2, .1], [.25, .25, .25, .25], [.5, .2, .2, .1]])
TOPK_Y = np.array([0, 1, 3, 2])


@pytest.mark.parametrize("k, expected", [(1, 1 / 4), (2, 3 / 4), (3, 3 / 4), (4, 1), (5, 1)])
def test_top_k_by_hand(k, expected):
    assert metrics.sparse_top_k_categorical_accuracy(TOPK_Y, TOPK, k=k) == expected
    assert metrics.top_k_categorical_accuracy(np.eye(4)[TOPK_Y], TOPK, k=k) == expected


def test_top_k_default_weights_names_and_errors():
    assert metrics.sparse_top_k_categorical_accuracy(TOPK_Y, TOPK) == 1.0  # k=5
    assert metrics.sparse_top_k_categorical_accuracy(TOPK_Y, TOPK, k=2,
                                                     sample_weight=[1, 0, 0, 1]) == 0.5
    for name in ("top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"):
        assert metrics.get(name) == (name, getattr(metrics, name))
    with pytest.raises(ValueError, match="k must be a positive integer"):
        metrics.sparse_top_k_categorical_accuracy(TOPK_Y, TOPK, k=0)
    with pytest.raises(ValueError, match="label 4, outside"):
        metrics.sparse_top_k_categorical_accuracy([0, 1, 3, 4], TOPK)


# --- temperature scaling ---------------------------------------------------------------


def _sample_labels(rng, probabilities):
    cumulative = np.cumsum(probabilities, axis=1)
    return (cumulative < rng.random((len(probabilities), 1))).sum(axis=1)


def test_fit_temperature_by_hand():
    # rows [1, 0, 0], half of them class 0: NLL'(b) = p_0(b) - 1/2 = 0 with
    # p_0 = e^b / (e^b + 2)  ->  e^b = 2, T = 1 / ln 2
    logits = np.tile([1.0, 0.0, 0.0], (4, 1))
    assert metrics.fit_temperature(logits, [0, 0, 1, 2]) == pytest.approx(1 / math.log(2))
    assert metrics.fit_temperature(logits, np.eye(3)[[0, 0, 1, 2]]) == pytest.approx(1 / math.log(2))
    # binary: z = 1 for three samples, two positive: sigmoid(b) = 2/3 -> b = ln 2
    assert metrics.fit_temperature([1.0, 1.0, 1.0], [1, 1, 0]) == pytest.approx(1 / math.log(2))


def _nll(logits, labels, temperature):
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    log_p = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(labels)), labels])


def test_fit_temperature_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    calibrated = rng.normal(size=(10000, 5)) * 2  # labels drawn from softmax(calibrated)
    probabilities = np.exp(calibrated) / np.exp(calibrated).sum(axis=1, keepdims=True)
    labels = _sample_labels(rng, probabilities)
    temperature = metrics.fit_temperature(3 * calibrated, labels)
    assert temperature == pytest.approx(3, rel=0.05)
    assert metrics.fit_temperature(calibrated, labels) == pytest.approx(1, rel=0.05)
    nll = _nll(3 * calibrated, labels, temperature)
    assert nll < _nll(3 * calibrated, labels, temperature * 1.01)
    assert nll < _nll(3 * calibrated, labels, temperature / 1.01)
    # binary sigmoid logits
    z = rng.normal(size=20000) * 2
    y = (rng.random(20000) < 1 / (1 + np.exp(-z))).astype(int)
    assert metrics.fit_temperature(3 * z, y) == pytest.approx(3, rel=0.1)


def test_fit_temperature_rejects_bad_input():
    with pytest.raises(ValueError, match="No finite temperature"):
        metrics.fit_temperature([[2.0, 0.0], [0.0, 1.0]], [0, 1])  # all right
    with pytest.raises(ValueError, match="No temperature fits"):
        metrics.fit_temperature([[2.0, 0.0], [0.0, 1.0]], [1, 0])  # all wrong
    with pytest.raises(ValueError, match="must be finite"):
        metrics.fit_temperature([[np.inf, 0.0], [0.0, 1.0]], [0, 0])


# --- bootstrap -----------------------------------------------------------------------


def _accuracy(y_true, y_pred):
    return float(np.mean(y_true == y_pred))


def test_bootstrap_is_deterministic_and_matches_the_normal_interval():
    y_true = np.ones(400, int)
    y_pred = np.r_[np.ones(280, int), np.zeros(120, int)]  # accuracy 0.7
    first = metrics.bootstrap_confidence_interval(_accuracy, y_true, y_pred, 2000, seed=1)
    assert first == metrics.bootstrap_confidence_interval(_accuracy, y_true, y_pred, 2000,
                                                          seed=1)
    assert first != metrics.bootstrap_confidence_interval(_accuracy, y_true, y_pred, 2000,
                                                          seed=2)
    # normal approximation: 0.7 -+ 1.96 sqrt(0.7 * 0.3 / 400) = 0.7 -+ 0.0449
    half = 1.96 * math.sqrt(0.21 / 400)
    assert first[0] == pytest.approx(0.7 - half, abs=0.01)
    assert first[1] == pytest.approx(0.7 + half, abs=0.01)


def test_bootstrap_coverage():
    rng = np.random.default_rng(0)
    covered = {0.95: 0, 0.5: 0}
    for _ in range(200):
        correct = (rng.random(100) < 0.7).astype(int)
        for confidence in covered:
            low, high = metrics.bootstrap_confidence_interval(
                _accuracy, np.ones(100, int), correct, 300, confidence, seed=rng)
            covered[confidence] += low <= 0.7 <= high
    assert 0.88 <= covered[0.95] / 200 <= 0.99
    assert 0.38 <= covered[0.5] / 200 <= 0.62


def test_bootstrap_rejects_bad_input():
    with pytest.raises(ValueError, match="confidence must lie in"):
        metrics.bootstrap_confidence_interval(_accuracy, [1], [1], confidence=95)
    with pytest.raises(ValueError, match="n_resamples must be a positive integer"):
        metrics.bootstrap_confidence_interval(_accuracy, [1], [1], n_resamples=0)
    with pytest.raises(TypeError, match="metric must be a function"):
        metrics.bootstrap_confidence_interval("accuracy", [1], [1])
    with pytest.raises(ValueError, match="metric failed on bootstrap resample"):
        metrics.bootstrap_confidence_interval(metrics.roc_auc_score, [0, 1, 1], [.2, .6, .9],
                                              seed=0)


# --- McNemar ---------------------------------------------------------------------------


def _pair(both_right, b, c, both_wrong):
    """Labels (all 0) and two models' predictions with the given counts."""
    a = [0] * both_right + [0] * b + [1] * c + [1] * both_wrong
    other = [0] * both_right + [1] * b + [0] * c + [1] * both_wrong
    return np.zeros(len(a), int), np.array(a), np.array(other)


def test_mcnemar_exact_by_hand():
    # b = 2, c = 8: 2 P(X <= 2), X ~ Bin(10, 1/2) = 2 (1 + 10 + 45) / 1024 = 0.109375
    result = metrics.mcnemar_test(*_pair(7, 2, 8, 3))
    assert result == (2.0, pytest.approx(112 / 1024), 2, 8)
    # forced exact, b = 30, c = 10: 2 sum_{i<=10} C(40, i) / 2^40 = 2442492264 / 2^40
    result = metrics.mcnemar_test(*_pair(5, 30, 10, 5), exact=True)
    assert result.pvalue == pytest.approx(2442492264 / 2 ** 40)
    assert metrics.mcnemar_test(*_pair(3, 4, 4, 0)).pvalue == 1.0
    assert metrics.mcnemar_test(*_pair(3, 0, 0, 1)) == (0.0, 1.0, 0, 0)


def test_mcnemar_chi_squared_by_hand():
    # b = 30, c = 10: (|30 - 10| - 1)^2 / 40 = 9.025; P(chi2_1 > 9.025) = erfc(sqrt(9.025/2))
    # = 0.0026631 (2 (1 - Phi(3.0042)))
    result = metrics.mcnemar_test(*_pair(5, 30, 10, 5))
    assert result.statistic == pytest.approx(9.025)
    assert result.pvalue == pytest.approx(0.0026631192591, rel=1e-9)
    # b = 13, c = 12 (b + c = 25): chi-squared; |1| - 1 = 0 -> statistic 0, p 1
    assert metrics.mcnemar_test(*_pair(0, 13, 12, 0)) == (0.0, 1.0, 13, 12)
    # b + c = 24 is still exact: statistic min(b, c)
    assert metrics.mcnemar_test(*_pair(0, 14, 10, 0)).statistic == 10.0
    # statistic 1 is the chi2_1 point of p = 0.3173
    assert metrics.mcnemar_test(*_pair(0, 24, 16, 0)).pvalue == pytest.approx(
        math.erfc(math.sqrt(49 / 40 / 2)))


def test_mcnemar_rejects_bad_input():
    with pytest.raises(ValueError, match="exact must be"):
        metrics.mcnemar_test([0], [0], [0], exact="yes")
    with pytest.raises(ValueError, match="argmax"):
        metrics.mcnemar_test([0, 1], [[0.2, 0.8], [0.6, 0.4]], [0, 1])
    with pytest.raises(ValueError, match="y_true has 2 rows but y_pred_b has 3"):
        metrics.mcnemar_test([0, 1], [0, 1], [0, 1, 1])


# --- scikit-learn and scipy, when installed ------------------------------------------------


def test_agrees_with_scikit_learn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for _ in range(50):
        y = rng.integers(0, 2, 30)
        scores = np.round(rng.random(30), 1)  # many ties
        for drop in (True, False):
            for ours, theirs in zip(metrics.roc_curve(y, scores, drop),
                                    sklearn_metrics.roc_curve(y, scores, drop_intermediate=drop)):
                np.testing.assert_allclose(ours, theirs)
        for ours, theirs in zip(metrics.precision_recall_curve(y, scores),
                                sklearn_metrics.precision_recall_curve(y, scores)):
            np.testing.assert_allclose(ours, theirs)
        assert metrics.roc_auc_score(y, scores) == pytest.approx(
            sklearn_metrics.roc_auc_score(y, scores))
        assert metrics.average_precision_score(y, scores) == pytest.approx(
            sklearn_metrics.average_precision_score(y, scores))
        labels = rng.permutation(np.arange(30) % 4)
        probabilities = rng.dirichlet(np.ones(4), 30)
        assert metrics.roc_auc_score(labels, probabilities) == pytest.approx(
            sklearn_metrics.roc_auc_score(labels, probabilities, multi_class="ovr"))
        assert metrics.average_precision_score(labels, probabilities) == pytest.approx(
            sklearn_metrics.average_precision_score(labels, probabilities))
        assert metrics.sparse_top_k_categorical_accuracy(labels, probabilities, 2) == \
            pytest.approx(sklearn_metrics.top_k_accuracy_score(labels, probabilities, k=2))


def test_mcnemar_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    for b, c in ((2, 8), (9, 14), (30, 10), (60, 41)):
        result = metrics.mcnemar_test(*_pair(3, b, c, 2))
        if b + c < 25:
            expected = stats.binomtest(min(b, c), b + c, 0.5).pvalue
        else:
            expected = stats.chi2.sf((abs(b - c) - 1) ** 2 / (b + c), 1)
        assert result.pvalue == pytest.approx(expected, rel=1e-9)
