import numpy as np
import pytest

from nn import data


# --- batches ---------------------------------------------------------------

def test_batches_sizes_and_order_without_shuffle():
    x = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    result = list(data.batches(x, y, batch_size=4))
    assert [len(x_batch) for x_batch, _ in result] == [4, 4, 2]
    assert [y_batch.tolist() for _, y_batch in result] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    for x_batch, y_batch in result:
        np.testing.assert_array_equal(x_batch, x[y_batch])


def test_batches_without_y_yields_arrays():
    x = np.zeros((7, 3, 2))
    shapes = [x_batch.shape for x_batch in data.batches(x, batch_size=3)]
    assert shapes == [(3, 3, 2), (3, 3, 2), (1, 3, 2)]


def test_batch_size_larger_than_dataset_gives_one_batch():
    (x_batch,) = list(data.batches(np.arange(5), batch_size=32))
    np.testing.assert_array_equal(x_batch, np.arange(5))


def test_shuffled_batches_cover_every_row_once_and_keep_pairs():
    x = np.arange(103) * 10
    y = np.arange(103)
    result = list(data.batches(x, y, batch_size=10, shuffle=True, rng=0))
    seen = np.concatenate([y_batch for _, y_batch in result])
    assert sorted(seen.tolist()) == list(range(103))
    assert not np.array_equal(seen, y), "shuffle=True should change the order"
    for x_batch, y_batch in result:
        np.testing.assert_array_equal(x_batch, 10 * y_batch)
    assert len(result[-1][0]) == 3


def test_shuffle_is_seeded():
    x = np.arange(50)
    first = np.concatenate(list(data.batches(x, batch_size=8, shuffle=True, rng=1)))
    again = np.concatenate(list(data.batches(x, batch_size=8, shuffle=True, rng=1)))
    other = np.concatenate(list(data.batches(x, batch_size=8, shuffle=True, rng=2)))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_shuffle_draws_a_new_permutation_from_a_generator_each_epoch():
    x = np.arange(50)
    rng = np.random.default_rng(0)
    epoch_1 = np.concatenate(list(data.batches(x, batch_size=8, shuffle=True, rng=rng)))
    epoch_2 = np.concatenate(list(data.batches(x, batch_size=8, shuffle=True, rng=rng)))
    assert not np.array_equal(epoch_1, epoch_2)
    assert sorted(epoch_2.tolist()) == list(range(50))


def test_batches_are_copies():
    x = np.zeros((4, 2))
    for x_batch in data.batches(x, batch_size=2):
        x_batch += 1
    assert not x.any()


def test_batches_rejects_mismatched_lengths_at_the_call():
    with pytest.raises(ValueError, match="x has 100 rows but y has 99"):
        data.batches(np.zeros((100, 2)), np.zeros(99))  # no iteration needed


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, "32"])
def test_batches_rejects_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match=f"Received: batch_size={batch_size!r}"):
        data.batches(np.zeros((10, 2)), batch_size=batch_size)


# --- train_validation_split -------------------------------------------------

def test_split_sizes_and_pairs():
    x = np.arange(200).reshape(100, 2)
    y = np.arange(100)
    (x_train, y_train), (x_val, y_val) = data.train_validation_split(x, y, 0.2, rng=0)
    assert x_train.shape == (80, 2) and y_train.shape == (80,)
    assert x_val.shape == (20, 2) and y_val.shape == (20,)
    assert sorted(np.concatenate([y_train, y_val]).tolist()) == list(range(100))
    np.testing.assert_array_equal(x_train, x[y_train])
    np.testing.assert_array_equal(x_val, x[y_val])
    assert not np.array_equal(y_val, np.arange(80, 100)), "shuffle=True should mix the rows"


def test_split_without_shuffle_holds_out_the_last_rows():
    x = np.arange(10) * 10
    y = np.arange(10)
    (x_train, y_train), (x_val, y_val) = data.train_validation_split(
        x, y, validation_fraction=0.3, shuffle=False)
    np.testing.assert_array_equal(y_train, np.arange(7))
    np.testing.assert_array_equal(y_val, [7, 8, 9])
    np.testing.assert_array_equal(x_val, [70, 80, 90])


def test_split_is_seeded():
    x, y = np.arange(30), np.arange(30)
    first = data.train_validation_split(x, y, rng=5)[1][1]
    again = data.train_validation_split(x, y, rng=5)[1][1]
    other = data.train_validation_split(x, y, rng=6)[1][1]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5])
def test_split_rejects_fraction_outside_0_1(fraction):
    with pytest.raises(ValueError, match=f"Received: validation_fraction={fraction!r}"):
        data.train_validation_split(np.zeros(10), np.zeros(10), validation_fraction=fraction)


def test_split_rejects_an_empty_part():
    with pytest.raises(ValueError, match="both parts must be non-empty"):
        data.train_validation_split(np.zeros(3), np.zeros(3), validation_fraction=0.1)


def test_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="x has 10 rows but y has 9"):
        data.train_validation_split(np.zeros(10), np.zeros(9))


# --- one_hot ------------------------------------------------------------------

def test_one_hot_values_and_dtype():
    encoded = data.one_hot(np.array([2, 0, 1, 2]), num_classes=4)
    expected = [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    np.testing.assert_array_equal(encoded, expected)
    assert encoded.dtype == np.float32


def test_one_hot_infers_num_classes_and_inverts_argmax():
    labels = np.random.default_rng(0).integers(0, 10, size=50)
    labels[0] = 9
    encoded = data.one_hot(labels, dtype=np.float64)
    assert encoded.shape == (50, 10) and encoded.dtype == np.float64
    np.testing.assert_array_equal(encoded.argmax(axis=1), labels)
    np.testing.assert_array_equal(encoded.sum(axis=1), np.ones(50))


def test_one_hot_accepts_a_list_and_uint8():
    np.testing.assert_array_equal(data.one_hot([1, 0]), [[0, 1], [1, 0]])
    assert data.one_hot(np.array([3], dtype=np.uint8), 5).shape == (1, 5)


def test_one_hot_rejects_non_integer_labels():
    with pytest.raises(TypeError, match="float64"):
        data.one_hot(np.array([0.0, 1.0]))


@pytest.mark.parametrize("labels, bad", [([0, 3, 1], 3), ([0, -1, 2], -1)])
def test_one_hot_rejects_labels_out_of_range(labels, bad):
    with pytest.raises(ValueError, match=rf"label {bad} is outside the range \[0, 3\)"):
        data.one_hot(labels, num_classes=3)


def test_one_hot_rejects_bad_num_classes():
    with pytest.raises(ValueError, match="Received: num_classes=0"):
        data.one_hot([0], num_classes=0)


# --- toy datasets -------------------------------------------------------------

TOY_SETS = {
    "xor": (data.xor, 2),
    "two_moons": (data.two_moons, 2),
    "spirals": (data.spirals, 2),
    "regression_1d": (data.regression_1d, 1),
}


@pytest.mark.parametrize("name", TOY_SETS)
def test_toy_set_shapes_and_dtypes(name):
    make, n_features = TOY_SETS[name]
    x, y = make(n_samples=61, rng=0)
    assert x.shape == (61, n_features) and x.dtype == np.float32
    if name == "regression_1d":
        assert y.shape == (61, 1) and y.dtype == np.float32
    else:
        assert y.shape == (61,) and y.dtype == np.int64


@pytest.mark.parametrize("name", TOY_SETS)
def test_toy_set_is_seeded(name):
    make, _ = TOY_SETS[name]
    x_1, y_1 = make(rng=3)
    x_2, y_2 = make(rng=np.random.default_rng(3))
    x_3, _ = make(rng=4)
    np.testing.assert_array_equal(x_1, x_2)
    np.testing.assert_array_equal(y_1, y_2)
    assert not np.array_equal(x_1, x_3)


@pytest.mark.parametrize("make, n_classes", [
    (data.xor, 2), (data.two_moons, 2), (lambda **kw: data.spirals(n_classes=4, **kw), 4),
])
@pytest.mark.parametrize("n_samples", [200, 203])
def test_toy_classes_are_balanced_and_shuffled(make, n_classes, n_samples):
    _, y = make(n_samples=n_samples, rng=0)
    counts = np.bincount(y, minlength=n_classes)
    assert len(counts) == n_classes
    assert counts.max() - counts.min() <= 1
    assert not np.array_equal(y, np.sort(y)), "rows should come in random order"


@pytest.mark.parametrize("name", TOY_SETS)
@pytest.mark.parametrize("arguments, message", [
    ({"n_samples": 0}, "n_samples=0"), ({"noise": -0.5}, "noise=-0.5"),
])
def test_toy_set_rejects_bad_arguments(name, arguments, message):
    make, _ = TOY_SETS[name]
    with pytest.raises(ValueError, match=message):
        make(**arguments)


def test_xor_labels_match_the_nearest_corner():
    x, y = data.xor(n_samples=400, noise=0.1, rng=0)
    corner = np.rint(x).astype(int).clip(0, 1)
    assert np.mean((corner[:, 0] ^ corner[:, 1]) == y) > 0.99


def test_two_moons_without_noise_lie_on_their_half_circles():
    x, y = data.two_moons(n_samples=100, noise=0.0, rng=0)
    upper, lower = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1, atol=1e-6)
    np.testing.assert_allclose(np.hypot(*(lower - [1, 0.5]).T), 1, atol=1e-6)
    assert (upper[:, 1] >= 0).all() and (lower[:, 1] <= 0.5).all()


def test_spirals_arms_follow_their_formula():
    x, y = data.spirals(n_samples=300, n_classes=3, noise=0.0, rng=0)
    radius = np.hypot(x[:, 0], x[:, 1])
    assert radius.max() <= 1
    expected = 4 * radius + 2 * np.pi * y / 3
    predicted = np.stack([radius * np.sin(expected), radius * np.cos(expected)], axis=1)
    np.testing.assert_allclose(x, predicted, atol=1e-5)


def test_regression_1d_samples_the_function():
    x, y = data.regression_1d(n_samples=500, noise=0.0, rng=0, function=np.cos)
    assert x.min() >= -np.pi and x.max() <= np.pi and np.ptp(x) > 6
    np.testing.assert_allclose(y, np.cos(x), atol=1e-6)
    _, noisy = data.regression_1d(n_samples=500, noise=0.5, rng=0, function=np.cos)
    assert 0.4 < np.std(noisy - y) < 0.6


# --- logic gates ----------------------------------------------------------------

@pytest.mark.parametrize("name, outputs", [
    ("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("xor", [0, 1, 1, 0]), ("nand", [1, 1, 1, 0]),
])
def test_logic_gate_truth_tables(name, outputs):
    x, y = data.logic_gate(name)
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(y, outputs)


def test_logic_gate_returns_fresh_arrays():
    x, _ = data.logic_gate("and")
    x[:] = 7
    assert data.logic_gate("and")[0].max() == 1


def test_logic_gate_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="'nor'.*'and', 'or', 'xor', 'nand'"):
        data.logic_gate("nor")
