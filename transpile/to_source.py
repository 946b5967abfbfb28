"""gast -> Python source, through one function, with the user's lines as comments.

Every statement carries the `lineno` of the user statement it came from. Before
printing, a marker is put above each run of statements from one user line;
after printing, markers become comments, so the generated code reads::

    def f(x):
        # L12: y = x[11]
        y = checks.getitem(x, 11, 'f.py:12')

and `LineTable` maps each generated line back to the user's file and line.
"""
import re

import astor
import gast

from .errors import Location

_MARK = "__transpile_line_"
_NOTE = "__transpile_comment__:"
_MARK_RE = re.compile(r"^(\s*)('''|\"\"\"|'|\")" + _MARK + r"(\d+)\2\s*$")


class LineTable:
    """Generated line number -> `Location` in the user's source."""

    def __init__(self):
        self.entries = {}   # generated line -> Location

    def lookup(self, gen_line):
        best = None
        for line in sorted(self.entries):
            if line > gen_line:
                break
            best = self.entries[line]
        return best

    def find(self, basename, lineno):
        import os
        for loc in self.entries.values():
            if loc.lineno == lineno and os.path.basename(loc.filename) == basename:
                return loc
        return None


def comment(text):
    """A statement that prints as `# text` in the generated source."""
    return gast.Expr(value=gast.Constant(value=_NOTE + text, kind=None))


def _mark_body(body, src, locations):
    out = []
    last = None
    for stmt in body:
        line = getattr(stmt, "lineno", None)
        if line is not None and line != last:
            locations.append(src.location(stmt))
            mark = gast.Expr(value=gast.Constant(value=f"{_MARK}{len(locations) - 1}", kind=None))
            out.append(mark)
            last = line
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, _mark_body(inner, src, locations))
        out.append(stmt)
    return out


def to_source(node):
    """The one place gast becomes text."""
    return astor.to_source(gast.gast_to_ast(node))


def function_source(fn_node, src, table_locations):
    """Source of one generated function with user-line comments.

    `table_locations` collects the `Location` of every marker, in order.
    """
    import copy

    node = copy.deepcopy(fn_node)
    node.body = _mark_body(node.body, src, table_locations)
    return to_source(node)


def finish_module(text, locations):
    """Turn markers into comments; return (text, LineTable)."""
    table = LineTable()
    lines = []
    for raw in text.splitlines():
        m = _MARK_RE.match(raw)
        note = raw.strip().strip("'\"")
        if note.startswith(_NOTE):
            indent = raw[: len(raw) - len(raw.lstrip())]
            lines.append(f"{indent}# {note[len(_NOTE):]}")
            continue
        if m:
            loc = locations[int(m.group(3))]
            table.entries[len(lines) + 1] = loc
            lines.append(f"{m.group(1)}# L{loc.lineno}: {loc.text}")
        else:
            lines.append(raw)
    return "\n".join(lines) + "\n", table


def location_of(node_lineno, src):
    return Location(src.filename, node_lineno, src.line_text(node_lineno), src.qualname)
