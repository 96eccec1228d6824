"""Saving a model to one ``.npz`` file and loading it back.

The format (``FILE_FORMAT``): ``format`` holds the string ``nn.Sequential/1``;
``config`` a JSON document with the architecture (``model``: the model's
config, every layer as ``{"class_name", "config"}``), the input shape and the
compile settings; ``weight_0``, ``weight_1``, ... the arrays of
``get_weights()`` in order (each layer's parameters, then its state).  The file
is readable with ``np.load(path, allow_pickle=False)``.  The optimizer's state
(moments) is not saved.  ``save_weights`` writes the ``weight_i`` arrays alone, marked
``nn.weights/1``.

A layer class of your own registers itself when defined (``nn.registry``), so a
model that uses it loads as soon as the class exists in the loading program.
"""
import json
import os
import uuid
import zipfile

import numpy as np

from .. import registry
from .sequential import Sequential

FILE_FORMAT = "nn.Sequential/1"
WEIGHTS_FORMAT = "nn.weights/1"


def save_model(model, path):
    """Write ``model`` to ``path``: to a temporary name first, then renamed, so an
    interrupted save never leaves a half-written model and the old file survives."""
    if not model.built:
        model.build()
    document = {"model": model.get_config(), "input_shape": list(model.input_shape)}
    if model.loss is not None:
        document["compile"] = {"optimizer": registry.serialize(model.optimizer),
                               "loss": registry.serialize(model.loss), **model.compile_config}
    arrays = {"format": np.array(FILE_FORMAT), "config": np.array(json.dumps(document))}
    arrays.update({f"weight_{i}": weight for i, weight in enumerate(model.get_weights())})
    _write_atomically(path, arrays)


def save_weights(model, path):
    """Write ``model.get_weights()`` alone (format ``WEIGHTS_FORMAT``), atomically as
    ``save_model`` writes; ``load_weights`` reads it into a model of the same layers."""
    if not model.built:
        model.build()
    arrays = {"format": np.array(WEIGHTS_FORMAT)}
    arrays.update({f"weight_{i}": weight for i, weight in enumerate(model.get_weights())})
    _write_atomically(path, arrays)


def load_weights(model, path):
    """Set ``model``'s weights from a file of ``save_weights`` (or ``save_model``); the
    count and shapes are checked before any weight changes."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            marker = str(archive["format"]) if "format" in archive.files else None
            if marker not in (WEIGHTS_FORMAT, FILE_FORMAT):
                raise _NotAModelFile(f"no '{WEIGHTS_FORMAT}' format marker")
            count = sum(name.startswith("weight_") for name in archive.files)
            weights = [archive[f"weight_{i}"] for i in range(count)]
    except FileNotFoundError:
        raise
    except (_NotAModelFile, zipfile.BadZipFile, EOFError, OSError, KeyError, ValueError) as error:
        raise ValueError(f"{path!r} is not a readable nn weights file (truncated, corrupt, or "
                         f"not written by save_weights): {error}") from error
    try:
        model.set_weights(weights)
    except ValueError as error:
        raise ValueError(f"{path!r} holds weights that do not fit the model: {error}") from error


def _write_atomically(path, arrays):
    """``np.savez`` to a temporary name in the same directory, then renamed over ``path``:
    an interrupted write never leaves a half-written file, and the old file survives."""
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
    """Load a model written by ``save``; refuse anything else with an error that says why.

    A file that is not an nn model, or is truncated or corrupt, is refused as such; a
    file that names a layer class this program has not defined, or whose weights do
    not fit its layers, is refused with that reason.
    """
    path = os.fspath(path)
    document, weights = _read(path)
    try:
        model = Sequential.from_config(document["model"])
        model.build(tuple(document["input_shape"]))
    except (ValueError, TypeError) as error:
        raise ValueError(f"{path!r} cannot be rebuilt: {error}") from error
    try:
        model.set_weights(weights)
    except ValueError as error:
        raise ValueError(f"{path!r} holds weights that do not fit its layers: {error}") from error
    if "compile" in document:
        compiled = document["compile"]
        model.compile(optimizer=compiled["optimizer"], loss=compiled["loss"],
                      metrics=compiled.get("metrics"),
                      weighted_metrics=compiled.get("weighted_metrics"))
    return model


def _read(path):
    """The JSON document and the weights of a model file, or a ValueError naming the file."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "format" not in archive.files or str(archive["format"]) != FILE_FORMAT:
                raise _NotAModelFile(f"no '{FILE_FORMAT}' format marker")
            document = json.loads(str(archive["config"]))
            weights = [archive[f"weight_{i}"] for i in range(len(archive.files) - 2)]
        for key in ("model", "input_shape"):
            if key not in document:
                raise _NotAModelFile(f"its config has no {key!r}")
        if not isinstance(document["model"].get("layers"), list):
            raise _NotAModelFile("its config lists no layers")
    except FileNotFoundError:
        raise
    except (_NotAModelFile, zipfile.BadZipFile, EOFError, OSError, KeyError, TypeError, ValueError,
            AttributeError) as error:
        raise ValueError(f"{path!r} is not a readable nn model file (truncated, corrupt, or not "
                         f"written by model.save): {error}") from error
    return document, weights


class _NotAModelFile(Exception):
    pass
