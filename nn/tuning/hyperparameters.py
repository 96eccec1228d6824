"""The search space: ``HyperParameters`` and its entries ``Int``, ``Float``, ``Choice``, ...

As in KerasTuner the space is defined by running the model-building function:
each ``hp.Int(...)``, ``hp.Float(...)``, ``hp.Choice(...)`` call registers an entry
and returns its value for the current trial.  Outside a search (a fresh
``HyperParameters()``) that value is the entry's default::

    Int(name, min_value, max_value, step=None, sampling='linear', default=None)
        default: min_value.  step: the distance between values ('linear') or
        the ratio between them ('log'); None: any integer in the range.
    Float(name, min_value, max_value, step=None, sampling='linear', default=None)
        default: min_value.  step as for Int; None: any number in the range.
    Choice(name, values, default=None)   default: values[0]
    Boolean(name, default=False)
    Fixed(name, value)                   always value (not tuned)

Log sampling draws ``exp(u)`` with ``u`` uniform in ``[log min, log max]``, so
each decade is equally likely: ``1e-4..1e-3`` as often as ``1e-2..1e-1``.  A tuner picks
the values; the entries only say how to draw one (``random_value(rng)``) and which
values a grid visits (``grid_values()``).
"""
import math

import numpy as np

SAMPLINGS = ("linear", "log")


def _check_name(name):
    if not isinstance(name, str) or not name:
        raise TypeError(f"A hyperparameter's name must be a non-empty string. Received: {name!r}")
    return name


def _plain(value):
    """``value`` as a plain Python scalar (NumPy scalars become int/float/bool/str)."""
    return value.item() if isinstance(value, np.generic) else value


def _tidy(value):
    """A float from a step grid without the last-digit noise of repeated addition
    (0.1 + 2 * 0.1 -> 0.3, not 0.30000000000000004)."""
    return float(f"{value:.12g}")


class HyperParameter:
    """Base of the search-space entries: a name, a default, and how to pick values."""

    def __init__(self, name, default=None):
        self.name = _check_name(name)
        self.default = default

    def random_value(self, rng):
        """One value drawn with the numpy Generator ``rng``."""
        raise NotImplementedError

    def grid_values(self):
        """Every value a grid search visits, in order."""
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "default": self.default}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class Numerical(HyperParameter):
    """The checks and draws ``Int`` and ``Float`` share."""

    kind = "number"

    def __init__(self, name, min_value, max_value, step=None, sampling="linear", default=None):
        _check_name(name)
        for label, value in (("min_value", min_value), ("max_value", max_value)):
            self._check_number(name, label, value)
        if min_value > max_value:
            raise ValueError(f"Hyperparameter {name!r}: min_value must be <= max_value. "
                             f"Received: min_value={min_value!r}, max_value={max_value!r}")
        if sampling not in SAMPLINGS:
            raise ValueError(f"Hyperparameter {name!r}: sampling must be 'linear' or 'log'. "
                             f"Received: sampling={sampling!r}")
        if sampling == "log" and min_value <= 0:
            raise ValueError(f"Hyperparameter {name!r}: log sampling needs positive bounds. "
                             f"Received: min_value={min_value!r}, max_value={max_value!r}")
        if step is not None:
            self._check_number(name, "step", step)
            if step <= 0 or (sampling == "log" and step <= 1):
                expected = "> 1 (the ratio between values)" if sampling == "log" else "> 0"
                raise ValueError(f"Hyperparameter {name!r}: step must be {expected} with "
                                 f"sampling={sampling!r}. Received: step={step!r}")
        if default is None:
            default = min_value
        else:
            self._check_number(name, "default", default)
            if not min_value <= default <= max_value:
                raise ValueError(f"Hyperparameter {name!r}: default must lie in [{min_value}, "
                                 f"{max_value}]. Received: default={default!r}")
        super().__init__(name, self._cast(default))
        self.min_value, self.max_value = self._cast(min_value), self._cast(max_value)
        self.step = None if step is None else self._cast(step)
        self.sampling = sampling

    def _check_number(self, name, label, value):
        if isinstance(value, bool) or not isinstance(value, self.types) \
                or not math.isfinite(value):
            raise TypeError(f"Hyperparameter {name!r}: {label} must be a finite {self.kind}. "
                            f"Received: {label}={value!r}")

    def _count(self):
        """How many values the step grid has (the step must be set)."""
        if self.sampling == "linear":
            return int(math.floor((self.max_value - self.min_value) / self.step + 1e-9)) + 1
        return int(math.floor(math.log(self.max_value / self.min_value)
                              / math.log(self.step) + 1e-9)) + 1

    def _on_grid(self, index):
        if self.sampling == "linear":
            return self.min_value + index * self.step
        return self.min_value * self.step ** index

    def get_config(self):
        return {"name": self.name, "min_value": self.min_value, "max_value": self.max_value,
                "step": self.step, "sampling": self.sampling, "default": self.default}


class Int(Numerical):
    """An integer in ``[min_value, max_value]`` (both included)."""

    types = (int, np.integer)
    kind = "integer"

    @staticmethod
    def _cast(value):
        return int(value)

    def random_value(self, rng):
        if self.step is not None:
            return int(round(self._on_grid(int(rng.integers(self._count())))))
        if self.sampling == "linear":
            return int(rng.integers(self.min_value, self.max_value + 1))
        # each integer k with probability proportional to log((k + 1) / k)
        value = math.floor(math.exp(rng.uniform(math.log(self.min_value),
                                                math.log(self.max_value + 1))))
        return int(min(max(value, self.min_value), self.max_value))

    def grid_values(self):
        if self.step is None:
            return tuple(range(self.min_value, self.max_value + 1))
        return tuple(dict.fromkeys(int(round(self._on_grid(index)))
                                   for index in range(self._count())))


class Float(Numerical):
    """A float in ``[min_value, max_value]``."""

    types = (int, float, np.integer, np.floating)

    @staticmethod
    def _cast(value):
        return float(value)

    def random_value(self, rng):
        if self.step is not None:
            return _tidy(self._on_grid(int(rng.integers(self._count()))))
        if self.sampling == "linear":
            return float(rng.uniform(self.min_value, self.max_value))
        return float(min(math.exp(rng.uniform(math.log(self.min_value),
                                              math.log(self.max_value))), self.max_value))

    def grid_values(self):
        if self.step is None:
            raise ValueError(
                f"GridSearch cannot enumerate Float {self.name!r} (from {self.min_value} to "
                f"{self.max_value}, sampling={self.sampling!r}) without a step: give "
                "step=..., or use hp.Choice with the values to try.")
        return tuple(_tidy(self._on_grid(index)) for index in range(self._count()))


class Choice(HyperParameter):
    """One of ``values`` (numbers, strings or booleans, all of one kind)."""

    def __init__(self, name, values, default=None):
        _check_name(name)
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise TypeError(f"Choice {name!r}: values must be a list. Received: {values!r}")
        values = [_plain(value) for value in values]
        if not values:
            raise ValueError(f"Choice {name!r}: values must not be empty.")
        kinds = {_kind(value) for value in values}
        if None in kinds or len(kinds) > 1:
            raise TypeError(f"Choice {name!r}: values must be all numbers, all strings or all "
                            f"booleans. Received: {values!r}")
        if len(set(values)) != len(values):
            raise ValueError(f"Choice {name!r}: values must be distinct. Received: {values!r}")
        default = values[0] if default is None else _plain(default)
        if default not in values:
            raise ValueError(f"Choice {name!r}: default must be one of {values!r}. "
                             f"Received: default={default!r}")
        super().__init__(name, default)
        self.values = values

    def random_value(self, rng):
        return self.values[int(rng.integers(len(self.values)))]

    def grid_values(self):
        return tuple(self.values)

    def get_config(self):
        return {"name": self.name, "values": list(self.values), "default": self.default}


def _kind(value):
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "str" if isinstance(value, str) else None


class Boolean(HyperParameter):
    """True or False."""

    def __init__(self, name, default=False):
        _check_name(name)
        if not isinstance(default, (bool, np.bool_)):
            raise TypeError(f"Boolean {name!r}: default must be True or False. "
                            f"Received: default={default!r}")
        super().__init__(name, bool(default))

    def random_value(self, rng):
        return bool(rng.integers(2))

    def grid_values(self):
        return (False, True)


class Fixed(HyperParameter):
    """A value that is recorded with the others but never tuned."""

    def __init__(self, name, value):
        _check_name(name)
        value = _plain(value)
        if value is not None and _kind(value) is None:
            raise TypeError(f"Fixed {name!r}: value must be a number, string, boolean or None. "
                            f"Received: value={value!r}")
        super().__init__(name, value)
        self.value = value

    def random_value(self, rng):
        return self.value

    def grid_values(self):
        return (self.value,)

    def get_config(self):
        return {"name": self.name, "value": self.value}


ENTRIES = {cls.__name__: cls for cls in (Int, Float, Choice, Boolean, Fixed)}


class HyperParameters:
    """The hyperparameters of one trial: the space seen so far and the current values.

    ``build_model(hp)`` calls ``hp.Int``, ``hp.Float``, ``hp.Choice``, ``hp.Boolean``,
    ``hp.Fixed``; each returns the value of this trial.  ``values`` maps each name to
    its value; ``space`` lists the entries; ``get(name)`` (or ``hp[name]``) reads a
    value.  A name registered twice returns the value it already has.
    """

    def __init__(self):
        self._space = {}  # name -> entry, in registration order
        self.values = {}
        # How a tuner picks the value of an entry registered for the first time: a
        # function entry -> value; None means the entry's default.
        self._choose = None

    @property
    def space(self):
        """The registered entries, in the order ``build_model`` registered them."""
        return list(self._space.values())

    def Int(self, name, min_value, max_value, step=None, sampling="linear", default=None):
        """An integer between ``min_value`` and ``max_value`` (see the module docstring)."""
        return self._register(Int(name, min_value, max_value, step, sampling, default))

    def Float(self, name, min_value, max_value, step=None, sampling="linear", default=None):
        """A float between ``min_value`` and ``max_value`` (see the module docstring)."""
        return self._register(Float(name, min_value, max_value, step, sampling, default))

    def Choice(self, name, values, default=None):
        """One of ``values``; the default is the first."""
        return self._register(Choice(name, values, default))

    def Boolean(self, name, default=False):
        """True or False; the default is False."""
        return self._register(Boolean(name, default))

    def Fixed(self, name, value):
        """A constant recorded with the other values."""
        return self._register(Fixed(name, value))

    def _register(self, entry):
        existing = self._space.get(entry.name)
        if existing is not None:
            if type(existing) is not type(entry):
                raise ValueError(f"Hyperparameter {entry.name!r} is already a "
                                 f"{type(existing).__name__}; it cannot also be a "
                                 f"{type(entry).__name__}.")
            entry = existing
        else:
            self._space[entry.name] = entry
        if isinstance(entry, Fixed):
            self.values[entry.name] = entry.value
        elif entry.name not in self.values:
            self.values[entry.name] = (entry.default if self._choose is None
                                       else self._choose(entry))
        return self.values[entry.name]

    def get(self, name):
        """The current value of hyperparameter ``name``."""
        if name in self.values:
            return self.values[name]
        known = ", ".join(repr(key) for key in self.values) or "none yet"
        raise ValueError(f"Unknown hyperparameter {name!r}. The known ones are: {known}.")

    __getitem__ = get

    def __contains__(self, name):
        return name in self.values

    def copy(self):
        """An independent copy (same entries, a copy of the values)."""
        return HyperParameters.from_config(self.get_config())

    def get_config(self):
        """A JSON-serialisable dict: the entries and the values."""
        return {"space": [{"class_name": type(entry).__name__, "config": entry.get_config()}
                          for entry in self._space.values()],
                "values": dict(self.values)}

    @classmethod
    def from_config(cls, config):
        hp = cls()
        for spec in config["space"]:
            entry = ENTRIES[spec["class_name"]].from_config(spec["config"])
            hp._space[entry.name] = entry
        hp.values = dict(config["values"])
        return hp

    def __eq__(self, other):
        return isinstance(other, HyperParameters) and self.get_config() == other.get_config()

    def __repr__(self):
        return f"HyperParameters({self.values!r})"
