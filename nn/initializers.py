"""Weight initializers: how the first weights are drawn.

Every initializer is called as ``initializer(shape, rng, dtype)`` with an explicit
``numpy.random.Generator``, so the same seed always gives the same weights.
For a kernel of shape ``(fan_in, fan_out)``:

=================  ==========================================================
glorot_uniform     U(-a, a),  a = sqrt(6 / (fan_in + fan_out))
glorot_normal      truncated normal, std s,  s = sqrt(2 / (fan_in + fan_out))
he_uniform         U(-a, a),  a = sqrt(6 / fan_in)
he_normal          truncated normal, std s,  s = sqrt(2 / fan_in)
random_uniform     U(minval, maxval), default U(-0.05, 0.05)   (alias 'uniform')
random_normal      N(mean, stddev^2), default N(0, 0.05^2)      (alias 'normal')
zeros, ones        constant 0 or 1;  Constant(value) any constant
orthogonal         an orthogonal matrix times gain (default 1.0): recurrent kernels
=================  ==========================================================

Names resolve through ``get`` ('he_normal', or the class name 'HeNormal'); every
initializer registers itself (``nn.registry``), so one of your own saves and loads.

A truncated normal with standard deviation s (as Keras draws it): a unit normal
redrawn until it lies within [-2, 2], then scaled by s / 0.8796 (0.8796 is the
standard deviation of that truncated unit normal), so the weights have variance
s^2 and never exceed 2 / 0.8796 = 2.27 s in size.

Glorot keeps the variance of activations and gradients roughly constant across
layers whose activation has slope 1 and mean 0 at zero: linear layers and tanh.
For the sigmoid (slope 1/4, mean 1/2) it does not: the gradient shrinks by roughly
a factor of four a layer (chapter 3 measures it). He doubles the variance to make up
for ReLU zeroing half its inputs; use it for ReLU and its relatives.
"""
import numpy as np

from . import registry

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


class Initializer(registry.Serializable, family="initializer"):
    """Base class: ``initializer(shape, rng, dtype)`` draws an array of that shape.

    A subclass implements ``sample(shape, rng)`` (float64 values); ``name`` is the
    string that selects it, and ``get_config`` returns its settings.
    """

    name = None

    def __call__(self, shape, rng, dtype=np.float32):
        return self.sample(tuple(shape), rng).astype(dtype, copy=False)

    def sample(self, shape, rng):
        raise NotImplementedError


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


class RandomUniform(Initializer):
    name = "random_uniform"
    aliases = ("uniform",)

    def __init__(self, minval=-0.05, maxval=0.05):
        if not minval < maxval:
            raise ValueError("RandomUniform expects minval < maxval. "
                             f"Received: minval={minval!r}, maxval={maxval!r}")
        self.minval, self.maxval = float(minval), float(maxval)

    def sample(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval}


class RandomNormal(Initializer):
    name = "random_normal"
    aliases = ("normal",)

    def __init__(self, mean=0.0, stddev=0.05):
        if not stddev >= 0:
            raise ValueError(f"RandomNormal expects stddev >= 0. Received: stddev={stddev!r}")
        self.mean, self.stddev = float(mean), float(stddev)

    def sample(self, shape, rng):
        return rng.normal(self.mean, self.stddev, shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


class Constant(Initializer):
    name = "constant"

    def __init__(self, value=0.0):
        self.value = float(value)

    def sample(self, shape, rng):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


class Zeros(Initializer):
    name = "zeros"

    def sample(self, shape, rng):
        return np.zeros(shape)


class Ones(Initializer):
    name = "ones"

    def sample(self, shape, rng):
        return np.ones(shape)


class Orthogonal(Initializer):
    """An orthogonal matrix times ``gain`` (Saxe et al., 2014), as Keras draws it.

    For shape (rows, cols), with more dimensions flattened into the rows: the QR
    decomposition A = QR of a (max, min) matrix of unit normals, Q's columns
    multiplied by the signs of R's diagonal (so Q is uniformly distributed), and Q
    transposed when rows < cols.  The result has orthonormal columns, or orthonormal
    rows if it is wide: a recurrent kernel U (units, 4 units) then keeps the length of
    h in h U.  The default for ``recurrent_kernel`` in the recurrent layers.
    """

    name = "orthogonal"

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def sample(self, shape, rng):
        if len(shape) < 2:
            raise ValueError("Orthogonal needs a shape of at least two dimensions. "
                             f"Received: shape={shape}")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q *= np.where(np.diag(r) < 0, -1.0, 1.0)  # the signs of R's diagonal
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain}


def get(identifier):
    """Resolve an initializer: a name ('he_normal', ...), an instance, or a saved
    ``{'class_name', 'config'}`` dict."""
    return registry.get(identifier, "initializer", Initializer)
