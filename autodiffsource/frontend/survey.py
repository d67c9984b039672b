"""Stage 1, before lowering: one walk of a parsed function answers what is asked of all of it.

Contract: :func:`survey` walks ``pf.node`` once (:func:`~autodiffsource.astutil.nodes`) and files every
node under its class; the questions the checks and the lowering ask of the whole function (names
taken, local names, names read and how often, nested scopes, returns, writes into objects) then look
only at the classes they concern. ``@δ`` surveys the function for :func:`fence` and leaves the survey
on the :class:`~autodiffsource.source.ParsedFunction` it keeps for the first call, whose lowering takes
it (once: the lowering may change the tree) instead of walking the function again. :func:`fence`
reports every unsupported statement at once, each with its location; when the survey shows none of the
constructs it looks for it passes without walking anything, else the full check finds and orders them.

Parsed trees hold nodes of the ``ast`` classes themselves (no subclasses), so filing by exact class
answers what ``isinstance`` asked.
"""

from __future__ import annotations

import ast
import collections
import types
import weakref

from ..astutil import child_fields, nodes
from ..errors import UnsupportedSyntaxError
from ..source import ParsedFunction
from .normalize import _NESTED_SCOPES, own_nodes


class Survey:
    """The nodes of one function definition, by class (``by_class[cls]``: a list, in walk order)."""

    def __init__(self, node: ast.FunctionDef):
        self.node = node
        by_class: dict[type, list] = collections.defaultdict(list)
        for n in nodes(node):
            by_class[n.__class__].append(n)
        self.by_class = by_class
        # The def's own nodes (arguments, annotations, defaults): what the body-only questions leave out.
        header = _header_nodes(node)
        self.header_ids = {id(n) for n in header}
        # (Most headers hold no expressions: then the body's names are all the names.)
        self.header_has_names = any(n.__class__ is ast.Name for n in header)

    def of(self, *classes) -> list:
        """The nodes of these classes (class by class)."""
        found = []
        for cls in classes:
            found += self.by_class.get(cls, ())
        return found

    def body_of(self, *classes) -> list:
        """The nodes of these classes in the body (class by class): the header's left out."""
        header = self.header_ids
        return [n for n in self.of(*classes) if id(n) not in header]

    def taken_names(self) -> set[str]:
        """Every identifier the function uses: names, parameters, inner function names."""
        by_class = self.by_class
        taken = {n.id for n in by_class.get(ast.Name, ())}
        taken.update(a.arg for a in by_class.get(ast.arg, ()))
        taken.update(f.name for f in by_class.get(ast.FunctionDef, ()))
        return taken

    def local_names(self) -> set[str]:
        """Parameters, names stored to, inner functions: what the function binds itself."""
        a = self.node.args
        names = {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs}
        if a.vararg:
            names.add(a.vararg.arg)
        if a.kwarg:
            names.add(a.kwarg.arg)
        names.update(n.id for n in self.by_class.get(ast.Name, ()) if n.ctx.__class__ is ast.Store)
        names.update(f.name for f in self.by_class.get(ast.FunctionDef, ()) if f is not self.node)
        return names

    def body_loads(self) -> collections.Counter:
        """How often the body reads each name (``Name`` nodes in ``Load`` context outside the header)."""
        names = self.by_class.get(ast.Name, ())
        if self.header_has_names:
            header = self.header_ids
            names = [n for n in names if id(n) not in header]
        return collections.Counter([n.id for n in names if n.ctx.__class__ is ast.Load])

    def body_has_nested_scopes(self) -> bool:
        """Whether the body holds a function, lambda or class (whose nodes, returns included, are its own)."""
        header = self.header_ids
        return any(id(n) not in header and n is not self.node for n in self.of(*_NESTED_SCOPES))


def survey(pf: ParsedFunction) -> Survey:
    """The survey ``@δ`` left on ``pf`` (taken: it describes the tree before lowering), else a new one."""
    found = pf.survey
    if found is not None and found.node is pf.node:
        pf.survey = None
        return found
    return Survey(pf.node)


# ---- the check at the decorator -------------------------------------------------------------------------

_SUPPORTED_STMTS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Pass, ast.Assert,
                    ast.If, ast.For, ast.While, ast.Break, ast.Continue, ast.Raise, ast.FunctionDef)
_REFUSED_EXPRESSIONS = (ast.Yield, ast.YieldFrom, ast.Await, ast.NamedExpr)

_fenced: "weakref.WeakSet[types.CodeType]" = weakref.WeakSet()  # functions that passed (at @δ, say)


def fence(pf: ParsedFunction, found: Survey | None = None) -> None:
    """Report every unsupported statement of the function at once, each with its location.

    ``found``: the function's survey, where the caller has one; else one is made and left on ``pf``
    for the lowering."""
    if pf.fn.__code__ in _fenced:  # checked at the decorator: the first call need not walk it again
        return
    if found is None:
        found = pf.survey = Survey(pf.node)
    if _plainly_supported(found):
        _fenced.add(pf.fn.__code__)
        return
    problems = []
    _unsupported_statements(_strip_docstring(pf.node.body), problems)
    for node in nodes(pf.node):
        if isinstance(node, (ast.Yield, ast.YieldFrom, ast.Await)):
            problems.append((node, "generators and coroutines"))
        elif isinstance(node, ast.NamedExpr):
            # The value it binds would carry no derivative: refused rather than silently zero.
            problems.append((node, "the assignment expression `:=` (assign on a line of its own)"))
    own = list(own_nodes(pf.node.body))
    arities = {len(n.value.elts) if isinstance(n.value, ast.Tuple) else 1
               for n in own if isinstance(n, ast.Return) and n.value is not None}
    if len(arities) > 1:
        first = next(n for n in own if isinstance(n, ast.Return))
        problems.append((first, "return statements with different numbers of values"))
    if not problems:
        _fenced.add(pf.fn.__code__)
        return
    first_node, first_what = problems[0]
    more = "".join(f"\n  {pf.loc(n)}: also not supported: {w}" for n, w in problems[1:])
    raise UnsupportedSyntaxError(
        f"not supported: {first_what}", pf.loc(first_node),
        hint="Supported: assignments, calls, operators, indexing, if/elif/else, for, while, break, "
             "continue and return anywhere. Move anything else into a helper with a custom rule (δname)." + more)


def _plainly_supported(found: Survey) -> bool:
    """True when the survey shows the full check would find nothing: every statement anywhere is of a
    supported kind, no loop has an ``else``, no generator or ``:=``, and the returns (none nested in
    an inner scope) all give as many values."""
    for cls in found.by_class:
        if issubclass(cls, ast.stmt) and cls not in _SUPPORTED_STMTS or cls in _REFUSED_EXPRESSIONS:
            return False
    if any(loop.orelse for loop in found.of(ast.For, ast.While)):
        return False
    returns = found.by_class.get(ast.Return, ())
    if len(returns) > 1:
        if found.body_has_nested_scopes():
            return False  # which returns are the function's own: the full check tells
        arities = {len(n.value.elts) if isinstance(n.value, ast.Tuple) else 1 for n in returns if n.value is not None}
        if len(arities) > 1:
            return False
    return True


def _unsupported_statements(stmts, problems: list) -> None:
    """Append ``(statement, what)`` for each statement of a kind the lowering does not support.
    (A module function: a nested function that calls itself is a reference cycle left to the collector.)"""
    for stmt in stmts:
        if not isinstance(stmt, _SUPPORTED_STMTS):
            problems.append((stmt, f"the `{type(stmt).__name__}` statement"))
            continue
        for field in ("body", "orelse"):
            _unsupported_statements(getattr(stmt, field, []), problems)
        if isinstance(stmt, (ast.For, ast.While)) and stmt.orelse:
            problems.append((stmt, f"`{type(stmt).__name__.lower()} ... else`"))


def _strip_docstring(body):
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[1:]
    return body


def _header_nodes(node: ast.FunctionDef) -> list:
    """``node`` and the nodes of its fields other than the body (arguments, decorators, annotation)."""
    out = [node]
    for field in child_fields(node.__class__):
        if field != "body":
            value = getattr(node, field, None)
            for part in value if value.__class__ is list else (value,):
                if isinstance(part, ast.AST):
                    out.extend(nodes(part))
    return out
