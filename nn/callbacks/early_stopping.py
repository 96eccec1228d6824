"""EarlyStopping: stop when a monitored value stops improving."""
from ..checks import check_positive_int
from .callback import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has stopped improving for ``patience`` epochs.

    After ``patience`` epochs without improvement (at least one) training stops.
    An epoch improves on the best so far when its value is lower (mode 'min') or
    higher (mode 'max') by more than ``min_delta``; mode 'auto' maximises names
    containing 'acc' and minimises everything else (``MonitorCallback``).  With
    ``restore_best_weights=True`` the model ends with the weights of its best epoch,
    non-trainable state (such as moving statistics) included.  Keras:
    ``keras.callbacks.EarlyStopping``, same names and defaults (``baseline`` and
    ``start_from_epoch`` aside).
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto",
                 restore_best_weights=False):
        super().__init__(monitor, mode, min_delta)
        self.patience = check_positive_int("patience", patience, allow_zero=True)
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs=None):
        self.reset_best()
        self.best_epoch = None
        self.best_weights = None
        self.wait = 0
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        value = self.monitored_value(logs)
        if self.is_improvement(value):
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

    def get_config(self):
        return {"monitor": self.monitor, "min_delta": self.min_delta, "patience": self.patience,
                "mode": self.mode, "restore_best_weights": self.restore_best_weights}
