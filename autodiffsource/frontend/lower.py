"""Stage 1: a parsed function -> :class:`LoweredFunction` (IR in A-normal form, SSA names, activity).

Contract: every statement of the result performs at most one differentiable operation; every name a
call reads is resolved *now* (frontend/calls.py classifies each call). A value is *active* when it
depends on a differentiated input; anything else is evaluated as written and never differentiated, so
constant inputs cost nothing. Unsupported syntax is reported, all of it at once, with the user's line and
column. The lowering of branches and loops (control.py), inner functions and methods (functions.py),
calls (calls.py) and in-place changes (mutation.py) are mixins of :class:`Lowerer`.
"""

from __future__ import annotations

import ast
import collections
import copy
import operator
import types
import weakref
from typing import Any, Callable

from ..errors import MissingRuleError, UnsupportedSyntaxError, missing_rule_stub
from ..ir import Assign, LoweredFunction, PackOp, PlainOp, PrimOp, Return
from ..rules import operator as operator_rules
from ..rules import numpy as numpy_rules
from ..rules.registry import REGISTRY, Rule
from ..source import ParsedFunction
from ..astutil import nodes, substitute_names, walk
from ..transform.naming import Namer
from .calls import CallLowering
from .control import ControlFlowLowering
from .frozen import unfreeze
from .mutation import CallMutationLowering, MutationLowering, _changed_in_place, _is_append, output_written
from .functions import FunctionLowering
from .pullbacks import PullbackLowering
from .normalize import LoopExit, count_outputs, normalize
from .env import ABSENT, Env
from .survey import _strip_docstring, fence, survey
from .views import ViewLowering, view_sources

_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow, ast.MatMult: operator.matmul, ast.Mod: operator.mod,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}

# Resolves a user function to the δ variant for an activity mask: (callable, number of outputs).
DeltaResolver = Callable[[types.FunctionType, tuple[bool, ...]], tuple[Any, int]]


class Lowerer(ControlFlowLowering, FunctionLowering, CallLowering, MutationLowering, CallMutationLowering,
              PullbackLowering, ViewLowering):
    """Lowers one function for one set of differentiated parameters (``wrt``)."""

    def __init__(self, pf: ParsedFunction, wrt: list[bool], resolve_delta: DeltaResolver):
        self.closure = _closure_of(pf.fn)
        # SciPy's frozen distributions as calls of their distribution's methods (frontend/frozen.py)
        pf = unfreeze(pf, self.closure)
        self.pf = pf
        self.fn = pf.fn
        self.node = pf.node
        self.wrt = wrt
        self.resolve_delta = resolve_delta
        # One walk of the function (the decorator's, where it made one) serves the questions asked of all
        # of it before lowering: names taken, local names, exits to normalize, names read, arrays changed
        # in place (frontend/survey.py).
        self.survey = survey(pf)
        # Nodes inside nested functions and lambdas are not the body's own (their returns are theirs).
        self.nested_scopes = self.survey.body_has_nested_scopes()
        self.namer = Namer(self.survey.taken_names())
        self.env = Env()
        self.bound_once: set[str] = set()
        self.active: set[str] = set()
        self.body: list[Assign] = []
        self.loc = pf.loc(pf.node)
        self._temp = 0
        self.local_names = self.survey.local_names()
        self.inner_functions: dict[str, ast.AST] = {}
        self.call_kinds: dict[tuple, tuple] = {}  # callee (a dotted name) -> its classification (calls.py)
        self.binop_rules: dict[Callable, Rule] = {}  # operator -> its rule, found once per lowering
        self.inlining: set[int] = set()
        self.namespace_vars: set[str] = set()
        self.alias_groups: list[set[str]] = []
        self.packed: set[str] = set()  # temporaries holding a list/tuple literal of differentiated values
        self.view_of: dict[str, str] = {}  # SSA values read by subscript -> the variable read (or text)
        # Items read out of arrays written into later (a view or a copy, as NumPy decides) -> the variable
        # read: each write into that array lists them (SetItemOp), for the pullback's snapshots.
        self.item_of: dict[str, str] = {}
        self.items_of_iterations: dict[str, str] = {}  # the same, read in a loop's body (control.py)
        # Version made where paths merge -> the versions it may be, the same object (an if's branches, a
        # loop's entry): a write into it changes them too, for the statements that read them before.
        self.merged_from: dict[str, set[str]] = {}
        self.loop_ends: dict[str, set[str]] = {}  # a loop's name -> the version each iteration leaves it
        # Values that may be views of arrays written into later -> how they were made (views.py).
        self.view_chains: dict = {}
        self.helper_refs: dict[str, str] = {}  # run-time helper -> its name in generated code (views.py)
        self.object_tokens: dict[str, str] = {}  # version -> the object it holds, where not its own (views.py)
        self.written: set[str] = set()
        self.view_roots: set[str] = set()
        self.augmented: set[str] = set()  # names updated by `a += e` (their views change with them)
        self.appended: set[str] = set()
        self.pending_pullbacks: dict = {}  # back -> PendingPullback, for `y, back = δf(x)` (pullbacks.py)
        self._gradients_read: dict | None = None  # grad(f) functions this function calls (pullbacks.py)
        self.bound_vjps: dict[tuple, str] = {}  # (fn, mask) -> the name of its flat gradient (pullbacks.py)

    # ---- entry ---------------------------------------------------------------------------------------

    def lower(self) -> LoweredFunction:
        node = self.node
        fence(self.pf, self.survey)
        params = [a.arg for a in node.args.posonlyargs + node.args.args]
        self.params = set(params)
        for p, is_wrt in zip(params, self.wrt, strict=True):
            self.env[p] = p
            self.bound_once.add(p)
            if is_wrt:
                self.active.add(p)
        for a in node.args.kwonlyargs:
            self.env[a.arg] = a.arg
            self.bound_once.add(a.arg)
        vararg = node.args.vararg.arg if node.args.vararg else None
        if vararg:
            self.env[vararg] = vararg
            self.bound_once.add(vararg)
        body = _strip_docstring(node.body)
        as_written = body
        found = self.survey
        # (Only these classes of the body's own nodes tell whether it needs normalizing.)
        exits = None if self.nested_scopes else found.body_of(ast.Break, ast.Continue, ast.Return)
        body = normalize(body, self.namer, count_outputs(body), exits)
        augmented: set[str] = set()
        if body is as_written:  # (a docstring holds no names: the survey's body serves the body without it)
            self.loads = found.body_loads()
            # (Only assignments and calls change objects in place.)
            own = None if self.nested_scopes else found.body_of(ast.Assign, ast.AugAssign, ast.Call)
            self.written, self.appended = _changed_in_place(body, self.local_names, own, augmented)
        else:
            self.loads = collections.Counter(n.id for s in body for n in nodes(s)
                                             if n.__class__ is ast.Name and n.ctx.__class__ is ast.Load)
            self.written, self.appended = _changed_in_place(body, self.local_names, augmented=augmented)
        # Arrays whose views need following (views.py): those written into, `a += e` targets, which change
        # in place wherever a view of them is read after, and the arrays those may be views of.
        self.augmented = augmented
        self.view_roots = self.written | augmented | view_sources(body, self.written | augmented)
        self.survey = None  # (the lowering changes the tree)
        ret = None
        for stmt in body:
            self.loc = self.pf.loc(stmt)
            if isinstance(stmt, ast.Return):
                ret = self.lower_return(stmt)
                break
            self.lower_stmt(stmt)
        if ret is None:
            raise UnsupportedSyntaxError(
                f"`{node.name}` returns nothing, so there is nothing to differentiate",
                self.pf.loc(node), hint="End the function with `return <value>`.")
        return LoweredFunction(
            name=node.name, params=params, vararg=vararg, defaults_source=[], wrt=list(self.wrt),
            body=self.body, ret=ret, active=set(self.active), closure=self.closure,
            file=self.pf.file, first_line=self.pf.first_line, def_line=self.node.lineno,
            views={v for v, root in (self.item_of | self.items_of_iterations).items()
                   if root in self.written or root in self.augmented},
            changed_in_place=self.changed_in_place(params))

    # ---- statements ----------------------------------------------------------------------------------

    def lower_stmt(self, stmt: ast.stmt) -> None:
        stmt = self.with_pullback_calls(stmt)
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets[:-1]:
                if not isinstance(target, ast.Name):
                    self.unsupported(target, "chained assignment to anything but plain names")
            if len(stmt.targets) > 1:
                # `a = b = expr`: bind `a`, then each other target to `a` (binding `a` may rename the
                # temporary that held the value, so the temporary itself cannot be reused).
                first = stmt.targets[0]
                self.assign(first, stmt.value)
                for target in stmt.targets[1:]:
                    self.assign(target, ast.copy_location(ast.Name(first.id, ast.Load()), stmt.value))
                return
            self.assign(stmt.targets[0], stmt.value, stmt)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            if isinstance(stmt.target, ast.Subscript):
                # y[i] += v reads y[i], adds, and writes back: exactly NumPy's buffered semantics.
                read = ast.Subscript(stmt.target.value, stmt.target.slice, ast.Load())
                value = ast.copy_location(ast.BinOp(ast.copy_location(read, stmt), stmt.op, stmt.value), stmt)
                self.assign_subscript(stmt.target, value, stmt)
                return
            if not isinstance(stmt.target, ast.Name):
                self.unsupported(stmt, "augmented assignment to an attribute")
            value = ast.BinOp(ast.Name(stmt.target.id, ast.Load()), stmt.op, stmt.value)
            ast.copy_location(value, stmt)
            target = stmt.target.id
            if self.view_chains:
                self.refuse_update_through_view(target, stmt)
            if self.shared_names(stmt) or self.views_read_after(self.same_object(target), self.env.get(target), stmt):
                self.update_in_place(stmt, value)
            else:
                self.rebind_augmented(stmt, value)  # nobody else sees the object: rebinding is the same
        elif isinstance(stmt, ast.Expr):
            if isinstance(stmt.value, ast.Constant):
                return  # a stray string or number: nothing to do
            if _is_append(stmt.value) and (self.is_active(stmt.value.args[0])
                                           or self.env.get(stmt.value.func.value.id) in self.active):
                self.append(stmt.value)
                return
            if self.is_active(stmt.value) and not self.records_into_a_constant(stmt.value):
                self.atom(stmt.value)  # evaluated for its effects; the value is dropped
            elif changed := self.arrays_changed_by(stmt.value):
                self.call_changing_arrays(stmt.value, changed)  # c.sort(), np.copyto(c, a)...
            else:
                self.emit([], PlainOp(self.rename(stmt.value)), [])
        elif isinstance(stmt, ast.If):
            self.lower_if(stmt)
        elif isinstance(stmt, ast.For):
            self.lower_for(stmt)
        elif isinstance(stmt, ast.While):
            self.lower_while(stmt)
        elif isinstance(stmt, LoopExit):
            self.lower_loop_exit(stmt)
        elif isinstance(stmt, ast.Raise):
            self.emit([], PlainOp(self.rename(stmt)), [])  # the user's own error, raised as written
        elif isinstance(stmt, ast.FunctionDef):
            self.define_inner(stmt.name, stmt)
        elif isinstance(stmt, ast.Pass):
            return
        elif isinstance(stmt, ast.Assert):
            self.emit([], PlainOp(self.rename(stmt)), [])  # kept: the user's own check, as written
        else:
            self.unsupported(stmt, f"the `{type(stmt).__name__}` statement")

    def assign(self, target: ast.expr, value: ast.expr, stmt: ast.stmt | None = None) -> None:
        """``target = value``; ``stmt``, where given, the statement (a write's views are read after it)."""
        if isinstance(target, ast.Name):
            if isinstance(value, ast.Lambda):
                self.define_inner(target.id, value)
                return
            self.note_assignment(target.id, value)
            out = output_written(value, self.numpy_object)
            changed = self.arrays_changed_by(value) if out is not None and not self.is_active(value) else []
            if changed:  # `y = np.add(a, b, out=c)`: c changed in place, and y is c
                self.call_changing_arrays(value, changed)
                value = ast.copy_location(ast.Name(out, ast.Load()), value)
            atom = self.atom(value, name_hint=target.id)
            self.bind_atom(target.id, atom)
            self.note_binding(target.id, value, atom)
            return
        if isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in target.elts):
            names = [e.id for e in target.elts]
            for name in names:
                self.note_binding(name, None)
            delta = self.delta_function_called(value)
            if delta is not None:
                self.lower_delta_with_pullback(target, value, delta)
                return
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(names):
                if any(isinstance(e, ast.Starred) for e in value.elts):
                    self.unsupported(value, "starred expressions")
                atoms = [self.atom(e) for e in value.elts]  # all evaluated before any is bound
                for name, atom in zip(names, atoms, strict=True):
                    self.bind_atom(name, atom)
                for name, elt, atom in zip(names, value.elts, atoms, strict=True):
                    self.note_binding(name, elt, atom)  # `a, b = x, y`: a is x's object
                return
            if not self.is_active(value):
                ssa = [self.new_version(n) for n in names]
                self.emit(ssa, PlainOp(self.rename(value)), [False] * len(ssa))
                return
            kind = self.call_kind(value) if isinstance(value, ast.Call) else None
            single = kind is not None and kind[0] == "rule" and kind[1].outputs == 1
            if kind is not None and kind[0] in ("delta", "rule", "inline", "method") and not single:
                self.lower_call(value, n_outputs=len(names), names=names)
                return
            # (A one-output rule's result, a, b = np.split(x, 2), unpacks like any value, below.)
            # Unpacking a differentiated array: one subscript per target.
            source = self.atom(value)
            atoms = []
            for i in range(len(names)):
                index = ast.Constant(i)
                atoms.append(self.prim(operator_rules.δgetitem.rule, {"x": source, "index": index}))
            for name, atom in zip(names, atoms, strict=True):
                self.bind_atom(name, atom)
            return
        if isinstance(target, (ast.Tuple, ast.List)) and _nested_names(target):
            # `i, (a, b) = item` (a loop's `for i, (a, b) in pairs`): the value held under a name of its own,
            # evaluated once, then each part unpacked from its subscript, the nested ones in turn.
            held = self.temp()
            self.local_names.add(held)
            self.bind_atom(held, self.atom(value))
            for k, part in enumerate(target.elts):
                item = ast.Subscript(ast.Name(held, ast.Load()), ast.Constant(k), ast.Load())
                self.assign(part, ast.copy_location(item, value))
            return
        if isinstance(target, ast.Subscript):
            self.assign_subscript(target, value, stmt or target)
            return
        self.unsupported(target, "assignment to this kind of target (attributes of objects, starred "
                                 "targets)")

    def lower_return(self, stmt: ast.Return) -> Return:
        stmt = self.with_pullback_calls(stmt)
        value = stmt.value
        if value is None:
            self.unsupported(stmt, "a bare `return` (nothing to differentiate)")
        if isinstance(value, ast.Tuple):
            atoms = [self.atom(e) for e in value.elts]
        elif isinstance(value, ast.Call) and self.is_active(value) and self.call_kind(value)[0] == "delta":
            n = self.call_kind(value)[2] or 1  # a rule for a function without readable source: one value
            atoms = [ast.Name(t, ast.Load()) for t in self.lower_call(value, n_outputs=n)]
        elif isinstance(value, ast.Call) and self.is_active(value) and self.call_kind(value)[0] == "rule":
            n = self.call_kind(value)[1].outputs
            atoms = [ast.Name(t, ast.Load()) for t in self.lower_call(value, n_outputs=n)]
        elif isinstance(value, ast.Call) and self.is_active(value) and self.call_kind(value)[0] == "inline":
            inner = self.call_kind(value)[1]
            n = count_outputs(inner.body) if isinstance(inner, ast.FunctionDef) else 1
            atoms = [ast.Name(t, ast.Load()) for t in self.lower_call(value, n_outputs=n)]
        else:
            atoms = [self.atom(value)]
        return Return(atoms, self.pf.loc(stmt))

    # ---- binding and emission -------------------------------------------------------------------------

    def new_version(self, name: str) -> str:
        """The SSA name for a new binding of user variable ``name``: itself first, then ``name_2``..."""
        if name not in self.bound_once:
            self.bound_once.add(name)
            ssa = name
        else:
            ssa = self.namer.fresh(name)
        self.env[name] = ssa
        return ssa

    def bind_atom(self, name: str, atom: ast.expr) -> None:
        # A value just computed into a temporary is renamed to the user's variable, so the generated
        # code reads `q = ...` rather than `_t3 = ...; q = _t3`.
        last = self.body[-1] if self.body else None
        if (isinstance(atom, ast.Name) and isinstance(last, Assign) and last.targets == [atom.id]
                and atom.id.startswith("_t") and not self.env.holders(atom.id)):
            ssa = self.new_version(name)
            last.targets = [ssa]
            if atom.id in self.view_of:
                self.view_of[ssa] = self.view_of.pop(atom.id)
            if atom.id in self.item_of:
                self.item_of[ssa] = self.item_of.pop(atom.id)
            if atom.id in self.view_chains:
                self.view_chains[ssa] = self.view_chains.pop(atom.id)
            if atom.id in self.active:
                self.active.discard(atom.id)
                self.active.add(ssa)
            return
        if isinstance(atom, ast.Name) and atom.id in self.active:
            self.env[name] = atom.id  # an alias of a differentiated value: same value, same cotangent
            self.bound_once.add(name)
            return
        ssa = self.new_version(name)
        self.emit([ssa], PlainOp(atom), [False])
        if isinstance(atom, ast.Name):
            self.note_same_object(ssa, atom.id)  # `b = a`: one object under two names

    def emit(self, targets: list[str], op, active: list[bool]) -> None:
        for t, a in zip(targets, active, strict=True):
            if a:
                self.active.add(t)
        self.body.append(Assign(targets, op, self.loc, active))
        if self.view_roots and targets:
            self.note_view(targets, op)

    def emit_outputs(self, op, n_outputs: int, names: list[str] | None) -> list[str]:
        """Emit ``op`` into fresh temporaries, one per output, and bind them to ``names`` if given."""
        targets = [self.temp() for _ in range(n_outputs)]
        self.emit(targets, op, [True] * n_outputs)
        if names is not None:
            for name, t in zip(names, targets, strict=True):
                self.bind_atom(name, ast.Name(t, ast.Load()))
        return targets

    def temp(self) -> str:
        while True:
            self._temp += 1
            name = f"_t{self._temp}"
            if not self.namer.is_taken(name):
                self.namer.reserve(name)
                return name

    def prim(self, rule: Rule, args: dict[str, ast.expr]) -> ast.Name:
        name = self.temp()
        self.active.add(name)  # (emit, written out for the commonest statement)
        op = PrimOp(rule, args)
        self.body.append(Assign([name], op, self.loc, [True]))
        if self.view_roots:
            self.note_view([name], op)
        return ast.Name(name, ast.Load())

    # ---- expressions ----------------------------------------------------------------------------------

    def atom(self, node: ast.expr, name_hint: str | None = None, active: bool | None = None) -> ast.expr:
        """Lower ``node`` to an atom, emitting the statements that compute it. ``active``: whether it is
        (:meth:`is_active`), where the caller has just asked."""
        cls = node.__class__
        if cls is ast.BinOp and active is None:
            # is_active(node), spelled out: lower_binop reuses what it learns about the operands.
            left_active = self.is_active(node.left)
            right_active = None if left_active else self.is_active(node.right)
            if left_active or right_active:
                return self.lower_binop(node, left_active, right_active)
            active = False
        elif cls is ast.Call and active is None:
            known: list[bool] = []  # its arguments' activity, as far as asking it went
            if self.call_is_active(node, known):
                return ast.Name(self.lower_call(node, n_outputs=1, known_args=known)[0], ast.Load())
            active = False
        elif active is None:
            active = self.is_active(node)
        if not active:
            expr = self.rename(node)
            if _is_trivial(expr):
                return expr
            name = self.temp()
            self.emit([name], PlainOp(expr), [False])
            if self.view_roots and (cls is ast.Subscript or cls is ast.Attribute or cls is ast.Call):
                # Maybe a view of an array written into later (y[i] *= v reads y[i] first): the forward
                # pass keeps it as NumPy made it, and the pullback reads it as it was before each write.
                self.note_constant_view(name, node)
            return ast.Name(name, ast.Load())
        if cls is ast.Name or isinstance(node, ast.Name):
            return ast.Name(self.env[node.id], ast.Load())
        if cls is ast.Call:  # (the classes below are disjoint: the commonest asked first)
            return ast.Name(self.lower_call(node, n_outputs=1)[0], ast.Load())
        if isinstance(node, ast.BinOp):
            return self.lower_binop(node)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            rule = REGISTRY.rule_for(_UNARY[type(node.op)])
            return self.prim(rule, {"x": self.atom(node.operand)})
        if isinstance(node, ast.Call):
            return ast.Name(self.lower_call(node, n_outputs=1)[0], ast.Load())
        if isinstance(node, ast.Subscript):
            return self.lower_subscript(node)
        if isinstance(node, ast.Attribute):
            if node.attr == "T":
                return self.prim(numpy_rules.δmatrix_T.rule, {"x": self.atom(node.value)})
            picked = self.one_result_of(node.value, node.attr)
            if picked is not None:
                return picked
            self.missing(node, f"the attribute `.{node.attr}` of a differentiated value", node.attr, ["x"])
        if isinstance(node, (ast.Tuple, ast.List)):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                self.unsupported(node, "starred items in a container of differentiated values")
            items = [self.atom(e) for e in node.elts]
            name = self.temp()
            self.emit([name], PackOp("list" if isinstance(node, ast.List) else "tuple", items), [True])
            self.packed.add(name)
            return ast.Name(name, ast.Load())
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                self.unsupported(node, "`**` unpacking in a dict of differentiated values")
            keys = [self.atom(k) for k in node.keys]
            if any(self.is_active_atom(k) for k in keys):
                self.unsupported(node, "dict keys computed from differentiated values")
            items = [self.atom(v) for v in node.values]
            name = self.temp()
            self.emit([name], PackOp("dict", items, keys), [True])
            return ast.Name(name, ast.Load())
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            return self.lower_comprehension(node)
        if isinstance(node, ast.Set):
            self.unsupported(node, "a set of differentiated values")
        if isinstance(node, ast.IfExp):
            return self.lower_ifexp(node)
        if isinstance(node, ast.BoolOp):
            return self.lower_boolop(node)
        self.unsupported(node, f"the expression `{type(node).__name__}` on differentiated values")

    def lower_boolop(self, node: ast.BoolOp) -> ast.expr:
        """``a or b`` is ``a if a else b`` and ``a and b`` is ``b if a else a``, ``a`` evaluated once."""
        result = node.values[0]
        for value in node.values[1:]:
            held = self.temp()
            self.local_names.add(held)
            self.bind_atom(held, self.atom(result))
            first = ast.copy_location(ast.Name(held, ast.Load()), node)
            if isinstance(node.op, ast.Or):
                result = ast.copy_location(ast.IfExp(first, first, value), node)
            else:
                result = ast.copy_location(ast.IfExp(first, value, first), node)
        return self.atom(result)

    def lower_binop(self, node: ast.BinOp, left_active: bool | None = None,
                    right_active: bool | None = None) -> ast.Name:
        """``left_active``, ``right_active``: the operands' activity where the caller knows it. (What
        the right one's was before the left one is lowered it still is: only a left operand that is
        not active leaves the right one's activity known, and lowering it binds nothing.)"""
        op = _BINOPS.get(type(node.op))
        if op is None:
            self.unsupported(node, f"the operator `{type(node.op).__name__}` on differentiated values")
        exponent = _number_literal(node.right) if op is operator.pow else None
        if exponent is not None and exponent != 0:
            n = ast.Constant(exponent)
            return self.prim(operator_rules.δpower_by_constant.rule,
                             {"x": self.atom(node.left, active=left_active), "n": n})
        rule = self.binop_rules.get(op)
        if rule is None:
            rule = self.binop_rules[op] = REGISTRY.rule_for(op)
        left = self.atom(node.left, active=left_active)
        right = self.atom(node.right, active=right_active)
        return self.prim(rule, {"x": left, "y": right})

    def lower_subscript(self, node: ast.Subscript) -> ast.Name:
        picked = self.one_result_of(node.value, node.slice)
        if picked is not None:
            return picked
        value = self.atom(node.value)
        index = self.index_atoms(node.slice)
        base = node.value.id if isinstance(node.value, ast.Name) else None
        if base in self.appended:
            # A list that grows later: its pullback must not read the list again (runtime.list_item_cotangent).
            result = self.prim(operator_rules.δlist_getitem.rule, {"x": value, "index": index})
        else:
            # (A view of an array written into later gets its chain: frontend/views.py.)
            result = self.prim(operator_rules.δgetitem.rule, {"x": value, "index": index})
        # (Read out of an expression, `(a, b)[0]`: its text, which names it in a refusal and is no variable.)
        self.view_of[result.id] = base if base is not None else ast.unparse(node.value)
        return result

    def one_result_of(self, value: ast.expr, which: ast.expr | str) -> ast.Name | None:
        """One result of a rule's call that returns several, picked by a constant position or by the name
        of a named tuple's field: ``np.linalg.slogdet(a)[1]``, ``np.linalg.eigh(a).eigenvalues``. The call
        is lowered for all its results (the others get no cotangent). None for anything else."""
        if not (isinstance(value, ast.Call) and (kind := self.call_kind(value))[0] == "rule" and kind[2] is None):
            return None
        rule = kind[1]
        if rule.outputs == 1:
            return None
        if isinstance(which, str):
            position = rule.fields.index(which) if which in rule.fields else None
        else:
            position = _int_constant(which)
        if position is not None and not -rule.outputs <= position < rule.outputs:
            self.unsupported(value, f"result {position} of `{rule.name}`, which returns {rule.outputs}")
        if position is None:
            return None
        return ast.Name(self.lower_call(value, n_outputs=rule.outputs)[position], ast.Load())

    def index_atoms(self, node: ast.expr) -> ast.expr:
        """The index with every part an atom: slice syntax is kept, computed bounds become temporaries."""
        if self.is_active(node):
            self.unsupported(node, "an index computed from differentiated values")
        if isinstance(node, ast.Slice):
            parts = [self.atom(p) if p is not None else None for p in (node.lower, node.upper, node.step)]
            return ast.Slice(*parts)
        if isinstance(node, ast.Tuple):
            return ast.Tuple([self.index_atoms(e) for e in node.elts], ast.Load())
        return self.atom(node)

    # ---- activity and names ---------------------------------------------------------------------------

    def is_local(self, name: str) -> bool:
        return name in self.local_names

    def is_active_atom(self, atom: ast.expr) -> bool:
        return isinstance(atom, ast.Name) and atom.id in self.active

    def is_active(self, node: ast.expr) -> bool:
        """Whether ``node``'s value depends on a differentiated input (and could carry a derivative)."""
        cls = node.__class__
        # The commonest classes first, by identity (parsed trees hold no subclasses; any other node
        # takes the checks below, which the first lines only spell out).
        if cls is ast.Name:
            ssa = self.env.get(node.id, ABSENT)
            return ssa is not ABSENT and ssa in self.active
        if cls is ast.BinOp:
            return self.is_active(node.left) or self.is_active(node.right)
        if cls is ast.Constant:
            return False
        if cls is ast.Call:
            return self.call_is_active(node)
        if isinstance(node, ast.Name):
            return node.id in self.env and self.env[node.id] in self.active
        if node.__class__ is ast.BinOp:
            return self.is_active(node.left) or self.is_active(node.right)
        if isinstance(node, ast.BoolOp):
            return any(self.is_active(v) for v in node.values)  # `x or y` is one of its operands
        if isinstance(node, (ast.Constant, ast.Compare, ast.Lambda)):
            return False
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return False
        if isinstance(node, ast.Attribute):
            if node.attr in REGISTRY.nondiff_attributes:
                return False
            return self.is_active(node.value)
        if isinstance(node, ast.Subscript):
            return self.is_active(node.value)
        if isinstance(node, ast.Call):
            return self.call_is_active(node)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
            # Its loop variables are not in env; any differentiated name inside makes it active.
            return any(self.is_active(n) for n in walk(node) if isinstance(n, ast.Name))
        return any(self.is_active(child) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))

    def call_is_active(self, node: ast.Call, known: list | None = None) -> bool:
        """``known``: a list to append the activity of each positional argument asked about (the ones
        before the first active one, and it): lowering an argument that is not active binds nothing,
        so what they were when asked they still are when the call is lowered (calls.py)."""
        args_active = False
        for a in node.args:
            active = self.is_active(a)
            if known is not None:
                known.append(active)
            if active:
                args_active = True
                break
        else:
            for k in node.keywords:
                if self.is_active(k.value):
                    args_active = True
                    break
        func = node.func
        if isinstance(func, ast.Attribute) and self.is_active(func.value):
            return func.attr not in REGISTRY.nondiff_methods
        if isinstance(func, ast.Name) and func.id in self.inner_functions:
            return self.inner_is_active(node, self.inner_functions[func.id])
        if isinstance(func, ast.Lambda):  # (lambda t: t * x)(c): differentiated through what it closes over too
            return self.inner_is_active(node, func)
        if not args_active:
            return False
        kind = self.call_kind(node)
        return kind[0] != "nondiff"

    def rename(self, node: ast.expr) -> ast.expr:
        """A copy of an inactive expression with user variables replaced by their current SSA names.

        Calls of inner functions in it (``k = g(3.0)``, constant arguments) are inlined first, each into a
        temporary the copy reads: inner functions exist only inlined, never as functions of the generated
        code (a call left as written was a NameError there)."""
        if self.inner_functions and any(_calls_one_of(n, self.inner_functions) for n in walk(node)):
            node = self.inlined_inner_calls(node)
        env = self.env
        own = _names_of_inner_scopes(node)

        def replace(n: ast.Name):
            if isinstance(n.ctx, ast.Load) and n.id in env and id(n) not in own:
                return ast.copy_location(ast.Name(env[n.id], ast.Load()), n)
            return None

        return substitute_names(node, replace)

    def inlined_inner_calls(self, node: ast.AST) -> ast.AST:
        """A copy of ``node`` with each call of an inner function lowered (inlined) into a temporary, in the
        order Python evaluates them; refused where a call would run conditionally or later."""
        for sub in walk(node):
            if isinstance(sub, _CONDITIONAL) and any(_calls_one_of(n, self.inner_functions) for n in walk(sub)):
                self.unsupported(sub, "calling an inner function inside a conditional expression, a "
                                      "comprehension or a lambda on constant values; assign its result to a "
                                      "variable first")
        lowering = self

        class Inline(ast.NodeTransformer):
            def visit_Call(self, call: ast.Call):
                self.generic_visit(call)  # (its arguments' own inner calls first)
                if not _calls_one_of(call, lowering.inner_functions):
                    return call
                inner = lowering.inner_functions[call.func.id]
                return ast.Name(lowering.lower_inline_call(call, inner, 1, None)[0], ast.Load())

        return Inline().visit(copy.deepcopy(node))

    # ---- errors ---------------------------------------------------------------------------------------

    def records_into_a_constant(self, node: ast.expr) -> bool:
        """Whether ``node`` calls a method of a constant object's part and its result is dropped
        (``self.losses.append(loss)``): a record kept aside, run as written, not differentiated."""
        return node.__class__ is ast.Call and self.call_kind(node) == ("method", "part")

    def unsupported(self, node: ast.AST, what: str):
        raise UnsupportedSyntaxError(f"not supported: {what}", self.pf.loc(node),
                                     hint="Rewrite this line, or move it into a function with a custom "
                                          "rule (δname) that autodiffsource calls instead.")

    def missing(self, node: ast.AST, what: str, name: str, params: list[str]):
        raise MissingRuleError(f"no derivative rule for {what} (called in `{self.node.name}`)",
                               self.pf.loc(node), hint=missing_rule_stub(name, params))


# ---- module helpers -----------------------------------------------------------------------------------

def _closure_of(fn: types.FunctionType) -> dict:
    """The values of the function's closure variables, by name (those bound by now)."""
    closure = {}
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=True):
        try:
            closure[name] = cell.cell_contents
        except ValueError:  # an empty cell: the name is not bound yet
            pass
    return closure


def _is_trivial(expr: ast.expr) -> bool:
    if isinstance(expr, (ast.Name, ast.Constant)):
        return True
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.operand, ast.Constant):
        return True
    return False


def _nested_names(target: ast.expr) -> bool:
    """Whether ``target`` is a tuple or list of names and of such tuples, nested (``i, (a, b)``)."""
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, (ast.Tuple, ast.List)) and all(_nested_names(e) for e in target.elts)


def _int_constant(node: ast.expr) -> int | None:
    """The int a literal index spells (``1``, ``-1``), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int_constant(node.operand)
        return -inner if inner is not None else None
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def _number_literal(node: ast.expr):
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and type(node.operand.value) in (int, float):
        return -node.operand.value
    return None


# Expressions that evaluate a part conditionally, repeatedly or later.
_CONDITIONAL = (ast.BoolOp, ast.IfExp, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)


def _names_of_inner_scopes(node: ast.AST) -> set[int]:
    """The ids of the ``Name`` nodes in ``node`` that a comprehension's targets or a lambda's parameters
    bind (``{i: 2 * i for i in r}``, ``lambda t: t * y``): theirs, not the function's variables of that
    name. A comprehension's first iterable is read outside it, as Python reads it."""
    own = set()
    for sub in walk(node):
        if isinstance(sub, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            bound = {n.id for g in sub.generators for n in walk(g.target) if isinstance(n, ast.Name)}
            outside = {id(n) for n in walk(sub.generators[0].iter)}
        elif isinstance(sub, ast.Lambda):
            a = sub.args
            bound = {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if p is not None}
            outside = {id(n) for d in a.defaults + [d for d in a.kw_defaults if d is not None] for n in walk(d)}
        else:
            continue
        own |= {id(n) for n in walk(sub) if isinstance(n, ast.Name) and n.id in bound and id(n) not in outside}
    return own


def _calls_one_of(node: ast.AST, functions: dict) -> bool:
    """Whether ``node`` is a call of one of ``functions`` by name."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions


