"""Stage 0: a Python function object -> its ``ast.FunctionDef`` with real file line numbers.

Contract: ``parse_function(fn)`` returns a :class:`ParsedFunction` whose ``node`` is the function's
definition with ``lineno``/``col_offset`` equal to those in ``file`` (so every later error and every
generated comment names the user's own line), decorators stripped. Source comes from
``inspect.getsource``, which reads files, ``linecache`` entries (IPython registers each cell there) and
our own generated code. Raises :class:`NoSourceError` where there is none.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import linecache
import re
import sys
import textwrap
import types

from .errors import NoSourceError, SourceLoc


@dataclasses.dataclass
class ParsedFunction:
    """A function's definition, parsed, with where it came from."""

    fn: types.FunctionType
    node: ast.FunctionDef
    file: str
    first_line: int
    # The decorator's walk of ``node`` (frontend/survey.py), for the first call's lowering to take. Not an
    # argument: ``dataclasses.replace`` with another tree must not carry it over.
    survey: object = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def loc(self, node: ast.AST) -> SourceLoc:
        """The user's location of any node inside this function."""
        try:  # (a statement's or expression's: all four there, read directly)
            return SourceLoc(self.file, node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
        except AttributeError:
            pass
        return SourceLoc(
            self.file,
            getattr(node, "lineno", self.first_line),
            getattr(node, "col_offset", 0),
            getattr(node, "end_lineno", None),
            getattr(node, "end_col_offset", None),
        )


def _no_source(fn, why: str) -> NoSourceError:
    name = getattr(fn, "__qualname__", repr(fn))
    short = getattr(fn, "__name__", "name")
    remedy = ("write it as a `def`" if short == "<lambda>"
              else f"give it a custom rule `δ{short}` returning (value, pullback)")
    return NoSourceError(
        f"cannot read the source of `{name}`: {why}",
        hint="autodiffsource transforms Python source. Define the function in a file, a module or a "
        f"notebook cell, or {remedy}.",
    )


_HEADER = re.compile(r"\s*(@|def\s|async\s+def\s)")
_DEF = re.compile(r"\s*(def|async\s+def)\s")


def _parse_in_place(fn) -> ParsedFunction | None:
    """The fast path: the definition's lines parsed where they stand, or None to take the slow path.

    ``inspect.getsourcelines`` finds where a definition ends by running the tokenizer over it (a tenth
    of a 1,000-line function's transform), and the AST of the dedented text then needs every node's
    line and column shifted. Here the block is taken to end before the first later line indented no
    deeper than its first line (blank and comment lines aside); the text is parsed after as many
    newlines as put its first line at its own line number, and an indented definition after an
    ``if 1:`` line, so every location comes out right with no pass over the tree. A wrong guess
    cannot parse (it would end inside a bracket, string or header), so anything unusual takes the
    slow path.
    """
    file = inspect.getsourcefile(fn)
    start = fn.__code__.co_firstlineno
    if not file or start < 1:
        return None
    linecache.checkcache(file)
    module = sys.modules.get(fn.__module__)
    lines = linecache.getlines(file, getattr(module, "__dict__", None))
    if start > len(lines) or not _HEADER.match(lines[start - 1]):
        return None
    first = lines[start - 1]
    indent = len(first) - len(first.lstrip())
    header = start
    while header <= len(lines) and not _DEF.match(lines[header - 1]):  # past the decorators
        header += 1
    end = header
    for number in range(header + 1, len(lines) + 1):
        line = lines[number - 1]
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(line) - len(stripped) <= indent:
            break
        end = number
    text = "".join(lines[start - 1:end])
    if indent:
        if start < 2:
            return None
        text = "\n" * (start - 2) + "if 1:\n" + text
    else:
        text = "\n" * (start - 1) + text
    try:
        module_node = ast.parse(text)
    except SyntaxError:
        return None
    node = module_node.body[0] if module_node.body else None
    if indent and isinstance(node, ast.If):
        node = node.body[0]
    if not isinstance(node, ast.FunctionDef) or node.name != fn.__name__ or len(module_node.body) != 1:
        return None
    node.decorator_list = []
    return ParsedFunction(fn, node, file, start)


def parse_function(fn) -> ParsedFunction:
    """Parse ``fn``'s source into an AST whose line and column numbers are those of its file."""
    if not isinstance(fn, types.FunctionType):
        raise _no_source(fn, f"it is a {type(fn).__name__}, not a Python function")
    if fn.__name__ == "<lambda>":
        raise _no_source(fn, "it is a lambda; lambdas can only be differentiated inside a δ function")
    try:
        parsed = _parse_in_place(fn)
    except (OSError, TypeError, ValueError, IndexError):  # whatever the fast path trips on, the slow path reports
        parsed = None
    if parsed is not None:
        return parsed
    try:
        lines, first_line = inspect.getsourcelines(fn)
    except (OSError, TypeError) as err:
        origin = fn.__code__.co_filename
        if origin.startswith("<") and origin.endswith(">"):  # <stdin>, <string>, exec'd text
            raise _no_source(fn, f"it was defined in {origin}, where Python keeps no source") from None
        raise _no_source(fn, str(err)) from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = len(lines[0]) - len(lines[0].lstrip())
    try:
        module = ast.parse(dedented)
    except SyntaxError as err:  # e.g. a def continued by a decorator on one line
        raise _no_source(fn, f"its source does not parse on its own ({err.msg})") from None
    defs = [n for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not defs or defs[0].name != fn.__name__:
        raise _no_source(fn, "the source found for it is not its definition")
    node = defs[0]
    if isinstance(node, ast.AsyncFunctionDef):
        raise _no_source(fn, "async functions cannot be differentiated")
    ast.increment_lineno(node, first_line - 1)
    if indent:
        for sub in ast.walk(node):
            if hasattr(sub, "col_offset"):
                sub.col_offset += indent
                if getattr(sub, "end_col_offset", None) is not None:
                    sub.end_col_offset += indent
    node.decorator_list = []
    file = inspect.getsourcefile(fn) or fn.__code__.co_filename
    return ParsedFunction(fn, node, file, first_line)
