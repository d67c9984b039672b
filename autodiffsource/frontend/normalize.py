"""Stage 1a: rewrite ``break``, ``continue`` and early ``return`` into flags, so that every loop body and
branch runs to its end and the reverse pass can mirror the structure statement for statement.

Contract: ``normalize(body, namer)`` returns a new statement list with the same behaviour in which

* a ``return v`` that is not the function's last statement becomes ``_ret = v; _returned = True``,
  and the function ends with ``return _ret`` (several values: ``_ret``, ``_ret_2``...);
* ``continue`` in loop k becomes ``_continue_k = True`` and ``break`` becomes ``_break_k = True``;
* every statement after one that may set a flag is guarded by ``if not (flags):``;
* each loop that needs it gets a :class:`LoopExit` marker as the last statement of its body: the
  lowering stage emits ``if <flags>: break`` there, after the iteration's values are saved.

Flags are plain booleans: the lowering stage sees ordinary ``if`` statements on constants.
"""

from __future__ import annotations

import ast
import copy

from ..astutil import child_fields, fix_missing_locations, walk
from ..transform.naming import Namer


class LoopExit(ast.stmt):
    """Marker: leave the enclosing loop here when ``test`` holds (placed last in a loop body)."""

    _fields = ("test",)


_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _push_children(stack: list, node) -> None:
    """``stack.extend(ast.iter_child_nodes(node))`` without operators and contexts (nothing here looks
    for them), and without two generators per node."""
    for name in child_fields(node.__class__):
        value = getattr(node, name, None)
        if value.__class__ is list:
            for item in value:
                if isinstance(item, ast.AST):
                    stack.append(item)
        elif isinstance(value, ast.AST):
            stack.append(value)


def own_nodes(stmts):
    """Every node of ``stmts`` except those inside nested functions (whose returns are their own)."""
    stack = list(stmts)
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, _NESTED_SCOPES):
            continue
        _push_children(stack, n)


def _contains(node_list, kinds, stop_at_loops: bool) -> bool:
    """Whether any statement contains a node of ``kinds`` (not looking into nested loops if asked)."""
    stack = list(node_list)
    while stack:
        n = stack.pop()
        if isinstance(n, kinds):
            return True
        if isinstance(n, _NESTED_SCOPES):
            continue
        if stop_at_loops and isinstance(n, (ast.For, ast.While)):
            # break/continue inside a nested loop belong to that loop; returns still count
            stack.extend(s for s in walk(n) if isinstance(s, ast.Return))
            continue
        _push_children(stack, n)
    return False


def needs_normalizing(body, own: list | None = None) -> bool:
    """True when the body has break/continue, or a return anywhere but as its last statement.
    ``own``: the body's :func:`own_nodes`, where the caller has them (in any order; only its ``Break``,
    ``Continue`` and ``Return`` nodes are looked at, so those alone will do)."""
    if own is None:
        if _contains(body, (ast.Break, ast.Continue), stop_at_loops=False):
            return True
        own = own_nodes(body)
    else:
        for n in own:
            if n.__class__ is ast.Break or n.__class__ is ast.Continue:
                return True
    returns = [n for n in own if isinstance(n, ast.Return)]
    return not (len(returns) == 1 and body and body[-1] is returns[0])


class _Normalizer:
    def __init__(self, namer: Namer, n_outputs: int, early_return: bool):
        self.namer = namer
        self.returned = namer.fresh("_returned") if early_return else None
        self.ret_names = [namer.fresh("_ret") for _ in range(n_outputs)] if early_return else []
        self.loops: list[dict] = []  # per enclosing loop: its flag names
        self.loop_count = 0

    def flag_set(self, name: str, node) -> ast.stmt:
        return ast.copy_location(ast.Assign([ast.Name(name, ast.Store())], ast.Constant(True)), node)

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        """Rewrite a statement list; statements after a possible exit are guarded by the live flags."""
        out: list[ast.stmt] = []
        for i, stmt in enumerate(stmts):
            new, may_exit = self.stmt(stmt)
            out.extend(new)
            rest = stmts[i + 1:]
            if may_exit and rest:
                guarded = self.block(rest)
                test = ast.UnaryOp(ast.Not(), self.live_flags())
                out.append(ast.copy_location(ast.If(test, guarded, []), rest[0]))
                return out
        return out

    def live_flags(self) -> ast.expr:
        names = [self.returned] if self.returned else []
        if self.loops:
            names += [self.loops[-1]["break"], self.loops[-1]["continue"]]
        names = [n for n in names if n is not None]
        if len(names) == 1:
            return ast.Name(names[0], ast.Load())
        return ast.BoolOp(ast.Or(), [ast.Name(n, ast.Load()) for n in names])

    def stmt(self, stmt: ast.stmt) -> tuple[list[ast.stmt], bool]:
        if isinstance(stmt, ast.Return):
            values = stmt.value.elts if isinstance(stmt.value, ast.Tuple) else [stmt.value]
            if len(values) != len(self.ret_names):
                from ..errors import UnsupportedSyntaxError

                raise UnsupportedSyntaxError(
                    f"not supported: return statements with different numbers of values "
                    f"({len(values)} here, {len(self.ret_names)} elsewhere)", None)
            assigns = [ast.copy_location(ast.Assign([ast.Name(n, ast.Store())], v), stmt)
                       for n, v in zip(self.ret_names, values, strict=True)]
            return assigns + [self.flag_set(self.returned, stmt)], True
        if isinstance(stmt, ast.Break):
            loop = self.loops[-1]
            loop["break"] = loop["break"] or self.namer.fresh(f"_break{loop['id']}")
            return [self.flag_set(loop["break"], stmt)], True
        if isinstance(stmt, ast.Continue):
            loop = self.loops[-1]
            loop["continue"] = loop["continue"] or self.namer.fresh(f"_continue{loop['id']}")
            return [self.flag_set(loop["continue"], stmt)], True
        if isinstance(stmt, ast.If):
            may_exit = _contains([stmt], (ast.Return, ast.Break, ast.Continue), stop_at_loops=True)
            new = copy.copy(stmt)
            new.body = self.block(stmt.body) or [ast.Pass()]
            new.orelse = self.block(stmt.orelse)
            return [new], may_exit
        if isinstance(stmt, (ast.For, ast.While)):
            return self.loop(stmt)
        return [stmt], False

    def loop(self, stmt) -> tuple[list[ast.stmt], bool]:
        self.loop_count += 1
        info = {"id": self.loop_count, "break": None, "continue": None}
        self.loops.append(info)
        body = self.block(stmt.body)
        self.loops.pop()
        new = copy.copy(stmt)
        before = []
        if info["continue"]:
            reset = ast.Assign([ast.Name(info["continue"], ast.Store())], ast.Constant(False))
            body = [ast.copy_location(reset, stmt)] + body
        returns_inside = self.returned and _contains(stmt.body, (ast.Return,), False)
        exits = [n for n in (info["break"], self.returned if returns_inside else None) if n]
        if info["break"]:
            before.append(ast.copy_location(ast.Assign([ast.Name(info["break"], ast.Store())], ast.Constant(False)), stmt))
        if exits:
            test = ast.Name(exits[0], ast.Load()) if len(exits) == 1 else ast.BoolOp(
                ast.Or(), [ast.Name(n, ast.Load()) for n in exits])
            body.append(ast.copy_location(LoopExit(test=test), stmt))
        new.body = body
        may_exit = _contains(stmt.body, (ast.Return,), stop_at_loops=False)
        return before + [new], may_exit


def normalize(body: list[ast.stmt], namer: Namer, n_outputs: int, own: list | None = None) -> list[ast.stmt]:
    """``body`` with break/continue/early return turned into flags (see the module docstring); ``body``
    itself when there are none. ``own``: as for :func:`needs_normalizing`."""
    if not needs_normalizing(body, own):
        return body
    returns = [n for n in own_nodes(body) if isinstance(n, ast.Return)]
    early_return = not (len(returns) == 1 and body[-1] is returns[0])
    norm = _Normalizer(namer, n_outputs, early_return)
    if not early_return:  # only break/continue to rewrite: the final return stays as written
        return [fix_missing_locations(s) for s in norm.block(body[:-1])] + [body[-1]]
    first = body[0]
    init = [ast.Assign([ast.Name(norm.returned, ast.Store())], ast.Constant(False))]
    init += [ast.Assign([ast.Name(n, ast.Store())], ast.Constant(None)) for n in norm.ret_names]
    for s in init:
        ast.copy_location(s, first)
    new_body = init + norm.block(body)
    names = [ast.Name(n, ast.Load()) for n in norm.ret_names]
    final = ast.Return(names[0] if len(names) == 1 else ast.Tuple(names, ast.Load()))
    new_body.append(ast.copy_location(final, body[-1]))
    return [fix_missing_locations(s) for s in new_body]


def count_outputs(body: list[ast.stmt]) -> int:
    """How many values the function returns (from its first return statement)."""
    for n in own_nodes(body):
        if isinstance(n, ast.Return) and n.value is not None:
            return len(n.value.elts) if isinstance(n.value, ast.Tuple) else 1
    return 1
