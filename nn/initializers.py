"""Weight initializers: how the first weights are drawn.

Every initializer is called as ``initializer(shape, rng, dtype)`` with an explicit
``numpy.random.Generator``, so the same seed always gives the same weights.
For a kernel of shape ``(fan_in, fan_out)``:

=================  ==========================================================
glorot_uniform     U(-a, a),  a = sqrt(6 / (fan_in + fan_out))
glorot_normal      N(0, s^2) truncated at 2s,  s = sqrt(2 / (fan_in + fan_out))
he_uniform         U(-a, a),  a = sqrt(6 / fan_in)
he_normal          N(0, s^2) truncated at 2s,  s = sqrt(2 / fan_in)
zeros, ones        constant
=================  ==========================================================

Glorot keeps the variance of activations and gradients roughly constant across
tanh/sigmoid layers; He doubles it to make up for ReLU zeroing half its inputs.
"""
import numpy as np

# Standard deviation of a unit normal truncated to [-2, 2]; dividing by it makes
# the truncated draw have the intended variance (as Keras does).
_TRUNCATED_NORMAL_STD = 0.87962566103423978


def _fans(shape):
    if len(shape) < 2:
        return shape[0], shape[0]
    receptive_field = int(np.prod(shape[:-2]))
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _truncated_normal(shape, stddev, rng):
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(outside.sum())
        outside = np.abs(values) > 2.0
    return values * (stddev / _TRUNCATED_NORMAL_STD)


class Initializer:
    name = None

    def __call__(self, shape, rng, dtype=np.float32):
        return self.sample(tuple(shape), rng).astype(dtype, copy=False)

    def get_config(self):
        return self.name


class GlorotUniform(Initializer):
    name = "glorot_uniform"

    def sample(self, shape, rng):
        fan_in, fan_out = _fans(shape)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)


class GlorotNormal(Initializer):
    name = "glorot_normal"

    def sample(self, shape, rng):
        fan_in, fan_out = _fans(shape)
        return _truncated_normal(shape, np.sqrt(2.0 / (fan_in + fan_out)), rng)


class HeUniform(Initializer):
    name = "he_uniform"

    def sample(self, shape, rng):
        fan_in, _ = _fans(shape)
        limit = np.sqrt(6.0 / fan_in)
        return rng.uniform(-limit, limit, shape)


class HeNormal(Initializer):
    name = "he_normal"

    def sample(self, shape, rng):
        fan_in, _ = _fans(shape)
        return _truncated_normal(shape, np.sqrt(2.0 / fan_in), rng)


class Zeros(Initializer):
    name = "zeros"

    def sample(self, shape, rng):
        return np.zeros(shape)


class Ones(Initializer):
    name = "ones"

    def sample(self, shape, rng):
        return np.ones(shape)


_BY_NAME = {cls.name: cls for cls in (GlorotUniform, GlorotNormal, HeUniform, HeNormal, Zeros, Ones)}


def get(identifier):
    """Resolve an initializer name ('he_normal', ...) or pass an instance through."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in _BY_NAME:
            return _BY_NAME[identifier.lower()]()
        raise ValueError(
            f"Unknown initializer {identifier!r}. Expected one of: {', '.join(map(repr, sorted(_BY_NAME)))}."
        )
    raise TypeError(f"Expected an initializer name or Initializer instance. Received: {identifier!r}")
