"""Optimizers: turn (parameter, gradient) pairs into in-place parameter updates.

An optimizer knows nothing of layers. Each step it receives pairs of NumPy arrays
``(param, grad)`` of equal shape and changes every ``param`` in place, so a layer
holding a reference sees the new values. Per-parameter state (velocities, moment
estimates) is created on the first step, in the parameter's dtype and shape.

Every update below equals its ``torch.optim`` counterpart given the same
hyperparameters; the defaults are the Keras ones. Updates are written with in-place
ufuncs into a per-parameter work array (``state['buffer']``), so a step allocates no new
arrays. Each in-place line is annotated with the term of the update rule it computes.

The learning rate is a number or a schedule: a callable ``schedule(iteration)``
that receives the 0-based index of the step about to be taken.

Every optimizer also takes Keras' gradient clipping arguments (at most one of them),
applied to the gradients before the update rule sees them::

    clipnorm=c          each gradient g <- g c / max(||g||, c)       (its own norm <= c)
    global_clipnorm=c   every g <- g c / max(||(g_1, ..., g_m)||, c)  (the norm of all
                        the gradients together <= c; their directions relative to each
                        other kept)
    clipvalue=v         each entry clipped to [-v, v]

The norms are Euclidean (Frobenius for matrices).  The layers' gradient arrays are
left as they are; the clipped gradients go to a per-parameter buffer.
"""
import math

import numpy as np

from . import registry
from .checks import check_positive_int


def _check(name, value, is_valid, expected):
    """Return `value` as a Python float, or raise a ValueError that repeats it."""
    if not is_valid:
        raise ValueError(f"{name} must be {expected}. Received: {name}={value!r}")
    return float(value)


def _check_learning_rate(learning_rate):
    if callable(learning_rate):
        return learning_rate
    if not isinstance(learning_rate, (int, float, np.number)):
        raise TypeError(
            "learning_rate must be a number or a schedule. "
            f"Received: learning_rate={learning_rate!r}"
        )
    return _check("learning_rate", learning_rate, learning_rate > 0, "> 0")


# ---------------------------------------------------------------------------
# Learning-rate schedules
# ---------------------------------------------------------------------------


class LearningRateSchedule(registry.Serializable, family="learning_rate_schedule"):
    """Base class: a learning rate that depends on the step, ``schedule(t) -> float``.

    ``t`` is the number of steps already taken (0 for the first step).
    """

    def __call__(self, iteration):
        raise NotImplementedError

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class StepDecay(LearningRateSchedule):
    """Multiply the learning rate by `gamma` every `step_size` steps.

    lr(t) = initial_learning_rate * gamma^floor(t / step_size)

    Defaults: gamma=0.1 (as torch.optim.lr_scheduler.StepLR).
    """

    def __init__(self, initial_learning_rate, step_size, gamma=0.1):
        self.initial_learning_rate = _check(
            "initial_learning_rate", initial_learning_rate, initial_learning_rate > 0, "> 0"
        )
        self.step_size = check_positive_int("step_size", step_size)
        self.gamma = _check("gamma", gamma, gamma > 0, "> 0")

    def __call__(self, iteration):
        return self.initial_learning_rate * self.gamma ** (iteration // self.step_size)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "step_size": self.step_size,
            "gamma": self.gamma,
        }


class ExponentialDecay(LearningRateSchedule):
    """Decay the learning rate smoothly by `decay_rate` every `decay_steps` steps.

    lr(t) = initial_learning_rate * decay_rate^(t / decay_steps)
    staircase=True uses floor(t / decay_steps), so the rate drops in steps.

    Defaults: staircase=False (as keras.optimizers.schedules.ExponentialDecay).
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate = _check(
            "initial_learning_rate", initial_learning_rate, initial_learning_rate > 0, "> 0"
        )
        self.decay_steps = _check("decay_steps", decay_steps, decay_steps > 0, "> 0")
        self.decay_rate = _check("decay_rate", decay_rate, decay_rate > 0, "> 0")
        self.staircase = bool(staircase)

    def __call__(self, iteration):
        exponent = iteration / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        return self.initial_learning_rate * self.decay_rate**exponent

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
        }


class CosineDecay(LearningRateSchedule):
    """Lower the learning rate along half a cosine, then hold it at `alpha` times the start.

    lr(t) = initial_learning_rate * ((1 - alpha) c + alpha),
            c = (1 + cos(pi min(t, decay_steps) / decay_steps)) / 2

    Defaults: alpha=0.0 (as keras.optimizers.schedules.CosineDecay).
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0):
        self.initial_learning_rate = _check(
            "initial_learning_rate", initial_learning_rate, initial_learning_rate > 0, "> 0"
        )
        self.decay_steps = _check("decay_steps", decay_steps, decay_steps > 0, "> 0")
        self.alpha = _check("alpha", alpha, 0 <= alpha <= 1, "in [0, 1]")

    def __call__(self, iteration):
        progress = min(iteration, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1 + math.cos(math.pi * progress))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
        }




# ---------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------


class Optimizer(registry.Serializable, family="optimizer"):
    """Base class: applies one update rule to every (parameter, gradient) pair.

    A subclass defines ``_make_state(param)``, the dict of arrays it keeps per
    parameter, and ``_update(param, grad, state, learning_rate)``, which changes
    ``param`` in place. ``iterations`` counts the steps taken; during a step it
    already includes the current one, so bias corrections see t = 1 first.
    ``clipnorm``, ``global_clipnorm`` and ``clipvalue`` clip the gradients first (see
    the module docstring); Keras allows at most one, and so does nn.
    """

    def __init__(self, learning_rate, clipnorm=None, clipvalue=None, global_clipnorm=None):
        self.learning_rate = _check_learning_rate(learning_rate)
        clipping = {"clipnorm": clipnorm, "clipvalue": clipvalue,
                    "global_clipnorm": global_clipnorm}
        given = {name: value for name, value in clipping.items() if value is not None}
        if len(given) > 1:
            raise ValueError("Only one of clipnorm, clipvalue and global_clipnorm can be set. "
                             "Received: " + ", ".join(f"{k}={v!r}" for k, v in given.items()))
        for name, value in given.items():
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise TypeError(f"{name} must be a number. Received: {name}={value!r}")
            _check(name, value, math.isfinite(value) and value > 0, "a finite number > 0")
        self.clipnorm, self.clipvalue, self.global_clipnorm = (
            None if value is None else float(value) for value in clipping.values())
        self.iterations = 0
        # id(param) -> dict of arrays shaped like param.  Each state also holds the
        # parameter itself, which keeps it alive: its id can never be reused by a new
        # array that would then inherit its moments.
        self.state = {}

    def current_learning_rate(self):
        """The learning rate the next step will use."""
        if callable(self.learning_rate):
            return float(self.learning_rate(self.iterations))
        return self.learning_rate

    def step(self, params_and_grads):
        """Update each ``param`` in place from its ``grad``: an iterable of (param, grad) pairs."""
        pairs = list(params_and_grads)
        for param, grad in pairs:
            if grad.shape != param.shape:
                raise ValueError(
                    f"Gradient shape {grad.shape} does not match parameter shape {param.shape}."
                )
        learning_rate = self.current_learning_rate()
        self.iterations += 1
        states = []
        for param, _ in pairs:
            state = self.state.get(id(param))
            if state is None:
                state = self.state[id(param)] = self._make_state(param)
                state["param"] = param
            states.append(state)
        grads = self._clipped([grad for _, grad in pairs], states)
        for (param, _), grad, state in zip(pairs, grads, states):
            self._update(param, grad, state, learning_rate)

    def _clipped(self, grads, states):
        """The gradients after clipnorm, global_clipnorm or clipvalue (Keras' rules), written
        to each parameter's 'clipped' buffer; the gradients themselves when nothing clips."""
        if self.clipnorm is None and self.global_clipnorm is None and self.clipvalue is None:
            return grads
        buffers = [state.setdefault("clipped", np.empty_like(grad))
                   for grad, state in zip(grads, states)]
        if self.clipvalue is not None:
            return [np.clip(grad, -self.clipvalue, self.clipvalue, out=buffer)
                    for grad, buffer in zip(grads, buffers)]
        norms = [math.sqrt(float(np.vdot(grad, grad))) for grad in grads]
        if self.clipnorm is not None:  # each gradient on its own
            scales = [self.clipnorm / max(norm, self.clipnorm) for norm in norms]
        else:  # all together: the norm of the concatenated gradients
            total = math.sqrt(sum(norm * norm for norm in norms))
            scales = [self.global_clipnorm / max(total, self.global_clipnorm)] * len(grads)
        return [grad if scale == 1 else np.multiply(grad, scale, out=buffer)
                for grad, scale, buffer in zip(grads, scales, buffers)]

    def apply_gradients(self, grads_and_vars):
        """Keras-style alias of ``step`` taking (grad, param) pairs."""
        self.step((param, grad) for grad, param in grads_and_vars)

    def get_config(self):
        """The constructor arguments, as a JSON-able dict (the clipping argument if set)."""
        config = {"learning_rate": _serialize_learning_rate(self.learning_rate)}
        for name in ("clipnorm", "clipvalue", "global_clipnorm"):
            if getattr(self, name) is not None:
                config[name] = getattr(self, name)
        return config

    @classmethod
    def from_config(cls, config):
        """Build an optimizer from ``get_config()`` output."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = registry.deserialize(config["learning_rate"],
                                                           "learning_rate_schedule")
        return cls(**config)

    def _make_state(self, param):
        raise NotImplementedError

    def _update(self, param, grad, state, learning_rate):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight decay.

    g <- g + wd p                          (if weight_decay)
    v <- mu v + g                          (if momentum; v starts at 0)
    g <- g + mu v   if nesterov,  else  g <- v
    p <- p - lr g

    Defaults: learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=0.0.
    """

    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=0.0,
                 **clipping):
        super().__init__(learning_rate, **clipping)
        self.momentum = _check("momentum", momentum, 0 <= momentum < 1, "in [0, 1)")
        self.weight_decay = _check("weight_decay", weight_decay, weight_decay >= 0, ">= 0")
        if nesterov and not momentum:
            raise ValueError(f"nesterov=True needs momentum > 0. Received: momentum={momentum!r}")
        self.nesterov = bool(nesterov)

    def _make_state(self, param):
        state = {"buffer": np.empty_like(param)}
        if self.momentum:
            state["velocity"] = np.zeros_like(param)
        return state

    def _update(self, param, grad, state, learning_rate):
        buffer = state["buffer"]
        g = grad
        if self.weight_decay:
            g = np.multiply(param, self.weight_decay, out=buffer)  # wd p
            g += grad  # g + wd p
        if self.momentum:
            velocity = state["velocity"]
            velocity *= self.momentum  # mu v
            velocity += g  # v = mu v + g
            if self.nesterov:  # p - lr (g + mu v), as two in-place subtractions
                np.multiply(g, learning_rate, out=buffer)  # lr g
                param -= buffer  # p - lr g
                np.multiply(velocity, learning_rate * self.momentum, out=buffer)  # lr mu v
            else:
                np.multiply(velocity, learning_rate, out=buffer)  # lr v
        else:
            np.multiply(g, learning_rate, out=buffer)  # lr g
        param -= buffer  # p <- p - (the step above)

    def get_config(self):
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
        }


class Adagrad(Optimizer):
    """Adagrad: per-coordinate step sizes that shrink with the sum of squared gradients.

    s <- s + g^2                           (s starts at initial_accumulator_value)
    p <- p - lr g / (sqrt(s) + eps)

    Defaults: learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7.
    """

    name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **clipping):
        super().__init__(learning_rate, **clipping)
        self.initial_accumulator_value = _check(
            "initial_accumulator_value", initial_accumulator_value,
            initial_accumulator_value >= 0, ">= 0"
        )
        self.epsilon = _check("epsilon", epsilon, epsilon >= 0, ">= 0")

    def _make_state(self, param):
        return {
            "accumulator": np.full_like(param, self.initial_accumulator_value),
            "buffer": np.empty_like(param),
        }

    def _update(self, param, grad, state, learning_rate):
        accumulator, buffer = state["accumulator"], state["buffer"]
        np.multiply(grad, grad, out=buffer)  # g^2
        accumulator += buffer  # s = s + g^2
        np.sqrt(accumulator, out=buffer)  # sqrt(s)
        buffer += self.epsilon  # sqrt(s) + eps
        np.divide(grad, buffer, out=buffer)  # g / (sqrt(s) + eps)
        buffer *= learning_rate  # lr g / (sqrt(s) + eps)
        param -= buffer  # p - lr g / (sqrt(s) + eps)

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


class RMSprop(Optimizer):
    """RMSprop: divide each gradient by a running root mean square of recent gradients.

    v <- rho v + (1 - rho) g^2
    centered:  a <- rho a + (1 - rho) g,   d = sqrt(v - a^2) + eps
    otherwise: d = sqrt(v) + eps
    with momentum:  b <- mu b + g / d,   p <- p - lr b
    otherwise:      p <- p - lr g / d

    v, a and b start at 0. eps is added outside the square root, as in PyTorch
    (Keras adds it inside). Defaults: learning_rate=0.001, rho=0.9, momentum=0.0,
    epsilon=1e-7, centered=False.
    """

    name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **clipping):
        super().__init__(learning_rate, **clipping)
        self.rho = _check("rho", rho, 0 <= rho < 1, "in [0, 1)")
        self.momentum = _check("momentum", momentum, 0 <= momentum < 1, "in [0, 1)")
        self.epsilon = _check("epsilon", epsilon, epsilon >= 0, ">= 0")
        self.centered = bool(centered)

    def _make_state(self, param):
        state = {"mean_square": np.zeros_like(param), "buffer": np.empty_like(param)}
        if self.centered:
            state["mean_grad"] = np.zeros_like(param)
        if self.momentum:
            state["velocity"] = np.zeros_like(param)
        return state

    def _update(self, param, grad, state, learning_rate):
        mean_square, buffer = state["mean_square"], state["buffer"]
        mean_square *= self.rho  # rho v
        np.multiply(grad, grad, out=buffer)  # g^2
        buffer *= 1 - self.rho  # (1 - rho) g^2
        mean_square += buffer  # v = rho v + (1 - rho) g^2
        if self.centered:
            mean_grad = state["mean_grad"]
            mean_grad *= self.rho  # rho a
            np.multiply(grad, 1 - self.rho, out=buffer)  # (1 - rho) g
            mean_grad += buffer  # a = rho a + (1 - rho) g
            np.multiply(mean_grad, mean_grad, out=buffer)  # a^2
            np.subtract(mean_square, buffer, out=buffer)  # v - a^2
            np.maximum(buffer, 0, out=buffer)  # rounding can push a zero variance below 0
            np.sqrt(buffer, out=buffer)  # sqrt(v - a^2)
        else:
            np.sqrt(mean_square, out=buffer)  # sqrt(v)
        buffer += self.epsilon  # d = sqrt(...) + eps
        np.divide(grad, buffer, out=buffer)  # g / d
        if self.momentum:
            velocity = state["velocity"]
            velocity *= self.momentum  # mu b
            velocity += buffer  # b = mu b + g / d
            np.multiply(velocity, learning_rate, out=buffer)  # lr b
        else:
            buffer *= learning_rate  # lr g / d
        param -= buffer  # p - (the step above)

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adam(Optimizer):
    """Adam: momentum on the gradient, scaled by a running RMS of the gradient, both
    bias-corrected.

    m <- b1 m + (1 - b1) g
    v <- b2 v + (1 - b2) g^2
    (amsgrad: v_max <- max(v_max, v), used in place of v below)
    m_hat = m / (1 - b1^t),   v_hat = v / (1 - b2^t)
    p <- p - lr m_hat / (sqrt(v_hat) + eps)

    m and v start at 0; t = 1 on the first step. eps is added after bias-correcting
    v, as in PyTorch. Defaults: learning_rate=0.001, beta_1=0.9, beta_2=0.999,
    epsilon=1e-7, amsgrad=False.
    """

    name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 **clipping):
        super().__init__(learning_rate, **clipping)
        self.beta_1 = _check("beta_1", beta_1, 0 <= beta_1 < 1, "in [0, 1)")
        self.beta_2 = _check("beta_2", beta_2, 0 <= beta_2 < 1, "in [0, 1)")
        self.epsilon = _check("epsilon", epsilon, epsilon >= 0, ">= 0")
        self.amsgrad = bool(amsgrad)

    def _make_state(self, param):
        state = {"m": np.zeros_like(param), "v": np.zeros_like(param),
                 "buffer": np.empty_like(param)}
        if self.amsgrad:
            state["v_max"] = np.zeros_like(param)
        return state

    def _update(self, param, grad, state, learning_rate):
        m, v, buffer = state["m"], state["v"], state["buffer"]
        m *= self.beta_1  # b1 m
        np.multiply(grad, 1 - self.beta_1, out=buffer)  # (1 - b1) g
        m += buffer  # m = b1 m + (1 - b1) g
        v *= self.beta_2  # b2 v
        np.multiply(grad, grad, out=buffer)  # g^2
        buffer *= 1 - self.beta_2  # (1 - b2) g^2
        v += buffer  # v = b2 v + (1 - b2) g^2
        if self.amsgrad:
            v = np.maximum(state["v_max"], v, out=state["v_max"])  # v_max = max(v_max, v)
        t = self.iterations
        bias_correction_1 = 1 - self.beta_1**t
        bias_correction_2 = 1 - self.beta_2**t
        np.sqrt(v, out=buffer)  # sqrt(v)
        buffer /= math.sqrt(bias_correction_2)  # sqrt(v_hat) = sqrt(v / (1 - b2^t))
        buffer += self.epsilon  # sqrt(v_hat) + eps
        np.divide(m, buffer, out=buffer)  # m / (sqrt(v_hat) + eps)
        buffer *= learning_rate / bias_correction_1  # lr m_hat / (sqrt(v_hat) + eps)
        param -= buffer  # p - lr m_hat / (sqrt(v_hat) + eps)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """AdamW: Adam with weight decay applied to the parameters, not added to the gradient.

    p <- p (1 - lr wd)
    then the Adam update (see Adam).

    Defaults: learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
    epsilon=1e-7, amsgrad=False.
    """

    name = "adamw"

    def __init__(
        self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
        amsgrad=False, **clipping
    ):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, **clipping)
        self.weight_decay = _check("weight_decay", weight_decay, weight_decay >= 0, ">= 0")

    def _update(self, param, grad, state, learning_rate):
        param *= 1 - learning_rate * self.weight_decay  # p (1 - lr wd)
        super()._update(param, grad, state, learning_rate)

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}


# ---------------------------------------------------------------------------
# Names and configs
# ---------------------------------------------------------------------------

def _serialize_learning_rate(learning_rate):
    if not callable(learning_rate):
        return learning_rate
    if not isinstance(learning_rate, LearningRateSchedule):
        raise TypeError(
            "Only LearningRateSchedule objects (StepDecay, ExponentialDecay, CosineDecay) can be "
            f"saved in a config. Received: learning_rate={learning_rate!r}"
        )
    return registry.serialize(learning_rate)


def serialize(optimizer):
    """The JSON-able dict a saved model stores: ``{"class_name": ..., "config": ...}``."""
    return registry.serialize(optimizer)


def get(identifier):
    """Resolve an optimizer: a name ('adam', ...), an Optimizer, or a ``serialize`` dict.

    A name gives a fresh instance with default hyperparameters.
    """
    return registry.get(identifier, "optimizer", Optimizer)
