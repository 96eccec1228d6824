"""``Model``: what every model can do — compile, fit, evaluate, predict — apart from its layers.

The training loop lives here, as Keras keeps ``trainers/`` apart from ``models/``;
how the layers are stacked lives in a subclass (``Sequential``), which provides
``layers``, ``build``, ``forward``, ``forward_to_loss`` and ``backward_from_loss``.
One training step is ``train_step``::

    outputs  = forward through every layer (training=True)   logits when the loss is fused
    loss     = loss.forward(y, outputs, sample_weight)
    backward from loss.backward() through the layers          fills each layer.grads
    loss += weight penalties, grads += their gradients        regularization_penalty
    optimizer.step((param, grad) pairs)                       updates params in place
"""
import numpy as np

from .. import callbacks as callbacks_module
from .. import config, data, losses, metrics as metrics_module, optimizers
from ..checks import check_positive_int, check_same_rows
from ..callbacks.callback import LazyLogs
from ..callbacks.progress import format_logs


class Model:
    """Base class of the models: compile, fit, evaluate, predict, weights and summary.

    ``seed`` (an int or ``numpy.random.Generator``) fixes the initial weights and,
    unless ``fit`` is given its own, the shuffling and dropout masks: the same seed
    gives bit-identical training.  ``dtype`` is the dtype of the weights and of the
    computation (default ``nn.config.floatx()``, float32).
    """

    def __init__(self, name="model", seed=None, dtype=None):
        self.name = name
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.dtype = config.floatx() if dtype is None else config.as_float_dtype(dtype)
        self.optimizer = self.loss = None
        self.metrics, self.weighted_metrics = [], []  # (name, function) pairs
        self.stop_training = False
        self._training_loss_for, self._training_loss = None, None

    @property
    def input_dtype(self):
        """The dtype inputs are converted to at the model's boundary (the model's dtype)."""
        return self.dtype

    # ------------------------------------------------------------------ compiling
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, weighted_metrics=None):
        """Choose the optimizer, the loss and the metrics reported during training.

        ``metrics`` are reported unweighted, ``weighted_metrics`` weighted by
        ``sample_weight`` (or ``class_weight``), as in Keras.  When the last layer ends
        in softmax (sigmoid) and the loss is the matching cross-entropy, training
        computes the two together from the logits (``nn.losses.fused``); ``predict``
        still returns probabilities.
        """
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='sparse_categorical_crossentropy'.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        self.metrics = [metrics_module.get(metric, loss=self.loss) for metric in metrics or []]
        taken = {name for name, _ in self.metrics}
        self.weighted_metrics = [
            (f"weighted_{name}" if name in taken else name, function)
            for name, function in (metrics_module.get(metric, loss=self.loss)
                                   for metric in weighted_metrics or [])]
        #: The metrics as named in compile, which a saved model stores.
        self.compile_config = {key: [getattr(metric, "__name__", metric) for metric in given or []]
                               for key, given in (("metrics", metrics),
                                                  ("weighted_metrics", weighted_metrics))}
        self._running_means = _RunningMeans(self)

    @property
    def training_loss(self):
        """The loss as training computes it.

        That is the compiled loss's from-logits twin when it fuses with the last layer's
        activation, else the compiled loss itself."""
        activation = self.layers[-1].output_activation if self.layers else None
        if self._training_loss_for != (activation, self.loss):  # recomputed when either changes
            self._training_loss = losses.fused(activation, self.loss) or self.loss
            self._training_loss_for = (activation, self.loss)
        return self._training_loss

    @property
    def loss_is_fused(self):
        """Whether training computes the loss from the last layer's logits (see training_loss)."""
        return self.training_loss is not self.loss

    # ------------------------------------------------------------ one step
    def compute_gradients(self, x, y, sample_weight=None):
        """Forward and backward on one batch, filling every layer's ``grads``; updates nothing.

        Returns ``(loss, predictions)``; the predictions are probabilities even
        when the loss was computed from the logits.
        """
        loss_function = self.training_loss
        outputs = self.forward_to_loss(x, training=True)
        loss = loss_function.forward(y, outputs, sample_weight)
        self.backward_from_loss(loss_function.backward())
        return loss, self._predictions(loss_function, outputs)

    def train_step(self, x, y, sample_weight=None):
        """One step of training on one batch: gradients, the optimizer's update, the metrics.

        Returns the batch's loss: the data loss plus the layers' weight penalties
        (``nn.regularizers``), whose gradients join the data loss's.  A loss that is not
        finite raises FloatingPointError before the update can spoil the weights (``fit``
        first shows it to the callbacks: ``TerminateOnNaN`` turns it into a quiet stop).
        """
        data_loss, predictions = self.compute_gradients(x, y, sample_weight)
        penalty = self.regularization_penalty(add_gradients=True)
        loss = data_loss + penalty
        if not np.isfinite(loss):
            self._running_means.add_loss(loss, len(y))  # so fit's logs show it to callbacks
            raise FloatingPointError(
                f"The loss became {loss}: training diverged. Try a smaller learning rate (it is "
                f"{self.optimizer.current_learning_rate():g}), or check the inputs for NaN/inf "
                "and their scale.")
        self.optimizer.step(self.params_and_grads)
        self._running_means.update(loss, y, predictions, sample_weight, penalty)
        return loss

    def regularization_penalty(self, add_gradients=False):
        """The sum of every layer's weight penalties (``Layer.regularization_penalty``).

        With ``add_gradients=True`` each penalty's gradient is added to its parameter's
        gradient, as ``train_step`` does after the backward pass.
        """
        return sum((layer.regularization_penalty(add_gradients) for layer in self.layers), 0.0)

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on one batch; returns its loss (and metrics, as a list, if any),
        all computed before the step."""
        self._require_compiled("train_on_batch")
        x, y = self._prepare(x, y)
        sample_weight = self._sample_weight(y, sample_weight, class_weight)
        self._running_means = _RunningMeans(self)
        self.train_step(x, y, sample_weight)
        return self._as_result(self._running_means.result(), return_dict)

    # ------------------------------------------------------------ fit
    def fit(self, x, y, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
            initial_epoch=0, seed=None):
        """Train for ``epochs`` passes over ``(x, y)`` in mini-batches; returns a ``History``.

        x: (n, ...) inputs; y: (n,) labels or (n, k) targets; sample_weight: (n,) weights of
        the samples' losses, or class_weight: {class: weight} (not both, as in Keras).
        verbose: 0 silent, 1 one line per epoch (and a live progress bar on a terminal),
        2 one line per epoch.  ``validation_data`` is ``(x_val, y_val)`` or ``(x_val, y_val,
        sample_weight_val)``; ``validation_split`` holds out the last rows instead.
        ``seed`` (int or Generator) fixes the shuffling and dropout of this call.
        """
        self._require_compiled("fit")
        check_positive_int("batch_size", batch_size)
        check_positive_int("epochs", epochs, allow_zero=True)
        x, y = self._prepare(x, y)
        sample_weight = self._sample_weight(y, sample_weight, class_weight)
        if validation_data is None and validation_split:
            x, y, sample_weight, validation_data = _split_off(x, y, sample_weight,
                                                              validation_split)
        if validation_data is not None:
            validation_data = self._prepare_validation(validation_data)
        rng = self.rng if seed is None else np.random.default_rng(seed)
        random_layers = [layer for layer in self.layers if layer.uses_randomness]
        own_generators = [layer.rng for layer in random_layers]
        if seed is not None:
            for layer in random_layers:  # dropout masks follow this call's seed too
                layer.rng = rng
        callback_list = callbacks_module.CallbackList(
            ([callbacks_module.ProgressBar(verbose)] if verbose else []) + list(callbacks or [])
            + [callbacks_module.History()], model=self,
            params={"epochs": epochs, "steps": -(-x.shape[0] // batch_size), "verbose": verbose})
        try:
            self._fit_epochs(x, y, sample_weight, batch_size, epochs, initial_epoch, shuffle, rng,
                             validation_data, callback_list)
        finally:
            for layer, generator in zip(random_layers, own_generators):
                layer.rng = generator
        return callback_list.callbacks[-1]

    def _fit_epochs(self, x, y, sample_weight, batch_size, epochs, initial_epoch, shuffle, rng,
                    validation_data, callback_list):
        """The training loop of ``fit``, on checked arrays: epochs of ``train_step`` calls."""
        self.stop_training = False
        logs = None
        callback_list.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            callback_list.on_epoch_begin(epoch)
            self._running_means = _RunningMeans(self)
            batches = data.batches(x, y, batch_size, shuffle, rng, sample_weight=sample_weight)
            for step, batch in enumerate(batches):
                callback_list.on_train_batch_begin(step)
                try:
                    self.train_step(*batch)
                except FloatingPointError as error:
                    # The callbacks see the non-finite loss first; one that stops training
                    # (TerminateOnNaN) ends the run here, the weights as before the step.
                    callback_list.on_train_batch_end(step, self._running_means.result())
                    if not self.stop_training:
                        raise FloatingPointError(f"At epoch {epoch + 1}, batch {step + 1}: "
                                                 f"{error}") from None
                    break
                callback_list.on_train_batch_end(step, LazyLogs(self._running_means.result))
            logs = self._running_means.result()
            if validation_data is not None:
                x_val, y_val, weight_val = validation_data
                logs.update({f"val_{key}": value for key, value in
                             self._evaluate_logs(x_val, y_val, batch_size, weight_val).items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end(logs)

    # ------------------------------------------------------------ evaluate and predict
    def evaluate(self, x, y, batch_size=32, verbose=1, sample_weight=None, return_dict=False):
        """Loss and metrics on ``(x, y)``: the loss alone, or ``[loss, metric, ...]`` (Keras'
        order)."""
        self._require_compiled("evaluate")
        x, y = self._prepare(x, y)
        logs = self._evaluate_logs(x, y, batch_size, self._sample_weight(y, sample_weight, None))
        if verbose:
            print(format_logs(logs))
        return self._as_result(logs, return_dict)

    def predict(self, x, batch_size=32, verbose=0):
        """The model's outputs for ``x``, computed batch by batch (probabilities for a softmax
        model).

        ``verbose`` is accepted for Keras compatibility; predict prints nothing.
        """
        x = self._prepare(x)
        check_positive_int("batch_size", batch_size)
        if x.shape[0] == 0:
            return np.empty((0,) + self.output_shape, self.dtype)
        return np.concatenate([self.forward(batch)
                               for batch in data.batches(x, batch_size=batch_size)])

    def _evaluate_logs(self, x, y, batch_size, sample_weight=None):
        """The loss and metrics of the whole set, its outputs computed ``batch_size`` rows at a
        time."""
        check_positive_int("batch_size", batch_size)
        loss_function = self.training_loss
        outputs = np.concatenate([self.forward_to_loss(batch)
                                  for batch in data.batches(x, batch_size=batch_size)])
        means = _RunningMeans(self)
        penalty = self.regularization_penalty()  # part of the loss, as in training and Keras
        loss = loss_function.forward(y, outputs, sample_weight) + penalty
        means.update(loss, y, self._predictions(loss_function, outputs), sample_weight, penalty)
        return means.result()

    def _predictions(self, loss_function, outputs):
        """What the metrics see: probabilities, also when a fused loss took the logits."""
        return outputs if loss_function is self.loss else loss_function.probabilities

    def _as_result(self, logs, return_dict):
        """What evaluate and train_on_batch return: Keras' loss and metrics (the penalty is in
        the loss; only fit's history lists it apart)."""
        logs = {key: value for key, value in logs.items() if key != "regularization_loss"}
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------ checking
    def _require_compiled(self, method):
        if self.loss is None:
            raise RuntimeError("Call model.compile(optimizer=..., loss=...) "
                               f"before model.{method}().")

    def _prepare(self, x, y=None):
        """Validate and convert at the model's boundary, once per call (not per batch)."""
        x = np.asarray(x)
        if x.dtype != self.input_dtype:
            if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
                raise TypeError(f"Model '{self.name}' expects numeric inputs. "
                                f"Received dtype {x.dtype}.")
            if self.input_dtype.kind in "iu" and x.dtype.kind == "f" \
                    and not np.all(np.mod(x, 1) == 0):  # never truncate 2.5 to the id 2
                raise TypeError(f"Model '{self.name}' expects integer inputs (dtype "
                                f"{self.input_dtype}). Received dtype {x.dtype} with the value "
                                f"{x[np.mod(x, 1) != 0][0]}.")
            x = x.astype(self.input_dtype)
        if not self.built:
            self.build(x.shape[1:] if self.input_shape is None else None)
        if x.ndim == 0 or (x.shape[0] == 0 and y is not None):
            raise ValueError(f"Model '{self.name}' received no samples (input shape {x.shape}).")
        if x.shape[1:] != self.input_shape:
            expected = ", ".join(map(str, self.input_shape))
            raise ValueError(f"Model '{self.name}' expects inputs of shape (batch, {expected}). "
                             f"Received shape {x.shape}.")
        if y is None:
            return x
        y = np.asarray(y)
        check_same_rows(x, y)
        if np.issubdtype(y.dtype, np.floating) and y.dtype != self.dtype:
            y = y.astype(self.dtype)
        self.loss.check(y, (x.shape[0],) + self.output_shape)
        return x, y

    def _prepare_validation(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight_val). "
                f"Received a {type(validation_data).__name__} of length "
                f"{len(validation_data) if hasattr(validation_data, '__len__') else '?'}."
            )
        x, y = self._prepare(*validation_data[:2])
        weights = validation_data[2] if len(validation_data) == 3 else None
        return x, y, losses.check_sample_weight(weights, x.shape[0])

    def _sample_weight(self, y, sample_weight, class_weight):
        """The per-sample weights of a call: ``sample_weight``, or ``class_weight`` looked up
        at each sample's class (1 for classes it does not name), or None."""
        if class_weight is None:
            return losses.check_sample_weight(sample_weight, y.shape[0])
        if sample_weight is not None:
            raise ValueError("Give class_weight or sample_weight, not both (as in Keras).")
        if not isinstance(class_weight, dict):
            raise TypeError("class_weight must be a dict {class: weight}. "
                            f"Received: {class_weight!r}")
        num_classes = max(self.output_shape[-1], 2)
        for label, weight in class_weight.items():
            if isinstance(label, bool) or not isinstance(label, (int, np.integer)) \
                    or not 0 <= label < num_classes:
                raise ValueError(f"class_weight names class {label!r}, which the labels do not "
                                 f"have: the model's {num_classes} classes are 0 to "
                                 f"{num_classes - 1}.")
            if not (isinstance(weight, (int, float, np.number)) and np.isfinite(weight)
                    and weight >= 0):
                raise ValueError(f"class_weight[{label}] must be a finite number >= 0. "
                                 f"Received: {weight!r}")
        classes = y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else np.round(y).reshape(-1)
        lookup = np.array([class_weight.get(label, 1.0) for label in range(num_classes)],
                          np.float64)
        return lookup[classes.astype(np.intp)]

    # ------------------------------------------------------------- weights and inspection
    def count_params(self):
        """Number of values in all weights, trained and not (as Keras counts)."""
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn=print):
        """Print a table of the layers, their output shapes and parameter counts."""
        if not self.built:
            self.build()
        rows = [(f"{layer.name} ({type(layer).__name__})", str((None,) + layer.output_shape),
                 f"{layer.count_params():,}") for layer in self.layers]
        headers = ("Layer (type)", "Output Shape", "Param #")
        widths = [max(len(header), *(len(row[i]) for row in rows)) + 2
                  for i, header in enumerate(headers)]
        line = "=" * sum(widths)

        def format_row(row):
            return "".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()

        trainable = sum(value.size for layer in self.layers for value in layer.params.values())
        total = self.count_params()
        print_fn("\n".join([f'Model: "{self.name}"', line, format_row(headers), line,
                            *map(format_row, rows), line, f"Total params: {total:,}",
                            f"Trainable params: {trainable:,}",
                            f"Non-trainable params: {total - trainable:,}"]))

    def get_weights(self):
        """Copies of all weights, layer by layer: each layer's parameters (kernel before
        bias), then its state, as in Keras."""
        if not self.built and self.input_shape:
            self.build()
        return [weight for layer in self.layers for weight in layer.get_weights()]

    def set_weights(self, weights):
        """Copy ``weights`` (as from ``get_weights``) into the layers, checking count and
        shapes."""
        if not self.built:
            self.build()
        weights = list(weights)
        expected = sum(len(layer.weights) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"Model '{self.name}' expects {expected} weight arrays, "
                             f"received {len(weights)}.")
        per_layer = []
        for layer in self.layers:  # check everything before changing anything
            count = len(layer.weights)
            per_layer.append(layer.check_weights(weights[:count]))
            weights = weights[count:]
        for layer, layer_weights in zip(self.layers, per_layer):
            layer.set_weights(layer_weights)

    def save(self, path):
        """Save architecture, weights and compile settings to one ``.npz`` file (see
        ``nn.models.saving``); an interrupted save never leaves a half-written file."""
        from .saving import save_model  # saving builds models, so it imports this module

        save_model(self, path)

    def save_weights(self, path):
        """Save the weights alone (``get_weights()``) to one ``.npz`` file, atomically as
        ``save``; ``load_weights`` reads them back."""
        from .saving import save_weights

        save_weights(self, path)

    def load_weights(self, path):
        """Set the weights from a file of ``save_weights`` (or ``save``), checking count
        and shapes first."""
        from .saving import load_weights

        load_weights(self, path)


class _RunningMeans:
    """The means an epoch's logs report, accumulated batch by batch, as Keras's trackers do.

    The loss is weighted by each batch's size; ``metrics`` too; ``weighted_metrics`` by
    each batch's sum of sample weights (so they are weighted means over the epoch).  A
    model with weight penalties also reports their part of the loss, 'regularization_loss'.
    """

    def __init__(self, model):
        self.model = model
        names = ["loss", *(name for name, _ in model.metrics + model.weighted_metrics)]
        self.totals, self.counts = dict.fromkeys(names, 0.0), dict.fromkeys(names, 0.0)

    def update(self, loss, y, predictions, sample_weight, penalty=0.0):
        size = len(y)
        self._add("loss", loss, size)
        for name, metric in self.model.metrics:
            self._add(name, metric(y, predictions), size)
        for name, metric in self.model.weighted_metrics:
            if sample_weight is None:
                self._add(name, metric(y, predictions), size)
            else:
                self._add(name, metric(y, predictions, sample_weight=sample_weight),
                          float(np.sum(sample_weight)))
        if any(layer.regularizers for layer in self.model.layers):
            self._add("regularization_loss", penalty, size)

    def add_loss(self, loss, size):
        """Count a batch's loss alone (a non-finite one, whose metrics mean nothing)."""
        self._add("loss", loss, size)

    def _add(self, name, value, weight):
        self.totals[name] = self.totals.get(name, 0.0) + value * weight
        self.counts[name] = self.counts.get(name, 0.0) + weight

    def result(self):
        return {name: float(self.totals[name] / count) if count else 0.0
                for name, count in self.counts.items()}


def _split_off(x, y, sample_weight, validation_split):
    """Hold out the last ``validation_split`` of the rows, as Keras's ``validation_split``."""
    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must lie in (0, 1). Received: {validation_split}")
    split = x.shape[0] - int(round(x.shape[0] * validation_split))
    if split == 0 or split == x.shape[0]:
        raise ValueError(f"validation_split={validation_split} of {x.shape[0]} samples leaves "
                         f"{split} for training and {x.shape[0] - split} for validation; "
                         "both need some.")
    weights = ((None, None) if sample_weight is None
               else (sample_weight[:split], sample_weight[split:]))
    return x[:split], y[:split], weights[0], (x[split:], y[split:], weights[1])
