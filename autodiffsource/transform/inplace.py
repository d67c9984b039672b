"""Writing into memory the generated code owns: the last rewrites of a pullback, after ``tidy``.

Contract: both passes change where values are stored, never what is computed (the same operations in
the same order, so the same rounding); the run-time helpers they call decide on the spot whether the
in-place spelling applies (a large NumPy float array whose shape and dtype the operation keeps) and
otherwise compute exactly the written expression.

- ``first_writes_in_place(pullback, named, helper)``, for every δ function: ``index_add(zeros_like(x),
  index, a * b)`` (the first contribution to a cotangent read only through subscripts, as the generator
  writes it) becomes ``zeros_with(x, index, a, b)`` (``g`` that is not a product: ``zeros_with(x, index,
  g)``). ``runtime.zeros_with`` computes the product straight into that block of an uninitialised buffer
  and zeroes only the rest, where the original zero-fills the whole buffer, makes the product as a
  temporary and then reads and writes the block again. ``a * b`` is split at its last multiplication, so
  the factors are evaluated in the written order.
- ``consume_forward_values(forward, pullback, outputs, named, helper)``, only for the variant whose
  pullback runs once (``value_and_grad``, ``grad``): a forward value read for the last time by a product
  in the pullback is scaled in place there (``scale_owned``).

``zeros_with`` and ``scale_owned`` have rules (``rules/owned_helpers.py``), so gradients using them can
be differentiated again.
"""

from __future__ import annotations

import ast

from .. import runtime
from ..astutil import Transformer, nodes
from .tidy import product_led_by, replace_node, scale_owned_chain


def first_writes_in_place(pullback: list[ast.stmt], named: dict, helper) -> None:
    """``named``: bound name -> object; ``helper(fn)``: the name generated code calls helper ``fn`` by."""
    index_add = {n for n, obj in named.items() if obj is runtime.index_add}
    zeros_like = {n for n, obj in named.items() if obj is runtime.zeros_like}
    if not index_add or not zeros_like:
        return
    rewrite = _FirstWrites(index_add, zeros_like, lambda: helper(runtime.zeros_with))
    for i, s in enumerate(pullback):
        pullback[i] = rewrite.visit(s)


class _FirstWrites(Transformer):
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


def consume_forward_values(forward: list[ast.stmt], pullback: list[ast.stmt], outputs: list[ast.expr],
                           named: dict, helper) -> None:
    """For a pullback that runs once (``value_and_grad``, ``grad``): a value the forward pass made with
    arithmetic, read for the last time by a product in the pullback, is scaled in place there.

    ``P * t`` (``t`` the last factor) becomes ``scale_owned(t, P)`` and ``t * a * b`` becomes
    ``scale_owned(t, a, b)``: the same multiplications in the same order, into ``t``'s own memory on a
    large NumPy array (``runtime.scale_owned`` decides at run time). A pullback made so must never run
    twice: the second run would read the scaled values. Only straight-line code without inner functions
    takes part, and only values every read of which is an operand of arithmetic (anything else could
    keep a view of it), that are not returned, and whose last read is a statement of the pullback itself.
    """
    body = forward + pullback
    made = {s.targets[0].id for s in forward
            if s.__class__ is ast.Assign and len(s.targets) == 1 and s.targets[0].__class__ is ast.Name
            and s.value.__class__ in (ast.BinOp, ast.UnaryOp)}
    if not made:
        return
    stores: dict[str, int] = {}
    last_read: dict[str, int] = {}
    escapes = {n.id for o in outputs for n in nodes(o) if n.__class__ is ast.Name}
    walked = []  # each statement's nodes, walked again below for the few candidates (until it is rewritten)
    reads: dict[str, int] = {}  # of the names in `made`: every read, and those that are operands of arithmetic
    operand_reads: dict[str, int] = {}
    for i, s in enumerate(body):  # one walk of every statement: each name's stores, last read, and parents
        walked.append(statement_nodes := nodes(s))
        for node in statement_nodes:
            cls = node.__class__
            if cls is ast.Name:
                name = node.id
                if node.ctx.__class__ is not ast.Load:
                    stores[name] = stores.get(name, 0) + 1
                elif name in made:
                    last_read[name] = i
                    reads[name] = reads.get(name, 0) + 1
            elif cls is ast.BinOp or cls is ast.UnaryOp:
                for operand in (node.left, node.right) if cls is ast.BinOp else (node.operand,):
                    if operand.__class__ is ast.Name and operand.id in made and operand.ctx.__class__ is ast.Load:
                        operand_reads[operand.id] = operand_reads.get(operand.id, 0) + 1
            elif cls in _NOT_STRAIGHT:
                return
    escapes.update(name for name, count in reads.items() if operand_reads.get(name) != count)
    scale_owned = None
    for name, i in sorted(last_read.items(), key=lambda item: item[1]):
        if name in escapes or stores.get(name) != 1 or i < len(forward):
            continue
        s = body[i]
        statement_nodes = walked[i]
        if statement_nodes is None:
            statement_nodes = walked[i] = nodes(s)
        reads = sum(1 for n in statement_nodes if n.__class__ is ast.Name and n.id == name)
        chain = next((n for n in statement_nodes if _product_with_end_factor(n, name)), None)
        if reads != 1 or chain is None:
            continue
        scale_owned = scale_owned or helper(runtime.scale_owned)
        call = _scaled_in_place(chain, name, scale_owned)
        pullback[i - len(forward)] = body[i] = replace_node(s, chain, call)
        walked[i] = None  # rewritten: walked again if another value's last read is here too


# Statements and expressions that evaluate conditionally, repeatedly or later: a pass reasoning about
# "the last read" in textual order stays out of code that has any.
_NOT_STRAIGHT = frozenset({ast.For, ast.While, ast.If, ast.FunctionDef, ast.Lambda, ast.ListComp, ast.GeneratorExp,
                           ast.SetComp, ast.DictComp, ast.IfExp, ast.BoolOp, ast.Try})


def _product_with_end_factor(node, name: str) -> bool:
    """``name * a * b`` or ``a * b * name``: a chain of left-nested products that starts or ends with ``name``."""
    return product_led_by(node, name) or (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)
                                          and isinstance(node.right, ast.Name) and node.right.id == name)


def _scaled_in_place(chain: ast.BinOp, name: str, scale_owned: str) -> ast.Call:
    """The ``scale_owned`` call computing ``chain`` into ``name``; the same products in the same order."""
    if isinstance(chain.right, ast.Name) and chain.right.id == name:  # P * t: one product, commuted
        return ast.Call(ast.Name(scale_owned, ast.Load()), [chain.right, chain.left], [])
    return scale_owned_chain(chain, scale_owned)
