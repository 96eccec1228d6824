"""Callbacks: code that ``fit`` calls at the start and end of training, epochs and batches.

=================  ==========================================================
callback.py        Callback (the hooks), CallbackList (calls them in turn)
history.py         History, which ``fit`` returns
progress.py        ProgressBar, what ``fit(verbose=...)`` prints
early_stopping.py  EarlyStopping
=================  ==========================================================
"""
from .callback import Callback, CallbackList
from .early_stopping import EarlyStopping
from .history import History
from .progress import ProgressBar

__all__ = ["Callback", "CallbackList", "History", "ProgressBar", "EarlyStopping"]
