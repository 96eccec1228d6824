"""Layers that wrap other layers: Bidirectional and TimeDistributed, as in Keras.

A wrapper's ``params`` and ``grads`` are its inner layers' own arrays under prefixed
keys, so the optimizer steps the inner weights in place, and ``get_weights`` lists
them in Keras' order.  A wrapper saves its inner layers through ``nn.registry``: its
config holds their ``{'class_name', 'config'}``.
"""
import numpy as np

from .. import registry
from .layer import Layer
from .recurrent import Recurrent, keras_name

MERGE_MODES = ("concat", "sum", "ave", "mul")


class Wrapper(Layer):
    """Base class: inner layers built with the wrapper's generator and dtype, their
    weights exposed as the wrapper's, their random generator following the wrapper's."""

    def __init__(self, **kwargs):
        self.inner = {}  # prefix -> inner layer, set by the subclass before building
        super().__init__(**keras_name(self, kwargs))

    def _build_inner(self, input_shape):
        for prefix, layer in self.inner.items():
            if not layer.built:
                layer.build(input_shape, rng=self.rng, dtype=self.dtype)
            shared = [(layer.params, self.params), (layer.grads, self.grads),
                      (layer.state, self.state)]
            if hasattr(layer, "regularizers"):  # weight penalties (nn.regularizers)
                shared.append((layer.regularizers, self.regularizers))
            for source, target in shared:
                target.update({prefix + key: value for key, value in source.items()})
        self._built_rngs = (self.rng, {prefix: layer.rng for prefix, layer in self.inner.items()})

    @property
    def uses_randomness(self):
        return any(layer.uses_randomness for layer in self.inner.values())

    @property
    def rng(self):
        return self.__dict__.get("_rng")

    @rng.setter
    def rng(self, generator):
        # fit(seed=...) swaps a random layer's generator for its own and back afterwards:
        # the inner layers follow, and get their own generators back with the wrapper's.
        self.__dict__["_rng"] = generator
        built_rng, inner_rngs = self.__dict__.get("_built_rngs", (None, {}))
        for prefix, layer in self.__dict__.get("inner", {}).items():
            if prefix in inner_rngs:
                layer.rng = inner_rngs[prefix] if generator is built_rng else generator

    def _sync(self):
        for layer in self.inner.values():
            layer.needs_input_grad = self.needs_input_grad


class Bidirectional(Wrapper):
    """Runs a recurrent layer over the sequence forwards and a copy of it backwards, and
    merges the two outputs.

    ::

        forward:  y_f = forward_layer(x)        reads x_1 .. x_T
                  y_b = backward_layer(x)       reads x_T .. x_1 (go_backwards); with
                                                return_sequences its outputs are flipped
                                                back, so y_b[:, t] has read x_t .. x_T
                  y = [y_f, y_b] ('concat', the default; last axis 2 units), y_f + y_b
                  ('sum'), (y_f + y_b) / 2 ('ave') or y_f * y_b ('mul')
        backward: split g by the merge (mul: g y_b and g y_f), each layer's backward,
                  dx = dx_f + dx_b

    As in Keras, both layers are new layers made from ``layer``'s config (named
    ``forward_<name>`` and ``backward_<name>``), or ``backward_layer`` when given; their
    weights are listed forward layer first ('forward/kernel', ...).  ``merge_mode=None``
    (two outputs) is not available in a Sequential model.
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        if not isinstance(layer, Recurrent):
            raise TypeError("Bidirectional wraps a recurrent layer (SimpleRNN, LSTM, GRU). "
                            f"Received: layer={layer!r}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"merge_mode must be one of {', '.join(map(repr, MERGE_MODES))}"
                             + (" (None, two separate outputs, cannot feed the next layer of a "
                                "Sequential model)" if merge_mode is None else "")
                             + f". Received: merge_mode={merge_mode!r}")
        if "input_shape" not in kwargs and layer.input_shape is not None:
            kwargs["input_shape"] = layer.input_shape
        super().__init__(**kwargs)
        self.merge_mode = merge_mode
        self.forward_layer = _copy(layer, "forward_" + _removeprefix(layer.name, "forward_"))
        if backward_layer is None:
            backward_layer = _copy(layer, "backward_" + _removeprefix(layer.name, "backward_"),
                                   go_backwards=not layer.go_backwards)
        elif not isinstance(backward_layer, Recurrent):
            raise TypeError("backward_layer must be a recurrent layer. "
                            f"Received: backward_layer={backward_layer!r}")
        if backward_layer.go_backwards == self.forward_layer.go_backwards:
            raise ValueError("The forward and backward layers must read in opposite directions. "
                             f"Received: go_backwards={backward_layer.go_backwards} for both.")
        if backward_layer.return_sequences != self.forward_layer.return_sequences:
            raise ValueError("The forward and backward layers must agree on return_sequences. "
                             f"Received: {self.forward_layer.return_sequences} and "
                             f"{backward_layer.return_sequences}.")
        self.backward_layer = backward_layer
        self.return_sequences = layer.return_sequences
        self.inner = {"forward/": self.forward_layer, "backward/": self.backward_layer}
        self.outputs = None  # (y_f, y_b) of the last forward: the 'mul' merge's backward

    def build(self, input_shape, rng=None, dtype=None):
        super().build(input_shape, rng, dtype)
        self._build_inner(tuple(input_shape))

    def forward(self, x, training=False):
        self.ensure_built(x)
        forward_output = self.forward_layer.forward(x, training)
        backward_output = self.backward_layer.forward(x, training)
        if self.return_sequences:
            backward_output = backward_output[:, ::-1]
        self.outputs = (forward_output, backward_output)
        if self.merge_mode == "concat":
            return np.concatenate(self.outputs, axis=-1)
        if self.merge_mode == "mul":
            return forward_output * backward_output
        merged = forward_output + backward_output
        return merged / 2 if self.merge_mode == "ave" else merged

    def backward(self, grad_output):
        self._sync()
        forward_output, backward_output = self.outputs
        if self.merge_mode == "concat":
            units = forward_output.shape[-1]
            grad_forward, grad_backward = grad_output[..., :units], grad_output[..., units:]
        elif self.merge_mode == "mul":
            grad_forward = grad_output * backward_output
            grad_backward = grad_output * forward_output
        elif self.merge_mode == "ave":
            grad_forward = grad_backward = grad_output / 2
        else:  # sum
            grad_forward = grad_backward = grad_output
        if self.return_sequences:
            grad_backward = grad_backward[:, ::-1]
        grad_input = self.forward_layer.backward(grad_forward)
        grad_from_backward = self.backward_layer.backward(grad_backward)
        return None if grad_input is None else grad_input + grad_from_backward

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        if self.merge_mode == "concat":
            shape = shape[:-1] + (shape[-1] + self.backward_layer.compute_output_shape(
                input_shape)[-1],)
        return shape

    def get_config(self):
        return {**super().get_config(), "layer": registry.serialize(self.forward_layer),
                "merge_mode": self.merge_mode,
                "backward_layer": registry.serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = registry.deserialize(config["layer"], "layer")
        if config.get("backward_layer") is not None:
            config["backward_layer"] = registry.deserialize(config["backward_layer"], "layer")
        return cls(**config)


class TimeDistributed(Wrapper):
    """Applies one layer to every time step: the same weights for each x[:, t].

    ::

        forward:  y[:, t] = layer(x[:, t])      x: (n, T, ...)   y: (n, T, ...)
                  computed as one call on the (n T, ...) reshaped batch
        backward: the layer's backward on the (n T, ...) reshaped gradient: its weight
                  gradients add up over all n T rows, i.e. over the steps

    The inner layer's weights keep their keys ('kernel', 'bias').  A ``Dense`` with a
    softmax inside makes the model's cross-entropy fuse with it, as a last ``Dense``
    does (the loss then sees (n, T, classes) logits).
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise TypeError(f"TimeDistributed wraps an nn layer. Received: layer={layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self.inner = {"": layer}

    def build(self, input_shape, rng=None, dtype=None):
        if len(input_shape) < 2:
            raise ValueError(f"TimeDistributed layer '{self.name}' expects inputs of shape "
                             "(batch, time, ...) with at least one axis after time; received "
                             f"samples of shape {tuple(input_shape)}.")
        super().build(input_shape, rng, dtype)
        self._build_inner(tuple(input_shape[1:]))

    @property
    def output_activation(self):
        return self.layer.output_activation

    def forward(self, x, training=False):
        return self._per_step(self.layer.forward, x, training)

    def backward(self, grad_output):
        self._sync()
        return self._per_step_grad(self.layer.backward, grad_output)

    def forward_logits(self, x, training=False):
        return self._per_step(self.layer.forward_logits, x, training)

    def backward_logits(self, grad_output):
        self._sync()
        return self._per_step_grad(self.layer.backward_logits, grad_output)

    def _per_step(self, method, x, training):
        self.ensure_built(x)
        batch, steps = x.shape[:2]
        output = method(x.reshape((batch * steps,) + x.shape[2:]), training=training)
        return output.reshape((batch, steps) + output.shape[1:])

    def _per_step_grad(self, method, grad_output):
        batch, steps = grad_output.shape[:2]
        grad = method(grad_output.reshape((batch * steps,) + grad_output.shape[2:]))
        return None if grad is None else grad.reshape((batch, steps) + grad.shape[1:])

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(self.layer.compute_output_shape(input_shape[1:]))

    def get_config(self):
        return {**super().get_config(), "layer": registry.serialize(self.layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = registry.deserialize(config["layer"], "layer")
        return cls(**config)


def _copy(layer, name, **changes):
    """A new, unbuilt layer from ``layer``'s config, renamed, with ``changes`` applied."""
    spec = registry.serialize(layer)
    spec["config"].update(name=name, **changes)
    spec["config"].pop("input_shape", None)
    return registry.deserialize(spec, "layer")


def _removeprefix(text, prefix):
    return text[len(prefix):] if text.startswith(prefix) else text
