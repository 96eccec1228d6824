"""Embedding: integer ids (words, characters) to trained dense vectors, as in Keras."""
import numpy as np

from .. import initializers, registry, regularizers
from ..checks import check_positive_int
from .layer import Layer


def scatter_add_rows(out, ids, rows):
    """out[k] = the sum of the rows r of ``rows`` with ids[r] == k (0 for ids absent).

    ids: (m,) ints in [0, len(out))   rows: (m, d)   out: (v, d), overwritten.  The rows
    are sorted by id and each run of equal ids summed with one ``np.add.reduceat``: on
    this book's machine two to four times as fast as ``np.add.at(out, ids, rows)``, and
    deterministic.
    """
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    out[...] = 0  # zeroed, then each used row written once
    if len(ids):
        out[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


class Embedding(Layer):
    """A lookup table: id k becomes row k of a trained matrix E.

    ::

        forward:  y[..., :] = E[x[...], :]        x: (n, ...) integer ids in [0, input_dim)
                  E ('embeddings'): (input_dim, output_dim)    y: (n, ..., output_dim)
        backward: dE[k] = sum of g[...] over the positions where x == k   (a scatter-add)
                  no gradient for x: ids are not differentiable

    The same as one_hot(x) @ E, without building the one-hot matrix.  The model gives
    an Embedding that comes first its input as integers (``input_dtype``), not in its
    float dtype; whole-valued floats are accepted too, anything else is refused.
    ``embeddings_initializer`` defaults to Keras' 'uniform', U(-0.05, 0.05);
    ``embeddings_regularizer`` (``nn.regularizers``) puts a penalty on E.
    ``input_length`` (deprecated in Keras 3) sets the input shape (input_length,).
    ``mask_zero=True`` (masking padded steps) is not implemented.
    """

    #: The dtype a model converts its inputs to when this layer comes first.
    input_dtype = np.dtype(np.int64)

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, mask_zero=False, input_length=None, **kwargs):
        if input_length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (check_positive_int("input_length", input_length),)
        super().__init__(**kwargs)
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.output_dim = check_positive_int("output_dim", output_dim)
        if mask_zero:
            raise ValueError("Embedding(mask_zero=True) is not implemented in nn: no layer "
                             f"takes a mask. Received: mask_zero={mask_zero!r}")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.ids = None  # forward's ids, flattened: where backward scatters the gradient

    def build(self, input_shape, rng=None, dtype=None):
        super().build(input_shape, rng, dtype)
        self.add_param("embeddings", self.embeddings_initializer(
            (self.input_dim, self.output_dim), self.rng, self.dtype),
            regularizer=self.embeddings_regularizer)

    def __call__(self, x, training=False):
        """Build if needed and run ``forward`` on the ids as given (no cast to float)."""
        x = np.asarray(x)
        self.ensure_built(x)
        return self.forward(x, training=training)

    def forward(self, x, training=False):
        self.ensure_built(x)
        self.ids = self._check_ids(x).reshape(-1)
        return np.take(self.params["embeddings"], self.ids, axis=0).reshape(
            x.shape + (self.output_dim,))

    def backward(self, grad_output):
        scatter_add_rows(self.grads["embeddings"], self.ids,
                         grad_output.reshape(-1, self.output_dim))
        return None

    def _check_ids(self, x):
        """``x`` as an array of intp ids, or a clear error for non-integer or out-of-range ones."""
        if x.dtype.kind == "f":
            fractional = np.flatnonzero(np.mod(x, 1) != 0)  # NaN and inf count as fractional
            if fractional.size:
                raise TypeError(f"Embedding '{self.name}' expects integer ids. Received dtype "
                                f"{x.dtype} with the value {x.reshape(-1)[fractional[0]]}.")
        elif x.dtype.kind not in "iub":
            raise TypeError(f"Embedding '{self.name}' expects integer ids. "
                            f"Received dtype {x.dtype}.")
        if x.size and (x.min() < 0 or x.max() >= self.input_dim):
            bad = x.min() if x.min() < 0 else x.max()
            raise ValueError(f"Embedding '{self.name}' expects ids in [0, {self.input_dim}) "
                             f"(input_dim={self.input_dim}). Received id {bad}.")
        return x.astype(np.intp, copy=False)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": registry.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer)}
