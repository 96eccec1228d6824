"""Tuners: run ``build_model(hp)`` for trial after trial and keep the best.

``Tuner`` holds what every search shares: the objective, the trials, the progress
lines, saving and reloading; a subclass says only which trials to run next
(``_plans``)::

    RandomSearch  max_trials trials, each value drawn at random (Bergstra and Bengio 2012)
    GridSearch    every combination of the entries' grid values, in order
    Hyperband     brackets of successive halving (Li et al. 2017)

One trial: ``hp`` gets the trial's values, ``model = build_model(hp)`` (a compiled
nn model), ``model.fit(x, y, ...)``, and the trial's score is the best value of
the objective over its epochs (as in KerasTuner); the model keeps the weights of
that best epoch.  A trial whose loss diverges (``FloatingPointError``) is recorded
as 'FAILED' with no score, and the search goes on.

Reproducibility.  The values of trial ``i`` are drawn from
``np.random.default_rng([seed, i])``, and each trial's ``fit`` gets a seed drawn
from the same generator, so shuffling and dropout repeat; the initial weights come
from the model's own generator, so seed the model in ``build_model``
(``nn.Sequential([...], seed=0)``) and the same tuner seed gives the same trials
and scores.  Nothing is global: two tuners never share state.

Files.  Nothing is written unless ``directory`` is given.  Then the project folder
``directory/project_name`` holds ``tuner.json`` (the settings) and one
``trial_<id>/`` per finished trial: ``model.npz`` (``model.save``) and then
``trial.json`` (values, score, history), each written to a temporary file and
renamed, so an interrupted search leaves only whole files.  A new tuner on the
same folder with ``overwrite=False`` reloads the finished trials and ``search``
runs only the ones still missing; ``overwrite=True`` deletes the folder first.
"""
import itertools
import json
import math
import os
import shutil
import uuid
from dataclasses import dataclass, field

import numpy as np

from ..callbacks import Callback
from ..checks import check_positive_int
from ..models import Model, load_model
from .hyperparameters import HyperParameters

FILE_FORMAT = "nn.tuning/1"
_MAX_COLLISIONS = 100  # random draws that may repeat a finished trial before a search ends


class Objective:
    """What a search optimizes: a name in the fit history and 'min' or 'max'."""

    def __init__(self, name, direction):
        if not isinstance(name, str) or not name:
            raise TypeError(f"Objective name must be a non-empty string. Received: {name!r}")
        if direction not in ("min", "max"):
            raise ValueError(f"Objective direction must be 'min' or 'max'. "
                             f"Received: direction={direction!r}")
        self.name, self.direction = name, direction

    def better(self, value, other):
        """Whether ``value`` beats ``other`` (None is beaten by any number)."""
        if other is None:
            return True
        return value > other if self.direction == "max" else value < other

    def get_config(self):
        return {"name": self.name, "direction": self.direction}

    def __eq__(self, other):
        return isinstance(other, Objective) and self.get_config() == other.get_config()

    def __repr__(self):
        return f"Objective(name={self.name!r}, direction={self.direction!r})"


def get_objective(objective):
    """An ``Objective`` from itself or a name: names with 'loss' or 'error' are minimized,
    all others ('val_accuracy', 'auc', ...) maximized."""
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str) and objective:
        minimize = "loss" in objective or "error" in objective
        return Objective(objective, "min" if minimize else "max")
    raise TypeError("objective must be a metric name such as 'val_loss' or 'val_accuracy', or "
                    f"nn.tuning.Objective(name, direction). Received: {objective!r}")


@dataclass
class Trial:
    """The record of one finished trial.

    history: the fit history of this trial's epochs, ``{'loss': [...], 'val_loss': [...]}``;
    epochs: how many epochs the model has trained in all at the end (a Hyperband
    continuation starts at ``initial_epoch``, its parent's count); best_epoch: the
    0-based epoch of the score; status: 'COMPLETED', or 'FAILED' when training
    diverged (then score is None and message says why).
    """

    trial_id: str
    hyperparameters: HyperParameters
    score: float = None
    history: dict = field(default_factory=dict)
    status: str = "COMPLETED"
    epochs: int = 0
    initial_epoch: int = 0
    best_epoch: int = None
    parent_id: str = None
    bracket: int = None
    round: int = None
    message: str = None
    model: Model = field(default=None, repr=False, compare=False)

    def to_json(self):
        document = {key: getattr(self, key) for key in (
            "trial_id", "score", "history", "status", "epochs", "initial_epoch", "best_epoch",
            "parent_id", "bracket", "round", "message")}
        document["hyperparameters"] = self.hyperparameters.get_config()
        return document

    @classmethod
    def from_json(cls, document):
        document = dict(document)
        hyperparameters = HyperParameters.from_config(document.pop("hyperparameters"))
        return cls(hyperparameters=hyperparameters, **document)


@dataclass
class _Plan:
    """What to run next: preset values, how to pick new ones, and how long to train."""

    values: dict
    choose: object = None  # rng -> (entry -> value) for new entries; None: defaults
    rng: object = None  # the generator the preset values were drawn from
    epochs: int = None  # None: the epochs given to search
    initial_epoch: int = 0
    parent_id: str = None
    bracket: int = None
    round: int = None


class _TrialRecorder(Callback):
    """Records the epochs' logs and keeps the weights of the best epoch of the objective."""

    def __init__(self, objective):
        self.objective = objective
        self.history, self.best, self.best_epoch, self.best_weights = {}, None, None, None
        self.epochs_run = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.objective.name not in logs:
            available = ", ".join(sorted(logs)) or "none"
            hint = (" A 'val_' objective needs validation_data or validation_split."
                    if self.objective.name.startswith("val_") else "")
            raise ValueError(f"The objective {self.objective.name!r} is not in the training "
                             f"history, whose keys are: {available}.{hint}")
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        self.epochs_run += 1
        value = float(logs[self.objective.name])
        if math.isfinite(value) and self.objective.better(value, self.best):
            self.best, self.best_epoch = value, epoch
            self.best_weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class Tuner:
    """Base class of the tuners: the search loop, the records, the summaries and the files.

    hypermodel: ``build_model(hp) -> compiled nn model``.  objective: a name in the fit
    history ('val_loss', 'val_accuracy', ...) or an ``Objective``.  See the module
    docstring for seeds and files.
    """

    def __init__(self, hypermodel, objective, max_trials=None, seed=None, directory=None,
                 project_name="untitled_project", overwrite=False):
        if not callable(hypermodel):
            raise TypeError("hypermodel must be a function build_model(hp) that returns a "
                            f"compiled model. Received: {hypermodel!r}")
        self.hypermodel = hypermodel
        self.objective = get_objective(objective)
        self.max_trials = None if max_trials is None else check_positive_int("max_trials",
                                                                            max_trials)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or seed < 0):
            raise TypeError(f"seed must be None or a non-negative integer. Received: {seed!r}")
        self.seed = None if seed is None else int(seed)
        self._entropy = self.seed if seed is not None else np.random.SeedSequence().entropy
        self.trials = []
        self._space = {}  # name -> entry, every entry any trial registered
        self.directory, self.project_dir = directory, None
        if directory is not None:
            if not isinstance(project_name, str) or not project_name or os.sep in project_name:
                raise ValueError("project_name must be a non-empty folder name. "
                                 f"Received: project_name={project_name!r}")
            self.project_dir = os.path.join(os.fspath(directory), project_name)
            self._open_project(overwrite)

    # ------------------------------------------------------------------ search
    def search(self, x, y, epochs=1, validation_data=None, validation_split=0.0, batch_size=32,
               callbacks=None, verbose=1, **fit_kwargs):
        """Run the trials still missing, each one ``fit(x, y, ...)`` of a fresh model.

        The arguments are ``Model.fit``'s (``fit_kwargs``: shuffle, class_weight,
        sample_weight, seed); the same callback objects serve every trial.  verbose: 0
        silent, 1 one line per trial, 2 also fit's line per epoch.
        """
        for name in ("initial_epoch", "verbose"):
            if name in fit_kwargs:
                raise TypeError(f"search sets fit's {name} itself; do not pass {name}=.")
        fit_kwargs.update(batch_size=batch_size, validation_data=validation_data,
                          validation_split=validation_split)
        if epochs is not None:
            check_positive_int("epochs", epochs)
        plans = self._plans(epochs)
        for index, plan in enumerate(plans):
            if index < len(self.trials):  # finished before (this session or reloaded)
                continue
            trial = self._run_trial(index, plan, x, y, callbacks, verbose, fit_kwargs)
            self.trials.append(trial)
            self._save_trial(trial)
            if verbose:
                print(self._progress_line(index, trial))
        return self

    def _plans(self, epochs):
        """Yield one ``_Plan`` per trial, in order; ``self.trials[:i]`` are finished when
        plan ``i`` is asked for."""
        raise NotImplementedError

    def _total_trials(self):
        """The number of trials the search will run, if known (for the progress lines)."""
        return self.max_trials

    def _trial_rng(self, index, stream=0):
        """Trial ``index``'s generator: stream 0 draws its values, stream 1 its fit seed."""
        return np.random.default_rng([self._entropy, index, stream])

    def _run_trial(self, index, plan, x, y, callbacks, verbose, fit_kwargs):
        fit_kwargs = dict(fit_kwargs)
        fit_kwargs.setdefault("seed", int(self._trial_rng(index, 1).integers(2**32)))
        hp = HyperParameters()
        hp.values.update(plan.values)
        # entries registered for the first time draw from where the presets stopped
        hp._choose = plan.choose(plan.rng) if plan.choose else None
        model = self.hypermodel(hp)
        hp._choose = None
        hp.values = {name: hp.values[name] for name in hp._space}  # only the active ones
        for name, entry in hp._space.items():
            self._space.setdefault(name, entry)
        if not isinstance(model, Model):
            raise TypeError(f"build_model(hp) must return an nn model. Received: {model!r}")
        if model.loss is None:
            raise ValueError("build_model(hp) must return a compiled model: call "
                             "model.compile(optimizer=..., loss=...) before returning it.")
        trial = Trial(f"{index:02d}", hp, initial_epoch=plan.initial_epoch,
                      parent_id=plan.parent_id, bracket=plan.bracket, round=plan.round)
        if plan.parent_id is not None:  # continue from the parent's best weights
            if not model.built:
                model.build(np.shape(x)[1:])
            model.set_weights(self._model_of(self._trial(plan.parent_id)).get_weights())
        recorder = _TrialRecorder(self.objective)
        try:
            model.fit(x, y, epochs=plan.epochs, initial_epoch=plan.initial_epoch,
                      callbacks=[recorder, *(callbacks or [])],
                      verbose=2 if verbose >= 2 else 0, **fit_kwargs)
        except FloatingPointError as error:
            trial.status, trial.message = "FAILED", str(error)
        trial.history, trial.epochs = recorder.history, plan.initial_epoch + recorder.epochs_run
        if trial.status == "COMPLETED":
            trial.score, trial.best_epoch, trial.model = recorder.best, recorder.best_epoch, model
        return trial

    # ------------------------------------------------------------------ results
    def _ranked(self):
        """The trials from best to worst; those without a score last, in run order."""
        return (_rank(self.trials, self.objective)
                + [trial for trial in self.trials if trial.score is None])

    def _check_count(self, name, value):
        check_positive_int(name, value)
        if not self.trials:
            raise RuntimeError("No trial has finished yet: call tuner.search(...) first.")
        return value

    def get_best_hyperparameters(self, num_trials=1):
        """The ``HyperParameters`` of the best ``num_trials`` trials, best first."""
        self._check_count("num_trials", num_trials)
        return [trial.hyperparameters.copy() for trial in self._ranked()[:num_trials]
                if trial.score is not None]

    def get_best_models(self, num_models=1):
        """The trained models of the best ``num_models`` trials (each with the weights of
        its best epoch), best first.  For the final model, retrain on all the data with
        ``get_best_hyperparameters()``."""
        self._check_count("num_models", num_models)
        return [self._model_of(trial) for trial in self._ranked()[:num_models]
                if trial.score is not None]

    def results_summary(self, num_trials=10):
        """Print the best ``num_trials`` trials: values and score (KerasTuner's layout)."""
        check_positive_int("num_trials", num_trials)
        where = self.project_dir or "memory (no directory given)"
        lines = ["Results summary", f"Results in {where}", f"Showing {num_trials} best trials",
                 repr(self.objective)]
        for trial in self._ranked()[:num_trials]:
            lines += ["", f"Trial {trial.trial_id} summary", "Hyperparameters:"]
            lines += [f"{name}: {_format(value, 6)}"
                      for name, value in trial.hyperparameters.values.items()]
            if trial.parent_id is not None:
                lines.append(f"(continued trial {trial.parent_id}: epochs "
                             f"{trial.initial_epoch} to {trial.epochs})")
            lines.append(f"Score: {trial.score:.6g}" if trial.score is not None
                         else f"Status: {trial.status} ({trial.message})")
        print("\n".join(lines))

    def search_space_summary(self):
        """Print the entries the trials have registered so far."""
        lines = ["Search space summary", f"Default search space size: {len(self._space)}"]
        lines += [f"{name} ({type(entry).__name__})\n{entry.get_config()}"
                  for name, entry in self._space.items()]
        print("\n".join(lines))

    def _progress_line(self, index, trial):
        total = self._total_trials()
        values = ", ".join(f"{name}={_format(value, 4)}"
                           for name, value in trial.hyperparameters.values.items())
        extra = "" if trial.bracket is None else (
            f" [bracket {trial.bracket}, round {trial.round}, epochs {trial.initial_epoch}"
            f"->{trial.epochs}]")
        best = self._ranked()[0]
        result = (f"{self.objective.name}={trial.score:.4g}" if trial.score is not None
                  else f"{trial.status}: {trial.message}")
        best_text = (f"best so far {best.score:.4g} (trial {best.trial_id})"
                     if best.score is not None else "no score yet")
        return (f"Trial {index + 1}{'' if total is None else f'/{total}'} (id {trial.trial_id})"
                f"{extra}: {values} -> {result}; {best_text}")

    def _trial(self, trial_id):
        return next(trial for trial in self.trials if trial.trial_id == trial_id)

    def _model_of(self, trial):
        if trial.model is None:
            if self.project_dir is None:
                raise ValueError(f"Trial {trial.trial_id} kept no model (status "
                                 f"{trial.status}).")
            trial.model = load_model(os.path.join(self._trial_dir(trial), "model.npz"))
        return trial.model

    # ------------------------------------------------------------------ files
    def get_config(self):
        """The settings that must match for a project folder to be reloaded."""
        return {"tuner": type(self).__name__, "objective": self.objective.get_config(),
                "seed": self.seed, "max_trials": self.max_trials}

    def _trial_dir(self, trial):
        return os.path.join(self.project_dir, f"trial_{trial.trial_id}")

    def _open_project(self, overwrite):
        settings_path = os.path.join(self.project_dir, "tuner.json")
        if os.path.isdir(self.project_dir) and os.listdir(self.project_dir) \
                and not os.path.exists(settings_path):
            raise ValueError(f"{self.project_dir!r} exists and is not an nn.tuning project (it "
                             "has no tuner.json); choose another directory or project_name.")
        if overwrite and os.path.isdir(self.project_dir):
            shutil.rmtree(self.project_dir)
        if os.path.exists(settings_path):
            with open(settings_path) as file:
                saved = json.load(file)
            if saved.get("format") != FILE_FORMAT or saved.get("config") != self.get_config():
                raise ValueError(
                    f"{self.project_dir!r} holds a search with other settings "
                    f"({saved.get('config')}) than this tuner ({self.get_config()}); pass "
                    "overwrite=True to start afresh, or use another project_name.")
            self._entropy = saved["entropy"]  # a seedless search resumes its own draws
            self._reload_trials()
        else:
            os.makedirs(self.project_dir, exist_ok=True)
            _write_json(settings_path, {"format": FILE_FORMAT, "config": self.get_config(),
                                        "entropy": self._entropy})

    def _reload_trials(self):
        """Load the finished trials 00, 01, ... up to the first one missing."""
        for index in itertools.count():
            path = os.path.join(self.project_dir, f"trial_{index:02d}", "trial.json")
            if not os.path.exists(path):
                break
            with open(path) as file:
                trial = Trial.from_json(json.load(file))
            self.trials.append(trial)
            for entry in trial.hyperparameters.space:
                self._space.setdefault(entry.name, entry)

    def _save_trial(self, trial):
        if self.project_dir is None:
            return
        folder = self._trial_dir(trial)
        os.makedirs(folder, exist_ok=True)
        if trial.model is not None:
            trial.model.save(os.path.join(folder, "model.npz"))
        _write_json(os.path.join(folder, "trial.json"), trial.to_json())  # last: marks it done

    # ------------------------------------------------------------------ helpers for _plans
    def _finished(self, index):
        return index < len(self.trials)

    def _random_values(self, rng, finished):
        """Values for every entry known so far, drawn with ``rng``, that no trial in
        ``finished`` has had; None after ``_MAX_COLLISIONS`` repeats."""
        tried = [trial.hyperparameters.values for trial in finished]
        for _ in range(_MAX_COLLISIONS):
            values = {name: entry.random_value(rng) for name, entry in self._space.items()}
            if values not in tried:
                return values
        return None


def _random_choice(rng):
    return lambda entry: entry.random_value(rng)


def _format(value, digits):
    return f"{value:.{digits}g}" if isinstance(value, float) else repr(value)


def _write_json(path, document):
    """Write ``document`` to ``path`` through a temporary file and a rename (atomic)."""
    temporary = os.path.join(os.path.dirname(path),
                             f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "x") as file:
            json.dump(document, file, indent=1)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class RandomSearch(Tuner):
    """``max_trials`` trials with every value drawn at random (log-uniform for 'log').

    A draw that repeats a finished trial is drawn again; after 100 repeats in a row
    (a small space used up) the search ends early.  Entries a trial registers for the
    first time are drawn as ``build_model`` registers them.
    """

    def __init__(self, hypermodel, objective, max_trials=10, seed=None, directory=None,
                 project_name="untitled_project", overwrite=False):
        check_positive_int("max_trials", max_trials)
        super().__init__(hypermodel, objective, max_trials, seed, directory, project_name,
                         overwrite)

    def _plans(self, epochs):
        for index in range(self.max_trials):
            if self._finished(index):
                yield None
                continue
            rng = self._trial_rng(index)
            values = self._random_values(rng, self.trials[:index])
            if values is None:
                return
            yield _Plan(values, _random_choice, rng, epochs)


class GridSearch(Tuner):
    """Every combination of the entries' grid values, in order (the last entry fastest).

    Grid values: a Choice's values, (False, True) for a Boolean, min_value, min_value +
    step, ... for an Int or a Float with a step (times step for 'log'), every integer
    for an Int without one; a Float without a step is an error.  The first trial uses
    the defaults (as KerasTuner's); it ends when the grid or ``max_trials`` is used up.
    """

    def __init__(self, hypermodel, objective, max_trials=None, seed=None, directory=None,
                 project_name="untitled_project", overwrite=False):
        super().__init__(hypermodel, objective, max_trials, seed, directory, project_name,
                         overwrite)

    def _grid_size(self):
        return math.prod(len(entry.grid_values()) for entry in self._space.values())

    def _total_trials(self):
        if not self._space:
            return self.max_trials
        size = self._grid_size()
        return size if self.max_trials is None else min(size, self.max_trials)

    def _plans(self, epochs):
        for index in itertools.count():
            if self.max_trials is not None and index >= self.max_trials:
                return
            if self._finished(index):
                yield None
                continue
            if index == 0:
                yield _Plan({}, _grid_default, None, epochs)
                continue
            values = self._next_untried(self.trials[:index])
            if values is None:
                return
            yield _Plan(values, _grid_default, None, epochs)

    def _next_untried(self, finished):
        tried = [trial.hyperparameters.values for trial in finished]
        names = list(self._space)
        for combination in itertools.product(*(self._space[name].grid_values()
                                               for name in names)):
            values = dict(zip(names, combination))
            if values not in tried:
                return values
        return None


def _grid_default(rng):
    def choose(entry):
        entry.grid_values()  # a Float without a step fails here, on the first build
        return entry.default
    return choose


class Hyperband(Tuner):
    """Hyperband (Li et al. 2017): brackets of successive halving, from aggressive to none.

    With R = ``max_epochs`` and eta = ``factor``, s_max = floor(log_eta R), and bracket
    s = s_max, ..., 0 starts n = ceil((s_max + 1) eta^s / (s + 1)) random trials of
    r_0 = ceil(R / eta^s) epochs; in round i = 1, ..., s the best floor(n / eta^i) of
    the previous round train on to r_i = ceil(R / eta^(s - i)) epochs in all.  Those
    are Li et al.'s sizes; KerasTuner rounds the survivors up instead, so its brackets
    can keep one more trial.  ``hyperband_iterations`` repeats the whole set.

    A continuing trial is a new trial (own id, ``parent_id`` set): ``build_model(hp)``
    with the parent's values, the parent's best-epoch weights loaded, then
    ``fit(initial_epoch=parent.epochs, epochs=r_i)`` - it resumes the trained weights
    (as KerasTuner does) with a fresh optimizer.  ``search``'s ``epochs`` is ignored.
    """

    def __init__(self, hypermodel, objective, max_epochs=100, factor=3, hyperband_iterations=1,
                 seed=None, directory=None, project_name="untitled_project", overwrite=False):
        self.max_epochs = check_positive_int("max_epochs", max_epochs)
        if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 2:
            raise ValueError(f"factor must be an integer >= 2. Received: factor={factor!r}")
        self.factor = int(factor)
        self.hyperband_iterations = check_positive_int("hyperband_iterations",
                                                       hyperband_iterations)
        super().__init__(hypermodel, objective, None, seed, directory, project_name, overwrite)

    def get_config(self):
        return {**super().get_config(), "max_epochs": self.max_epochs, "factor": self.factor,
                "hyperband_iterations": self.hyperband_iterations}

    @property
    def brackets(self):
        """The schedule of one iteration.

        Per bracket, s_max first, the list of its rounds' (trials, epochs).
        """
        s_max = 0
        while self.factor ** (s_max + 1) <= self.max_epochs:
            s_max += 1
        schedule = []
        for s in range(s_max, -1, -1):
            n = math.ceil((s_max + 1) * self.factor ** s / (s + 1))
            schedule.append([(n // self.factor ** i, -(-self.max_epochs // self.factor ** (s - i)))
                             for i in range(s + 1)])
        return schedule

    def _total_trials(self):
        return self.hyperband_iterations * sum(size for bracket in self.brackets
                                               for size, _ in bracket)

    def _plans(self, epochs):
        index = 0
        for _ in range(self.hyperband_iterations):
            for bracket in self.brackets:
                s = len(bracket) - 1
                previous = []
                for round_number, (size, round_epochs) in enumerate(bracket):
                    current = []
                    if round_number == 0:
                        candidates = [None] * size
                    else:
                        ranked = [trial for trial in _rank(previous, self.objective)
                                  if trial.score is not None]
                        candidates = ranked[:size]
                    for parent in candidates:
                        if self._finished(index):
                            yield None
                        else:
                            plan = self._plan(index, parent, s, round_number, round_epochs)
                            if plan is None:
                                break
                            yield plan
                        current.append(self.trials[index])
                        index += 1
                    previous = current

    def _plan(self, index, parent, bracket, round_number, round_epochs):
        if parent is not None:
            return _Plan(dict(parent.hyperparameters.values), None, None, round_epochs,
                         parent.epochs, parent.trial_id, bracket, round_number)
        first_round = [trial for trial in self.trials[:index] if trial.parent_id is None]
        rng = self._trial_rng(index)
        values = self._random_values(rng, first_round)
        if values is None:
            return None
        return _Plan(values, _random_choice, rng, round_epochs, 0, None, bracket, round_number)


def _rank(trials, objective):
    """The trials that have a score, best first (ties in run order)."""
    scored = [trial for trial in trials if trial.score is not None]
    return sorted(scored, key=lambda trial: -trial.score if objective.direction == "max"
                  else trial.score)
