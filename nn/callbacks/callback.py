"""The callback contract, and the list that calls every callback's hooks in turn.

A callback sees the model (``self.model``), the settings of the ``fit`` call
(``self.params``: epochs, steps, verbose) and a ``logs`` mapping at each hook:
``{'loss': ..., 'accuracy': ..., 'val_loss': ...}`` at the end of an epoch, the
running means of the epoch so far at the end of a batch.  Setting
``model.stop_training = True`` ends training after the current epoch.
"""
from collections.abc import Mapping

from ..registry import Serializable

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end")


class Callback(Serializable, family="callback"):
    """Base class: override the hooks you need; ``self.model`` is the model being trained."""

    model = None
    params = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = dict(params)

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass


class CallbackList:
    """Calls each hook on every callback, in order; skips the callbacks that do not define it.

    Only the callbacks that override a batch hook are called per batch, so callbacks
    that act once per epoch cost nothing per step.
    """

    def __init__(self, callbacks, model=None, params=None):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be nn.callbacks.Callback instances. "
                                f"Received: {callback!r}")
            if model is not None:
                callback.set_model(model)
            if params is not None:
                callback.set_params(params)
        self._overriding = {hook: [getattr(callback, hook) for callback in self.callbacks
                                   if getattr(type(callback), hook) is not getattr(Callback, hook)]
                            for hook in _HOOKS}

    def __iter__(self):
        return iter(self.callbacks)

    def _call(self, hook, *arguments):
        for method in self._overriding[hook]:
            method(*arguments)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)


class LazyLogs(Mapping):
    """A logs mapping computed only when first read: per-batch logs cost nothing unread."""

    def __init__(self, compute):
        self._compute, self._logs = compute, None

    def _values(self):
        if self._logs is None:
            self._logs = self._compute()
        return self._logs

    def __getitem__(self, key):
        return self._values()[key]

    def __iter__(self):
        return iter(self._values())

    def __len__(self):
        return len(self._values())
