"""ModelCheckpoint: save the model, or its weights, while it trains."""
import os
import string

from ..checks import check_positive_int
from .callback import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Save the model to ``filepath`` after every epoch, or every ``save_freq`` batches.

    ``filepath`` may hold format fields, filled from the epoch (counted from 1, as in
    Keras), the batch within it (from 1, when saving every ``save_freq`` batches) and
    the logs: ``'ckpt-{epoch:02d}-{val_loss:.3f}.npz'``.  It ends in ``.npz`` (the
    whole model, ``model.save``: load it with ``nn.load_model``) or, with
    ``save_weights_only=True``, in ``.weights.npz`` (``model.save_weights``: load with
    ``model.load_weights``); these are Keras's ``.keras`` and ``.weights.h5``.  Missing
    directories are created.

    Both write to a temporary file renamed over ``filepath``: a save interrupted by an
    error, a full disk or Ctrl-C leaves the previous file, the previous best, intact.

    With ``save_best_only=True`` the model is saved only when ``monitor`` improves on
    ``best`` (``MonitorCallback``; ``mode`` as there), and ``best`` is updated only once
    the file is written.  ``best`` starts at ``initial_value_threshold`` (or the worst
    value) and carries over from one ``fit`` call to the next, as the file does.  A
    ``monitor`` missing from the logs is then an error (Keras warns and saves anyway).
    Keras: ``keras.callbacks.ModelCheckpoint``, same arguments and defaults.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"ModelCheckpoint filepath must be a path. Received: {filepath!r}")
        self.filepath = os.fspath(filepath)
        suffix = ".weights.npz" if save_weights_only else ".npz"
        if not self.filepath.endswith(suffix):
            raise ValueError(f"ModelCheckpoint filepath must end in {suffix!r} with "
                             f"save_weights_only={bool(save_weights_only)}. "
                             f"Received: filepath={self.filepath!r}")
        try:  # a malformed field ('{epoch') is refused now, not after the first epoch
            list(string.Formatter().parse(self.filepath))
        except ValueError as error:
            raise ValueError(f"ModelCheckpoint filepath is not a valid format string ({error})."
                             f" Received: filepath={self.filepath!r}") from None
        if save_freq != "epoch":
            if isinstance(save_freq, str):
                raise ValueError("ModelCheckpoint save_freq must be 'epoch' or a positive "
                                 "integer (a number of batches). "
                                 f"Received: save_freq={save_freq!r}")
            save_freq = check_positive_int("save_freq", save_freq)
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = save_freq
        self._epoch, self._batches_since_save = 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch, dict(logs or {}))

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _save(self, epoch, batch, logs):
        path = self.format_path(epoch, batch, logs)
        value = None
        if self.save_best_only:
            value = self.monitored_value(logs)
            if not self.is_improvement(value):
                self._say(epoch, f"{self.monitor} did not improve from {self.best:.5f}")
                return
            self._say(epoch, f"{self.monitor} improved from {self.best:.5f} to {value:.5f}, "
                             f"saving model to {path}")
        else:
            self._say(epoch, f"saving model to {path}")
        if os.path.isdir(path):
            raise ValueError(f"ModelCheckpoint filepath {path!r} is an existing directory; "
                             "give it a file name.")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if value is not None:  # only now: an interrupted save leaves best as the file's
            self.best = value

    def format_path(self, epoch, batch, logs):
        """``filepath`` with its fields filled: epoch and batch counted from 1, and the logs."""
        fields = {**logs, "epoch": epoch + 1}
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as error:
            available = ", ".join(sorted(fields))
            raise ValueError(f"ModelCheckpoint cannot fill filepath={self.filepath!r} from "
                             f"{available} ({type(error).__name__}: {error}). Fields name "
                             "'epoch' or a logged value, such as {val_loss:.3f}.") from None

    def _say(self, epoch, message):
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: {message}")

    def get_config(self):
        return {"filepath": self.filepath, "monitor": self.monitor, "verbose": self.verbose,
                "save_best_only": self.save_best_only,
                "save_weights_only": self.save_weights_only, "mode": self.mode,
                "save_freq": self.save_freq, "initial_value_threshold": self.baseline}
