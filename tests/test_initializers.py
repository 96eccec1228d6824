"""Tests of nn.initializers: shapes, dtypes, seeds, and the documented distributions."""
import numpy as np
import pytest

from nn import initializers
from nn.layers import Dense

NAMES = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros", "ones"]
RANDOM_NAMES = NAMES[:4]

# Standard deviation of a unit normal truncated to [-2, 2], computed here independently:
# var = 1 - 2 * 2 phi(2) / (Phi(2) - Phi(-2)).
_PHI_2 = np.exp(-2.0) / np.sqrt(2 * np.pi)
_MASS = 0.9544997361036416  # Phi(2) - Phi(-2) = erf(sqrt(2))
TRUNCATED_STD = np.sqrt(1 - 4 * _PHI_2 / _MASS)


def draw(name, shape, seed=0, dtype=np.float32):
    return initializers.get(name)(shape, np.random.default_rng(seed), dtype)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(3, 5), (7,), (2, 3, 4, 5)])
def test_shape_and_dtype(name, shape):
    assert draw(name, shape).shape == shape
    assert draw(name, shape).dtype == np.float32
    assert draw(name, shape, dtype=np.float64).dtype == np.float64
    assert initializers.get(name)(shape, np.random.default_rng(0)).dtype == np.float32  # the default


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_the_seed_fixes_the_values(name):
    np.testing.assert_array_equal(draw(name, (20, 30), seed=1), draw(name, (20, 30), seed=1))
    assert not np.array_equal(draw(name, (20, 30), seed=1), draw(name, (20, 30), seed=2))


def test_zeros_and_ones():
    np.testing.assert_array_equal(draw("zeros", (3, 4)), np.zeros((3, 4)))
    np.testing.assert_array_equal(draw("ones", (3, 4)), np.ones((3, 4)))


@pytest.mark.parametrize("name, shape, limit", [
    ("glorot_uniform", (300, 200), np.sqrt(6 / (300 + 200))),
    ("he_uniform", (300, 200), np.sqrt(6 / 300)),
    # a convolution kernel (3, 3, in, out): fans are multiplied by the receptive field 9
    ("glorot_uniform", (3, 3, 16, 32), np.sqrt(6 / (9 * 16 + 9 * 32))),
    ("he_uniform", (3, 3, 16, 32), np.sqrt(6 / (9 * 16))),
])
def test_uniform_limits_and_variance(name, shape, limit):
    values = draw(name, shape, dtype=np.float64)
    assert np.max(np.abs(values)) <= limit
    assert np.max(values) > 0.99 * limit and np.min(values) < -0.99 * limit  # the whole range is used
    assert np.var(values) == pytest.approx(limit**2 / 3, rel=0.03)  # variance of U(-a, a)
    assert abs(np.mean(values)) < 0.02 * limit


@pytest.mark.parametrize("name, shape, stddev", [
    ("glorot_normal", (300, 200), np.sqrt(2 / (300 + 200))),
    ("he_normal", (300, 200), np.sqrt(2 / 300)),
    ("he_normal", (3, 3, 16, 32), np.sqrt(2 / (9 * 16))),
])
def test_truncated_normal_bounds_and_variance(name, shape, stddev):
    values = draw(name, shape, dtype=np.float64)
    bound = 2 * stddev / TRUNCATED_STD  # truncated at 2 standard deviations of the untruncated normal
    assert np.max(np.abs(values)) <= bound * (1 + 1e-12)
    assert np.max(np.abs(values)) > 0.99 * bound
    assert np.std(values) == pytest.approx(stddev, rel=0.02)  # the target, despite the truncation
    assert abs(np.mean(values)) < 0.02 * stddev
    # a truncated normal, not a uniform: most values lie well inside the bounds
    assert np.mean(np.abs(values) < bound / 2) > 0.6


def test_dense_uses_its_initializers():
    layer = Dense(4, kernel_initializer="ones", bias_initializer="ones")
    layer.build((3,))
    np.testing.assert_array_equal(layer.params["kernel"], np.ones((3, 4)))
    np.testing.assert_array_equal(layer.params["bias"], np.ones(4))
    layer = Dense(400, kernel_initializer="he_uniform", seed=0)
    layer.build((100,))
    assert np.max(np.abs(layer.params["kernel"])) <= np.sqrt(6 / 100)
    assert np.max(np.abs(layer.params["kernel"])) > 0.99 * np.sqrt(6 / 100)


def test_get_resolves_names_and_instances():
    for name in NAMES:
        assert initializers.get(name).name == name
        assert initializers.get(name.upper()).name == name
    instance = initializers.HeNormal()
    assert initializers.get(instance) is instance


def test_get_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'xavier'") as info:
        initializers.get("xavier")
    for name in NAMES:
        assert repr(name) in str(info.value)
    with pytest.raises(TypeError, match="initializer"):
        initializers.get(0.5)
