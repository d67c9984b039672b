"""Stage 2: :class:`LoweredFunction` -> :class:`Generated` (forward and pullback statements, as ``ast``).

Contract: the forward pass computes exactly what the user's function computes, statement by statement,
keeping every value the pullback reads under its own name (SSA makes that free). The pullback visits the
statements in reverse and emits, for each active one whose result received a cotangent, the rule's
pullback body, inlined, for just the partials of active arguments. Cotangents accumulate per variable:
the first contribution is assigned (``dx = ...``); later ones are added in place (``dx += ...``) when the
generated code owns the buffer (it allocated it), else out of place, so user arrays are never mutated.
Nothing that does not reach a differentiated input is emitted.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect

from ..errors import SourceLoc
from ..ir import Assign, DeltaCall, LoweredFunction, PlainOp, PrimOp
from .. import runtime
from .inline import Instance, template_for
from .naming import Namer

# Helpers whose result is always a new array the generated code may then update in place.
_FRESH_HELPERS = {
    runtime.matmul_left_partial, runtime.matmul_right_partial, runtime.dot_left_partial,
    runtime.dot_right_partial, runtime.reduction_extreme_partial,
}


@dataclasses.dataclass
class Block:
    """Statements generated for one user source line."""

    loc: SourceLoc
    stmts: list[ast.stmt]


@dataclasses.dataclass
class Generated:
    """A δ function before rendering: signature, forward blocks, pullback blocks, bound helpers."""

    name: str
    pullback_name: str
    args: ast.arguments
    forward: list[Block]
    pullback_params: list[str]
    single_output: bool
    pullback: list[Block]
    outputs: list[ast.expr]
    bindings: dict[str, object]
    lowered: LoweredFunction


class ReverseBuilder:
    """Builds the forward pass and the pullback of one lowered function."""

    def __init__(self, lowered: LoweredFunction, namer: Namer, user_globals: dict, delta_name: str):
        self.lowered = lowered
        self.namer = namer
        self.user_globals = user_globals
        self.delta_name = delta_name
        self.bindings: dict[str, object] = {}
        self._bound_ids: dict[int, str] = {}
        self.xp_name: str | None = None
        self.instances: dict[int, Instance] = {}
        self.pullback_names: dict[int, str] = {}
        self.cotangent: dict[str, str] = {}
        self.owned: dict[str, bool] = {}

    # ---- names -----------------------------------------------------------------------------------

    def bind(self, preferred: str, obj) -> str:
        """The name generated code uses for ``obj`` (a helper, a rule's module global, a δ callee)."""
        if id(obj) in self._bound_ids:
            return self._bound_ids[id(obj)]
        if self.namer.is_taken(preferred) and self.user_globals.get(preferred, None) is obj \
                and preferred not in self.lowered.closure and preferred not in _locals(self.lowered):
            name = preferred  # the user's own global of that name is the very same object
        else:
            name = self.namer.fresh(preferred)
            self.bindings[name] = obj
        self._bound_ids[id(obj)] = name
        return name

    def helper(self, fn) -> ast.Name:
        return ast.Name(self.bind(fn.__name__, fn), ast.Load())

    def xp(self) -> str:
        if self.xp_name is None:
            self.xp_name = self.namer.fresh("xp")
        return self.xp_name

    # ---- forward ---------------------------------------------------------------------------------

    def build(self) -> Generated:
        lowered = self.lowered
        # Closure variables are read as constants: expressions kept as written still name them, so the
        # generated function gets them as bindings under the user's own names (the namer reserved those).
        for name, value in lowered.closure.items():
            self.bindings.setdefault(name, value)
        forward = [Block(s.loc, self.forward_stmt(i, s)) for i, s in enumerate(lowered.body)]
        if self.xp_name is not None:
            wrt_params = [p for p in lowered.params]
            call = ast.Call(self.helper(runtime.namespace), [ast.Name(p, ast.Load()) for p in wrt_params], [])
            first_loc = SourceLoc(lowered.file, lowered.def_line)
            forward.insert(0, Block(first_loc, [ast.Assign([ast.Name(self.xp_name, ast.Store())], call)]))
        pullback_name = self.namer.fresh(f"{lowered.name}_pullback")
        params, seed = self.seed_cotangents()
        backward = [seed] if seed.stmts else []
        for i in range(len(lowered.body) - 1, -1, -1):
            stmts = self.backward_stmt(i, lowered.body[i])
            if stmts:
                backward.append(Block(lowered.body[i].loc, stmts))
        backward.append(Block(lowered.ret.loc, [self.return_partials()]))
        return Generated(
            name=self.delta_name, pullback_name=pullback_name, args=None, forward=forward,
            pullback_params=params, single_output=len(lowered.ret.values) == 1, pullback=backward,
            outputs=lowered.ret.values, bindings=self.bindings, lowered=lowered)

    def forward_stmt(self, index: int, stmt: Assign) -> list[ast.stmt]:
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
                self.instances[index] = instance
                return instance.forward
            # A rule that is not in the inlinable shape: call it and keep its pullback closure.
            pb = self.namer.fresh(f"{targets[0]}_pb")
            self.pullback_names[index] = pb
            call = ast.Call(ast.Name(self.bind(op.rule.delta.__name__, op.rule.delta), ast.Load()),
                            [], [ast.keyword(k, v) for k, v in op.args.items()])
            return [ast.Assign([_store_targets(targets + [pb])], call)]  # (*outputs, pullback), as δ functions
        if isinstance(op, DeltaCall):
            pb = self.namer.fresh(f"{targets[0]}_pb")
            self.pullback_names[index] = pb
            callee = ast.Name(self.bind(_delta_name(op), op.delta), ast.Load())
            call = ast.Call(callee, list(op.args), [ast.keyword(k, v) for k, v in op.kwargs.items()])
            return [ast.Assign([_store_targets(targets + [pb])], call)]
        raise AssertionError(op)

    # ---- backward --------------------------------------------------------------------------------

    def seed_cotangents(self) -> tuple[list[str], Block]:
        lowered = self.lowered
        outputs = lowered.ret.values
        params, stmts = [], []
        helper = self.helper(runtime.seed_cotangent if len(outputs) == 1 else runtime.check_cotangent)
        for i, out in enumerate(outputs):
            is_active = isinstance(out, ast.Name) and out.id in lowered.active
            if is_active and out.id not in self.cotangent:
                name = self.namer.fresh(f"d{out.id}")
                self.cotangent[out.id] = name
                self.owned[out.id] = False
                params.append(name)
                label = ast.Constant(f"output {i + 1} of {lowered.name}" if len(outputs) > 1 else f"the output of {lowered.name}")
                call = ast.Call(helper, [ast.Name(name, ast.Load()), out, label], [])
                stmts.append(ast.Assign([ast.Name(name, ast.Store())], call))
            else:
                name = self.namer.fresh(f"d_out{i + 1}")
                params.append(name)
                if is_active:  # the same variable returned twice: both cotangents count
                    label = ast.Constant(f"output {i + 1} of {lowered.name}")
                    self.add(out.id, ast.Call(helper, [ast.Name(name, ast.Load()), out, label], []), stmts)
        return params, Block(lowered.ret.loc, stmts)

    def backward_stmt(self, index: int, stmt: Assign) -> list[ast.stmt]:
        op = stmt.op
        if isinstance(op, PlainOp):
            return []
        cots = [self.cotangent.get(t) for t in stmt.targets]
        if all(c is None for c in cots):
            return []  # nothing downstream depends on this value
        stmts: list[ast.stmt] = []
        if isinstance(op, PrimOp):
            rule = op.rule
            if index in self.instances:
                instance = self.instances[index]
                params = instance.template.params
                needed = [p in op.args and p not in rule.static and _is_active(op.args[p], self.lowered) for p in params]
                body, partials = instance.backward(cots[0], needed)
                stmts.extend(body)
                for p, partial in zip(params, partials, strict=True):
                    if partial is not None:
                        self.add(op.args[p].id, partial, stmts)
            else:
                # Closure rules get one cotangent per output, None where nothing flowed back.
                params = list(inspect.signature(rule.delta).parameters)
                cot_args = [ast.Name(c, ast.Load()) if c else ast.Constant(None) for c in cots]
                call = ast.Call(ast.Name(self.pullback_names[index], ast.Load()), cot_args, [])
                atoms = [op.args[p] if p in op.args and p not in rule.static and _is_active(op.args[p], self.lowered)
                         else None for p in params]
                self.unpack_partials(call, atoms, stmts, always_tuple=True)
            return stmts
        # DeltaCall
        pb = ast.Name(self.pullback_names[index], ast.Load())
        if op.ours:
            args = [ast.Name(c, ast.Load()) if c else ast.Constant(None) for c in cots]
            atoms = [a if _is_active(a, self.lowered) else None for a in op.partial_atoms]
            if len(op.partial_atoms) == 0:
                return []
            call = ast.Call(pb, args, [])
            self.unpack_partials(call, atoms, stmts, always_tuple=False)
        else:
            zeros = self.helper(runtime.zeros_like)
            args = [ast.Name(c, ast.Load()) if c else ast.Call(zeros, [ast.Name(t, ast.Load())], [])
                    for c, t in zip(cots, stmt.targets, strict=True)]
            call = ast.Call(self.helper(runtime.user_partials),
                            [ast.Call(pb, args, []), ast.Constant(len(op.args)), ast.Constant(op.name)], [])
            atoms = [a if _is_active(a, self.lowered) else None for a in op.args]
            self.unpack_partials(call, atoms, stmts, always_tuple=True)
        return stmts

    def unpack_partials(self, call: ast.expr, atoms: list, stmts: list, always_tuple: bool) -> None:
        """``g1, g2 = call`` then accumulate each ``g`` into its argument's cotangent."""
        if not always_tuple and len(atoms) == 1:
            if atoms[0] is not None:
                self.add(atoms[0].id, call, stmts)
            return
        names = []
        pending = []
        for atom in atoms:
            if atom is None:
                names.append("_")
                continue
            direct = atom.id not in self.cotangent and sum(1 for a in atoms if a is not None and a.id == atom.id) == 1
            if direct:
                name = self.namer.fresh(f"d{atom.id}")
                self.cotangent[atom.id] = name
                self.owned[atom.id] = False
            else:
                name = self.namer.fresh(f"d{atom.id}_part")
                pending.append((atom.id, name))
            names.append(name)
        target = ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())
        stmts.append(ast.Assign([target], call))
        for var, name in pending:
            self.add(var, ast.Name(name, ast.Load()), stmts)

    def add(self, var: str, expr: ast.expr, stmts: list) -> None:
        """Accumulate the contribution ``expr`` into the cotangent of ``var``."""
        if var not in self.lowered.active:
            return
        name = self.cotangent.get(var)
        if name is None:
            name = self.namer.fresh(f"d{var}")
            self.cotangent[var] = name
            self.owned[var] = self.is_fresh(expr)
            stmts.append(ast.Assign([ast.Name(name, ast.Store())], expr))
            return
        target = ast.Name(name, ast.Store())
        scatter = self.scatter_parts(expr)
        if self.owned[var] and scatter is not None:
            # d[index] += g straight into the buffer we own, instead of a zero array per subscript.
            index, g = scatter
            call = ast.Call(self.helper(runtime.index_add), [ast.Name(name, ast.Load()), index, g], [])
            stmts.append(ast.Assign([target], call))
        elif self.owned[var]:
            stmts.append(ast.AugAssign(target, ast.Add(), expr))
        else:
            stmts.append(ast.Assign([target], ast.BinOp(ast.Name(name, ast.Load()), ast.Add(), expr)))
            self.owned[var] = True

    def is_fresh(self, expr: ast.expr) -> bool:
        """Whether ``expr`` certainly evaluates to a new object (so updating it in place is safe)."""
        if isinstance(expr, (ast.BinOp, ast.UnaryOp)):
            return True
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            fn = self.bindings.get(expr.func.id)
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
                and self.bindings.get(expr.func.id) is runtime.index_add and isinstance(expr.args[0], ast.Call)
                and isinstance(expr.args[0].func, ast.Name)
                and self.bindings.get(expr.args[0].func.id) is runtime.zeros_like):
            return expr.args[1], expr.args[2]
        return None

    def return_partials(self) -> ast.stmt:
        lowered = self.lowered
        finalize = self.helper(runtime.finalize)
        parts = []
        for p, is_wrt in zip(lowered.params, lowered.wrt, strict=True):
            if not is_wrt:
                continue
            g = ast.Name(self.cotangent[p], ast.Load()) if p in self.cotangent else ast.Constant(None)
            parts.append(ast.Call(finalize, [g, ast.Name(p, ast.Load())], []))
        if len(parts) == 1:
            return ast.Return(parts[0])
        return ast.Return(ast.Tuple(parts, ast.Load()))


def _locals(lowered: LoweredFunction) -> set[str]:
    names = set(lowered.params)
    for s in lowered.body:
        names.update(s.targets)
    return names


def _is_active(atom, lowered: LoweredFunction) -> bool:
    return isinstance(atom, ast.Name) and atom.id in lowered.active


def _store_targets(names: list[str]) -> ast.expr:
    if len(names) == 1:
        return ast.Name(names[0], ast.Store())
    return ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())


def _delta_name(op: DeltaCall) -> str:
    name = getattr(op.delta, "__name__", op.name)
    return name if name.startswith("δ") else "δ" + op.name
