"""Tests of nn.Sequential: gradients of whole models, training behaviour a reader relies on,
bad inputs, callbacks, and saving/loading."""
import json
import os
import re

import numpy as np
import pytest
from helpers import assert_gradients_match

import nn
from nn.callbacks import Callback, EarlyStopping
from nn.gradcheck import check_model
from nn.layers import Activation, Dense, Dropout, Flatten, LeakyReLU
from nn.optimizers import SGD, Adam


def blobs(n=60, classes=3, dim=4, seed=0):
    """Inputs (n, dim) float32 and integer labels a linear model can mostly separate."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    y = np.argmax(x @ rng.standard_normal((dim, classes)), axis=1)
    return x, y


def classifier(seed=0, classes=3, dim=4, hidden=8, dtype=None, dropout=0.0, optimizer="adam",
               metrics=("accuracy",)):
    layers = [Dense(hidden, activation="relu", input_dim=dim)]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(classes, activation="softmax"))
    model = nn.Sequential(layers, seed=seed, dtype=dtype)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=list(metrics))
    return model


def assert_same_weights(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def param_names(model):
    return {f"{layer.name}/{key}" for layer in model.layers for key in layer.params}


# --- gradients of whole models ----------------------------------------------------------

@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "categorical_crossentropy"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fused_softmax_crossentropy_gradient(loss, seed):
    rng = np.random.default_rng(seed)
    n, dim, hidden, classes = (int(v) for v in rng.integers(2, 7, 4))
    model = nn.Sequential([Dense(hidden, activation="tanh", input_dim=dim),
                           Dense(classes, activation="softmax")], seed=seed, dtype="float64")
    model.compile(optimizer="sgd", loss=loss)
    assert model.loss_is_fused and model.training_loss.from_logits
    labels = rng.integers(0, classes, n)
    y = labels if loss.startswith("sparse") else np.eye(classes)[labels]
    errors = check_model(model, rng.standard_normal((n, dim)), y)
    assert_gradients_match(errors, param_names(model))


@pytest.mark.parametrize("label_shape", ["(n,)", "(n, 1)"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fused_sigmoid_binary_crossentropy_gradient(label_shape, seed):
    rng = np.random.default_rng(seed)
    n, dim, hidden = (int(v) for v in rng.integers(2, 7, 3))
    model = nn.Sequential([Dense(hidden, activation="relu", input_dim=dim),
                           Dense(1, activation="sigmoid")], seed=seed, dtype="float64")
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    assert model.loss_is_fused and model.training_loss.from_logits
    y = rng.integers(0, 2, n if label_shape == "(n,)" else (n, 1))
    errors = check_model(model, rng.standard_normal((n, dim)), y)
    assert_gradients_match(errors, param_names(model))


@pytest.mark.parametrize("last_layer, loss", [
    (lambda: Activation("softmax"), "sparse_categorical_crossentropy"),
    (lambda: nn.layers.Softmax(), "categorical_crossentropy"),
    (lambda: nn.layers.Sigmoid(), "binary_crossentropy"),
], ids=["Activation('softmax')", "Softmax()", "Sigmoid()"])
def test_fused_through_a_separate_activation_layer(last_layer, loss):
    rng = np.random.default_rng(5)
    classes = 1 if loss == "binary_crossentropy" else 3
    model = nn.Sequential([Dense(4, activation="tanh", input_dim=3), Dense(classes), last_layer()],
                          seed=5, dtype="float64")
    model.compile(optimizer="sgd", loss=loss)
    assert model.loss_is_fused
    labels = rng.integers(0, max(classes, 2), 6)
    y = np.eye(classes)[labels] if loss == "categorical_crossentropy" else labels
    errors = check_model(model, rng.standard_normal((6, 3)), y)
    assert_gradients_match(errors, param_names(model))
    probabilities = model.predict(rng.standard_normal((6, 3)))
    assert np.all((probabilities > 0) & (probabilities < 1))


@pytest.mark.parametrize("output_activation, loss", [
    ("softmax", "mse"), ("sigmoid", "mse"), ("linear", "mse"), ("tanh", "mse"),
])
def test_unfused_model_gradient(output_activation, loss):
    rng = np.random.default_rng(3)
    model = nn.Sequential([Flatten(input_shape=(2, 3)), Dense(5, activation="leaky_relu"),
                           Dense(4, activation="sigmoid"), Dense(3, activation=output_activation)],
                          seed=3, dtype="float64")
    model.compile(optimizer="sgd", loss=loss)
    assert not model.loss_is_fused
    errors = check_model(model, rng.standard_normal((5, 2, 3)), rng.uniform(0, 1, (5, 3)))
    assert_gradients_match(errors, param_names(model))


def test_fused_and_unfused_paths_give_the_same_gradients():
    # The fused (p - y)/n from the logits must equal softmax's backward applied to the
    # gradient of the cross-entropy of the probabilities.
    rng = np.random.default_rng(4)
    x, labels = rng.standard_normal((6, 3)), rng.integers(0, 4, 6)
    model = nn.Sequential([Dense(5, activation="tanh", input_dim=3), Dense(4, activation="softmax")],
                          seed=4, dtype="float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.build()
    model.compute_gradients(x, labels)
    fused = [grad.copy() for layer in model.layers for grad in layer.grads.values()]

    loss = nn.losses.SparseCategoricalCrossentropy()
    loss.forward(labels, model.forward(x, training=True))
    model.backward(loss.backward())
    unfused = [grad.copy() for layer in model.layers for grad in layer.grads.values()]
    for a, b in zip(fused, unfused):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_predict_returns_probabilities_even_when_training_uses_logits():
    x, y = blobs()
    model = classifier()
    model.fit(x, y, epochs=2, verbose=0)
    probabilities = model.predict(x)
    assert probabilities.shape == (60, 3) and probabilities.dtype == np.float32
    assert np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=1), np.ones(60), rtol=1e-6)
    np.testing.assert_allclose(model.predict(x, batch_size=7), probabilities, rtol=1e-6, atol=1e-7)
    assert model.predict(x[:0]).shape == (0, 3)


# --- learning -----------------------------------------------------------------------------

def test_predict_needs_no_compile():
    model = nn.Sequential([Dense(3, activation="softmax", input_dim=4)], seed=0)
    probabilities = model.predict(np.ones((2, 4)))
    assert probabilities.shape == (2, 3) and probabilities.dtype == np.float32


def test_xor_is_learned():
    x, y = nn.data.logic_gate("xor")
    model = nn.Sequential([Dense(8, activation="tanh", input_dim=2), Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=Adam(learning_rate=0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    np.testing.assert_array_equal(model.predict(x)[:, 0] > 0.5, y == 1)
    assert model.evaluate(x, y, verbose=0)[1] == 1.0


def test_xor_is_beyond_a_linear_model():
    # The same training without the hidden layer: no line separates XOR, 3 of 4 at best.
    x, y = nn.data.logic_gate("xor")
    model = nn.Sequential([Dense(1, activation="sigmoid", input_dim=2)], seed=0)
    model.compile(optimizer=Adam(learning_rate=0.05), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] <= 0.75


@pytest.mark.parametrize("dataset, classes, epochs", [("two_moons", 2, 60), ("spirals", 3, 150)])
def test_toy_problems_are_separated(dataset, classes, epochs):
    x, y = getattr(nn.data, dataset)(300, rng=0)
    model = nn.Sequential([Dense(32, activation="relu", input_dim=2), Dense(32, activation="relu"),
                           Dense(classes, activation="softmax")], seed=0)
    model.compile(optimizer=Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.97


# --- fit, evaluate, predict ------------------------------------------------------------------

def test_history_without_validation():
    x, y = blobs()
    history = classifier().fit(x, y, epochs=3, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert history.epoch == [0, 1, 2]
    assert all(len(values) == 3 for values in history.history.values())
    assert all(isinstance(value, float) for values in history.history.values() for value in values)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model = classifier(metrics=())
    assert set(model.fit(x, y, epochs=2, verbose=0).history) == {"loss"}


def test_history_with_validation_split_holds_out_the_last_rows():
    x, y = blobs()
    model = classifier()
    history = model.fit(x, y, epochs=4, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 4 for values in history.history.values())
    # the validation set is the last 15 rows, measured after the last epoch
    val_loss, val_accuracy = model.evaluate(x[45:], y[45:], verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-6)
    assert history.history["val_accuracy"][-1] == pytest.approx(val_accuracy, rel=1e-6)


def test_history_with_validation_data():
    x, y = blobs()
    x_val, y_val = blobs(n=20, seed=1)
    model = classifier()
    history = model.fit(x, y, epochs=3, validation_data=(x_val, y_val), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 3 for values in history.history.values())
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(x_val, y_val, verbose=0)[0], rel=1e-6)


def test_evaluate_returns_loss_then_metrics():
    x, y = blobs()
    model = classifier()
    model.fit(x, y, epochs=2, verbose=0)
    probabilities = model.predict(x).astype(np.float64)
    expected_loss = -np.mean(np.log(probabilities[np.arange(60), y]))
    expected_accuracy = np.mean(np.argmax(probabilities, axis=1) == y)
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, list) and len(result) == 2
    assert result[0] == pytest.approx(expected_loss, rel=1e-5)
    assert result[1] == pytest.approx(expected_accuracy)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": result[0], "accuracy": result[1]}
    assert list(model.evaluate(x, y, verbose=0, return_dict=True)) == ["loss", "accuracy"]


def test_evaluate_without_metrics_returns_the_loss_alone():
    x, y = blobs()
    model = classifier(metrics=())
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, float)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": result}


def test_train_on_batch():
    x, y = blobs()
    model = classifier(optimizer=SGD(learning_rate=0.1))
    before = model.evaluate(x[:16], y[:16], verbose=0)
    kernel_before = model.get_weights()[0]
    result = model.train_on_batch(x[:16], y[:16])
    assert isinstance(result, list) and len(result) == 2
    assert result[0] == pytest.approx(before[0], rel=1e-6)  # the loss before the step
    assert result[1] == pytest.approx(before[1])
    assert not np.array_equal(model.get_weights()[0], kernel_before)
    assert model.evaluate(x[:16], y[:16], verbose=0)[0] < before[0]
    assert isinstance(classifier(metrics=()).train_on_batch(x[:16], y[:16]), float)


def test_summary_lists_layers_shapes_and_parameter_counts(capsys):
    model = nn.Sequential([Flatten(input_shape=(28, 28), name="pixels"), Dense(128, activation="relu", name="hidden"),
                           Dense(10, activation="softmax", name="digits")])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for fragment in ["pixels (Flatten)", "hidden (Dense)", "digits (Dense)", "(None, 784)", "(None, 128)",
                     "(None, 10)", "100,480", "1,290", "Total params: 101,770"]:
        assert fragment in text
    rows = {line.split()[0]: line for line in text.splitlines() if line.split() and line.split()[0] in
            ("pixels", "hidden", "digits")}
    assert rows["hidden"].split()[-1] == "100,480" and rows["pixels"].split()[-1] == "0"
    assert model.count_params() == 101_770
    model.summary()
    assert "Total params: 101,770" in capsys.readouterr().out


def test_verbose_0_prints_nothing(capsys):
    x, y = blobs()
    model = classifier()
    model.fit(x, y, epochs=3, validation_split=0.2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = blobs()
    classifier().fit(x, y, epochs=3, validation_split=0.2, verbose=2)
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 3, captured.out
    for epoch, line in enumerate(lines, start=1):
        assert re.match(rf"Epoch {epoch}/3\b.*loss: \d+\.\d{{4}}.*val_accuracy: \d\.\d{{4}}", line), line
    assert "\r" not in captured.out



def test_verbose_1_on_a_terminal_draws_a_live_bar_then_one_line(capsys, monkeypatch):
    import sys
    x, y = blobs()
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    classifier().fit(x, y, epochs=2, batch_size=4, verbose=1)
    out = capsys.readouterr().out
    assert re.search(r"\rEpoch 1/2 \d+/\d+ \[[=>.]{30}\] - loss: ", out), out
    assert "\rEpoch 1/2 15/15 [" + "=" * 30 + "]" in out  # the bar ends full
    final_lines = [line for line in out.replace("\033[K", "").split("\r") if line.endswith("\n")]
    assert [line.split(" - ")[0] for line in final_lines] == ["Epoch 1/2", "Epoch 2/2"]


def test_verbose_1_off_a_terminal_prints_no_bar(capsys):
    x, y = blobs()
    classifier().fit(x, y, epochs=2, batch_size=4, verbose=1)
    out = capsys.readouterr().out
    assert "\r" not in out and len(out.splitlines()) == 2, out

# --- order, seeds and determinism -------------------------------------------------------------

def test_fit_without_shuffle_takes_the_batches_in_order():
    x, y = blobs(n=30)
    trained = classifier()
    trained.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    by_hand = classifier()
    for _ in range(2):
        for start in range(0, 30, 8):
            by_hand.train_on_batch(x[start:start + 8], y[start:start + 8])
    assert_same_weights(trained.get_weights(), by_hand.get_weights())


def test_fit_with_shuffle_takes_a_new_permutation_each_epoch():
    x, y = blobs(n=30)
    trained = classifier()
    trained.fit(x, y, batch_size=8, epochs=2, shuffle=True, seed=5, verbose=0)
    by_hand = classifier()
    rng = np.random.default_rng(5)
    for _ in range(2):
        order = rng.permutation(30)
        for start in range(0, 30, 8):
            by_hand.train_on_batch(x[order[start:start + 8]], y[order[start:start + 8]])
    assert_same_weights(trained.get_weights(), by_hand.get_weights())
    unshuffled = classifier()
    unshuffled.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert not np.array_equal(unshuffled.get_weights()[0], trained.get_weights()[0])


def test_the_same_seed_gives_bit_identical_training():
    x, y = blobs()
    runs = []
    for seed in (7, 7, 8):
        model = classifier(seed=seed, dropout=0.3)
        model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        runs.append((model.get_weights(), model.predict(x)))
    assert_same_weights(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert not any(np.array_equal(a, b) for a, b in zip(runs[0][0], runs[2][0]))


def test_the_seed_of_fit_fixes_shuffling_and_dropout():
    # Sequential.fit: "seed (int or Generator) fixes the shuffling and dropout of this call".
    x, y = blobs()
    model = classifier(dropout=0.5, optimizer=SGD(learning_rate=0.1))
    model.build()
    start = model.get_weights()
    model.fit(x, y, batch_size=16, epochs=1, seed=3, verbose=0)
    first = model.get_weights()
    model.set_weights(start)  # plain SGD keeps no state between the two calls
    model.fit(x, y, batch_size=16, epochs=1, seed=3, verbose=0)
    assert_same_weights(model.get_weights(), first)


def test_different_model_seeds_give_different_initial_weights():
    first, second = classifier(seed=1), classifier(seed=2)
    first.build(), second.build()
    assert not np.array_equal(first.get_weights()[0], second.get_weights()[0])


# --- the layer contract, seen from the model ----------------------------------------------------

def test_fit_updates_parameters_in_place():
    x, y = blobs()
    model = classifier()
    model.build()
    arrays = [(layer, key, layer.params[key], layer.grads[key]) for layer in model.layers for key in layer.params]
    before = [param.copy() for _, _, param, _ in arrays]
    model.fit(x, y, epochs=2, verbose=0)
    for (layer, key, param, grad), old in zip(arrays, before):
        assert layer.params[key] is param and layer.grads[key] is grad
        assert not np.array_equal(param, old), f"{layer.name}/{key} did not change"


@pytest.mark.parametrize("x_dtype", [np.float64, np.uint8, np.int64, bool])
def test_a_float32_model_stays_float32(x_dtype):
    x, y = blobs()
    x = (np.abs(x) * 3).astype(x_dtype)
    model = classifier()
    model.fit(x, y, epochs=1, verbose=0)
    assert model.predict(x).dtype == np.float32
    for layer in model.layers:
        for key in layer.params:
            assert layer.params[key].dtype == np.float32 and layer.grads[key].dtype == np.float32


def test_a_float64_model_computes_in_float64():
    x, y = blobs()
    model = classifier(dtype="float64")
    model.fit(x, y, epochs=1, verbose=0)
    assert model.predict(x).dtype == np.float64
    assert all(weight.dtype == np.float64 for weight in model.get_weights())


@pytest.mark.parametrize("output, loss, make_targets", [
    (Dense(3, activation="softmax"), "categorical_crossentropy", lambda labels: np.eye(3, dtype=np.int64)[labels]),
    (Dense(3, activation="softmax"), "sparse_categorical_crossentropy", lambda labels: labels),
    (Dense(1, activation="sigmoid"), "binary_crossentropy", lambda labels: (labels > 0).astype(np.int64)),
    (Dense(1, activation="sigmoid"), "mse", lambda labels: (labels > 0).astype(np.int64)[:, None]),
], ids=["categorical, int one-hot", "sparse, int labels", "binary, int labels", "mse, int targets"])
def test_gradients_stay_float32_with_integer_targets(output, loss, make_targets):
    # Integer targets must not turn the backward pass into float64 (twice the memory
    # traffic): every gradient a layer receives has the model's dtype.
    x, labels = blobs()
    model = nn.Sequential([Dense(8, activation="tanh", input_dim=4), output], seed=0)
    model.compile(optimizer="sgd", loss=loss)
    received = []
    for layer in model.layers:
        for method in ("backward", "backward_logits"):
            original = getattr(layer, method)

            def spy(grad_output, original=original, name=f"{layer.name}.{method}"):
                received.append((name, grad_output.dtype))
                return original(grad_output)
            setattr(layer, method, spy)
    model.fit(x, make_targets(labels), batch_size=20, epochs=1, verbose=0)
    assert received
    assert all(dtype == np.float32 for _, dtype in received), received


def test_the_first_trainable_layer_skips_the_input_gradient():
    x = np.random.default_rng(0).standard_normal((30, 2, 3)).astype(np.float32)
    y = (x.reshape(30, -1).sum(axis=1) > 0).astype(int)
    model = nn.Sequential([Flatten(input_shape=(2, 3)), Dense(6, activation="relu"), Dense(2, activation="softmax")],
                          seed=0)
    model.compile(optimizer=Adam(learning_rate=0.05), loss="sparse_categorical_crossentropy")
    model.build()
    assert [layer.needs_input_grad for layer in model.layers] == [False, False, True]
    model.forward(x[:4], training=True)
    assert model.backward(np.ones((4, 2), dtype=np.float32)) is None
    assert model.layers[1].backward(np.ones((4, 6), dtype=np.float32)) is None
    first_kernel = model.layers[1].params["kernel"].copy()
    history = model.fit(x, y, epochs=20, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert not np.array_equal(model.layers[1].params["kernel"], first_kernel)


def test_get_and_set_weights_of_a_model():
    model, other = classifier(seed=0), classifier(seed=1)
    model.build(), other.build()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(4, 8), (8,), (8, 3), (3,)]
    other.set_weights(weights)
    assert_same_weights(other.get_weights(), weights)
    with pytest.raises(ValueError, match="expects 4 weight arrays, received 3"):
        other.set_weights(weights[:3])
    with pytest.raises(ValueError, match=r"\(8, 3\).*\(3, 8\)"):
        other.set_weights(weights[:2] + [weights[2].T, weights[3]])


def test_a_rejected_model_set_weights_changes_nothing():
    model, other = classifier(seed=0), classifier(seed=1)
    model.build(), other.build()
    before = other.get_weights()
    wrong = model.get_weights()
    wrong[3] = np.zeros(5)  # only the last array is wrong
    with pytest.raises(ValueError):
        other.set_weights(wrong)
    assert_same_weights(other.get_weights(), before)


# --- callbacks ---------------------------------------------------------------------------

class Recorder(Callback):
    """Keeps every epoch's weights and logs."""

    def on_train_begin(self, logs=None):
        self.weights, self.logs, self.calls = [], [], ["train_begin"]

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(f"begin {epoch}")

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(f"end {epoch}")
        self.weights.append(self.model.get_weights())
        self.logs.append(dict(logs))

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


def descend_then_ascend(iteration):
    """Learning rate 0.1 for three steps, then -0.1: gradient ascent, the loss must rise."""
    return 0.1 if iteration < 3 else -0.1


@pytest.mark.parametrize("restore_best_weights", [False, True])
def test_early_stopping(restore_best_weights):
    # Softmax regression, one full batch per epoch, validated on its training data: the
    # loss is convex, so it falls for three epochs and rises ever after.
    x, y = blobs(n=40, classes=2, dim=3)
    model = nn.Sequential([Dense(2, activation="softmax", input_dim=3)], seed=0)
    model.compile(optimizer=SGD(learning_rate=descend_then_ascend), loss="sparse_categorical_crossentropy")
    recorder = Recorder()
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=restore_best_weights)
    history = model.fit(x, y, batch_size=40, epochs=20, validation_data=(x, y), callbacks=[recorder, stopper],
                        verbose=0)
    val_loss = history.history["val_loss"]
    assert val_loss[0] > val_loss[1] > val_loss[2] < val_loss[3] < val_loss[4]  # the situation intended
    assert len(val_loss) == 5 and history.epoch == [0, 1, 2, 3, 4]  # 2 epochs without improvement
    assert stopper.stopped_epoch == 4
    expected = recorder.weights[2] if restore_best_weights else recorder.weights[4]
    assert_same_weights(model.get_weights(), expected)
    assert recorder.calls[:3] == ["train_begin", "begin 0", "end 0"] and recorder.calls[-1] == "train_end"


def test_early_stopping_on_a_missing_value_says_what_is_logged():
    x, y = blobs()
    with pytest.raises(ValueError, match="'val_loss'.*accuracy, loss"):
        classifier().fit(x, y, epochs=2, callbacks=[EarlyStopping()], verbose=0)


def test_a_callback_can_stop_training():
    class StopAfterTwo(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    x, y = blobs()
    history = classifier().fit(x, y, epochs=10, callbacks=[StopAfterTwo()], verbose=0)
    assert history.epoch == [0, 1]


# --- divergence -------------------------------------------------------------------------

def test_nan_inputs_raise_floating_point_error_naming_epoch_and_batch():
    x, y = blobs(n=20)
    x[9, 1] = np.nan  # in the third batch of 4
    model = classifier(optimizer=Adam(learning_rate=0.003))
    with pytest.raises(FloatingPointError, match=r"epoch 1, batch 3\b.*learning rate.*0\.003"):
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)


def test_a_diverging_regression_raises_floating_point_error():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (64, 3)).astype(np.float32) * 100
    y = x @ np.array([[300.0], [-200.0], [100.0]], dtype=np.float32)
    model = nn.Sequential([Dense(16, activation="relu", input_dim=3), Dense(1)], seed=0)
    model.compile(optimizer=SGD(learning_rate=10.0), loss="mse")
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match=r"epoch \d+, batch \d+.*learning rate.*10"):
        model.fit(x, y, batch_size=8, epochs=50, verbose=0)


# --- bad inputs -------------------------------------------------------------------------

@pytest.mark.parametrize("call", ["fit", "evaluate", "train_on_batch"])
def test_training_before_compile(call):
    x, y = blobs()
    model = nn.Sequential([Dense(3, activation="softmax", input_dim=4)])
    with pytest.raises(RuntimeError, match=rf"compile.*{call}"):
        getattr(model, call)(x, y)


def test_compile_needs_a_loss_and_known_names():
    model = nn.Sequential([Dense(3, activation="softmax", input_dim=4)])
    with pytest.raises(ValueError, match="loss"):
        model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="'adamm'.*'adam'.*'sgd'"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="'sparse_crossentropy'.*'sparse_categorical_crossentropy'"):
        model.compile(optimizer="adam", loss="sparse_crossentropy")


def test_mismatched_input_width():
    x, y = blobs()
    model = classifier()
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, 4\).*\(60, 5\)"):
        model.fit(np.ones((60, 5)), y, verbose=0)
    model.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, 4\).*\(2, 3\)"):
        model.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, 4\)"):
        model.evaluate(np.ones((60, 4, 1)), y, verbose=0)


def test_mismatched_input_width_of_a_model_built_from_data():
    x, y = blobs()
    model = nn.Sequential([Dense(8, activation="relu"), Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, 4\).*\(2, 6\)"):
        model.predict(np.ones((2, 6)))


@pytest.mark.parametrize("bad", [3, 7, -1])
def test_labels_outside_the_classes(bad):
    x, y = blobs()
    y[5] = bad
    with pytest.raises(ValueError, match=rf"\[0, 3\).*Received label {bad}\b"):
        classifier().fit(x, y, verbose=0)


def test_x_and_y_rows_must_match():
    x, y = blobs()
    with pytest.raises(ValueError, match="x has 60 rows but y has 59"):
        classifier().fit(x, y[:59], verbose=0)
    with pytest.raises(ValueError, match="x has 60 rows but y has 61"):
        classifier().evaluate(x, np.append(y, 0), verbose=0)


@pytest.mark.parametrize("x", [np.array([["a", "b", "c", "d"]] * 2), np.array([[None, 1, 2, 3]] * 2, dtype=object)])
def test_non_numeric_inputs(x):
    with pytest.raises(TypeError, match=r"numeric inputs.*dtype"):
        classifier().fit(x, np.array([0, 1]), verbose=0)
    with pytest.raises(TypeError, match="numeric inputs"):
        classifier().predict(x)


@pytest.mark.parametrize("argument, value", [
    ("batch_size", 0), ("batch_size", -4), ("batch_size", 2.5), ("batch_size", "32"), ("batch_size", True),
    ("epochs", -1), ("epochs", 1.5), ("epochs", "3"),
    ("validation_split", 1.0), ("validation_split", 1.5), ("validation_split", -0.2),
])
def test_bad_fit_arguments(argument, value):
    x, y = blobs()
    with pytest.raises(ValueError, match=rf"{argument}.*Received: .*{re.escape(repr(value))}"):
        classifier().fit(x, y, verbose=0, **{argument: value})


def test_a_validation_split_too_small_for_the_data():
    # 1% of 20 rows rounds to no validation rows at all: say so at the call.
    x, y = blobs(n=20)
    with pytest.raises(ValueError, match="validation_split"):
        classifier().fit(x, y, validation_split=0.01, verbose=0)


def test_fitting_or_evaluating_no_samples_says_so():
    model = classifier()
    x, y = np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=int)
    with pytest.raises(ValueError, match=r"(?i)no samples|empty|0 samples|0 rows"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match=r"(?i)no samples|empty|0 samples|0 rows"):
        model.evaluate(x, y, verbose=0)


def test_bad_predict_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        classifier().predict(np.ones((3, 4)), batch_size=0)


def test_dense_acts_on_the_last_axis_and_a_missing_flatten_is_named():
    x = np.ones((5, 4, 4), dtype=np.float32)
    model = nn.Sequential([Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert model.predict(x, verbose=0).shape == (5, 4, 3)  # as Keras: one row per position
    with pytest.raises(ValueError, match=r"\(n, 4\).*Received shape \(5,\).*add a Flatten"):
        model.fit(x, np.zeros(5, dtype=int), verbose=0)
    model.fit(x, np.zeros((5, 4), dtype=int), verbose=0)  # a label per position is right
    stacked = nn.Sequential([Dense(3, input_shape=(4, 4))])
    stacked.build()
    assert stacked.output_shape == (4, 3)


def test_building_needs_layers_and_an_input_shape():
    with pytest.raises(ValueError, match="no layers"):
        nn.Sequential().build()
    with pytest.raises(ValueError, match="input_shape"):
        nn.Sequential([Dense(3)]).build()
    with pytest.raises(TypeError, match="nn layer"):
        nn.Sequential().add("dense")


# --- saving and loading -------------------------------------------------------------------

ARCHITECTURES = {
    "mlp": lambda: [Dense(8, activation="relu", input_dim=4), Dense(3, activation="softmax")],
    "flatten, dropout, activation layers": lambda: [
        Flatten(input_shape=(2, 2)), Dense(6, activation="tanh", use_bias=False), Dropout(0.3),
        LeakyReLU(alpha=0.1), Dense(5), Activation("sigmoid"), Dense(3, activation="softmax")],
    "dense with a LeakyReLU(alpha=0.1) activation": lambda: [
        Dense(8, activation=LeakyReLU(alpha=0.1), input_dim=4), Dense(3, activation="softmax")],
}


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_and_load_round_trip(architecture, dtype, tmp_path):
    rng = np.random.default_rng(0)
    model = nn.Sequential(ARCHITECTURES[architecture](), seed=0, dtype=dtype)
    model.build()
    model.set_weights([rng.standard_normal(w.shape) for w in model.get_weights()])  # no zero biases
    x = rng.standard_normal((10,) + model.input_shape)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = nn.load_model(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert loaded.dtype == model.dtype
    assert_same_weights(loaded.get_weights(), model.get_weights())
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.loss is None  # not compiled, so nothing to keep


def test_save_and_load_keeps_the_compile_settings(tmp_path):
    x, y = blobs()
    model = classifier(optimizer=Adam(learning_rate=0.003))
    model.fit(x, y, epochs=2, verbose=0)
    path = str(tmp_path / "trained.npz")  # a str path as well as a Path
    model.save(path)
    loaded = nn.load_model(path)
    assert type(loaded.optimizer) is Adam and loaded.optimizer.learning_rate == 0.003
    assert loaded.loss.name == "sparse_categorical_crossentropy" and loaded.loss_is_fused
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    loaded.fit(x, y, epochs=1, verbose=0)  # and it trains on


def test_the_saved_file_is_a_plain_npz(tmp_path):
    model = classifier()
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as archive:
        assert {"format", "config"} <= set(archive.files)
        assert str(archive["format"]) == "nn.Sequential/1"
        document = json.loads(str(archive["config"]))
        assert [layer["class_name"] for layer in document["model"]["layers"]] == ["Dense", "Dense"]
        kernel = archive["weight_0"]
    np.testing.assert_array_equal(kernel, model.get_weights()[0])


def test_save_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = classifier()
    model.save("model.npz")
    assert os.listdir(tmp_path) == ["model.npz"]
    assert_same_weights(nn.load_model("model.npz").get_weights(), model.get_weights())


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_saved_file_has_ordinary_permissions(tmp_path):
    # Written through a temporary file, the model must still get the mode any new file
    # gets (0o644 under the usual umask), not the owner-only 0o600 of a temporary file.
    ordinary = tmp_path / "ordinary"
    ordinary.write_bytes(b"")
    path = tmp_path / "model.npz"
    classifier().save(path)
    assert oct(path.stat().st_mode & 0o777) == oct(ordinary.stat().st_mode & 0o777)


def write_foreign_files(folder, model_path):
    """Files that are not nn models, by name: each must be refused."""
    np.savez(folder / "arrays.npz", a=np.arange(3), b=np.eye(2))
    np.savez(folder / "other_format.npz", format=np.array("keras/3"), config=np.array("{}"))
    (folder / "notes.txt").write_text("weights: 1 2 3\n")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (folder / "empty.npz").write_bytes(b"")
    content = model_path.read_bytes()
    (folder / "truncated.npz").write_bytes(content[: len(content) // 2])
    return ["arrays.npz", "other_format.npz", "notes.txt", "image.png", "empty.npz", "truncated.npz"]


def test_foreign_and_corrupt_files_are_refused(tmp_path):
    model_path = tmp_path / "model.npz"
    classifier().save(model_path)
    for name in write_foreign_files(tmp_path, model_path):
        path = tmp_path / name
        with pytest.raises(ValueError, match=re.escape(str(path))):
            nn.load_model(path)


def rewrite(source, destination, **changes):
    """Copy the arrays of the .npz ``source`` to ``destination``, changed (None deletes)."""
    with np.load(source, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays.update(changes)
    np.savez(destination, **{key: value for key, value in arrays.items() if value is not None})


def _config_without_model(document):
    return {key: value for key, value in document.items() if key != "model"}


def _config_with_unknown_layer(document):
    return {**document, "model": {**document["model"], "layers": [{"class_name": "Conv3D", "config": {}}]}}


@pytest.mark.parametrize("corruption", [
    "config not JSON", "config without the model", "unknown layer class",
    "a weight missing", "a weight too many", "a weight of the wrong shape",
])
def test_a_model_file_with_inconsistent_contents_is_refused(corruption, tmp_path):
    # The format marker is right, the rest is not: still a corrupt file, refused by name.
    good = tmp_path / "good.npz"
    classifier().save(good)
    with np.load(good, allow_pickle=False) as archive:
        document = json.loads(str(archive["config"]))
    changes = {
        "config not JSON": {"config": np.array("{'layers': [")},
        "config without the model": {"config": np.array(json.dumps(_config_without_model(document)))},
        "unknown layer class": {"config": np.array(json.dumps(_config_with_unknown_layer(document)))},
        "a weight missing": {"weight_3": None},
        "a weight too many": {"weight_4": np.zeros(3, dtype=np.float32)},
        "a weight of the wrong shape": {"weight_0": np.zeros((5, 8), dtype=np.float32)},
    }[corruption]
    path = tmp_path / "corrupt.npz"
    rewrite(good, path, **changes)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        nn.load_model(path)


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match=re.escape(str(tmp_path))):
        nn.load_model(tmp_path)


def test_a_missing_file_is_refused(tmp_path):
    path = tmp_path / "nowhere" / "model.npz"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        nn.load_model(path)


@pytest.mark.parametrize("failure", [OSError("No space left on device"), KeyboardInterrupt()])
def test_an_interrupted_save_leaves_the_old_file_and_no_debris(failure, tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = classifier(seed=1)
    old.save(path)
    content = path.read_bytes()

    def fail_midway(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half of a zip file")
        raise failure

    monkeypatch.setattr(np, "savez", fail_midway)
    with pytest.raises(type(failure)):
        classifier(seed=2).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == content
    assert os.listdir(tmp_path) == ["model.npz"]
    assert_same_weights(nn.load_model(path).get_weights(), old.get_weights())


# --- nn.Input and clear_session -----------------------------------------------------------

def test_input_declares_the_shape_and_is_not_a_layer_of_the_model(tmp_path):
    model = nn.Sequential([nn.Input(shape=(2, 2)), Flatten(), Dense(3, activation="softmax")],
                          seed=0)
    assert model.input_shape == (2, 2) and [type(layer) for layer in model.layers] == [Flatten, Dense]
    added = nn.Sequential(seed=0)
    added.add(nn.Input((2, 2)))
    added.add(Flatten())
    added.add(Dense(3, activation="softmax"))
    assert_same_weights(added.get_weights(), model.get_weights())
    model.save(tmp_path / "m.npz")
    loaded = nn.load_model(tmp_path / "m.npz")
    assert loaded.input_shape == (2, 2) and len(loaded.layers) == 2


@pytest.mark.parametrize("shape", [(), (0, 3), (None, 4), "28", (2.5,)])
def test_input_rejects_shapes_that_are_not_positive_integers(shape):
    with pytest.raises(ValueError, match="positive integers|Input needs"):
        nn.Input(shape=shape)


def test_input_can_only_come_first():
    model = nn.Sequential([Dense(3, input_dim=2)])
    with pytest.raises(ValueError, match="first element"):
        model.add(nn.Input((2,)))


def test_input_dtype_is_what_the_first_layer_receives():
    model = nn.Sequential([nn.Input((3,), dtype="float64"), Dense(2)], dtype="float32")
    assert model._prepare(np.ones((1, 3), np.float32)).dtype == np.float64


def test_clear_session_starts_the_default_names_again():
    Dense(2)
    nn.utils.clear_session()
    assert [Dense(2).name, Dense(2).name, Dropout(0.1).name] == ["dense", "dense_1", "dropout"]


def test_dense_softmax_after_return_sequences_trains_on_per_step_labels():
    """LSTM(return_sequences=True) then Dense(k, softmax): Keras's tagger, without wrappers."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4, 3))
    y = rng.integers(0, 3, size=(6, 4))
    model = nn.Sequential([nn.Input((4, 3)), nn.layers.LSTM(5, return_sequences=True),
                           Dense(3, activation="softmax")], seed=0, dtype="float64")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    assert model.loss_is_fused  # softmax's logits reach the cross-entropy
    errors = check_model(model, x, y)
    assert_gradients_match(errors, {f"{layer.name}/{key}" for layer in model.layers
                                    for key in layer.params})
    assert model.predict(x, verbose=0).shape == (6, 4, 3)
