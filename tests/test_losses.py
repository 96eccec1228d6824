"""Tests of nn.losses: gradients, values, stability with confident logits, errors, resolving."""
import math
import warnings

import numpy as np
import pytest
from helpers import TOLERANCE

import nn
from nn import losses
from nn.gradcheck import numerical_gradient, rel_error
from nn.losses import BinaryCrossentropy, CategoricalCrossentropy, MeanSquaredError, SparseCategoricalCrossentropy


def softmax_rows(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)


def make_case(name, rng):
    """(loss, y_true, y_pred) of random shape for the loss called ``name``, in float64."""
    n, k = int(rng.integers(1, 7)), int(rng.integers(2, 6))
    labels = rng.integers(0, k, n)
    one_hot = np.eye(k)[labels]
    logits = 3 * rng.standard_normal((n, k))
    # Probabilities of at least 0.02: near 0 the derivative -1/p changes too fast for
    # finite differences with h = 1e-6 to follow (the clipped region is tested below).
    probabilities = rng.uniform(0.1, 1.0, (n, k))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    if name == "mse":
        return MeanSquaredError(), rng.standard_normal((n, k)), rng.standard_normal((n, k))
    if name == "mse (n,) targets":
        return MeanSquaredError(), rng.standard_normal(n), rng.standard_normal((n, 1))
    if name == "binary probabilities":
        return BinaryCrossentropy(), rng.integers(0, 2, (n, 1)), rng.uniform(0.05, 0.95, (n, 1))
    if name == "binary soft labels":
        return BinaryCrossentropy(), rng.uniform(0, 1, (n, k)), rng.uniform(0.05, 0.95, (n, k))
    if name == "binary logits":
        return BinaryCrossentropy(from_logits=True), rng.integers(0, 2, (n, 1)), 3 * rng.standard_normal((n, 1))
    if name == "binary logits, (n,) labels":
        return BinaryCrossentropy(from_logits=True), rng.integers(0, 2, n), 3 * rng.standard_normal((n, 1))
    if name == "categorical probabilities":
        return CategoricalCrossentropy(), one_hot, probabilities
    if name == "categorical logits":
        return CategoricalCrossentropy(from_logits=True), one_hot, logits
    if name == "sparse probabilities":
        return SparseCategoricalCrossentropy(), labels, probabilities
    if name == "sparse logits":
        return SparseCategoricalCrossentropy(from_logits=True), labels, logits
    raise KeyError(name)


CASES = ["mse", "mse (n,) targets", "binary probabilities", "binary soft labels", "binary logits",
         "binary logits, (n,) labels", "categorical probabilities", "categorical logits",
         "sparse probabilities", "sparse logits"]


# --- gradients -----------------------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_loss_gradient(name, seed):
    loss, y_true, y_pred = make_case(name, np.random.default_rng(seed))
    loss(y_true, y_pred)
    analytic = loss.backward()
    assert analytic.shape == y_pred.shape
    numeric = numerical_gradient(lambda: loss.forward(y_true, y_pred), y_pred)
    assert rel_error(analytic, numeric) < TOLERANCE


@pytest.mark.parametrize("name", CASES)
def test_loss_is_a_python_float_and_backward_repeats(name):
    loss, y_true, y_pred = make_case(name, np.random.default_rng(4))
    value = loss(y_true, y_pred)
    assert type(value) is float
    first = loss.backward().copy()
    np.testing.assert_array_equal(loss.backward(), first)  # backward does not consume its cache


# --- values ------------------------------------------------------------------------

def test_mean_squared_error_value():
    y_true = np.array([[1.0, 2.0], [3.0, 4.0]])
    y_pred = np.array([[1.5, 2.0], [1.0, 4.0]])
    loss = MeanSquaredError()
    assert loss(y_true, y_pred) == pytest.approx((0.25 + 4.0) / 4, rel=1e-15)
    np.testing.assert_allclose(loss.backward(), [[0.25, 0.0], [-1.0, 0.0]], rtol=1e-15)  # 2 (y_pred - y) / (n k)


def test_binary_crossentropy_value():
    y = np.array([[1.0], [0.0], [1.0]])
    p = np.array([[0.9], [0.2], [0.4]])
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.4)) / 3
    assert BinaryCrossentropy()(y, p) == pytest.approx(expected, rel=1e-12)
    logits = np.log(p / (1 - p))  # sigmoid(logits) = p
    assert BinaryCrossentropy(from_logits=True)(y, logits) == pytest.approx(expected, rel=1e-12)


def test_categorical_and_sparse_crossentropy_values():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    labels = np.array([0, 1])
    expected = -(math.log(0.7) + math.log(0.3)) / 2
    assert CategoricalCrossentropy()(np.eye(3)[labels], p) == pytest.approx(expected, rel=1e-12)
    assert SparseCategoricalCrossentropy()(labels, p) == pytest.approx(expected, rel=1e-12)
    logits = np.log(p) + np.array([[5.0], [-2.0]])  # a constant per row does not change softmax
    assert CategoricalCrossentropy(from_logits=True)(np.eye(3)[labels], logits) == pytest.approx(expected, rel=1e-12)
    assert SparseCategoricalCrossentropy(from_logits=True)(labels, logits) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_equals_categorical_with_one_hot_labels(from_logits):
    loss_case = make_case("sparse logits" if from_logits else "sparse probabilities", np.random.default_rng(5))
    sparse, labels, y_pred = loss_case
    categorical = CategoricalCrossentropy(from_logits=from_logits)
    one_hot = np.eye(y_pred.shape[1])[labels]
    assert sparse(labels, y_pred) == pytest.approx(categorical(one_hot, y_pred), rel=1e-12)
    np.testing.assert_allclose(sparse.backward(), categorical.backward(), rtol=1e-12)


def test_sparse_accepts_labels_of_shape_n_1_and_integral_floats():
    p = np.array([[0.7, 0.3], [0.4, 0.6]])
    expected = SparseCategoricalCrossentropy()(np.array([0, 1]), p)
    assert SparseCategoricalCrossentropy()(np.array([[0], [1]]), p) == expected
    assert SparseCategoricalCrossentropy()(np.array([0.0, 1.0]), p) == expected


# --- stability --------------------------------------------------------------------------

@pytest.fixture
def strict_floating_point():
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        yield


# Confident logits, right and wrong: rows 0 and 2 are wrong by a margin of 100.
CONFIDENT_LOGITS = np.array([[50.0, -50.0], [-50.0, 50.0], [-50.0, 50.0], [50.0, -50.0]])
CONFIDENT_LABELS = np.array([1, 1, 0, 0])


def test_confident_logits_categorical(strict_floating_point):
    for loss, labels in [(CategoricalCrossentropy(from_logits=True), np.eye(2)[CONFIDENT_LABELS]),
                         (SparseCategoricalCrossentropy(from_logits=True), CONFIDENT_LABELS)]:
        single = type(loss)(from_logits=True)
        assert single(labels[:1], CONFIDENT_LOGITS[:1]) == pytest.approx(100.0, rel=1e-12)
        # per row: 100 + log(1 + e^-100) when wrong, log(1 + e^-100) when right
        value = loss(labels, CONFIDENT_LOGITS)
        assert value == pytest.approx((100 + 100 + 4 * math.log1p(math.exp(-100))) / 4, rel=1e-12)
        grad = loss.backward()
        p = softmax_rows(CONFIDENT_LOGITS)
        np.testing.assert_allclose(grad, (p - np.eye(2)[CONFIDENT_LABELS]) / 4, rtol=1e-12, atol=0)
        assert np.all(np.isfinite(grad))


def test_confident_logits_binary(strict_floating_point):
    logits = np.array([[50.0], [-50.0], [50.0], [-50.0], [-1000.0], [1000.0]])
    labels = np.array([[0], [1], [1], [0], [1], [0]])
    loss = BinaryCrossentropy(from_logits=True)
    assert BinaryCrossentropy(from_logits=True)(labels[:1], logits[:1]) == pytest.approx(50.0, rel=1e-12)
    value = loss(labels, logits)
    expected = (50 + 50 + 2 * math.log1p(math.exp(-50)) + 1000 + 1000) / 6
    assert value == pytest.approx(expected, rel=1e-12)
    p = np.array([[1 / (1 + math.exp(-z))] if z > -700 else [0.0] for z in logits[:, 0]])
    np.testing.assert_allclose(loss.backward(), (p - labels) / 6, rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_very_large_logits_stay_finite(dtype, strict_floating_point):
    logits = np.array([[1e4, -1e4, 0.0], [-3e4, 3e4, 0.0]], dtype=dtype)
    labels = np.array([1, 2])
    loss = SparseCategoricalCrossentropy(from_logits=True)
    assert loss(labels, logits) == pytest.approx((2e4 + 3e4) / 2, rel=1e-6)
    grad = loss.backward()
    assert grad.dtype == dtype and np.all(np.isfinite(grad))
    binary = BinaryCrossentropy(from_logits=True)
    assert binary(np.array([[0], [1]]), np.array([[1e4], [-3e4]], dtype=dtype)) == pytest.approx(2e4, rel=1e-6)
    assert np.all(np.isfinite(binary.backward()))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probabilities_of_exactly_0_and_1_are_clipped(dtype, strict_floating_point):
    # Probabilities are clipped to [epsilon, 1 - epsilon], epsilon = 1e-7, in the dtype
    # of the predictions (in float32, 1 - 1e-7 rounds to 1 - 2^-23).
    low, high = float(dtype(1e-7)), float(dtype(1 - 1e-7))
    worst = -math.log(low)  # the loss of a confident wrong prediction
    p = np.array([[0.0], [1.0], [0.0], [1.0]], dtype=dtype)
    y = np.array([[1], [0], [0], [1]])
    loss = BinaryCrossentropy()
    expected = (worst - math.log(float(dtype(1) - dtype(high))) - math.log(1 - low) - math.log(high)) / 4
    assert loss(y, p) == pytest.approx(expected, rel=1e-5)
    assert loss(y, p) > 7.9  # about log(1e7) / 2
    assert np.all(np.isfinite(loss.backward()))

    p = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=dtype)
    for loss, labels in [(CategoricalCrossentropy(), np.array([[1, 0], [1, 0]])),
                         (SparseCategoricalCrossentropy(), np.array([0, 0]))]:
        assert loss(labels, p) == pytest.approx(worst / 2, rel=1e-5)
        assert np.all(np.isfinite(loss.backward()))


# --- bad inputs -------------------------------------------------------------------------------

@pytest.mark.parametrize("labels, bad", [([0, 3, 1], 3), ([0, -1, 2], -1), ([7, 0, 0], 7)])
def test_sparse_labels_outside_the_classes(labels, bad):
    with pytest.raises(ValueError, match=rf"\[0, 3\).*Received label {bad}\b"):
        SparseCategoricalCrossentropy()(np.array(labels), np.full((3, 3), 1 / 3))


def test_sparse_rejects_fractional_and_one_hot_labels():
    with pytest.raises(TypeError, match="integers"):
        SparseCategoricalCrossentropy()(np.array([0.5, 1.0]), np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match=r"shape \(2, 2\).*categorical_crossentropy"):
        SparseCategoricalCrossentropy()(np.eye(2), np.full((2, 2), 0.5))


@pytest.mark.parametrize("loss", [MeanSquaredError(), BinaryCrossentropy(), CategoricalCrossentropy(),
                                  SparseCategoricalCrossentropy()])
def test_rows_must_match(loss):
    y_true = np.zeros((3, 2)) if loss.name in ("mean_squared_error", "categorical_crossentropy") else np.zeros(3)
    with pytest.raises(ValueError, match="y_true has 3 rows but y_pred has 4"):
        loss(y_true.astype(int) if "sparse" in loss.name else y_true, np.full((4, 2), 0.5))


def test_shapes_must_match():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 2\)"):
        CategoricalCrossentropy()(np.zeros((2, 3)), np.full((2, 2), 0.5))


def test_binary_labels_must_lie_in_0_1():
    with pytest.raises(ValueError, match=r"\[0, 1\].*2"):
        BinaryCrossentropy()(np.array([[0], [2]]), np.full((2, 1), 0.5))


# --- resolving -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, cls", [("mse", MeanSquaredError), ("mean_squared_error", MeanSquaredError),
                                       ("binary_crossentropy", BinaryCrossentropy),
                                       ("categorical_crossentropy", CategoricalCrossentropy),
                                       ("Sparse_Categorical_Crossentropy", SparseCategoricalCrossentropy)])
def test_get_resolves_names(name, cls):
    loss = losses.get(name)
    assert type(loss) is cls and not loss.from_logits


def test_get_passes_instances_and_configs_through():
    loss = SparseCategoricalCrossentropy(from_logits=True)
    assert losses.get(loss) is loss
    restored = losses.get(nn.registry.serialize(loss))
    assert type(restored) is SparseCategoricalCrossentropy and restored.from_logits
    assert type(losses.get(nn.registry.serialize(MeanSquaredError()))) is MeanSquaredError


def test_get_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'crossentropy'") as info:
        losses.get("crossentropy")
    for name in ("mse", "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"):
        assert repr(name) in str(info.value)
    with pytest.raises(TypeError, match="loss"):
        losses.get(42)


@pytest.mark.parametrize("activation, loss, fused_class", [
    ("softmax", "sparse_categorical_crossentropy", SparseCategoricalCrossentropy),
    ("softmax", "categorical_crossentropy", CategoricalCrossentropy),
    ("sigmoid", "binary_crossentropy", BinaryCrossentropy),
])
def test_fused_gives_the_from_logits_twin(activation, loss, fused_class):
    fused = losses.fused(activation, losses.get(loss))
    assert type(fused) is fused_class and fused.from_logits


@pytest.mark.parametrize("activation, loss", [
    ("sigmoid", "sparse_categorical_crossentropy"), ("softmax", "binary_crossentropy"),
    ("sigmoid", "categorical_crossentropy"), (None, "categorical_crossentropy"), (None, "binary_crossentropy"),
    ("softmax", "mse"), ("sigmoid", "mse"), (None, "mse"), ("tanh", "mse"),
])
def test_fused_is_none_when_activation_and_loss_do_not_match(activation, loss):
    assert losses.fused(activation, losses.get(loss)) is None


def test_fused_is_none_for_a_loss_already_from_logits():
    assert losses.fused("softmax", SparseCategoricalCrossentropy(from_logits=True)) is None
