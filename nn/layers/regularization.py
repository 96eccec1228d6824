"""Layers that act only while training, to regularize: Dropout.

At inference they pass their input through unchanged.
"""
from .layer import Layer


class Dropout(Layer):
    """Inverted dropout: while training, zero each input with probability ``rate``.

    ::

        forward (training):  y = x * m / (1 - rate),   m_i ~ Bernoulli(1 - rate)
        forward (inference): y = x      (the 1 / (1 - rate) scaling already kept the mean)
        backward:            dx = g * m / (1 - rate)
    """

    uses_randomness = True

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout expects 0 <= rate < 1. Received: rate={rate}")
        self.rate = float(rate)
        self.scaled_mask = None  # m / (1 - rate) of the last training batch, for backward

    def forward(self, x, training=False):
        self.ensure_built(x)
        if not training or self.rate == 0:
            self.scaled_mask = None
            return x
        keep = self.rng.random(x.shape, dtype=self.dtype) >= self.rate
        self.scaled_mask = keep.astype(self.dtype) / self.dtype.type(1 - self.rate)
        return x * self.scaled_mask

    def backward(self, grad_output):
        if self.scaled_mask is None:
            return grad_output
        return grad_output * self.scaled_mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}
