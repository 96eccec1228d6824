"""Package-wide settings: the default floating-point dtype of new weights.

Training runs in float32 (half the memory traffic of float64, and what BLAS is
fastest at); gradient checks switch to float64, where finite differences are
accurate enough to compare against an analytic gradient.
"""
import numpy as np

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_floatx = np.dtype(np.float32)


def floatx():
    """The dtype new layers and models use when none is given (float32 unless changed)."""
    return _floatx


def as_float_dtype(dtype):
    """Check that `dtype` is float32 or float64 and return it as a ``np.dtype``."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError("Expected a float dtype (float32 or float64). "
                        f"Received: dtype={dtype!r}") from None
    if resolved not in _FLOAT_DTYPES:
        raise ValueError(f"Expected dtype float32 or float64. Received: dtype={dtype!r}")
    return resolved


def set_floatx(dtype):
    """Set the default dtype of layers created from now on ('float32' or 'float64')."""
    global _floatx
    _floatx = as_float_dtype(dtype)
