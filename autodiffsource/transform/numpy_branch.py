"""NumPy code: run-time helpers whose answer is known for float NumPy arrays, written out.

Contract: ``numpy_branch(body, gen, names)`` takes the generic statements of value_and_grad's one function
(``transform/combined.py``: the forward pass, then the pullback's body) and returns a copy guarded by
``type(p) is ndarray and p.dtype.kind == "f"`` for every differentiated parameter ``p``, or None when the
copy would save less than two helper calls. ``numpy_only(gen, namer, same_shape, others)`` rewrites a δ
function's forward pass and pullback the same way, in place, behind that guard's negation handing every
other call on (a δ function first called with float NumPy arrays). Under the guard each rewrite below is
the case the helper itself would take, so the code computes exactly what the generic statements compute:

- ``xp = namespace(a, b)`` whose arguments are all parameters: ``xp = <NumPy>`` (what
  ``runtime.namespace`` returns when every argument is a NumPy array or a number); constant parameters
  among them are then guarded too (``type(c) is ndarray or type(c) is float or type(c) is int``);
- the seed ``d = None`` + ``d = seed_cotangent(d, y, label)``: ``d = 1.0 if type(y) is float64 else
  seed_cotangent(None, y, label)`` (seed_cotangent's first case, without the call);
- a cotangent buffer ``B = zeros_with(p, ...)`` of a guarded ``p`` is a new writable float array of ``p``'s
  shape and dtype; while the only writes to ``B`` are ``B = index_add(B, I, g)`` with a literal basic
  index ``I``, spelled ``B[I] += g`` (index_add's NumPy case), and ``B += g``, it stays one, and
  ``finalize(B, p)`` is ``B`` (finalize's NumPy case: nothing to convert);
- ``xp.sum(v, axis=a, dtype=t, keepdims=k)`` with ``xp`` NumPy: ``sum_of(v, a, t, k)`` (``runtime``),
  NumPy's add reduction itself for an ndarray ``v`` (what ``np.sum`` calls after microseconds of
  argument handling) and ``np.sum`` for anything else;
- ``g += -h`` (a cotangent accumulated with a minus sign): ``g -= h``, the same value without the pass
  that negates ``h`` (``a + (-b)`` and ``a - b`` round alike);
- a whole-array ``sum_of(v)`` whose ``v`` adds and subtracts squares ``u ** 2``, each maybe weighted by a
  number written in the source (``100 * u ** 2``), looking through values made for it alone
  (``_t6 = 100 * _t4 ** 2`` read by nothing else): ``sum_of_squares((100, _t4), _t8)`` (``runtime``), a
  dot product per square on float64 arrays of one shape and the expression itself, to the bit,
  otherwise. The one rewrite here that is not the generic code's own case: it rounds differently (a few
  units in the last place of the value, never of the gradient).

Buffers are followed through top-level statements only: a name also assigned inside a loop or a branch
is never taken for one.

No branch is made for a function of more than ``MAX_OPERATIONS`` operations (IR statements): the branch
is a second copy of the whole function, to write out and compile on the first call (a 1,000-line
function: about 0.5 s more, issue 6), while what it saves per call, a few helper calls of microseconds
each, is a fraction of a percent of such a function's own run time. (Up to that size the same-shape
build, ``api._same_shape_variant``, makes the branch worth far more: no un-broadcasts at all.)
``numpy_only``, and a branch rewritten in place, are no second copy: they are made at any length (the
NumPy code is then all there is to write out and compile, and it is the shorter: a 1,000-line function's
first call costs the same, issue 6).
"""

from __future__ import annotations

import ast
import dataclasses
import functools

import numpy as np

from .. import runtime
from ..astutil import PLAIN_VALUES, Transformer, clone, cloning, nodes
from ..ir import walk_statements
from .codeparts import Comment
from .naming import FactoryNames
from .tidy import literal_basic_index, subtracted

_NOTE = "NumPy arrays: each helper whose answer is known here written out (transform/numpy_branch.py)"
MAX_OPERATIONS = 300  # operations of the lowered function; beyond them, no branch (see above)


def operations(lowered) -> int:
    """How many IR statements ``lowered`` has, nested blocks included."""
    return sum(1 for _ in walk_statements(lowered.body))


def numpy_branch(body: list[ast.stmt], gen, namer, same_shape: tuple[tuple[str, ...], ...] = (),
                 in_place: bool = False) -> ast.If | None:
    """The guarded NumPy copy of ``body``; names it needs are added to ``gen.bindings`` (fresh from ``namer``).

    ``same_shape``: groups of parameters that ``body`` was generated assuming equal shapes within each
    group (``shapes.ShapeFacts``); the guard then checks ``p.shape == q.shape`` too, and the branch is
    made even where it writes out few helpers (the assumption is the saving). ``in_place``: ``body``'s
    own statements are rewritten (not copied), for a caller that uses them nowhere else whether or not
    a branch is made; tidy's table (``gen.names``) then stays right for them (see :func:`numpy_only`)."""
    rewrite = _Rewrite.of(gen, namer, body, same_shape, in_place)
    if rewrite is None:
        return None
    branch = rewrite.block(body)  # (a bound name the branch is not made after all is never used)
    if rewrite.rebinds_a_guarded_parameter():
        return None
    # `d = None` before a seed written out above is read by nothing now
    kept, sums = [], []
    for s, made_sum in zip(branch, rewrite.made_sums):
        if isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant) and s.value.value is None \
                and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) and s.targets[0].id in rewrite.seeded:
            rewrite.stores[s.targets[0].id] -= 1
            continue
        if made_sum or rewrite.sum_of_bound:
            sums.append(len(kept))
        kept.append(s)
    branch = kept
    if rewrite.count < 2 and not same_shape:
        return None
    branch = rewrite.written_out(branch, sums)
    checks = rewrite.guard(same_shape)  # (binds type and ndarray: before the bindings are handed on)
    gen.bindings.clear()
    gen.bindings.update(rewrite.names.bindings)
    return ast.If(ast.BoolOp(ast.And(), checks), [Comment(text=_NOTE)] + branch, [])


def numpy_only(gen, namer, same_shape: tuple[tuple[str, ...], ...], others):
    """A δ function first called with float NumPy arrays: ``gen`` (built assuming ``same_shape``'s groups
    share a shape) with its forward pass and its pullback rewritten in place as :func:`numpy_branch`
    rewrites a branch, behind ``if not <its guard>: return others(<params>)`` (``others``: the variant
    with the generic code, compiled when such arguments first come). The pullback may run again, so
    nothing here assumes it runs once: its seed keeps the cotangent a caller passes. None where the
    rewrite does not apply (``gen``'s statements may have been rewritten by then: build again).

    tidy's table (``gen.names``) spares the walk: a statement whose entry names nothing a rewrite starts
    from is left as it is, and those rewritten lose their entries, so the table stays right for the
    passes after (lifetimes reads it)."""
    rewrite = _Rewrite.of(gen, namer, gen.forward + gen.pullback, same_shape, in_place=True)
    if rewrite is None:
        return None
    forward = rewrite.block(gen.forward)  # (what the forward pass proves, the pullback may use: one walk)
    pullback = rewrite.block(gen.pullback)
    # (Code that writes out few helpers is kept: unlike numpy_branch's copy, it costs nothing more to compile.)
    if rewrite.rebinds_a_guarded_parameter():
        return None
    forward = rewrite.written_out(forward, [i for i in range(len(forward)) if rewrite.made_sums[i] or rewrite.sum_of_bound])
    pullback = [subtracted(s) for s in pullback]
    names, checks = rewrite.names, rewrite.guard(same_shape)
    call = ast.Call(names.bound("other_arguments", others), [ast.Name(p, ast.Load()) for p in gen.lowered.params], [])
    guard = ast.If(ast.UnaryOp(ast.Not(), ast.BoolOp(ast.And(), checks)), [Comment(text=OTHERS_NOTE), ast.Return(call)], [])
    # The helpers whose every call was written out (namespace, finalize, index_add, a sum_of of squares)
    # leave the factory.
    bindings = {n: obj for n, obj in names.bindings.items() if not (runtime.is_helper(obj) and not rewrite.reads.get(n))}
    # The table's entries for the statements rewritten are forgotten: what it holds is up to date.
    return dataclasses.replace(gen, forward=[guard, Comment(text=_NOTE)] + forward, pullback=pullback,
                               bindings=bindings)


OTHERS_NOTE = "other arguments: the variant with the generic code, compiled on the first such call"


def _guard(guarded: list[str], constants: list[str], same_shape, names: FactoryNames) -> list[ast.expr]:
    """The comparisons a NumPy branch runs under: every ``guarded`` parameter a float ndarray, each
    ``same_shape`` group of one shape, each of ``constants`` an ndarray or a Python number."""
    checks = float_array_checks(guarded, names)
    type_, ndarray = names.bound("type", type), names.bound("ndarray", np.ndarray)
    for group in same_shape:
        first = ast.Attribute(ast.Name(group[0], ast.Load()), "shape", ast.Load())
        checks += [ast.Compare(first, [ast.Eq()], [ast.Attribute(ast.Name(p, ast.Load()), "shape", ast.Load())])
                   for p in group[1:]]
    for p in constants:
        is_ = [ast.Compare(ast.Call(clone(type_), [ast.Name(p, ast.Load())], []), [ast.Is()], [cls])
               for cls in (clone(ndarray), names.bound("float", float), names.bound("int", int))]
        checks.append(ast.BoolOp(ast.Or(), is_))
    return checks


def float_array_checks(params: list[str], names: FactoryNames) -> list[ast.expr]:
    """``type(p) is ndarray`` and ``p.dtype.kind == 'f'`` for each of ``params``: the guard's comparisons
    that every one is a float NumPy array (``type`` and ``ndarray`` bound through ``names``)."""
    type_, ndarray = names.bound("type", type), names.bound("ndarray", np.ndarray)
    checks = []
    for p in params:
        checks.append(ast.Compare(ast.Call(clone(type_), [ast.Name(p, ast.Load())], []), [ast.Is()], [clone(ndarray)]))
        kind = ast.Attribute(ast.Attribute(ast.Name(p, ast.Load()), "dtype", ast.Load()), "kind", ast.Load())
        checks.append(ast.Compare(kind, [ast.Eq()], [ast.Constant("f")]))
    return checks


def _namespace_arguments(body: list[ast.stmt], helper_names: dict) -> list[str]:
    out = []
    for s in body:
        if isinstance(s, ast.Assign) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Name) \
                and helper_names.get(s.value.func.id) is runtime.namespace:
            out += [a.id for a in s.value.args if isinstance(a, ast.Name) and a.id not in out]
    return out


def _assigned_in_compound(body: list[ast.stmt]) -> set[str]:
    out = set()
    for s in body:
        if isinstance(s, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            out.update(n.id for n in nodes(s) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load))
    return out


class _Rewrite:
    """Copies the statements, rewriting what the guard decides; ``count``: the helper calls removed.

    The copy is made in one walk (:meth:`copy`: ``astutil.clone``'s copy with the expression rewrites of
    :meth:`call` applied on the way up) that also counts the copy's names for ``_sums_of_squares``:
    ``reads`` and ``stores`` (by ``ast.Load`` / ``ast.Store`` context) and ``unloaded`` (every name not
    read: stored or deleted). ``made_sums[i]``: whether the i-th statement copied has a ``sum_of`` made here.
    ``in_place``: the same walk and rewrites on the statements themselves (no copy is made)."""

    @classmethod
    def of(cls, gen, namer, body: list[ast.stmt], same_shape, in_place: bool) -> "_Rewrite | None":
        """The rewrite of ``body``, statements of ``gen``, under a guard on its differentiated parameters
        (names it binds come fresh from ``namer``); None where no NumPy code is made."""
        guarded = [p for p, m in zip(gen.lowered.params, gen.lowered.wrt) if m]
        if not guarded or (not (same_shape or in_place) and operations(gen.lowered) > MAX_OPERATIONS):
            return None
        helper_names = {name: obj for name, obj in gen.bindings.items() if runtime.is_helper(obj)}
        # Constant parameters the namespace is taken of (an autoencoder's input): NumPy arrays or numbers.
        constants = [p for p in _namespace_arguments(body, helper_names) if p in gen.lowered.params and p not in guarded]
        rewrite = cls(guarded, constants, helper_names, FactoryNames(namer, dict(gen.bindings)),
                      _assigned_in_compound(body), in_place, gen.names if in_place else None)
        rewrite.sum_of_bound = any(obj is runtime.sum_of for obj in gen.bindings.values())  # (then any sum_of may be old)
        return rewrite

    def __init__(self, guarded: list[str], constants: list[str], helper_names: dict, names, unsure: set[str],
                 in_place: bool = False, table=None):
        self.in_place = in_place
        # tidy's table of each statement's names (in place only): a simple statement whose entry shows
        # none of the names a rewrite starts from is taken as it is, its names counted from the entry;
        # the entries of the statements rewritten are forgotten (see untouched).
        self.table = table
        self.watched = {name for name, obj in helper_names.items() if obj in _REWRITTEN_HELPERS}
        self.guarded_params, self.constant_params = guarded, constants  # (in order: the guard's)
        self.guarded = set(guarded)
        self.constants = set(constants)  # guarded too (ndarray or number) if the branch relies on them
        self.sum_of_bound = False
        self.constants_read = False
        self.helper_names = helper_names
        self.names = names
        self.unsure = unsure  # names assigned inside compound statements
        self.buffers: dict[str, str] = {}  # buffer name -> the parameter it is the cotangent of
        self.numpy_namespaces: set[str] = set()
        self.seeds: set[str] = set()  # cotangent parameters set to None just before their seed
        self.seeded: set[str] = set()  # ... whose seed is written out
        self.count = 0
        self.reads: dict[str, int] = {}
        self.stores: dict[str, int] = {}
        self.unloaded: set[str] = set()
        self.made_sums: list[bool] = []
        self.made_sum = False

    def rebinds_a_guarded_parameter(self) -> bool:
        """Whether the statements rewritten store a guarded parameter: the guard at entry would not speak
        for it after."""
        return bool(self.unloaded & (self.guarded | self.constants))

    def written_out(self, stmts: list[ast.stmt], sums: list[int]) -> list[ast.stmt]:
        """``stmts`` (rewritten) with their sums of squares (``sums``: the indices that may have one) and
        ``g += -h`` written out (``B[I] += -g``, from index_add above)."""
        if self.table is not None:  # (what _sums_of_squares may rewrite in place: those, and dels)
            for s in [stmts[i] for i in sums] + [s for s in stmts if s.__class__ is ast.Delete]:
                self.table.forget(s)
        return [subtracted(s) for s in _sums_of_squares(stmts, self.names, self.reads, self.stores, sums)]

    def guard(self, same_shape) -> list[ast.expr]:
        """The guard's comparisons: the guarded parameters float ndarrays, ``same_shape``'s groups of one
        shape, the constants the code relies on ndarrays or Python numbers."""
        return _guard(self.guarded_params, self.constant_params if self.constants_read else [], same_shape,
                      self.names)

    def _is(self, node, helper) -> bool:
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and self.helper_names.get(node.func.id) is helper and not node.keywords

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out = []
        table = self.table
        for s in stmts:
            self.made_sum = False
            if isinstance(s, Comment):
                out.append(s if self.in_place else Comment(text=s.text))
                self.made_sums.append(False)
                continue
            if table is not None:
                if s.__class__ in _SIMPLE and self.untouched(s):
                    out.append(s)
                    self.made_sums.append(False)
                    continue
                table.forget(s)  # (walked below, maybe rewritten)
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
                s = self.assign(s.targets[0].id, s)
            elif isinstance(s, ast.AugAssign) and isinstance(s.target, ast.Name):
                self.rebound(s.target.id, keeps_buffer=isinstance(s.op, ast.Add))
                s = self.copy_rewriting_value(s)
            else:
                for n in nodes(s):  # any other statement: names it stores are no longer buffers
                    if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                        self.rebound(n.id)
                s = self.copy(s, True)
            out.append(s)
            self.made_sums.append(self.made_sum)
        return out

    def untouched(self, s: ast.stmt) -> bool:
        """Whether the table's entry for ``s`` (an assignment or an expression) shows that no rewrite
        applies to it: it reads no helper rewritten here (``_REWRITTEN_HELPERS``), calls no ``xp.sum`` of
        a NumPy namespace (a statement that reads one is searched for that call), holds no conditional
        evaluation (a lambda's parameters would count as stores), and assigns no constant (a seed's
        ``d = None``). Then its names are counted from the entry, and the names it stores stop being
        buffers, namespaces and seeds, as the walk would have had them."""
        entry = self.table.cache.get(s)
        if entry is None or entry[5] is not s or entry[2] \
                or s.__class__ is ast.Assign and s.value.__class__ is ast.Constant:
            return False  # (a statement without an entry: walked once, by the rewrite itself)
        loads, stores = entry[0], entry[1]
        namespaces = self.numpy_namespaces
        # (a name counted down to no read only costs a walk: the set operations run in C)
        if not self.watched.isdisjoint(loads) or (not namespaces.isdisjoint(loads) and _calls_a_sum(s, namespaces)):
            return False  # (most statements that read a namespace read it for xp.tanh and the like)
        reads = self.reads
        for name, count in loads.items():
            if count:
                reads[name] = reads.get(name, 0) + count
        adds_into_target = s.__class__ is ast.AugAssign and s.op.__class__ is ast.Add
        for name, count in stores.items():
            if count:
                self.stores[name] = self.stores.get(name, 0) + count
                self.unloaded.add(name)
                self.rebound(name, keeps_buffer=adds_into_target)
        return True

    def rebound(self, name: str, keeps_buffer: bool = False) -> None:
        """``name`` is stored again: it is no longer followed as a NumPy namespace or an unseeded
        cotangent, nor as a buffer unless ``keeps_buffer`` (``B += g`` adds into the buffer)."""
        if not keeps_buffer:
            self.buffers.pop(name, None)
        self.numpy_namespaces.discard(name)
        self.seeds.discard(name)

    def assign(self, target: str, s: ast.Assign) -> ast.stmt:
        """The copy of ``target = value`` (``s``, itself left as it is)."""
        value = s.value
        was_buffer_of = self.buffers.pop(target, None)
        was_unseeded = target in self.seeds
        self.numpy_namespaces.discard(target)
        self.seeds.discard(target)
        if target in self.unsure:
            return self.copy_rewriting_value(s)
        if self._is(value, runtime.namespace) and value.args and all(
                isinstance(a, ast.Name) and a.id in self.guarded | self.constants for a in value.args):
            self.constants_read = self.constants_read or any(a.id in self.constants for a in value.args)
            self.numpy_namespaces.add(target)
            self.count += 1
            s = self.own(s)
            s.value = self.names.bound("numpy", runtime._NUMPY_NAMESPACE)
            return self.counted(s)
        if isinstance(value, ast.Constant) and value.value is None:
            self.seeds.add(target)
            return self.counted(self.own(s))
        if self._is(value, runtime.seed_cotangent) and len(value.args) == 3 and isinstance(value.args[0], ast.Name) \
                and value.args[0].id == target and was_unseeded:
            self.count += 1
            s = self.own(s)
            value = s.value
            is_float64 = ast.Compare(ast.Call(self.names.bound("type", type), [clone(value.args[1])], []),
                                     [ast.Is()], [self.names.bound("float64", np.float64)])
            value.args[0] = ast.Constant(None)
            s.value = ast.IfExp(is_float64, ast.Constant(1.0), value)
            self.seeded.add(target)
            return self.counted(s)
        if self._is(value, runtime.zeros_with) and value.args and isinstance(value.args[0], ast.Name) \
                and value.args[0].id in self.guarded:
            s = self.copy_rewriting_value(s)
            self.buffers[target] = value.args[0].id
            return s
        if self._is(value, runtime.index_add) and len(value.args) == 3 and was_buffer_of is not None \
                and isinstance(value.args[0], ast.Name) and value.args[0].id == target \
                and literal_basic_index(value.args[1]):
            self.count += 1
            self.buffers[target] = was_buffer_of
            where = ast.Subscript(ast.Name(target, ast.Load()), _index_syntax(value.args[1]), ast.Store())
            self.counted(where)
            return ast.AugAssign(where, ast.Add(), self.copy(value.args[2], True))
        return self.copy_rewriting_value(s)

    def own(self, s: ast.stmt) -> ast.stmt:
        """``s`` to rewrite: a copy, or ``s`` itself when rewriting in place."""
        return s if self.in_place else clone(s)

    def counted(self, s: ast.stmt) -> ast.stmt:
        """``s`` (made without :meth:`copy`), its names counted."""
        for n in nodes(s):
            if n.__class__ is ast.Name:
                self.count_name(n)
        return s

    def count_name(self, n: ast.Name) -> None:
        ctx = n.ctx.__class__
        if ctx is ast.Load:
            self.reads[n.id] = self.reads.get(n.id, 0) + 1
            return
        if ctx is ast.Store:
            self.stores[n.id] = self.stores.get(n.id, 0) + 1
        self.unloaded.add(n.id)

    def copy_rewriting_value(self, s: ast.stmt) -> ast.stmt:
        """A copy of an assignment whose ``value`` alone is rewritten (its targets are copied as they are)."""
        if self.in_place:
            d = s.__dict__
            for key in s._fields:
                value = d.get(key)
                if value.__class__ not in PLAIN_VALUES:
                    d[key] = self.copy(value, key == "value")
            return s
        cls = s.__class__
        new = cls.__new__(cls)
        d, source = new.__dict__, s.__dict__
        for key in cls._fields:
            value = source.get(key)
            d[key] = value if value.__class__ in PLAIN_VALUES else self.copy(value, key == "value")
        for key in cls._attributes:
            if key in source:
                d[key] = source[key]
        return new

    def copy(self, node, rewrite: bool):
        """``astutil.clone(node)`` with its names counted and, if ``rewrite``, each call rewritten by
        :meth:`call` once its own parts are (the order of a ``Transformer``'s ``visit_Call``)."""
        cls = node.__class__
        if self.in_place:
            return self.rewrite_in_place(node, cls, rewrite)
        if cls is list:
            return [self.copy(n, rewrite) for n in node]
        how = cloning(cls)
        if how is False:  # not a node, or a context
            return node
        fields, attributes = how
        new = cls.__new__(cls)
        d, source = new.__dict__, node.__dict__
        for key in fields:
            value = source.get(key)
            d[key] = value if value.__class__ in PLAIN_VALUES else self.copy(value, rewrite)
        for key in attributes:
            if key in source:
                d[key] = source[key]
        if cls is ast.Name:
            self.count_name(new)
        elif cls is ast.Call and rewrite:
            return self.call(new)
        return new

    def rewrite_in_place(self, node, cls, rewrite: bool):
        """:meth:`copy`'s walk, counts and rewrites on ``node`` itself: ``node``, or the expression a
        rewritten call becomes."""
        if cls is list:
            for i, item in enumerate(node):
                node[i] = self.copy(item, rewrite)
            return node
        how = cloning(cls)
        if how is False:  # not a node, or a context
            return node
        d = node.__dict__
        for key in how[0]:
            value = d.get(key)
            if value.__class__ not in PLAIN_VALUES:
                d[key] = self.copy(value, rewrite)
        if cls is ast.Name:
            self.count_name(node)
        elif cls is ast.Call and rewrite:
            return self.call(node)
        return node

    def call(self, node: ast.Call) -> ast.expr:
        """``finalize(B, p)`` of a buffer: ``B``; ``xp.sum(...)`` with ``xp`` NumPy: ``sum_of(...)``
        (the names a rewrite drops or adds are counted again)."""
        if self._is(node, runtime.finalize) and len(node.args) == 2 \
                and all(isinstance(a, ast.Name) for a in node.args) \
                and self.buffers.get(node.args[0].id) == node.args[1].id:
            self.count += 1
            self.uncount(node.func)
            self.uncount(node.args[1])
            return node.args[0]
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "sum" and isinstance(func.value, ast.Name) \
                and func.value.id in self.numpy_namespaces and len(node.args) == 1 \
                and {k.arg for k in node.keywords} <= set(_REDUCTION_KEYWORDS):
            self.count += 1
            self.uncount(func.value)
            given = {k.arg: k.value for k in node.keywords}
            args = [node.args[0]] + [given.get(k, ast.Constant(d)) for k, d in zip(_REDUCTION_KEYWORDS,
                                                                                  (None, None, False))]
            sum_of = self.names.bound("sum_of", runtime.sum_of)
            self.count_name(sum_of)
            self.made_sum = True
            return ast.Call(sum_of, args, [])
        return node

    def uncount(self, n: ast.Name) -> None:
        table = self.reads if n.ctx.__class__ is ast.Load else self.stores if n.ctx.__class__ is ast.Store else None
        if table is not None:
            table[n.id] -= 1


_REDUCTION_KEYWORDS = ("axis", "dtype", "keepdims")


def _calls_a_sum(s: ast.stmt, namespaces: set[str]) -> bool:
    """Whether ``s`` holds ``xp.sum`` of one of ``namespaces`` (what :meth:`_Rewrite.call` may rewrite)."""
    for n in nodes(s):
        if n.__class__ is ast.Attribute and n.attr == "sum" and n.value.__class__ is ast.Name \
                and n.value.id in namespaces:
            return True
    return False


# The helpers whose calls _Rewrite writes out or follows (assign and call), and the statements the
# table's entries may stand for (no block, no del: tidy keeps their entries up to date).
_REWRITTEN_HELPERS = (runtime.namespace, runtime.seed_cotangent, runtime.zeros_with, runtime.index_add,
                      runtime.finalize)
_SIMPLE = frozenset({ast.Assign, ast.AugAssign, ast.Expr})


def _index_syntax(node) -> ast.expr:
    """``slice(1, None, None)`` -> ``1:`` (the subscript's own syntax), in tuples too."""
    if isinstance(node, ast.Tuple):
        return ast.Tuple([_index_syntax(e) for e in node.elts], ast.Load())
    if isinstance(node, ast.Call):
        lower, upper, step = (list(node.args) + [ast.Constant(None)] * 3)[:3] if len(node.args) > 1 \
            else (ast.Constant(None), node.args[0] if node.args else ast.Constant(None), ast.Constant(None))
        none = lambda a: isinstance(a, ast.Constant) and a.value is None  # noqa: E731
        return ast.Slice(None if none(lower) else clone(lower), None if none(upper) else clone(upper),
                         None if none(step) else clone(step))
    return clone(node)


# ---- sums of squares -----------------------------------------------------------------------------------

def _sums_of_squares(branch: list[ast.stmt], names: FactoryNames, reads: dict, stores: dict,
                     candidates: list[int]) -> list[ast.stmt]:
    """Each ``sum_of(<squares added up>, None, None, False)`` in a top-level assignment ->
    ``sum_of_squares(...)``; the statements that made a square term for it alone are folded in and leave
    the ``del`` list. ``reads``/``stores``: how many times ``branch`` reads and stores each name;
    ``candidates``: the indices of the statements that may have such a ``sum_of`` (the others have none)."""
    sum_of = next((name for name, obj in names.bindings.items() if obj is runtime.sum_of), None)
    if sum_of is None:
        return branch
    out, folded = list(branch), set()
    for i in candidates:
        s = out[i]
        if isinstance(s, ast.Assign):
            rewrite = _SumsOfSquares(sum_of, functools.partial(_SquareTerms, out, i, reads, stores), names)
            s.value = rewrite.visit(s.value)
            folded |= rewrite.folded
            for name, count in rewrite.called.items():  # (the calls it wrote and replaced, in the counts)
                reads[name] = reads.get(name, 0) + count
    if not folded:
        return out
    gone = {out[i].targets[0].id for i in folded}
    kept = []
    for i, s in enumerate(out):
        if i in folded:
            continue
        if isinstance(s, ast.Delete):
            s.targets = [t for t in s.targets if not (isinstance(t, ast.Name) and t.id in gone)]
            if not s.targets:
                if kept and isinstance(kept[-1], Comment):
                    kept.pop()  # the del's own comment
                continue
        kept.append(s)
    return kept


class _SumsOfSquares(Transformer):
    """``sum_of(v, None, None, False)`` -> ``sum_of_squares(terms...)`` where ``v``'s terms are squares."""

    def __init__(self, sum_of: str, square_terms, names: FactoryNames):
        self.sum_of, self.square_terms, self.names = sum_of, square_terms, names  # square_terms(): a new _SquareTerms
        self.folded: set[int] = set()
        self.called: dict[str, int] = {}  # helper name -> calls of it made (+) and replaced (-)

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if not (isinstance(node.func, ast.Name) and node.func.id == self.sum_of and len(node.args) == 4
                and not node.keywords and all(isinstance(a, ast.Constant) for a in node.args[1:])
                and [a.value for a in node.args[1:]] == [None, None, False]):
            return node
        square_terms = self.square_terms()
        terms = square_terms.terms(node.args[0], chain=True)
        if terms is None:
            return node
        self.folded |= square_terms.folded
        helper = self.names.bound("sum_of_squares", runtime.sum_of_squares)
        for name, change in ((self.sum_of, -1), (helper.id, 1)):
            self.called[name] = self.called.get(name, 0) + change
        return ast.Call(helper, [u if w is None else ast.Tuple([ast.Constant(w), u], ast.Load()) for w, u in terms], [])

    def visit_Lambda(self, node: ast.Lambda) -> ast.Lambda:
        return node


class _SquareTerms:
    """The terms ``(weight or None, u)`` of an expression that adds and subtracts ``[w *] u ** 2``, or None.

    Only the left operand of ``+``/``-`` may be a chain of terms (Python's own grouping, so the
    expression the helper falls back to adds in the same order, to the bit). A name is looked through
    when a top-level statement before ``at`` made it, nothing else reads or rebinds it, and the
    statements between only bind names from call-free expressions that write no array the folded value
    reads (so computing it later gives the same value)."""

    def __init__(self, stmts: list[ast.stmt], at: int, reads: dict, stores: dict):
        self.stmts, self.at, self.reads, self.stores = stmts, at, reads, stores
        self.folded: set[int] = set()

    def terms(self, e: ast.expr, chain: bool):
        if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Sub)) and chain:
            left, right = self.terms(e.left, chain=True), self.terms(e.right, chain=False)
            if left is None or right is None:
                return None
            if isinstance(e.op, ast.Sub):
                right = [(-1 if w is None else -w, u) for w, u in right]
            return left + right
        if isinstance(e, ast.Name):
            made = self._made_for_it(e.id)
            if made is None:
                return None
            index, value = made
            terms = self.terms(value, chain)
            if terms is not None:
                self.folded.add(index)
            return terms
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Mult):
            for weight, square in ((e.left, e.right), (e.right, e.left)):
                w, u = _number(weight), _squared(square)
                if w is not None and u is not None:
                    return [(w, u)]
            return None
        u = _squared(e)
        return None if u is None else [(None, u)]

    def _made_for_it(self, name: str):
        if self.reads.get(name) != 1 or self.stores.get(name) != 1:
            return None
        for j in range(self.at - 1, -1, -1):
            s = self.stmts[j]
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) \
                    and s.targets[0].id == name:
                read = {n.id for n in nodes(s.value) if isinstance(n, ast.Name)}
                between = self.stmts[j + 1:self.at]
                if all(isinstance(b, Comment) or (
                        isinstance(b, ast.Assign) and all(isinstance(t, ast.Name) and t.id not in read for t in b.targets)
                        and not any(isinstance(n, ast.Call) for n in nodes(b.value))) for b in between):
                    return j, s.value
                return None
            if not isinstance(s, (ast.Assign, Comment)):
                return None
        return None


def _number(e: ast.expr):
    """A weight written in the source: an int or float literal, maybe negated."""
    sign = 1
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        sign, e = -1, e.operand
    if isinstance(e, ast.Constant) and type(e.value) in (int, float):
        return sign * e.value
    return None


def _squared(e: ast.expr):
    """``u`` of ``u ** 2`` (the literal int 2)."""
    if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Pow) and isinstance(e.right, ast.Constant) \
            and type(e.right.value) is int and e.right.value == 2:
        return e.left
    return None
