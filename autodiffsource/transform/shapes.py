"""Which values certainly have the same shape, known from the operations alone (no shapes are computed).

Contract: ``ShapeFacts(lowered).same(a, b)`` is True only when ``a`` and ``b`` (atoms of the lowered
function) have equal shapes whenever both are evaluated for one call. The generator uses it to drop
``unbroadcast`` where it is a no-op and to let a scalar cotangent stand for a full array of ones-times-it
(see ``ReverseBuilder``): both would silently give wrong gradients if a claim here were false, so
every rule below is one whose result shape equals its argument's by definition:

- an elementwise function of one array (``tanh(x)``, ``-x``, ``x ** 2``) has ``x``'s shape;
- an elementwise function of several arrays already known to share a shape, or of one array and
  number literals (``100 * x``), has that shape;
- ``x[a:]`` and ``x[:-b]`` (``a >= 0``, ``b > 0``, no step) both drop ``a + b`` rows of axis 0: two such
  slices of one value that drop the same count have the same shape (``x[1:]`` and ``x[:-1]``), and a
  slice of such a slice drops the sum (``x[1:][1:]`` and ``x[:-2]``).

Only names assigned exactly once in the whole function take part (loop-carried names and branch
merges are assigned several times, and their shape may change between assignments), so a fact found
at one statement holds wherever both names are read. Classes only ever grow by attaching the newly
defined name to an existing class, so a class's representative never changes.
"""

from __future__ import annotations

import ast
import collections

from ..ir import Assign, Loop, LoweredFunction, PrimOp, walk_statements
from ..rules import numpy_ufuncs, operator as operator_rules


def _rules(*deltas):
    return frozenset(id(d.rule) for d in deltas)


# Result shaped like the one array argument (parameter ``x``); other parameters are static.
ELEMENTWISE_UNARY = _rules(
    operator_rules.δneg, operator_rules.δpos, operator_rules.δidentity, operator_rules.δpower_by_constant,
    numpy_ufuncs.δexp, numpy_ufuncs.δexp2, numpy_ufuncs.δexpm1, numpy_ufuncs.δlog, numpy_ufuncs.δlog2,
    numpy_ufuncs.δlog10, numpy_ufuncs.δlog1p, numpy_ufuncs.δsqrt, numpy_ufuncs.δcbrt, numpy_ufuncs.δsquare,
    numpy_ufuncs.δreciprocal, numpy_ufuncs.δabs, numpy_ufuncs.δfabs, numpy_ufuncs.δnegative,
    numpy_ufuncs.δpositive, numpy_ufuncs.δsin, numpy_ufuncs.δcos, numpy_ufuncs.δtan, numpy_ufuncs.δarcsin,
    numpy_ufuncs.δarccos, numpy_ufuncs.δarctan, numpy_ufuncs.δsinh, numpy_ufuncs.δcosh, numpy_ufuncs.δtanh,
    numpy_ufuncs.δarcsinh, numpy_ufuncs.δarccosh, numpy_ufuncs.δarctanh,
)

# Result shaped like the broadcast of its arguments.
ELEMENTWISE_BINARY = _rules(
    operator_rules.δadd, operator_rules.δsub, operator_rules.δmul, operator_rules.δtruediv, operator_rules.δpow,
    numpy_ufuncs.δnp_add, numpy_ufuncs.δsubtract, numpy_ufuncs.δmultiply, numpy_ufuncs.δdivide,
    numpy_ufuncs.δpower, numpy_ufuncs.δmaximum, numpy_ufuncs.δminimum,
)

GETITEM = id(operator_rules.δgetitem.rule)


def is_number_literal(node) -> bool:
    """``3``, ``2.5``, ``-1`` (not ``True``: a bool is a number to NumPy, but say so explicitly)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def rows_dropped(index) -> int | None:
    """``a + b`` for an index ``a:`` / ``:-b`` / ``a:-b`` (no step, a >= 0, b > 0), else None."""
    if not isinstance(index, ast.Slice) or index.step is not None:
        return None
    lower, upper = index.lower, index.upper
    a = 0
    if lower is not None:
        if not (isinstance(lower, ast.Constant) and type(lower.value) is int and lower.value >= 0):
            return None
        a = lower.value
    b = 0
    if upper is not None:
        value = upper.operand.value if (isinstance(upper, ast.UnaryOp) and isinstance(upper.op, ast.USub)
                                        and isinstance(upper.operand, ast.Constant)) else None
        if type(value) is not int or value <= 0:
            return None
        b = value
    return a + b


def _stores(lowered: LoweredFunction) -> collections.Counter:
    """How many times each name is bound: parameters once, then every assignment and loop target."""
    stores = collections.Counter(lowered.params)
    for s in walk_statements(lowered.body):
        if isinstance(s, Assign):
            for target in s.targets:  # (not Counter.update: a call per statement)
                stores[target] += 1
        elif isinstance(s, Loop) and s.target is not None:
            stores.update(n.id for n in ast.walk(s.target) if isinstance(n, ast.Name))
    return stores


class ShapeFacts:
    """Classes of names known to share a shape (see the module docstring)."""

    def __init__(self, lowered: LoweredFunction, assumed_same: tuple[tuple[str, ...], ...] = ()):
        """``assumed_same``: groups of parameters taken to share one shape per group, never rebound in the
        body (the code made with that assumption runs only where a guard checked it: value_and_grad's
        same-shape branch, ``transform/combined.py``)."""
        self.parent: dict = {}
        once = {name for name, count in _stores(lowered).items() if count == 1}
        for group in assumed_same:
            for name in group[1:]:
                assert name in once and group[0] in once, f"assumed shapes of rebound parameters: {group}"
                self.parent[name] = group[0]
        for s in walk_statements(lowered.body):
            if isinstance(s, Assign) and isinstance(s.op, PrimOp) and len(s.targets) == 1 and s.targets[0] in once:
                same_as = self._shaped_like(s.op, once)
                if same_as is not None:
                    self.parent[s.targets[0]] = self.find(same_as)

    def find(self, key):
        while key in self.parent:
            key = self.parent[key]
        return key

    def _shaped_like(self, op: PrimOp, once: set):
        """A key whose class the result of ``op`` belongs to, or None."""
        key = id(op.rule)
        if key not in ELEMENTWISE_UNARY and key not in ELEMENTWISE_BINARY and key != GETITEM:
            return None
        names = [v.id for v in op.args.values() if isinstance(v, ast.Name)]
        for n in names:
            if n not in once:
                return None
        if key in ELEMENTWISE_UNARY:
            x = op.args.get("x")
            return x.id if isinstance(x, ast.Name) else None
        if key in ELEMENTWISE_BINARY:
            if not names or len(names) < len(op.args) and not all(
                    isinstance(v, ast.Name) or is_number_literal(v) for v in op.args.values()):
                return None
            root = self.find(names[0])
            for n in names[1:]:
                if self.find(n) != root:
                    return None
            return names[0]
        if key == GETITEM:
            x, index = op.args.get("x"), op.args.get("index")
            dropped = rows_dropped(index)
            if isinstance(x, ast.Name) and dropped is not None:
                root = self.find(x.id)
                if isinstance(root, tuple):  # a slice of a slice: x[1:][1:] drops 2 rows of x
                    return ("rows dropped", root[1], root[2] + dropped)
                return ("rows dropped", root, dropped)
        return None

    def same(self, a, b) -> bool:
        """Whether atoms ``a`` and ``b`` certainly have the same shape."""
        return isinstance(b, ast.Name) and self.same_as(a, b.id)

    def same_as(self, a, name: str) -> bool:
        """Whether atom ``a`` certainly has the shape of the value named ``name``."""
        return isinstance(a, ast.Name) and (a.id == name or self.find(a.id) == self.find(name))


def elementwise_groups(lowered: LoweredFunction, candidates: list[str]) -> tuple[tuple[str, ...], ...]:
    """Groups of the ``candidates`` (parameters never rebound) that meet in elementwise operations, directly
    or through values computed elementwise from them: ``x`` and ``y`` of ``(x - y) ** 2``, the parameters a
    caller most likely passes with one shape. Each group has two names or more, in parameter order.

    A guess, not a fact: it says where assuming equal shapes would let ``ShapeFacts`` drop un-broadcasts,
    and the code made with that assumption only runs where a run-time check confirmed it."""
    stores = _stores(lowered)
    parent: dict = {}

    def find(key):
        while key in parent:
            key = parent[key]
        return key

    for s in walk_statements(lowered.body):
        if not (isinstance(s, Assign) and isinstance(s.op, PrimOp) and len(s.targets) == 1):
            continue
        key = id(s.op.rule)
        if key in ELEMENTWISE_UNARY:
            names = [v.id for k, v in s.op.args.items() if k == "x" and isinstance(v, ast.Name)]
        elif key in ELEMENTWISE_BINARY:
            names = [v.id for v in s.op.args.values() if isinstance(v, ast.Name)]
        else:
            continue
        root = find(s.targets[0])
        for name in names:
            other = find(name)
            if other != root:
                parent[other] = root
    groups: dict = {}
    for name in candidates:
        if stores[name] == 1:
            groups.setdefault(find(name), []).append(name)
    return tuple(tuple(g) for g in groups.values() if len(g) > 1)
