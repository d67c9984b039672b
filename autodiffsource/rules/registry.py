"""The rule registry: which callables have derivative rules, which are constant, which are refused.

A rule is written the way users write theirs (the seed's ``δname`` convention)::

    @rule(np.tanh, methods=("tanh",))
    def δtanh(x):
        y = xp.tanh(x)
        def tanh_pullback(dy):
            return (dy * (1 - y * y),)
        return y, tanh_pullback

It is keyed by the primal *object* (so ``import numpy as onp`` and aliases such as ``np.abs is
np.absolute`` still find it), optionally by array-method name (``x.sum()``) and by array-API function name
(``xp.tanh`` where ``xp`` is only known at run time). ``xp`` inside a rule is the array namespace of the
differentiated function's inputs. Rules whose body is the simple shape above are inlined by the code
generator (``transform/inline.py``); any other rule is called as a closure. Both give the same numbers.

``nondiff(...)`` declares callables whose results are constants (shapes, comparisons, ``zeros_like``...).
Anything else from a covered namespace without a rule is refused with :class:`MissingRuleError`.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
import types
from typing import Callable


@dataclasses.dataclass(eq=False)
class Rule:
    """One derivative rule: ``delta(*args, **kwargs) -> (value, pullback)``."""

    delta: Callable
    name: str
    outputs: int = 1
    # Positional parameters that never get a partial (axes, shapes, indices): callers may pass
    # non-array values there, and the generator never asks for their cotangent.
    static: tuple[str, ...] = ()
    # Parameters read only for their shape or dtype (``x`` in ``unbroadcast(g, x)``): they may be
    # differentiated values, but no cotangent flows to them.
    shape_only: tuple[str, ...] = ()
    # The results' names where the primal returns a named tuple (NumPy 2's ``slogdet(a).logabsdet``).
    fields: tuple[str, ...] = ()
    # Whether a list or tuple argument reaches the rule as it is (``cho_solve((c, lower), b)``), not as
    # ``np.asarray`` of it, which is what NumPy's functions make of one.
    sequences: bool = False

    @property
    def without_partials(self) -> tuple[str, ...]:
        """The parameters that never receive a cotangent: static ones and shape-only ones."""
        return self.static + self.shape_only

    def __repr__(self) -> str:
        return f"Rule({self.delta.__name__})"


class _Registry:
    def __init__(self):
        self._by_object: dict[int, tuple[object, Rule]] = {}
        # Rules of one object's method (``scipy.stats.norm.logpdf``, a new bound method at each access):
        # (id(the object), its class's function) -> (the object, rule).
        self._by_bound_method: dict[tuple[int, object], tuple[object, Rule]] = {}
        # The same by (the object's class, the function), for an equal copy of the object: a frozen
        # distribution's ``.dist`` is a new ``norm_gen`` made with ``scipy.stats.norm``'s parameters.
        self._by_class_method: dict[tuple[type, object], tuple[object, Rule]] = {}
        self.by_method: dict[str, Rule] = {}
        self.by_array_api_name: dict[str, Rule] = {}
        self._nondiff_objects: dict[int, object] = {}
        self.nondiff_methods: set[str] = set()
        self.nondiff_attributes: set[str] = set()
        # Rule tables registered when the library they cover is first imported (see :func:`defer`):
        # library module -> the rule module to (re)run then.
        self.deferred: dict[str, str] = {}

    @property
    def by_object(self) -> dict[int, tuple[object, Rule]]:
        """``id(primal) -> (primal, rule)`` for every rule, deferred tables of imported libraries included."""
        if self.deferred:
            self.load_deferred()
        return self._by_object

    @property
    def nondiff_objects(self) -> dict[int, object]:
        if self.deferred:
            self.load_deferred()
        return self._nondiff_objects

    def primals(self) -> list[tuple[object, Rule]]:
        """``(primal, rule)`` for every rule, deferred tables of imported libraries included; a rule of one
        object's method is listed under that method, bound again (equal, not identical, to a user's
        ``scipy.stats.norm.logpdf``: compare them with :func:`primal_key`)."""
        return list(self.by_object.values()) + [(types.MethodType(function, owner), found) for (_, function), (
            owner, found) in self._by_bound_method.items()]

    def rule_for(self, obj) -> Rule | None:
        hit = self._lookup(obj)
        if hit is None and self.deferred and self.load_deferred():
            hit = self._lookup(obj)
        return hit

    def _lookup(self, obj) -> Rule | None:
        if type(obj) is types.MethodType:
            owner, found = self._by_bound_method.get(primal_key(obj), (None, None))
            if owner is obj.__self__:
                return found
            owner, found = self._by_class_method.get((type(obj.__self__), obj.__func__), (None, None))
            return found if owner is not None and _equal_copy(owner, obj.__self__) else None
        hit = self._by_object.get(id(obj))
        return hit[1] if hit is not None and hit[0] is obj else None

    def is_nondiff(self, obj) -> bool:
        if id(obj) not in self._nondiff_objects and self.deferred:
            self.load_deferred()
        return self._nondiff_objects.get(id(obj)) is obj

    def load_deferred(self) -> bool:
        """Register the deferred tables whose library has been imported since; True if any was.

        A function can only hand us a SciPy object once something imported SciPy, so a lookup that
        misses checks here first: the rules are found exactly as if they had been registered eagerly.
        """
        ready = [library for library in self.deferred if library in sys.modules]
        for library in ready:
            table = self.deferred.pop(library, None)  # popped first: the table's own lookups must not re-enter
            if table is None:
                continue
            if table in sys.modules:
                importlib.reload(sys.modules[table])  # its rules sit behind `if library in sys.modules`
            else:
                importlib.import_module(table)
        return bool(ready)


REGISTRY = _Registry()


def _equal_copy(owner, other) -> bool:
    """Whether ``other`` is a copy of ``owner`` made with the same parameters (SciPy's distributions tell
    theirs: ``_updated_ctor_param``, as their frozen copies are made); other objects are never copies."""
    parameters = getattr(owner, "_updated_ctor_param", None)
    if parameters is None or type(other) is not type(owner):
        return False
    try:
        return _without_seed(parameters()) == _without_seed(other._updated_ctor_param())
    except Exception:  # (a parameter that does not compare: not known to be the same)
        return False


def _without_seed(parameters: dict) -> dict:
    # (NaN, SciPy's badvalue, is equal to itself here)
    return {k: "nan" if isinstance(v, float) and v != v else v for k, v in parameters.items() if k != "seed"}


def primal_key(obj):
    """What identifies a primal among the registry's: the object itself (its id), or, for one object's method,
    the object and the function (a new bound method is made at each access)."""
    return (id(obj.__self__), obj.__func__) if type(obj) is types.MethodType else id(obj)


def rule(*primals, methods: tuple[str, ...] = (), array_api: tuple[str, ...] = (), outputs: int = 1,
         static: tuple[str, ...] = (), shape_only: tuple[str, ...] = (), fields: tuple[str, ...] = (),
         sequences: bool = False):
    """Register the decorated ``δname`` function as the derivative rule of each primal.

    Args:
        *primals: the callables this rule differentiates (``np.tanh``, ``math.tanh``, one object's method
            such as ``scipy.stats.norm.logpdf``...). ``None`` entries are skipped, so optional libraries
            can be listed unconditionally.
        methods: array method names with the same semantics (``x.sum(axis=0)`` -> ``"sum"``).
        array_api: function names in an array-API namespace (``xp.tanh`` -> ``"tanh"``).
        outputs: how many values the primal returns (a tuple when more than one).
        static: parameter names that are never differentiated (axes, shapes...).
        shape_only: parameter names read only for their shape or dtype: no partial, but they may be
            differentiated values (the helpers generated pullbacks call, ``rules/pullback_helpers.py``).
        fields: the names of the results where the primal returns a named tuple (``eigh(a).eigenvalues``).
        sequences: list and tuple arguments reach the rule as they are, and its pullback returns a list or
            tuple of partials for them (``scipy.linalg.cho_solve((c, lower), b)``); otherwise the generated
            code passes ``np.asarray`` of such an argument, as NumPy's own functions convert it.

    >>> from autodiffsource import grad
    >>> def cube(x):
    ...     return x ** 3
    >>> @rule(cube)
    ... def δcube(x):
    ...     y = cube(x)
    ...     def cube_pullback(dy):
    ...         return (3 * x * x * dy,)
    ...     return y, cube_pullback
    >>> def f(x):
    ...     return cube(x) + x
    >>> grad(f)(2.0)
    13.0
    """

    def register(delta: Callable) -> Callable:
        primary = next((p for p in primals if p is not None), None)
        name = getattr(primary, "__name__", delta.__name__.lstrip("δ"))
        entry = Rule(delta, name, outputs, static, shape_only, fields, sequences)
        for primal in primals:
            if type(primal) is types.MethodType:  # one object's method: found by the object and function
                REGISTRY._by_bound_method[primal_key(primal)] = (primal.__self__, entry)
                REGISTRY._by_class_method[(type(primal.__self__), primal.__func__)] = (primal.__self__, entry)
            elif primal is not None:
                REGISTRY._by_object[id(primal)] = (primal, entry)
        for method in methods:
            REGISTRY.by_method[method] = entry
        for api_name in array_api:
            REGISTRY.by_array_api_name[api_name] = entry
        delta.rule = entry
        return delta

    return register


def nondiff(*objects) -> None:
    """Declare callables whose results never carry a derivative (constants to the differentiator).

    >>> from autodiffsource import grad
    >>> def label(x):
    ...     return float(round(x))
    >>> nondiff(label)
    >>> def g(x):
    ...     return x * label(x)
    >>> grad(g)(2.2)
    2.0
    """
    for obj in objects:
        if obj is not None:
            REGISTRY._nondiff_objects[id(obj)] = obj


def defer(library: str, table: str) -> None:
    """Register rule module ``table`` only once module ``library`` is imported (by anyone).

    For libraries that are slow to import (SciPy: about 0.3 s): ``table`` guards its rules with
    ``if library in sys.modules`` and calls ``defer`` otherwise; the registry re-runs it at the first
    lookup that misses after ``library`` is imported.
    """
    if library in sys.modules:
        raise ValueError(f"{library} is already imported: register {table}'s rules now")
    REGISTRY.deferred[library] = table


def nondiff_methods(*names: str) -> None:
    """Declare array methods whose results are constants (``x.argmax()``, ``x.astype(bool)``...)."""
    REGISTRY.nondiff_methods.update(names)


def nondiff_attributes(*names: str) -> None:
    """Declare array attributes that are constants (``x.shape``, ``x.ndim``, ``x.dtype``...)."""
    REGISTRY.nondiff_attributes.update(names)
