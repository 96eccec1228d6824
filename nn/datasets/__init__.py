"""Real data sets, downloaded once, verified and cached: ``from nn.datasets import mnist``.

- ``mnist``: handwritten digits, ``mnist.load_data()`` -> ((x_train, y_train), (x_test, y_test))
- ``tinyshakespeare``: plain text for character models, ``tinyshakespeare.load_data()`` -> str

Each loader raises ``DataNotAvailableError`` (an OSError) saying where it looked when its
files can be neither found nor downloaded; see ``nn.datasets._download`` for where they are
looked for (the cache, then NN_<NAME>_MIRROR, NN_DATA_MIRROR or the public mirrors).
"""
from . import mnist, tinyshakespeare
from ._download import DataNotAvailableError

__all__ = ["DataNotAvailableError", "mnist", "tinyshakespeare"]
