"""The Keras beginner MNIST program, run through nn as a reader would after replacing
``keras`` by ``nn``: the library must reach Keras' accuracy with Keras' code.

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
def test_keras_beginner_mnist_program(monkeypatch):
    monkeypatch.setenv("NN_MNIST_MIRROR", SHARED_MNIST)

    # --- the program, as written for Keras, with `keras` replaced by `nn` ---
    mnist = nn.datasets.mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train, x_test = x_train / 255.0, x_test / 255.0

    model = nn.Sequential([
        nn.layers.Flatten(input_shape=(28, 28)),
        nn.layers.Dense(128, activation="relu"),
        nn.layers.Dense(10, activation="softmax"),
    ], seed=0)  # the one addition: a seed, so that the test is reproducible
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    # --- end of the program ---

    assert model.count_params() == 101_770
    assert len(history.history["loss"]) == 5
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.98
    assert test_loss < 0.1
    assert test_accuracy >= 0.975, f"test accuracy {test_accuracy:.4f} (Keras gets about 0.977)"
    probabilities = model.predict(x_test[:100])
    assert probabilities.shape == (100, 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), np.ones(100), rtol=1e-5)
