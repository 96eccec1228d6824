"""The layers a model is built from, one module per family as in ``keras/src/layers/``.

=================  ==========================================================
layer.py           the contract every layer follows (params, grads, state)
core.py            Dense, Flatten, Reshape, Activation, Input
regularization.py  Dropout (layers active only while training)
normalization.py   BatchNormalization, LayerNormalization
preprocessing.py   RandomTranslation (data augmentation, active only while training)
convolution.py     Conv2D (channels last)
pooling.py         MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, ...
embedding.py       Embedding (integer ids to trained vectors)
recurrent.py       SimpleRNN, LSTM, GRU
wrappers.py        Bidirectional, TimeDistributed
=================  ==========================================================

The activation layers (ReLU, Sigmoid, ...) live in ``nn.activations`` and are
re-exported here.
"""
from ..activations import LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from .. import registry
from ..registry import serialize
from .convolution import Conv2D
from .core import Activation, Dense, Flatten, Input, InputLayer, Reshape
from .embedding import Embedding
from .layer import Layer
from .pooling import (AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D,
                      MaxPooling2D)
from .normalization import BatchNormalization, LayerNormalization
from .preprocessing import RandomTranslation
from .recurrent import GRU, LSTM, SimpleRNN
from .regularization import Dropout
from .wrappers import Bidirectional, TimeDistributed

# Keras' other names for the same layers
Convolution2D, MaxPool2D, AvgPool2D = Conv2D, MaxPooling2D, AveragePooling2D
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D

__all__ = [
    "Layer", "Dense", "Flatten", "Dropout", "Activation", "Input", "InputLayer",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Linear", "serialize", "deserialize",
    "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
    "GlobalMaxPooling2D", "Reshape", "Convolution2D", "MaxPool2D", "AvgPool2D",
    "GlobalAvgPool2D", "GlobalMaxPool2D",
    "BatchNormalization", "LayerNormalization", "RandomTranslation",
    "Embedding", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed",
]


def deserialize(spec):
    """Recreate a layer from ``{'class_name': ..., 'config': {...}}`` (what ``save`` writes)."""
    return registry.deserialize(spec, "layer")
