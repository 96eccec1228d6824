"""Tests of nn.model_selection: folds worked out by hand, and cross_validate against a
manual loop over the folds."""
import numpy as np
import pytest

import nn
from nn.model_selection import KFold, StratifiedKFold, cross_validate


def _folds(splitter, x, y=None):
    return [(train.tolist(), val.tolist()) for train, val in splitter.split(x, y)]


def test_kfold_by_hand():
    # 7 samples, 3 folds: sizes 3, 2, 2 in consecutive blocks
    assert _folds(KFold(3), np.zeros((7, 2))) == [
        ([3, 4, 5, 6], [0, 1, 2]), ([0, 1, 2, 5, 6], [3, 4]), ([0, 1, 2, 3, 4], [5, 6])]
    assert KFold(3).get_n_splits() == 3


def test_kfold_shuffle_is_seeded_and_partitions():
    splitter = KFold(4, shuffle=True, seed=0)
    folds = _folds(splitter, np.zeros(10))
    assert folds == _folds(splitter, np.zeros(10)) == _folds(KFold(4, True, 0), np.zeros(10))
    assert folds != _folds(KFold(4, True, 1), np.zeros(10))
    assert folds != _folds(KFold(4), np.zeros(10))
    held_out = sorted(i for _, val in folds for i in val)
    assert held_out == list(range(10))
    assert sorted(len(val) for _, val in folds) == [2, 2, 3, 3]
    for train, val in folds:
        assert sorted(train + val) == list(range(10))


def test_stratified_kfold_by_hand():
    # 4 of class 0, 6 of class 1, ordered by class and dealt to 3 folds in turn:
    # positions 0..9 -> folds 0 1 2 0 1 2 0 1 2 0
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    folds = _folds(StratifiedKFold(3), np.zeros(10), y)
    assert [val for _, val in folds] == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    # one-hot labels give the same folds, and so do labels in a shuffled order
    assert _folds(StratifiedKFold(3), np.zeros(10), np.eye(2)[y]) == folds


def test_stratified_kfold_keeps_proportions():
    rng = np.random.default_rng(0)
    y = rng.choice(3, size=103, p=[0.6, 0.3, 0.1])
    splitter = StratifiedKFold(5, shuffle=True, seed=3)
    folds = list(splitter.split(np.zeros(103), y))
    counts = np.array([np.bincount(y[val], minlength=3) for _, val in folds])
    assert np.all(counts.max(axis=0) - counts.min(axis=0) <= 1)
    sizes = counts.sum(axis=1)
    assert sizes.max() - sizes.min() <= 1 and sizes.sum() == 103
    assert [v.tolist() for _, v in folds] == [v.tolist() for _, v in splitter.split(y, y)]


def test_splitters_reject_bad_input():
    for bad in (1, 0, 2.5, True):
        with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
            KFold(bad)
    with pytest.raises(ValueError, match=r"n_splits=5 is greater than the number of samples \(3\)"):
        list(KFold(5).split(np.zeros(3)))
    with pytest.raises(ValueError, match=r"samples of class 1 \(2\)"):
        list(StratifiedKFold(3).split(np.zeros(8), [0, 0, 0, 0, 0, 0, 1, 1]))
    with pytest.raises(ValueError, match="needs the labels"):
        list(StratifiedKFold(2).split(np.zeros(4), None))
    with pytest.raises(ValueError, match="x has 4 rows but y has 3"):
        list(KFold(2).split(np.zeros(4), np.zeros(3)))


def test_fold_counts_match_scikit_learn():
    model_selection = pytest.importorskip("sklearn.model_selection")
    x = np.zeros(23)
    for (train, val), (their_train, their_val) in zip(
            KFold(4).split(x), model_selection.KFold(4).split(x)):
        np.testing.assert_array_equal(val, their_val)
        np.testing.assert_array_equal(train, their_train)
    y = np.random.default_rng(1).permutation(np.repeat([0, 1, 2], [11, 7, 5]))
    ours = [np.bincount(y[val], minlength=3) for _, val in StratifiedKFold(4).split(x, y)]
    theirs = [np.bincount(y[val], minlength=3)
              for _, val in model_selection.StratifiedKFold(4).split(x, y)]
    np.testing.assert_array_equal(sorted(map(tuple, ours)), sorted(map(tuple, theirs)))


# --- cross_validate ----------------------------------------------------------------------

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 2)).astype(np.float32)
Y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
ORDER = np.argsort(Y, kind="stable")  # sorted by class: unshuffled KFold folds are one-class
X_SORTED, Y_SORTED = X[ORDER], Y[ORDER]


def build_model():
    model = nn.Sequential([nn.Input((2,)), nn.layers.Dense(8, activation="tanh"),
                           nn.layers.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer=nn.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _manual(x, y, splitter, epochs):
    scores = {"loss": [], "accuracy": []}
    for train, val in splitter.split(x, y):
        model = build_model()
        model.fit(x[train], y[train], epochs=epochs, batch_size=16, verbose=0)
        loss, accuracy = model.evaluate(x[val], y[val], batch_size=16, verbose=0)
        scores["loss"].append(loss)
        scores["accuracy"].append(accuracy)
    return scores


def test_cross_validate_equals_a_manual_loop_and_builds_once_per_fold():
    calls = []

    def counting_build():
        calls.append(1)
        return build_model()

    splitter = KFold(3, shuffle=True, seed=0)
    result = cross_validate(counting_build, X, Y, cv=splitter, epochs=20, batch_size=16)
    assert len(calls) == 3
    assert set(result) == {"loss", "accuracy"} and result["accuracy"].shape == (3,)
    expected = _manual(X, Y, splitter, 20)
    np.testing.assert_allclose(result["loss"], expected["loss"])
    np.testing.assert_allclose(result["accuracy"], expected["accuracy"])
    assert result["accuracy"].mean() > 0.8  # a linearly separable problem is learned


def test_cross_validate_stratifies_a_classifier_given_a_number():
    result = cross_validate(build_model, X_SORTED, Y_SORTED, cv=3, epochs=5, batch_size=16)
    stratified = _manual(X_SORTED, Y_SORTED, StratifiedKFold(3), 5)
    np.testing.assert_allclose(result["loss"], stratified["loss"])
    unstratified = _manual(X_SORTED, Y_SORTED, KFold(3), 5)
    assert not np.allclose(result["loss"], unstratified["loss"])


def test_cross_validate_splits_sample_weight():
    weights = np.where(Y == 1, 2.0, 0.5)
    result = cross_validate(build_model, X, Y, cv=KFold(2), epochs=3, batch_size=16,
                            sample_weight=weights)
    expected = []
    for train, val in KFold(2).split(X):
        model = build_model()
        model.fit(X[train], Y[train], epochs=3, batch_size=16, verbose=0,
                  sample_weight=weights[train])
        expected.append(model.evaluate(X[val], Y[val], batch_size=16, verbose=0,
                                       sample_weight=weights[val])[0])
    np.testing.assert_allclose(result["loss"], expected)


def test_cross_validate_rejects_a_reused_or_uncompiled_model():
    shared = build_model()
    with pytest.raises(ValueError, match="same model as for an earlier fold"):
        cross_validate(lambda: shared, X, Y, cv=2)

    def uncompiled():
        return nn.Sequential([nn.Input((2,)), nn.layers.Dense(2)])

    with pytest.raises(ValueError, match="must return a compiled nn model"):
        cross_validate(uncompiled, X, Y, cv=2)
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        cross_validate(build_model, X, Y, cv=1)
