"""Cotangent buffers written once instead of zero-filled and added into: the last rewrite of a pullback.

Contract: ``first_writes_in_place(pullback, named, helper)`` rewrites, wherever it occurs in the pullback's
statements, ``index_add(zeros_like(x), index, a * b)`` (the first contribution to a cotangent read only
through subscripts, as the generator writes it) into ``zeros_with(x, index, a, b)`` (and ``g`` that is not
a product into ``zeros_with(x, index, g)``). ``runtime.zeros_with`` returns the same value; on a large
NumPy array it computes the product straight into the slice of an uninitialised buffer and zeroes only
the rest, where the original spelling zero-fills the whole buffer, makes the product as a temporary and
then reads and writes the slice again. The split of ``a * b`` is the product's last multiplication,
so the factors are evaluated in the written order and the result has the same rounding.

It runs after ``tidy``, so it sees the pullback's final expressions; ``zeros_with`` has a rule
(``rules/owned_helpers.py``), so gradients that use it can be differentiated again.
"""

from __future__ import annotations

import ast

from .. import runtime


def first_writes_in_place(pullback: list[ast.stmt], named: dict, helper) -> None:
    """``named``: bound name -> object; ``helper(fn)``: the name generated code calls helper ``fn`` by."""
    index_add = {n for n, obj in named.items() if obj is runtime.index_add}
    zeros_like = {n for n, obj in named.items() if obj is runtime.zeros_like}
    if not index_add or not zeros_like:
        return
    rewrite = _FirstWrites(index_add, zeros_like, lambda: helper(runtime.zeros_with))
    for i, s in enumerate(pullback):
        pullback[i] = rewrite.visit(s)


class _FirstWrites(ast.NodeTransformer):
    def __init__(self, index_add: set[str], zeros_like: set[str], zeros_with_name):
        self.index_add, self.zeros_like, self.zeros_with_name = index_add, zeros_like, zeros_with_name

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if not (_calls(node, self.index_add) and len(node.args) == 3 and not node.keywords):
            return node
        buffer, index, g = node.args
        if not (_calls(buffer, self.zeros_like) and len(buffer.args) == 1 and not buffer.keywords):
            return node
        factors = [g.left, g.right] if isinstance(g, ast.BinOp) and isinstance(g.op, ast.Mult) else [g]
        return ast.Call(ast.Name(self.zeros_with_name(), ast.Load()), [buffer.args[0], index] + factors, [])


def _calls(node, names: set[str]) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names
