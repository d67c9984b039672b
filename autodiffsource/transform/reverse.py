"""Stage 2: :class:`LoweredFunction` -> :class:`Generated` (forward and pullback statements, as ``ast``).

Contract: the forward pass computes exactly what the user's function computes, statement by statement,
keeping every value the pullback reads under its own name (SSA makes that free in straight-line code).
The pullback visits the statements in reverse and emits, for each active one whose result received a
cotangent, the rule's pullback body, inlined, for just the partials of active arguments.

Control flow is reversed structurally. A branch is replayed from its (saved) test. A loop pushes, at the
end of each iteration, a tuple of exactly the values its reversed body reads onto a list named for the
loop (``_tape1``); the pullback walks that list backwards, so any trip count works with one
transformation, and the pullback never mutates it (it may be called many times).

Cotangents accumulate per variable. Where the generator knows a cotangent exists it assigns the first
contribution (``dx = ...``) and adds the rest in place (``dx += ...``) when it owns the buffer (it
allocated it), else out of place, so user arrays are never mutated. Where control flow makes it
uncertain, the variable holds ``None`` until a contribution arrives (``accumulate``), and statements
whose cotangent may be ``None`` are guarded. Nothing that does not reach a differentiated input is
emitted.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import os
from typing import Callable

from ..astutil import name_ids
from ..errors import SourceLoc
from ..ir import AppendOp, Assign, DeltaCall, If, Loop, LoweredFunction, PackOp, PlainOp, PrimOp, SetItemOp
from ..ir import walk_statements
from .. import runtime
from .codeparts import MAYBE, PRESENT, Comment, Placeholder
from .codeparts import has_code as _has_code, store_targets as _store_targets
from .inline import Instance, template_for
from .loops import LoopPlan, LoopReversal
from .naming import Namer
from .shapes import ELEMENTWISE_BINARY as _ELEMENTWISE_BINARY, ShapeFacts, is_number_literal
from .shortcuts import DIVISIONS as _DIVISIONS, EarlySlices, Shortcuts, nonzero_number as _nonzero_number
from .inplace import consume_forward_values, first_writes_in_place
from .tidy import NameTable, tidy

# Helpers whose result is always a new array the generated code may then update in place.
_FRESH_HELPERS = {
    runtime.matmul_left_partial, runtime.matmul_right_partial, runtime.dot_left_partial,
    runtime.dot_right_partial, runtime.reduction_extreme_partial,
}


@dataclasses.dataclass
class Generated:
    """A δ function before rendering."""

    name: str
    pullback_name: str
    forward: list[ast.stmt]
    pullback_params: list[str]
    single_output: bool
    pullback: list[ast.stmt]
    outputs: list[ast.expr]
    bindings: dict[str, object]
    lowered: LoweredFunction
    # tidy's table of the statements' names, up to date for ``forward`` and ``pullback`` as build left
    # them (a later pass that rewrites one of them in place must ``forget`` it); asked by combined.py.
    names: NameTable | None = None
    # The generated temporaries tidy may fuse away (never the user's names): for a later tidy of a copy.
    fusable: Callable[[str], bool] = lambda name: False


@dataclasses.dataclass
class Snapshot:
    """The copy of a version's content taken before an in-place write, made only if the pullback reads it.

    ``pending``: the write's backward has been generated, so earlier statements' reads are redirected;
    ``used``: some read was, and the forward pass fills ``placeholder`` with the copy.
    ``container``: a list, whose length (not only its content) the write changes."""

    name: str
    placeholder: Placeholder
    container: bool = False
    pending: bool = False
    used: bool = False
    # Per ``if`` around the write that does not make the version: the ``if`` and the slot at the top of
    # its other branch. Where that branch runs instead, the write does not, and the copy is taken there
    # once a statement before the ``if`` reads it (its pullback runs on every path).
    other_paths: list = dataclasses.field(default_factory=list)


def comment_for(loc: SourceLoc, texts: dict | None = None) -> Comment:
    """The ``# file:line  source`` line for ``loc``; ``texts``: a cache of the comments' texts by (file, line)
    (each source line is commented twice, in the forward pass and in the pullback)."""
    return Comment(text=_comment_text(loc, texts))


def _comment_text(loc: SourceLoc, texts: dict | None) -> str:
    key = (loc.file, loc.line)
    text = texts.get(key) if texts is not None else None
    if text is None:
        source = loc.text.strip()
        where = f"{os.path.basename(loc.file)}:{loc.line}"
        text = f"{where}  {source}" if source else where
        if texts is not None:
            texts[key] = text
    return text


def _comment_once(loc: SourceLoc, texts: dict, out: list) -> None:
    """Append ``comment_for(loc)`` to ``out`` unless it repeats the last comment there with no block
    since (one source line lowers to several statements: _drop_repeated_comments would drop it)."""
    text = _comment_text(loc, texts)
    for s in reversed(out):
        cls = s.__class__
        if cls is Comment:
            if s.text == text:
                return
            break
        if cls in _BLOCKS:
            break
    out.append(Comment(text=text))


class ReverseBuilder(LoopReversal, Shortcuts):
    """Builds the forward pass and the pullback of one lowered function."""

    def __init__(self, lowered: LoweredFunction, namer: Namer, user_globals: dict, delta_name: str,
                 pullback_runs_once: bool = False, assumed_same_shape: tuple[tuple[str, ...], ...] = (),
                 scatters_by_region: bool = False):
        self.lowered = lowered
        # True for value_and_grad's variant, whose pullback is called exactly once: it may then scale the
        # forward pass's dead values in place (inplace.consume_forward_values).
        self.pullback_runs_once = pullback_runs_once
        # True for a variant first called with another library's arrays: a buffer's slice writes are
        # grouped by region, the order XLA fuses best (tidy._group_scatters).
        self.scatters_by_region = scatters_by_region
        self.namer = namer
        self.user_globals = user_globals
        self.delta_name = delta_name
        self.bindings: dict[str, object] = {}
        # Every name the generated code uses for a bound object: the bindings, and user globals that are
        # the very object (generated code differentiated again names the helpers as its own globals).
        self.named: dict[str, object] = {}
        self._bound_ids: dict[int, str] = {}
        self.xp_name: str | None = None
        self.instances: dict[int, Instance] = {}
        self.pullback_names: dict[int, str] = {}
        self.plans: dict[int, LoopPlan] = {}
        self.dnames: dict[str, str] = {}
        self.state: dict[str, tuple[str, bool]] = {}  # var -> (PRESENT | MAYBE, owned)
        self.local_names = {t for s in walk_statements(lowered.body) if isinstance(s, Assign) for t in s.targets}
        self.local_names |= set(lowered.params)
        # Versions overwritten in place (y[i] = v) -> the snapshot their reads take, from the write back
        self.snapshots: dict[str, Snapshot] = {}
        self.own_snapshots: dict[int, Snapshot] = {}  # per write (its IR statement's id): its old version's
        # While the forward pass of a branch is written: per enclosing ``if``, the names its branches
        # bind and the slot at the top of the other branch (see Snapshot.other_paths).
        self.other_branches: list[tuple[If, set[str], Placeholder]] = []
        self.open_ifs: set[int] = set()  # ids of the ifs whose pullback is being written
        # Per write (by its IR statement's id): the snapshots of the items read out of the array before it.
        self.item_snapshots: dict[int, dict[str, Snapshot]] = {}
        self.comment_texts: dict[tuple, str] = {}  # comment_for's cache
        # Groups of parameters taken to share a shape: value_and_grad's same-shape branch, whose guard
        # checks it (api._same_shape_variant).
        self.shapes = ShapeFacts(lowered, assumed_same_shape)
        # Variables whose cotangent is, for now, a 0-d value standing for a full array of that value
        # shaped like the variable (what a full sum hands back: no array of ones is made). Only in
        # straight-line code without in-place writes, where the state below is simple to follow.
        self.scalar_cotangents: set[str] = set()
        self.scalar_cotangents_allowed = not any(
            isinstance(s, (If, Loop)) or isinstance(s, Assign) and isinstance(s.op, (SetItemOp, AppendOp))
            for s in lowered.body)

    # ---- names -----------------------------------------------------------------------------------

    def bind(self, preferred: str, obj) -> str:
        """The name generated code uses for ``obj`` (a helper, a rule's module global, a δ callee)."""
        if id(obj) in self._bound_ids:
            return self._bound_ids[id(obj)]
        if self.namer.is_taken(preferred) and self.user_globals.get(preferred, None) is obj \
                and preferred not in self.lowered.closure and preferred not in self.local_names:
            name = preferred  # the user's own global of that name is the very same object
        else:
            name = self.namer.fresh(preferred)
            self.bindings[name] = obj
        self._bound_ids[id(obj)] = name
        self.named[name] = obj
        return name

    def helper(self, fn) -> ast.Name:
        return ast.Name(self.bind(fn.__name__, fn), ast.Load())

    def call(self, fn, *args) -> ast.Call:
        return ast.Call(self.helper(fn), list(args), [])

    def xp(self) -> str:
        if self.xp_name is None:
            self.xp_name = self.namer.fresh("xp")
        return self.xp_name

    def dname(self, var: str) -> str:
        if var not in self.dnames:
            self.dnames[var] = self.namer.fresh(f"d{var}")
        return self.dnames[var]

    # ---- the whole function ------------------------------------------------------------------------

    def build(self) -> Generated:
        lowered = self.lowered
        # Closure variables are read as constants: expressions kept as written still name them, so the
        # generated function gets them as bindings under the user's own names (the namer reserved those).
        for name, value in lowered.closure.items():
            self.bindings.setdefault(name, value)
        forward = self.forward_block(lowered.body)
        if self.xp_name is not None:
            call = self.call(runtime.namespace, *[ast.Name(p, ast.Load()) for p in lowered.params])
            head = [comment_for(SourceLoc(lowered.file, lowered.def_line)),
                    ast.Assign([ast.Name(self.xp_name, ast.Store())], call)]
            forward = head + forward
        pullback_name = self.namer.fresh(f"{lowered.name}_pullback")
        params, seed = self.seed_cotangents()
        self.pullback_params = params
        backward = seed + self.backward_block(lowered.body)
        backward.append(comment_for(lowered.ret.loc))
        backward.extend(self.return_partials())
        _fill_placeholders(forward)
        backward = _drop_repeated_comments(backward)
        backward = self.save_product_shapes(forward, backward)
        cotangents = set(self.dnames.values()) - set(params)
        added: list[str] = []  # helpers the rewrites below bind, each for a call they write

        def bound_helper(fn) -> str:
            added.append(self.helper(fn).id)
            return added[-1]

        xp_name = self.xp_name
        fusable = lambda name: name in cotangents or name.startswith("_") and name != xp_name  # noqa: E731
        names = NameTable(self.named)  # each statement's names, counted by tidy and read by the passes after it
        names_read = tidy(forward, backward, lowered.ret.values, names, fusable, bound_helper,
                          scatters_by_region=self.scatters_by_region)
        before = len(added)
        first_writes_in_place(backward, names, bound_helper)
        first_writes_rewrote = len(added) > before  # (it binds zeros_with for each call it writes)
        if self.pullback_runs_once:
            consume_forward_values(forward, backward, lowered.ret.values, names, bound_helper)
        # Helpers a rewrite above made unnecessary (the expand_reduced of a sum whose cotangent stayed a
        # scalar) leave the factory's parameter list. The names tidy saw say which are read: its own
        # rewrites and consume_forward_values only add calls (of the helpers in `added`), but
        # first_writes_in_place replaces index_add and zeros_like calls, so after it the code is walked.
        if first_writes_rewrote:
            used = name_ids(forward + backward + list(lowered.ret.values))
        else:
            used = names_read | set(added)
        for name in [n for n, obj in self.bindings.items() if n not in used and runtime.is_helper(obj)
                     and n not in lowered.closure]:
            del self.bindings[name]
            self._bound_ids.pop(id(self.named.get(name)), None)
        return Generated(
            name=self.delta_name, pullback_name=pullback_name, forward=forward, pullback_params=params,
            single_output=len(lowered.ret.values) == 1, pullback=backward,
            outputs=lowered.ret.values, bindings=self.bindings, lowered=lowered, names=names, fusable=fusable)

    # ---- forward ---------------------------------------------------------------------------------

    def forward_block(self, stmts: list) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            _comment_once(s.loc, self.comment_texts, out)
            if isinstance(s, Assign):
                out.extend(self.forward_assign(s))
            elif isinstance(s, If):
                local = {t for b in (s.body, s.orelse) for st in walk_statements(b) if isinstance(st, Assign)
                         for t in st.targets}
                body_top, else_top = Placeholder(stmts=[]), Placeholder(stmts=[])
                self.other_branches.append((s, local, else_top))
                body = [body_top] + self.forward_block(s.body)
                self.other_branches[-1] = (s, local, body_top)
                orelse = [else_top] + self.forward_block(s.orelse)
                self.other_branches.pop()
                out.append(ast.If(s.test, _nonempty(body), orelse if _has_code(orelse) else []))
            elif isinstance(s, Loop):
                out.extend(self.forward_loop(s))
            else:
                raise AssertionError(s)
        return _drop_repeated_comments(out)

    def forward_assign(self, stmt: Assign) -> list[ast.stmt]:
        op = stmt.op
        targets = stmt.targets
        if isinstance(op, PlainOp):
            if isinstance(op.expr, ast.stmt):
                return [op.expr]
            if not targets:
                return [ast.Expr(op.expr)]
            return [ast.Assign([_store_targets(targets)], op.expr)]
        if isinstance(op, PrimOp):
            template = template_for(op.rule)
            if template is not None:
                xp_name = self.xp() if template.uses_xp else "xp"  # "xp" is unused when not needed
                instance = template.instantiate(op.args, targets[0], self.namer.fresh, self.bind, xp_name)
                self.instances[id(stmt)] = instance
                return instance.forward
            # A rule that is not in the inlinable shape: call it and keep its pullback closure.
            pb = self.namer.fresh(f"{targets[0]}_pb")
            self.pullback_names[id(stmt)] = pb
            call = ast.Call(ast.Name(self.bind(op.rule.delta.__name__, op.rule.delta), ast.Load()),
                            [], [ast.keyword(k, v) for k, v in op.args.items()])
            return [ast.Assign([_store_targets(targets + [pb])], call)]  # (*outputs, pullback), as δ functions
        if isinstance(op, PackOp):
            if op.kind == "dict":
                value = ast.Dict(list(op.keys), list(op.items))
            elif op.kind == "list":
                value = ast.List(list(op.items), ast.Load())
            else:
                value = ast.Tuple(list(op.items), ast.Load())
            return [ast.Assign([ast.Name(targets[0], ast.Store())], value)]
        if isinstance(op, AppendOp):
            # Like y[i] = v: in place, with a snapshot only if the pullback reads the old list. The
            # length before the append says which entry of the cotangent belongs to the value.
            snapshot = Placeholder(stmts=[])
            self.own_snapshots[id(stmt)] = self.snapshot(op.old, snapshot, container=True)
            count = ast.Assign([ast.Name(op.count, ast.Store())],
                               ast.Call(ast.Name("len", ast.Load()), [ast.Name(op.old, ast.Load())], []))
            append = ast.Expr(ast.Call(ast.Attribute(ast.Name(op.old, ast.Load()), "append", ast.Load()), [op.value], []))
            alias = ast.Assign([ast.Name(targets[0], ast.Store())], ast.Name(op.old, ast.Load()))
            return [snapshot] + self.item_placeholders(stmt, container=True) + [count, append, alias]
        if isinstance(op, SetItemOp):
            # The write happens in place, as in the user's code; a snapshot of the old content is taken
            # first only if the pullback turns out to read it (see backward_setitem).
            snapshot = Placeholder(stmts=[])
            self.own_snapshots[id(stmt)] = self.snapshot(op.old, snapshot)
            # The items read out of the array before (NumPy's views change with the write) get theirs too.
            before = [snapshot] + self.item_placeholders(stmt)
            if _is_whole(op.index):  # a += e on an object others share: in place if it is an array
                update = self.call(runtime.update_in_place, ast.Name(op.old, ast.Load()), op.value)
                return before + [ast.Assign([ast.Name(targets[0], ast.Store())], update)]
            write = ast.Assign([ast.Subscript(ast.Name(op.old, ast.Load()), op.index, ast.Store())], op.value)
            alias = ast.Assign([ast.Name(targets[0], ast.Store())], ast.Name(op.old, ast.Load()))
            return before + [write, alias]
        if isinstance(op, DeltaCall):
            pb = self.namer.fresh(f"{targets[0]}_pb")
            self.pullback_names[id(stmt)] = pb
            if getattr(op, "method", None) is not None:
                # Resolved per call: the object's class decides which function runs.
                callee = self.call(runtime.method_delta, op.method, ast.Constant(tuple(op.active)))
            else:
                callee = ast.Name(self.bind(_delta_name(op), op.delta), ast.Load())
            call = ast.Call(callee, list(op.args), [ast.keyword(k, v) for k, v in op.kwargs.items()])
            return [ast.Assign([_store_targets(targets + [pb])], call)]
        raise AssertionError(op)

    # ---- backward: blocks ---------------------------------------------------------------------------

    def backward_block(self, stmts: list) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        early = EarlySlices(stmts) if self.scalar_cotangents_allowed and stmts is self.lowered.body else None
        for s in reversed(stmts):
            if early is not None and early.done(s):
                continue
            self.backward_statement(s, out)
            ready = early.after(s) if early is not None else []
            while ready:  # a slice of a slice may be complete in turn
                g = ready.pop(0)
                self.backward_statement(g, out)
                ready += early.after(g)
        return _drop_repeated_comments(out)

    def backward_statement(self, s, out: list) -> None:
        if isinstance(s, Assign):
            code = self.backward_assign(s)
            if not isinstance(s.op, (SetItemOp, AppendOp)):
                code = self.content_reads_renamed(code)
        elif isinstance(s, If):
            code = self.backward_if(s)
        else:
            code = self.backward_loop(s)
        if _has_code(code):
            _comment_once(s.loc, self.comment_texts, out)
            out.extend(code)

    def branches(self, generators, local=frozenset()) -> tuple[list[ast.stmt], list[list[ast.stmt]]]:
        """Run each generator from the same cotangent state; merge the states; say what to set first.

        ``local`` names variables defined inside the branches: their cotangents die with them. Each
        branch also starts from the same snapshots: a write's snapshot redirects the reads before it on its
        own path, never those of another branch (whose path the write is not on). Statements before the
        branches read the snapshot a branch took (the last branch's, where several did): it is also filled
        at the top of each other branch (``Snapshot.other_paths``), so it holds the old content on every path.
        """
        start, start_snapshots = dict(self.state), self.snapshots
        results, ends, taken = [], [], {}
        for gen in generators:
            self.state, self.snapshots = dict(start), dict(start_snapshots)
            results.append(gen())
            ends.append(self.state)
            taken.update((version, entry) for version, entry in self.snapshots.items()
                         if start_snapshots.get(version) is not entry)
        self.snapshots = {**start_snapshots, **taken}
        merged, pre = {}, []
        for var in sorted(set().union(*ends) | set(start)):
            if var in local:
                continue
            states = [end.get(var) for end in ends]
            if all(st is not None and st[0] == PRESENT for st in states):
                merged[var] = (PRESENT, all(st[1] for st in states))
            elif any(st is not None for st in states):
                merged[var] = (MAYBE, False)
                if start.get(var) is None:  # defined on some paths only: None stands for zero
                    pre.append(ast.Assign([ast.Name(self.dname(var), ast.Store())], ast.Constant(None)))
        self.state = merged
        return pre, results

    def backward_if(self, s: If) -> list[ast.stmt]:
        local = {t for b in (s.body, s.orelse) for st in walk_statements(b) if isinstance(st, Assign)
                 for t in st.targets}
        self.open_ifs.add(id(s))
        pre, (body, orelse) = self.branches([lambda: self.backward_block(s.body),
                                             lambda: self.backward_block(s.orelse)], local)
        self.open_ifs.discard(id(s))
        if not _has_code(body) and not _has_code(orelse):
            return pre
        if not _has_code(body):
            return pre + [ast.If(ast.UnaryOp(ast.Not(), s.test), orelse, [])]
        return pre + [ast.If(s.test, body, orelse if _has_code(orelse) else [])]

    def ensure_present(self, var: str, value: str, out: list) -> None:
        """Make the cotangent of ``var`` certainly an array (zeros shaped like ``value``) before a loop."""
        st = self.state.get(var)
        name = self.dname(var)
        zeros = self.call(runtime.zeros_like, ast.Name(value, ast.Load()))
        if st is None:
            out.append(ast.Assign([ast.Name(name, ast.Store())], zeros))
            self.state[var] = (PRESENT, True)
        elif st[0] == MAYBE:
            test = ast.Compare(ast.Name(name, ast.Load()), [ast.Is()], [ast.Constant(None)])
            out.append(ast.If(test, [ast.Assign([ast.Name(name, ast.Store())], zeros)], []))
            self.state[var] = (PRESENT, False)

    # ---- backward: one statement --------------------------------------------------------------------

    def backward_assign(self, stmt: Assign) -> list[ast.stmt]:
        op = stmt.op
        if isinstance(op, PlainOp):
            return []
        states = [self.state.get(t) for t in stmt.targets]
        if all(st is None for st in states):
            if isinstance(op, (SetItemOp, AppendOp)):  # no cotangent, but reads before it see the old content
                self.snapshots_pending(stmt)
            return []  # nothing downstream depends on this value
        if any(st is not None and st[0] == PRESENT for st in states):
            return self.backward_op(stmt)
        # Every cotangent may still be None at run time: only propagate the ones that arrived.
        names = [self.dname(t) for t, st in zip(stmt.targets, states) if st is not None]
        tests = [ast.Compare(ast.Name(n, ast.Load()), [ast.IsNot()], [ast.Constant(None)]) for n in names]
        test = tests[0] if len(tests) == 1 else ast.BoolOp(ast.Or(), tests)
        for t, st in zip(stmt.targets, states):
            if st is not None and len(stmt.targets) == 1:
                self.state[t] = (PRESENT, st[1])
        pre, (code, _) = self.branches([lambda: self.backward_op(stmt), lambda: []])
        if not _has_code(code):  # no partial is needed (only shape-only or constant arguments)
            return pre + code
        return pre + [ast.If(test, code, [])]

    def cotangent_args(self, stmt: Assign, zeros_for_missing: bool) -> list[ast.expr]:
        args = []
        for t in stmt.targets:
            st = self.state.get(t)
            if st is None:
                args.append(self.call(runtime.zeros_like, ast.Name(t, ast.Load())) if zeros_for_missing
                            else ast.Constant(None))
            elif st[0] == MAYBE and zeros_for_missing:
                args.append(self.call(runtime.or_zeros, ast.Name(self.dname(t), ast.Load()), ast.Name(t, ast.Load())))
            else:
                args.append(ast.Name(self.dname(t), ast.Load()))
        return args

    def backward_op(self, stmt: Assign) -> list[ast.stmt]:
        op = stmt.op
        out: list[ast.stmt] = []
        for t in stmt.targets:
            if t in self.scalar_cotangents and not self.takes_scalar_cotangent(stmt):
                self.expand_scalar_cotangent(t, out)
        if isinstance(op, SetItemOp):
            return self.backward_setitem(stmt)
        if isinstance(op, PackOp):
            d = ast.Name(self.dname(stmt.targets[0]), ast.Load())
            keys = op.keys if op.kind == "dict" else [ast.Constant(i) for i in range(len(op.items))]
            for key, item in zip(keys, op.items, strict=True):
                if self.is_active(item):
                    part = self.call(runtime.take_cotangent, d, key)
                    self.add(item.id, self.call(runtime.or_zeros, part, item), out)
            return out
        if isinstance(op, AppendOp):
            d = ast.Name(self.dname(stmt.targets[0]), ast.Load())
            count = ast.Name(op.count, ast.Load())
            if self.is_active(op.value):
                part = self.call(runtime.take_cotangent, d, count)
                self.add(op.value.id, self.call(runtime.or_zeros, part, op.value), out)
            if op.old in self.lowered.active:
                head = ast.Call(ast.Name("slice", ast.Load()), [ast.Constant(None), count], [])
                self.add(op.old, self.call(runtime.take_cotangent, d, head), out)
            self.snapshots_pending(stmt)
            return out
        if isinstance(op, PrimOp):
            rule = op.rule
            instance = self.instances.get(id(stmt))
            if instance is not None:
                params = instance.template.params
                needed = [p in op.args and p not in rule.without_partials and self.is_active(op.args[p]) for p in params]
                d_result = self.dname(stmt.targets[0])
                scalar_in = stmt.targets[0] in self.scalar_cotangents
                body, partials = instance.backward(d_result, needed)
                out.extend(body)
                for p, partial in zip(params, partials, strict=True):
                    if partial is None:
                        continue
                    if p == "y" and id(op.rule) in _DIVISIONS and _nonzero_number(op.args.get("x")):
                        partial = self.reciprocal_partial(op, d_result, stmt.targets[0])
                    if self.same_shape_as_result(op, p, stmt.targets[0]):
                        partial = _without_unbroadcast(partial, self.named)
                    if self.is_full_sum(op) and self.scalar_cotangents_allowed:
                        # The 0-d cotangent of a full sum stands for the array of it: no array is made
                        # until something needs one (most elementwise partials broadcast it anyway).
                        self.add(op.args[p].id, ast.Name(d_result, ast.Load()), out, scalar=True)
                        continue
                    # A partial computed from the scalar cotangent and numbers alone is a scalar too.
                    scalar = scalar_in and not body and all(
                        n.id == d_result for n in ast.walk(partial) if isinstance(n, ast.Name))
                    self.add(op.args[p].id, partial, out, scalar=scalar)
                return out
            # Closure rules get one cotangent per output, None where nothing flowed back.
            params = list(inspect.signature(rule.delta).parameters)
            call = ast.Call(ast.Name(self.pullback_names[id(stmt)], ast.Load()),
                            self.cotangent_args(stmt, zeros_for_missing=False), [])
            atoms = [op.args[p] if p in op.args and p not in rule.without_partials and self.is_active(op.args[p]) else None
                     for p in params]
            self.unpack_partials(call, atoms, out, always_tuple=True)
            return out
        pb = ast.Name(self.pullback_names[id(stmt)], ast.Load())
        if op.ours:
            if not op.partial_atoms:
                return out
            atoms = [a if self.is_active(a) else None for a in op.partial_atoms]
            call = ast.Call(pb, self.cotangent_args(stmt, zeros_for_missing=False), [])
            self.unpack_partials(call, atoms, out, always_tuple=False)
        else:
            call = self.call(runtime.user_partials, ast.Call(pb, self.cotangent_args(stmt, True), []),
                             ast.Tuple(list(op.args), ast.Load()), ast.Constant(op.name))
            atoms = [a if self.is_active(a) else None for a in op.args]
            self.unpack_partials(call, atoms, out, always_tuple=True)
        return out

    def backward_setitem(self, stmt: Assign) -> list[ast.stmt]:
        """``y_new = (y_old[index] = value)``: the written part goes to ``value``, the rest to ``y_old``."""
        op = stmt.op
        out: list[ast.stmt] = []
        d_new = ast.Name(self.dname(stmt.targets[0]), ast.Load())
        index = _index_value(op.index)
        if _is_whole(op.index):
            # The whole object was replaced by the value (the old one lives on only under other names,
            # whose copies send it their own cotangents).
            if self.is_active(op.value):
                self.add(op.value.id, d_new, out, owned=False)
            self.snapshots_pending(stmt)
            return out
        if self.is_active(op.value):
            part = self.call(runtime.take_cotangent, d_new, index)
            self.add(op.value.id, self.call(runtime.unbroadcast, part, op.value), out)
        if op.old in self.lowered.active:
            self.add(op.old, self.call(runtime.without_index, d_new, index), out, owned=True)
        # From here on (earlier statements), reads of the old version's content use its snapshot, and
        # reads of an item read out of it before, that item's.
        self.snapshots_pending(stmt)
        return out

    def item_placeholders(self, stmt, container: bool = False) -> list[Placeholder]:
        """Where the forward pass copies each of ``stmt``'s ``items_before`` (a write, or a loop that writes),
        if the pullback reads it (see item_snapshots_pending); ``container``: they are lists an append
        changes (other versions of the list appended to)."""
        items = {item: self.snapshot(item, Placeholder(stmts=[]), container) for item in stmt.items_before}
        self.item_snapshots[id(stmt)] = items
        return [entry.placeholder for entry in items.values()]

    def snapshot(self, version: str, placeholder: Placeholder, container: bool = False) -> Snapshot:
        """The snapshot of ``version`` a write about to be written takes in ``placeholder``."""
        return Snapshot(self.namer.fresh(f"{version}_before"), placeholder, container,
                        other_paths=[(id(s), top) for s, local, top in self.other_branches if version not in local])

    def snapshots_pending(self, stmt: Assign) -> None:
        """From the write ``stmt`` back (earlier statements), reads of the version it wrote over, and of the
        items read out of its array before, read their snapshots. (Its own: another write's snapshot of
        the same version, as an item, may have been pending since.)"""
        entry = self.own_snapshots[id(stmt)]
        entry.pending = True
        self.snapshots[stmt.op.old] = entry
        self.item_snapshots_pending(stmt)

    def item_snapshots_pending(self, stmt) -> None:
        """From the write (or loop) ``stmt`` back, the items read out of its array before it read as they
        were then."""
        for item, entry in self.item_snapshots.get(id(stmt), {}).items():
            entry.pending = True
            self.snapshots[item] = entry

    def content_reads_renamed(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        """Point reads of overwritten versions at their snapshots (shape-only reads need none)."""
        pending = {old: entry for old, entry in self.snapshots.items() if entry.pending}
        if not pending:
            return stmts
        shape_only = {runtime.zeros_like: (0,), runtime.unbroadcast: (1,), runtime.expand_reduced: (1,)}
        builder = self

        class Redirect(ast.NodeTransformer):
            def visit_Call(self, node):
                fn = builder.bindings.get(node.func.id) if isinstance(node.func, ast.Name) else None
                keep = shape_only.get(fn, ())
                if keep and any(isinstance(a, ast.Name) and a.id in pending and pending[a.id].container
                                for a in node.args):
                    keep = ()  # a list's structure changes with the append: its old length matters
                node.func = self.visit(node.func)
                node.args = [a if i in keep else self.visit(a) for i, a in enumerate(node.args)]
                node.keywords = [self.visit(k) for k in node.keywords]
                return node

            def visit_Name(self, node):
                entry = pending.get(node.id)
                if entry is None or not isinstance(node.ctx, ast.Load):
                    return node
                if not entry.used:
                    entry.used = True
                    entry.placeholder.stmts = [ast.Assign([ast.Name(entry.name, ast.Store())],
                                                          builder.call(runtime.copy_value, ast.Name(node.id, ast.Load())))]
                for if_id, top in entry.other_paths:
                    if if_id not in builder.open_ifs and entry.placeholder.stmts[0] not in top.stmts:
                        top.stmts = top.stmts + entry.placeholder.stmts  # (a read before that if)
                return ast.Name(entry.name, ast.Load())

        return [Redirect().visit(s) for s in stmts]

    def same_shape_as_result(self, op: PrimOp, param: str, result: str) -> bool:
        """True when the result of this elementwise operation certainly has ``param``'s shape, so
        un-broadcasting its partial is a no-op: every other argument is a number literal (``100 * x``,
        ``1 - x``) or shaped like ``param`` (see :mod:`.shapes`)."""
        if id(op.rule) not in _ELEMENTWISE_BINARY:
            return False
        arg, shapes = op.args[param], self.shapes
        for k, v in op.args.items():
            if k != param and not (is_number_literal(v) or shapes.same(v, arg)):
                break
        else:
            return True
        return shapes.same_as(arg, result)

    def unpack_partials(self, call: ast.expr, atoms: list, out: list, always_tuple: bool) -> None:
        """``g1, g2 = call`` then accumulate each ``g`` into its argument's cotangent."""
        if not always_tuple and len(atoms) == 1:
            if atoms[0] is not None:
                self.add(atoms[0].id, call, out, owned=False)
            return
        names, pending = [], []
        for atom in atoms:
            if atom is None:
                names.append("_")
                continue
            unique = sum(1 for a in atoms if a is not None and a.id == atom.id) == 1
            if unique and self.state.get(atom.id) is None:
                names.append(self.dname(atom.id))
                self.state[atom.id] = (PRESENT, False)
            else:
                name = self.namer.fresh(f"d{atom.id}_part")
                pending.append((atom.id, name))
                names.append(name)
        out.append(ast.Assign([ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())], call))
        for var, name in pending:
            self.add(var, ast.Name(name, ast.Load()), out, owned=False)

    def add(self, var: str, expr: ast.expr, out: list, owned: bool | None = None, scalar: bool = False) -> None:
        """Accumulate the contribution ``expr`` into the cotangent of ``var``; ``scalar``: it is a 0-d
        stand-in for a full array (never updated in place: `+=` on it could not hold an array)."""
        if var not in self.lowered.active:
            return
        name = self.dname(var)
        fresh = self.is_fresh(expr) if owned is None else owned
        st = self.state.get(var)
        if scalar and (st is None or var in self.scalar_cotangents):
            self.scalar_cotangents.add(var)
            fresh = False
        else:
            self.scalar_cotangents.discard(var)
        target = ast.Name(name, ast.Store())
        if st is None:
            out.append(ast.Assign([target], expr))
            self.state[var] = (PRESENT, fresh)
            return
        if st[0] == MAYBE:
            out.append(ast.Assign([target], self.call(runtime.accumulate, ast.Name(name, ast.Load()), expr)))
            self.state[var] = (PRESENT, fresh)
            return
        scatter = self.scatter_parts(expr)
        if not fresh and scatter is None:
            # A contribution of unknown kind (a callee's partial, a copy): it may be a list or dict,
            # which `+` would concatenate, so add element by element.
            out.append(ast.Assign([target], self.call(runtime.add_cotangents, ast.Name(name, ast.Load()), expr)))
            self.state[var] = (PRESENT, True)
        elif st[1] and scatter is not None:
            # d[index] += g straight into the buffer we own, instead of a zero array per subscript.
            index, g = scatter
            out.append(ast.Assign([target], self.call(runtime.index_add, ast.Name(name, ast.Load()), index, g)))
        elif st[1]:
            out.append(ast.AugAssign(target, ast.Add(), expr))
        elif scatter is not None:
            # index_add(zeros_like(x), i, g) where x may be a list or dict, which `+` would concatenate.
            out.append(ast.Assign([target], self.call(runtime.add_cotangents, ast.Name(name, ast.Load()), expr)))
            self.state[var] = (PRESENT, True)
        else:
            out.append(ast.Assign([target], ast.BinOp(ast.Name(name, ast.Load()), ast.Add(), expr)))
            self.state[var] = (PRESENT, True)

    def is_active(self, atom) -> bool:
        return isinstance(atom, ast.Name) and atom.id in self.lowered.active

    def is_fresh(self, expr: ast.expr) -> bool:
        """Whether ``expr`` certainly evaluates to a new object (so updating it in place is safe)."""
        if isinstance(expr, (ast.BinOp, ast.UnaryOp)):
            return True
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            fn = self.named.get(expr.func.id)
            if fn is runtime.unbroadcast:
                return self.is_fresh(expr.args[0])
            if fn in _FRESH_HELPERS:
                return True
            if self.scatter_parts(expr) is not None:
                return True
        return False

    def scatter_parts(self, expr: ast.expr):
        """``(index, g)`` when ``expr`` is ``index_add(zeros_like(x), index, g)``, else None."""
        if (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name)
                and self.named.get(expr.func.id) is runtime.index_add and isinstance(expr.args[0], ast.Call)
                and isinstance(expr.args[0].func, ast.Name)
                and self.named.get(expr.args[0].func.id) is runtime.zeros_like):
            return expr.args[1], expr.args[2]
        return None

    # ---- cotangents in, partials out ------------------------------------------------------------------

    def seed_cotangents(self) -> tuple[list[str], list[ast.stmt]]:
        lowered = self.lowered
        outputs = lowered.ret.values
        params, stmts = [], []
        helper = runtime.seed_cotangent if len(outputs) == 1 else runtime.check_cotangent
        for i, out in enumerate(outputs):
            label = ast.Constant(f"output {i + 1} of {lowered.name}" if len(outputs) > 1
                                 else f"the output of {lowered.name}")
            is_active = self.is_active(out)
            if is_active and out.id not in self.state:
                name = self.dname(out.id)
                params.append(name)
                stmts.append(ast.Assign([ast.Name(name, ast.Store())],
                                        self.call(helper, ast.Name(name, ast.Load()), out, label)))
                self.state[out.id] = (PRESENT, False)
            else:
                name = self.namer.fresh(f"d_out{i + 1}")
                params.append(name)
                if is_active:  # the same variable returned twice: both cotangents count
                    self.add(out.id, self.call(helper, ast.Name(name, ast.Load()), out, label), stmts, owned=False)
        if stmts:
            stmts.insert(0, comment_for(lowered.ret.loc))
        return params, stmts

    def return_partials(self) -> list[ast.stmt]:
        lowered = self.lowered
        parts = []
        expand: list[ast.stmt] = []
        for p in lowered.params:
            if p in self.scalar_cotangents:
                self.expand_scalar_cotangent(p, expand)
        for p, is_wrt in zip(lowered.params, lowered.wrt, strict=True):
            if not is_wrt:
                continue
            g = ast.Name(self.dname(p), ast.Load()) if p in self.state else ast.Constant(None)
            parts.append(self.call(runtime.finalize, g, ast.Name(p, ast.Load())))
        may_alias = any(p in self.state and not self.state[p][1] for p, w in zip(lowered.params, lowered.wrt) if w)
        if may_alias:
            # A partial that is a cotangent passed through (x + y: dx is dy is dz) is copied, so the
            # caller may update one result in place without changing another or their own cotangent.
            cotangents = ast.Tuple([ast.Name(n, ast.Load()) for n in self.pullback_params], ast.Load())
            return expand + [ast.Return(self.call(runtime.distinct_partials, ast.Tuple(parts, ast.Load()), cotangents))]
        if len(parts) == 1:
            return expand + [ast.Return(parts[0])]
        return expand + [ast.Return(ast.Tuple(parts, ast.Load()))]


# ---- AST utilities ------------------------------------------------------------------------------------

def _nonempty(stmts):
    return stmts if _has_code(stmts) else stmts + [ast.Pass()]


_BLOCKS = frozenset({ast.If, ast.For, ast.While})


def _drop_repeated_comments(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """Keep a comment only where the source line changes, and never one with no code after it."""
    out: list[ast.stmt] = []
    last = None
    for s in stmts:
        cls = s.__class__
        if cls is Comment:
            if s.text == last:
                continue
            last = s.text
            if out and out[-1].__class__ is Comment:
                out[-1] = s
                continue
        elif cls in _BLOCKS:
            last = None  # a nested block prints its own comments; repeat ours after it
        out.append(s)
    if out and isinstance(out[-1], Comment):
        out.pop()
    return out


def _fill_placeholders(stmts: list[ast.stmt]) -> None:
    """Replace each Placeholder by its statements, in place, through nested blocks."""
    for node in list(stmts):
        for field in ("body", "orelse"):
            inner = getattr(node, field, None)
            if isinstance(inner, list):
                _fill_placeholders(inner)
        if isinstance(node, (ast.For, ast.While, ast.If)) and not _has_code(node.body):
            node.body.append(ast.Pass())  # e.g. a loop whose body is `pass` and that saves nothing
    i = 0
    while i < len(stmts):
        if isinstance(stmts[i], Placeholder):
            stmts[i:i + 1] = stmts[i].stmts
        else:
            i += 1


def _without_unbroadcast(expr: ast.expr, bindings: dict) -> ast.expr:
    """``unbroadcast(g, x)`` -> ``g`` (the caller knows the shapes already agree)."""
    if (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name)
            and bindings.get(expr.func.id) is runtime.unbroadcast):
        return expr.args[0]
    return expr


def _is_whole(index: ast.expr) -> bool:
    return isinstance(index, ast.Constant) and index.value is Ellipsis


def _index_value(index: ast.expr) -> ast.expr:
    """An index in subscript syntax as a value (``1:`` -> ``slice(1, None, None)``)."""
    from .inline import index_value

    return index_value(index)


def _delta_name(op: DeltaCall) -> str:
    name = getattr(op.delta, "__name__", op.name)
    return name if name.startswith("δ") else "δ" + op.name
