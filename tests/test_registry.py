"""One registry: every family registers its classes where they are defined, and a model
file can name any of them, a reader's own included."""
import numpy as np
import pytest

import nn
from nn import registry
from nn.layers import Dense, Layer


@pytest.mark.parametrize("obj, family", [
    (Dense(3, activation="relu", kernel_initializer="he_normal"), "layer"),
    (nn.layers.Dropout(0.25), "layer"),
    (nn.activations.LeakyReLU(alpha=0.1), "layer"),
    (nn.losses.BinaryCrossentropy(from_logits=True, reduction="sum"), "loss"),
    (nn.losses.MeanSquaredError(), "loss"),
    (nn.optimizers.Adam(learning_rate=nn.optimizers.CosineDecay(0.01, 100)), "optimizer"),
    (nn.optimizers.StepDecay(0.1, 10, gamma=0.5), "learning_rate_schedule"),
    (nn.initializers.RandomNormal(mean=0.5, stddev=0.2), "initializer"),
    (nn.initializers.Constant(3.0), "initializer"),
])
def test_serialize_then_deserialize_gives_the_same_config(obj, family):
    spec = registry.serialize(obj)
    assert spec["class_name"] == type(obj).__name__ and isinstance(spec["config"], dict)
    again = registry.deserialize(spec, family)
    assert type(again) is type(obj) and again.get_config() == obj.get_config()


def test_every_get_config_is_a_dict():
    for family in ("layer", "loss", "optimizer", "initializer", "learning_rate_schedule"):
        for name, cls in registry.registered(family).items():
            if family == "initializer" and name != "Initializer":
                assert isinstance(cls().get_config(), dict), name


def test_a_class_of_your_own_registers_where_it_is_defined():
    class Doubling(Layer):
        def forward(self, x, training=False):
            return 2 * x

        def backward(self, grad_output):
            return 2 * grad_output

    assert registry.registered("layer")["Doubling"] is Doubling
    clone = nn.layers.deserialize(registry.serialize(Doubling(name="twice")))
    assert type(clone) is Doubling and clone.name == "twice"


def test_an_activation_of_your_own_resolves_by_its_alias():
    class Square(Layer):
        alias = "square_test"

        def forward(self, x, training=False, out=None):
            self.inputs = x
            return np.multiply(x, x, out=out)

        def backward(self, grad_output):
            return 2 * self.inputs * grad_output

    layer = Dense(2, activation="square_test")
    assert type(layer.activation) is Square
    assert nn.activations.serialize(layer.activation) == "square_test"


def test_an_unknown_class_names_itself_and_the_registered_ones():
    with pytest.raises(ValueError, match=r"Unknown layer class 'Conv9D'.*Dense.*define or import"):
        nn.layers.deserialize({"class_name": "Conv9D", "config": {}})
    with pytest.raises(ValueError, match="class_name"):
        registry.deserialize({"config": {}}, "loss")
    with pytest.raises(ValueError, match="Unknown family 'metric'"):
        registry.registered("metric")


def test_a_parameterized_initializer_saves_and_loads_with_the_model(tmp_path):
    model = nn.Sequential([Dense(4, input_dim=3, kernel_initializer=nn.initializers.RandomNormal(
        stddev=0.3), bias_initializer=nn.initializers.Constant(0.1))], seed=0)
    model.save(tmp_path / "m.npz")
    loaded = nn.load_model(tmp_path / "m.npz")
    initializer = loaded.layers[0].kernel_initializer
    assert type(initializer) is nn.initializers.RandomNormal and initializer.stddev == 0.3
    assert loaded.layers[0].bias_initializer.value == 0.1


def test_names_resolve_case_insensitively_and_by_class_name():
    assert type(nn.losses.get("MSE")) is nn.losses.MeanSquaredError
    assert type(nn.losses.get("MeanSquaredError")) is nn.losses.MeanSquaredError
    assert type(nn.optimizers.get("Adam")) is nn.optimizers.Adam
    assert type(nn.initializers.get("uniform")) is nn.initializers.RandomUniform
