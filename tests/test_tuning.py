"""Tests of nn.tuning: the KerasTuner-style tuners and the learning-rate range test."""
import os

import numpy as np
import pytest

import nn
from nn import tuning


def xor_data(n=64, seed=0):
    return nn.data.xor(n, noise=0.1, rng=seed)


def build_model(hp):
    """The KerasTuner tutorial's build_model, keras -> nn."""
    units = hp.Int("units", 8, 64, step=8)
    activation = hp.Choice("activation", ["relu", "tanh"])
    model = nn.Sequential([nn.Input((2,)), nn.layers.Dense(units, activation=activation),
                           nn.layers.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer=nn.optimizers.Adam(
                      hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Counting:
    """build_model wrapped to count its calls (and optionally fail on call ``fail_at``)."""

    def __init__(self, build, fail_at=None):
        self.build, self.fail_at, self.calls = build, fail_at, 0

    def __call__(self, hp):
        self.calls += 1
        if self.calls == self.fail_at:
            raise KeyboardInterrupt("interrupted in trial %d" % self.calls)
        return self.build(hp)


def lr_model(hp):
    """XOR with a learning rate that either learns (0.1) or does nothing (1e-6)."""
    model = nn.Sequential([nn.Input((2,)), nn.layers.Dense(16, activation="tanh"),
                           nn.layers.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer=nn.optimizers.Adam(hp.Choice("learning_rate", [1e-6, 0.1])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def summary(tuner):
    return [(t.trial_id, t.hyperparameters.values, t.score) for t in tuner.trials]


# ---------------------------------------------------------------- 1. the KerasTuner program
def test_keras_tuner_program_runs(capsys):
    x, y = xor_data()
    tuner = tuning.RandomSearch(build_model, objective="val_accuracy", max_trials=3, seed=0)
    tuner.search(x, y, epochs=2, validation_split=0.2, verbose=0)
    assert capsys.readouterr().out == ""
    assert len(tuner.trials) == 3
    best = tuner.get_best_hyperparameters()[0]
    assert best.get("units") in range(8, 65, 8)
    assert best.get("activation") in ("relu", "tanh")
    assert 1e-4 <= best.get("learning_rate") <= 1e-1
    scores = [t.score for t in tuner.trials]
    assert tuner.trials[[t.hyperparameters.values for t in tuner.trials].index(best.values)
                        ].score == max(scores)
    for trial in tuner.trials:
        assert trial.status == "COMPLETED" and len(trial.history["val_accuracy"]) == 2
        assert trial.score == max(trial.history["val_accuracy"])
    model = tuner.get_best_models()[0]
    assert model.predict(x, verbose=0).shape == (len(x), 2)
    tuner.results_summary()
    out = capsys.readouterr().out
    assert "Results summary" in out and "units:" in out and "Score:" in out
    assert out.count("Trial ") == 3


def test_search_verbose_prints_one_line_per_trial(capsys):
    x, y = xor_data()
    tuner = tuning.RandomSearch(build_model, objective="val_loss", max_trials=2, seed=1)
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Trial 1/2") and "val_loss=" in lines[0]
    assert tuner.objective == tuning.Objective("val_loss", "min")


# ---------------------------------------------------------------- 2. determinism
def test_same_seed_same_trials_other_seed_other_values():
    x, y = xor_data()

    def run(seed):
        tuner = tuning.RandomSearch(build_model, "val_accuracy", max_trials=3, seed=seed)
        tuner.search(x, y, epochs=2, validation_split=0.2, verbose=0)
        return summary(tuner)

    first, again, other = run(0), run(0), run(1)
    assert first == again
    assert [values for _, values, _ in first] != [values for _, values, _ in other]


def test_hyperparameter_defaults_and_log_sampling():
    hp = tuning.HyperParameters()
    assert hp.Int("units", 8, 64, step=8) == 8
    assert hp.Float("lr", 1e-4, 1e-1, sampling="log") == 1e-4
    assert hp.Choice("act", ["relu", "tanh"]) == "relu"
    assert hp.Boolean("bn") is False and hp.Fixed("k", 3) == 3
    assert hp.values == {"units": 8, "lr": 1e-4, "act": "relu", "bn": False, "k": 3}
    rng = np.random.default_rng(0)
    entry = tuning.Float("lr", 1e-4, 1e-1, sampling="log")
    draws = np.log10([entry.random_value(rng) for _ in range(3000)])
    # log-uniform: each decade a third of the draws (linear would put ~90% in the last)
    counts = np.histogram(draws, bins=[-4, -3, -2, -1])[0] / len(draws)
    assert np.all(np.abs(counts - 1 / 3) < 0.05)
    assert tuning.Int("u", 8, 64, step=8).grid_values() == tuple(range(8, 65, 8))
    assert tuning.Float("f", 0.1, 0.5, step=0.1).grid_values() == (0.1, 0.2, 0.3, 0.4, 0.5)


# ---------------------------------------------------------------- 3. a known best
@pytest.mark.parametrize("make", [
    lambda build: tuning.RandomSearch(build, "val_accuracy", max_trials=2, seed=0),
    lambda build: tuning.GridSearch(build, "val_accuracy", seed=0),
    lambda build: tuning.Hyperband(build, "val_accuracy", max_epochs=3, factor=3, seed=0),
], ids=["random", "grid", "hyperband"])
def test_each_tuner_finds_the_learning_rate_that_learns(make):
    x, y = xor_data(128)
    xv, yv = xor_data(64, seed=1)
    tuner = make(lr_model)
    tuner.search(x, y, epochs=3, validation_data=(xv, yv), batch_size=16, verbose=0)
    tried = {t.hyperparameters.get("learning_rate") for t in tuner.trials}
    assert tried == {1e-6, 0.1}
    assert tuner.get_best_hyperparameters()[0].get("learning_rate") == 0.1
    scores = {t.hyperparameters.get("learning_rate"): t.score for t in tuner.trials}
    assert scores[0.1] > scores[1e-6] + 0.1
    # the best model holds the weights of its best epoch: its accuracy is the score
    best = tuner.get_best_models()[0]
    assert np.mean(best.predict(xv, verbose=0).argmax(1) == yv) == pytest.approx(
        max(scores.values()))


def test_grid_search_visits_every_combination_in_order():
    def build(hp):
        hp.Choice("a", [1, 2])
        hp.Boolean("b")
        return lr_model(hp)

    x, y = xor_data(32)
    tuner = tuning.GridSearch(build, "loss")
    tuner.search(x, y, epochs=1, verbose=0)
    assert [t.hyperparameters.values for t in tuner.trials] == [
        {"a": a, "b": b, "learning_rate": lr}
        for a in (1, 2) for b in (False, True) for lr in (1e-6, 0.1)]


# ---------------------------------------------------------------- 4. Hyperband brackets
def test_hyperband_brackets_follow_li_et_al():
    # R = 9, eta = 3: s_max = floor(log_3 9) = 2.  Bracket s starts n = ceil(3 * 3^s / (s+1))
    # trials of r = 9 / 3^s epochs; round i keeps floor(n / 3^i) for 9 / 3^(s-i) epochs.
    #   s = 2: n = ceil(27 / 3) = 9 -> (9, 1), (3, 3), (1, 9)
    #   s = 1: n = ceil(9 / 2) = 5  -> (5, 3), (1, 9)
    #   s = 0: n = ceil(3 / 1) = 3  -> (3, 9)
    tuner = tuning.Hyperband(lr_model, "val_loss", max_epochs=9, factor=3, seed=0)
    assert tuner.brackets == [[(9, 1), (3, 3), (1, 9)], [(5, 3), (1, 9)], [(3, 9)]]
    assert tuner._total_trials() == 9 + 3 + 1 + 5 + 1 + 3


def test_hyperband_builds_one_model_per_trial_and_continues_the_best():
    def build(hp):
        hp.Int("units", 2, 64)  # a large space: no repeated draws
        return lr_model(hp)

    counting = Counting(build)
    x, y = xor_data(32)
    tuner = tuning.Hyperband(counting, "val_loss", max_epochs=9, factor=3, seed=0)
    tuner.search(x, y, validation_split=0.25, batch_size=32, verbose=0)
    assert counting.calls == len(tuner.trials) == 22
    first = tuner.trials[:9]
    assert all(t.epochs == 1 and t.parent_id is None for t in first)
    second = tuner.trials[9:12]
    best3 = sorted(first, key=lambda t: t.score)[:3]
    assert [t.parent_id for t in second] == [t.trial_id for t in best3]
    assert all(t.initial_epoch == 1 and t.epochs == 3 for t in second)
    for t in second:
        parent = tuner._trial(t.parent_id)
        assert t.hyperparameters.values == parent.hyperparameters.values
        assert len(t.history["loss"]) == 2
    assert tuner.trials[12].epochs == 9 and tuner.trials[12].initial_epoch == 3
    assert [t.epochs for t in tuner.trials[13:]] == [3] * 5 + [9] + [9] * 3


# ---------------------------------------------------------------- 5. directory=
class StopInTrial(nn.callbacks.Callback):
    """Raises at the end of the first epoch of trial number ``stop_at`` (1-based)."""

    def __init__(self, stop_at):
        self.stop_at, self.trials = stop_at, 0

    def on_train_begin(self, logs=None):
        self.trials += 1

    def on_epoch_end(self, epoch, logs=None):
        if self.trials == self.stop_at:
            raise KeyboardInterrupt("stop")


def project_files(root):
    return sorted(os.path.relpath(os.path.join(folder, name), root)
                  for folder, _, names in os.walk(root) for name in names)


def test_interrupted_search_resumes_from_directory(tmp_path):
    x, y = xor_data()
    kwargs = dict(epochs=2, validation_split=0.2, verbose=0)
    plain = tuning.RandomSearch(build_model, "val_accuracy", max_trials=4, seed=3)
    plain.search(x, y, **kwargs)

    first = Counting(build_model)
    tuner = tuning.RandomSearch(first, "val_accuracy", max_trials=4, seed=3,
                                directory=tmp_path, project_name="p")
    with pytest.raises(KeyboardInterrupt):
        tuner.search(x, y, callbacks=[StopInTrial(3)], **kwargs)
    assert first.calls == 3
    files = project_files(tmp_path / "p")
    assert files == ["trial_00/model.npz", "trial_00/trial.json",
                     "trial_01/model.npz", "trial_01/trial.json", "tuner.json"]

    second = Counting(build_model)
    resumed = tuning.RandomSearch(second, "val_accuracy", max_trials=4, seed=3,
                                  directory=tmp_path, project_name="p")
    assert len(resumed.trials) == 2
    resumed.search(x, y, **kwargs)
    assert second.calls == 2  # trials 3 and 4 only
    assert summary(resumed) == summary(plain)
    assert resumed.get_best_hyperparameters()[0] == plain.get_best_hyperparameters()[0]
    assert not [f for f in project_files(tmp_path / "p") if f.endswith(".tmp")
                or os.path.basename(f).startswith(".")]
    # a reloaded trial's model comes from its file, with the best epoch's weights
    again = tuning.RandomSearch(build_model, "val_accuracy", max_trials=4, seed=3,
                                directory=tmp_path, project_name="p")
    for a, b in zip(again.get_best_models()[0].get_weights(),
                    plain.get_best_models()[0].get_weights()):
        np.testing.assert_array_equal(a, b)

    third = Counting(build_model)
    fresh = tuning.RandomSearch(third, "val_accuracy", max_trials=4, seed=3,
                                directory=tmp_path, project_name="p", overwrite=True)
    assert fresh.trials == []
    assert project_files(tmp_path / "p") == ["tuner.json"]
    fresh.search(x, y, **kwargs)
    assert third.calls == 4 and summary(fresh) == summary(plain)


def test_interrupt_in_build_model_and_other_settings_refused(tmp_path):
    x, y = xor_data()
    failing = Counting(build_model, fail_at=3)
    tuner = tuning.RandomSearch(failing, "val_loss", max_trials=3, seed=0, directory=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        tuner.search(x, y, epochs=1, validation_split=0.2, verbose=0)
    resumed = tuning.RandomSearch(Counting(build_model), "val_loss", max_trials=3, seed=0,
                                  directory=tmp_path)
    assert [t.trial_id for t in resumed.trials] == ["00", "01"]
    with pytest.raises(ValueError, match="other settings"):
        tuning.RandomSearch(build_model, "val_loss", max_trials=3, seed=1, directory=tmp_path)


# ---------------------------------------------------------------- 7. bad inputs
def test_unknown_name_at_get_lists_the_known_ones():
    hp = tuning.HyperParameters()
    hp.Int("units", 8, 64)
    with pytest.raises(ValueError, match=r"'unit'.*'units'"):
        hp.get("unit")


@pytest.mark.parametrize("call, match", [
    (lambda hp: hp.Int("u", 64, 8), r"min_value=64, max_value=8"),
    (lambda hp: hp.Float("f", 0.5, 0.1), r"min_value=0.5, max_value=0.1"),
    (lambda hp: hp.Float("lr", 0.0, 1.0, sampling="log"), r"positive.*min_value=0.0"),
    (lambda hp: hp.Int("u", -1, 8, sampling="log"), r"positive.*min_value=-1"),
    (lambda hp: hp.Float("f", 0.1, 1.0, sampling="exp"), r"sampling='exp'"),
    (lambda hp: hp.Choice("c", []), r"empty"),
    (lambda hp: hp.Int("u", 1, 8, default=9), r"default=9"),
])
def test_bad_hyperparameters_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call(tuning.HyperParameters())


def test_objective_missing_from_history_lists_the_keys():
    x, y = xor_data(32)
    tuner = tuning.RandomSearch(lr_model, "val_auc", max_trials=1, seed=0)
    with pytest.raises(ValueError, match=r"'val_auc'.*accuracy, loss, val_accuracy, val_loss"):
        tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    tuner = tuning.RandomSearch(lr_model, "val_loss", max_trials=1, seed=0)
    with pytest.raises(ValueError, match=r"keys are: accuracy, loss\..*validation_split"):
        tuner.search(x, y, epochs=1, verbose=0)


def test_grid_search_over_float_without_step_raises():
    def build(hp):
        hp.Float("dropout", 0.0, 0.5)
        return lr_model(hp)

    x, y = xor_data(32)
    with pytest.raises(ValueError, match=r"'dropout'.*without a step"):
        tuning.GridSearch(build, "loss").search(x, y, epochs=1, verbose=0)


def test_bad_tuner_arguments():
    with pytest.raises(ValueError, match="direction='up'"):
        tuning.Objective("val_loss", "up")
    with pytest.raises(TypeError, match="objective"):
        tuning.RandomSearch(lr_model, None)
    with pytest.raises(ValueError, match="factor=1"):
        tuning.Hyperband(lr_model, "loss", max_epochs=9, factor=1)
    with pytest.raises(RuntimeError, match="search"):
        tuning.RandomSearch(lr_model, "loss", max_trials=1).get_best_hyperparameters()


# ---------------------------------------------------------------- 6. learning-rate range test
def linear_problem(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)) * np.array([1.0, 2.0, 0.5])
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(n)
    return x, y[:, None]


def test_range_test_records_a_geometric_schedule_and_a_safe_range_for_linear_regression():
    x, y = linear_problem()
    # Full-batch SGD on the MSE (1/n) |A w - y|^2, A = [x, 1]: the Hessian is H = (2/n) A^T A
    # and w_{t+1} - w* = (I - lr H)(w_t - w*) diverges once lr > 2 / lambda_max(H).
    design = np.hstack([x, np.ones((len(x), 1))])
    threshold = 2 / np.linalg.eigvalsh(2 / len(x) * design.T @ design).max()
    model = nn.Sequential([nn.Input((3,)), nn.layers.Dense(1)], seed=0)
    model.compile(optimizer=nn.optimizers.SGD(0.01), loss="mse")
    result = tuning.learning_rate_range_test(model, x, y, min_lr=1e-4, max_lr=10.0, steps=100,
                                             batch_size=len(x), seed=0)
    rates = result.learning_rates
    assert rates[0] == pytest.approx(1e-4)
    np.testing.assert_allclose(rates[1:] / rates[:-1], (10.0 / 1e-4) ** (1 / 99))
    assert 10 < len(rates) < 100  # stopped early, once past the divergence
    assert len(result.losses) == len(result.smoothed_losses) == len(rates)
    # the loss of step 0 is the untrained model's full-batch loss
    assert result.losses[0] == pytest.approx(np.mean((model.predict(x, verbose=0) - y) ** 2),
                                             rel=1e-5)
    assert result.losses[-1] > 4 * result.losses.min()
    low, high = result.suggested
    assert 1e-4 <= low < high <= 10.0
    assert threshold / 100 < high < threshold
    # SGD at the suggested high converges on this problem
    model.optimizer.learning_rate = high
    model.fit(x, y, batch_size=len(x), epochs=200, verbose=0)
    assert model.evaluate(x, y, batch_size=len(x), verbose=0) < 0.05


def test_suggested_low_ignores_the_start_up_of_the_average():
    from nn.tuning.lr_range_test import suggest_range

    rates = np.geomspace(1e-7, 10.0, 200)
    position = np.log10(rates)
    curve = 1 - 0.8 / (1 + np.exp(-3 * (position + 2)))  # falls fastest at lr = 1e-2
    curve += np.where(position > 0, (position ** 2), 0)  # rises after lr = 1
    curve[:4] += [0.0, -0.05, 0.05, -0.1]  # a noisy start-up, steeper than the real fall
    low, high = suggest_range(rates, curve)
    assert high == pytest.approx(rates[np.argmin(curve)] / 10)
    assert 3e-3 < low < 3e-2
    flat = np.ones(200)
    flat[:3] = [1.0, 0.9, 0.95]  # never falls after the start-up: low = high / 10
    low, high = suggest_range(rates, flat)
    assert low == pytest.approx(high / 10)


def test_range_test_leaves_model_and_optimizer_as_they_were():
    x, y = xor_data(128)

    def trained():
        model = nn.Sequential([nn.Input((2,)), nn.layers.Dense(8, activation="tanh"),
                               nn.layers.Dense(2, activation="softmax")], seed=0)
        model.compile(optimizer=nn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=32, verbose=0, seed=0)
        return model

    model, untouched = trained(), trained()
    weights, iterations = model.get_weights(), model.optimizer.iterations
    result = tuning.learning_rate_range_test(model, x, y, steps=50, batch_size=16, seed=0)
    assert len(result.losses) > 10 and np.all(np.isfinite(result.losses))
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert model.optimizer.learning_rate == 0.01
    assert model.optimizer.iterations == iterations
    # the optimizer's moments too: training on gives exactly what the untouched model gives
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, seed=1)
    untouched.fit(x, y, epochs=1, batch_size=32, verbose=0, seed=1)
    for a, b in zip(model.get_weights(), untouched.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_range_test_bad_arguments():
    x, y = linear_problem(8)
    model = nn.Sequential([nn.Input((3,)), nn.layers.Dense(1)], seed=0)
    with pytest.raises(RuntimeError, match="compiled"):
        tuning.learning_rate_range_test(model, x, y)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="min_lr=1.0, max_lr=0.1"):
        tuning.learning_rate_range_test(model, x, y, min_lr=1.0, max_lr=0.1)
    with pytest.raises(ValueError, match="min_lr=0"):
        tuning.learning_rate_range_test(model, x, y, min_lr=0)


def test_range_test_plot_draws_both_curves():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    x, y = linear_problem()
    model = nn.Sequential([nn.Input((3,)), nn.layers.Dense(1)], seed=0)
    model.compile(optimizer=nn.optimizers.SGD(0.01), loss="mse")
    result = tuning.learning_rate_range_test(model, x, y, min_lr=1e-4, max_lr=10.0, steps=50,
                                             batch_size=len(x), seed=0)
    ax = result.plot()
    assert ax.get_xscale() == "log" and len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[1].get_ydata(), result.smoothed_losses)
    matplotlib.pyplot.close(ax.figure)
