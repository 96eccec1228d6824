"""Callbacks: code that ``fit`` calls at the start and end of training, epochs and batches.

===================  ==========================================================
callback.py          Callback (the hooks), CallbackList (calls them in turn),
                     MonitorCallback (watches one logged value, keeps the best)
history.py           History, which ``fit`` returns
progress.py          ProgressBar, what ``fit(verbose=...)`` prints
early_stopping.py    EarlyStopping
schedulers.py        LearningRateScheduler, ReduceLROnPlateau: the learning rate
checkpoint.py        ModelCheckpoint: the model or its weights saved, atomically
logger.py            CSVLogger: one row of logs per epoch
terminate_on_nan.py  TerminateOnNaN: a quiet stop when the loss is NaN or inf
lambda_callback.py   LambdaCallback: a callback made of functions
===================  ==========================================================
"""
from .callback import Callback, CallbackList, MonitorCallback
from .checkpoint import ModelCheckpoint
from .early_stopping import EarlyStopping
from .history import History
from .lambda_callback import LambdaCallback
from .logger import CSVLogger
from .progress import ProgressBar
from .schedulers import LearningRateScheduler, ReduceLROnPlateau
from .terminate_on_nan import TerminateOnNaN

__all__ = ["Callback", "CallbackList", "MonitorCallback", "History", "ProgressBar",
           "EarlyStopping", "LearningRateScheduler", "ReduceLROnPlateau", "ModelCheckpoint",
           "CSVLogger", "TerminateOnNaN", "LambdaCallback"]
