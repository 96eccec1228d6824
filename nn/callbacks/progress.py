"""ProgressBar: what ``fit`` prints, an ordinary callback added for ``verbose`` > 0."""
import sys
import time

from .callback import Callback


class ProgressBar(Callback):
    """A live bar on a terminal at verbose=1, and one line per epoch at verbose 1 and 2.

    The epoch line reads ``Epoch 3/10 - 1.2s - loss: 0.1234 - accuracy: 0.9600``.
    """

    def __init__(self, verbose=1):
        self.verbose = verbose
        self.live = verbose == 1 and sys.stdout.isatty()
        self.prefix, self.start, self.last_draw = "", 0.0, 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.prefix = f"Epoch {epoch + 1}/{self.params['epochs']}"
        self.start = self.last_draw = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        """Redraw the bar at most every 0.1 s; ``logs`` is read only when it is drawn."""
        steps, step = self.params["steps"], batch + 1
        if not self.live or (time.perf_counter() - self.last_draw < 0.1 and step < steps):
            return
        self.last_draw = time.perf_counter()
        filled = int(30 * step / steps)
        bar = ("=" * filled + ">" * (filled < 30) + "." * (29 - filled))[:30]
        sys.stdout.write(f"\r{self.prefix} {step}/{steps} [{bar}] - {format_logs(logs)}")
        sys.stdout.flush()

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self.start
        clear = "\r\033[K" if self.live else ""
        print(f"{clear}{self.prefix} - {elapsed:.1f}s - {format_logs(logs)}", flush=True)


def format_logs(logs):
    """``loss: 0.1234 - accuracy: 0.9600``: logs at four decimals, in their order."""
    return " - ".join(f"{key}: {value:.4f}" for key, value in logs.items())
