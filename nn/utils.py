"""Small utilities a Keras program calls: ``clear_session``."""
from .layers import layer


def clear_session():
    """Start default layer names afresh, as ``keras.utils.clear_session()`` does.

    Layers without a name are called ``dense``, ``dense_1``, ... from one counter per
    class for the whole process; a program that builds many models (a tuner, a
    notebook re-run) calls this between them to get ``dense`` again.
    """
    layer.reset_names()
