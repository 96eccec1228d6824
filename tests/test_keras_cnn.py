"""Keras' "simple MNIST convnet" program, run through nn with the imports replaced.

The program is the keras.io example (Conv2D, MaxPooling2D, Flatten, Dropout, Dense,
keras.utils.to_categorical, categorical cross-entropy, validation_split) cut down to run
in seconds: 2,000 training images, 2 epochs of batches of 32 (Keras' default batch size;
the example uses 128 for 15 epochs), 16 and 32 filters instead of 32 and 64.
Needs the real MNIST files (NN_MNIST_MIRROR, else the shared folder beside the
repository); skipped without them. Also: to_categorical itself.
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
def test_the_keras_mnist_convnet_program_runs_and_learns(monkeypatch):
    monkeypatch.setenv("NN_MNIST_MIRROR", SHARED_MNIST)
    # --- the program, as written for Keras, with the two imports replaced ---
    import nn as keras
    from nn import layers

    num_classes = 10
    input_shape = (28, 28, 1)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train, y_train = x_train[:2000], y_train[:2000]  # cut down: 2,000 images
    x_test, y_test = x_test[:1000], y_test[:1000]
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),  # Keras: 32
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),  # Keras: 64
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ],
        seed=0,  # the one addition: a seed, so that the test is reproducible
    )
    lines = []
    model.summary(print_fn=lines.append)
    batch_size = 32  # Keras: 128
    epochs = 2  # Keras: 15
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                        validation_split=0.1, verbose=0, seed=0)
    score = model.evaluate(x_test, y_test, verbose=0)
    # --- end of the program ---

    assert y_train.shape == (2000, 10) and x_train.shape == (2000, 28, 28, 1)
    assert "(None, 5, 5, 32)" in lines[0] and "Total params: 12,810" in lines[0]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][1] < history.history["loss"][0]
    test_loss, test_accuracy = score
    # Chance is 10%: on 1,000 test images a model that guesses exceeds 20% with probability
    # below 1e-20 (binomial, p = 0.1). This run measures 0.84 (seeds 1 and 2: 0.83, 0.82),
    # so 0.7 leaves room for BLAS rounding and still fails any network that did not learn.
    assert test_accuracy > 0.7, f"test accuracy {test_accuracy:.3f}"
    assert test_loss < 1.0
    probabilities = model.predict(x_test[:50])
    assert probabilities.shape == (50, 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), np.ones(50), rtol=1e-5)


def test_to_categorical_is_one_hot_under_keras_name():
    np.testing.assert_array_equal(nn.utils.to_categorical([0, 2, 1], 3),
                                  [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    labels = np.array([3, 1, 3], dtype=np.uint8)
    np.testing.assert_array_equal(nn.utils.to_categorical(labels), nn.data.one_hot(labels))
    assert nn.utils.to_categorical(labels).shape == (3, 4)  # num_classes = max + 1
    column = labels.reshape(-1, 1)  # (n, 1), as Keras also accepts: the 1 is dropped
    assert nn.utils.to_categorical(column, 5).shape == (3, 5)
    assert nn.utils.to_categorical(labels, 10).dtype == np.float32
    with pytest.raises(ValueError, match="outside the range"):
        nn.utils.to_categorical([0, 10], 10)
    with pytest.raises(TypeError, match="integers"):
        nn.utils.to_categorical([0.5, 1.0], 2)
