"""Layer.state: arrays saved and restored with the weights, never stepped by an optimizer."""
import numpy as np
import pytest

import nn
from nn.callbacks import EarlyStopping
from nn.layers import Dense, Layer


class RunningMean(Layer):
    """Passes x through; keeps a running mean of its inputs in ``state`` while training.

    ``m <- momentum m + (1 - momentum) mean_batch(x)``, the way a batch normalization
    keeps its moving statistics; plus one trained offset, so it has a parameter too.
    """

    def __init__(self, momentum=0.5, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum

    def build(self, input_shape, rng=None, dtype=None):
        super().build(input_shape, rng, dtype)
        self.add_param("offset", np.zeros(input_shape, self.dtype))
        self.state["moving_mean"] = np.zeros(input_shape, self.dtype)

    def forward(self, x, training=False):
        if training:
            self.state["moving_mean"] *= self.momentum
            self.state["moving_mean"] += (1 - self.momentum) * x.mean(axis=0)
        return x + self.params["offset"]

    def backward(self, grad_output):
        np.sum(grad_output, axis=0, out=self.grads["offset"])
        return grad_output

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum}


def stateful_model(seed=0):
    model = nn.Sequential([nn.Input((3,)), RunningMean(name="running"),
                           Dense(2, activation="softmax", name="out")], seed=seed)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, 3)) + 2).astype(np.float32)
    return x, (x[:, 0] > 2).astype(np.int64)


def test_get_weights_lists_params_then_state_and_counts_both():
    model = stateful_model()
    model.build()
    layer = model.layers[0]
    assert list(layer.weights) == ["offset", "moving_mean"]
    assert [w.shape for w in model.get_weights()] == [(3,), (3,), (3, 2), (2,)]
    assert layer.count_params() == 6 and model.count_params() == 6 + 8
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 14" in text and "Trainable params: 11" in text
    assert "Non-trainable params: 3" in text


def test_the_optimizer_never_steps_the_state():
    model = stateful_model()
    x, y = data()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    pairs = {id(param) for param, _ in model.params_and_grads}
    assert id(model.layers[0].state["moving_mean"]) not in pairs
    # the moving mean is what forward made of it, nothing else: the inputs' mean, about 2
    np.testing.assert_allclose(model.layers[0].state["moving_mean"], x.mean(axis=0), atol=0.5)


def test_state_is_saved_loaded_and_set(tmp_path):
    model = stateful_model()
    x, y = data()
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = nn.load_model(tmp_path / "m.npz")
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    weights = model.get_weights()
    weights[1] = np.full(3, 7.0, np.float32)
    loaded.set_weights(weights)
    np.testing.assert_array_equal(loaded.layers[0].state["moving_mean"], 7.0)
    with pytest.raises(ValueError, match="'moving_mean' has shape"):
        loaded.layers[0].set_weights([np.zeros(3), np.zeros(4)])


def test_early_stopping_restores_the_state_of_the_best_epoch():
    model = stateful_model()
    x, y = data()

    class Snapshot(nn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.states = getattr(self, "states", []) + [self.model.get_weights()[1]]

    snapshot = Snapshot()
    # min_delta so large that no epoch after the first counts as an improvement
    stopper = EarlyStopping(monitor="loss", min_delta=100.0, patience=2,
                            restore_best_weights=True)
    model.fit(x + np.float32(1), y, epochs=10, batch_size=8, verbose=0,
              callbacks=[snapshot, stopper])
    assert stopper.best_epoch == 0 and len(snapshot.states) == 3
    np.testing.assert_array_equal(model.get_weights()[1], snapshot.states[0])
    assert not np.array_equal(snapshot.states[0], snapshot.states[-1])
