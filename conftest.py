"""pytest configuration for the whole repository, notebooks included.

`pytest.ini` turns on nbval, so `pytest` also replays every notebook in book/: each
code cell runs again in a fresh kernel (this Python, --nbval-current-env) and its new
outputs are compared with the outputs stored in the .ipynb, after the substitutions
in tests/sanitize.cfg. This file sits at the repository root, not in tests/, because
pytest loads a conftest.py only from the directories of the paths it is given and
their parents: `pytest book/01_neuron.ipynb` never reads tests/conftest.py.
"""
from pathlib import Path

# Rendered images are not compared: the same figure can differ by a few bytes between
# matplotlib, FreeType or libpng builds. nbval already skips plain image/png and
# image/jpeg; `glue(name, fig, display=False)` stores the same images under
# application/papermill.record/<mime type>, which nbval would compare byte for byte.
# (Their text/plain twin, "<Figure size ... with 1 Axes>", is still compared.)
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "application/pdf")
GLUE_PREFIX = "application/papermill.record/"
SKIP_COMPARE = _IMAGE_TYPES + tuple(GLUE_PREFIX + mime for mime in _IMAGE_TYPES)


def _nbval_enabled(config):
    return getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False)


def pytest_configure(config):
    if not _nbval_enabled(config):
        return
    # pytest.ini names the sanitize file relative to the repository root; nbval opens it
    # relative to the working directory. Resolve it so pytest works from any folder.
    sanitize = getattr(config.option, "nbval_sanitize_with", None)
    if sanitize and not Path(sanitize).is_absolute():
        config.option.nbval_sanitize_with = str(config.rootpath / sanitize)
    # In a fresh environment the first `import matplotlib.pyplot` prints "Matplotlib is
    # building the font cache" on stderr, an output the stored notebook does not have.
    # Build the cache here, before any kernel starts (kernels share it).
    try:
        import matplotlib.font_manager  # noqa: F401
    except ImportError:
        pass


def pytest_collectstart(collector):
    """Extend the output types that nbval leaves out of the comparison of a notebook."""
    skip_compare = getattr(collector, "skip_compare", None)
    if skip_compare is not None and collector.path.suffix == ".ipynb":
        collector.skip_compare = tuple(skip_compare) + tuple(
            mime for mime in SKIP_COMPARE if mime not in skip_compare
        )
