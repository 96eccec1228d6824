"""Data augmentation layers, active only while training: RandomTranslation.

At inference they pass their input through unchanged.  They draw their random numbers
from ``self.rng`` (the layer's ``seed``, else the model's generator), as Dropout does.
"""
import math

import numpy as np

from .layer import Layer


def _check_factor(name, factor):
    """``(lower, upper)`` from a factor in [0, 1) (meaning +-factor) or a pair in (-1, 1)."""
    pair = isinstance(factor, (tuple, list))
    values = list(factor) if pair else [factor]
    valid = len(values) == 2 if pair else True
    for value in values:
        valid = valid and isinstance(value, (int, float, np.integer, np.floating)) \
            and not isinstance(value, bool) and math.isfinite(value) \
            and (-1 < value < 1 if pair else 0 <= value < 1)
    if not valid:
        raise ValueError(f"RandomTranslation expects {name} as a fraction in [0, 1), or a "
                         f"(lower, upper) pair of fractions in (-1, 1). Received: "
                         f"{name}={factor!r}")
    return tuple(sorted(float(value) for value in values)) if pair else (-float(factor),
                                                                          float(factor))


def shift_matrices(shifts, size, interpolation, fill_mode, dtype):
    """The per-sample (size, size) matrices M with ``out = M @ x`` for a shift along one axis.

    shifts: (n,) shifts in pixels (positive: towards higher indices), so out[r] samples x
    at r - shift: with 'bilinear' from the pixels r - floor(shift) and r - floor(shift) - 1,
    weighted 1 - frac and frac; with 'nearest' from r - round(shift).  A source outside
    [0, size) is mapped back by ``fill_mode`` ('reflect', 'wrap', 'nearest'), or dropped
    ('constant': the row of M then sums to less than 1, and the fill makes up the rest).
    """
    n = len(shifts)
    matrices = np.zeros((n, size, size), dtype)
    rows = np.arange(size)
    if interpolation == "nearest":
        taps = [(np.round(shifts), np.ones(n))]
    else:
        whole = np.floor(shifts)
        taps = [(whole, 1 - (shifts - whole)), (whole + 1, shifts - whole)]
    samples = np.arange(n)[:, None]
    for shift, weight in taps:
        source = rows[None, :] - shift[:, None].astype(np.int64)  # (n, size)
        if fill_mode == "constant":
            inside = (source >= 0) & (source < size)
            weights = np.where(inside, weight[:, None], 0.0)
            source = np.clip(source, 0, size - 1)
        else:
            weights = np.broadcast_to(weight[:, None], source.shape)
            if fill_mode == "nearest":
                source = np.clip(source, 0, size - 1)
            elif fill_mode == "wrap":
                source = source % size
            else:  # reflect: (d c b a | a b c d | d c b a), period 2 size
                source = source % (2 * size)
                source = np.where(source >= size, 2 * size - 1 - source, source)
        matrices[samples, rows[None, :], source] += weights
    return matrices


class RandomTranslation(Layer):
    """Shifts each image by a random fraction of its height and width, while training.

    ::

        x: (n, h, w), (n, h, w, channels) or, with data_format='channels_first',
           (n, channels, h, w);   y: the same shape
        forward (training):  per sample, dy = u h and dx = v w pixels with u uniform in
                             height_factor's range and v in width_factor's, and
                             y[i, r, c] = x[i, r - dy, c - dx]   (positive: down, right)
                             as y_i = A_i x_i B_i^T (+ fill), A_i: (h, h), B_i: (w, w)
        forward (inference): y = x
        backward:            dx_i = A_i^T g_i B_i   (the translation is linear in x; for
                             whole-pixel shifts and 'constant' fill, the inverse shift of g)

    A factor f in [0, 1) means the range [-f, f]; a pair (lower, upper) that range.
    Fractional shifts are interpolated ('bilinear', Keras' default) or rounded to whole
    pixels ('nearest').  Pixels shifted in from outside the image follow ``fill_mode``:
    'reflect' (Keras' default: d c b a | a b c d), 'wrap', 'nearest' (the edge pixel
    repeated) or 'constant' (``fill_value``, default 0).  Arguments and defaults as
    Keras' ``RandomTranslation``, except that factors must lie strictly inside (-1, 1).
    """

    uses_randomness = True
    FILL_MODES = ("reflect", "wrap", "constant", "nearest")
    INTERPOLATIONS = ("nearest", "bilinear")

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _check_factor("height_factor", height_factor)
        self.width_range = _check_factor("width_factor", width_factor)
        for name, value, allowed in (("fill_mode", fill_mode, self.FILL_MODES),
                                     ("interpolation", interpolation, self.INTERPOLATIONS),
                                     ("data_format", data_format or "channels_last",
                                      ("channels_last", "channels_first"))):
            if value not in allowed:
                raise ValueError(f"RandomTranslation expects {name} to be one of "
                                 f"{', '.join(map(repr, allowed))}. Received: {name}={value!r}")
        if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float, np.number)):
            raise TypeError(f"RandomTranslation expects a number as fill_value. "
                            f"Received: fill_value={fill_value!r}")
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = float(fill_value)
        self.data_format = data_format or "channels_last"
        self.row_matrices = self.column_matrices = None  # A_i and B_i of the last batch

    def build(self, input_shape, rng=None, dtype=None):
        ranks = (3,) if self.data_format == "channels_first" else (2, 3)
        if len(input_shape) not in ranks:
            expected = ("(batch, channels, height, width)" if ranks == (3,) else
                        "(batch, height, width) or (batch, height, width, channels)")
            raise ValueError(f"RandomTranslation '{self.name}' expects images of shape "
                             f"{expected}; received samples of shape {tuple(input_shape)}.")
        super().build(input_shape, rng, dtype)

    def forward(self, x, training=False):
        self.ensure_built(x)
        self.row_matrices = self.column_matrices = None
        if not training or self.height_range == self.width_range == (0.0, 0.0):
            return x
        images = self._channels_first(x)  # (n, c, h, w), a view
        n, _, height, width = images.shape
        row_shifts = self.rng.uniform(*self.height_range, size=n) * height
        column_shifts = self.rng.uniform(*self.width_range, size=n) * width
        self.row_matrices = shift_matrices(row_shifts, height, self.interpolation,
                                           self.fill_mode, self.dtype)
        self.column_matrices = shift_matrices(column_shifts, width, self.interpolation,
                                              self.fill_mode, self.dtype)
        rows, columns = self.row_matrices[:, None], self.column_matrices[:, None]  # per channel
        shifted = rows @ images @ columns.swapaxes(2, 3)  # A_i x_i B_i^T
        if self.fill_mode == "constant" and self.fill_value:
            inside = (self.row_matrices.sum(axis=2)[:, :, None]  # the part of each output
                      * self.column_matrices.sum(axis=2)[:, None, :])  # pixel from inside
            shifted += (self.fill_value * (1 - inside))[:, None].astype(self.dtype)
        return self._restore(shifted, x.shape)

    def backward(self, grad_output):
        if self.row_matrices is None:
            return grad_output
        grads = self._channels_first(grad_output)
        rows, columns = self.row_matrices[:, None], self.column_matrices[:, None]
        grad_input = rows.swapaxes(2, 3) @ grads @ columns  # A_i^T g_i B_i
        return self._restore(grad_input, grad_output.shape)

    def _channels_first(self, x):
        """x as (n, channels, h, w), a view."""
        if x.ndim == 3:
            return x[:, None]
        return x if self.data_format == "channels_first" else x.transpose(0, 3, 1, 2)

    def _restore(self, images, shape):
        """(n, channels, h, w) back to the layout of the input, of shape ``shape``."""
        if len(shape) == 4 and self.data_format == "channels_last":
            images = images.transpose(0, 2, 3, 1)
        return np.ascontiguousarray(images.reshape(shape))

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor, "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "seed": self.seed,
                "fill_value": self.fill_value, "data_format": self.data_format}
