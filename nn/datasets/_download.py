"""Finding a data set's files: the cache folder, mirrors, SHA-256 checks, atomic downloads.

Every loader in ``nn.datasets`` calls ``fetch`` with its file table and public mirrors::

    paths = fetch("mnist", FILES, MIRRORS, cache_dir)  # {file name: Path of a verified copy}

Each file of data set ``<name>`` is looked for, in order:

1. in the cache folder: the ``cache_dir`` argument, else ``$NN_DATA_DIR/<name>``, else
   ``$XDG_CACHE_HOME/nn/<name>`` or ``~/.cache/nn/<name>`` (``%LOCALAPPDATA%\\nn\\<name>``
   on Windows);
2. on the mirrors, in order: those in ``NN_<NAME>_MIRROR`` (e.g. ``NN_MNIST_MIRROR``), which
   hold the data set's files directly; else those in ``NN_DATA_MIRROR``, which hold one
   folder per data set (``mnist/``, ``tinyshakespeare/``); else the data set's public
   mirrors. Both variables take a comma-separated list. A mirror is a base URL
   (``https://...``) or a local folder (a path, relative to the working directory, or a
   ``file://`` URL).

Files in a local folder are checked and read where they are, without copying them. Files
from a URL are downloaded into the cache folder: the bytes go to a temporary file beside
the target, which is renamed into place only once complete and verified, and removed on
any error, Ctrl-C included. A server that does not answer is not asked again during the same
call, so a dead mirror costs one timeout, not one per file. Every file is checked against
its SHA-256 before it is used.
"""
import contextlib
import hashlib
import http.client
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

TIMEOUT = 30  # seconds to wait for a mirror to answer


class DataNotAvailableError(OSError):
    """Some files of a data set are neither in the cache nor obtainable from any mirror."""


def fetch(dataset, files, mirrors, cache_dir=None, error_type=DataNotAvailableError):
    """Find a verified copy of every file of a data set, downloading missing ones.

    ::

        dataset:    the data set's name, e.g. "mnist"; it names the cache subfolder, the
                    subfolder on an NN_DATA_MIRROR and the variable NN_MNIST_MIRROR
        files:      {file name: SHA-256 as 64 hex digits}
        mirrors:    the public base URLs, tried when no environment variable names mirrors
        cache_dir:  the cache folder; None for the default (see the module docstring)
        error_type: the DataNotAvailableError subclass to raise

    Returns {file name: Path}, every file complete and matching its SHA-256. Raises
    error_type, listing where each missing file was looked for and why each place failed,
    if some file cannot be had. Prints one line to stderr per download.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", dataset):
        raise ValueError("dataset must be a lowercase name of letters, digits and "
                         f"underscores, such as 'mnist'; received {dataset!r}")
    cache = cache_folder(dataset, cache_dir)
    places, source = mirror_list(dataset, mirrors)
    unreachable = {}  # server -> why it did not answer
    paths, failures = {}, {}
    for name, sha256 in files.items():
        paths[name], failures[name] = _locate(name, sha256, cache, places, unreachable)
    missing = [name for name, path in paths.items() if path is None]
    if missing:
        raise error_type(_not_available_message(dataset, files, missing, failures, cache,
                                                source))
    return paths


def cache_folder(dataset, cache_dir=None):
    """The folder that holds downloaded files: cache_dir, NN_DATA_DIR, or the user cache."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("NN_DATA_DIR"):
        return Path(os.environ["NN_DATA_DIR"]).expanduser() / dataset
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nn" / dataset


def mirror_list(dataset, public):
    """The mirrors to try for `dataset`, in order, and where that list came from.

    returns (mirrors, source): the entries of NN_<DATASET>_MIRROR; else those of
    NN_DATA_MIRROR, each extended by the data set's folder; else `public`. source is the
    variable's name, or None for the public mirrors.
    """
    own = f"NN_{dataset.upper()}_MIRROR"
    if _entries(own):
        return _entries(own), own
    bases = _entries("NN_DATA_MIRROR")
    if bases:
        return [base.rstrip("/\\") + "/" + dataset + "/" for base in bases], "NN_DATA_MIRROR"
    return list(public), None


def _entries(variable):
    """The non-empty entries of a comma-separated environment variable."""
    entries = [entry.strip() for entry in os.environ.get(variable, "").split(",")]
    return [entry for entry in entries if entry]


def _locate(name, sha256, cache, mirrors, unreachable):
    """Find a verified copy of file `name`, downloading it into `cache` if need be.

    returns (path, failures): path is None if no place worked, and failures lists
    (place, reason) for every place that did not.
    """
    cached = cache / name
    problem = _problem_with(cached, sha256)
    if problem is None:
        return cached, []
    failures = [(f"cache folder {cache}", problem)]
    for mirror in mirrors:
        folder = _local_folder(mirror)
        if folder is not None and not folder.is_dir():
            problem = "no such folder"
        elif folder is not None:
            problem = _problem_with(folder / name, sha256)
            if problem is None:
                return folder / name, failures
        elif _server(mirror) in unreachable:
            problem = f"{unreachable[_server(mirror)]} (no answer before, so not asked again)"
        else:
            try:
                _download(mirror.rstrip("/") + "/" + name, cached, sha256)
                return cached, failures
            except (OSError, ValueError, http.client.HTTPException) as error:
                problem = f"{type(error).__name__}: {error}"
                if _did_not_answer(error):
                    unreachable[_server(mirror)] = problem
        failures.append((mirror, problem))
    return None, failures


def _server(url):
    """The scheme and host of a URL: what a dead mirror shares with its neighbours."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _did_not_answer(error):
    """Whether a download failed because the server never answered (not, e.g., a 404)."""
    if isinstance(error, urllib.error.HTTPError):
        return False
    return isinstance(error, (urllib.error.URLError, TimeoutError))


def _problem_with(path, sha256):
    """Why `path` cannot serve as the file with this SHA-256, or None if it can."""
    if not path.is_file():
        return "not found"
    digest = _sha256(path)
    if digest != sha256:
        return f"SHA-256 mismatch: expected {sha256}, received {digest}"
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
            _copy_url(url, partial)
            partial.flush()
            os.fsync(partial.fileno())
        digest = _sha256(partial.name)
        if digest != sha256:
            raise ValueError(f"SHA-256 mismatch: expected {sha256}, received {digest}")
        os.replace(partial.name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial.name)
        raise


def _copy_url(url, file):
    """Copy the bytes at `url` into the open binary `file` (the only use of the network)."""
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        shutil.copyfileobj(response, file)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _local_folder(mirror):
    """The folder a mirror names if it is local (a path or a file:// URL), else None."""
    url = urllib.parse.urlparse(mirror)
    if url.scheme == "file":
        return Path(urllib.request.url2pathname(url.path))
    if "://" in mirror:
        return None
    return Path(mirror).expanduser().resolve()


def _not_available_message(dataset, files, missing, failures, cache, source):
    """Say which files are missing, where each was looked for, and how to supply them."""
    own = f"NN_{dataset.upper()}_MIRROR"
    lines = [f"{dataset} files not available: {', '.join(missing)}",
             "Looked for them in the cache folder and on "
             + (f"the mirrors in {source}:" if source else "the public mirrors:")]
    for name in missing:
        lines.append(f"  {name}:")
        lines += [f"    {place}: {reason}" for place, reason in failures[name]]
    lines += [
        "To supply them, do one of these:",
        f"  - put them in {cache} (or pass cache_dir=... to load_data);",
        f"  - set {own} to a folder, file:// URL or base URL that holds them "
        "(several mirrors: separate them with commas);",
        f"  - set NN_DATA_MIRROR to a folder or base URL whose {dataset}/ subfolder holds "
        f"them ({own}, if set, takes precedence);",
        f"  - set NN_DATA_DIR to a folder whose {dataset}/ subfolder holds them.",
        "Their SHA-256 sums:",
    ]
    lines += [f"  {files[name]}  {name}" for name in missing]
    return "\n".join(lines)
