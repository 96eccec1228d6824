"""``Sequential``: a stack of layers trained with ``compile`` and ``fit``, as in Keras.

The model orchestrates; it owns no math.  One training step is::

    logits or y_pred = forward through every layer (training=True)
    loss             = loss.forward(y, y_pred)
    grad             = loss.backward()
    backward through the layers in reverse order        (fills each layer.grads)
    optimizer.step((param, grad) pairs)                 (updates params in place)
"""
import json
import os
import sys
import time
import uuid
import zipfile

import numpy as np

from . import callbacks as callbacks_module
from . import config, layers as layers_module, losses, metrics as metrics_module, optimizers
from .layer import Layer

FILE_FORMAT = "nn.Sequential/1"


class Sequential:
    """A linear stack of layers.

    ``seed`` (an int or ``numpy.random.Generator``) fixes the initial weights and,
    unless ``fit`` is given its own, the shuffling and dropout masks: the same seed
    gives bit-identical training.  ``dtype`` is the dtype of the weights and of the
    computation (default ``nn.config.floatx()``, float32).
    """

    def __init__(self, layers=None, name="sequential", seed=None, dtype=None):
        self.name = name
        self.layers = []
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.dtype = config.floatx() if dtype is None else config.as_float_dtype(dtype)
        self.built = False
        self.optimizer = self.loss = self._fused_loss = None
        self.metrics = []
        self.stop_training = False
        for layer in layers or []:
            self.add(layer)

    # ---------------------------------------------------------------- building
    def add(self, layer):
        """Append a layer to the stack."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects an nn layer. Received: {layer!r}")
        self.layers.append(layer)
        self.built = False

    @property
    def input_shape(self):
        """One sample's shape, if the first layer declared it (or the model is built)."""
        return self.layers[0].input_shape if self.layers else None

    def build(self, input_shape=None):
        """Create every layer's weights for samples of ``input_shape`` (no batch axis)."""
        if not self.layers:
            raise ValueError("The model has no layers: add some before building or training it.")
        shape = tuple(input_shape or self.input_shape or ())
        if not shape:
            raise ValueError("The model does not know its input shape: give the first layer input_shape=... "
                             "or input_dim=..., or call fit/predict, which build from the data.")
        for layer in self.layers:
            if not layer.built:
                layer.build(shape, rng=self.rng, dtype=self.dtype)
            elif layer.input_shape != shape:
                raise ValueError(f"Layer '{layer.name}' was built for inputs {layer.input_shape} "
                                 f"but receives {shape}.")
            shape = layer.output_shape(shape)
        trainable = [layer for layer in self.layers if layer.params]
        first_trainable = self.layers.index(trainable[0]) if trainable else -1
        for position, layer in enumerate(self.layers):
            layer.needs_input_grad = position > first_trainable
        #: Every (parameter, gradient) pair, in layer order: what the optimizer steps on.
        self.params_and_grads = [(layer.params[key], layer.grads[key]) for layer in trainable
                                  for key in layer.params]
        self.output_shape = shape
        self.built = True
        if self.loss is not None:
            self._fuse_loss()

    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, the loss and the metrics reported during training.

        When the last layer ends in softmax (sigmoid) and the loss is the matching
        cross-entropy, training computes the two together from the logits
        (``nn.losses.fused``); ``predict`` still returns probabilities.
        """
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='sparse_categorical_crossentropy'.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        self.metrics = [metrics_module.get(metric, loss=self.loss) for metric in (metrics or [])]
        self._fuse_loss()

    def _fuse_loss(self):
        """Pair the loss with the last layer's activation when they fuse (again after layers change)."""
        last = self.layers[-1] if self.layers else None
        self._fused_loss = losses.fused(getattr(last, "output_activation", None), self.loss)

    # ------------------------------------------------------- forward / backward
    def forward(self, x, training=False):
        """Run ``x`` through every layer."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_output):
        """Backpropagate dL/d(output) through every layer, filling their ``grads``.

        Returns dL/dx, or None when the first trainable layer skipped it.
        """
        for layer in reversed(self.layers):
            if grad_output is None:
                break
            grad_output = layer.backward(grad_output)
        return grad_output

    @property
    def training_loss(self):
        """The loss as training computes it (the fused from-logits twin when there is one)."""
        return self._fused_loss or self.loss

    def forward_to_loss(self, x, training=False):
        """Forward up to what the training loss takes: the logits when the loss is fused."""
        if self._fused_loss is None:
            return self.forward(x, training)
        for layer in self.layers[:-1]:
            x = layer.forward(x, training=training)
        return self.layers[-1].forward_logits(x, training=training)

    def backward_from_loss(self, grad):
        """Backward from the training loss's gradient (the inverse of ``forward_to_loss``)."""
        layers = self.layers
        if self._fused_loss is not None:
            *layers, last = layers
            grad = last.backward_logits(grad)
        for layer in reversed(layers):
            if grad is None:  # below the first trainable layer nothing needs gradients
                break
            grad = layer.backward(grad)

    def compute_gradients(self, x, y):
        """Forward and backward on one batch, filling every layer's ``grads``; updates nothing.

        Returns ``(loss, predictions)``; the predictions are probabilities even
        when the loss was computed from the logits.
        """
        outputs = self.forward_to_loss(x, training=True)
        loss = self.training_loss.forward(y, outputs)
        self.backward_from_loss(self.training_loss.backward())
        return loss, self._predictions(outputs)

    def _predictions(self, outputs):
        return outputs if self._fused_loss is None else self._fused_loss.probabilities

    def train_on_batch(self, x, y):
        """One optimizer step on one batch; returns the loss (and metrics, as a list, if any)."""
        self._require_compiled("train_on_batch")
        x, y = self._prepare(x, y)
        loss, y_pred = self.compute_gradients(x, y)
        self.optimizer.step(self.params_and_grads)
        if not self.metrics:
            return loss
        return [loss] + [metric(y, y_pred) for _, metric in self.metrics]

    # ------------------------------------------------------------ fit and evaluate
    def fit(self, x, y, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, seed=None, initial_epoch=0):
        """Train for ``epochs`` passes over ``(x, y)`` in mini-batches; returns a ``History``.

        x: (n, ...) inputs; y: (n,) labels or (n, k) targets.  verbose: 0 silent,
        1 one line per epoch (and a live progress bar on a terminal), 2 one line per
        epoch.  ``seed`` (int or Generator) fixes the shuffling and dropout of this call.
        """
        self._require_compiled("fit")
        _check_positive_int("batch_size", batch_size)
        _check_positive_int("epochs", epochs, allow_zero=True)
        x, y = self._prepare(x, y)
        if validation_data is None and validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"validation_split must lie in (0, 1). Received: {validation_split}")
            split = x.shape[0] - int(round(x.shape[0] * validation_split))
            if split == 0 or split == x.shape[0]:
                raise ValueError(f"validation_split={validation_split} of {x.shape[0]} samples leaves "
                                 f"{split} for training and {x.shape[0] - split} for validation; both need some.")
            x, y, validation_data = x[:split], y[:split], (x[split:], y[split:])
        if validation_data is not None:
            validation_data = self._prepare(*validation_data)
        rng = self.rng if seed is None else (seed if isinstance(seed, np.random.Generator)
                                             else np.random.default_rng(seed))
        random_layers = [layer for layer in self.layers if layer.uses_randomness]
        own_generators = [layer.rng for layer in random_layers]
        if seed is not None:
            for layer in random_layers:  # dropout masks follow this call's seed too
                layer.rng = rng
        try:
            return self._fit(x, y, batch_size, epochs, verbose, callbacks, validation_data, shuffle, rng,
                             initial_epoch)
        finally:
            for layer, generator in zip(random_layers, own_generators):
                layer.rng = generator

    def _fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_data, shuffle, rng, initial_epoch):
        """The training loop of ``fit``, on checked arrays."""
        history = callbacks_module.History()
        callback_list = [history] + list(callbacks or [])
        for callback in callback_list:
            callback.set_model(self)
            callback.on_train_begin()
        self.stop_training = False
        n = x.shape[0]
        steps = -(-n // batch_size)
        for epoch in range(initial_epoch, epochs):
            for callback in callback_list:
                callback.on_epoch_begin(epoch)
            progress = _Progress(epoch, epochs, steps, verbose)
            order = rng.permutation(n) if shuffle else None
            totals = np.zeros(1 + len(self.metrics))
            for step, start in enumerate(range(0, n, batch_size)):
                if order is None:
                    x_batch, y_batch = x[start:start + batch_size], y[start:start + batch_size]
                else:
                    index = order[start:start + batch_size]
                    x_batch, y_batch = np.take(x, index, axis=0), np.take(y, index, axis=0)
                loss, y_pred = self.compute_gradients(x_batch, y_batch)
                if not np.isfinite(loss):
                    raise FloatingPointError(
                        f"The loss became {loss} at epoch {epoch + 1}, batch {step + 1}: training diverged. "
                        f"Try a smaller learning rate (it is {self.optimizer.current_learning_rate():g}), "
                        "or check the inputs for NaN/inf and their scale."
                    )
                self.optimizer.step(self.params_and_grads)
                size = x_batch.shape[0]
                totals[0] += loss * size
                for i, (_, metric) in enumerate(self.metrics, start=1):
                    totals[i] += metric(y_batch, y_pred) * size
                progress.update(step + 1, lambda: self._logs(totals, start + size))
            logs = self._logs(totals, n)
            if validation_data is not None:
                logs.update({f"val_{key}": value for key, value in
                             self._evaluate_logs(*validation_data, batch_size).items()})
            progress.finish(logs)
            for callback in callback_list:
                callback.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        for callback in callback_list:
            callback.on_train_end()
        return history

    def evaluate(self, x, y, batch_size=32, verbose=1, return_dict=False):
        """Loss and metrics on ``(x, y)``: the loss alone, or ``[loss, metric, ...]`` (Keras' order)."""
        self._require_compiled("evaluate")
        x, y = self._prepare(x, y)
        logs = self._evaluate_logs(x, y, batch_size)
        if verbose:
            print(_format_logs(logs))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=32, verbose=0):
        """The model's outputs for ``x``, computed batch by batch (probabilities for a softmax model).

        ``verbose`` is accepted for Keras compatibility; predict prints nothing.
        """
        x = self._prepare(x)
        _check_positive_int("batch_size", batch_size)
        if x.shape[0] == 0:
            return np.empty((0,) + self.output_shape, self.dtype)
        return _in_batches(self.forward, x, batch_size)

    def _evaluate_logs(self, x, y, batch_size):
        batch_size = max(batch_size, 256)  # inference needs no small batches
        outputs = _in_batches(self.forward_to_loss, x, batch_size)
        logs = {"loss": self.training_loss.forward(y, outputs)}
        predictions = self._predictions(outputs)
        for name, metric in self.metrics:
            logs[name] = metric(y, predictions)
        return logs

    def _logs(self, totals, count):
        names = ["loss"] + [name for name, _ in self.metrics]
        return {name: float(total / count) for name, total in zip(names, totals)}

    # --------------------------------------------------------------- checking
    def _require_compiled(self, method):
        if self.loss is None:
            raise RuntimeError(f"Call model.compile(optimizer=..., loss=...) before model.{method}().")

    def _prepare(self, x, y=None):
        """Validate and convert at the model's boundary, once per call (not per batch)."""
        x = np.asarray(x)
        if x.dtype != self.dtype:
            if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
                raise TypeError(f"Model '{self.name}' expects numeric inputs. Received dtype {x.dtype}.")
            x = x.astype(self.dtype)
        if not self.built:
            self.build(x.shape[1:] if self.input_shape is None else None)
        if x.ndim == 0 or (x.shape[0] == 0 and y is not None):
            raise ValueError(f"Model '{self.name}' received no samples (input shape {x.shape}).")
        if x.shape[1:] != self.layers[0].input_shape:
            expected = ", ".join(map(str, self.layers[0].input_shape))
            raise ValueError(f"Model '{self.name}' expects inputs of shape (batch, {expected}). "
                             f"Received shape {x.shape}.")
        if y is None:
            return x
        y = np.asarray(y)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"x has {x.shape[0]} rows but y has {y.shape[0]}: they must match.")
        if np.issubdtype(y.dtype, np.floating) and y.dtype != self.dtype:
            y = y.astype(self.dtype)
        self.loss.check(y, (x.shape[0],) + self.output_shape)
        return x, y

    # ------------------------------------------------------------- inspecting
    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn=print):
        """Print a table of the layers, their output shapes and parameter counts."""
        if not self.built:
            self.build()
        rows, shape = [], None
        for layer in self.layers:
            shape = layer.output_shape(layer.input_shape)
            rows.append((f"{layer.name} ({type(layer).__name__})", str((None,) + shape),
                         f"{layer.count_params():,}"))
        widths = [max(len(header), *(len(row[i]) for row in rows)) + 2
                  for i, header in enumerate(("Layer (type)", "Output Shape", "Param #"))]
        line = "=" * sum(widths)
        format_row = lambda row: "".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
        total = self.count_params()
        print_fn("\n".join([f'Model: "{self.name}"', line, format_row(("Layer (type)", "Output Shape", "Param #")),
                            line, *map(format_row, rows), line, f"Total params: {total:,}",
                            f"Trainable params: {total:,}", "Non-trainable params: 0"]))

    def get_weights(self):
        """Copies of all parameters, layer by layer (kernel before bias, as in Keras)."""
        if not self.built and self.input_shape:
            self.build()
        return [weight for layer in self.layers for weight in layer.get_weights()]

    def set_weights(self, weights):
        """Copy ``weights`` (as from ``get_weights``) into the parameters, checking count and shapes."""
        if not self.built:
            self.build()
        weights = list(weights)
        expected = sum(len(layer.params) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"Model '{self.name}' expects {expected} weight arrays, received {len(weights)}.")
        per_layer = []
        for layer in self.layers:  # check everything before changing anything
            per_layer.append(layer.check_weights(weights[:len(layer.params)]))
            weights = weights[len(layer.params):]
        for layer, layer_weights in zip(self.layers, per_layer):
            layer.set_weights(layer_weights)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype.name,
                "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()}
                           for layer in self.layers]}

    # ------------------------------------------------------------ saving
    def save(self, path):
        """Save architecture, weights and compile settings to one ``.npz`` file.

        Format (``FILE_FORMAT``): ``format`` holds the string ``nn.Sequential/1``;
        ``config`` a JSON document with the layers' configs, the input shape and
        the compile settings; ``weight_0``, ``weight_1``, ... the arrays of
        ``get_weights()`` in order.  Readable with ``np.load(path,
        allow_pickle=False)``.  The file is written to a temporary name and renamed,
        so an interrupted save never leaves a half-written model.  The optimizer's
        state (moments) is not saved.
        """
        if not self.built:
            self.build()
        document = {"model": self.get_config(), "input_shape": list(self.layers[0].input_shape)}
        if self.loss is not None:
            document["compile"] = {"optimizer": optimizers.serialize(self.optimizer), "loss": self.loss.get_config(),
                                   "metrics": [name for name, _ in self.metrics]}
        arrays = {"format": np.array(FILE_FORMAT), "config": np.array(json.dumps(document))}
        arrays.update({f"weight_{i}": weight for i, weight in enumerate(self.get_weights())})
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        temporary = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
        try:
            with open(temporary, "xb") as file:
                np.savez(file, **arrays)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise


def load_model(path):
    """Load a model written by ``Sequential.save``; refuse anything else with a clear error."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "format" not in archive.files or str(archive["format"]) != FILE_FORMAT:
                raise _NotAModelFile(f"no '{FILE_FORMAT}' format marker")
            document = json.loads(str(archive["config"]))
            weights = [archive[f"weight_{i}"] for i in range(len(archive.files) - 2)]
        return _model_from(document, weights)
    except FileNotFoundError:
        raise
    except (_NotAModelFile, zipfile.BadZipFile, EOFError, OSError, KeyError, TypeError, ValueError,
            json.JSONDecodeError) as error:
        raise ValueError(f"{path!r} is not a readable nn model file (truncated, corrupt, or not written by "
                         f"Sequential.save): {error}") from error


class _NotAModelFile(Exception):
    pass


def _model_from(document, weights):
    spec = document["model"]
    model = Sequential([layers_module.deserialize(layer) for layer in spec["layers"]], name=spec["name"],
                       dtype=spec["dtype"])
    model.build(tuple(document["input_shape"]))
    model.set_weights(weights)
    if "compile" in document:
        compiled = document["compile"]
        model.compile(optimizer=optimizers.get(compiled["optimizer"]), loss=losses.get(compiled["loss"]),
                      metrics=compiled["metrics"])
    return model


def _in_batches(function, x, batch_size):
    """``function`` (an inference pass) applied to ``x`` batch by batch, results concatenated."""
    return np.concatenate([function(x[start:start + batch_size]) for start in range(0, x.shape[0], batch_size)])


def _check_positive_int(name, value, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (0 if allow_zero else 1):
        raise ValueError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} integer. "
                         f"Received: {name}={value!r}")


class _Progress:
    """Per-epoch output: a live bar on a terminal at verbose=1, one line per epoch at 1 and 2."""

    def __init__(self, epoch, epochs, steps, verbose):
        self.prefix = f"Epoch {epoch + 1}/{epochs}"
        self.steps, self.verbose = steps, verbose
        self.live = verbose == 1 and sys.stdout.isatty()
        self.start = self.last_draw = time.perf_counter()

    def update(self, step, logs):
        """Redraw the bar at most every 0.1 s; ``logs()`` is called only when it is drawn."""
        if not self.live or (time.perf_counter() - self.last_draw < 0.1 and step < self.steps):
            return
        self.last_draw = time.perf_counter()
        filled = int(30 * step / self.steps)
        bar = "=" * filled + ">" * (filled < 30) + "." * (29 - filled)
        sys.stdout.write(f"\r{self.prefix} {step}/{self.steps} [{bar[:30]}] - {_format_logs(logs())}")
        sys.stdout.flush()

    def finish(self, logs):
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self.start
        clear = "\r\033[K" if self.live else ""
        print(f"{clear}{self.prefix} - {elapsed:.1f}s - {_format_logs(logs)}", flush=True)


def _format_logs(logs):
    return " - ".join(f"{key}: {value:.4f}" for key, value in logs.items())
