"""MNIST handwritten digits, loaded the way ``keras.datasets.mnist.load_data()`` does.

    from nn.datasets import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()

x_train: (60000, 28, 28) uint8   y_train: (60000,) uint8 digits 0-9
x_test:  (10000, 28, 28) uint8   y_test:  (10000,) uint8

The four official files are looked for, in order:

1. in the cache folder: the ``cache_dir`` argument, else ``$NN_DATA_DIR/mnist``, else
   ``$XDG_CACHE_HOME/nn/mnist`` or ``~/.cache/nn/mnist`` (``%LOCALAPPDATA%\\nn\\mnist``
   on Windows);
2. on the mirrors, in order: ``MIRRORS``, or the comma-separated list in the environment
   variable ``NN_MNIST_MIRROR``. A mirror is a base URL (``https://...``) or a local
   folder (a path, relative to the working directory, or a ``file://`` URL).
   Files from a URL are downloaded into the cache folder; files in a local folder are
   checked and read where they are, without copying them.

Every file is checked against its SHA-256 in ``FILES`` before it is used.
"""
import gzip
import hashlib
import http.client
import math
import os
import shutil
import struct
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

import numpy as np

# The four official files and the SHA-256 of each.
FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

# Public copies of the files (the original site, yann.lecun.com, often refuses downloads).
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]

TIMEOUT = 30  # seconds to wait for a mirror to answer


class MNISTNotAvailableError(OSError):
    """Some MNIST files are neither in the cache nor obtainable from any mirror."""


def load_data(cache_dir=None):
    """Load MNIST as four uint8 arrays: ((x_train, y_train), (x_test, y_test)).

    x_train: (60000, 28, 28)  y_train: (60000,)  x_test: (10000, 28, 28)  y_test: (10000,)
    Pixels are 0 (background) to 255 (ink); labels are the digits 0 to 9.
    Missing files are fetched as the module docstring describes (one line per download
    goes to stderr); raises MNISTNotAvailableError, saying where it looked, if that fails.
    """
    cache_dir = _cache_dir(cache_dir)
    mirrors = _mirrors()
    unreachable = {}  # mirror -> error, so a dead server costs one timeout, not four
    paths, failures = {}, {}
    for name in FILES:
        paths[name], failures[name] = _locate(name, cache_dir, mirrors, unreachable)
    missing = [name for name in FILES if paths[name] is None]
    if missing:
        raise _not_available_error(missing, failures, cache_dir)
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


def _locate(name, cache_dir, mirrors, unreachable):
    """Find a verified copy of file `name`, downloading it into cache_dir if need be.

    returns (path, failures): path is None if no place worked, and failures lists
    (place, reason) for every place that did not.
    """
    cached = cache_dir / name
    problem = _problem_with(cached, name)
    if problem is None:
        return cached, []
    failures = [(f"cache folder {cache_dir}", problem)]
    for mirror in mirrors:
        folder = _local_folder(mirror)
        if folder is not None:
            problem = _problem_with(folder / name, name)
            if problem is None:
                return folder / name, failures
        elif mirror in unreachable:
            problem = unreachable[mirror]
        else:
            try:
                _download(mirror.rstrip("/") + "/" + name, cached, FILES[name])
                return cached, failures
            except (OSError, ValueError, http.client.HTTPException) as error:
                problem = f"{type(error).__name__}: {error}"
                # HTTPError means the server answered (e.g. 404); other URLErrors mean it did not.
                if isinstance(error, urllib.error.URLError) and not isinstance(
                        error, urllib.error.HTTPError):
                    unreachable[mirror] = problem
        failures.append((mirror, problem))
    return None, failures


def _problem_with(path, name):
    """Why `path` cannot serve as MNIST file `name`, or None if it can."""
    if not path.is_file():
        return "not found"
    digest = _sha256(path)
    if digest != FILES[name]:
        return f"SHA-256 mismatch: expected {FILES[name]}, received {digest}"
    return None


def _download(url, target, sha256):
    """Download `url` to `target`, which afterwards is either complete and verified or untouched.

    The bytes go to a temporary file beside `target`, which is renamed only once its hash
    is right; on any error, Ctrl-C included, the temporary file is removed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"Downloading {url} to {target}", file=sys.stderr)
    partial = tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=target.name + ".", suffix=".part", delete=False)
    try:
        with partial:
            _fetch(url, partial)
            partial.flush()
            os.fsync(partial.fileno())
        digest = _sha256(partial.name)
        if digest != sha256:
            raise ValueError(f"SHA-256 mismatch: expected {sha256}, received {digest}")
        os.replace(partial.name, target)
    except BaseException:
        os.remove(partial.name)
        raise


def _fetch(url, file):
    """Copy the bytes at `url` into the open binary `file`."""
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        shutil.copyfileobj(response, file)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_dir(cache_dir):
    """The folder that holds downloaded files: the argument, NN_DATA_DIR, or the user cache."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("NN_DATA_DIR"):
        return Path(os.environ["NN_DATA_DIR"]).expanduser() / "mnist"
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nn" / "mnist"


def _mirrors():
    """The mirrors to try in order: those in NN_MNIST_MIRROR (comma-separated), else MIRRORS."""
    chosen = [mirror.strip() for mirror in os.environ.get("NN_MNIST_MIRROR", "").split(",")]
    return [mirror for mirror in chosen if mirror] or list(MIRRORS)


def _local_folder(mirror):
    """The folder a mirror names if it is local (a path or a file:// URL), else None."""
    url = urllib.parse.urlparse(mirror)
    if url.scheme == "file":
        return Path(urllib.request.url2pathname(url.path))
    if "://" in mirror:
        return None
    return Path(mirror).expanduser().resolve()


def _not_available_error(missing, failures, cache_dir):
    lines = [f"MNIST files not available: {', '.join(missing)}", "Looked for them in:"]
    for name in missing:
        lines.append(f"  {name}:")
        lines += [f"    {place}: {reason}" for place, reason in failures[name]]
    lines += [
        "To supply them, do one of these:",
        f"  - put the four .gz files in {cache_dir} (or pass load_data(cache_dir=...));",
        "  - set NN_MNIST_MIRROR to a folder or file:// URL that holds them "
        "(several mirrors: separate them with commas);",
        "  - set NN_DATA_DIR to a folder whose mnist/ subfolder holds them.",
        f"Their SHA-256 sums are in {__name__}.FILES.",
    ]
    return MNISTNotAvailableError("\n".join(lines))
