"""Writing into memory the generated code owns: the last rewrites of a pullback, after ``tidy``.

Contract: both passes change where values are stored, never what is computed (the same operations in
the same order, so the same rounding); the run-time helpers they call decide on the spot whether the
in-place spelling applies (a large NumPy float array whose shape and dtype the operation keeps) and
otherwise compute exactly the written expression.

- ``first_writes_in_place(pullback, names, helper)``, for every δ function: ``index_add(zeros_like(x),
  index, a * b)`` (the first contribution to a cotangent read only through subscripts, as the generator
  writes it) becomes ``zeros_with(x, index, a, b)`` (``g`` that is not a product: ``zeros_with(x, index,
  g)``). ``runtime.zeros_with`` computes the product straight into that block of an uninitialised buffer
  and zeroes only the rest, where the original zero-fills the whole buffer, makes the product as a
  temporary and then reads and writes the block again. ``a * b`` is split at its last multiplication, so
  the factors are evaluated in the written order.
- ``consume_forward_values(forward, pullback, outputs, names, helper)``, only for the variant whose
  pullback runs once (``value_and_grad``, ``grad``): a forward value read for the last time by a product
  in the pullback is scaled in place there (``scale_owned``).

``zeros_with`` and ``scale_owned`` have rules (``rules/owned_helpers.py``), so gradients using them can
be differentiated again.
"""

from __future__ import annotations

import ast

from .. import runtime
from ..astutil import Transformer, nodes
from .codeparts import Comment
from .tidy import NameTable, product_led_by, replace_node, scale_owned_chain


def first_writes_in_place(pullback: list[ast.stmt], names: NameTable, helper) -> None:
    """``names``: tidy's table of the statements' names (bound name -> object in ``names.named``), whose
    entries for the statements rewritten here are forgotten; ``helper(fn)``: the name generated code
    calls helper ``fn`` by."""
    named = names.named
    index_add = {n for n, obj in named.items() if obj is runtime.index_add}
    zeros_like = {n for n, obj in named.items() if obj is runtime.zeros_like}
    if not index_add or not zeros_like:
        return
    rewrite = _FirstWrites(index_add, zeros_like, lambda: helper(runtime.zeros_with))
    for i, s in enumerate(pullback):
        rewrite.rewrote = False
        pullback[i] = rewrite.visit(s)
        if rewrite.rewrote:
            names.forget(s)


class _FirstWrites(Transformer):
    def __init__(self, index_add: set[str], zeros_like: set[str], zeros_with_name):
        self.index_add, self.zeros_like, self.zeros_with_name = index_add, zeros_like, zeros_with_name
        self.rewrote = False

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if not (_calls(node, self.index_add) and len(node.args) == 3 and not node.keywords):
            return node
        buffer, index, g = node.args
        if not (_calls(buffer, self.zeros_like) and len(buffer.args) == 1 and not buffer.keywords):
            return node
        factors = [g.left, g.right] if isinstance(g, ast.BinOp) and isinstance(g.op, ast.Mult) else [g]
        self.rewrote = True
        return ast.Call(ast.Name(self.zeros_with_name(), ast.Load()), [buffer.args[0], index] + factors, [])


def _calls(node, names: set[str]) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names


def consume_forward_values(forward: list[ast.stmt], pullback: list[ast.stmt], outputs: list[ast.expr],
                           names: NameTable, helper) -> None:
    """For a pullback that runs once (``value_and_grad``, ``grad``): a value the forward pass made with
    arithmetic, read for the last time by a product in the pullback, is scaled in place there.

    ``P * t`` (``t`` the last factor) becomes ``scale_owned(t, P)`` and ``t * a * b`` becomes
    ``scale_owned(t, a, b)``: the same multiplications in the same order, into ``t``'s own memory on a
    large NumPy array (``runtime.scale_owned`` decides at run time). A pullback made so must never run
    twice: the second run would read the scaled values. Only straight-line code without inner functions
    takes part, and only values every read of which is an operand of arithmetic (anything else could
    keep a view of it), that are not returned, and whose last read is a statement of the pullback itself.
    Each statement's names are read from tidy's table (``names``), not walked.
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
    index_adds = [n for n, obj in names.named.items() if obj is runtime.index_add]
    for i, s in enumerate(body):  # each name's stores, and the last read and escapes of those in `made`
        cls = s.__class__
        if cls is Comment:
            continue  # (no names)
        if cls in _NOT_STRAIGHT:
            return
        if hasattr(s, "body"):  # another block: walked (a loop may be inside), its stale entry forgotten
            if any(n.__class__ in _NOT_STRAIGHT for n in nodes(s)):
                return
            names.forget(s)
        s_loads, s_stores, conditional, _, escaping, _ = names.of(s)
        if conditional and any(n.__class__ in _NOT_STRAIGHT for n in nodes(s)):
            return  # (tidy's conditional evaluation includes what this pass does not mind: dict displays)
        for name, count in s_stores.items():
            stores[name] = stores.get(name, 0) + count
        for name, count in s_loads.items():
            if count and name in made:
                last_read[name] = i
                # tidy does not count index_add's added value as escaping: here it does (into a list,
                # the value itself may become an entry).
                if escaping[name] or any(s_loads[a] for a in index_adds) and _added_by_index_add(s, name, names):
                    escapes.add(name)
    scale_owned = None
    for name, i in sorted(last_read.items(), key=lambda item: item[1]):
        if name in escapes or stores.get(name) != 1 or i < len(forward):
            continue
        s = body[i]
        entry = names.of(s)
        if entry[0][name] + entry[1][name] != 1:
            continue
        chain = next((n for n in nodes(s) if _product_with_end_factor(n, name)), None)
        if chain is None:
            continue
        scale_owned = scale_owned or helper(runtime.scale_owned)
        call = _scaled_in_place(chain, name, scale_owned)
        pullback[i - len(forward)] = body[i] = replace_node(s, chain, call)
        names.forget(s)  # (walked again if another value's last read is here too)


def _added_by_index_add(s: ast.stmt, name: str, names: NameTable) -> bool:
    """Whether ``s`` reads ``name`` as the value an ``index_add`` call adds."""
    return any(n.__class__ is ast.Call and any(a.__class__ is ast.Name and a.id == name and names.added(n, a)
                                               for a in n.args) for n in nodes(s))


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
