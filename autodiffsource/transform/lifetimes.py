"""Lifetimes: each value the generated code computes is let go right after the statement that reads it last.

Contract: ``free_at_last_use(block)`` takes a function's body (or a block every path of which ends the
function: nothing after it reads what it assigns) and returns it with ``del a, b`` inserted after the
top-level statement that last mentions ``a`` and ``b``, for each name that

- a top-level ``name = <computed value>`` binds (so the name is certainly bound there and ``del``
  cannot fail; an alias ``y = x``, a constant or an attribute frees nothing and is left alone),
- no nested scope mentions (a closure's cell, a pullback's saved value: a ``def``, ``lambda`` or
  comprehension reads it later), and no ``del``, ``global``, ``nonlocal`` or ``except ... as``
  names,

and whose last mention is not a ``return`` or ``raise``, nor the block's last statement, nor the one
before a final ``return`` (the function's end lets go of it there, or a statement later, anyway). A
name bound by a call of one of ``small`` (the array namespace, a saved shape) is left alone too: it
holds nothing worth a statement. A ``def`` at the top level is a scope of its own: its body is handled
the same way, in a copy (the statement may be shared with another block). Compound statements are not
entered: a name last mentioned inside a loop or a branch is let go after it.

Why: a name keeps its array alive until the function returns. Hand-written NumPy code
(``h = sigmoid(W @ x + b)``) lets its temporaries go at once, and the next allocation of the same size
reuses that memory while it is still in the cache; the generated code names each step, so without
this it holds every forward temporary until the end, and each cotangent until the pullback returns.
On W2's batch (issue 6, one process, the variants interleaved) the δ function ran at 1.05-1.08x the
hand-written gradient without this, 1.045-1.06x with the forward pass's values let go, and
1.025-1.035x with the pullback's too. Memory is the larger gain in long functions: the pullback of
a 200-line chain held 341 arrays of its input's size at its peak, and holds 5; value_and_grad's one
function 794, and now 454 (the forward values its backward part still has to read).
"""

from __future__ import annotations

import ast
import copy

from .. import runtime
from ..astutil import name_ids
from .codeparts import Comment

_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
                     ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp})
_NOTHING_TO_FREE = frozenset({ast.Name, ast.Constant, ast.Attribute})  # an alias, a constant, a module's member
# Statements with no block and no del: tidy's table counts all their names (see free_at_last_use).
_SIMPLE = frozenset({ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return})
_ENDS = (ast.Return, ast.Raise)


def free_at_last_use(block: list[ast.stmt], small: frozenset[str] = frozenset(), names=None) -> list[ast.stmt]:
    """``block`` with the ``del`` statements described in the module docstring (a new list; the
    statements are ``block``'s own but for the copied ``def``s). ``small``: names of functions whose
    results are left alone. ``names``: tidy's table of the statements' names (``Generated.names``, up
    to date for the statements it holds), which saves walking each simple statement again (a
    1,000-line function's first call: tens of milliseconds); statements it holds no entry for are
    walked, and so are those with conditional evaluation in them (a lambda, a comprehension)."""
    return _freed(block, small, names)[0]


def _freed(block: list[ast.stmt], small: frozenset[str], names) -> tuple[list[ast.stmt], set[str]]:
    """:func:`free_at_last_use`'s block, and every name ``block`` mentions (nested scopes included)."""
    kept_alive: set[str] = set()  # mentioned where a del would be wrong (see the module docstring)
    last_mention: dict[str, int] = {}
    bound_here: list[str] = []  # names a top-level assignment binds to a computed value, in order
    out = list(block)
    of = names.of if names is not None else None
    for i, s in enumerate(block):
        cls = s.__class__
        if cls is Comment:
            continue
        if cls is ast.FunctionDef:  # (a pullback: most of the code, walked once, here)
            body, inner = _freed(s.body, small, names)
            out[i] = _with_body(s, body)
            kept_alive |= inner
            kept_alive.add(s.name)
            for part in s.decorator_list + s.args.defaults + s.args.kw_defaults:
                if part is not None:
                    _mentions(part, i, last_mention, kept_alive)
            continue
        entry = of(s) if of is not None and cls in _SIMPLE else None
        if entry is not None and not entry[2]:  # (entry[2]: conditional evaluation, maybe a scope, in it)
            for name, count in entry[0].items():  # what it reads
                if count:
                    last_mention[name] = i
            for name, count in entry[1].items():  # what it writes
                if count:
                    last_mention[name] = i
        else:
            _mentions(s, i, last_mention, kept_alive)
        if cls is _Assign:
            value = s.value
            if value.__class__ not in _NOTHING_TO_FREE and not (
                    value.__class__ is _Call and value.func.__class__ is _Name and value.func.id in small):
                targets = s.targets
                if len(targets) == 1 and targets[0].__class__ is _Name:
                    bound_here.append(targets[0].id)
                else:
                    bound_here.extend(_target_names(targets))
    mentioned = kept_alive | last_mention.keys()
    end = len(block) - 1
    if block and block[-1].__class__ is ast.Return:
        end -= 1
        while end > 0 and block[end].__class__ is Comment:  # (a `# file:line` line is no statement to run)
            end -= 1
    freed_after: dict[int, list[str]] = {}
    seen: set[str] = set()
    for name in bound_here:
        if name in seen or name in kept_alive:
            continue
        seen.add(name)
        last = last_mention[name]
        if last < end and block[last].__class__ not in _ENDS:
            freed_after.setdefault(last, []).append(name)
    if not freed_after:
        return out, mentioned
    freed = []
    for i, s in enumerate(out):
        freed.append(s)
        if i in freed_after:
            freed.append(ast.Delete([_Name(n, _DEL) for n in freed_after[i]]))
    return freed, mentioned


def _mentions(tree: ast.AST, i: int, last_mention: dict[str, int], kept_alive: set[str]) -> None:
    """Records the names ``tree`` (part of statement ``i``) mentions: ``last_mention[name] = i``, and
    in ``kept_alive`` those a nested scope, ``del``, ``global``, ``nonlocal`` or ``except ... as``
    mentions. One walk over the fields that hold nodes (a first call pays for each node visited)."""
    todo = [tree]
    append = todo.append
    fields_of = _NODE_FIELDS.get
    for n in todo:
        cls = n.__class__
        if cls is _Name:
            last_mention[n.id] = i
            if n.ctx.__class__ is _Del:
                kept_alive.add(n.id)
            continue
        if cls is _Constant:
            continue
        if cls in _SPECIAL:
            if cls in _SCOPES:
                kept_alive.update(name_ids([n]))
                if hasattr(n, "name"):
                    kept_alive.add(n.name)
                continue
            if cls is ast.ExceptHandler:
                if n.name:
                    kept_alive.add(n.name)
            else:  # global, nonlocal
                kept_alive.update(n.names)
        fields = fields_of(cls)
        if fields is None:
            # (a class that is no node: MatchSingleton's value, True, False or None, is walked to here)
            fields = _NODE_FIELDS[cls] = tuple(f for f in cls._fields if f not in _NOT_NODES) \
                if issubclass(cls, ast.AST) else ()
        for field in fields:
            value = getattr(n, field)
            if value.__class__ is list:
                for item in value:
                    if item is not None:  # (a dict's ** entry, a keyword-only argument without default)
                        append(item)
            elif value is not None:
                append(value)


_Name, _Del, _Constant, _Assign, _Call = ast.Name, ast.Del, ast.Constant, ast.Assign, ast.Call
_DEL = ast.Del()  # (one context for every name deleted, as the parser shares its own)
_SPECIAL = _SCOPES | {ast.ExceptHandler, ast.Global, ast.Nonlocal}
# Fields that hold an identifier, a number, a flag or an operator, never a node (a Constant is not entered).
_NOT_NODES = frozenset({"id", "attr", "arg", "name", "names", "module", "level", "kind", "type_comment",
                        "conversion", "simple", "is_async", "ctx", "op", "ops", "tag"})
_NODE_FIELDS: dict[type, tuple[str, ...]] = {}


def holding_little(bindings: dict[str, object]) -> frozenset[str]:
    """The names in ``bindings`` of the run-time helpers whose results hold no array, for ``small``: the
    array namespace (a module) and a saved shape (a tuple)."""
    return frozenset(n for n, obj in bindings.items() if obj is runtime.namespace or obj is runtime.saved_shape)


def _target_names(targets: list[ast.expr]) -> list[str]:
    """The names an assignment to ``targets`` binds as a whole: ``a = ...`` and ``a, b = ...`` (not an
    element or attribute of something, which binds no name)."""
    names = []
    for t in targets:
        if t.__class__ is ast.Name:
            names.append(t.id)
        elif t.__class__ is ast.Tuple or t.__class__ is ast.List:
            names.extend(e.id for e in t.elts if e.__class__ is ast.Name)
    return names


def _with_body(fn: ast.FunctionDef, body: list[ast.stmt]) -> ast.FunctionDef:
    """A shallow copy of ``fn`` with ``body`` (``fn`` itself is left as it was)."""
    if body == fn.body:
        return fn
    new = copy.copy(fn)
    new.body = body
    return new
