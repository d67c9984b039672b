"""Stage 4: generated text -> a live function, compiled under a filename that ``linecache`` knows.

Contract: ``load(text, factory, user_globals, bindings, filename)`` compiles ``text`` with the user's
module globals (so the user's own names resolve live, as in their function), calls the factory with the
bound helpers and returns the δ function, with ``__source__`` set. Tracebacks, ``inspect`` and pdb then
show the generated text, not ``<string>``.

Exceptions that escape generated code get a note naming the user's line (``add_note``): the compiled
code is the displayed text with each generated function's body wrapped in ``try/except`` whose handler
sits on the ``def`` line. The text (and every line number in it) is unchanged, and since Python 3.11 a
``try`` costs nothing until something is raised, so the hot path runs the same bytecode as before.
The generated-line -> user-line map comes from the ``# file:line  source`` comments emit.py writes
above each block (read when first needed), and is attached to the δ function as ``__linemap__``.

What is compiled is emit.py's own tree when it comes with exact locations (``tree``): parsing the text
back cost a third of a 1,000-line function's transform. The text is parsed only when there is no such
tree, or when the tree does not compile as it stands (a constant of a type the compiler refuses, such
as a NumPy scalar, which the text spells as a call): the text is what users read, so it decides.
"""

from __future__ import annotations

import ast
import collections.abc
import linecache
import os
import re
import sys

from ..errors import SourceLoc
from ..transform.codeparts import Comment

_COMMENT = re.compile(r"^\s*# (?P<file>[^\s:][^:]*):(?P<line>\d+)(?:  (?P<text>.*))?$")
_ANNOTATE = "__δ_annotate"  # a factory parameter: never a user global, never a generated name
_EXC = "__δ_exc"
_MAX_NOTES = 8  # deep recursion should not bury the message under notes


def _through_generated_code(exc: BaseException | None, seen=None) -> bool:
    seen = set() if seen is None else seen
    if exc is None or id(exc) in seen:
        return False
    seen.add(id(exc))
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith("<δ "):
            return True
        tb = tb.tb_next
    return _through_generated_code(exc.__cause__, seen) or _through_generated_code(exc.__context__, seen)


def _uncaught_tracebacks_show_generated_source() -> None:
    """Before 3.13 Python prints uncaught tracebacks in C, which reads source lines from disk and never
    from ``linecache``, so generated lines would show as bare ``File "<δ ...>", line 8``. Print those
    (only those) with the ``traceback`` module, which does read ``linecache``. Another hook (IPython's,
    the user's) is left alone."""
    if sys.version_info >= (3, 13) or sys.excepthook is not sys.__excepthook__:
        return
    default = sys.__excepthook__

    def excepthook(exc_type, exc, tb):
        if _through_generated_code(exc):
            import traceback

            traceback.print_exception(exc_type, exc, tb)
        else:
            default(exc_type, exc, tb)

    excepthook.__autodiffsource__ = True
    sys.excepthook = excepthook


_uncaught_tracebacks_show_generated_source()


def register_source(filename: str, text: str) -> None:
    """Make ``text`` readable under ``filename`` for tracebacks, pdb and inspect."""
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)


def line_map(text: str, user_file: str | None = None) -> dict[int, tuple[SourceLoc, str]]:
    """Generated line number -> (the user's location, the user's source text) for every code line.

    >>> m = line_map("def f(x):\\n    # model.py:3  y = x * x\\n    y = x * x\\n", "/src/model.py")
    >>> loc, text = m[3]
    >>> (loc.file, loc.line, text)
    ('/src/model.py', 3, 'y = x * x')
    """
    mapping: dict[int, tuple[SourceLoc, str]] = {}
    current = None
    base = None if user_file is None else os.path.basename(user_file)
    parsed: dict[str, tuple | None] = {}  # a line with a `#` -> its location, if it is a comment line
    for number, line in enumerate(text.splitlines(), start=1):
        if "#" in line:  # the pattern is tried on these lines only (once for each distinct line)
            if line in parsed:
                where = parsed[line]
            else:
                match = _COMMENT.match(line)
                where = None
                if match:
                    file = match["file"]
                    if file == base:
                        file = user_file
                    where = (SourceLoc(file, int(match["line"])), match["text"] or "")
                parsed[line] = where
            if where is not None:
                current = where
                continue
        if current is not None and line and not line.isspace():
            mapping[number] = current
    return mapping


class _LineMap(collections.abc.Mapping):
    """:func:`line_map` of a generated text, worked out when first read (an error's note, or a caller
    of ``__linemap__``): a long function's map is thousands of entries, which every transform made and
    the garbage collector then walked, for the rare error that reads one."""

    def __init__(self, text: str, user_file: str | None):
        self._text, self._user_file, self._mapping = text, user_file, None

    def _made(self) -> dict:
        if self._mapping is None:
            self._mapping = line_map(self._text, self._user_file)
        return self._mapping

    def __getitem__(self, line: int):
        return self._made()[line]

    def __iter__(self):
        return iter(self._made())

    def __len__(self) -> int:
        return len(self._made())


def _note_for(exc: BaseException, frame, role: str, primal: str, linemap) -> None:
    """Add to ``exc`` the user's line that generated ``frame`` was running when it was raised."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame is not frame:
        tb = tb.tb_next
    if tb is None:
        return
    where = linemap.get(tb.tb_lineno)
    if where is None:
        return
    loc, text = where
    note = f"while running the {role} of `{primal}`, at {loc.file}:{loc.line}  {text}".rstrip()
    notes = getattr(exc, "__notes__", [])
    if note in notes or sum(n.startswith("while running the ") for n in notes) >= _MAX_NOTES:
        return
    exc.add_note(note)


def _shallow(node: ast.AST) -> ast.AST:
    new = node.__class__.__new__(node.__class__)
    new.__dict__.update(node.__dict__)
    return new


def _guard(fn_def: ast.FunctionDef, role: str) -> ast.FunctionDef:
    """``fn_def`` with its body wrapped in ``try/except Exception: annotate; raise``, all on the ``def`` line."""
    handler = ast.parse(
        f"try:\n    pass\nexcept Exception as {_EXC}:\n    {_ANNOTATE}({_EXC}, {role!r})\n    raise\n").body[0]
    for node in ast.walk(handler):
        if hasattr(node, "lineno"):
            node.lineno = node.end_lineno = fn_def.lineno
            node.col_offset = node.end_col_offset = fn_def.col_offset
    handler.body = fn_def.body
    guarded = _shallow(fn_def)
    guarded.body = [handler]
    return guarded


_BODIES = ("body", "orelse", "finalbody")
# Statements with no statements inside: compiled as they are.
_AS_THEY_ARE = frozenset({ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete, ast.Expr, ast.Return, ast.Pass,
                          ast.Raise, ast.Break, ast.Continue, ast.Assert, ast.Global, ast.Nonlocal})


def _compilable(stmts: list, role: str) -> list:
    """``stmts`` without ``Comment`` lines, each function definition in them guarded as ``role`` (those
    nested in it: as the pullback). Only what changes is copied: the tree stays emit.py's."""
    out = []
    for stmt in stmts:
        cls = stmt.__class__
        if cls in _AS_THEY_ARE:  # (most statements: one set lookup)
            out.append(stmt)
            continue
        if cls is Comment:
            continue
        if isinstance(stmt, ast.FunctionDef):
            inner = _shallow(stmt)
            inner.body = _compilable(stmt.body, "backward pass (pullback)")
            stmt = _guard(inner, role)
        elif isinstance(stmt, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            stmt = _shallow(stmt)
            for field in _BODIES:
                if getattr(stmt, field, None):
                    setattr(stmt, field, _compilable(getattr(stmt, field), role))
            if isinstance(stmt, ast.Try):
                stmt.handlers = [_shallow(h) for h in stmt.handlers]
                for h in stmt.handlers:
                    h.body = _compilable(h.body, role)
        out.append(stmt)
    return out


def _guarded_module(tree: ast.Module, factory: str, role: str = "forward pass") -> ast.Module:
    """The module to compile: the factory takes the annotator, each function inside it is guarded
    (the δ function as the forward pass, functions inside that as the pullback), comments dropped."""
    body = []
    for top in tree.body:
        if isinstance(top, ast.FunctionDef) and top.name == factory:
            top = _shallow(top)
            top.args = _shallow(top.args)
            top.args.args = top.args.args + [ast.copy_location(ast.arg(_ANNOTATE), top)]
            top.body = _compilable(top.body, role)
        body.append(top)
    return ast.Module(body, [])


def _code(text: str, factory: str, filename: str, tree: ast.Module | None, role: str):
    if tree is not None:
        try:
            return compile(_guarded_module(tree, factory, role), filename, "exec")
        except (TypeError, ValueError, SyntaxError):
            pass  # e.g. a NumPy scalar in a Constant, which the text spells as a call: the text decides
    return compile(_guarded_module(ast.parse(text), factory, role), filename, "exec")


def load(text: str, factory: str, user_globals: dict, bindings: dict, filename: str,
         user_file: str | None = None, primal: str | None = None, tree: ast.Module | None = None,
         role: str = "forward pass"):
    """Compile and instantiate the generated δ function (``tree``: the text's, with exact locations;
    ``role``: what an error's note says the made function was running)."""
    register_source(filename, text)
    linemap = _LineMap(text, user_file)
    primal = primal or factory.removeprefix("_make_δ")

    def annotate(exc, role):  # called only from the except clauses of generated code
        _note_for(exc, sys._getframe(1), role, primal, linemap)

    code = _code(text, factory, filename, tree, role)
    namespace: dict = {}
    exec(code, user_globals, namespace)  # definitions only: the factory is defined, nothing else runs
    compiled = namespace[factory](**bindings, **{_ANNOTATE: annotate})
    compiled.__linemap__ = linemap
    return compiled
