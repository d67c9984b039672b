"""Reversing loops: the forward pass pushes, at the end of each iteration, a tuple of exactly the values
the reversed body reads onto a list named for the loop (``_tape1``); the pullback walks that list with
``reversed()``, so one transformation serves every trip count and the pullback never mutates the tape.

Contract: a loop-carried variable ``L`` (updated by ``L = E`` at the end of each iteration) passes its
cotangent from one reversed iteration to the one before; cotangents of variables defined before the loop
accumulate across iterations; values the reversed body only un-broadcasts against are saved as shapes.
"""

from __future__ import annotations

import ast
import dataclasses

from .. import runtime
from ..ir import Assign, Loop, PlainOp, walk_statements
from .codeparts import MAYBE, PRESENT, Placeholder, has_code as _has_code, input_atoms as _input_atoms
from .codeparts import store_targets as _store_targets


@dataclasses.dataclass
class LoopPlan:
    """What the forward pass of one loop left for its reversal."""

    tape: str
    init: Placeholder
    push: Placeholder
    forward_body: list[ast.stmt]
    header_names: set[str]


class LoopReversal:
    """Mixed into :class:`~autodiffsource.transform.reverse.ReverseBuilder`."""

    def forward_loop(self, loop: Loop) -> list[ast.stmt]:
        tape = self.namer.fresh("_tape")
        init, push = Placeholder(stmts=[]), Placeholder(stmts=[])
        body = self.forward_block(loop.body)
        body.append(push)
        for l_name, e_name in loop.carried:
            body.append(ast.Assign([ast.Name(l_name, ast.Store())], ast.Name(e_name, ast.Load())))
        if loop.exit_test is not None:
            body.append(ast.If(loop.exit_test, [ast.Break()], []))
        header_names = ({n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
                        if loop.target is not None else set())
        header_names |= {l for l, _ in loop.carried}
        self.plans[id(loop)] = LoopPlan(tape, init, push, body, header_names)
        if loop.kind == "for":
            node = ast.For(loop.target, loop.iter, body, [])
        else:
            node = ast.While(loop.test, body, [])
        return self.item_placeholders(loop) + [init, node]

    def backward_loop(self, loop: Loop) -> list[ast.stmt]:
        plan = self.plans[id(loop)]
        active = self.lowered.active
        defined = {t for s in walk_statements(loop.body) if isinstance(s, Assign) for t in s.targets}
        defined |= plan.header_names
        touched = set()
        for s in walk_statements(loop.body):
            if isinstance(s, Assign) and not isinstance(s.op, PlainOp):
                atoms = _input_atoms(s.op)
                touched |= {a.id for a in atoms if isinstance(a, ast.Name) and a.id in active}
        touched |= {e for l, e in loop.carried if l in active}
        carried = [(l, e) for l, e in loop.carried if l in active]
        pre: list[ast.stmt] = []
        outside = sorted(touched - defined)
        for var in outside:
            self.ensure_present(var, var, pre)
        # Whether each of their cotangents is an array the pullback made, as the loop is entered: the
        # loop may run no iteration, so after it a cotangent is its own only if it was before it too.
        owned_before = {var: self.state[var][1] for var in outside if var in self.state}
        # A carried value whose result received no cotangent keeps None (zero) through the loop, so
        # nothing multiplies a zero by a derivative that may be infinite (0 * inf would be NaN).
        head = {}
        for l_name, _ in carried:
            st = self.state.get(l_name)
            if st is None:
                pre.append(ast.Assign([ast.Name(self.dname(l_name), ast.Store())], ast.Constant(None)))
            head[l_name] = MAYBE if st is None or st[0] == MAYBE else PRESENT
            self.state[l_name] = (head[l_name], False)
        # One reversed iteration: the end-of-iteration copies L = E first, then the body.
        body: list[ast.stmt] = []
        swap = any(e in {l for l, _ in carried} for _, e in carried)
        sources = []
        for l_name, e_name in carried:
            if swap:  # carried values feed each other (a, b = b, a): read every cotangent first
                tmp = self.namer.fresh(f"d{l_name}_carry")
                body.append(ast.Assign([ast.Name(tmp, ast.Store())], ast.Name(self.dname(l_name), ast.Load())))
                sources.append((l_name, e_name, tmp))
            else:
                sources.append((l_name, e_name, self.dname(l_name)))
        for l_name, _ in carried:
            self.state.pop(l_name)  # the value entering this iteration starts with no cotangent
        for l_name, e_name, source in sources:
            if head[l_name] == PRESENT:
                self.add(e_name, ast.Name(source, ast.Load()), body, owned=False)
            elif self.state.get(e_name) is None:
                body.append(ast.Assign([ast.Name(self.dname(e_name), ast.Store())], ast.Name(source, ast.Load())))
                self.state[e_name] = (MAYBE, False)
            else:
                update = self.call(runtime.accumulate, ast.Name(self.dname(e_name), ast.Load()),
                                   ast.Name(source, ast.Load()))
                body.append(ast.Assign([ast.Name(self.dname(e_name), ast.Store())], update))
                self.state[e_name] = (MAYBE, False)
        # Reads of the body's values and of the carried names in the reversed body are each iteration's,
        # from the tape: not the snapshot a write after the loop took of the carried name's last value.
        for var in defined & self.snapshots.keys():
            del self.snapshots[var]
        body += self.backward_block(loop.body)
        end: list[ast.stmt] = []
        for l_name, _ in carried:
            st = self.state.get(l_name)
            if head[l_name] == PRESENT:
                self.ensure_present(l_name, l_name, end)
            elif st is None:
                end.append(ast.Assign([ast.Name(self.dname(l_name), ast.Store())], ast.Constant(None)))
            self.state[l_name] = (head[l_name], False)
        body += end
        for var, owned in owned_before.items():
            st = self.state.get(var)
            if st is not None and st[1] and not owned:
                self.state[var] = (st[0], False)
        for var in defined - {l for l, _ in carried}:
            self.state.pop(var, None)  # values of one iteration: their cotangents end with it
        # Statements before the loop read the items the body writes over as they were when it was entered.
        self.item_snapshots_pending(loop)
        if not _has_code(body):
            return pre
        # Save per iteration exactly what the reversed body reads of the values the iteration made.
        made = {n.id for s in plan.forward_body for n in ast.walk(s)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} | plan.header_names
        read = {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        saved = sorted(read & made)
        # A value the reversed body needs only to un-broadcast against is saved as its shape: the
        # iteration's array itself can then be freed (a long loop keeps only what the pullback reads).
        shape_only = [v for v in saved if self.read_only_for_shape(v, body)]
        if shape_only:
            self.helper(runtime.unbroadcast_to)  # bound now, so the rewrite below can name it
        renames = {v: self.namer.fresh(f"{v}_shape") for v in shape_only}
        body = [_shape_reads(s, renames, self.named) for s in body]
        # Loop targets and carried names are also visible after the loop: rename them here so the
        # pullback's other reads of them still see the final value.
        renames.update({v: self.namer.fresh(f"{v}_saved") for v in saved if v in plan.header_names
                        and v not in renames})
        body = [_rename_loads(s, renames) for s in body]
        plan.init.stmts = [ast.Assign([ast.Name(plan.tape, ast.Store())], ast.List([], ast.Load()))]
        # A value made on one path only (inside an if, or an inner loop that may not run) is saved as
        # None on the others; the reversed body never reads it there.
        nested = {n.id for s in plan.forward_body if isinstance(s, (ast.If, ast.For, ast.While))
                  for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        unbound = [v for v in saved if v in nested]
        if unbound:
            init = ast.Assign([_store_targets(unbound) if len(unbound) == 1 else
                               ast.Tuple([ast.Name(v, ast.Store()) for v in unbound], ast.Store())],
                              ast.Constant(None) if len(unbound) == 1 else
                              ast.Tuple([ast.Constant(None)] * len(unbound), ast.Load()))
            plan.forward_body.insert(0, init)
        # An array a later iteration writes into (or a view of one) is saved as a copy: the content the
        # reversed body reads is this iteration's.
        views, changed = self.lowered.views, self.lowered.changed_in_place
        items = [self.call(runtime.saved_shape, ast.Name(v, ast.Load())) if v in shape_only
                 else self.call(runtime.copy_value, ast.Name(v, ast.Load())) if v in changed
                 else self.call(runtime.copy_if_view, ast.Name(v, ast.Load())) if v in views
                 else ast.Name(v, ast.Load()) for v in saved]
        pushed = items[0] if len(items) == 1 else (ast.Tuple(items, ast.Load()) if items else ast.Constant(None))
        plan.push.stmts = [ast.Expr(ast.Call(ast.Attribute(ast.Name(plan.tape, ast.Load()), "append", ast.Load()),
                                             [pushed], []))]
        names = [renames.get(v, v) for v in saved]
        target = _store_targets(names) if names else ast.Name("_", ast.Store())
        reversed_tape = ast.Call(ast.Name("reversed", ast.Load()), [ast.Name(plan.tape, ast.Load())], [])
        return pre + [ast.For(target, reversed_tape, body, [])]

    def read_only_for_shape(self, var: str, body: list[ast.stmt]) -> bool:
        """Whether every read of ``var`` in ``body`` is the second argument of ``unbroadcast``."""
        total = sum(1 for s in body for n in ast.walk(s) if isinstance(n, ast.Name) and n.id == var)
        as_shape = sum(1 for s in body for n in ast.walk(s)
                       if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                       and self.named.get(n.func.id) is runtime.unbroadcast and len(n.args) == 2
                       and isinstance(n.args[1], ast.Name) and n.args[1].id == var)
        return total > 0 and total == as_shape


class _RenameLoads(ast.NodeTransformer):
    def __init__(self, renames):
        self.renames = renames

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.renames:
            return ast.Name(self.renames[node.id], ast.Load())
        return node


def _shape_reads(stmt: ast.stmt, renames: dict[str, str], named: dict) -> ast.stmt:
    """``unbroadcast(g, v)`` -> ``unbroadcast_to(g, v_shape)`` for the names in ``renames``."""
    if not renames:
        return stmt
    to_shape = next((name for name, obj in named.items() if obj is runtime.unbroadcast_to), None)

    class ShapeReads(ast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            if (isinstance(node.func, ast.Name) and named.get(node.func.id) is runtime.unbroadcast
                    and len(node.args) == 2 and isinstance(node.args[1], ast.Name) and node.args[1].id in renames):
                return ast.Call(ast.Name(to_shape, ast.Load()),
                                [node.args[0], ast.Name(renames[node.args[1].id], ast.Load())], [])
            return node

    return ShapeReads().visit(stmt)


def _rename_loads(stmt: ast.stmt, renames: dict[str, str]) -> ast.stmt:
    return _RenameLoads(renames).visit(stmt) if renames else stmt
