"""CSVLogger: every epoch's logs, one row each, in a CSV file."""
import csv
import os

from .callback import Callback


class CSVLogger(Callback):
    """Write each epoch's logs as a row of ``filename``: ``epoch`` (from 0, as Keras
    writes it), then the logged values in the order of their names.

    The columns are those of the first epoch; a value missing later is written ``NA``.
    ``append=False`` empties the file when training starts; ``append=True`` adds rows
    after those already there (the header only if the file is new or empty), to continue
    a run.  The file is opened for each row and closed again, so every finished epoch is
    on disk even if training stops with an error.  Keras: ``keras.callbacks.CSVLogger``,
    same arguments and defaults (lines end in ``\\n``, not the CSV ``\\r\\n``).
    """

    def __init__(self, filename, separator=",", append=False):
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"CSVLogger filename must be a path. Received: {filename!r}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError("CSVLogger separator must be one character, such as ',' or ';'. "
                             f"Received: separator={separator!r}")
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self.keys = None

    def on_train_begin(self, logs=None):
        self.keys = None
        has_rows = os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._write_header = not (self.append and has_rows)
        if not self.append:
            open(self.filename, "w").close()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        with open(self.filename, "a", newline="") as file:
            writer = csv.writer(file, delimiter=self.separator, lineterminator="\n")
            if self._write_header:
                writer.writerow(["epoch", *self.keys])
                self._write_header = False
            writer.writerow([epoch, *(logs.get(key, "NA") for key in self.keys)])

    def get_config(self):
        return {"filename": self.filename, "separator": self.separator, "append": self.append}
