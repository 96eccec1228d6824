"""Tiny Shakespeare: about 40,000 lines of Shakespeare's plays as one plain-text string.

    from nn.datasets import tinyshakespeare
    text = tinyshakespeare.load_data()   # 1,115,394 characters, 65 distinct ones

The corpus Andrej Karpathy gathered for his character-level language models (char-rnn):
the file ``data/tinyshakespeare/input.txt`` of the GitHub repository ``karpathy/char-rnn``,
downloaded from ``MIRRORS`` unless a cached or local copy is found (the cache folder, then
``NN_TINYSHAKESPEARE_MIRROR``, else the ``tinyshakespeare/`` folder of ``NN_DATA_MIRROR``;
``nn.datasets._download`` has the details), and checked against its SHA-256 in ``FILES``.
"""
from ._download import fetch

# The one file and its SHA-256.
FILES = {"input.txt": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"}

# The raw file in karpathy/char-rnn on GitHub.
MIRRORS = ["https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/"]


def load_data(cache_dir=None):
    """Load Tiny Shakespeare as one str: the file's bytes decoded as UTF-8, nothing changed.

    Fetches ``input.txt`` as the module docstring describes; raises
    nn.datasets.DataNotAvailableError, saying where it looked, if that fails.
    """
    paths = fetch("tinyshakespeare", FILES, MIRRORS, cache_dir)
    return paths["input.txt"].read_bytes().decode("utf-8")
