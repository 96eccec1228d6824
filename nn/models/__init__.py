"""Models: the training loop (``Model``) apart from how layers are stacked (``Sequential``).

=============  ==============================================================
model.py       Model: compile, fit, evaluate, predict, train_on_batch, train_step
sequential.py  Sequential(Model): the stack of layers, forward and backward
saving.py      save_model and load_model: one .npz file, written atomically
=============  ==============================================================
"""
from .model import Model
from .saving import FILE_FORMAT, load_model, save_model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "save_model", "FILE_FORMAT"]
