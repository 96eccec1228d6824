"""Tests of nn.layers.Embedding: the lookup, its scatter-add gradient, integer inputs at the
model's boundary, errors for ids that are not ids, saving."""
import numpy as np
import pytest
from helpers import TOLERANCE

import nn
from nn.gradcheck import check_model, numerical_gradient, rel_error
from nn.layers import LSTM, Dense, Embedding, Flatten
from nn.layers.embedding import scatter_add_rows


def test_forward_is_a_row_lookup():
    layer = Embedding(7, 3, seed=0)
    ids = np.array([[0, 6, 6], [2, 0, 5]])
    y = layer(ids)
    assert y.shape == (2, 3, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y, layer.params["embeddings"][ids])
    assert layer.params["embeddings"].shape == (7, 3)
    assert np.abs(layer.params["embeddings"]).max() <= 0.05  # Keras' 'uniform': U(-0.05, 0.05)


@pytest.mark.parametrize("shape", [(4,), (3, 5), (2, 3, 4)])
def test_gradient_of_the_embeddings(shape):
    rng = np.random.default_rng(len(shape))
    layer = Embedding(6, 4, dtype="float64", seed=0)
    ids = rng.integers(0, 5, shape)  # id 5 unused: its gradient must be exactly 0
    y = layer(ids)
    grad_output = rng.standard_normal(y.shape)
    assert layer.backward(grad_output) is None  # ids have no gradient
    numeric = numerical_gradient(lambda: layer.forward(ids).copy(), layer.params["embeddings"],
                                 grad_output)
    assert rel_error(layer.grads["embeddings"], numeric) < TOLERANCE
    np.testing.assert_array_equal(layer.grads["embeddings"][5], 0)


def test_a_wrong_gradient_fails_the_check():
    # The classic bug: assigning rows instead of adding them (repeated ids overwrite).
    rng = np.random.default_rng(1)
    layer = Embedding(4, 3, dtype="float64", seed=0)
    ids = np.array([[1, 1, 2, 1]])
    grad_output = rng.standard_normal(layer(ids).shape)
    wrong = np.zeros((4, 3))
    wrong[ids.reshape(-1)] = grad_output.reshape(-1, 3)
    numeric = numerical_gradient(lambda: layer.forward(ids).copy(), layer.params["embeddings"],
                                 grad_output)
    assert rel_error(wrong, numeric) > 1e-2


def test_scatter_add_rows_equals_np_add_at():
    rng = np.random.default_rng(2)
    for ids in [rng.integers(0, 9, 50), np.array([3, 3, 3]), np.array([], dtype=int)]:
        rows = rng.standard_normal((len(ids), 4))
        expected = np.zeros((9, 4))
        np.add.at(expected, ids, rows)
        out = np.full((9, 4), 7.0)  # whatever was there is overwritten
        np.testing.assert_allclose(scatter_add_rows(out, ids, rows), expected, rtol=1e-12,
                                   atol=1e-15)


def test_backward_writes_the_gradient_once_per_call():
    layer = Embedding(5, 2, dtype="float64", seed=0)
    ids = np.array([[1, 2, 1]])
    layer(ids)
    grad_output = np.ones((1, 3, 2))
    layer.backward(grad_output)
    first = layer.grads["embeddings"].copy()
    layer.backward(grad_output)
    np.testing.assert_array_equal(layer.grads["embeddings"], first)
    np.testing.assert_array_equal(first[1], [2, 2])


def test_whole_valued_floats_are_ids_too():
    layer = Embedding(5, 2, seed=0)
    np.testing.assert_array_equal(layer(np.array([[1.0, 4.0]])), layer(np.array([[1, 4]])))


@pytest.mark.parametrize("ids, error, message", [
    (np.array([[0.5, 1.0]]), TypeError, r"integer ids.*float64 with the value 0.5"),
    (np.array([[np.nan, 1.0]]), TypeError, r"integer ids.*nan"),
    (np.array([["a", "b"]]), TypeError, r"integer ids.*<U1"),
    (np.array([[0, 5]]), ValueError, r"ids in \[0, 5\).*input_dim=5.*Received id 5"),
    (np.array([[-1, 2]]), ValueError, r"Received id -1"),
])
def test_ids_that_are_not_ids_are_refused(ids, error, message):
    with pytest.raises(error, match=message):
        Embedding(5, 2, seed=0)(ids)


@pytest.mark.parametrize("argument, value", [("input_dim", 0), ("output_dim", -2),
                                             ("input_dim", 2.5)])
def test_bad_sizes(argument, value):
    sizes = {"input_dim": 5, "output_dim": 2, argument: value}
    with pytest.raises(ValueError, match=rf"{argument}.*positive integer.*{value!r}"):
        Embedding(**sizes)


def test_mask_zero_is_refused_and_input_length_sets_the_shape():
    with pytest.raises(ValueError, match=r"mask_zero=True\) is not implemented"):
        Embedding(5, 2, mask_zero=True)
    layer = Embedding(5, 2, input_length=7)
    assert layer.input_shape == (7,)
    assert layer.compute_output_shape((7,)) == (7, 2)


# --- in a model ---------------------------------------------------------------------------

def id_model(first=None, **kwargs):
    layers = [first] if first is not None else []
    return nn.Sequential(layers + [Embedding(10, 4, **kwargs), LSTM(3),
                                   Dense(2, activation="softmax")], seed=0)


def test_a_model_starting_with_an_embedding_takes_integers():
    model = id_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ids = np.random.default_rng(3).integers(0, 10, (16, 6))
    assert model.input_dtype == np.int64
    assert model._prepare(ids).dtype == np.int64  # not converted to float32
    model.fit(ids, ids[:, 0] % 2, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.predict(ids.astype(np.float64)), model.predict(ids))
    assert model.predict(ids.astype(np.uint8)).shape == (16, 2)


def test_nn_input_int32_is_respected():
    model = id_model(nn.Input((6,), dtype="int32"))
    assert model.input_dtype == np.int32
    assert model._prepare(np.zeros((2, 6))).dtype == np.int32
    assert model.predict(np.zeros((2, 6), int)).shape == (2, 2)


def test_fractional_or_out_of_range_inputs_are_refused_at_the_model():
    model = id_model()
    with pytest.raises(TypeError, match=r"expects integer inputs.*Received dtype float64 with "
                                        r"the value 2.5"):
        model.predict(np.full((2, 6), 2.5))
    with pytest.raises(ValueError, match=r"\[0, 10\).*Received id 10"):
        model.predict(np.full((2, 6), 10))


def test_model_gradients_through_the_embedding():
    rng = np.random.default_rng(4)
    model = nn.Sequential([Embedding(7, 3), Flatten(), Dense(2, activation="softmax")], seed=4,
                          dtype="float64")
    model.compile(loss="sparse_categorical_crossentropy")
    ids = rng.integers(0, 7, (5, 4))
    errors = check_model(model, ids, rng.integers(0, 2, 5))
    assert max(errors.values()) < TOLERANCE and len(errors) == 3


def test_save_and_load_round_trip_bit_for_bit(tmp_path):
    rng = np.random.default_rng(5)
    model = id_model(embeddings_initializer="normal")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    ids = rng.integers(0, 10, (12, 6))
    model.fit(ids, ids[:, 0] % 2, epochs=1, verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = nn.load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.layers[0].params["embeddings"],
                                  model.layers[0].params["embeddings"])
    np.testing.assert_array_equal(loaded.predict(ids), model.predict(ids))
    assert loaded.layers[0].get_config() == model.layers[0].get_config()
    assert loaded.input_dtype == np.int64
