"""The contract every layer follows.

A layer turns a batch ``x`` into a batch ``y`` in ``forward`` and, given the
gradient of the loss with respect to ``y``, returns the gradient with respect to
``x`` in ``backward``, storing the gradients of its own parameters on the way::

    y = layer.forward(x, training=True)        # caches what backward needs
    grad_x = layer.backward(grad_y)            # fills layer.grads

``params`` and ``grads`` are dicts with the same keys.  Optimizers update
``params[k]`` in place, so the arrays are created once in ``build`` and never
rebound.  ``backward`` never modifies the gradient it receives, and *writes*
each ``grads[k]`` once per call: a gradient from an earlier batch never leaks
into this one.  (Within one call a layer may accumulate, as a scatter-add over
the rows an embedding used does, after zeroing the array first.)

``state`` holds arrays that are saved and restored with the weights but never
stepped by an optimizer, such as a batch normalization's moving statistics.
``get_weights()`` returns ``params`` then ``state``, as Keras orders trainable
weights before non-trainable ones.

Every subclass registers itself by class name (``nn.registry``), so a model
that uses it can be saved and loaded.
"""
# end of the contract (chapter 2 shows the docstring above)
import collections

import numpy as np

from .. import config
from ..registry import Serializable

# per class, for Keras-style default names: dense, dense_1, ...
_names_used = collections.Counter()


class Layer(Serializable, family="layer"):
    """Base class: name, parameters, state, lazy building and (de)serialisation."""

    #: Name of the nonlinearity this layer ends in ('softmax', 'sigmoid', ...), if any.
    #: A model compiled with the matching cross-entropy fuses the two (see nn.losses).
    output_activation = None
    #: Whether ``forward(training=True)`` draws random numbers (from ``self.rng``).
    uses_randomness = False

    def __init__(self, name=None, input_shape=None, input_dim=None, dtype=None, seed=None):
        if input_dim is not None:
            input_shape = (input_dim,)
        if input_shape is not None:
            input_shape = tuple(int(size) for size in np.atleast_1d(input_shape))
        self.name = name or _default_name(type(self).__name__.lower())
        self.input_shape = input_shape  # one sample's shape, without the batch axis
        self.dtype = None if dtype is None else config.as_float_dtype(dtype)
        self.seed = seed
        self.rng = None
        self.params = {}  # trained: the optimizer steps these
        self.grads = {}  # dL/dparams[k], written by backward
        self.state = {}  # saved with the weights, never trained
        self.regularizers = {}  # params[k]'s penalty (nn.regularizers), given to add_param
        self.built = False
        #: Whether ``backward`` computes the gradient with respect to the input.  A model
        #: turns it off for its first trainable layer: nobody needs the gradient with
        #: respect to the data, and skipping it saves a large matrix product.
        self.needs_input_grad = True

    def build(self, input_shape, rng=None, dtype=None):
        """Create the parameters for samples of shape ``input_shape`` (no batch axis).

        ``rng`` is the generator the weights are drawn from when the layer was
        given no seed of its own; ``dtype`` the dtype when it was given none.
        """
        self.input_shape = tuple(input_shape)
        if self.dtype is None:  # the layer's own dtype wins, then the model's, then the default
            self.dtype = config.floatx() if dtype is None else config.as_float_dtype(dtype)
        use_own_seed = self.seed is not None or rng is None
        self.rng = np.random.default_rng(self.seed) if use_own_seed else rng
        self.built = True

    def add_param(self, key, value, regularizer=None):
        """Register a trained parameter and its gradient array (call from ``build``).

        ``regularizer`` (an ``nn.regularizers.Regularizer`` or None) puts a penalty on the
        parameter, which ``regularization_penalty`` computes: a layer only declares it here.
        """
        self.params[key] = value
        self.grads[key] = np.zeros_like(value)
        if regularizer is not None:
            self.regularizers[key] = regularizer
        return value

    def regularization_penalty(self, add_gradients=False):
        """The sum of the penalties R(params[k]) of the regularized parameters (0.0 if none).

        With ``add_gradients=True`` each penalty's gradient dR/dparams[k] is also added to
        ``grads[k]``: the model calls it so right after ``backward``, which wrote the data
        loss's gradients.
        """
        penalty = 0.0
        for key, regularizer in self.regularizers.items():
            penalty += regularizer(self.params[key])
            if add_gradients:
                self.grads[key] += regularizer.gradient(self.params[key])
        return penalty

    def ensure_built(self, x):
        """Build from the first batch seen, then check each batch's sample shape."""
        if not self.built:
            self.build(x.shape[1:])
        elif x.shape[1:] != self.input_shape:
            expected = ", ".join(map(str, self.input_shape))
            raise ValueError(f"Layer '{self.name}' expected input of shape (batch, {expected}), "
                             f"received shape {x.shape}.")

    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    def forward_logits(self, x, training=False):
        """The logits: the input of this layer's ``output_activation``, for a fused loss.

        For a layer that *is* its output activation (Softmax, Sigmoid, Activation) the
        logits are its input; Dense overrides this with its affine part.
        """
        return x

    def backward_logits(self, grad_output):
        """The gradient with respect to the input, given dL/d(logits) (see ``forward_logits``)."""
        return grad_output

    def __call__(self, x, training=False):
        """Build if needed, cast ``x`` to the layer's dtype, and run ``forward``."""
        x = np.asarray(x)
        self.ensure_built(x)
        return self.forward(x.astype(self.dtype, copy=False), training=training)

    def compute_output_shape(self, input_shape):
        """Shape of one output sample for one input sample of ``input_shape``."""
        return tuple(input_shape)

    @property
    def output_shape(self):
        """One output sample's shape (the layer must know its input shape)."""
        if self.input_shape is None:
            raise ValueError(f"Layer '{self.name}' has no input shape yet: build it first.")
        return self.compute_output_shape(self.input_shape)

    @property
    def weights(self):
        """The parameters then the state, as ``{key: array}`` (the arrays, not copies)."""
        return {**self.params, **self.state}

    def count_params(self):
        """Number of values in the parameters and the state (Keras counts both)."""
        return sum(value.size for value in self.weights.values())

    def get_weights(self):
        """Copies of the parameters then the state, in the order of ``weights``."""
        return [value.copy() for value in self.weights.values()]

    def set_weights(self, weights):
        """Copy ``weights`` into the parameters and state in place, checking count and shapes
        first."""
        weights = self.check_weights(weights)
        for array, value in zip(self.weights.values(), weights):
            array[...] = value

    def check_weights(self, weights):
        """Raise ValueError unless ``weights`` match ``self.weights`` in count and shapes."""
        weights = [np.asarray(value) for value in weights]
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"Layer '{self.name}' expects {len(own)} weight arrays, "
                             f"received {len(weights)}.")
        for (key, array), value in zip(own.items(), weights):
            if value.shape != array.shape:
                raise ValueError(f"Layer '{self.name}' weight '{key}' has shape {array.shape}, "
                                 f"received shape {value.shape}.")
        return weights

    def get_config(self):
        """The constructor arguments that recreate this layer (JSON-serialisable)."""
        config_ = {"name": self.name}
        if self.input_shape is not None:
            config_["input_shape"] = list(self.input_shape)
        if self.dtype is not None:
            config_["dtype"] = self.dtype.name
        return config_

    def __repr__(self):
        return f"<{type(self).__name__} '{self.name}'>"


def _default_name(base):
    count = _names_used[base]
    _names_used[base] += 1
    return base if count == 0 else f"{base}_{count}"


def reset_names():
    """Start the default layer names afresh (dense, dense_1, ...): see nn.utils.clear_session."""
    _names_used.clear()
