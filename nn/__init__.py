"""nn: neural networks from scratch, in NumPy.

The library of the textbook *Neural Networks from Scratch*.  Its public API
follows Keras (``nn.Sequential``, ``nn.layers.Dense``, ``model.compile``,
``model.fit``), and underneath every layer exposes ``forward``/``backward``.
"""
from . import (activations, callbacks, config, data, datasets, gradcheck, initializers, layers, losses,
               metrics, models, optimizers)
from .models import Sequential, load_model

__all__ = [
    "Sequential", "load_model", "activations", "callbacks", "config", "data", "datasets", "gradcheck",
    "initializers", "layers", "losses", "metrics", "models", "optimizers",
]
__version__ = "0.1.0"
