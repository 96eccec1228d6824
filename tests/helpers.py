"""Shared helpers of the unit tests of nn (imported as ``from helpers import ...``)."""
import numpy as np

# The largest relative error a float64 gradient check may report. A correct backward
# gives about 1e-9 here; a wrong one gives 1e-2 or more, so the margin is wide.
TOLERANCE = 1e-6


def assert_gradients_match(errors, expected_keys, tolerance=TOLERANCE):
    """Check a ``check_layer``/``check_model`` result: the expected keys, every error small.

    Comparing the keys first keeps the check from passing vacuously (a parameter that
    was never compared cannot be wrong).
    """
    assert set(errors) == set(expected_keys), f"checked {sorted(errors)}, expected {sorted(expected_keys)}"
    too_large = {key: error for key, error in errors.items() if not error < tolerance}  # NaN counts as too large
    assert not too_large, f"relative errors above {tolerance:g}: {too_large} (all: {errors})"


def away_from_zero(values, margin=1e-3):
    """``values`` with every entry closer than ``margin`` to 0 pushed to +-0.5.

    Finite differences straddling the kink of ReLU at 0 disagree with any derivative;
    a step of h = 1e-5 (nn.gradcheck's default) cannot reach 0 from 1e-3.
    """
    values = np.array(values, dtype=np.float64)
    near = np.abs(values) < margin
    values[near] = np.where(values[near] < 0, -0.5, 0.5)
    return values
