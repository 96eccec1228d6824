import functools
import gzip
import hashlib
import http.server
import io
import os
import shutil
import struct
import threading
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from nn.datasets import _download, mnist
from test_datasets import shared_folder

# The shared folder standing in for a download mirror (never copied into the repository):
# where NN_MNIST_MIRROR or NN_DATA_MIRROR point, else ../shared/data/mnist.
SHARED_MNIST, needs_mnist = shared_folder("mnist")
UNREACHABLE = "http://127.0.0.1:9/"  # the discard port: nothing listens there


def idx_bytes(array):
    """Encode a uint8 array as IDX: 00 00 08 ndim, the sizes as big-endian uint32, the values."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Keep the tests away from the real cache, environment and network."""
    monkeypatch.delenv("NN_MNIST_MIRROR", raising=False)
    monkeypatch.delenv("NN_DATA_MIRROR", raising=False)
    monkeypatch.delenv("NN_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "xdg"))
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(variable, "127.0.0.1,localhost")
    monkeypatch.setattr(_download, "TIMEOUT", 5)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A folder with four tiny MNIST look-alikes under the official names, and their arrays.

    The module's hash table is patched to the tiny files' sums.
    """
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 4, 3), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 6, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (2, 4, 3), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 2, dtype=np.uint8),
    }
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name, array in arrays.items():
        (folder / name).write_bytes(gzip.compress(idx_bytes(array)))
        monkeypatch.setitem(mnist.FILES, name, sha256(folder / name))
    return folder, arrays


@pytest.fixture
def http_mirror(tiny):
    """Serve the tiny files over HTTP on localhost; yields the mirror's base URL."""
    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(tiny[0]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def assert_loaded(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for array, name in [(x_train, "train-images-idx3-ubyte.gz"),
                        (y_train, "train-labels-idx1-ubyte.gz"),
                        (x_test, "t10k-images-idx3-ubyte.gz"),
                        (y_test, "t10k-labels-idx1-ubyte.gz")]:
        assert array.dtype == np.uint8
        np.testing.assert_array_equal(array, arrays[name])


# --- read_idx -----------------------------------------------------------------

def test_read_idx_parses_header_and_values(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(idx_bytes(images)))
    result = mnist.read_idx(path)
    assert result.shape == (2, 3, 4) and result.dtype == np.uint8
    np.testing.assert_array_equal(result, images)
    result[0, 0, 0] = 200  # an ordinary, writeable array
    np.testing.assert_array_equal(mnist.read_idx(str(path)), images)


def test_read_idx_reads_uncompressed_file_objects():
    labels = np.array([5, 0, 4, 1, 9], dtype=np.uint8)
    np.testing.assert_array_equal(mnist.read_idx(io.BytesIO(idx_bytes(labels))), labels)


@pytest.mark.parametrize("header", [b"\x00\x00\x0d\x01", b"\x08\x03\x00\x00", b"\x00\x00"])
def test_read_idx_rejects_wrong_magic_number(tmp_path, header):
    path = tmp_path / "bad.idx"
    path.write_bytes(header + struct.pack(">I", 2) + b"\x01\x02")
    with pytest.raises(ValueError, match="bad.idx is not an IDX file.*00 00 08"):
        mnist.read_idx(path)


@pytest.mark.parametrize("extra, received", [(-1, 11), (1, 13)])
def test_read_idx_rejects_size_mismatch(tmp_path, extra, received):
    content = idx_bytes(np.zeros((3, 4), dtype=np.uint8))
    content = content[:extra] if extra < 0 else content + b"\x00" * extra
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(content))
    with pytest.raises(ValueError, match=rf"short.gz.*\(3, 4\).*12 bytes.*holds {received}"):
        mnist.read_idx(path)


def test_read_idx_rejects_truncated_header(tmp_path):
    path = tmp_path / "header.idx"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">I", 60000))
    with pytest.raises(ValueError, match="header.idx is truncated"):
        mnist.read_idx(path)


def test_read_idx_rejects_truncated_gzip(tmp_path):
    compressed = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8).reshape(20, 10)))
    path = tmp_path / "cut.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(ValueError, match="cut.gz is truncated or corrupt.*Delete it"):
        mnist.read_idx(path)


# --- load_data: where the files come from ---------------------------------------

def test_load_from_a_folder_mirror_reads_in_place(tiny, tmp_path, monkeypatch, capsys):
    folder, arrays = tiny
    monkeypatch.setenv("NN_MNIST_MIRROR", str(folder))
    assert_loaded(mnist.load_data(cache_dir=tmp_path / "cache"), arrays)
    assert not (tmp_path / "cache").exists(), "a local mirror is read, not copied"
    assert capsys.readouterr().err == ""


def test_load_from_a_relative_folder_mirror(tiny, tmp_path, monkeypatch):
    folder, arrays = tiny
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NN_MNIST_MIRROR", os.path.join(".", folder.name))
    assert_loaded(mnist.load_data(cache_dir=tmp_path / "cache"), arrays)


def test_load_from_a_file_url_mirror(tiny, tmp_path, monkeypatch):
    folder, arrays = tiny
    monkeypatch.setenv("NN_MNIST_MIRROR", f"{UNREACHABLE}, {folder.as_uri()}/")
    assert_loaded(mnist.load_data(cache_dir=tmp_path / "cache"), arrays)


def test_load_from_nn_data_mirror_reads_its_mnist_folder(tiny, tmp_path, monkeypatch):
    folder, arrays = tiny
    data = tmp_path / "data"
    shutil.copytree(folder, data / "mnist")
    monkeypatch.setenv("NN_DATA_MIRROR", f"{tmp_path / 'elsewhere'},{data}")
    assert_loaded(mnist.load_data(cache_dir=tmp_path / "cache"), arrays)
    assert not (tmp_path / "cache").exists(), "a local mirror is read, not copied"


def test_nn_mnist_mirror_takes_precedence_over_nn_data_mirror(tiny, tmp_path, monkeypatch):
    folder, arrays = tiny
    data, empty = tmp_path / "data", tmp_path / "empty"
    shutil.copytree(folder, data / "mnist")
    empty.mkdir()
    monkeypatch.setenv("NN_DATA_MIRROR", str(data))
    monkeypatch.setenv("NN_MNIST_MIRROR", str(empty))
    with pytest.raises(mnist.MNISTNotAvailableError) as caught:
        mnist.load_data(cache_dir=tmp_path / "cache")
    message = str(caught.value)
    assert "on the mirrors in NN_MNIST_MIRROR:" in message and f"{empty}: not found" in message
    assert str(data) not in message

    (data / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()  # NN_DATA_MIRROR would now fail
    monkeypatch.setenv("NN_MNIST_MIRROR", str(folder))
    assert_loaded(mnist.load_data(cache_dir=tmp_path / "cache"), arrays)


def test_load_uses_the_verified_cache_and_no_mirror(tiny, tmp_path, monkeypatch, capsys):
    folder, arrays = tiny
    cache = tmp_path / "data" / "mnist"
    cache.mkdir(parents=True)
    for name in arrays:
        (cache / name).write_bytes((folder / name).read_bytes())
    monkeypatch.setenv("NN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NN_MNIST_MIRROR", UNREACHABLE)
    monkeypatch.setattr(_download, "_copy_url", lambda url, file: pytest.fail(f"fetched {url}"))
    assert_loaded(mnist.load_data(), arrays)
    assert capsys.readouterr().err == ""


def test_download_over_http_fills_the_cache(http_mirror, tiny, tmp_path, monkeypatch, capsys):
    folder, arrays = tiny
    monkeypatch.setenv("NN_MNIST_MIRROR", http_mirror)
    cache = tmp_path / "xdg" / "nn" / "mnist"  # the default under XDG_CACHE_HOME
    assert_loaded(mnist.load_data(), arrays)
    assert sorted(path.name for path in cache.iterdir()) == sorted(arrays)
    for name in arrays:
        assert (cache / name).read_bytes() == (folder / name).read_bytes()
    messages = capsys.readouterr().err.splitlines()
    assert len(messages) == 4 and all(line.startswith("Downloading") for line in messages)

    monkeypatch.setenv("NN_MNIST_MIRROR", UNREACHABLE)  # the second load needs no mirror
    assert_loaded(mnist.load_data(), arrays)
    assert capsys.readouterr().err == ""


# --- load_data: checksums ------------------------------------------------------

def test_corrupt_cached_file_is_downloaded_again(http_mirror, tiny, tmp_path, monkeypatch):
    folder, arrays = tiny
    cache = tmp_path / "cache"
    cache.mkdir()
    for name in arrays:
        (cache / name).write_bytes((folder / name).read_bytes())
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not the real file")
    monkeypatch.setenv("NN_MNIST_MIRROR", http_mirror)
    assert_loaded(mnist.load_data(cache_dir=cache), arrays)
    assert sha256(cache / "t10k-labels-idx1-ubyte.gz") == mnist.FILES["t10k-labels-idx1-ubyte.gz"]


def test_mirror_with_a_wrong_checksum_is_skipped(tiny, tmp_path, monkeypatch):
    folder, arrays = tiny
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in arrays:
        (bad / name).write_bytes((folder / name).read_bytes())
    (bad / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(6))))
    monkeypatch.setenv("NN_MNIST_MIRROR", f"{bad},{folder}")
    assert_loaded(mnist.load_data(cache_dir=tmp_path / "cache"), arrays)

    monkeypatch.setenv("NN_MNIST_MIRROR", str(bad))
    with pytest.raises(mnist.MNISTNotAvailableError) as caught:
        mnist.load_data(cache_dir=tmp_path / "cache")
    message = str(caught.value)
    assert "not available: train-labels-idx1-ubyte.gz\n" in message
    assert f"{bad}: SHA-256 mismatch" in message


def test_downloaded_file_with_a_wrong_checksum_is_not_kept(http_mirror, tiny, tmp_path,
                                                          monkeypatch):
    folder, _ = tiny
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"tampered")
    monkeypatch.setenv("NN_MNIST_MIRROR", http_mirror)
    cache = tmp_path / "cache"
    with pytest.raises(mnist.MNISTNotAvailableError, match=f"{http_mirror}: ValueError: SHA-256"):
        mnist.load_data(cache_dir=cache)
    assert sorted(path.name for path in cache.iterdir()) == sorted(
        set(mnist.FILES) - {"t10k-images-idx3-ubyte.gz"})


# --- load_data: failures --------------------------------------------------------

def test_missing_files_error_says_what_where_and_how(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("NN_MNIST_MIRROR", f"{empty},{UNREACHABLE}")
    with pytest.raises(mnist.MNISTNotAvailableError) as caught:
        mnist.load_data()
    error = caught.value
    assert isinstance(error, OSError)
    message = str(error)
    for name in mnist.FILES:
        assert name in message
    cache = tmp_path / "xdg" / "nn" / "mnist"
    assert f"cache folder {cache}: not found" in message
    assert f"{empty}: not found" in message
    assert f"{UNREACHABLE}: URLError" in message
    assert "NN_MNIST_MIRROR" in message and "NN_DATA_DIR" in message
    assert not cache.exists() or not any(cache.iterdir())


def test_error_names_only_the_missing_file(tiny, tmp_path, monkeypatch):
    folder, _ = tiny
    (folder / "train-images-idx3-ubyte.gz").unlink()
    monkeypatch.setenv("NN_MNIST_MIRROR", str(folder))
    monkeypatch.setenv("NN_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(mnist.MNISTNotAvailableError) as caught:
        mnist.load_data()
    message = str(caught.value)
    assert "not available: train-images-idx3-ubyte.gz\n" in message
    assert "train-labels-idx1-ubyte.gz:" not in message
    assert str(tmp_path / "data" / "mnist") in message


def test_an_unreachable_mirror_is_tried_once(tmp_path, monkeypatch):
    calls = []

    def refuse(url, file):
        calls.append(url)
        raise urllib.error.URLError("connection refused")

    monkeypatch.setattr(_download, "_copy_url", refuse)
    monkeypatch.setenv("NN_MNIST_MIRROR", UNREACHABLE)
    with pytest.raises(mnist.MNISTNotAvailableError) as caught:
        mnist.load_data(cache_dir=tmp_path / "cache")
    assert calls == [UNREACHABLE + "train-images-idx3-ubyte.gz"]
    assert str(caught.value).count("connection refused") == 4


@pytest.mark.parametrize("interruption", [ConnectionResetError, KeyboardInterrupt])
def test_interrupted_download_leaves_nothing_behind(tmp_path, monkeypatch, interruption):
    def fail_midway(url, file):
        file.write(b"\x1f\x8b" + b"partial download" * 100)
        raise interruption()

    monkeypatch.setattr(_download, "_copy_url", fail_midway)
    monkeypatch.setenv("NN_MNIST_MIRROR", UNREACHABLE)
    cache = tmp_path / "cache"
    expected = KeyboardInterrupt if interruption is KeyboardInterrupt else OSError
    with pytest.raises(expected):
        mnist.load_data(cache_dir=cache)
    assert cache.is_dir(), "the download should have started"
    assert list(cache.iterdir()) == []


# --- the real files (skipped where the shared folder is absent) -------------------

@needs_mnist
def test_real_mnist_loads_like_keras(tmp_path, monkeypatch):
    monkeypatch.setenv("NN_MNIST_MIRROR", str(SHARED_MNIST))
    (x_train, y_train), (x_test, y_test) = mnist.load_data(cache_dir=tmp_path / "cache")
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    assert x_train.max() == 255 and x_test.max() == 255 and x_train.min() == 0


@needs_mnist
def test_real_checksums_match_the_shared_sums_file():
    sums_file = SHARED_MNIST / "SHA256SUMS"
    if not sums_file.is_file():
        pytest.skip(f"no SHA256SUMS beside {SHARED_MNIST}")
    listed = dict(reversed(line.split()) for line in sums_file.read_text().splitlines() if line)
    assert listed == mnist.FILES
