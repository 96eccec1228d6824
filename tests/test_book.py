"""The chapters as files: what a reader sees must be the lesson, typeset and legible.

These checks read the stored notebooks (no kernel, no browser) and hold the page rules of
`../shared/GUIDE.md` ("Chapters"): code that fits the column, glue and build-time asserts
out of sight, figures in SVG with alt text and labels that stay legible on a phone,
equations cited by their printed numbers, numbers set as a textbook sets them, each
listing of the library shown once. The browser test (tests/test_site.py) measures the
same things on the built pages.
"""
import ast
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from myst_nb.core.variables import format_plain_text

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
GLUE_PREFIX = "application/papermill.record/"

#: The longest code line a 1280 px page shows without scrolling (PEP 8's limit).
MAX_CODE_LINE = 79
#: Width of the text column on a 390 px phone, in CSS px (measured by tests/test_site.py).
PHONE_COLUMN_PX = 358
#: The smallest label a reader can read without zooming, in CSS px at that width.
MIN_LABEL_PX = 8.0
#: matplotlib's SVG backend draws a glyph of size s pt as `scale(s/100 -s/100)`.
SVG_GLYPH_SCALE = re.compile(r"scale\(([0-9.]+) -\1\)")
SVG_WIDTH = re.compile(r'<svg[^>]*\bwidth="([0-9.]+)pt"')
#: Python's repr of a float in scientific notation, e.g. 1.65e+00 or 3e-07.
COMPUTER_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?e[+-]?\d+\b")
HIDDEN_INPUT_TAGS = {"remove-cell", "remove-input"}


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell):
    return "".join(cell["source"])


def tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def code_cells(notebook):
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def markdown(notebook):
    return "\n\n".join(source(cell) for cell in notebook["cells"] if cell["cell_type"] == "markdown")


def ids(paths):
    return [path.stem for path in paths]


def statements(code):
    """The top-level statements of a cell, or None when it is not plain Python."""
    if code.lstrip().startswith(("%", "!")):
        return None
    try:
        return ast.parse(code).body
    except SyntaxError:
        return None


def is_plumbing(statement):
    """A statement that exists for the build: a glue call, an assert, importing glue."""
    if isinstance(statement, ast.Assert):
        return True
    if isinstance(statement, ast.ImportFrom) and statement.module == "myst_nb":
        return True
    for node in ast.walk(statement):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "glue":
            return True
    return False


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_code_fits_the_column(path):
    """Every code line fits a 1280 px page (79 characters); comments go above the line."""
    long_lines = [
        f"cell {number}: {len(line)} characters: {line[:60]}..."
        for number, cell in enumerate(load(path)["cells"]) if cell["cell_type"] == "code"
        for line in source(cell).splitlines() if len(line) > MAX_CODE_LINE
    ]
    assert not long_lines, "\n".join(long_lines)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_readers_do_not_see_the_plumbing(path):
    """glue calls and the asserts that keep the prose true live in cells readers do not see.

    A cell whose input is shown may assert as part of the lesson (a check the text
    discusses), but it may not consist of asserts and glue alone, and it may not glue.
    """
    problems = []
    for number, cell in enumerate(code_cells(load(path))):
        if tags(cell) & HIDDEN_INPUT_TAGS:
            continue
        body = statements(source(cell))
        if not body:
            continue
        plumbing = [statement for statement in body if is_plumbing(statement)]
        first_line = source(cell).splitlines()[0][:60]
        if len(plumbing) == len(body):
            problems.append(f"cell {number} only glues or asserts: {first_line}")
        elif any(not isinstance(statement, ast.Assert) for statement in plumbing):
            problems.append(f"cell {number} shows a glue call: {first_line}")
    assert not problems, "\n".join(problems)


def figure_outputs(notebook):
    """(cell number, cell, mime type, data) for every image a chapter stores."""
    for number, cell in enumerate(code_cells(notebook)):
        for output in cell.get("outputs", []):
            for mime, data in output.get("data", {}).items():
                kind = mime[len(GLUE_PREFIX):] if mime.startswith(GLUE_PREFIX) else mime
                if kind.startswith("image/"):
                    yield number, cell, kind, "".join(data)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_figures_are_legible_on_a_phone(path):
    """Figures are SVG and their smallest text is at least 8 CSS px in a 358 px column.

    An SVG figure `w` pt wide is shown at its natural size (w * 4/3 CSS px) or shrunk to
    the column, whichever is smaller; a glyph of `s` pt then measures
    s * min(358, 4/3 w) / w CSS px. nn.plotting.use_book_style() makes figures SVG.
    """
    problems = []
    for number, _, kind, data in figure_outputs(load(path)):
        if kind != "image/svg+xml":
            problems.append(f"cell {number}: a {kind} figure (use_book_style() shows SVG)")
            continue
        width_pt = float(SVG_WIDTH.search(data).group(1))
        sizes = [100 * float(scale) for scale in SVG_GLYPH_SCALE.findall(data)]
        if not sizes:
            continue  # no text in the figure (an image grid)
        shown_px = min(PHONE_COLUMN_PX, width_pt * 4 / 3)
        smallest_px = min(sizes) * shown_px / width_pt
        if smallest_px < MIN_LABEL_PX:
            problems.append(
                f"cell {number}: {width_pt / 72:.1f} in wide with {min(sizes):.1f} pt text: "
                f"{smallest_px:.1f} px on a phone (at least {MIN_LABEL_PX:g}: narrow the "
                f"figure, stack its panels or raise the font to "
                f"{MIN_LABEL_PX * width_pt / shown_px:.1f} pt)")
    assert not problems, "\n".join(problems)


GLUE_FIGURE = re.compile(r"```\{glue:figure\} (\S+)\n((?::\w+:.*\n)*)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_every_figure_has_alt_text(path):
    """A figure says in a sentence what it shows, for readers who cannot see it."""
    notebook = load(path)
    problems = []
    shown = set()
    for number, cell, _, _ in figure_outputs(notebook):
        if number in shown or tags(cell) & {"remove-cell", "remove-output"}:
            continue
        shown.add(number)
        if any(GLUE_PREFIX in mime for output in cell.get("outputs", []) for mime in output.get("data", {})):
            continue  # glued: the {glue:figure} directive carries the alt text
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")
        if len(alt.split()) < 5:
            problems.append(f"cell {number}: no alt text (metadata mystnb.image.alt): {source(cell)[:50]}")
    for match in GLUE_FIGURE.finditer(markdown(notebook)):
        options = dict(re.findall(r":(\w+): *(.*)", match.group(2)))
        if len(options.get("alt", "").split()) < 5:
            problems.append(f"glue:figure {match.group(1)}: no :alt: sentence")
    assert not problems, "\n".join(problems)


EQUATION_LABEL = re.compile(r"#.*\beq-[\w-]+")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_code_cites_printed_equation_numbers(path):
    """A comment cites "(6.12)", the number the reader sees, not the label eq-opt-adam."""
    problems = [
        f"cell {number}: {match.group(0).strip()}"
        for number, cell in enumerate(code_cells(load(path)))
        for match in EQUATION_LABEL.finditer(source(cell))
    ]
    assert not problems, "\n".join(problems)


GLUE_TEXT = re.compile(r"\{glue:text\}`([^`:]+)(?::([^`]*))?`")


def glued_plain_text(notebook):
    values = {}
    for cell in code_cells(notebook):
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get(GLUE_PREFIX + "text/plain")
            if name and text is not None:
                values[name] = "".join(text)
    return values


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_numbers_are_typeset(path):
    """Prose prints 1.2 × 10⁻², never 1.20e-02: in the text or in a glued value."""
    notebook = load(path)
    text = markdown(notebook)
    problems = [f"typed: {match.group(0)}" for match in COMPUTER_NUMBER.finditer(
        re.sub(r"`[^`]*`", "", text))]
    values = glued_plain_text(notebook)
    for match in GLUE_TEXT.finditer(text):
        name, spec = match.group(1), match.group(2) or "s"
        if name not in values:
            continue  # a glue from another page, or a missing one (the build catches that)
        shown = format_plain_text(values[name], spec)
        if COMPUTER_NUMBER.search(shown):
            problems.append(f"glued {name} ({spec}) prints as {shown}")
    assert not problems, "\n".join(problems)


LITERALINCLUDE = re.compile(r"```\{literalinclude\} (\S+)\n((?::\w+:.*\n)*)")


def test_each_listing_is_shown_once():
    """A part of nn is shown where the book discusses it, not the same class three times."""
    shown = Counter()
    for path in NOTEBOOKS:
        for match in LITERALINCLUDE.finditer(markdown(load(path))):
            options = dict(re.findall(r":(\w+): *(.*)", match.group(2)))
            part = options.get("pyobject") or options.get("lines") or "the whole file"
            shown[(Path(match.group(1)).name, part)] += 1
    repeated = [f"{name} {part}: {count} times" for (name, part), count in shown.items()
                if count > 1]
    assert not repeated, "\n".join(repeated)


def test_the_licence_is_stated():
    """An open textbook says what readers may do with it: LICENSE, README, front page."""
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "CC BY 4.0" in licence and "MIT License" in licence
    for page in (ROOT / "README.md", ROOT / "book" / "intro.md"):
        text = page.read_text(encoding="utf-8")
        assert "CC BY 4.0" in text and "MIT" in text, f"{page.name} does not state the licence"


def test_scientific_prints_numbers_as_a_textbook_does():
    from nn.plotting import scientific

    assert scientific(3.24e-4) == "3.2 × 10⁻⁴"
    assert scientific(1e-5) == "10⁻⁵"
    assert scientific(-1530, 2) == "−1.53 × 10³"
    assert scientific(2.5) == "2.5"
    assert scientific(-1e-7) == "−10⁻⁷"
