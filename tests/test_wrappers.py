"""Tests of nn.layers.wrappers: Bidirectional and TimeDistributed."""
import numpy as np
import pytest
from helpers import assert_gradients_match

import nn
from nn.gradcheck import check_layer, check_model
from nn.layers import GRU, LSTM, Bidirectional, Dense, Dropout, Embedding, SimpleRNN, \
    TimeDistributed

TOLERANCE = 1e-5  # as in test_recurrent.py: dU has entries near 0
# For a whole model the checked function is the scalar loss, about 1 in size, with gradients
# of 1e-2 and less: a step of 1e-4 keeps the differences' rounding error (about 1e-16 / h)
# well below them, where 1e-5 would not.
STEP = 1e-4


def built(layer, shape, seed=0):
    layer.build(shape, rng=np.random.default_rng(seed), dtype="float64")
    return layer


def randomize_biases(layer, rng):
    for key, value in layer.params.items():
        if key.endswith("bias"):
            value[...] = rng.standard_normal(value.shape)


# --- Bidirectional -------------------------------------------------------------------------

@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_gradients(merge_mode, return_sequences):
    rng = np.random.default_rng(0)
    layer = built(Bidirectional(LSTM(5, return_sequences=return_sequences),
                                merge_mode=merge_mode), (4, 3))
    randomize_biases(layer, rng)
    errors = check_layer(layer, rng.standard_normal((3, 4, 3)), rng=0)
    expected = {"input"} | {f"{side}/{key}" for side in ("forward", "backward")
                            for key in ("kernel", "recurrent_kernel", "bias")}
    assert_gradients_match(errors, expected, TOLERANCE)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_is_a_forward_and_a_reversed_pass(return_sequences):
    rng = np.random.default_rng(1)
    layer = built(Bidirectional(GRU(4, return_sequences=return_sequences)), (5, 3))
    x = rng.standard_normal((2, 5, 3))
    y = layer(x)
    forward, backward = layer.forward_layer, layer.backward_layer
    assert not forward.go_backwards and backward.go_backwards
    reversed_output = backward.forward(x)  # reads x_T .. x_1
    if return_sequences:  # flipped back: step t of the backward half has read x_t .. x_T
        reversed_output = reversed_output[:, ::-1]
        single = GRU(4, return_sequences=True, dtype="float64")
        single.build((3, 3))
        single.set_weights(backward.get_weights())
        np.testing.assert_allclose(reversed_output[:, 2], single(x[:, 2:][:, ::-1])[:, -1],
                                   rtol=1e-12)
    np.testing.assert_allclose(y, np.concatenate([forward.forward(x), reversed_output], -1),
                               rtol=1e-12)
    assert y.shape == (2,) + layer.compute_output_shape((5, 3))


def test_bidirectional_weights_names_and_order_are_keras():
    layer = Bidirectional(LSTM(3, name="lstm"), input_shape=(4, 2))
    model = nn.Sequential([layer], seed=0)
    model.build()
    assert layer.forward_layer.name == "forward_lstm"
    assert layer.backward_layer.name == "backward_lstm"
    assert list(layer.params) == ["forward/kernel", "forward/recurrent_kernel", "forward/bias",
                                  "backward/kernel", "backward/recurrent_kernel", "backward/bias"]
    shapes = [w.shape for w in layer.get_weights()]
    assert shapes == [(2, 12), (3, 12), (12,)] * 2
    assert layer.params["forward/kernel"] is layer.forward_layer.params["kernel"]
    assert layer.grads["backward/bias"] is layer.backward_layer.grads["bias"]
    assert layer.count_params() == 2 * (2 * 12 + 3 * 12 + 12)
    assert not np.array_equal(layer.params["forward/kernel"], layer.params["backward/kernel"])


def test_bidirectional_with_its_own_backward_layer():
    layer = Bidirectional(LSTM(3, return_sequences=True),
                          backward_layer=SimpleRNN(2, return_sequences=True, go_backwards=True))
    built(layer, (4, 2))
    assert layer(np.ones((1, 4, 2))).shape == (1, 4, 5)
    with pytest.raises(ValueError, match="opposite directions"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3, go_backwards=True, return_sequences=True))


@pytest.mark.parametrize("merge_mode, message", [
    ("avg", r"merge_mode must be one of 'concat', 'sum', 'ave', 'mul'.*merge_mode='avg'"),
    (None, r"None, two separate outputs.*merge_mode=None"),
])
def test_bidirectional_bad_merge_mode(merge_mode, message):
    with pytest.raises(ValueError, match=message):
        Bidirectional(LSTM(3), merge_mode=merge_mode)


def test_bidirectional_wraps_only_recurrent_layers():
    with pytest.raises(TypeError, match=r"recurrent layer.*Dense"):
        Bidirectional(Dense(3))


# --- TimeDistributed -------------------------------------------------------------------------

@pytest.mark.parametrize("activation", [None, "tanh", "softmax"])
def test_time_distributed_gradients(activation):
    rng = np.random.default_rng(2)
    layer = built(TimeDistributed(Dense(3, activation=activation)), (5, 4))
    randomize_biases(layer, rng)
    errors = check_layer(layer, rng.standard_normal((3, 5, 4)), rng=2)
    assert_gradients_match(errors, {"input", "kernel", "bias"})


def test_time_distributed_applies_one_layer_to_every_step():
    rng = np.random.default_rng(3)
    layer = built(TimeDistributed(Dense(3, activation="relu")), (5, 4))
    x = rng.standard_normal((2, 5, 4))
    y = layer(x)
    assert y.shape == (2, 5, 3) == (2,) + layer.compute_output_shape((5, 4))
    for t in range(5):
        np.testing.assert_allclose(y[:, t], layer.layer.forward(x[:, t]), rtol=1e-12)
    assert layer.params["kernel"] is layer.layer.params["kernel"]
    assert list(layer.params) == ["kernel", "bias"]


def test_time_distributed_softmax_fuses_with_the_loss():
    rng = np.random.default_rng(4)
    model = nn.Sequential([nn.Input((5, 3)), LSTM(4, return_sequences=True),
                           TimeDistributed(Dense(6, activation="softmax"))], seed=4,
                          dtype="float64")
    model.compile(loss="sparse_categorical_crossentropy")
    assert model.loss_is_fused
    errors = check_model(model, rng.standard_normal((3, 5, 3)), rng.integers(0, 6, (3, 5)),
                         h=STEP)
    assert_gradients_match(errors, {f"{layer.name}/{key}" for layer in model.layers
                                    for key in layer.params}, TOLERANCE)


def test_time_distributed_needs_a_time_axis():
    with pytest.raises(ValueError, match=r"\(batch, time, \.\.\.\).*\(4,\)"):
        TimeDistributed(Dense(2))(np.ones((3, 4)))
    with pytest.raises(TypeError, match="wraps an nn layer"):
        TimeDistributed("dense")


def test_time_distributed_dropout_follows_the_fit_seed():
    layer = TimeDistributed(Dropout(0.5))
    assert layer.uses_randomness
    model = nn.Sequential([nn.Input((3, 4)), layer, nn.layers.Flatten(), Dense(1)], seed=0)
    model.compile(loss="mse")
    model.build()
    own = layer.layer.rng
    generator = np.random.default_rng(9)
    layer.rng = generator
    assert layer.layer.rng is generator
    layer.rng = model.rng  # what fit restores: the inner layer gets its own generator back
    assert layer.layer.rng is own


# --- both, in models ---------------------------------------------------------------------------

def tagger(seed=0, dtype=None):
    return nn.Sequential([Embedding(12, 5, input_shape=(6,), embeddings_initializer="he_normal"),
                          Bidirectional(LSTM(4, return_sequences=True), merge_mode="sum"),
                          TimeDistributed(Dense(3, activation="softmax"))], seed=seed,
                         dtype=dtype)


def test_model_gradients_of_an_embedding_bidirectional_tagger():
    rng = np.random.default_rng(5)
    model = tagger(dtype="float64")
    model.compile(loss="sparse_categorical_crossentropy")
    model.build()
    randomize_biases(model.layers[1], rng)
    errors = check_model(model, rng.integers(0, 12, (3, 6)), rng.integers(0, 3, (3, 6)),
                         h=STEP)
    assert_gradients_match(errors, {f"{layer.name}/{key}" for layer in model.layers
                                    for key in layer.params}, TOLERANCE)


def test_wrappers_save_and_load_bit_for_bit(tmp_path):
    rng = np.random.default_rng(6)
    model = tagger()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = rng.integers(0, 12, (16, 6)), rng.integers(0, 3, (16, 6))
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "tagger.npz")
    loaded = nn.load_model(tmp_path / "tagger.npz")
    for ours, theirs in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [layer.get_config() for layer in loaded.layers] == \
        [layer.get_config() for layer in model.layers]
    assert loaded.layers[1].merge_mode == "sum"
    assert loaded.layers[1].forward_layer.name == model.layers[1].forward_layer.name
    loaded.fit(x, y, epochs=1, verbose=0)  # and it trains on


def test_wrapper_configs_go_through_the_registry():
    layer = Bidirectional(GRU(3, return_sequences=True), merge_mode="mul")
    spec = nn.layers.serialize(layer)
    assert spec["config"]["layer"]["class_name"] == "GRU"
    assert spec["config"]["backward_layer"]["config"]["go_backwards"] is True
    copy = nn.layers.deserialize(spec)
    assert copy.get_config() == layer.get_config()
    inner = nn.layers.deserialize(nn.layers.serialize(TimeDistributed(Dense(2, use_bias=False))))
    assert inner.layer.use_bias is False


def test_weight_penalties_of_recurrent_embedding_and_wrapped_layers():
    l2 = nn.regularizers.L2(0.01)
    model = nn.Sequential([Embedding(12, 5, input_shape=(6,), embeddings_regularizer=l2),
                           Bidirectional(GRU(4, recurrent_regularizer="l2")),
                           Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.build()
    embeddings = model.layers[0].params["embeddings"]
    recurrent = [model.layers[1].params[f"{side}/recurrent_kernel"]
                 for side in ("forward", "backward")]
    expected = 0.01 * np.sum(embeddings**2) + sum(0.01 * np.sum(u**2) for u in recurrent)
    assert model.regularization_penalty() == pytest.approx(expected, rel=1e-6)
    inner = model.layers[1].backward_layer
    inner.grads["recurrent_kernel"][...] = 0
    model.layers[1].regularization_penalty(add_gradients=True)  # into the inner layer's grads
    np.testing.assert_allclose(inner.grads["recurrent_kernel"],
                               2 * 0.01 * inner.params["recurrent_kernel"], rtol=1e-6)
    copy = nn.layers.deserialize(nn.layers.serialize(model.layers[1]))
    assert copy.forward_layer.recurrent_regularizer.get_config() == {"l2": 0.01}
