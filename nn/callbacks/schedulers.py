"""LearningRateScheduler and ReduceLROnPlateau: change the learning rate between epochs.

Both set ``model.optimizer.learning_rate``, which must then be a number.  An optimizer
created with a schedule (a ``LearningRateSchedule`` such as ``ExponentialDecay``, or any
callable of the step) decides its rate at every step itself; both callbacks refuse it
when training starts, with a TypeError, as Keras refuses to set such a rate.  Both
record the rate each epoch trained with as ``logs['learning_rate']``, which
``History`` keeps: ``history.history['learning_rate'][epoch]``.
"""
import inspect
import math
import numbers

from ..checks import check_positive_int
from .callback import Callback, MonitorCallback, check_number


def _settable_optimizer(callback):
    """The model's optimizer, or a TypeError if its learning rate is a schedule."""
    optimizer = callback.model.optimizer
    if callable(optimizer.learning_rate):
        raise TypeError(
            f"{type(callback).__name__} sets the optimizer's learning rate, but this "
            f"{type(optimizer).__name__} was created with a schedule, which sets the rate at "
            f"every step itself. Received: learning_rate={optimizer.learning_rate!r}. Give the "
            "optimizer a number as learning_rate, or keep the schedule without the callback.")
    return optimizer


def _takes_learning_rate(schedule):
    """Whether ``schedule`` takes (epoch, lr), Keras's API, rather than (epoch) alone."""
    try:
        parameters = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):  # some built-ins have no signature: assume Keras's API
        return True
    positional = [parameter for parameter in parameters if parameter.kind in (
        parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD, parameter.VAR_POSITIONAL)]
    return len(positional) != 1 or positional[0].kind == positional[0].VAR_POSITIONAL


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch to ``schedule(epoch, lr)``.

    ``epoch`` is the 0-based index of the epoch about to run and ``lr`` the current rate
    (a float); the schedule returns the new rate, a finite number >= 0.  A schedule of
    the epoch alone, ``schedule(epoch)``, is accepted too, as Keras still accepts its
    older API.  ``verbose=1`` prints every rate set.  Keras:
    ``keras.callbacks.LearningRateScheduler``, same arguments and defaults.

    Example: ``LearningRateScheduler(lambda epoch, lr: lr if epoch < 10 else lr * 0.9)``.
    """

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError("LearningRateScheduler needs a function schedule(epoch, lr) -> "
                            f"new learning rate. Received: schedule={schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        self._takes_learning_rate = _takes_learning_rate(schedule)

    def on_train_begin(self, logs=None):
        _settable_optimizer(self)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        current = float(optimizer.learning_rate)
        new = (self.schedule(epoch, current) if self._takes_learning_rate
               else self.schedule(epoch))
        if isinstance(new, bool) or not isinstance(new, numbers.Real) \
                or not math.isfinite(new) or new < 0:
            raise ValueError("LearningRateScheduler's schedule must return a finite number >= 0"
                             f". At epoch {epoch} (lr={current!r}) it returned {new!r}.")
        optimizer.learning_rate = float(new)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{optimizer.learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)

    def get_config(self):
        raise TypeError("LearningRateScheduler holds a Python function, which a config "
                        "cannot store.")


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has stopped improving.

    At the end of every epoch: an improvement (``MonitorCallback``: by more than
    ``min_delta``, in the direction of ``mode``) resets the count of waiting epochs;
    otherwise, unless in cooldown, the count grows, and when it reaches ``patience``::

        lr <- max(lr * factor, min_lr)          (only while lr > min_lr)

    after which the next ``cooldown`` epochs do not count.  ``verbose=1`` prints every
    reduction.  Keras: ``keras.callbacks.ReduceLROnPlateau``, same arguments, defaults
    and order of these steps.  ``factor`` must lie in (0, 1); a ``monitor`` missing
    from the logs is an error (Keras warns and does nothing).
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__(monitor, mode, min_delta)
        self.factor = check_number("ReduceLROnPlateau", "factor", factor,
                                   "a number in (0, 1) (new_lr = lr * factor)",
                                   lambda value: 0 < value < 1)
        self.patience = check_positive_int("patience", patience, allow_zero=True)
        self.cooldown = check_positive_int("cooldown", cooldown, allow_zero=True)
        self.min_lr = check_number("ReduceLROnPlateau", "min_lr", min_lr,
                                   "a finite number >= 0", lambda value: value >= 0)
        self.verbose = verbose
        self.wait = self.cooldown_counter = 0

    def on_train_begin(self, logs=None):
        _settable_optimizer(self)
        self.reset_best()
        self.wait = self.cooldown_counter = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        optimizer = self.model.optimizer
        value = self.monitored_value(logs)
        logs["learning_rate"] = float(optimizer.learning_rate)
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(value):
            self.best, self.wait = value, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and optimizer.learning_rate > self.min_lr:
                optimizer.learning_rate = max(optimizer.learning_rate * self.factor, self.min_lr)
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                          f"{optimizer.learning_rate}.")
                self.cooldown_counter, self.wait = self.cooldown, 0

    def get_config(self):
        return {"monitor": self.monitor, "factor": self.factor, "patience": self.patience,
                "verbose": self.verbose, "mode": self.mode, "min_delta": self.min_delta,
                "cooldown": self.cooldown, "min_lr": self.min_lr}
