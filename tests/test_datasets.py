"""Tests of what every data set uses (nn.datasets._download) and of nn.datasets.tinyshakespeare.

None of them uses the network: URL mirrors are answered by a patched ``_copy_url``.
"""
import hashlib
import urllib.error
from pathlib import Path

import pytest

from nn import datasets
from nn.datasets import _download, mnist, tinyshakespeare

# Real data sets, one folder each, that stand in for the public mirrors (never copied into
# the repository).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
UNREACHABLE = "http://127.0.0.1:9/"  # the discard port: nothing listens there
VARIABLES = ["NN_DATA_MIRROR", "NN_DATA_DIR", "NN_MNIST_MIRROR", "NN_TINYSHAKESPEARE_MIRROR",
             "NN_TOY_MIRROR"]


def shared_folder(dataset):
    """The folder of real `dataset` files the tests read, found as the loaders find mirrors.

    The first local folder among the mirrors the environment names (NN_<NAME>_MIRROR, else
    NN_DATA_MIRROR/<name>), else ../shared/data/<name> beside the repository. Call it at
    import, before a fixture clears the environment. returns (folder, needs_folder):
    needs_folder is a mark that skips a test where the folder is absent, unless the
    environment named it (then its absence is an error).
    """
    mirrors, source = _download.mirror_list(dataset, [])
    folders = [folder for folder in map(_download._local_folder, mirrors) if folder]
    folder = folders[0] if folders else SHARED_DATA / dataset
    needs_folder = pytest.mark.skipif(
        source is None and not folder.is_dir(),
        reason=f"no {dataset} files at {folder}; set NN_DATA_MIRROR")
    return folder, needs_folder


SHARED_TINYSHAKESPEARE, needs_tinyshakespeare = shared_folder("tinyshakespeare")


def sha256(content):
    return hashlib.sha256(content).hexdigest()


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Keep the tests away from the real cache, the environment's mirrors and the network."""
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "xdg"))
    monkeypatch.setattr(_download, "_copy_url",
                        lambda url, file: pytest.fail(f"tried the network: {url}"))


@pytest.fixture
def toy(tmp_path):
    """A data set "toy" of two small files in a mirror folder: (folder, {name: sha256})."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    contents = {"a.bin": b"\x00\x01 first file", "b.txt": "second file, caf\u00e9\n".encode()}
    for name, content in contents.items():
        (folder / name).write_bytes(content)
    return folder, {name: sha256(content) for name, content in contents.items()}


def serve(monkeypatch, contents):
    """Answer URL mirrors from {url: bytes} (404 for any other URL); returns the URLs asked."""
    asked = []

    def copy_url(url, file):
        asked.append(url)
        if url not in contents:
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        file.write(contents[url])

    monkeypatch.setattr(_download, "_copy_url", copy_url)
    return asked


def served_from(folder, base):
    """{url: bytes} serving every file of `folder` under the base URL `base`."""
    return {base + path.name: path.read_bytes() for path in folder.iterdir()}


# --- where the files are found ------------------------------------------------

def test_a_local_mirror_is_verified_and_read_in_place(toy, tmp_path, monkeypatch, capsys):
    folder, files = toy
    monkeypatch.setenv("NN_TOY_MIRROR", str(folder))
    paths = _download.fetch("toy", files, [UNREACHABLE], cache_dir=tmp_path / "cache")
    assert paths == {name: folder / name for name in files}
    assert not (tmp_path / "cache").exists(), "a local mirror is read, not copied"
    assert capsys.readouterr().err == ""


def test_nn_data_mirror_holds_one_folder_per_data_set(toy, tmp_path, monkeypatch):
    folder, files = toy
    data = tmp_path / "data"
    data.mkdir()
    folder.rename(data / "toy")
    monkeypatch.setenv("NN_DATA_MIRROR", f"{tmp_path / 'empty'}, {data}")
    paths = _download.fetch("toy", files, [UNREACHABLE], cache_dir=tmp_path / "cache")
    assert paths == {name: data / "toy" / name for name in files}


def test_nn_data_mirror_as_a_file_url(toy, tmp_path, monkeypatch):
    folder, files = toy
    data = tmp_path / "data"
    data.mkdir()
    folder.rename(data / "toy")
    monkeypatch.setenv("NN_DATA_MIRROR", data.as_uri())
    paths = _download.fetch("toy", files, [UNREACHABLE], cache_dir=tmp_path / "cache")
    assert paths == {name: data / "toy" / name for name in files}


def test_nn_data_mirror_urls_get_the_data_set_folder(toy, tmp_path, monkeypatch):
    folder, files = toy
    asked = serve(monkeypatch, served_from(folder, "https://example.org/data/toy/"))
    monkeypatch.setenv("NN_DATA_MIRROR", "https://example.org/data/")
    paths = _download.fetch("toy", files, ["https://public.example.org/"])
    assert asked == ["https://example.org/data/toy/a.bin", "https://example.org/data/toy/b.txt"]
    assert paths == {name: tmp_path / "xdg" / "nn" / "toy" / name for name in files}


def test_the_data_set_variable_takes_precedence_over_nn_data_mirror(toy, tmp_path, monkeypatch):
    folder, files = toy
    data = tmp_path / "data"
    (data / "toy").mkdir(parents=True)  # empty: would fail if it were asked
    monkeypatch.setenv("NN_DATA_MIRROR", str(data))
    monkeypatch.setenv("NN_TOY_MIRROR", str(folder))
    assert _download.fetch("toy", files, []) == {name: folder / name for name in files}


def test_public_mirrors_are_used_when_no_variable_names_any(toy, tmp_path, monkeypatch, capsys):
    folder, files = toy
    asked = serve(monkeypatch, served_from(folder, "https://public.example.org/toy/"))
    paths = _download.fetch("toy", files, [UNREACHABLE, "https://public.example.org/toy/"],
                            cache_dir=tmp_path / "cache")
    assert asked[-1] == "https://public.example.org/toy/b.txt"
    for name in files:
        assert paths[name] == tmp_path / "cache" / name
        assert paths[name].read_bytes() == (folder / name).read_bytes()
    assert sorted(path.name for path in (tmp_path / "cache").iterdir()) == sorted(files)
    assert capsys.readouterr().err.count("Downloading https://public.example.org/toy/") == 2


@pytest.mark.parametrize("argument, variable, expected", [
    ("given", "env", "given"),
    (None, "env", "env/toy"),
    (None, None, "xdg/nn/toy"),
])
def test_the_cache_folder(tmp_path, monkeypatch, argument, variable, expected):
    if variable:
        monkeypatch.setenv("NN_DATA_DIR", str(tmp_path / variable))
    cache_dir = tmp_path / argument if argument else None
    assert _download.cache_folder("toy", cache_dir) == tmp_path / expected


def test_a_verified_cached_file_needs_no_mirror(toy, tmp_path, monkeypatch):
    folder, files = toy
    monkeypatch.setenv("NN_DATA_DIR", str(folder.parent))
    folder.rename(folder.parent / "toy")
    monkeypatch.setenv("NN_TOY_MIRROR", UNREACHABLE)  # _copy_url fails the test if asked
    assert _download.fetch("toy", files, []) == {name: tmp_path / "toy" / name for name in files}


# --- checksums and atomic downloads ---------------------------------------------

def test_a_local_file_with_a_wrong_checksum_is_refused(toy, tmp_path, monkeypatch):
    folder, files = toy
    (folder / "b.txt").write_bytes(b"tampered")
    monkeypatch.setenv("NN_TOY_MIRROR", str(folder))
    with pytest.raises(datasets.DataNotAvailableError) as caught:
        _download.fetch("toy", files, [], cache_dir=tmp_path / "cache")
    message = str(caught.value)
    assert "toy files not available: b.txt\n" in message
    assert (f"{folder}: SHA-256 mismatch: expected {files['b.txt']}, "
            f"received {sha256(b'tampered')}") in message


def test_a_downloaded_file_with_a_wrong_checksum_is_not_kept(toy, tmp_path, monkeypatch):
    folder, files = toy
    serve(monkeypatch, {UNREACHABLE + "a.bin": b"tampered"})
    cache = tmp_path / "cache"
    with pytest.raises(datasets.DataNotAvailableError, match="ValueError: SHA-256 mismatch"):
        _download.fetch("toy", {"a.bin": files["a.bin"]}, [UNREACHABLE], cache_dir=cache)
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("interruption", [ConnectionResetError, KeyboardInterrupt])
def test_a_failed_download_leaves_the_target_untouched_and_no_debris(
        toy, tmp_path, monkeypatch, interruption):
    folder, files = toy
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "a.bin").write_bytes(b"an old, corrupt copy")

    def fail_midway(url, file):
        file.write((folder / "a.bin").read_bytes()[:4])
        raise interruption()

    monkeypatch.setattr(_download, "_copy_url", fail_midway)
    expected = KeyboardInterrupt if interruption is KeyboardInterrupt else OSError
    with pytest.raises(expected):
        _download.fetch("toy", files, [UNREACHABLE], cache_dir=cache)
    assert [path.name for path in cache.iterdir()] == ["a.bin"]
    assert (cache / "a.bin").read_bytes() == b"an old, corrupt copy"


def test_a_download_goes_through_a_synced_temporary_file_beside_the_target(
        toy, tmp_path, monkeypatch):
    folder, files = toy
    cache = tmp_path / "cache"
    serve(monkeypatch, served_from(folder, UNREACHABLE))
    synced, replaced = [], []
    real_fsync, real_replace = _download.os.fsync, _download.os.replace
    monkeypatch.setattr(_download.os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    monkeypatch.setattr(_download.os, "replace",
                        lambda source, target: replaced.append((Path(source), Path(target)))
                        or real_replace(source, target))
    _download.fetch("toy", files, [UNREACHABLE], cache_dir=cache)
    assert len(synced) == 2
    assert [target for _, target in replaced] == [cache / name for name in files]
    for source, target in replaced:
        assert source.parent == cache and source.name.startswith(target.name + ".")
        assert source.suffix == ".part"
    assert sorted(path.name for path in cache.iterdir()) == sorted(files)


# --- unreachable mirrors and the error message -------------------------------------

def test_an_unreachable_server_is_asked_once(toy, tmp_path, monkeypatch):
    folder, files = toy
    asked = []

    def refuse(url, file):
        asked.append(url)
        raise urllib.error.URLError("connection refused")

    monkeypatch.setattr(_download, "_copy_url", refuse)
    monkeypatch.setenv("NN_DATA_MIRROR", f"{UNREACHABLE}one/,{UNREACHABLE}two/,{folder.parent}")
    folder.rename(folder.parent / "toy")
    paths = _download.fetch("toy", files, [], cache_dir=tmp_path / "cache")
    assert asked == [UNREACHABLE + "one/toy/a.bin"]
    assert paths == {name: tmp_path / "toy" / name for name in files}


def test_a_server_that_answers_is_asked_again(toy, tmp_path, monkeypatch):
    folder, files = toy
    asked = serve(monkeypatch, {UNREACHABLE + "b.txt": (folder / "b.txt").read_bytes()})
    with pytest.raises(datasets.DataNotAvailableError, match="HTTPError: HTTP Error 404"):
        _download.fetch("toy", files, [UNREACHABLE], cache_dir=tmp_path / "cache")
    assert asked == [UNREACHABLE + "a.bin", UNREACHABLE + "b.txt"]
    assert (tmp_path / "cache" / "b.txt").is_file()


def test_the_error_lists_every_place_and_how_to_supply_the_files(toy, tmp_path, monkeypatch):
    folder, files = toy
    (folder / "a.bin").unlink()
    empty = tmp_path / "empty"
    monkeypatch.setenv("NN_TOY_MIRROR", f"{empty}, {UNREACHABLE}, {folder}")

    def refuse(url, file):
        raise urllib.error.URLError("connection refused")

    monkeypatch.setattr(_download, "_copy_url", refuse)
    cache = tmp_path / "cache"
    with pytest.raises(datasets.DataNotAvailableError) as caught:
        _download.fetch("toy", files, [], cache_dir=cache)
    assert isinstance(caught.value, OSError)
    lines = str(caught.value).splitlines()
    assert lines[:7] == [
        "toy files not available: a.bin",
        "Looked for them in the cache folder and on the mirrors in NN_TOY_MIRROR:",
        "  a.bin:",
        f"    cache folder {cache}: not found",
        f"    {empty}: no such folder",
        f"    {UNREACHABLE}: URLError: <urlopen error connection refused>",
        f"    {folder}: not found",
    ]
    message = "\n".join(lines)
    assert "b.txt" not in message
    assert f"put them in {cache}" in message
    for hint in ("NN_TOY_MIRROR", "NN_DATA_MIRROR", "toy/ subfolder", "NN_DATA_DIR"):
        assert hint in message
    assert lines[-1] == f"  {files['a.bin']}  a.bin"


def test_the_error_type_is_the_callers(tmp_path):
    with pytest.raises(mnist.MNISTNotAvailableError, match="the public mirrors"):
        _download.fetch("toy", {"a.bin": "0" * 64}, [], cache_dir=tmp_path,
                        error_type=mnist.MNISTNotAvailableError)
    assert issubclass(mnist.MNISTNotAvailableError, datasets.DataNotAvailableError)


@pytest.mark.parametrize("name", ["MNIST", "tiny shakespeare", "../mnist", ""])
def test_a_bad_data_set_name_is_refused(name):
    with pytest.raises(ValueError, match=f"lowercase name.*received {name!r}"):
        _download.fetch(name, {}, [])


# --- Tiny Shakespeare ------------------------------------------------------------

def test_tinyshakespeare_returns_the_file_decoded_as_utf8(tmp_path, monkeypatch):
    content = "ROMEO:\r\nBut, soft! what light through yonder window breaks?\nJuli\u00eb\n"
    data = tmp_path / "data"
    (data / "tinyshakespeare").mkdir(parents=True)
    (data / "tinyshakespeare" / "input.txt").write_bytes(content.encode("utf-8"))
    monkeypatch.setitem(tinyshakespeare.FILES, "input.txt", sha256(content.encode("utf-8")))
    monkeypatch.setenv("NN_DATA_MIRROR", str(data))
    text = tinyshakespeare.load_data(cache_dir=tmp_path / "cache")
    assert isinstance(text, str) and text == content


def test_tinyshakespeare_not_available_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("NN_DATA_MIRROR", str(tmp_path))
    with pytest.raises(datasets.DataNotAvailableError) as caught:
        tinyshakespeare.load_data(cache_dir=tmp_path / "cache")
    message = str(caught.value)
    assert message.startswith("tinyshakespeare files not available: input.txt\n")
    assert f"    {tmp_path}/tinyshakespeare/: no such folder\n" in message


@needs_tinyshakespeare
def test_real_tinyshakespeare_through_nn_data_mirror(tmp_path, monkeypatch):
    folder = SHARED_TINYSHAKESPEARE
    monkeypatch.setenv("NN_DATA_MIRROR", str(folder.parent))
    text = tinyshakespeare.load_data(cache_dir=tmp_path / "cache")
    assert len(text) == 1_115_394 and len(set(text)) == 65
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    assert not (tmp_path / "cache").exists()


@needs_tinyshakespeare
def test_real_tinyshakespeare_downloads_from_its_public_url(tmp_path, monkeypatch):
    folder = SHARED_TINYSHAKESPEARE
    url = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/"
    asked = serve(monkeypatch, {url + "input.txt": (folder / "input.txt").read_bytes()})
    assert len(tinyshakespeare.load_data()) == 1_115_394
    assert asked == [url + "input.txt"]
    cached = tmp_path / "xdg" / "nn" / "tinyshakespeare" / "input.txt"
    assert cached.read_bytes() == (folder / "input.txt").read_bytes()


@needs_tinyshakespeare
def test_real_tinyshakespeare_checksum_matches_the_shared_sums_file():
    folder = SHARED_TINYSHAKESPEARE
    sums_file = folder / "SHA256SUMS"
    if not sums_file.is_file():
        pytest.skip(f"no SHA256SUMS in {folder}")
    listed = dict(reversed(line.split()) for line in sums_file.read_text().splitlines() if line)
    assert listed == tinyshakespeare.FILES
