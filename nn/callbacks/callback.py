"""The callback contract, and the list that calls every callback's hooks in turn.

A callback sees the model (``self.model``), the settings of the ``fit`` call
(``self.params``: epochs, steps, verbose) and a ``logs`` mapping at each hook:
``{'loss': ..., 'accuracy': ..., 'val_loss': ...}`` at the end of an epoch, the
running means of the epoch so far at the end of a batch.  Setting
``model.stop_training = True`` ends training after the current epoch, or at once when
set at a batch whose loss is not finite (``TerminateOnNaN``; without it ``fit`` raises
FloatingPointError there).  ``MonitorCallback`` is the base of the callbacks that watch
one logged value (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint).
"""
import math
import numbers
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


class MonitorCallback(Callback):
    """Base of the callbacks that watch one logged value and keep the best seen so far.

    EarlyStopping, ReduceLROnPlateau and ModelCheckpoint share it, as they share Keras's
    ``MonitorCallback``.  ``mode`` 'min' means lower is better, 'max' higher; 'auto'
    maximises names containing 'acc' and minimises everything else.  A value improves on
    ``best`` when::

        mode 'min':  value < best - min_delta        mode 'max':  value > best + min_delta

    ``best`` is the monitored value itself (not negated for 'max'); it starts at
    ``baseline``, or at +inf ('min') / -inf ('max').  A ``monitor`` absent from the logs
    is an error, not Keras's warning: a callback that silently does nothing for a whole
    run is a bug the reader should hear about at the first epoch.
    """

    def __init__(self, monitor="val_loss", mode="auto", min_delta=0.0, baseline=None):
        name = type(self).__name__
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"{name} monitor must be the name of a logged value, such as "
                            f"'val_loss'. Received: monitor={monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{name} mode must be 'auto', 'min' or 'max'. "
                             f"Received: mode={mode!r}")
        self.monitor = monitor
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.mode = mode
        self.min_delta = abs(check_number(name, "min_delta", min_delta))
        self.baseline = None if baseline is None else check_number(name, "baseline", baseline)
        self.reset_best()

    def reset_best(self):
        """Forget the best value: back to ``baseline``, or to the worst possible value."""
        worst = math.inf if self.mode == "min" else -math.inf
        self.best = worst if self.baseline is None else self.baseline

    def is_improvement(self, value):
        """Whether ``value`` beats ``best`` by more than ``min_delta`` (NaN never does)."""
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def monitored_value(self, logs):
        """``logs[monitor]`` as a float, or a ValueError that lists what the logs hold."""
        if not logs or self.monitor not in logs:
            available = ", ".join(sorted(logs or {})) or "(none)"
            raise ValueError(f"{type(self).__name__} monitors {self.monitor!r}, which is not "
                             f"among the logs: {available}. Monitoring a 'val_' value needs "
                             "validation_data or validation_split.")
        return float(logs[self.monitor])


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


def check_number(owner, argument, value, expected="a finite number", is_valid=None):
    """``value`` as a float, or a ValueError naming the callback and repeating the value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or (is_valid is not None and not is_valid(value)):
        raise ValueError(f"{owner} {argument} must be {expected}. "
                         f"Received: {argument}={value!r}")
    return float(value)


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
