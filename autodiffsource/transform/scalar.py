"""Stage 2b: a Python-number variant of the δ function, chosen at run time by a type guard (issue 6, W3).

Contract: ``specialise(gen, mask, signature, namer, user_globals)`` returns ``gen`` unchanged, or a copy
whose forward pass starts with a second, specialised copy of the whole δ function:

    def δf(x, y):
        if (type(x) is float or type(x) is int) and (type(y) is float or type(y) is int):
            # Python numbers: ...
            <the forward pass>
            def f_pullback(d_t4=None):
                <the pullback, its runtime helpers replaced by what they compute on numbers>
            return (_t4, f_pullback)
        <the generic forward pass, pullback and return, unchanged>

On numbers the helpers the generic code calls per operation (100-300 ns each) are identities or one
expression: ``unbroadcast(g, v)`` is ``g``, ``expand_reduced(dy, v, ...)`` is ``dy``, ``finalize(g, x)``
is ``float(g)``, ``distinct_partials`` is its tuple, ``namespace(...)`` is NumPy, and the seed of a
single output is ``1.0`` when the caller passes none (any cotangent the caller does pass still goes
through ``seed_cotangent``/``check_cotangent``, with their checks and messages).

Each replacement is made only where it is exactly what the helper would return, so both paths give
the same values (bit for bit) and raise the same errors. That is proved per function by a small
abstract interpretation under the guard: every variable gets a kind,

* ``_PY``  a Python number or a NumPy scalar / 0-d array (parameters under the guard, literals,
  arithmetic, ``math`` functions, NumPy ufuncs of such values);
* ``_ZD``  a 0-d value of any array library (what a caller's scalar cotangent makes in the pullback:
  ``seed_cotangent`` has checked its shape is ``()``);
* ``_ZN``  such a value or None (a cotangent that may not have arrived);
* ``_TOP`` anything else (a global, an index, a matrix product, a user δ function's result...);

joined over every assignment until nothing changes (flow-insensitive, so ``if`` needs nothing more).
A function is specialised only when no value it assigns is ``_TOP`` and every per-operation helper in
it (unbroadcast, finalize, distinct_partials, namespace, expand_reduced) can be replaced. Loops (their
tapes), writes into containers, nested functions, calls of other δ functions and statements this pass
does not reason about keep the function generic. Array code never matches (an index or ``@`` is
``_TOP``), so it compiles as before, without the guard. Constant arguments join the guard only when
the proof needs them (``x * c`` un-broadcasts against ``c``).
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import math
import types

import numpy as np

from .. import runtime
from ..astutil import clone
from ..rules import support
from .codeparts import Comment
from .naming import FactoryNames
from .tidy import NameTable, tidy

_PY, _ZD, _ZN, _TOP = 1, 2, 3, 4  # 0: not assigned yet (the bottom of the lattice)

# Runtime helpers by role; the generated code calls them under whatever name it bound them to.
_ROLES = {
    id(runtime.unbroadcast): "unbroadcast", id(runtime.finalize): "finalize",
    id(runtime.distinct_partials): "distinct", id(runtime.namespace): "namespace",
    id(runtime.expand_reduced): "expand_reduced", id(runtime.seed_cotangent): "seed",
    id(runtime.check_cotangent): "check", id(runtime.add_cotangents): "add", id(runtime.accumulate): "add",
}
if hasattr(runtime, "scale_owned"):  # a * f1 * f2..., in place on a large array the code owns
    _ROLES[id(runtime.scale_owned)] = "scale"
# The helpers that cost a call per operation and must all go for the variant to be worth its text.
_PER_OPERATION = {"unbroadcast", "finalize", "distinct", "namespace", "expand_reduced"}
# Functions whose result is 0-d whenever every argument is (elementwise on numbers and 0-d arrays).
_ELEMENTWISE = {id(f) for f in (
    runtime.sign_of, runtime.power_base_partial, runtime.log_base, runtime.where_tie_split, runtime.augmented_result,
    support.safe_divide, support.sinc_derivative, support.finite_mask, support.indicator, support.zeros_of,
    builtins.abs, builtins.max, builtins.min)}
# Helpers returning a tuple of partials: the kind of each (None where an argument takes no share).
_TUPLES = {id(support.extreme_of_partials): (_ZD, _ZN), id(support.clip_partials): (_ZD, _ZN, _ZN)}
# Functions that return a Python number whatever they are given (or raise).
_NUMBER_RESULT = {id(builtins.float), id(builtins.int), id(builtins.bool), id(runtime.reduced_count)}
_MATH_NOT_A_NUMBER = {"frexp", "modf"}  # math functions that return tuples
_REDUCTIONS = {"sum", "prod", "mean", "max", "min", "amax", "amin"}  # of a 0-d value: 0-d
_NUMBERS = (int, float, bool)
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
               ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift)
_NOTE = "Python numbers: each runtime helper replaced by what it returns on numbers (transform/scalar.py)"


class _Refused(Exception):
    """This function keeps its generic code only."""


def could_specialise(gen, mask: tuple[bool, ...], signature: ast.arguments) -> bool:
    """Whether the signature allows a fast path at all (no analysis): positional parameters only."""
    return any(mask) and positional_only(signature, gen.lowered.params)


def positional_only(signature: ast.arguments, params: list[str]) -> bool:
    """Whether a call passing ``params`` positionally binds the function's arguments as they came (no
    ``*args``, ``**kwargs`` or keyword-only parameters): what a hand-off to another variant passes."""
    return not (signature.vararg or signature.kwarg or signature.kwonlyargs) \
        and [a.arg for a in signature.posonlyargs + signature.args] == list(params)


def deferred(gen, mask: tuple[bool, ...], namer, numbers_variant) -> object:
    """``gen`` with ``if <the differentiated arguments are Python numbers>: return numbers_variant(<params>)``
    in front: the fast path is analysed and compiled only when numbers first come (``numbers_variant``
    does that; see ``api.transform``). For a ``gen`` that ``could_specialise``."""
    names = FactoryNames(namer, dict(gen.bindings))
    type_ = names.bound("type", builtins.type)
    wrt = [p for p, m in zip(gen.lowered.params, mask) if m]
    checks = [number_check(type_, names, p) for p in wrt]
    guard = checks[0] if len(checks) == 1 else ast.BoolOp(ast.And(), checks)
    call = ast.Call(names.bound("numbers_variant", numbers_variant),
                    [ast.Name(p, ast.Load()) for p in gen.lowered.params], [])
    note = Comment(text=_HANDOFF_NOTE)
    return dataclasses.replace(gen, forward=[ast.If(guard, [note, ast.Return(call)], [])] + gen.forward,
                               bindings=names.bindings)


_HANDOFF_NOTE = "Python numbers: the variant with a fast path for them, compiled on the first such call"


def is_handoff(s: ast.stmt) -> bool:
    """Whether ``s`` is the ``if <numbers>: return numbers_variant(...)`` that :func:`deferred` puts first."""
    return isinstance(s, ast.If) and len(s.body) == 2 and isinstance(s.body[0], Comment) \
        and s.body[0].text == _HANDOFF_NOTE and isinstance(s.body[1], ast.Return)


def specialise(gen, mask: tuple[bool, ...], signature: ast.arguments, namer, user_globals: dict):
    """``gen`` with a Python-number fast path in front of its forward pass, or ``gen`` itself."""
    params = list(gen.lowered.params)
    if not could_specialise(gen, mask, signature):
        return gen
    wrt = [p for p, m in zip(params, mask) if m]
    consts = [p for p, m in zip(params, mask) if not m]
    # First with only the differentiated arguments guarded; constant ones too if the proof needs them.
    for guarded in ([wrt, params] if consts else [wrt]):
        try:
            analysis = _Analysis(gen, guarded, user_globals)
            return _with_fast_path(gen, analysis, namer)
        except _Refused:
            continue
    return gen


# ---- the kinds of values under the guard ----------------------------------------------------------

class _Analysis:
    """Kinds of every name in the δ function when the ``guarded`` parameters are Python numbers."""

    def __init__(self, gen, guarded: list[str], user_globals: dict):
        self.gen = gen
        self.bindings = gen.bindings
        self.user_globals = user_globals
        self.guarded = list(guarded)
        self.env: dict[str, int] = {p: (_PY if p in guarded else _TOP) for p in gen.lowered.params}
        self.assigned: set[str] = set()
        self.namespaces: dict[str, bool] = {}  # xp = namespace(...): is it NumPy under the guard?
        # Names whose state (kind, assigned or not, namespace) this round has consulted: when a round
        # changes none of them after consulting it, the next would see and compute exactly what this
        # one did and change nothing, so it is not run (straight-line code needs one round, not two).
        self.read: set[str] = set()
        self.pullback_seeded = self._seeded_params(gen.pullback)
        for p in gen.pullback_params:
            self.env[p] = 0 if p in self.pullback_seeded else _TOP
        for _ in range(100):  # each round only raises kinds, in a lattice of height 4
            self.changed = self.stale = False
            self.read.clear()
            self._block(gen.forward, in_pullback=False)
            self._block(gen.pullback, in_pullback=True)
            # Kinds only rise and every assignment has been seen: an array now is one at the end.
            if any(self.env[name] == _TOP for name in self.assigned if name not in self.namespaces):
                raise _Refused  # some value may be an array (an index, a product, a global...)
            if not self.changed or not self.stale:
                break

    def role(self, func: ast.expr) -> str | None:
        if isinstance(func, ast.Name) and func.id in self.bindings:
            self.read.add(func.id)
            if func.id not in self.env:
                return _ROLES.get(id(self.bindings[func.id]))
        return None

    def _seeded_params(self, pullback: list[ast.stmt]) -> set[str]:
        """Pullback parameters the pullback's first statements seed (``d = seed_cotangent(d, y, ...)``):
        their caller-given value is read by that call only."""
        seeded = set()
        for s in pullback:
            if isinstance(s, Comment):
                continue
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) \
                    and isinstance(s.value, ast.Call) and self.role(s.value.func) in ("seed", "check") \
                    and s.value.args and isinstance(s.value.args[0], ast.Name) \
                    and s.value.args[0].id == s.targets[0].id:
                seeded.add(s.targets[0].id)
                continue
            break
        return seeded

    # ---- statements ---------------------------------------------------------------------------

    def _assign(self, name: str, kind: int) -> None:
        if name not in self.assigned:
            self.assigned.add(name)
            self.stale |= name in self.read
        if kind > self.env.get(name, 0):
            self.env[name] = kind
            self.changed = True
            self.stale |= name in self.read

    def _block(self, stmts: list, in_pullback: bool) -> None:
        for s in stmts:
            if isinstance(s, (Comment, ast.Pass, ast.Expr, ast.Assert, ast.Raise)):
                continue
            if isinstance(s, ast.Assign):
                if len(s.targets) != 1:
                    raise _Refused
                self._store(s.targets[0], s.value)
            elif isinstance(s, ast.AugAssign):
                if not isinstance(s.target, ast.Name):
                    raise _Refused
                self._assign(s.target.id, self.kind(ast.BinOp(ast.Name(s.target.id, ast.Load()), s.op, s.value)))
            elif isinstance(s, ast.If):
                self._block(s.body, in_pullback)
                self._block(s.orelse, in_pullback)
            elif isinstance(s, ast.Return) and in_pullback:
                continue
            else:  # loops and their tapes, nested functions, try/with...: not reasoned about here
                raise _Refused

    def _store(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            if isinstance(value, ast.Call) and self.role(value.func) == "namespace":
                before = self.namespaces.get(target.id, True)
                numpy = before and all(self.kind(a) == _PY for a in value.args) and not value.keywords
                self.changed |= numpy != before
                if numpy != before or target.id not in self.namespaces:
                    self.stale |= target.id in self.read
                self.namespaces[target.id] = numpy
                self._assign(target.id, _TOP)  # a namespace, not a value
            else:
                self._assign(target.id, self.kind(value))
            return
        if not isinstance(target, (ast.Tuple, ast.List)) or not all(isinstance(t, ast.Name) for t in target.elts):
            raise _Refused  # a write into a container or an attribute
        names = [t.id for t in target.elts]
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(names):
            kinds = [self.kind(v) for v in value.elts]
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and not value.keywords \
                and len(_TUPLES.get(id(self._resolve(value.func.id)), ())) == len(names) \
                and all(self.kind(a) <= _ZN for a in value.args):
            kinds = _TUPLES[id(self._resolve(value.func.id))]
        else:
            kinds = [_TOP] * len(names)
        for name, kind in zip(names, kinds):
            self._assign(name, kind)

    # ---- expressions --------------------------------------------------------------------------

    def kind(self, e: ast.expr) -> int:
        if isinstance(e, ast.Constant):
            if e.value is None:
                return _ZN
            return _PY if type(e.value) in _NUMBERS or type(e.value) is complex else _TOP
        if isinstance(e, ast.Name):
            self.read.add(e.id)
            if e.id in self.env:
                return self.env[e.id]
            if e.id in self.bindings:  # closure constants are bound once, at transform time
                return _PY if type(self.bindings[e.id]) in _NUMBERS else _TOP
            return _TOP  # a global: its type may change between calls
        if isinstance(e, ast.BinOp):
            return _TOP if isinstance(e.op, ast.MatMult) or not isinstance(e.op, _ARITHMETIC) \
                else _operands(self.kind(e.left), self.kind(e.right))
        if isinstance(e, ast.UnaryOp):
            return _operands(self.kind(e.operand))
        if isinstance(e, ast.Compare):
            if all(isinstance(op, (ast.Is, ast.IsNot)) for op in e.ops):
                return _PY  # always a Python bool
            return _operands(self.kind(e.left), *[self.kind(c) for c in e.comparators])
        if isinstance(e, ast.BoolOp):  # one of its operands
            return max(self.kind(v) for v in e.values)
        if isinstance(e, ast.IfExp):
            return max(self.kind(e.body), self.kind(e.orelse))
        if isinstance(e, ast.Call):
            return self._call(e)
        return _TOP

    def _call(self, call: ast.Call) -> int:
        role = self.role(call.func)
        args = call.args
        if role is not None:
            if any(isinstance(a, ast.Starred) for a in args) or call.keywords:
                return _TOP
            if role == "unbroadcast" and len(args) == 2:
                return self.kind(args[0]) if self.kind(args[1]) <= _ZN else _TOP
            if role in ("seed", "check") and len(args) >= 2:  # (an output that is None raises)
                return _ZD if self.kind(args[1]) <= _ZN else _TOP
            if role == "finalize" and len(args) == 2:
                return _PY if self._guarded_param(args[1]) else _TOP
            if role == "expand_reduced" and len(args) == 4:
                return self.kind(args[0]) if self.kind(args[1]) <= _ZD else _TOP
            if role == "add" and len(args) == 2:
                return _operands(self.kind(args[0]), self.kind(args[1]), none_ok=True)
            if role == "scale" and args:
                return _operands(*[self.kind(a) for a in args])
            return _TOP
        if call.keywords and not self._reduction(call):
            return _TOP
        kinds = [self.kind(a) for a in args]
        if not kinds or any(isinstance(a, ast.Starred) for a in args):
            return _TOP
        func = call.func
        if isinstance(func, ast.Name):
            target = self._resolve(func.id)
            if id(target) in _ELEMENTWISE or _is_elementwise_ufunc(target):
                return _operands(*kinds)
            return _PY if id(target) in _NUMBER_RESULT else _TOP
        if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
            return _TOP
        base, name = func.value.id, func.attr
        self.read.add(base)
        if base in self.namespaces:  # xp.sin(...): elementwise in every array namespace
            if _numpy_elementwise(name) or name == "where" and len(args) == 3 or self._reduction(call):
                kind = _operands(*kinds)
                return kind if self.namespaces[base] or kind == _TOP else max(kind, _ZD)
            return _TOP
        module = self._resolve(base)
        if not isinstance(module, types.ModuleType):
            return _TOP
        if module is math and name not in _MATH_NOT_A_NUMBER and max(kinds) <= _ZD:
            return _PY  # math functions return Python numbers (or raise)
        if _is_elementwise_ufunc(getattr(module, name, None)) \
                or module is np and (name == "where" and len(args) == 3 or self._reduction(call)):
            return _operands(*kinds)  # np.sin, scipy.special.expit...: NumPy ufuncs
        return _TOP

    def _reduction(self, call: ast.Call) -> bool:
        func = call.func
        return isinstance(func, ast.Attribute) and func.attr in _REDUCTIONS and len(call.args) == 1 \
            and all(k.arg is not None and isinstance(k.value, ast.Constant) for k in call.keywords)

    def _resolve(self, name: str):
        """What a name that is not a local variable refers to, as of this transform."""
        self.read.add(name)
        if name in self.env:
            return None
        if name in self.bindings:
            return self.bindings[name]
        if name in self.user_globals:
            return self.user_globals[name]
        return getattr(builtins, name, None)

    def _guarded_param(self, e: ast.expr) -> bool:
        if not isinstance(e, ast.Name):
            return False
        self.read.add(e.id)
        return e.id in self.guarded and e.id not in self.assigned


def _operands(*kinds: int, none_ok: bool = False) -> int:
    """The kind of arithmetic on values of these kinds: 0-d in, 0-d out (None raises, in both paths)."""
    worst = max(kinds)
    if worst == _TOP:
        return _TOP
    if none_ok:
        return worst
    return _PY if worst == _PY else _ZD


def _is_elementwise_ufunc(fn) -> bool:
    return isinstance(fn, np.ufunc) and fn.nout == 1 and fn.signature is None


def _numpy_elementwise(name: str) -> bool:
    return _is_elementwise_ufunc(getattr(np, name, None))


# ---- the fast path ------------------------------------------------------------------------------

def _with_fast_path(gen, analysis: _Analysis, namer):
    names = FactoryNames(namer, dict(gen.bindings))
    rewriter = _Rewriter(analysis, names)
    forward = rewriter.block(gen.forward)
    pullback = rewriter.block(gen.pullback)
    if rewriter.kept & _PER_OPERATION or not rewriter.replaced & _PER_OPERATION:
        raise _Refused  # a helper that must stay, or nothing gained
    # With the helpers gone, temporaries the generic pullback read only to un-broadcast against, copies
    # (`dx = d_t2`) and double negations (`--d`) are left: tidied as the generic code was, to the bit.
    tidy(forward, pullback, gen.outputs, NameTable(names.bindings), gen.fusable, None, numbers=True)
    if gen.single_output:
        pb_args = ast.arguments([], [ast.arg(gen.pullback_params[0])], None, [], [], None, [ast.Constant(None)])
    else:
        pb_args = ast.arguments([], [ast.arg(p) for p in gen.pullback_params], None, [], [], None, [])
    pullback_def = ast.FunctionDef(gen.pullback_name, pb_args, pullback, [], None)
    outputs = ast.Tuple([clone(o) for o in gen.outputs] + [ast.Name(gen.pullback_name, ast.Load())], ast.Load())
    type_ = names.bound("type", builtins.type)
    checks = [number_check(type_, names, p) for p in analysis.guarded]
    guard = checks[0] if len(checks) == 1 else ast.BoolOp(ast.And(), checks)
    fast = ast.If(guard, [Comment(text=_NOTE)] + forward + [pullback_def, ast.Return(outputs)], [])
    return dataclasses.replace(gen, forward=[fast] + gen.forward, bindings=names.bindings)


def without_cotangent(s: ast.stmt, param: str) -> ast.stmt | None:
    """The fast path's seed of the pullback parameter ``param`` (``d = 1.0 if d is None and type(y) is float
    else seed_cotangent(d, y, label)``) as it reads where ``param`` is None (value_and_grad's one function
    passes no cotangent): ``d = 1.0 if type(y) is float else seed_cotangent(None, y, label)``. None for
    any other statement."""
    if not (isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
            and s.targets[0].id == param and isinstance(s.value, ast.IfExp)):
        return None
    test, seed = s.value.test, s.value.orelse
    if not (isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) and len(test.values) >= 2
            and ast.dump(test.values[0]) == ast.dump(_is_none(param)) and isinstance(seed, ast.Call)
            and seed.args and isinstance(seed.args[0], ast.Name) and seed.args[0].id == param):
        return None
    rest = test.values[1:]
    call = ast.Call(seed.func, [ast.Constant(None)] + seed.args[1:], seed.keywords)
    value = ast.IfExp(rest[0] if len(rest) == 1 else ast.BoolOp(ast.And(), rest), s.value.body, call)
    return ast.Assign([ast.Name(param, ast.Store())], value)


def number_check(type_: ast.Name, names: FactoryNames, param: str) -> ast.expr:
    """``type(p) is float or type(p) is int``: exactly (bools, whose partial is always 0, stay generic)."""
    def is_(cls, name):
        return ast.Compare(ast.Call(clone(type_), [ast.Name(param, ast.Load())], []), [ast.Is()],
                           [names.bound(name, cls)])
    return ast.BoolOp(ast.Or(), [is_(float, "float"), is_(int, "int")])


_LEAVES = (ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop)


class _Rewriter:
    """Copies statements, replacing each helper call the analysis proved has a scalar meaning."""

    def __init__(self, analysis: _Analysis, names: FactoryNames):
        self.a = analysis
        self.names = names
        self.replaced: set[str] = set()
        self.kept: set[str] = set()

    def block(self, stmts: list) -> list:
        out = []
        for s in stmts:
            if isinstance(s, Comment):
                out.append(Comment(text=s.text))
            elif isinstance(s, ast.If):
                out.append(ast.If(self.expr(s.test), self.block(s.body), self.block(s.orelse)))
            elif isinstance(s, ast.Assign):
                out.append(ast.Assign([clone(t) for t in s.targets], self.expr(s.value)))
            elif isinstance(s, ast.AugAssign):
                out.append(ast.AugAssign(clone(s.target), s.op, self.expr(s.value)))
            elif isinstance(s, ast.Return):
                out.append(ast.Return(None if s.value is None else self.expr(s.value)))
            elif isinstance(s, ast.Expr):
                out.append(ast.Expr(self.expr(s.value)))
            else:  # pass, assert, raise: nothing to replace
                out.append(clone(s))
        return out

    def expr(self, e):
        cls = e.__class__
        if cls is ast.Name:  # the commonest node: the same copy as below, made directly
            new = ast.Name.__new__(ast.Name)
            new.__dict__.update(id=e.id, ctx=e.ctx)
            return new
        if cls is ast.Call:
            role = self.a.role(e.func)
            if role is not None and not e.keywords and not any(isinstance(x, ast.Starred) for x in e.args):
                new = self._replace(role, e)
                if new is not None:
                    self.replaced.add(role)
                    return new
                self.kept.add(role)
        elif cls is list:
            return [self.expr(x) for x in e]
        elif cls is ast.NamedExpr:
            # An assignment inside an expression is not tracked by the analysis. (Generated code has
            # none: the lowering refuses `:=` in the user's code and never inlines a helper with one;
            # checked here, where every kept expression is copied, rather than by a walk of its own.)
            raise _Refused
        if not isinstance(e, ast.AST) or isinstance(e, _LEAVES):
            return e
        new = cls.__new__(cls)
        d = new.__dict__
        for key in cls._fields:
            value = getattr(e, key, None)
            d[key] = self.expr(value) if value.__class__ is list or isinstance(value, ast.AST) else value
        return new

    def _replace(self, role: str, call: ast.Call):
        """The scalar meaning of one helper call, or None to keep the call."""
        a, args = self.a, call.args
        if role == "unbroadcast" and len(args) == 2 and a.kind(args[1]) <= _ZN and a.kind(args[0]) <= _ZN:
            return self.expr(args[0])  # both 0-d: unbroadcast returns g itself
        if role == "expand_reduced" and len(args) == 4 and a.kind(args[1]) <= _ZD:
            return self.expr(args[0])  # a reduction of a 0-d value: its cotangent as it is
        if role == "finalize" and len(args) == 2 and a._guarded_param(args[1]):
            return self._finalize(args[0])
        if role == "distinct" and len(args) == 2 and isinstance(args[0], ast.Tuple) and all(
                self._is_number(p) for p in args[0].elts):
            parts = [self.expr(p) for p in args[0].elts]  # Python floats: nothing to protect from aliasing
            return parts[0] if len(parts) == 1 else ast.Tuple(parts, ast.Load())
        if role == "namespace" and all(a.kind(x) == _PY for x in args):
            return self.names.bound("numpy", runtime._NUMPY_NAMESPACE)
        if role == "add" and len(args) == 2 and a.kind(args[0]) <= _ZD and a.kind(args[1]) <= _ZD:
            return ast.BinOp(self.expr(args[0]), ast.Add(), self.expr(args[1]))  # neither is None
        if role == "scale" and args and all(a.kind(x) <= _ZD for x in args):
            product = self.expr(args[0])  # what scale_owned computes on anything but a large NumPy array
            for factor in args[1:]:
                product = ast.BinOp(product, ast.Mult(), self.expr(factor))
            return product
        if role == "seed" and len(args) >= 2 and all(isinstance(x, ast.Name) for x in args[:2]):
            # No cotangent for a float output: 1.0, as seed_cotangent returns; any other goes through it.
            d, y = args[0].id, args[1].id
            test = ast.BoolOp(ast.And(), [_is_none(d), self._type_is(y, float, "float")])
            return ast.IfExp(test, ast.Constant(1.0), self._kept_call(call))
        if role == "check" and len(args) >= 2 and all(isinstance(x, ast.Name) for x in args[:2]):
            d, y = args[0].id, args[1].id  # a float cotangent of a float output passes every check
            test = ast.BoolOp(ast.And(), [self._type_is(d, float, "float"), self._type_is(y, float, "float")])
            return ast.IfExp(test, ast.Name(d, ast.Load()), self._kept_call(call))
        return None

    def _kept_call(self, call: ast.Call) -> ast.Call:
        return ast.Call(clone(call.func), [self.expr(x) for x in call.args], [])

    def _finalize(self, g: ast.expr) -> ast.expr:
        """finalize(g, x) for x a Python float or int: 0.0 for no cotangent, else float(g)."""
        if isinstance(g, ast.Constant) and g.value is None:
            return ast.Constant(0.0)
        if self.a.kind(g) > _ZD and not isinstance(g, ast.Name):
            return None  # may be None, and is not a name to test twice
        as_float = ast.Call(self.names.bound("float", float), [self.expr(g)], [])
        if self.a.kind(g) <= _ZD:
            return as_float
        return ast.IfExp(_is_none(g.id), ast.Constant(0.0), as_float)

    def _is_number(self, part: ast.expr) -> bool:
        """A partial that is a Python float once replaced (finalize of a guarded argument)."""
        if isinstance(part, ast.Constant):
            return type(part.value) is float
        return isinstance(part, ast.Call) and self.a.role(part.func) == "finalize" and len(part.args) == 2 \
            and self.a._guarded_param(part.args[1]) and not part.keywords \
            and (self.a.kind(part.args[0]) <= _ZD or isinstance(part.args[0], (ast.Name, ast.Constant)))

    def _type_is(self, name: str, cls, preferred: str) -> ast.expr:
        call = ast.Call(self.names.bound("type", builtins.type), [ast.Name(name, ast.Load())], [])
        return ast.Compare(call, [ast.Is()], [self.names.bound(preferred, cls)])


def _is_none(name: str) -> ast.expr:
    return ast.Compare(ast.Name(name, ast.Load()), [ast.Is()], [ast.Constant(None)])


__all__ = ["specialise"]
