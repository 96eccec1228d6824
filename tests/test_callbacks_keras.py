"""The Keras callbacks: LearningRateScheduler, ReduceLROnPlateau, ModelCheckpoint, CSVLogger,
TerminateOnNaN, LambdaCallback (issue 14), on tiny seeded models and scripted logs."""
import csv
import os

import numpy as np
import pytest

import nn
from nn import registry
from nn.callbacks import (CSVLogger, EarlyStopping, LambdaCallback, LearningRateScheduler,
                          ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN)
from nn.layers import Dense
from nn.models import saving
from nn.optimizers import SGD, ExponentialDecay


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    return x, x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(n)


def regression(learning_rate=0.01):
    model = nn.Sequential([Dense(1, input_dim=3)], seed=0)
    model.compile(optimizer=SGD(learning_rate=learning_rate), loss="mse")
    return model


def descend_then_ascend(iteration):
    """0.1 for three steps, then -0.1 (gradient ascent): the loss falls, then rises."""
    return 0.1 if iteration < 3 else -0.1


class FakeModel:
    """What a callback sees of a model, for driving it with scripted logs."""

    def __init__(self, learning_rate=1.0):
        self.optimizer, self.stop_training = SGD(learning_rate=learning_rate), False


def drive(callback, values, monitor="val_loss", learning_rate=1.0):
    """Feed ``values`` as the monitored logs, one epoch each; returns the logged and final rates."""
    callback.set_model(FakeModel(learning_rate))
    callback.on_train_begin()
    logged = []
    for epoch, value in enumerate(values):
        logs = {monitor: value}
        callback.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
    return logged, callback.model.optimizer.learning_rate


# ------------------------------------------------------------------ LearningRateScheduler
def test_the_schedule_sets_each_epochs_rate_and_history_records_it():
    x, y = data()
    used = []
    model = regression()
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False, callbacks=[
        LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch),
        LambdaCallback(on_train_batch_begin=lambda batch, logs: used.append(
            model.optimizer.current_learning_rate()))])
    assert history.history["learning_rate"] == [0.1, 0.05, 0.025]
    assert used == [0.1] * 4 + [0.05] * 4 + [0.025] * 4
    # the same as setting the rate by hand before each epoch
    by_hand = regression()
    for epoch in range(3):
        by_hand.optimizer.learning_rate = 0.1 * 0.5 ** epoch
        by_hand.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for mine, theirs in zip(model.get_weights(), by_hand.get_weights()):
        np.testing.assert_array_equal(mine, theirs)


def test_the_schedule_receives_the_current_rate_and_may_take_the_epoch_alone():
    seen = []

    def halve(epoch, lr):
        seen.append((epoch, lr))
        return lr * 0.5

    x, y = data()
    regression(0.2).fit(x, y, epochs=3, verbose=0, callbacks=[LearningRateScheduler(halve)])
    assert seen == [(0, 0.2), (1, 0.1), (2, 0.05)]
    history = regression().fit(x, y, epochs=2, verbose=0,
                               callbacks=[LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))])
    assert history.history["learning_rate"] == [0.01, 0.02]


def test_a_bad_schedule_or_a_scheduled_optimizer_is_refused():
    x, y = data()
    with pytest.raises(ValueError, match=r"At epoch 0 \(lr=0.01\) it returned 'fast'"):
        regression().fit(x, y, verbose=0, callbacks=[LearningRateScheduler(lambda e, lr: "fast")])
    with pytest.raises(TypeError, match="schedule=0.1"):
        LearningRateScheduler(0.1)
    for callback in (LearningRateScheduler(lambda e, lr: lr), ReduceLROnPlateau(monitor="loss")):
        model = nn.Sequential([Dense(1, input_dim=3)], seed=0)
        model.compile(optimizer=SGD(learning_rate=ExponentialDecay(0.1, 10, 0.5)), loss="mse")
        before = model.get_weights()
        with pytest.raises(TypeError, match=r"created with a schedule.*ExponentialDecay"):
            model.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
        np.testing.assert_array_equal(model.get_weights()[0], before[0])  # refused up front


# ------------------------------------------------------------------ ReduceLROnPlateau
def test_reduces_after_patience_epochs_without_improvement():
    callback = ReduceLROnPlateau(factor=0.5, patience=2, min_delta=0.0)
    logged, final = drive(callback, [1.0, 0.9, 0.95, 0.95, 0.95, 0.95])
    # epochs 2 and 3 wait; at 3 the rate halves (the log shows the rate epoch 3 used)
    assert logged == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5] and final == 0.25
    assert callback.best == 0.9


def test_cooldown_skips_epochs_after_a_reduction():
    flat = [1.0] * 7
    assert drive(ReduceLROnPlateau(factor=0.5, patience=1), flat)[1] == 0.5 ** 6
    logged, final = drive(ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2), flat)
    assert logged == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125] and final == 0.125


def test_min_lr_bounds_the_rate_and_min_delta_the_improvements():
    assert drive(ReduceLROnPlateau(factor=0.1, patience=1, min_lr=0.05), [1.0] * 5)[1] == 0.05
    tiny_gain = [1.0, 0.99995, 0.9999]
    assert drive(ReduceLROnPlateau(patience=1), tiny_gain)[1] == pytest.approx(0.01)
    assert drive(ReduceLROnPlateau(patience=1, min_delta=0.0), tiny_gain)[1] == 1.0


def test_mode_auto_maximises_accuracy():
    rising, falling = [0.5, 0.6, 0.7], [0.7, 0.6, 0.5]
    assert drive(ReduceLROnPlateau("val_accuracy", patience=1), rising, "val_accuracy")[1] == 1.0
    assert drive(ReduceLROnPlateau("val_accuracy", patience=1), falling,
                 "val_accuracy")[1] == pytest.approx(0.01)
    assert drive(ReduceLROnPlateau("val_accuracy", patience=1, mode="min"), rising,
                 "val_accuracy")[1] == pytest.approx(0.01)


def test_reduce_lr_on_plateau_in_fit():
    x, y = data()
    history = regression(0.1).fit(x, y, epochs=4, verbose=0, callbacks=[
        ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=1e6)])
    assert history.history["learning_rate"] == [0.1, 0.1, 0.05, 0.025]


@pytest.mark.parametrize("arguments, message", [
    ({"factor": 1.0}, "factor=1.0"), ({"factor": 0}, "factor=0"), ({"factor": -0.5}, "factor=-0.5"),
    ({"patience": -1}, "patience=-1"), ({"cooldown": -2}, "cooldown=-2"),
    ({"min_lr": -1.0}, "min_lr=-1.0"), ({"mode": "maximum"}, "mode='maximum'"),
])
def test_reduce_lr_on_plateau_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        ReduceLROnPlateau(**arguments)


def test_a_monitor_absent_from_the_logs_is_an_error_that_lists_them():
    x, y = data()
    for callback in (ReduceLROnPlateau(), ModelCheckpoint("/nonexistent/m.npz", save_best_only=True)):
        with pytest.raises(ValueError, match=rf"{type(callback).__name__} monitors 'val_loss'.*: loss"):
            regression().fit(x, y, epochs=1, verbose=0, callbacks=[callback])


def test_early_stopping_keeps_the_best_value_itself_in_mode_max():
    stopper = EarlyStopping(monitor="accuracy", patience=1)
    stopper.set_model(FakeModel())
    stopper.on_train_begin()
    for epoch, value in enumerate([0.5, 0.9, 0.8]):
        stopper.on_epoch_end(epoch, {"accuracy": value})
    assert stopper.best == 0.9 and stopper.best_epoch == 1 and stopper.model.stop_training


# ------------------------------------------------------------------ ModelCheckpoint
def run_with_checkpoint(checkpoint, epochs=6):
    """Least squares, full batch, validated on its training data: val_loss falls for three
    epochs, then rises. Returns the model, the history and each epoch's weights."""
    x, y = data()
    model = nn.Sequential([Dense(1, input_dim=3)], seed=0)
    model.compile(optimizer=SGD(learning_rate=0.1), loss="mse")
    weights = []
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, validation_data=(x, y),
                        callbacks=[checkpoint, LambdaCallback(
                            on_epoch_begin=lambda epoch, logs: setattr(  # one step an epoch
                                model.optimizer, "learning_rate", descend_then_ascend(epoch)),
                            on_epoch_end=lambda epoch, logs: weights.append(model.get_weights()))])
    return model, history, weights


@pytest.mark.parametrize("weights_only", [False, True])
def test_save_best_only_keeps_the_best_epochs_weights(tmp_path, weights_only):
    path = tmp_path / ("best.weights.npz" if weights_only else "best.npz")
    checkpoint = ModelCheckpoint(path, save_best_only=True, save_weights_only=weights_only)
    model, history, weights = run_with_checkpoint(checkpoint)
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    assert best == 2 and val_loss[2] < val_loss[-1]  # the situation intended
    assert checkpoint.best == val_loss[best]
    if weights_only:
        loaded = nn.Sequential([Dense(1, input_dim=3)], seed=1)
        loaded.load_weights(path)
    else:
        loaded = nn.load_model(path)
    for mine, saved in zip(weights[best], loaded.get_weights()):
        np.testing.assert_array_equal(mine, saved)
    assert not np.array_equal(model.get_weights()[0], weights[best][0])
    assert os.listdir(tmp_path) == [path.name]


def test_filepath_fields_are_filled_from_the_epoch_and_logs(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "sub" / "ckpt-{epoch:02d}-{val_loss:.3f}.npz")
    _, history, _ = run_with_checkpoint(checkpoint, epochs=3)
    expected = {f"ckpt-{epoch + 1:02d}-{loss:.3f}.npz"
                for epoch, loss in enumerate(history.history["val_loss"])}
    assert set(os.listdir(tmp_path / "sub")) == expected and len(expected) == 3


def test_save_freq_counts_batches_across_epochs(tmp_path):
    x, y = data(n=10)
    regression().fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[
        ModelCheckpoint(tmp_path / "{epoch}-{batch}.npz", save_freq=2)])
    assert set(os.listdir(tmp_path)) == {"1-2.npz", "2-1.npz", "2-3.npz"}


def test_initial_value_threshold_is_the_first_best(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "m.npz", save_best_only=True,
                                 initial_value_threshold=1e-9)
    run_with_checkpoint(checkpoint, epochs=2)
    assert os.listdir(tmp_path) == [] and checkpoint.best == 1e-9


@pytest.mark.parametrize("weights_only", [False, True])
@pytest.mark.parametrize("interruption", [OSError("disk full"), KeyboardInterrupt()])
def test_an_interrupted_save_leaves_the_previous_best_intact(tmp_path, monkeypatch, weights_only,
                                                             interruption):
    path = tmp_path / ("best.weights.npz" if weights_only else "best.npz")
    checkpoint = ModelCheckpoint(path, monitor="loss", save_best_only=True,
                                 save_weights_only=weights_only)
    x, y = data()
    model = regression(0.05)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[checkpoint])
    first_best, first_weights = checkpoint.best, model.get_weights()

    def broken_savez(file, **arrays):  # half a file written, then the failure
        file.write(b"PK\x03\x04 half an archive")
        raise interruption

    monkeypatch.setattr(saving.np, "savez", broken_savez)
    with pytest.raises(type(interruption)):
        model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[checkpoint])
    monkeypatch.undo()
    assert model.evaluate(x, y, verbose=0) < first_best  # it would have been a new best
    assert checkpoint.best == first_best and os.listdir(tmp_path) == [path.name]
    if weights_only:
        loaded = regression()
        loaded.load_weights(path)
    else:
        loaded = nn.load_model(path)
    for saved, first in zip(loaded.get_weights(), first_weights):
        np.testing.assert_array_equal(saved, first)


@pytest.mark.parametrize("arguments, error, message", [
    ({"filepath": "model.keras"}, ValueError, r"end in '.npz'.*'model.keras'"),
    ({"filepath": "m.npz", "save_weights_only": True}, ValueError, r"'.weights.npz'.*'m.npz'"),
    ({"filepath": "ckpt-{epoch.npz"}, ValueError, r"not a valid format.*'ckpt-\{epoch.npz'"),
    ({"filepath": "m.npz", "save_freq": "batch"}, ValueError, "save_freq='batch'"),
    ({"filepath": "m.npz", "save_freq": 0}, ValueError, "save_freq=0"),
    ({"filepath": "m.npz", "mode": "best"}, ValueError, "mode='best'"),
    ({"filepath": 3}, TypeError, "Received: 3"),
])
def test_model_checkpoint_bad_arguments(arguments, error, message):
    with pytest.raises(error, match=message):
        ModelCheckpoint(**arguments)


def test_a_filepath_field_absent_from_the_logs_names_what_is_there(tmp_path):
    x, y = data()
    with pytest.raises(ValueError, match=r"\{val_acc:.2f\}.*epoch, loss.*KeyError"):
        regression().fit(x, y, verbose=0,
                         callbacks=[ModelCheckpoint(str(tmp_path / "{val_acc:.2f}.npz"))])


def test_callback_configs_round_trip_through_the_registry():
    for callback in (ReduceLROnPlateau(monitor="loss", factor=0.5, cooldown=2),
                     ModelCheckpoint("a/{epoch}.npz", save_best_only=True, save_freq=3,
                                     initial_value_threshold=0.5),
                     CSVLogger("log.csv", separator=";", append=True), TerminateOnNaN(),
                     EarlyStopping(monitor="val_accuracy", patience=3)):
        again = registry.deserialize(registry.serialize(callback), "callback")
        assert type(again) is type(callback) and again.get_config() == callback.get_config()


# ------------------------------------------------------------------ CSVLogger
def read_rows(path, separator=","):
    with open(path, newline="") as file:
        return list(csv.reader(file, delimiter=separator))


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    history = regression(0.1).fit(x, y, epochs=3, verbose=0, validation_data=(x, y), callbacks=[
        ReduceLROnPlateau(monitor="loss", patience=1, min_delta=1e6), CSVLogger(path)])
    rows = read_rows(path)
    assert rows[0] == ["epoch", "learning_rate", "loss", "val_loss"] and len(rows) == 4
    for epoch, row in enumerate(rows[1:]):
        assert row[0] == str(epoch)
        assert [float(value) for value in row[1:]] == [
            history.history[key][epoch] for key in ("learning_rate", "loss", "val_loss")]


def test_csv_logger_appends_or_overwrites(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    model = regression()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[CSVLogger(path, separator=";")])
    model.fit(x, y, epochs=4, initial_epoch=2, verbose=0,
              callbacks=[CSVLogger(path, separator=";", append=True)])
    rows = read_rows(path, ";")
    assert rows[0] == ["epoch", "loss"] and [row[0] for row in rows] == ["epoch", "0", "1", "2", "3"]
    model.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(path, separator=";")])
    assert [row[0] for row in read_rows(path, ";")] == ["epoch", "0"]


def test_csv_logger_keeps_the_finished_epochs_when_training_fails(tmp_path):
    def fail_at_epoch_two(epoch, logs):
        if epoch == 2:
            raise RuntimeError("stop here")

    x, y = data()
    path = tmp_path / "log.csv"
    with pytest.raises(RuntimeError, match="stop here"):
        regression().fit(x, y, epochs=5, verbose=0, callbacks=[
            CSVLogger(path), LambdaCallback(on_epoch_end=fail_at_epoch_two)])
    assert [row[0] for row in read_rows(path)] == ["epoch", "0", "1", "2"]
    with pytest.raises(ValueError, match="separator='::'"):
        CSVLogger(path, separator="::")


# ------------------------------------------------------------------ TerminateOnNaN
def test_terminate_on_nan_stops_a_diverging_run_quietly(capsys):
    x, y = data()
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(FloatingPointError, match="At epoch 4, batch 3"):
            regression(10.0).fit(x, y, epochs=20, batch_size=8, verbose=0, shuffle=False)
        stopper = TerminateOnNaN()
        model = regression(10.0)
        history = model.fit(x, y, epochs=20, batch_size=8, verbose=0, shuffle=False,
                            callbacks=[stopper])
    assert history.epoch == [0, 1, 2, 3] and stopper.stopped_at == (3, 2)
    assert not np.isfinite(history.history["loss"][-1])
    assert all(np.all(np.isfinite(weight)) for weight in model.get_weights())
    assert "Epoch 4, batch 3: invalid loss inf, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_stops_at_an_injected_nan_before_the_update():
    x, y = data()
    x[9, 1] = np.nan  # in the third batch of four rows
    weights, calls = [], []
    model = regression()
    recorder = LambdaCallback(
        on_train_batch_end=lambda batch, logs: weights.append(model.get_weights()),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch)),
        on_train_end=lambda logs: calls.append(("train_end", np.isnan(logs["loss"]))))
    stopper = TerminateOnNaN()
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0, shuffle=False,
                        callbacks=[stopper, recorder])
    assert stopper.stopped_at == (0, 2) and history.epoch == [0] and len(weights) == 3
    assert calls == [("epoch_end", 0), ("train_end", True)]
    for before, after in zip(weights[1], weights[2]):  # the NaN batch changed nothing
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(model.get_weights()[0], weights[1][0])


# ------------------------------------------------------------------ LambdaCallback
def test_lambda_callback_calls_each_function_at_its_hook():
    calls = []
    callback = LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(f"epoch_begin {epoch}"),
        on_train_batch_begin=lambda batch, logs: calls.append(f"batch_begin {batch}"),
        on_train_batch_end=lambda batch, logs: calls.append(f"batch_end {batch} {sorted(logs)}"),
        on_epoch_end=lambda epoch, logs: calls.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: calls.append("train_end"))
    x, y = data(n=6)
    regression().fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[callback])
    epoch = lambda e: [f"epoch_begin {e}", "batch_begin 0", "batch_end 0 ['loss']",  # noqa: E731
                       "batch_begin 1", "batch_end 1 ['loss']", f"epoch_end {e} ['loss']"]
    assert calls == ["train_begin", *epoch(0), *epoch(1), "train_end"]
    only_end = []
    regression().fit(x, y, epochs=2, verbose=0, callbacks=[
        LambdaCallback(on_epoch_end=lambda epoch, logs: only_end.append(epoch))])
    assert only_end == [0, 1]
    with pytest.raises(TypeError, match="on_epoch_end=3"):
        LambdaCallback(on_epoch_end=3)
