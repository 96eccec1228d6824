"""MNIST handwritten digits, loaded the way ``keras.datasets.mnist.load_data()`` does.

    from nn.datasets import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()

x_train: (60000, 28, 28) uint8   y_train: (60000,) uint8 digits 0-9
x_test:  (10000, 28, 28) uint8   y_test:  (10000,) uint8

The four official files are looked for in the cache folder (the ``cache_dir`` argument, else
``$NN_DATA_DIR/mnist``, else ``~/.cache/nn/mnist``), then on the mirrors: those in
``NN_MNIST_MIRROR`` (folders or base URLs holding the files), else the ``mnist/`` folder of
those in ``NN_DATA_MIRROR``, else ``MIRRORS``. Local folders are read in place; downloads go
into the cache folder. Every file is checked against its SHA-256 in ``FILES`` before it is
used. ``nn.datasets._download`` has the details.
"""
import gzip
import math
import os
import struct
import zlib

import numpy as np

from ._download import DataNotAvailableError, fetch

# The four official files and the SHA-256 of each.
FILES = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

# Public copies of the files (the original site, yann.lecun.com, often refuses downloads).
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]


class MNISTNotAvailableError(DataNotAvailableError):
    """Some MNIST files are neither in the cache nor obtainable from any mirror."""


def load_data(cache_dir=None):
    """Load MNIST as four uint8 arrays: ((x_train, y_train), (x_test, y_test)).

    x_train: (60000, 28, 28)  y_train: (60000,)  x_test: (10000, 28, 28)  y_test: (10000,)
    Pixels are 0 (background) to 255 (ink); labels are the digits 0 to 9.
    Missing files are fetched as the module docstring describes (one line per download
    goes to stderr); raises MNISTNotAvailableError, saying where it looked, if that fails.
    """
    paths = fetch("mnist", FILES, MIRRORS, cache_dir, error_type=MNISTNotAvailableError)
    x_train = read_idx(paths["train-images-idx3-ubyte.gz"])
    y_train = read_idx(paths["train-labels-idx1-ubyte.gz"])
    x_test = read_idx(paths["t10k-images-idx3-ubyte.gz"])
    y_test = read_idx(paths["t10k-labels-idx1-ubyte.gz"])
    return (x_train, y_train), (x_test, y_test)


def read_idx(source):
    """Read an IDX file, the format of the MNIST files (gzipped or not), into an array.

    source: a path, or a binary file object.
    An IDX file is a header followed by the values in row-major order::

        bytes 0-1     0x00 0x00
        byte  2       type of the values: 0x08 = unsigned byte (the only type MNIST uses)
        byte  3       number of dimensions, d
        4 d bytes     the size of each dimension, big-endian unsigned 32-bit integers
        the rest      size_1 * ... * size_d values, one byte each

    returns a uint8 array of shape (size_1, ..., size_d), e.g. (60000, 28, 28).
    """
    if hasattr(source, "read"):
        name, content = getattr(source, "name", "<file object>"), source.read()
    else:
        name = os.fspath(source)
        with open(source, "rb") as file:
            content = file.read()
    if content[:2] == b"\x1f\x8b":  # gzip's signature; an IDX file starts with 00 00
        try:
            content = gzip.decompress(content)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise ValueError(f"{name} is truncated or corrupt ({error}). "
                             "Delete it so that a fresh copy is fetched.") from error

    if content[:3] != b"\x00\x00\x08" or len(content) < 4:
        raise ValueError(f"{name} is not an IDX file of unsigned bytes: expected it to start "
                         f"with 00 00 08, received {content[:4].hex(' ')!r}")
    ndim = content[3]
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise ValueError(f"{name} is truncated: its header announces {ndim} dimensions "
                         f"but the file ends after {len(content)} bytes")
    shape = struct.unpack(f">{ndim}I", content[4:header_size])
    expected, received = math.prod(shape), len(content) - header_size
    if received != expected:
        raise ValueError(f"{name}: the header announces shape {shape}, so {expected} bytes "
                         f"of values are expected, but the file holds {received}")
    # frombuffer gives a read-only view of the bytes; copy to get an ordinary array.
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape).copy()

