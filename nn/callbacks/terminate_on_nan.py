"""TerminateOnNaN: end training quietly when the loss stops being a number."""
import math

from .callback import Callback


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite.

    Without it ``fit`` raises FloatingPointError at such a batch; with it ``fit`` prints
    ``Epoch 3, batch 7: invalid loss nan, terminating training``, ends the epoch there
    and returns its History as usual (``on_epoch_end`` and ``on_train_end`` are called;
    the epoch's logged loss is the non-finite one).  Unlike Keras, the weights are those
    from before the step that diverged: nn checks the loss before the update.  Keras:
    ``keras.callbacks.TerminateOnNaN()``.
    """

    def __init__(self):
        self._epoch = 0
        self.stopped_at = None  # (epoch, batch), both from 0, once it has stopped training

    def on_train_begin(self, logs=None):
        self.stopped_at = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Epoch {self._epoch + 1}, batch {batch + 1}: invalid loss {loss}, "
                  "terminating training")
            self.stopped_at = (self._epoch, batch)
            self.model.stop_training = True
