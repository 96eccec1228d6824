"""Numerical kernels that several layers and losses share, kept apart from the registry.

Each is a plain function of arrays; the layers and losses that use them add the
caching and the backward pass.
"""
import numpy as np


def sigmoid(x, out=None):
    """Numerically stable logistic function (no overflow for any finite x)."""
    exp_minus_abs = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.divide(np.where(x >= 0, 1.0, exp_minus_abs), 1.0 + exp_minus_abs, out=out)


def softmax(x, out=None):
    """Softmax along the last axis with the row maximum subtracted first."""
    out = np.subtract(x, np.max(x, axis=-1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= np.sum(out, axis=-1, keepdims=True)
    return out


def log_softmax(logits):
    """log softmax(z) = z - logsumexp(z), with the row maximum subtracted first."""
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
