"""A Keras program with an L2 kernel penalty, batch normalization and dropout, run through
nn with ``keras`` replaced by ``nn``: it must run unchanged, learn, and save and load bit
for bit.

Needs the real MNIST files: from the mirror in NN_MNIST_MIRROR, else from the shared
folder beside the repository; skipped when neither is there (as in test_mnist.py).
"""
import os
from pathlib import Path

import numpy as np
import pytest

import nn

SHARED_MNIST = os.environ.get("NN_MNIST_MIRROR") or str(
    Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")

needs_mnist = pytest.mark.skipif(
    "NN_MNIST_MIRROR" not in os.environ and not Path(SHARED_MNIST).is_dir(),
    reason=f"no MNIST files at {SHARED_MNIST}; set NN_MNIST_MIRROR")


@needs_mnist
def test_keras_program_with_l2_batch_normalization_and_dropout(monkeypatch, tmp_path):
    monkeypatch.setenv("NN_MNIST_MIRROR", SHARED_MNIST)
    keras = nn

    # --- the program, as written for Keras, with `keras` replaced by `nn` ---
    from nn import layers, regularizers

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train[:6000].astype("float32") / 255
    y_train = y_train[:6000]
    x_test = x_test[:2000].astype("float32") / 255
    y_test = y_test[:2000]

    model = keras.Sequential([
        keras.Input(shape=(28, 28)),
        layers.Flatten(),
        layers.Dense(128, kernel_regularizer=regularizers.l2(1e-4)),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.Dropout(0.3),
        layers.Dense(10, activation="softmax", kernel_regularizer=keras.regularizers.l2(1e-4)),
    ], seed=0)  # the one addition: a seed, so that the test is reproducible
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=3, batch_size=64, validation_split=0.1,
                        verbose=0)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    # --- end of the program ---

    assert model.count_params() == 784 * 128 + 128 + 4 * 128 + 129 * 10
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9, history.history
    assert test_accuracy > 0.88, test_accuracy  # 0.90 measured; the first test digits are harder
    penalties = history.history["regularization_loss"]
    assert 0 < penalties[-1] < 0.1 * history.history["loss"][-1]
    # evaluate's loss includes the penalty of the final weights, as in Keras
    data_loss = model.loss(y_test, model.predict(x_test))
    assert test_loss == pytest.approx(data_loss + model.regularization_penalty(), rel=1e-5)

    model.save(tmp_path / "model.npz")
    loaded = keras.models.load_model(tmp_path / "model.npz")
    assert loaded.get_config() == model.get_config()
    for ours, theirs in zip(model.get_weights(), loaded.get_weights()):
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
    np.testing.assert_array_equal(loaded.predict(x_test), model.predict(x_test))
    assert loaded.evaluate(x_test, y_test, verbose=0) == [test_loss, test_accuracy]
