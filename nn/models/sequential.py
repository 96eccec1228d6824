"""``Sequential``: a linear stack of layers, each feeding the next.

It owns the stack — adding layers, building them, running them forward and
backward — and inherits compile, fit, evaluate and predict from ``Model``.
"""
from .. import config, layers as layers_module
from ..layers.core import InputLayer
from ..layers.layer import Layer
from .model import Model


class Sequential(Model):
    """A linear stack of layers: ``Sequential([nn.Input((4,)), Dense(8), Dense(3)])``.

    The first element may be ``nn.Input(shape)``, which declares the input shape and,
    as in Keras, is not listed in ``model.layers``.
    """

    def __init__(self, layers=None, name="sequential", seed=None, dtype=None):
        super().__init__(name=name, seed=seed, dtype=dtype)
        self.layers = []
        self.input_layer = None
        self.built = False
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        """Append a layer to the stack (an ``nn.Input`` only as the first)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects an nn layer. Received: {layer!r}")
        if isinstance(layer, InputLayer):
            if self.layers or self.input_layer is not None:
                raise ValueError("nn.Input can only be the first element of a Sequential model.")
            self.input_layer = layer
        else:
            self.layers.append(layer)
        self.built = False

    @property
    def input_shape(self):
        """One sample's shape, if declared (by nn.Input or the first layer) or built."""
        if self.input_layer is not None:
            return self.input_layer.input_shape
        return self.layers[0].input_shape if self.layers else None

    @property
    def input_dtype(self):
        """The dtype inputs are given to the first layer in.

        That is nn.Input's, else the one the first layer declares (an Embedding takes
        integer ids), else the model's."""
        input_dtype = getattr(self.input_layer, "input_dtype", None)
        if input_dtype is None and self.layers:
            input_dtype = getattr(self.layers[0], "input_dtype", None)
        return self.dtype if input_dtype is None else input_dtype

    @property
    def output_shape(self):
        """One output sample's shape (the model must be built)."""
        if not self.built:
            raise ValueError(f"Model '{self.name}' is not built yet: call build() or fit().")
        return self.layers[-1].output_shape

    def build(self, input_shape=None):
        """Create every layer's weights for samples of ``input_shape`` (no batch axis)."""
        if not self.layers:
            raise ValueError("The model has no layers: add some before building or training it.")
        shape = tuple(input_shape or self.input_shape or ())
        if not shape:
            raise ValueError("The model does not know its input shape: start it with "
                             "nn.Input(shape=...), give the first layer input_shape=... or "
                             "input_dim=..., or call fit/predict, which build from the data.")
        for layer in self.layers:
            if not layer.built:
                layer.build(shape, rng=self.rng, dtype=self.dtype)
            elif layer.input_shape != shape:
                raise ValueError(f"Layer '{layer.name}' was built for inputs {layer.input_shape} "
                                 f"but receives {shape}.")
            shape = layer.output_shape
        trainable = [layer for layer in self.layers if layer.params]
        first_trainable = self.layers.index(trainable[0]) if trainable else -1
        for position, layer in enumerate(self.layers):
            layer.needs_input_grad = position > first_trainable
        #: Every (parameter, gradient) pair, in layer order: what the optimizer steps on.
        self.params_and_grads = [(layer.params[key], layer.grads[key]) for layer in trainable
                                 for key in layer.params]
        self.built = True

    # ------------------------------------------------------- forward / backward
    def forward(self, x, training=False):
        """Run ``x`` through every layer."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_output, layers=None):
        """Backpropagate dL/d(output) through ``layers`` (default: all) in reverse,
        filling their ``grads``. Returns dL/dx, or None below the first trainable layer."""
        for layer in reversed(self.layers if layers is None else layers):
            if grad_output is None:  # below the first trainable layer nothing needs gradients
                break
            grad_output = layer.backward(grad_output)
        return grad_output

    def forward_to_loss(self, x, training=False):
        """Forward up to what the training loss takes: the logits when the loss is fused."""
        if not self.loss_is_fused:
            return self.forward(x, training)
        for layer in self.layers[:-1]:
            x = layer.forward(x, training=training)
        return self.layers[-1].forward_logits(x, training=training)

    def backward_from_loss(self, grad):
        """Backward from the training loss's gradient (the inverse of ``forward_to_loss``)."""
        if not self.loss_is_fused:
            return self.backward(grad)
        *below, last = self.layers
        return self.backward(last.backward_logits(grad), below)

    # ------------------------------------------------------------- configs
    def get_config(self):
        """The architecture: name, dtype, input (if declared with nn.Input) and layers."""
        config_ = {"name": self.name, "dtype": self.dtype.name,
                   "layers": [layers_module.serialize(layer) for layer in self.layers]}
        if self.input_layer is not None:
            config_["input"] = layers_module.serialize(self.input_layer)
        return config_

    @classmethod
    def from_config(cls, config_):
        stack = [layers_module.deserialize(spec) for spec in config_["layers"]]
        if "input" in config_:
            stack.insert(0, layers_module.deserialize(config_["input"]))
        return cls(stack, name=config_["name"], dtype=config.as_float_dtype(config_["dtype"]))
