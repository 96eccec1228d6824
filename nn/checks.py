"""The argument checks used in more than one module, each with one wording.

Errors repeat the value received and say what was expected, as Keras's do.
"""
import numpy as np


def check_positive_int(name, value, allow_zero=False):
    """Return ``value`` as an int, or raise ValueError unless it is a positive integer."""
    smallest = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < smallest:
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a {kind} integer. Received: {name}={value!r}")
    return int(value)


def check_same_rows(first, second, first_name="x", second_name="y"):
    """Raise ValueError unless two arrays have the same number of rows (samples)."""
    if len(first) != len(second):
        raise ValueError(f"{first_name} has {len(first)} rows but {second_name} has "
                         f"{len(second)}: they must match.")
