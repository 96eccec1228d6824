"""Small utilities a Keras program calls: ``clear_session``, ``to_categorical``."""
import numpy as np

from .data import one_hot
from .layers import layer


def clear_session():
    """Start default layer names afresh, as ``keras.utils.clear_session()`` does.

    Layers without a name are called ``dense``, ``dense_1``, ... from one counter per
    class for the whole process; a program that builds many models (a tuner, a
    notebook re-run) calls this between them to get ``dense`` again.
    """
    layer.reset_names()


def to_categorical(y, num_classes=None):
    """Keras' name for ``nn.data.one_hot``: integer labels to one-hot rows (float32).

    y: (n,) integers in [0, num_classes), or (n, 1) as Keras also accepts (the trailing
    axis of size 1 is dropped)   returns: (n, num_classes)
    num_classes defaults to y.max() + 1. Example: to_categorical([2, 0], 3) -> [[0, 0, 1],
    [1, 0, 0]]. Keras returns float64; nn returns float32, the dtype models train in.
    """
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    return one_hot(y, num_classes)
