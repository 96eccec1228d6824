"""EarlyStopping: stop when a monitored value stops improving."""
import numpy as np

from ..checks import check_positive_int
from .callback import Callback


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving for ``patience`` epochs.

    After ``patience`` epochs without improvement (at least one) training stops.
    An epoch improves on the best so far when its value is lower (mode 'min') or
    higher (mode 'max') by more than ``min_delta``; mode 'auto' maximises names
    containing 'acc' and minimises everything else.  With
    ``restore_best_weights=True`` the model ends with the weights of its best epoch,
    non-trainable state (such as moving statistics) included.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto",
                 restore_best_weights=False):
        if mode not in ("auto", "min", "max"):
            raise ValueError("EarlyStopping mode must be 'auto', 'min' or 'max'. "
                             f"Received: mode={mode!r}")
        check_positive_int("patience", patience, allow_zero=True)
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.sign = 1.0 if mode == "min" else -1.0  # compare sign * value: lower is better

    def on_train_begin(self, logs=None):
        self.best = np.inf
        self.best_epoch = None
        self.best_weights = None
        self.wait = 0
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        if not logs or self.monitor not in logs:
            available = ", ".join(sorted(logs or {}))
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which is not among the "
                             f"logs: {available}. Monitoring a 'val_' value needs validation_data "
                             "or validation_split.")
        value = self.sign * logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
