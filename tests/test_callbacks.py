"""The callback contract: hooks in order, logs at every hook, CallbackList's dispatch."""
import numpy as np
import pytest

import nn
from nn.callbacks import Callback, CallbackList, History, ProgressBar
from nn.layers import Dense


class Recorder(Callback):
    """Records every hook it sees, with a copy of its logs."""

    def __init__(self):
        self.calls = []

    def _record(self, name, *arguments):
        *numbers, logs = arguments
        self.calls.append((name, *numbers, None if logs is None else dict(logs)))

    def on_train_begin(self, logs=None):
        self._record("train_begin", logs)

    def on_train_end(self, logs=None):
        self._record("train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._record("epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._record("epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._record("batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._record("batch_end", batch, logs)


def trained(callbacks, epochs=2, n=10, batch_size=4):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((n, 3)), rng.integers(0, 2, n)
    model = nn.Sequential([Dense(2, activation="softmax", input_dim=3)], seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0,
                        callbacks=callbacks, shuffle=False)
    return model, history


def test_hooks_come_in_order_with_their_logs():
    recorder = Recorder()
    model, history = trained([recorder])
    names = [call[0] for call in recorder.calls]
    epoch = ["epoch_begin"] + ["batch_begin", "batch_end"] * 3 + ["epoch_end"]
    assert names == ["train_begin"] + epoch * 2 + ["train_end"]
    batch_ends = [call for call in recorder.calls if call[0] == "batch_end"]
    assert [call[1] for call in batch_ends] == [0, 1, 2] * 2
    assert all(set(call[2]) == {"loss", "accuracy"} for call in batch_ends)
    # the last batch's running means are the epoch's logs
    epoch_ends = [call for call in recorder.calls if call[0] == "epoch_end"]
    assert batch_ends[2][2] == epoch_ends[0][2]
    assert recorder.calls[-1] == ("train_end", epoch_ends[-1][2])
    assert history.history["loss"] == [call[2]["loss"] for call in epoch_ends]
    assert recorder.model is model and recorder.params == {"epochs": 2, "steps": 3, "verbose": 0}


def test_the_running_means_of_a_batch_are_the_epoch_so_far():
    recorder = Recorder()
    trained([recorder], epochs=1)
    first, second = [call[2]["loss"] for call in recorder.calls if call[0] == "batch_end"][:2]
    assert first != second  # 4 samples, then 8: a running mean, not the same value twice


def test_only_callbacks_that_define_a_hook_are_called_for_it():
    class EpochsOnly(Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    callbacks = CallbackList([EpochsOnly(), History(), ProgressBar(verbose=2)])
    assert len(callbacks._overriding["on_train_batch_end"]) == 1  # the progress bar's
    assert len(callbacks._overriding["on_epoch_end"]) == 3


def test_callbacks_must_be_callbacks():
    with pytest.raises(TypeError, match="Callback instances.*'not a callback'"):
        trained(["not a callback"])


def test_a_callback_may_stop_training_after_the_current_epoch():
    class StopAfterOne(Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.model.stop_training = True

    _, history = trained([StopAfterOne()], epochs=5)
    assert history.epoch == [0]
