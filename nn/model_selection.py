"""Model selection: k-fold splits and cross-validation, as scikit-learn names them.

With few data, one validation split is a noisy judge. k-fold cross-validation splits the
n samples into k folds, trains k models, each on k - 1 folds, and scores each on the fold it
did not see: every sample is held out exactly once, and the k scores show the spread.
"""
import numpy as np

from .callbacks.progress import format_logs
from .checks import check_same_rows
from .losses import check_sample_weight
from .metrics import _as_labels


def _check_n_splits(n_splits):
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) \
            or n_splits < 2:
        raise ValueError("n_splits must be an integer >= 2 (each fold is held out while the "
                         f"others train). Received: n_splits={n_splits!r}")
    return int(n_splits)


class KFold:
    """Split the samples into n_splits folds; each is the validation set once.

    Fold sizes: the first n % n_splits folds hold n // n_splits + 1 samples, the others
    n // n_splits (as scikit-learn's KFold). Without shuffle the folds are consecutive
    blocks of rows; with shuffle=True the rows are permuted first by
    np.random.default_rng(seed), and the same seed gives the same folds on every call.
    """

    def __init__(self, n_splits=5, shuffle=False, seed=None):
        self.n_splits = _check_n_splits(n_splits)
        self.shuffle = bool(shuffle)
        self.seed = seed

    def get_n_splits(self, x=None, y=None):
        """The number of folds (scikit-learn's name)."""
        return self.n_splits

    def split(self, x, y=None):
        """Yield (train_index, val_index) for each fold: sorted (n_train,) and (n_val,) row
        indices into x, together covering every row once."""
        count = _num_samples(x, y)
        if self.n_splits > count:
            raise ValueError(f"n_splits={self.n_splits} is greater than the number of "
                             f"samples ({count}): every fold needs at least one.")
        rows = self._rng().permutation(count) if self.shuffle else np.arange(count)
        sizes = np.full(self.n_splits, count // self.n_splits)
        sizes[:count % self.n_splits] += 1
        fold_of = np.empty(count, np.intp)
        fold_of[rows] = np.repeat(np.arange(self.n_splits), sizes)
        return _folds(fold_of, self.n_splits)

    def _rng(self):
        if isinstance(self.seed, np.random.Generator):
            return self.seed
        return np.random.default_rng(self.seed)

    def __repr__(self):
        return (f"{type(self).__name__}(n_splits={self.n_splits}, shuffle={self.shuffle}, "
                f"seed={self.seed!r})")


class StratifiedKFold(KFold):
    """K-fold whose folds keep the class proportions of y.

    The samples are ordered by class (shuffled within each class if shuffle=True) and dealt
    to the folds in turn, like cards: each class's count in a fold differs from its count in
    any other by at most one, and so do the fold sizes. Every class needs at least n_splits
    samples. y: (n,) integer labels or (n, k) one-hot.
    """

    def split(self, x, y):
        """Yield (train_index, val_index) for each fold, as KFold.split."""
        if y is None:
            raise ValueError("StratifiedKFold.split needs the labels: split(x, y).")
        count = _num_samples(x, y)
        y = np.asarray(y)
        labels = _as_labels(y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y, "y")
        classes, class_counts = np.unique(labels, return_counts=True)
        if self.n_splits > class_counts.min():
            smallest = int(class_counts.argmin())
            raise ValueError(
                f"n_splits={self.n_splits} is greater than the number of samples of class "
                f"{classes[smallest]} ({class_counts[smallest]}): every fold needs each "
                "class. Use fewer splits (or KFold).")
        rows = self._rng().permutation(count) if self.shuffle else np.arange(count)
        rows = rows[np.argsort(labels[rows], kind="stable")]
        fold_of = np.empty(count, np.intp)
        fold_of[rows] = np.arange(count) % self.n_splits
        return _folds(fold_of, self.n_splits)


def _num_samples(x, y):
    count = len(x)
    if y is not None:
        check_same_rows(x, y)
    return count


def _folds(fold_of, n_splits):
    for fold in range(n_splits):
        yield np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)


def _is_classifier(model):
    return "crossentropy" in str(getattr(model.loss, "name", ""))


def _fresh_model(build_model, earlier):
    model = build_model()
    if getattr(model, "loss", None) is None or not hasattr(model, "evaluate"):
        raise ValueError("build_model() must return a compiled nn model (call "
                         f"model.compile(...) inside it). Received: {model!r}")
    if any(model is other for other in earlier):
        raise ValueError("build_model() returned the same model as for an earlier fold. It "
                         "must build a new model each call, or each fold would start from "
                         "weights trained on the others' held-out data.")
    earlier.append(model)
    return model


def cross_validate(build_model, x, y, cv=5, epochs=1, batch_size=32, verbose=0,
                   sample_weight=None, **fit_kwargs):
    """Train a fresh model on each fold's training rows and evaluate it on the held-out rows.

    build_model() -> a new compiled model, called once per fold. cv: a number of folds, or
    a KFold / StratifiedKFold (anything with split(x, y)). A number gives
    StratifiedKFold(cv) when the model's loss is a cross-entropy (a classifier, as
    scikit-learn does) and KFold(cv) otherwise, both unshuffled: pass
    KFold(cv, shuffle=True, seed=...) to shuffle. sample_weight: (n,) weights, split with
    the rows for fit and evaluate; other keyword arguments go to fit.

    Returns {name: (n_splits,) array}: the loss and every compiled metric of each fold's
    model on its held-out fold, as model.evaluate(..., return_dict=True) names them.
    With verbose, fit prints its progress and each fold prints its held-out scores.
    """
    x, y = np.asarray(x), np.asarray(y)
    check_same_rows(x, y)
    sample_weight = check_sample_weight(sample_weight, len(x))
    models = []
    first = _fresh_model(build_model, models)
    if not hasattr(cv, "split"):
        cv = (StratifiedKFold if _is_classifier(first) else KFold)(_check_n_splits(cv))
    splits = list(cv.split(x, y))
    scores = {}
    for fold, (train, val) in enumerate(splits):
        model = first if fold == 0 else _fresh_model(build_model, models)
        train_weight, val_weight = ((None, None) if sample_weight is None
                                    else (sample_weight[train], sample_weight[val]))
        model.fit(x[train], y[train], epochs=epochs, batch_size=batch_size, verbose=verbose,
                  sample_weight=train_weight, **fit_kwargs)
        logs = model.evaluate(x[val], y[val], batch_size=batch_size, verbose=0,
                              sample_weight=val_weight, return_dict=True)
        if verbose:
            print(f"Fold {fold + 1}/{len(splits)} - {format_logs(logs)}")
        for name, value in logs.items():
            scores.setdefault(name, []).append(value)
    return {name: np.array(values) for name, values in scores.items()}
