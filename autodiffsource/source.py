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

    def loc(self, node: ast.AST) -> SourceLoc:
        """The user's location of any node inside this function."""
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


def parse_function(fn) -> ParsedFunction:
    """Parse ``fn``'s source into an AST whose line and column numbers are those of its file."""
    if not isinstance(fn, types.FunctionType):
        raise _no_source(fn, f"it is a {type(fn).__name__}, not a Python function")
    if fn.__name__ == "<lambda>":
        raise _no_source(fn, "it is a lambda; lambdas can only be differentiated inside a δ function")
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
