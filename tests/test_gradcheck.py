"""Tests of nn.gradcheck itself: the error measure, the finite differences, and that a
check does fail on a deliberately wrong backward (otherwise every gradient test in this
suite would prove nothing)."""
import numpy as np
import pytest
from helpers import TOLERANCE, assert_gradients_match

import nn
from nn.gradcheck import check_layer, check_model, numerical_gradient, rel_error
from nn.layers import Dense


# --- rel_error ------------------------------------------------------------------

def test_rel_error_is_the_worst_elementwise_relative_difference():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    # |1 - 2| / (1 + 2) = 1/3 is worse than |2 - 2.2| / 4.2
    assert rel_error([1.0, 2.0], [2.0, 2.2]) == pytest.approx(1 / 3, rel=1e-12)
    assert rel_error([3.0], [-3.0]) == pytest.approx(1.0, rel=1e-12)


def test_rel_error_floor_keeps_tiny_gradients_from_looking_wrong():
    # Both near zero: the difference is divided by the floor 1e-8, not by ~1e-12.
    assert rel_error([1e-12], [3e-12]) == pytest.approx(2e-12 / 1e-8, rel=1e-9)
    assert rel_error([0.0], [0.0]) == 0.0
    assert rel_error([0.0], [1e-10], floor=1e-6) == pytest.approx(1e-4, rel=1e-9)


# --- numerical_gradient ---------------------------------------------------------

def test_numerical_gradient_of_a_scalar_function():
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.1, -0.7]])
    numeric = numerical_gradient(lambda: np.sum(x**3), x)
    np.testing.assert_allclose(numeric, 3 * x**2, rtol=1e-8)


def test_numerical_gradient_with_an_upstream_gradient():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    grad_output = rng.standard_normal((3, 4))
    numeric = numerical_gradient(lambda: np.sin(x), x, grad_output)
    np.testing.assert_allclose(numeric, grad_output * np.cos(x), rtol=1e-7, atol=1e-10)


def test_numerical_gradient_restores_the_array_it_perturbs():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3))
    before = x.copy()
    numerical_gradient(lambda: np.sum(np.tanh(x)), x)
    np.testing.assert_array_equal(x, before)


# --- the checks pass on a correct backward ------------------------------------------

def test_check_layer_reports_every_parameter():
    rng = np.random.default_rng(2)
    layer = Dense(3, activation="tanh", dtype="float64", seed=0)
    errors = check_layer(layer, rng.standard_normal((4, 5)), rng=0)
    assert_gradients_match(errors, {"input", "kernel", "bias"})


def test_check_model_reports_every_parameter_by_layer_name():
    rng = np.random.default_rng(3)
    model = nn.Sequential([Dense(4, activation="tanh", input_dim=3, name="hidden"),
                           Dense(2, activation="softmax", name="out")], seed=0, dtype="float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    errors = check_model(model, rng.standard_normal((5, 3)), rng.integers(0, 2, 5))
    assert_gradients_match(errors, {"hidden/kernel", "hidden/bias", "out/kernel", "out/bias"})


# --- ... and fail on a wrong one ----------------------------------------------------

class DoubledInputGradient(Dense):
    """dx = 2 g W^T: the input gradient twice too large."""

    def backward_logits(self, grad_output):
        grad_input = super().backward_logits(grad_output)
        return 2 * grad_input


class UntransposedKernel(Dense):
    """dx = g W instead of g W^T (only runs for a square kernel)."""

    def backward_logits(self, grad_output):
        super().backward_logits(grad_output)
        return grad_output @ self.params["kernel"]


class TransposedKernelGradient(Dense):
    """dW = (x^T g)^T: right numbers, wrong places (square kernel)."""

    def backward_logits(self, grad_output):
        grad_input = super().backward_logits(grad_output)
        self.grads["kernel"][...] = self.grads["kernel"].T.copy()
        return grad_input


class MeanBiasGradient(Dense):
    """db = mean over the batch instead of the sum."""

    def backward_logits(self, grad_output):
        grad_input = super().backward_logits(grad_output)
        self.grads["bias"] /= grad_output.shape[0]
        return grad_input


@pytest.mark.parametrize("layer_class, wrong_key", [
    (DoubledInputGradient, "input"),
    (UntransposedKernel, "input"),
    (TransposedKernelGradient, "kernel"),
    (MeanBiasGradient, "bias"),
])
def test_check_layer_catches_a_wrong_backward(layer_class, wrong_key):
    rng = np.random.default_rng(4)
    layer = layer_class(4, activation="tanh", dtype="float64", seed=0)
    layer.build((4,))
    layer.params["bias"][...] = rng.standard_normal(4)
    errors = check_layer(layer, rng.standard_normal((6, 4)), rng=0)
    assert errors[wrong_key] > 1e-2, errors
    # and only there: the other gradients are still right
    assert all(error < TOLERANCE for key, error in errors.items() if key != wrong_key), errors


def test_check_model_catches_a_wrong_backward():
    rng = np.random.default_rng(5)
    model = nn.Sequential([Dense(4, activation="tanh", input_dim=3, name="hidden"),
                           MeanBiasGradient(3, activation="softmax", name="out")], seed=0, dtype="float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    errors = check_model(model, rng.standard_normal((6, 3)), rng.integers(0, 3, 6))
    assert errors["out/bias"] > 1e-2, errors
    assert errors["out/kernel"] < TOLERANCE and errors["hidden/bias"] < TOLERANCE, errors


def test_check_model_catches_a_wrong_input_gradient_in_a_lower_layer():
    # The doubled dx of the top layer reaches the hidden layer's parameters.
    rng = np.random.default_rng(6)
    model = nn.Sequential([Dense(4, activation="tanh", input_dim=3, name="hidden"),
                           DoubledInputGradient(3, activation="softmax", name="out")], seed=0, dtype="float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    errors = check_model(model, rng.standard_normal((6, 3)), rng.integers(0, 3, 6))
    assert errors["hidden/kernel"] > 1e-2 and errors["hidden/bias"] > 1e-2, errors
    assert errors["out/kernel"] < TOLERANCE, errors
