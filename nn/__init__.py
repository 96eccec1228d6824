"""nn: neural networks from scratch, in NumPy.

The library of the textbook *Neural Networks from Scratch*.  Its public API
follows Keras (``nn.Sequential``, ``nn.Input``, ``nn.layers.Dense``,
``model.compile``, ``model.fit``), and underneath every layer exposes
``forward``/``backward``.
"""
from . import layers  # first: the activation layers build on nn.layers.layer
from . import (activations, callbacks, config, data, datasets, gradcheck, initializers,
               losses, metrics, model_selection, models, ops, optimizers, registry, regularizers,
               tuning, utils)
from .layers import Input
from .models import Model, Sequential, load_model

__all__ = [
    "Input", "Model", "Sequential", "load_model", "activations", "callbacks", "config", "data",
    "datasets", "gradcheck", "initializers", "layers", "losses", "metrics", "model_selection",
    "models", "ops", "optimizers", "registry", "regularizers", "tuning", "utils",
]
__version__ = "0.1.0"
