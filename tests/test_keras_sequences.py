"""Three Keras sequence programs, shortened, run through nn with ``keras`` replaced by ``nn``:
each must learn what it learns in Keras.

1. The character-level text generator of the Keras examples (lstm_text_generation): one-hot
   windows of characters, LSTM(128), Dense softmax, RMSprop, sampling with a temperature.
   Here on the first 25,000 characters of Tiny Shakespeare (skipped when the data set is
   not available) for three epochs, the last 20% of the windows held out with Keras'
   ``validation_split``: about 160 updates, after which the held-out loss is well below
   the entropy of the character frequencies (the mean training loss of an epoch, which
   averages over the weights of the whole epoch, lags behind it).
2. Embedding + Bidirectional(LSTM) classification (the Keras "Bidirectional LSTM on IMDB"
   example, as a Sequential model): synthetic reviews whose label is whether a "positive"
   word outnumbers a "negative" one, padded to one length.
3. A tagger: Embedding, LSTM(return_sequences=True), TimeDistributed(Dense softmax) with a
   label per step and sparse_categorical_crossentropy, on a task that needs the state:
   tag each token with the parity of the number of 1s seen so far.

Each program is written as its Keras original is, `import keras` replaced by
`import nn as keras`; the only additions are seeds (nn has no global seed) and, where
Keras uses a variable-length axis (shape=(None,)), a fixed length.
"""
import os
from pathlib import Path

import numpy as np
import pytest

import nn as keras
from nn import layers

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shakespeare(monkeypatch):
    if "NN_DATA_MIRROR" not in os.environ and not (SHARED_DATA / "tinyshakespeare").is_dir():
        pytest.skip(f"no Tiny Shakespeare at {SHARED_DATA}; set NN_DATA_MIRROR")
    monkeypatch.setenv("NN_DATA_MIRROR", os.environ.get("NN_DATA_MIRROR", str(SHARED_DATA)))
    return keras.datasets.tinyshakespeare.load_data()


def test_character_level_text_generation(shakespeare):
    # --- the program (keras.io/examples/generative/lstm_character_level_text_generation) ---
    text = shakespeare[:25_000].lower()
    chars = sorted(list(set(text)))
    char_indices = dict((c, i) for i, c in enumerate(chars))
    indices_char = dict((i, c) for i, c in enumerate(chars))

    maxlen = 40
    step = 3
    sentences = []
    next_chars = []
    for i in range(0, len(text) - maxlen, step):
        sentences.append(text[i: i + maxlen])
        next_chars.append(text[i + maxlen])
    x = np.zeros((len(sentences), maxlen, len(chars)), dtype="bool")
    y = np.zeros((len(sentences), len(chars)), dtype="bool")
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1

    model = keras.Sequential([
        keras.Input(shape=(maxlen, len(chars))),
        layers.LSTM(128),
        layers.Dense(len(chars), activation="softmax"),
    ], seed=0)
    optimizer = keras.optimizers.RMSprop(learning_rate=0.01)
    model.compile(loss="categorical_crossentropy", optimizer=optimizer)

    def sample(preds, temperature=1.0):
        preds = np.asarray(preds).astype("float64")
        preds = np.log(preds) / temperature
        exp_preds = np.exp(preds)
        preds = exp_preds / np.sum(exp_preds)
        probas = rng.multinomial(1, preds, 1)
        return np.argmax(probas)

    rng = np.random.default_rng(0)  # the example draws from np.random
    history = model.fit(x, y, batch_size=128, epochs=3, validation_split=0.2, verbose=0,
                        seed=0)
    sentence = text[:maxlen]
    generated = ""
    for _ in range(40):
        x_pred = np.zeros((1, maxlen, len(chars)))
        for t, char in enumerate(sentence):
            x_pred[0, t, char_indices[char]] = 1.0
        preds = model.predict(x_pred, verbose=0)[0]
        next_char = indices_char[sample(preds, 0.5)]
        sentence = sentence[1:] + next_char
        generated += next_char
    # --- end of the program ---

    # "It learned": on windows it was not trained on, the model needs well under the
    # entropy of the character frequencies (in nats, as the loss), which is all a model
    # that ignores the context can reach.
    counts = np.bincount([char_indices[c] for c in text], minlength=len(chars))
    unigram = -np.sum(counts / counts.sum() * np.log(counts / counts.sum()))
    losses, val_losses = history.history["loss"], history.history["val_loss"]
    assert losses[-1] < losses[0] and val_losses[-1] < val_losses[0], history.history
    assert val_losses[-1] < 0.8 * unigram, (val_losses, unigram)
    assert len(generated) == 40 and set(generated) <= set(chars)


def test_embedding_bidirectional_lstm_classification():
    rng = np.random.default_rng(1)
    max_features, maxlen = 200, 30  # the example: 20000 words, reviews of 200
    positive, negative = np.arange(2, 12), np.arange(12, 22)

    def reviews(n):
        x = rng.integers(22, max_features, (n, maxlen))
        n_positive, n_negative = rng.integers(0, 4, n), rng.integers(0, 4, n)
        for row, (p, q) in enumerate(zip(n_positive, n_negative)):
            places = rng.permutation(maxlen)[:p + q]
            x[row, places[:p]] = rng.choice(positive, p)
            x[row, places[p:]] = rng.choice(negative, q)
        keep = n_positive != n_negative
        return x[keep], (n_positive > n_negative)[keep].astype("int32")

    x_train, y_train = reviews(3000)
    x_val, y_val = reviews(500)

    # --- the program (keras.io/examples/nlp/bidirectional_lstm_imdb), as a Sequential ---
    model = keras.Sequential([
        keras.Input(shape=(maxlen,), dtype="int32"),
        layers.Embedding(max_features, 32),
        layers.Bidirectional(layers.LSTM(16, return_sequences=True)),
        layers.Bidirectional(layers.LSTM(16)),
        layers.Dense(1, activation="sigmoid"),
    ], seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=4,
                        validation_data=(x_val, y_val), verbose=0, seed=0)
    # --- end of the program ---

    assert model.count_params() == 200 * 32 + 2 * 4 * (32 * 16 + 16 * 16 + 16) \
        + 2 * 4 * (32 * 16 + 16 * 16 + 16) + 33
    assert history.history["val_accuracy"][-1] > 0.9, history.history


def test_tagger_with_a_label_per_step():
    rng = np.random.default_rng(2)
    vocabulary, maxlen, n_tags = 6, 20, 2
    x = rng.integers(0, vocabulary, (2000, maxlen))
    y = np.cumsum(x == 1, axis=1) % 2  # tag: have we seen an odd number of 1s so far?

    # --- the program: a sequence tagger as Keras tutorials write it ---
    model = keras.Sequential([
        keras.Input(shape=(maxlen,)),
        layers.Embedding(vocabulary, 8),
        layers.LSTM(32, return_sequences=True),
        layers.TimeDistributed(layers.Dense(n_tags, activation="softmax")),
    ], seed=0)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:1600], y[:1600], batch_size=32, epochs=6, verbose=0, seed=0)
    loss, accuracy = model.evaluate(x[1600:], y[1600:], verbose=0)
    tags = model.predict(x[1600:]).argmax(axis=-1)
    # --- end of the program ---

    assert model.output_shape == (maxlen, n_tags) and tags.shape == (400, maxlen)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert accuracy > 0.95 and np.mean(tags == y[1600:]) == pytest.approx(accuracy)
