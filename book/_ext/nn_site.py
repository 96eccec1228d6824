"""Small fixes to the HTML the book's Sphinx extensions write (a local extension).

Two fixes. sphinx-thebe adds its inline configuration script to every page twice on Sphinx 7.4
(``const THEBE_JS_URL = ...`` declared twice), and the second copy throws a SyntaxError in
every reader's console; sphinx-togglebutton's selector comes twice as well. A page keeps
the first copy of each script.

Code in tables (the Keras correspondence) may break a line after `.`, `(`, `,`, `=` or `[`
(a <wbr> there), so a long call wraps between its parts and the table fits the column.
A name is split only between its words (after an underscore, before a capital), and only
when it is longer than 24 characters (`sparse_top_k_categorical_accuracy`,
`SparseCategoricalCrossentropy`), never as `keras.S/equentia/l(`.
"""
import re

_TABLE = re.compile(r"<table.*?</table>", re.S)
_CODE_PIECE = re.compile(r'(<span class="pre">)(.*?)(</span>)', re.S)
_BREAK_AFTER = re.compile(r"([.(,=\[])(?=[^<\s])")
_LONG_NAME = re.compile(r"\w{25,}")
_WORD_END = re.compile(r"(?<=_)(?=\w)|(?<=[a-z])(?=[A-Z])")


def _script_key(script):
    attributes = getattr(script, "attributes", {}) or {}
    # An inline script is added with filename None by one extension and "" by another.
    filename = getattr(script, "filename", script) or ""
    return str(filename), tuple(sorted((key, str(value)) for key, value in attributes.items()))


def keep_each_script_once(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _breakable(match):
    code = _LONG_NAME.sub(lambda name: _WORD_END.sub("<wbr>", name.group(0)), match.group(2))
    return match.group(1) + _BREAK_AFTER.sub(r"\1<wbr>", code) + match.group(3)


def break_code_in_tables(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body and "<table" in body:
        context["body"] = _TABLE.sub(lambda table: _CODE_PIECE.sub(_breakable, table.group(0)), body)


def setup(app):
    app.connect("html-page-context", break_code_in_tables)
    # Last, after the themes have added and hashed their assets.
    app.connect("html-page-context", keep_each_script_once, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
