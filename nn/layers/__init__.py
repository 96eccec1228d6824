"""The layers a model is built from, one module per family as in ``keras/src/layers/``.

=================  ==========================================================
layer.py           the contract every layer follows (params, grads, state)
core.py            Dense, Flatten, Activation, Input
regularization.py  Dropout (layers active only while training)
=================  ==========================================================

The activation layers (ReLU, Sigmoid, ...) live in ``nn.activations`` and are
re-exported here.
"""
from ..activations import LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from .. import registry
from ..registry import serialize
from .core import Activation, Dense, Flatten, Input, InputLayer
from .layer import Layer
from .regularization import Dropout

__all__ = [
    "Layer", "Dense", "Flatten", "Dropout", "Activation", "Input", "InputLayer",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Linear", "serialize", "deserialize",
]


def deserialize(spec):
    """Recreate a layer from ``{'class_name': ..., 'config': {...}}`` (what ``save`` writes)."""
    return registry.deserialize(spec, "layer")
