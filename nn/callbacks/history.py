"""History: the record of every epoch's logs that ``fit`` returns."""
from .callback import Callback


class History(Callback):
    """Records every epoch's logs: ``history.history['val_loss'][epoch]``.

    ``fit`` returns one; ``history.epoch`` lists the epochs that ran.
    """

    def __init__(self):
        self.epoch = []
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
