"""Stage 1 (continued): views of arrays the function writes into.

NumPy's slices, transposes and reshapes share memory with their array: after ``v[0] = e`` (or ``v += e``)
a view ``t = v[1:]`` or ``t = v.T`` made before shows the write. In the IR a write makes a new version
of the array, so the view must get one too, or its cotangent would flow into the array as it was before
the write (a wrong gradient) and its value, where the pullback needs it, would be the old one.

Contract: every value made from an array that the function writes into (anywhere; ``a += e`` counts)
by an operation that may return a view (:data:`VIEW_PRIMALS`, :data:`VIEW_METHODS`, a subscript, ``.T``
or view call on a constant array) has a :class:`ViewChain`: the variable whose array it reads, which
object that variable held, and the operations from it. After each write that carries a derivative,
every user variable holding such a value of that object and read later gets a new version: the chain
applied again to the written array where the write changed the value at run time
(``runtime.writes_into``: the value shares memory with the written block; an item of a 1-D array is a
NumPy scalar, a fancy index a copy), else the value as it was. The forward pass computes what the user's
code computes, and the pullback sends the view's cotangent into the array after the write. The old
version stays for the statements before the write: the write lists it among its ``items_before``, and
the pullback reads it through a snapshot taken before the write. A value the chain cannot repeat (made
by another δ function, by a call on constants, before a loop that rebinds it or in an earlier iteration
of one, or held in a list) is checked at run time instead, and refused where the write changed it
(``runtime.refuse_changed_view``), as is ``t += e`` on a view ``t`` of an array read later
(``runtime.refuse_update_through_view``: NumPy would write into the array through it).
"""

from __future__ import annotations

import ast
import builtins
import copy
import dataclasses
import operator

import numpy as np

from .. import runtime
from ..ir import Assign, DeltaCall, If, PackOp, PlainOp, PrimOp, SetItemOp, walk_statements
from ..rules import operator as operator_rules
from ..rules.numpy_shape import matrix_T
from ..rules.registry import REGISTRY, Rule
from ..transform.inline import index_value
from .mutation import _names_read_after

# NumPy functions and array methods whose result may share memory with an argument
# (tests/test_views.py checks this list against every rule's own test function).
VIEW_PRIMALS = (
    operator.getitem, operator_rules.identity, matrix_T, np.reshape, np.ravel, np.squeeze, np.expand_dims,
    np.atleast_1d, np.atleast_2d, np.atleast_3d, np.broadcast_to, np.transpose, np.swapaxes, np.moveaxis,
    np.flip, np.fliplr, np.flipud, np.rot90, np.diag, np.diagonal, np.asarray, np.asanyarray,
    np.ascontiguousarray, np.asfortranarray, np.real, np.float64, np.split, np.array_split, np.hsplit,
    np.vsplit, np.dsplit, np.einsum, np.linalg.matrix_power, np.linalg.matrix_transpose,
    getattr(np, "matrix_transpose", None), getattr(np, "permute_dims", None),
    getattr(np.linalg, "diagonal", None),  # (NumPy 2's: over the last two axes, a view as np.diagonal's)
    # an array's rows (and a list's own items) in a list
    builtins.list, builtins.tuple, builtins.reversed, builtins.sorted,
)
VIEW_METHODS = ("reshape", "ravel", "squeeze", "transpose", "swapaxes", "diagonal", "conj", "conjugate",
                "view", "astype", "__getitem__")
# Attributes that are never views (reading them is not a use of the array's memory).
_METADATA = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes", "device"})


@dataclasses.dataclass(eq=False)
class RuleStep:
    """A differentiated view operation: ``rule`` on ``args``, the view before it in parameter ``key``."""

    rule: Rule
    args: dict[str, ast.expr]
    key: str


@dataclasses.dataclass(eq=False)
class ExpressionStep:
    """A view made as a constant (``t = v.T`` while ``v`` carries no derivative yet): the user's
    expression, lowered again with the view before it in variable ``source`` and every other name it
    reads as it was (``names``: user variable -> version)."""

    node: ast.expr
    names: dict[str, str]
    source: str


@dataclasses.dataclass(eq=False)
class ViewChain:
    """How a value was made from the array of user variable ``root``, step by step. The steps start
    from the array itself, or, after an ``if`` whose branches made views differently, from ``start``:
    (the test, the chain where it held, the chain where it did not). ``steps`` None: by a call the
    lowering cannot repeat (``made_by`` says which), checked at run time instead."""

    root: str
    steps: tuple[RuleStep | ExpressionStep, ...] | None
    made_by: str = ""
    start: tuple[ast.expr, ViewChain, ViewChain] | None = None
    # Which object ``root`` held (see ViewLowering.object_of): a write into another one it holds later
    # changes no view made before.
    token: str = ""

    def opaque(self, made_by: str) -> ViewChain:
        """The chain of a value made from this one by a call the lowering cannot repeat."""
        return dataclasses.replace(self, steps=None, made_by=made_by, start=None)


_view_rule_ids: set[int] | None = None


def _helpers_returning_views() -> tuple:
    """Run-time helpers with rules (generated code differentiated again calls them) that may hand back
    their argument or a view of it."""
    from ..rules import pullback_helpers, support

    return (runtime.unbroadcast, runtime.unbroadcast_to, runtime.expand_reduced, runtime.seed_cotangent,
            runtime.check_cotangent, runtime.finalize, runtime.or_zeros, runtime.take_cotangent,
            support.squeeze_back, support.sum_partial, support.unstack_like, support.items_at, support.items_partial,
            pullback_helpers.broadcast_like, pullback_helpers.read_at)


def is_view_rule(rule: Rule) -> bool:
    """Whether ``rule``'s function may return a view of (or the very object of) an argument."""
    global _view_rule_ids
    if _view_rule_ids is None:
        found = [REGISTRY.rule_for(p) for p in VIEW_PRIMALS + _helpers_returning_views() if p is not None]
        found += [REGISTRY.by_method.get(m) for m in VIEW_METHODS]
        _view_rule_ids = {id(r) for r in found if r is not None}
    return id(rule) in _view_rule_ids


class ViewLowering:
    """Mixed into :class:`~autodiffsource.frontend.lower.Lowerer`."""

    # ---- which values are views ------------------------------------------------------------------------

    def chain_of(self, atom: ast.expr) -> ViewChain | None:
        """The chain of an atom: its own, or an empty one where it is the array of a variable written
        into (a version some user variable holds now)."""
        if not isinstance(atom, ast.Name):
            return None
        for holder in self.env.holders(atom.id):
            if holder in self.view_roots:  # (first: the items of an array written into are its own)
                return ViewChain(holder, (), token=self.object_of(atom.id))
        return self.view_chains.get(atom.id)

    def note_view(self, targets: list[str], op) -> None:
        """Record ``targets``' chain where ``op`` may return a view of an array written into."""
        if isinstance(op, PrimOp):
            if not is_view_rule(op.rule):
                return
            arrays = [k for k in op.args if k not in op.rule.without_partials]  # (not its indices or axes)
            tracked = [(k, c) for k in arrays if (c := self.chain_of(op.args[k])) is not None]
            if not tracked:
                return
            key, parent = tracked[0]
            if len(tracked) > 1 or len(targets) > 1 or parent.steps is None:
                chain = parent.opaque(f"made by `{op.rule.name}`")
            else:
                chain = dataclasses.replace(parent, steps=parent.steps + (RuleStep(op.rule, op.args, key),))
        elif isinstance(op, DeltaCall):
            tracked = [c for a in list(op.args) + list(op.kwargs.values()) if (c := self.chain_of(a)) is not None]
            if not tracked:
                return
            chain = tracked[0].opaque(f"returned by `{op.name}`")
        elif isinstance(op, PackOp):
            tracked = [c for a in op.items if (c := self.chain_of(a)) is not None]
            if not tracked:
                return
            chain = tracked[0].opaque(f"held in a {op.kind}")
        elif isinstance(op, PlainOp) and isinstance(op.expr, ast.Name) and len(targets) == 1:
            self.note_same_object(targets[0], op.expr.id)  # the same object under another name
            chain = self.chain_of(op.expr)
            if chain is None or op.expr.id not in self.view_chains:
                return
        elif isinstance(op, PlainOp) and isinstance(op.expr, ast.expr) \
                and not isinstance(op.expr, (ast.BinOp, ast.UnaryOp, ast.Compare)):  # (those make new values)
            # (A subscript or view call the lowering can repeat replaces this: note_constant_view.)
            tracked = [c for n in _array_reads(op.expr) if (c := self.chain_of(n)) is not None]
            if not tracked:
                return
            chain = tracked[0].opaque(f"made by `{ast.unparse(op.expr)}`")
        else:
            return
        for t in targets:
            self.view_chains[t] = chain
            self.item_of[t] = chain.root

    def note_constant_view(self, name: str, node: ast.expr) -> None:
        """``name = node``, a subscript, ``.T`` or view call evaluated as a constant (its array carries no
        derivative yet): a later write carrying one lowers the expression again on the written array."""
        source = _view_source(node)
        if source not in self.env and isinstance(node, ast.Call):  # (np.transpose(v): not a method of `np`)
            source = None
            kind = self.call_kind(node)
            if kind[0] == "rule" and kind[1] is not None and is_view_rule(kind[1]):
                sources = [a for a in node.args if isinstance(a, ast.Name) and a.id in self.env
                           and self.chain_of(ast.Name(self.env[a.id], ast.Load())) is not None]
                source = sources[0].id if len(sources) == 1 else None
        if source is None or source not in self.env:
            return
        parent = self.chain_of(ast.Name(self.env[source], ast.Load()))
        if parent is None:
            return
        chain = parent
        if parent.steps is not None:
            names = {n.id: self.env[n.id] for n in ast.walk(node)
                     if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in self.env}
            step = ExpressionStep(copy.deepcopy(node), names, source)
            chain = dataclasses.replace(parent, steps=parent.steps + (step,))
        self.view_chains[name] = chain
        self.item_of[name] = chain.root

    def note_merged_view(self, merged: str, test: ast.expr, first: str | None, second: str | None) -> None:
        """The chain of a version merged from an ``if``'s branches: a value made otherwise shares no
        memory, so the one chain there is holds; two different ones are chosen between by the test."""
        a, b = self.view_chains.get(first), self.view_chains.get(second)
        chain = _merged(a, b)
        if a is not None and b is not None and a is not b and a.steps is not None and b.steps is not None:
            chain = ViewChain(a.root, (), start=(test, a, b), token=_same_token(a.token, b.token) or UNKNOWN)
        if chain is not None:
            self.view_chains[merged] = chain
            self.item_of[merged] = chain.root

    def views_of_any(self, names: set[str]) -> set[str]:
        """User variables holding (maybe) a view of an array one of ``names`` holds."""
        if not self.view_chains:
            return set()
        roots = set().union(*(self.same_object(n) for n in names if n in self.env)) if names else set()
        return {name for name, version in self.env.items()
                if (chain := self.view_chains.get(version)) is not None and chain.root in roots}

    def note_loop_views(self, loop_views: dict) -> None:
        """Give a loop's carried versions the chains they enter with (before each lowering of its body)."""
        for name, chain in loop_views.items():
            self.view_chains[name] = chain
            self.item_of[name] = chain.root

    def loop_views_changed(self, loop_views: dict, pairs: list[tuple[str, str | None]]) -> bool:
        """After a lowering of a loop's body: where an iteration ends with a view made otherwise than
        the one it began with, its carried version is left to the run-time check (and True: the body is
        lowered again so). A chain made in the body cannot be repeated from the next iteration on where
        its arguments are values of the body (the next iteration's already); with constant arguments it
        can, where the loop began with no view there."""
        changed = False
        for name, end in pairs:
            entry, chain = loop_views.get(name), self.view_chains.get(end)
            if chain is None or entry is not None and (entry.steps is None or _same_steps(entry, chain)):
                continue
            if entry is None and _repeatable_anywhere(chain):
                loop_views[name] = chain  # (`t = v[0]` at the end of the body: the same view at any iteration)
            else:
                # (the view the loop began with, or one an earlier iteration made: the run-time check tells)
                loop_views[name] = chain.opaque("made before the loop or in an earlier iteration of it")
            changed = True
        return changed

    # ---- which object a variable holds -------------------------------------------------------------
    # A token per object: the version that made it. A write in place makes a version of the same object
    # (note_same_object); where paths that hold different objects merge, the token is UNKNOWN, which any
    # object may be.

    def object_of(self, version: str) -> str:
        """The token of the object ``version`` holds."""
        return self.object_tokens.get(version, version)

    def holds_same_object(self, a: str, b: str) -> bool:
        """Whether versions ``a`` and ``b`` certainly hold one object (where it is an array)."""
        return a == b or self.object_of(a) == self.object_of(b) != UNKNOWN

    def note_same_object(self, new: str, old: str) -> None:
        self.object_tokens[new] = self.object_of(old)

    def note_merged_object(self, merged: str, first: str | None, second: str | None) -> None:
        tokens = {self.object_of(v) for v in (first, second) if v is not None}
        self.object_tokens[merged] = tokens.pop() if len(tokens) == 1 else UNKNOWN

    def changed_in_place(self, params: list[str]) -> set[str]:
        """Every version (of the lowered body, or a parameter) of an object some write changes in place."""
        writes = [s for s in walk_statements(self.body) if isinstance(s, Assign) and isinstance(s.op, SetItemOp)]
        if not writes:
            return set()
        # The objects written into: each write's own, and those of every version its array may be where
        # paths merged (a branch's, the array before a loop, and each iteration's last: a loop saves those
        # as copies on its tape).
        written = self.versions_merged_into(*(s.op.old for s in writes), loop_ends=True)
        tokens = {self.object_of(v) for v in written} | {UNKNOWN}  # (an unknown object may be any)
        versions = [t for s in walk_statements(self.body) if isinstance(s, Assign) for t in s.targets] + params
        return {v for v in versions if self.object_of(v) in tokens}

    def loop_objects_changed(self, loop_objects: dict, pairs: list[tuple[str, str | None]]) -> bool:
        """After a lowering of a loop's body: a carried variable that ends an iteration holding another
        object than it began with may hold either (UNKNOWN; and True: the body is lowered again so)."""
        changed = False
        for name, end in pairs:
            if end is not None and loop_objects.get(name, name) not in (UNKNOWN, self.object_of(end)):
                loop_objects[name] = UNKNOWN
                changed = True
        return changed

    # ---- after a write --------------------------------------------------------------------------------

    def views_read_after(self, holders: set[str], old: str, where: ast.AST) -> dict[str, list[str]]:
        """Versions of views of the array ``holders`` hold (as version ``old``), by version: the user
        variables holding each that the function reads after ``where``."""
        chains = self.view_chains
        found: dict[str, list[str]] = {}
        if not chains:
            return found
        token = self.object_of(old)
        read = None
        for name, version in self.env.items():
            chain = chains.get(version)
            if chain is None or chain.root not in holders or name in holders or _same_token(chain.token, token) is None:
                continue
            if read is None:
                read = _names_read_after(self.node, where)
            if name in read:
                found.setdefault(version, []).append(name)
        return found

    def refresh_views(self, holders: set[str], old: str, new: str, index: ast.expr, where: ast.AST) -> None:
        """After the write ``old[index] = ...`` that made ``new`` (the array ``holders`` hold; ``index``
        Ellipsis for ``a += e``), a new version of each view of it read later: the chain applied again
        to ``new`` where the write changed the view at run time, else the view as it was."""
        for version, names in self.views_read_after(holders, old, where).items():
            chain = self.view_chains[version]
            arguments = [ast.Name(version, ast.Load()), ast.Name(old, ast.Load()), index_value(copy.deepcopy(index))]
            if chain.steps is None:
                loc = self.loc
                where = (loc.file, loc.line, loc.col, loc.end_line, loc.end_col)
                details = [ast.Constant(c) for c in (where, names[0], chain.root, chain.made_by)]
                refuse = self.helper_name(runtime.refuse_changed_view, "refuse_changed_view")
                self.emit([], PlainOp(ast.Call(refuse, arguments + details, [])), [])
                continue
            flag = self.temp()
            self.emit([flag], PlainOp(ast.Call(self.helper_name(runtime.writes_into, "writes_into"), arguments, [])),
                      [False])
            refreshed = self.namer.fresh(names[0])
            again, value = self.chain_applied(chain, new)
            branches = []
            for block, source in ((again, value), ([], version)):
                op, is_active = self.copy_op(source)
                block.append(Assign([refreshed], op, self.loc, [is_active]))
                branches.append(block)
            self.active.add(refreshed)
            self.body.append(If(ast.Name(flag, ast.Load()), branches[0], branches[1], self.loc))
            self.view_chains[refreshed] = chain
            self.item_of[refreshed] = chain.root
            for name in names:
                self.env[name] = refreshed

    def refuse_update_through_view(self, name: str, stmt: ast.stmt, statement: str = "") -> None:
        """Before ``name += e`` (or ``statement``, another write into ``name``): where ``name`` holds a view
        of an array read after the statement, or of an argument (the caller's array), a run-time refusal if
        the view shares its memory (NumPy would write into the array through it)."""
        chain = self.view_chains.get(self.env.get(name))
        array = self.env.get(chain.root) if chain is not None else None
        if array is None or chain.root in self.same_object(name) or _only_copies(chain) \
                or array not in self.params and chain.root not in _names_read_after(self.node, stmt):
            return
        loc = self.loc
        details = [(loc.file, loc.line, loc.col, loc.end_line, loc.end_col), name, chain.root,
                   statement or f"{name} += ..."]
        refuse = self.helper_name(runtime.refuse_update_through_view, "refuse_update_through_view")
        arguments = [ast.Name(self.env[name], ast.Load()), ast.Name(array, ast.Load())]
        self.emit([], PlainOp(ast.Call(refuse, arguments + [ast.Constant(c) for c in details], [])), [])

    def chain_applied(self, chain: ViewChain, array: str) -> tuple[list, str]:
        """The statements that apply ``chain`` to the array version ``array``, and the version they make."""
        saved, self.body = self.body, []
        try:
            value = array
            if chain.start is not None:
                test, where_true, where_false = chain.start
                value = self.namer.fresh("view")
                branches = []
                for branch in (where_true, where_false):
                    block, made = self.chain_applied(branch, array)
                    op, is_active = self.copy_op(made)
                    block.append(Assign([value], op, self.loc, [is_active]))
                    branches.append(block)
                self.active.add(value)
                self.body.append(If(copy.deepcopy(test), branches[0], branches[1], self.loc))
            for step in chain.steps:
                if isinstance(step, RuleStep):
                    arguments = {k: copy.deepcopy(a) for k, a in step.args.items()}
                    arguments[step.key] = ast.Name(value, ast.Load())
                    value = self.prim(step.rule, arguments).id
                    continue
                env = self.env
                env.begin()
                try:
                    for user_name, version in step.names.items():
                        env[user_name] = version
                    env[step.source] = value
                    made = self.atom(copy.deepcopy(step.node))
                finally:
                    env.undo(env.end())
                value = made.id
            return self.body, value
        finally:
            self.body = saved

    def helper_name(self, fn, name: str) -> ast.Name:
        """A name for run-time helper ``fn`` in generated code (bound like a closure value)."""
        ref = self.helper_refs.get(name)
        if ref is None:
            ref = self.helper_refs[name] = self.namer.fresh(name)
            self.closure[ref] = fn
        return ast.Name(ref, ast.Load())


def view_sources(body: list[ast.stmt], changed: set[str]) -> set[str]:
    """Names read where a name the function changes in place is bound (``t = c[0]`` before ``t += 1`` or
    ``t[1] = 0``): the arrays it may be a view of, which NumPy's write into it changes too."""
    if not changed:
        return set()
    return {n.id for s in body for node in ast.walk(s) if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id in changed for t in node.targets)
            for n in ast.walk(node.value) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _view_source(node: ast.expr) -> str | None:
    """The variable a subscript, ``.T`` or view method reads its view out of (``v`` in ``v[0]``,
    ``v.T``, ``v.reshape(9)``), else None."""
    if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.value, ast.Name):
        if isinstance(node, ast.Subscript) or node.attr in ("T", "mT", "real"):
            return node.value.id
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
            and node.func.attr in VIEW_METHODS:
        return node.func.value.id
    return None


UNKNOWN = "<any object>"


def _same_token(a: str, b: str) -> str | None:
    """The token of an object known by tokens ``a`` and ``b``: None where they are two objects."""
    if a == b or b == UNKNOWN:
        return a
    return b if a == UNKNOWN else None


def _same_steps(a: ViewChain, b: ViewChain) -> bool:
    """Whether ``b`` makes the view ``a`` makes, out of the same object: the same steps on the same
    arguments (the same versions: made before a loop, where ``a`` is its entry's chain), or a choice
    between two such (an ``if`` that made the view again on one path and kept it on the other)."""
    if a is b:
        return True
    if b.start is not None:
        return b.steps == () and _same_steps(a, b.start[1]) and _same_steps(a, b.start[2])
    if a.start is not None or a.steps is None or b.steps is None or len(a.steps) != len(b.steps) \
            or a.token == UNKNOWN or a.token != b.token:
        return False
    return all(_step_text(p) == _step_text(q) for p, q in zip(a.steps, b.steps, strict=True))


def _repeatable_anywhere(chain: ViewChain) -> bool:
    """Whether ``chain`` reads nothing but its array and constants (``v[0]``, ``v[:, 1]``, ``v.T``)."""
    if chain.steps is None or chain.start is not None:
        return False
    for step in chain.steps:
        if not isinstance(step, RuleStep):
            return False
        for key, arg in step.args.items():
            if key != step.key and any(isinstance(n, ast.Name) for n in ast.walk(arg)):
                return False
    return True


def _only_copies(chain: ViewChain) -> bool:
    """Whether ``chain`` holds its array itself (a merge's or a loop's copy of a version: the same object,
    which in-place updates treat as an alias, not as a view)."""
    return chain.steps is not None and chain.start is None and all(
        isinstance(step, RuleStep) and step.rule is operator_rules.δidentity.rule for step in chain.steps)


def _step_text(step: RuleStep | ExpressionStep) -> tuple:
    if isinstance(step, RuleStep):
        return (id(step.rule), step.key, tuple((k, ast.dump(a)) for k, a in step.args.items() if k != step.key))
    return (ast.dump(step.node), step.source, tuple(sorted((k, v) for k, v in step.names.items() if k != step.source)))


def _merged(a: ViewChain | None, b: ViewChain | None) -> ViewChain | None:
    if a is None or b is None or a is b:
        return a or b
    if a.steps is None and b.steps is None:
        return a
    return dataclasses.replace(a.opaque("made differently on different paths"),
                               token=_same_token(a.token, b.token) or UNKNOWN)


def _array_reads(expr: ast.expr) -> list[ast.Name]:
    """The names in a constant expression that may be read for their memory (not for ``.shape``, nor
    copied by ``.copy()``)."""
    skip = {id(n.value) for n in ast.walk(expr) if isinstance(n, ast.Attribute) and n.attr in _METADATA}
    skip |= {id(n.func.value) for n in ast.walk(expr) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute) and n.func.attr == "copy" and not n.args}
    return [n for n in ast.walk(expr) if isinstance(n, ast.Name) and id(n) not in skip]
