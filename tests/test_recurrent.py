"""Tests of nn.layers.recurrent (SimpleRNN, LSTM, GRU) and of what sequence models need
elsewhere: the Orthogonal initializer, per-step losses and accuracy, gradient clipping.

Gradients are checked in float64 against centred differences for the input and every
parameter, on odd sizes, with return_sequences and go_backwards both ways; forward
passes and all gradients are compared with PyTorch (skipped without torch) and with
Keras' cell equations written out in NumPy, weights in Keras' layout.
"""
import re

import numpy as np
import pytest
from helpers import assert_gradients_match

import nn
from nn.gradcheck import check_layer, check_model, rel_error
from nn.layers import GRU, LSTM, Dense, SimpleRNN
from nn.layers.recurrent import _one_hot_ids

RECURRENT = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}
PARAMS = {"input", "kernel", "recurrent_kernel", "bias"}
# dU sums products of gates over the steps, and some entries come out near 0, where the
# centred differences' own error (about 1e-11 absolute here) is a relative 1e-6; a wrong
# backward gives 1e-2 or more (test_a_wrong_backward_fails_the_gradient_check).
TOLERANCE = 1e-5


def random_layer(cls, units, features, rng, **kwargs):
    """A float64 layer built for (T, features) with a random (not zero) bias."""
    layer = cls(units, dtype="float64", seed=int(rng.integers(1000)), **kwargs)
    layer.build((4, features))
    if "bias" in layer.params:
        layer.params["bias"][...] = rng.standard_normal(layer.params["bias"].shape)
    return layer


# --- gradient checks -----------------------------------------------------------------------

@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_gradients(name, return_sequences, go_backwards, seed):
    rng = np.random.default_rng(seed)
    n, steps, features, units = 3, int(rng.integers(2, 6)), 3, int(rng.choice([5, 7]))
    layer = RECURRENT[name](units, return_sequences=return_sequences, go_backwards=go_backwards,
                            dtype="float64", seed=seed)
    layer.build((steps, features))
    layer.params["bias"][...] = rng.standard_normal(layer.params["bias"].shape)
    x = rng.standard_normal((n, steps, features))
    assert_gradients_match(check_layer(layer, x, rng=seed), PARAMS, TOLERANCE)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
def test_simple_rnn_gradients_for_each_activation(activation):
    rng = np.random.default_rng(4)
    layer = SimpleRNN(5, activation=activation, return_sequences=True, dtype="float64", seed=4)
    layer.build((5, 3))
    x = rng.standard_normal((3, 5, 3))
    if activation == "relu":  # keep every pre-activation away from the kink at 0
        layer.params["bias"][...] = 3.0
    assert_gradients_match(check_layer(layer, x, rng=4), PARAMS, TOLERANCE)


@pytest.mark.parametrize("name", RECURRENT)
def test_gradients_without_bias(name):
    rng = np.random.default_rng(5)
    layer = RECURRENT[name](5, use_bias=False, return_sequences=True, dtype="float64", seed=5)
    x = rng.standard_normal((3, 4, 3))
    layer.build((4, 3))
    assert "bias" not in layer.params
    assert_gradients_match(check_layer(layer, x, rng=5), {"input", "kernel", "recurrent_kernel"},
                           TOLERANCE)


@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_gradients_for_one_hot_input_take_the_gather_path(name, return_sequences):
    rng = np.random.default_rng(6)
    layer = random_layer(RECURRENT[name], 5, 7, rng, return_sequences=return_sequences)
    x = np.eye(7)[rng.integers(0, 7, (3, 4))]
    errors = check_layer(layer, x, rng=6)
    layer.forward(x)
    assert layer.input_ids is not None  # the last (unperturbed) forward gathered rows
    assert_gradients_match(errors, PARAMS, TOLERANCE)


def test_a_wrong_backward_fails_the_gradient_check():
    class ForgetfulLSTM(LSTM):  # drops the path through the forget gate
        def _backward_steps(self, *args):
            grad_z = super()._backward_steps(*args)
            grad_z[:, :, self.units:2 * self.units] = 0
            return grad_z

    rng = np.random.default_rng(7)
    layer = random_layer(ForgetfulLSTM, 5, 3, rng, return_sequences=True)
    errors = check_layer(layer, rng.standard_normal((3, 4, 3)), rng=7)
    assert errors["kernel"] > 1e-2 and errors["bias"] > 1e-2


def test_model_gradients_through_two_stacked_layers():
    rng = np.random.default_rng(8)
    model = nn.Sequential([nn.Input((5, 3)), GRU(4, return_sequences=True), LSTM(5),
                           Dense(3, activation="softmax")], seed=8, dtype="float64")
    model.compile(loss="sparse_categorical_crossentropy")
    model.build()
    # h = 1e-4: the scalar loss (about 1) has gradients of 1e-2 and less; see test_wrappers.py
    errors = check_model(model, rng.standard_normal((4, 5, 3)), rng.integers(0, 3, 4), h=1e-4)
    assert_gradients_match(errors, {f"{layer.name}/{key}" for layer in model.layers
                                    for key in layer.params}, TOLERANCE)


# --- Keras' equations and layout -------------------------------------------------------------

def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def keras_reference(layer, x):
    """The layer's output from Keras' cell equations, step by step, weights as Keras has them
    (keras/src/layers/rnn/{simple_rnn,lstm,gru}.py): a loop over t, no tricks."""
    kernel, recurrent, bias = (layer.params[k] for k in ("kernel", "recurrent_kernel", "bias"))
    units = layer.units
    h = np.zeros((x.shape[0], units))
    c = np.zeros_like(h)
    outputs = []
    for t in (range(x.shape[1])[::-1] if layer.go_backwards else range(x.shape[1])):
        x_t = x[:, t]
        if isinstance(layer, LSTM):
            z = x_t @ kernel + h @ recurrent + bias
            i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        elif isinstance(layer, GRU):
            matrix_x = x_t @ kernel + bias[0]
            matrix_inner = h @ recurrent + bias[1]
            z = sigmoid(matrix_x[:, :units] + matrix_inner[:, :units])
            r = sigmoid(matrix_x[:, units:2 * units] + matrix_inner[:, units:2 * units])
            hh = np.tanh(matrix_x[:, 2 * units:] + r * matrix_inner[:, 2 * units:])
            h = z * h + (1 - z) * hh
        else:
            h = np.tanh(x_t @ kernel + bias + h @ recurrent)
        outputs.append(h)
    return np.stack(outputs, axis=1) if layer.return_sequences else h


@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_forward_is_keras_cell_equations(name, return_sequences, go_backwards):
    rng = np.random.default_rng(9)
    layer = random_layer(RECURRENT[name], 6, 3, rng, return_sequences=return_sequences,
                         go_backwards=go_backwards)
    x = rng.standard_normal((5, 4, 3))
    np.testing.assert_allclose(layer(x), keras_reference(layer, x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name, shapes", [
    ("SimpleRNN", [(3, 5), (5, 5), (5,)]),
    ("LSTM", [(3, 20), (5, 20), (20,)]),
    ("GRU", [(3, 15), (5, 15), (2, 15)]),
])
def test_weight_shapes_and_order_are_keras(name, shapes):
    layer = RECURRENT[name](5, seed=0)
    layer.build((4, 3))
    assert list(layer.params) == ["kernel", "recurrent_kernel", "bias"]
    assert [w.shape for w in layer.get_weights()] == shapes
    assert all(w.dtype == np.float32 for w in layer.get_weights())


def test_default_initializers_are_keras():
    layer = LSTM(8, seed=0)
    layer.build((4, 3))
    kernel, recurrent, bias = layer.get_weights()
    limit = np.sqrt(6 / (3 + 32))  # glorot_uniform over (3, 32)
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(8), atol=1e-6)  # orthogonal rows
    np.testing.assert_array_equal(bias, np.r_[np.zeros(8), np.ones(8), np.zeros(16)])
    no_forget_bias = LSTM(8, unit_forget_bias=False, seed=0)
    no_forget_bias.build((4, 3))
    np.testing.assert_array_equal(no_forget_bias.params["bias"], 0)
    assert LSTM(8).recurrent_initializer.name == "orthogonal"
    assert GRU(8).kernel_initializer.name == "glorot_uniform"


def test_same_seed_same_weights_and_different_seed_different():
    def weights(seed):
        layer = GRU(4, seed=seed)
        layer.build((3, 2))
        return layer.get_weights()

    for a, b in zip(weights(3), weights(3)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(weights(3)[0], weights(4)[0])


def test_keras_weights_load_unchanged_with_set_weights():
    # Weights in Keras' layout from elsewhere (here: drawn at random) give Keras' outputs.
    rng = np.random.default_rng(10)
    layer = LSTM(4, return_sequences=True, dtype="float64")
    layer.build((3, 2))
    keras_weights = [rng.standard_normal((2, 16)), rng.standard_normal((4, 16)),
                     rng.standard_normal(16)]
    layer.set_weights(keras_weights)
    x = rng.standard_normal((2, 3, 2))
    np.testing.assert_allclose(layer(x), keras_reference(layer, x), rtol=1e-12)


# --- PyTorch ----------------------------------------------------------------------------------

def to_torch(layer, torch):
    """The same layer in PyTorch, weights mapped from Keras' layout.

    torch.nn.RNN/LSTM/GRU store weight_ih (k units, d) and weight_hh (k units, units), the
    transposes of Keras' kernel (d, k units) and recurrent_kernel (units, k units), and two
    biases, bias_ih and bias_hh, which torch adds both.  The gate blocks:

    - LSTM: Keras i, f, c, o is torch's i, f, g, o: the same order. bias_ih = Keras' bias,
      bias_hh = 0.
    - GRU: Keras z, r, h is torch's r, z, n with z and r swapped.  Keras' reset_after=True
      computes torch's equations: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) and
      h' = (1 - z) * n + z * h.  Keras' bias row 0 (input) is torch's bias_ih, row 1
      (recurrent) its bias_hh, both with z and r swapped.
    - SimpleRNN: one block; bias_ih = Keras' bias, bias_hh = 0.
    """
    units, features = layer.units, layer.input_shape[1]
    kernel, recurrent = layer.params["kernel"], layer.params["recurrent_kernel"]
    bias = layer.params["bias"]
    if isinstance(layer, GRU):
        order = np.r_[units:2 * units, 0:units, 2 * units:3 * units]  # z, r, h -> r, z, n
        module = torch.nn.GRU(features, units, batch_first=True)
        weights = (kernel[:, order].T, recurrent[:, order].T, bias[0, order], bias[1, order])
    else:
        cls = torch.nn.LSTM if isinstance(layer, LSTM) else torch.nn.RNN
        kwargs = {} if isinstance(layer, LSTM) else {"nonlinearity": layer.activation}
        module = cls(features, units, batch_first=True, **kwargs)
        weights = (kernel.T, recurrent.T, bias, np.zeros_like(bias))
    module = module.double()
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    with torch.no_grad():
        for name, value in zip(names, weights):
            getattr(module, name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return module, names


def torch_grads_in_keras_layout(layer, module, names):
    """The torch module's parameter gradients mapped back to Keras' layout."""
    grads = [getattr(module, name).grad.numpy() for name in names]
    units = layer.units
    if isinstance(layer, GRU):
        back = np.r_[units:2 * units, 0:units, 2 * units:3 * units]  # the swap is its inverse
        return {"kernel": grads[0][back].T, "recurrent_kernel": grads[1][back].T,
                "bias": np.stack([grads[2][back], grads[3][back]])}
    return {"kernel": grads[0].T, "recurrent_kernel": grads[1].T, "bias": grads[2]}


@pytest.mark.parametrize("name, kwargs", [("LSTM", {}), ("GRU", {}), ("SimpleRNN", {}),
                                          ("SimpleRNN", {"activation": "relu"})])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_forward_and_gradients_match_pytorch(name, kwargs, return_sequences):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    layer = random_layer(RECURRENT[name], 7, 5, rng, return_sequences=return_sequences, **kwargs)
    x = rng.standard_normal((3, 4, 5))
    output = layer(x)
    grad_output = rng.standard_normal(output.shape)
    grad_input = layer.backward(grad_output)

    module, names = to_torch(layer, torch)
    x_torch = torch.from_numpy(x).requires_grad_()
    sequence, _ = module(x_torch)
    torch_output = sequence if return_sequences else sequence[:, -1]
    (torch_output * torch.from_numpy(grad_output)).sum().backward()

    np.testing.assert_allclose(output, torch_output.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_input, x_torch.grad.numpy(), rtol=1e-10, atol=1e-12)
    for key, grad in torch_grads_in_keras_layout(layer, module, names).items():
        np.testing.assert_allclose(layer.grads[key], grad, rtol=1e-10, atol=1e-12, err_msg=key)


# --- the layer contract ---------------------------------------------------------------------

@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_forward_and_backward_leave_their_arguments_and_outputs_alone(name, return_sequences):
    rng = np.random.default_rng(12)
    layer = random_layer(RECURRENT[name], 5, 3, rng, return_sequences=return_sequences)
    x = rng.standard_normal((3, 4, 3))
    x_before = x.copy()
    y = layer.forward(x, training=True)
    y_before = y.copy()
    grad_output = rng.standard_normal(y.shape)
    grad_before = grad_output.copy()
    grad_input = layer.backward(grad_output)
    first_grads = {key: grad.copy() for key, grad in layer.grads.items()}
    layer.forward(rng.standard_normal(x.shape))  # reuses the buffers
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(grad_output, grad_before)
    np.testing.assert_array_equal(y, y_before)  # the output is the caller's own array
    assert grad_input.shape == x.shape
    layer.forward(x)
    layer.backward(grad_output)  # written, not accumulated: the same gradients again
    for key, grad in layer.grads.items():
        np.testing.assert_array_equal(grad, first_grads[key])


@pytest.mark.parametrize("name", RECURRENT)
def test_training_updates_the_parameter_arrays_in_place(name):
    rng = np.random.default_rng(13)
    model = nn.Sequential([nn.Input((6, 3)), RECURRENT[name](4), Dense(2, activation="softmax")],
                          seed=13)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.build()
    arrays = {key: array for key, array in model.layers[0].params.items()}
    before = {key: array.copy() for key, array in arrays.items()}
    model.fit(rng.standard_normal((32, 6, 3)), rng.integers(0, 2, 32), epochs=2, verbose=0)
    for key, array in model.layers[0].params.items():
        assert array is arrays[key] and model.layers[0].grads[key] is not array
        assert not np.array_equal(array, before[key])


def test_buffers_are_reused_while_the_batch_shape_stays():
    layer = LSTM(4, seed=0)
    x = np.ones((3, 5, 2), np.float32)
    layer(x)
    buffers = dict(layer.buffers)
    layer(x * 2)
    assert all(layer.buffers[key] is array for key, array in buffers.items())
    layer(np.ones((2, 5, 2), np.float32))  # a new batch size: new buffers of the new shape
    assert layer.buffers["hidden"].shape == (6, 2, 4)


def test_one_hot_detection():
    eye = np.eye(4, dtype=np.float32)
    ids = np.array([[0, 3, 1], [2, 2, 0]])
    np.testing.assert_array_equal(_one_hot_ids(eye[ids]), ids)
    not_one_hot = [eye[ids] * 0.5, eye[ids] + 1e-9]
    two_ones = eye[ids].copy()
    two_ones[0, 0, 1] = 1       # a row with two ones ...
    two_ones[1, 1, 2] = 0       # ... and a row of zeros: the nonzero count still matches
    negative = eye[ids].copy()
    negative[0, 0] = [2, -1, 0, 0]  # sums to 1 with two nonzeros
    for x in not_one_hot + [two_ones, negative, np.zeros((2, 3, 4))]:
        assert _one_hot_ids(x) is None


def test_one_hot_and_general_paths_agree():
    rng = np.random.default_rng(14)
    x = np.eye(6)[rng.integers(0, 6, (5, 4))]
    layer = random_layer(LSTM, 3, 6, rng, return_sequences=True)
    y = layer(x)  # a row gather
    assert layer.input_ids is not None
    np.testing.assert_allclose(y, keras_reference(layer, x), rtol=1e-12, atol=1e-15)
    grad = rng.standard_normal(y.shape)
    layer.backward(grad)
    gathered = layer.grads["kernel"].copy()
    layer.forward(x)
    layer.input_ids = None  # the matrix-product path: dW = x^T dz
    layer.inputs = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(20, 6)
    layer.backward(grad)
    np.testing.assert_allclose(gathered, layer.grads["kernel"], rtol=1e-12, atol=1e-15)


# --- saving -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", RECURRENT)
def test_save_and_load_round_trip_bit_for_bit(name, tmp_path):
    rng = np.random.default_rng(15)
    model = nn.Sequential([nn.Input((5, 3)),
                           RECURRENT[name](4, return_sequences=True, go_backwards=True),
                           RECURRENT[name](6), Dense(2, activation="softmax")], seed=15)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    x = rng.standard_normal((8, 5, 3)).astype(np.float32)
    model.fit(x, rng.integers(0, 2, 8), epochs=1, verbose=0)
    model.save(tmp_path / "model.npz")
    loaded = nn.load_model(tmp_path / "model.npz")
    for ours, theirs in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(model.predict(x), loaded.predict(x))
    assert loaded.layers[0].go_backwards and loaded.layers[0].return_sequences
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]


@pytest.mark.parametrize("layer", [SimpleRNN(3, activation="relu", use_bias=False),
                                   LSTM(3, unit_forget_bias=False, go_backwards=True),
                                   GRU(3, return_sequences=True, unroll=True)])
def test_config_round_trip(layer):
    copy = nn.layers.deserialize(nn.layers.serialize(layer))
    assert copy.get_config() == layer.get_config()


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize("units", [0, -3, 2.5, None, True])
def test_bad_units(name, units):
    with pytest.raises(ValueError, match=rf"positive integer.*Received: units={units!r}"):
        RECURRENT[name](units)


@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize("shape", [(2, 5), (2, 3, 4, 5)])
def test_wrong_rank_says_what_is_expected(name, shape):
    with pytest.raises(ValueError, match=r"\(batch, time, features\).*"
                                         + re.escape(str(shape[1:]))):
        RECURRENT[name](3)(np.ones(shape))


def test_wrong_rank_in_a_model_points_to_embedding():
    model = nn.Sequential([LSTM(3), Dense(2)])
    model.compile(loss="mse")
    with pytest.raises(ValueError, match="Embedding"):
        model.fit(np.ones((4, 7)), np.ones((4, 2)), verbose=0)


@pytest.mark.parametrize("factory, message", [
    (lambda: LSTM(3, return_state=True), r"return_state=True.*not implemented"),
    (lambda: GRU(3, stateful=True), r"stateful=True.*not implemented"),
    (lambda: LSTM(3, dropout=0.2), r"dropout.*Dropout layer.*Received: dropout=0.2"),
    (lambda: SimpleRNN(3, recurrent_dropout=0.1), r"recurrent_dropout=0.1"),
    (lambda: GRU(3, reset_after=False), r"reset_after=False"),
    (lambda: LSTM(3, activation="relu"), r"activation must be one of 'tanh'.*'relu'"),
    (lambda: GRU(3, recurrent_activation="tanh"), r"recurrent_activation.*'sigmoid'"),
    (lambda: SimpleRNN(3, activation="softmax"), r"activation must be one of.*'softmax'"),
])
def test_unsupported_options_are_refused_clearly(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


# --- the Orthogonal initializer -------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5, 5), (4, 12), (12, 4), (2, 3, 6)])
def test_orthogonal_is_orthogonal(shape):
    values = nn.initializers.get("orthogonal")(shape, np.random.default_rng(0), np.float64)
    assert values.shape == shape
    flat = values.reshape(-1, shape[-1])
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


def test_orthogonal_gain_seed_and_config():
    initializer = nn.initializers.Orthogonal(gain=2.0)
    a = initializer((3, 3), np.random.default_rng(1), np.float64)
    np.testing.assert_allclose(a @ a.T, 4 * np.eye(3), atol=1e-12)
    np.testing.assert_array_equal(a, initializer((3, 3), np.random.default_rng(1), np.float64))
    copy = nn.initializers.get(nn.registry.serialize(initializer))
    assert copy.gain == 2.0
    with pytest.raises(ValueError, match=r"at least two dimensions.*\(4,\)"):
        initializer((4,), np.random.default_rng(0))


def test_orthogonal_draws_as_keras_does():
    # QR of a (max, min) matrix of unit normals, Q times the signs of R's diagonal, and
    # transposed for a wide shape: the same normals give Keras' matrix.
    normals = np.random.default_rng(2).standard_normal((6, 2))
    q, r = np.linalg.qr(normals)
    expected = (q * np.sign(np.diag(r))).T
    drawn = nn.initializers.Orthogonal()((2, 6), np.random.default_rng(2), np.float64)
    np.testing.assert_allclose(drawn, expected, rtol=1e-12)


# --- per-step losses and accuracy (a tagger's (n, T) labels) ---------------------------------

@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_crossentropy_with_a_label_per_step_is_the_mean_over_all_steps(from_logits):
    rng = np.random.default_rng(16)
    logits = rng.standard_normal((3, 4, 5))
    labels = rng.integers(0, 5, (3, 4))
    scores = logits if from_logits else nn.ops.softmax(logits)
    loss = nn.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    value = loss(labels, scores)
    flat = nn.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    assert value == pytest.approx(flat(labels.reshape(-1), scores.reshape(-1, 5)), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), flat.backward().reshape(3, 4, 5), rtol=1e-12)
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))  # Keras' rule by hand:
    by_hand = -np.take_along_axis(log_p, labels[..., None], -1).sum() / 12  # sum / (n T)
    assert value == pytest.approx(by_hand, rel=1e-12)
    assert loss(labels[..., None], scores) == pytest.approx(value, rel=1e-15)  # (n, T, 1)


def test_per_step_loss_with_sample_weights_follows_keras():
    rng = np.random.default_rng(17)
    p = nn.ops.softmax(rng.standard_normal((3, 4, 5)))
    labels = rng.integers(0, 5, (3, 4))
    weights = np.array([1.0, 0.0, 2.0])
    loss = nn.losses.SparseCategoricalCrossentropy()
    value = loss(labels, p, sample_weight=weights)
    per_step = -np.log(np.take_along_axis(p, labels[..., None], -1))[..., 0]
    assert value == pytest.approx((per_step * weights[:, None]).sum() / 12, rel=1e-12)
    model_grad = loss.backward()
    np.testing.assert_array_equal(model_grad[1], 0)
    assert nn.losses.CategoricalCrossentropy()(np.eye(5)[labels], p) == pytest.approx(
        per_step.mean(), rel=1e-12)


def test_per_step_labels_must_match_the_steps():
    loss = nn.losses.SparseCategoricalCrossentropy()
    with pytest.raises(ValueError, match=r"shape \(n, 4\).*Received shape \(3, 5\)"):
        loss(np.zeros((3, 5), int), np.full((3, 4, 2), 0.5))
    with pytest.raises(ValueError, match=r"\[0, 2\).*Received label 2"):
        loss(np.full((3, 4), 2), np.full((3, 4, 2), 0.5))


def test_accuracy_with_a_label_per_step():
    p = np.zeros((2, 3, 4))
    p[..., 1] = 1  # predicts class 1 everywhere
    labels = np.array([[1, 1, 0], [1, 2, 3]])
    metric = nn.metrics.sparse_categorical_accuracy
    assert metric(labels, p) == pytest.approx(3 / 6)
    assert metric(labels[..., None], p) == pytest.approx(3 / 6)
    # weighted as Keras: each sample's mean over its steps, then the weighted mean
    assert metric(labels, p, sample_weight=[3, 1]) == pytest.approx((3 * 2 / 3 + 1 / 3) / 4)
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        metric(labels[:, :2], p)


# --- gradient clipping (Keras' clipnorm, global_clipnorm, clipvalue) --------------------------

def clipped_step(**clipping):
    param_a, param_b = np.zeros(2), np.zeros(3)
    grad_a, grad_b = np.array([3.0, 4.0]), np.array([0.0, 12.0, 0.0])  # norms 5 and 12
    nn.optimizers.SGD(learning_rate=1.0, **clipping).step([(param_a, grad_a), (param_b, grad_b)])
    np.testing.assert_array_equal(grad_a, [3.0, 4.0])  # the layers' gradients are left alone
    return -param_a, -param_b  # with learning rate 1, the step is minus the clipped gradient


def test_clipnorm_clips_each_gradient_by_its_own_norm():
    a, b = clipped_step(clipnorm=6.0)
    np.testing.assert_allclose(a, [3.0, 4.0])            # norm 5 <= 6: unchanged
    np.testing.assert_allclose(b, [0.0, 6.0, 0.0])       # norm 12 -> 6


def test_global_clipnorm_scales_all_gradients_together():
    a, b = clipped_step(global_clipnorm=6.5)             # global norm sqrt(25 + 144) = 13
    np.testing.assert_allclose(a, [1.5, 2.0])
    np.testing.assert_allclose(b, [0.0, 6.0, 0.0])
    a, b = clipped_step(global_clipnorm=20.0)
    np.testing.assert_allclose(b, [0.0, 12.0, 0.0])


def test_clipvalue_clips_each_entry():
    a, b = clipped_step(clipvalue=3.5)
    np.testing.assert_allclose(a, [3.0, 3.5])
    np.testing.assert_allclose(b, [0.0, 3.5, 0.0])


@pytest.mark.parametrize("cls", [nn.optimizers.SGD, nn.optimizers.Adam, nn.optimizers.RMSprop,
                                 nn.optimizers.Adagrad, nn.optimizers.AdamW])
def test_every_optimizer_takes_clipping_and_saves_it(cls):
    optimizer = cls(clipnorm=1.0)
    assert optimizer.get_config()["clipnorm"] == 1.0
    copy = nn.optimizers.get(nn.optimizers.serialize(optimizer))
    assert copy.clipnorm == 1.0 and copy.clipvalue is None
    assert "clipnorm" not in cls().get_config()  # configs without clipping stay as they were


def test_clipping_arguments_are_checked():
    with pytest.raises(ValueError, match=r"Only one of.*clipnorm=1.0, clipvalue=2.0"):
        nn.optimizers.Adam(clipnorm=1.0, clipvalue=2.0)
    with pytest.raises(ValueError, match=r"clipnorm must be a finite number > 0.*clipnorm=-1"):
        nn.optimizers.Adam(clipnorm=-1)
    with pytest.raises(TypeError, match="global_clipnorm must be a number"):
        nn.optimizers.SGD(global_clipnorm="1")


def test_clipping_rescues_an_exploding_recurrent_net():
    # A linear SimpleRNN asked to output its last input: with plain SGD at learning rate
    # 0.1 the first updates blow the recurrent kernel up, the outputs grow like its powers
    # and the loss overflows; the same run with the gradients' norm clipped to 1 learns.
    rng = np.random.default_rng(18)
    x = rng.standard_normal((256, 40, 1)).astype(np.float32)

    def fit(**clipping):
        model = nn.Sequential([nn.Input((40, 1)), SimpleRNN(32, activation="linear"), Dense(1)],
                              seed=18)
        model.compile(optimizer=nn.optimizers.SGD(learning_rate=0.1, **clipping), loss="mse")
        with np.errstate(all="ignore"):
            return model.fit(x, x[:, -1], epochs=5, batch_size=32, verbose=0).history["loss"]

    with pytest.raises(FloatingPointError, match="diverged"):
        fit()
    losses = fit(global_clipnorm=1.0)
    assert losses[-1] < 0.05 < losses[0]
