"""Shortcuts of the reverse pass that make its code read like a hand-written gradient (issue 6), as a
mixin of :class:`~autodiffsource.transform.reverse.ReverseBuilder` (as loop reversal is, in loops.py).

Contract: each shortcut gives the same partials as the general path it replaces, and is taken only
where :mod:`.shapes` or the IR proves that; the general path stays for everything else.

- The cotangent of a full ``sum`` is 0-d: in straight-line code it stays a 0-d stand-in for the full
  array (``scalar_cotangents``) through elementwise operations whose arguments share the result's
  shape, full sums and basic slices, and becomes an array (``expand_reduced``) only where something
  else needs one; no array of ones is made.
- ``v = x[index]``'s pullback runs as soon as ``v``'s cotangent is complete (:class:`EarlySlices`).
- ``c / y`` (``c`` a literal) differentiates through its result only (:meth:`reciprocal_partial`).
- A matrix product the pullback reads only for its shape is kept as its shape
  (:meth:`save_product_shapes`).
"""

from __future__ import annotations

import ast
import collections

from .. import runtime
from ..ir import Assign, PlainOp, PrimOp
from ..rules import numpy_reductions, numpy_ufuncs, operator as operator_rules
from .codeparts import input_atoms as _input_atoms
from .loops import _shape_reads
from .shapes import ELEMENTWISE_BINARY, ELEMENTWISE_UNARY, GETITEM, is_number_literal


class Shortcuts:
    """Mixed into :class:`~autodiffsource.transform.reverse.ReverseBuilder`."""

    def save_product_shapes(self, forward: list[ast.stmt], backward: list[ast.stmt]) -> list[ast.stmt]:
        """A matrix product (``_t1 = W @ x``, outside loops) that the pullback reads only to un-broadcast
        against is kept as its shape, so the array itself dies with the forward pass. (Only products:
        they are never Python numbers, so the number-specialised variant is unaffected.)"""
        products = {s.targets[0] for s in self.lowered.body if isinstance(s, Assign) and isinstance(s.op, PrimOp)
                    and id(s.op.rule) == _MATMUL and len(s.targets) == 1}
        for v in sorted(products):
            where = next((i for i, st in enumerate(forward) if isinstance(st, ast.Assign) and len(st.targets) == 1
                          and isinstance(st.targets[0], ast.Name) and st.targets[0].id == v), None)
            if where is None or not self.read_only_for_shape(v, backward):
                continue
            self.helper(runtime.unbroadcast_to)  # bound now, so the rewrite below can name it
            shape = self.namer.fresh(f"{v}_shape")
            forward.insert(where + 1, ast.Assign([ast.Name(shape, ast.Store())],
                                                 self.call(runtime.saved_shape, ast.Name(v, ast.Load()))))
            backward = [_shape_reads(st, {v: shape}, self.named) for st in backward]
        return backward

    def reciprocal_partial(self, op: PrimOp, d_result: str, result: str) -> ast.expr:
        """The partial of ``z = c / y`` (``c`` a nonzero literal) for ``y``: ``-dz * z / y`` is
        ``-dz * z * z / c``, which reads ``z`` only, so ``y`` need not be kept for the pullback (the
        ``1 + e`` of every ``1 / (1 + exp(-x))``)."""
        c = op.args["x"]
        value = _literal_value(c)
        dz, z = ast.Name(d_result, ast.Load()), ast.Name(result, ast.Load())
        square = ast.BinOp(ast.BinOp(dz, ast.Mult(), z), ast.Mult(), ast.Name(result, ast.Load()))
        partial = ast.UnaryOp(ast.USub(), square) if value == 1 else ast.BinOp(square, ast.Div(), ast.Constant(-value))
        return self.call(runtime.unbroadcast, partial, op.args["y"])

    def is_full_sum(self, op: PrimOp) -> bool:
        """``xp.sum(x)`` over every axis, without keepdims: its cotangent is 0-d."""
        if id(op.rule) != _SUM:
            return False
        axis, keepdims = op.args.get("axis"), op.args.get("keepdims")
        return (axis is None or isinstance(axis, ast.Constant) and axis.value is None) and \
            (keepdims is None or isinstance(keepdims, ast.Constant) and keepdims.value is False)

    def takes_scalar_cotangent(self, stmt: Assign) -> bool:
        """Whether the pullback of ``stmt`` gives the right partials when the result's cotangent is a
        0-d stand-in for a full array: elementwise rules whose differentiated arguments are shaped like
        the result, full sums, and basic indexing (``buffer[1:] += g`` broadcasts ``g``)."""
        op = stmt.op
        if not isinstance(op, PrimOp) or id(stmt) not in self.instances or len(stmt.targets) != 1:
            return False
        key = id(op.rule)
        result = ast.Name(stmt.targets[0], ast.Load())
        if key in ELEMENTWISE_UNARY or key in ELEMENTWISE_BINARY:
            return all(self.shapes.same(v, result) for k, v in op.args.items()
                       if k not in op.rule.without_partials and self.is_active(v))
        if key == _SUM:
            return self.is_full_sum(op)  # sum(x, axis=1) needs its cotangent's own axes to expand
        if key == GETITEM:
            return _is_basic_literal_index(op.args.get("index"))
        return False

    def expand_scalar_cotangent(self, var: str, out: list) -> None:
        """Turn the 0-d stand-in cotangent of ``var`` into the full array it stands for."""
        self.scalar_cotangents.discard(var)
        name = self.dname(var)
        expand = self.call(runtime.expand_reduced, ast.Name(name, ast.Load()), ast.Name(var, ast.Load()),
                           ast.Constant(None), ast.Constant(False))
        out.append(ast.Assign([ast.Name(name, ast.Store())], expand))
        self.state[var] = (self.state[var][0], False)


class EarlySlices:
    """In straight-line code, the pullback of ``v = x[index]`` runs as soon as ``v``'s cotangent is
    complete (its last reader, in reverse order, is done) instead of at its place in reverse order:
    the cotangent then reaches ``x``'s buffer while still fresh, and dies sooner (``dx[1:] += d`` right
    after ``d`` is made, as one writes by hand). Only the accumulation order into ``dx`` changes."""

    def __init__(self, stmts: list):
        self.readers = collections.Counter()
        self.slices: dict[str, Assign] = {
            s.targets[0]: s for s in stmts
            if isinstance(s, Assign) and isinstance(s.op, PrimOp) and id(s.op.rule) == GETITEM and len(s.targets) == 1}
        if self.slices:  # (without slices nothing is moved: readers need no counting)
            for s in stmts:
                if isinstance(s, Assign) and not isinstance(s.op, PlainOp):
                    for atom in _input_atoms(s.op):
                        if isinstance(atom, ast.Name):
                            self.readers[atom.id] += 1
        self.emitted: set[int] = set()

    def done(self, s) -> bool:
        return id(s) in self.emitted

    def after(self, s) -> list:
        ready = []
        if self.slices and isinstance(s, Assign) and not isinstance(s.op, PlainOp):
            for atom in _input_atoms(s.op):
                if not isinstance(atom, ast.Name):
                    continue
                self.readers[atom.id] -= 1
                g = self.slices.get(atom.id)
                if g is not None and self.readers[atom.id] == 0 and id(g) not in self.emitted:
                    self.emitted.add(id(g))
                    ready.append(g)
        return ready


_SUM = id(numpy_reductions.δsum.rule)
_MATMUL = id(operator_rules.δmatmul.rule)
DIVISIONS = {id(operator_rules.δtruediv.rule), id(numpy_ufuncs.δdivide.rule)}


def _literal_value(node):
    """The number a literal (``2``, ``-1.5``, ``+3``) stands for."""
    if isinstance(node, ast.UnaryOp):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    return node.value


def nonzero_number(node) -> bool:
    return is_number_literal(node) and _literal_value(node) != 0


def _is_basic_literal_index(index) -> bool:
    """An index written with slices of literals, integer literals and ``...`` (each element once)."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for part in parts:
        if isinstance(part, ast.Slice):
            if not all(b is None or is_number_literal(b) for b in (part.lower, part.upper, part.step)):
                return False
        elif isinstance(part, ast.Constant) and part.value is Ellipsis:
            continue
        elif not (is_number_literal(part) and "." not in ast.unparse(part)):
            return False
    return bool(parts)
