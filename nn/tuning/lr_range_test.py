"""The learning-rate range test (Smith 2017): train briefly while the learning rate grows.

Over ``steps`` mini-batches the learning rate rises exponentially from ``min_lr``
to ``max_lr``::

    lr_t = min_lr (max_lr / min_lr)^(t / (steps - 1))          t = 0, ..., steps - 1

and each batch's loss (computed before its update) is recorded.  The losses are
noisy, so they are smoothed by an exponential moving average with bias
correction (as Adam's moments)::

    m_t = beta m_{t-1} + (1 - beta) loss_t,   m_{-1} = 0,   smoothed_t = m_t / (1 - beta^(t+1))

The test stops early once the smoothed loss exceeds 4 times its minimum so far
(or a loss is not finite): the learning rate is past the point of divergence.

The suggested range ``(low, high)``, from the n steps run::

    high = (learning rate of the smallest smoothed loss) / 10
    low  = the learning rate, below high, where the smoothed loss falls fastest
           (most negative d smoothed / d log lr), among the steps t >= k after the
           start-up, k = max(1, min(10, n // 10)), where the loss has started to fall:
           smoothed_t < smoothed_k - (smoothed_k - min smoothed) / 10, a tenth of the
           whole fall below its level after the start-up; high / 10 if there is none.

The start-up is skipped because the average of the first few losses is still
little more than one noisy batch loss, so the steepest "fall" of a flat curve
would otherwise be at the very first steps, i.e. at min_lr.

So ``high`` stays a safe factor of ten below where the loss bottoms out, and
``low`` is where training already makes quick progress: bounds for a cyclical
schedule, or ``high`` as one fixed learning rate.  The model's weights, its
optimizer's state, learning rate and step count, and the random generators of
the model and its layers are restored afterwards, so the test leaves no trace.
"""
from dataclasses import dataclass

import numpy as np

from ..checks import check_positive_int, check_same_rows


@dataclass
class LRRangeTestResult:
    """The outcome of ``learning_rate_range_test``: arrays of the steps run, and the
    suggested ``(low, high)`` learning rates."""

    learning_rates: np.ndarray
    losses: np.ndarray
    smoothed_losses: np.ndarray
    suggested: tuple

    def plot(self, ax=None):
        """Draw loss against learning rate (log axis), the smoothed curve and the suggested
        range; returns the matplotlib Axes (a new figure's when ``ax`` is None)."""
        import matplotlib.pyplot as plt

        from ..plotting import COLORS

        if ax is None:
            _, ax = plt.subplots()
        low, high = self.suggested
        ax.plot(self.learning_rates, self.losses, color=COLORS[6], linewidth=1,
                label="loss of each batch")
        ax.plot(self.learning_rates, self.smoothed_losses, color=COLORS[0], linewidth=2,
                label="smoothed loss")
        ax.axvspan(low, high, color=COLORS[2], alpha=0.2,
                   label=f"suggested range {low:.2g} to {high:.2g}")
        ax.set_xscale("log")
        finite = self.smoothed_losses[np.isfinite(self.smoothed_losses)]
        if finite.size:  # the raw losses of the last steps can be huge: keep the curve in view
            ax.set_ylim(top=1.1 * finite.max())
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("training loss")
        ax.legend()
        return ax


def learning_rate_range_test(model, x, y, min_lr=1e-7, max_lr=10.0, steps=200, batch_size=32,
                             seed=None, smoothing=0.98):
    """Run the range test on a compiled ``model`` with data ``(x, y)``; see the module docstring.

    x: (n, ...) inputs, y: (n, ...) targets; batches are drawn in a random order from
    ``np.random.default_rng(seed)``, a new permutation each pass over the data.
    smoothing: the moving average's beta.  Returns an ``LRRangeTestResult``; the model
    and its optimizer are as they were before the call.
    """
    if getattr(model, "loss", None) is None:
        raise RuntimeError("learning_rate_range_test needs a compiled model: call "
                           "model.compile(optimizer=..., loss=...) first.")
    for name, value in (("min_lr", min_lr), ("max_lr", max_lr)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a finite number > 0. Received: {name}={value!r}")
    if min_lr >= max_lr:
        raise ValueError(f"min_lr must be below max_lr. Received: min_lr={min_lr!r}, "
                         f"max_lr={max_lr!r}")
    if check_positive_int("steps", steps) < 2:
        raise ValueError(f"steps must be at least 2. Received: steps={steps!r}")
    check_positive_int("batch_size", batch_size)
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must lie in [0, 1). Received: smoothing={smoothing!r}")
    x, y = np.asarray(x), np.asarray(y)
    check_same_rows(x, y)
    if not model.built:
        model.build(x.shape[1:])
    schedule = min_lr * (max_lr / min_lr) ** (np.arange(steps) / (steps - 1))
    batches = _endless_batches(x, y, batch_size, np.random.default_rng(seed))
    saved = _Snapshot(model)
    losses, smoothed = [], []
    average = 0.0
    try:
        for step, learning_rate in enumerate(schedule):
            model.optimizer.learning_rate = float(learning_rate)
            try:
                loss = model.train_on_batch(*next(batches), return_dict=True)["loss"]
            except FloatingPointError:  # diverged: the loss is no longer finite
                break
            average = smoothing * average + (1 - smoothing) * loss
            losses.append(loss)
            smoothed.append(average / (1 - smoothing ** (step + 1)))
            if not np.isfinite(smoothed[-1]) or smoothed[-1] > 4 * min(smoothed):
                break
    finally:
        saved.restore()
    if not losses:
        raise FloatingPointError(f"The loss was not finite at the first step (learning rate "
                                 f"{min_lr:g}): lower min_lr, or check the data.")
    learning_rates = schedule[:len(losses)]
    smoothed = np.array(smoothed)
    return LRRangeTestResult(learning_rates, np.array(losses), smoothed,
                             suggest_range(learning_rates, smoothed))


def suggest_range(learning_rates, smoothed_losses):
    """``(low, high)`` from a range test's curve, by the rule in the module docstring."""
    learning_rates = np.asarray(learning_rates, dtype=float)
    smoothed_losses = np.asarray(smoothed_losses, dtype=float)
    finite = np.isfinite(smoothed_losses)
    high = learning_rates[np.argmin(np.where(finite, smoothed_losses, np.inf))] / 10
    start = max(1, min(10, len(smoothed_losses) // 10))  # skip the average's start-up
    if np.count_nonzero(finite[start:]) >= 2:
        curve = np.where(finite, smoothed_losses, np.inf)
        slopes = np.full(len(curve), np.inf)
        index = np.flatnonzero(finite[start:]) + start
        slopes[index] = np.gradient(smoothed_losses[index], np.log(learning_rates[index]))
        fall = curve[start] - curve[index].min()
        fallen = (np.arange(len(curve)) >= start) & (learning_rates < high) \
            & (curve < curve[start] - fall / 10) & (slopes < 0)
        if fallen.any():
            steepest = int(np.argmin(np.where(fallen, slopes, np.inf)))
            return float(learning_rates[steepest]), float(high)
    return float(high / 10), float(high)


def _endless_batches(x, y, batch_size, rng):
    """(x, y) mini-batches for as long as asked: one permutation of the rows per pass."""
    while True:
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            rows = order[start:start + batch_size]
            yield x[rows], y[rows]


class _Snapshot:
    """Everything training changes on a model, copied so that it can be put back."""

    def __init__(self, model):
        self.model, optimizer = model, model.optimizer
        self.weights = model.get_weights()
        self.learning_rate, self.iterations = optimizer.learning_rate, optimizer.iterations
        self.state = {key: {name: value if name == "param" else np.copy(value)
                            for name, value in state.items()}
                      for key, state in optimizer.state.items()}
        generators = [model.rng] + [getattr(layer, "rng", None) for layer in model.layers]
        self.generators = [(generator, generator.bit_generator.state)
                           for generator in generators if generator is not None]
        self.running_means = getattr(model, "_running_means", None)
        self.stop_training = model.stop_training

    def restore(self):
        model, optimizer = self.model, self.model.optimizer
        model.set_weights(self.weights)
        optimizer.learning_rate, optimizer.iterations = self.learning_rate, self.iterations
        optimizer.state = self.state
        for generator, state in self.generators:
            generator.bit_generator.state = state
        model._running_means, model.stop_training = self.running_means, self.stop_training
