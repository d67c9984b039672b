"""The public entry points: ``@δ``, ``δf``/``δf_constK``, ``grad``, ``value_and_grad``, ``vjp``, ``source``.

No transformation logic lives here: :data:`PIPELINE` names the stages and :func:`transform` runs them
once per (function, differentiated-argument mask), caching the result. ``δf`` names are bound as cheap
stubs; the first call transforms and rebinds the module's name to the compiled function itself, so
later calls pay nothing.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import itertools
import numbers
import os
import sys
import threading
import types
import weakref

import numpy as np

from .codegen import emit, load
from .errors import ADError, NoSourceError, UnsupportedSyntaxError
from .frontend import lower
from .frontend.varargs import expand_varargs
from .source import parse_function
from .transform import combined, numpy_branch, reverse, scalar, shapes
from .transform.naming import const_suffix

# transform.reverse ends with transform.tidy and transform.inplace; value_and_grad renders with
# transform.combined (and its transform.numpy_branch) in place of codegen.emit.
PIPELINE = ("source.parse_function", "frontend.lower", "transform.reverse", "transform.scalar", "codegen.emit",
            "codegen.load")

_compiled: dict[tuple, types.FunctionType] = {}
# The tree `@δ` parsed (and checked) for each function not transformed since: its first transform uses it.
_decorator_parses: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# Longer functions are parsed again at their first transform (a millisecond per 50 lines): a kept tree is
# tens of thousands of objects that every garbage collection until then walks (six 1,000-line functions
# decorated in one module: 60-80 ms a collection), for as long as the function is never called.
_KEPT_PARSE_MAX_LINES = 200
_in_progress: set[tuple] = set()
_lock = threading.RLock()
_TRANSFORM_RECURSION_LIMIT = 20_000


# ---- the pipeline ------------------------------------------------------------------------------------

def _positional_params(fn) -> list[str]:
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def delta_name(fn, mask: tuple[bool, ...]) -> str:
    """``δf`` when every argument is differentiated, else ``δf_constK...`` naming the constant ones (1-based)."""
    return f"δ{fn.__name__}{const_suffix(mask)}"


def transform(fn, mask: tuple[bool, ...], pullback_runs_once: bool = False, defer_numbers: bool = False,
              first_arguments: str | None = None):
    """The compiled δ function of ``fn`` differentiating the positional arguments where ``mask`` is True.

    Compiled once per (function, mask) and cached; ``@δ``'s stubs and ``grad`` call this.
    ``pullback_runs_once``: a variant (compiled and cached on its own) whose pullback may be called only
    once, because it scales the forward pass's dead values in place (what ``value_and_grad``'s one
    function, :func:`value_and_grad_function`, is made of). ``defer_numbers``: a variant whose
    Python-number fast path is left out until numbers come: it then calls the plain variant, which has it
    (a δ stub first called with arrays compiles this: the fast path is a fifth of a first call's cost).
    ``first_arguments`` (with ``defer_numbers``): ``"same shapes"`` or ``"any shapes"`` where the first
    call's differentiated arguments were float NumPy arrays: the δ function then holds only NumPy code
    (``numpy_branch.numpy_only``, built assuming shared shapes where those meet in elementwise arithmetic,
    for ``"same shapes"``) and hands any other arguments to the variant without it, compiled when they
    first come. ``"other arrays"`` (another library's, JAX's under ``jax.jit`` among them): the generic
    code, with each buffer's slice writes of one region added one after the other, the order XLA fuses
    best (``tidy._group_scatters``; NumPy's order lets a term scale a cotangent in place instead).

    >>> def f(x, c):
    ...     return x * x * c
    >>> δf_const2 = transform(f, (True, False))
    >>> value, back = δf_const2(3.0, 2.0)
    >>> value, back()
    (18.0, 12.0)
    """
    first_arguments = first_arguments if defer_numbers and first_arguments in _FIRST_KINDS else None
    key = (fn, mask) + (("runs once",) if pullback_runs_once else ()) \
        + (("numbers deferred",) if defer_numbers else ()) \
        + (("first arguments", first_arguments) if first_arguments else ())
    return _compiled_once(key, lambda: _run_pipeline(fn, mask, pullback_runs_once, defer_numbers=defer_numbers,
                                                     first_arguments=first_arguments))


_NUMPY_FIRST = ("same shapes", "any shapes")
_FIRST_KINDS = _NUMPY_FIRST + ("other arrays",)  # (another library's: the slice writes grouped, see ReverseBuilder)


def value_and_grad_function(fn, mask: tuple[bool, ...], defer_numbers: bool = False,
                            first_arguments: str | None = None):
    """``g(*args) -> (value, partials)``: the δ function's forward pass and its run-once pullback's body as
    one function (``transform/combined.py``), compiled once per (function, mask); for a function
    with several outputs, None (``value_and_grad`` then reports that through the δ function).
    ``defer_numbers``: as :func:`transform`'s; Python numbers are then handed to the plain variant.
    ``first_arguments`` (with ``defer_numbers``): the arguments of the first call were float NumPy arrays,
    ``"same shapes"`` or ``"any shapes"``: the function then holds only the NumPy branch (built assuming
    shared shapes where those meet in elementwise arithmetic, for ``"same shapes"``) and hands other
    arguments to the variant without ``first_arguments``, compiled when they first come: a first call
    writes out and compiles one branch instead of two or three. ``"other arrays"`` (another library's):
    the function holds the generic code and hands float NumPy arrays to that variant instead."""
    key = (fn, mask, "value_and_grad") + (("numbers deferred",) if defer_numbers else ()) \
        + (("first arguments", first_arguments) if first_arguments else ())
    return _compiled_once(key, lambda: _run_pipeline(fn, mask, True, flat=True, defer_numbers=defer_numbers,
                                                     first_arguments=first_arguments))


def _compiled_once(key, build):
    """``_compiled[key]``, made by ``build()`` on the first request (one thread builds, the others wait)."""
    hit = _compiled.get(key)
    if hit is not None:
        return hit
    with _lock:  # eight threads calling at once transform once
        if key in _compiled:
            return _compiled[key]
        _in_progress.add(key)
        outermost = len(_in_progress) == 1
        limit = sys.getrecursionlimit()
        if outermost and limit < _TRANSFORM_RECURSION_LIMIT:
            # Lowering recurses per nested expression and per callee transformed through its source: a
            # 400-term sum or a chain of 200 user functions needs more than Python's default 1000 frames.
            sys.setrecursionlimit(_TRANSFORM_RECURSION_LIMIT)
        try:
            with collector_paused():
                compiled = build()
        finally:
            _in_progress.discard(key)
            if outermost and sys.getrecursionlimit() == _TRANSFORM_RECURSION_LIMIT:
                sys.setrecursionlimit(limit)
        _compiled[key] = compiled
        return compiled


@contextlib.contextmanager
def collector_paused():
    """Python's cyclic garbage collector off while a transform runs (and on again after, if it was on).

    A transform makes hundreds of thousands of short-lived AST nodes without reference cycles; each
    full collection walks all of them, so with the collector on a transform's cost grew faster than its
    length (800 statements: 2.9 s, 1.7 s without; issue 6). Nothing a transform makes needs the
    collector: plain reference counting frees it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _resolve_delta(fn, mask: tuple[bool, ...]):
    """For the lowering stage: the δ variant of a callee (lazy while it is itself being transformed)."""
    if (fn, mask) in _in_progress:
        return _stub(fn, mask, delta_name(fn, mask), None), None
    return transform(fn, mask), None


def _run_pipeline(fn, mask: tuple[bool, ...], pullback_runs_once: bool = False, flat: bool = False,
                  defer_numbers: bool = False, first_arguments: str | None = None):
    """The compiled δ function; ``flat``: value_and_grad's one function instead (None: several outputs);
    ``first_arguments``: as :func:`value_and_grad_function`'s and :func:`transform`'s."""
    parsed = _decorator_parses.pop(fn, None) or parse_function(fn)  # the lowering may change the tree: used once
    n_named = len(_positional_params(fn))
    if len(mask) != n_named and not (_has_varargs(fn) and len(mask) > n_named):
        raise ValueError(f"mask {mask} does not match the parameters of {fn.__name__}")
    parsed = expand_varargs(parsed, len(mask) - n_named)  # each extra positional argument: an input
    lowerer = lower.Lowerer(parsed, list(mask), _resolve_delta)
    lowered = lowerer.lower()
    name = delta_name(fn, mask)
    others = numpy_elsewhere = None
    deferring = first_arguments and defer_numbers and scalar.positional_only(parsed.node.args, lowered.params)
    # (the variant with every branch, where a deferring function hands the arguments it has no code for)
    every_branch = functools.partial(value_and_grad_function if flat else transform, fn, mask, defer_numbers=True)
    same_shape = None
    # A δ function first called with float NumPy arrays: NumPy code only, where the rewrite applies.
    numpy_first = deferring and not flat and first_arguments in _NUMPY_FIRST
    generated = _numpy_only(lowered, lowerer.namer, fn, name, pullback_runs_once, first_arguments,
                            _LazyVariant(every_branch)) if numpy_first else None
    other_arrays = first_arguments == "other arrays"  # (then a buffer's slice writes are grouped by region)
    if generated is not None or not flat:
        generated = generated or reverse.ReverseBuilder(lowered, lowerer.namer, fn.__globals__, name,
                                                        pullback_runs_once, scatters_by_region=other_arrays).build()
    elif deferring and not other_arrays:
        # Only the NumPy branch is made: one build, assuming shared shapes if the first call's had them.
        groups, generated = _numpy_first_build(lowered, lowerer.namer, fn, name, pullback_runs_once, first_arguments)
        same_shape = (groups, generated) if groups else None
        others = _LazyVariant(every_branch)
    else:
        builder = reverse.ReverseBuilder(lowered, lowerer.namer, fn.__globals__, name, pullback_runs_once,
                                         scatters_by_region=other_arrays)
        names_before = lowerer.namer.state()
        generated = builder.build()
        if deferring and numpy_branch.operations(lowered) <= numpy_branch.MAX_OPERATIONS:
            # Only the generic code is made; NumPy arrays go to the variant with their branch.
            same_shape, numpy_elsewhere = None, _LazyVariant(every_branch)
        else:
            same_shape = _same_shape_variant(lowered, lowerer.namer, names_before, fn.__globals__, name)
    if defer_numbers and scalar.could_specialise(generated, mask, parsed.node.args):
        plain = functools.partial(value_and_grad_function if flat else transform, fn, mask)
        generated = scalar.deferred(generated, mask, lowerer.namer, _LazyVariant(plain))
    else:
        generated = scalar.specialise(generated, mask, parsed.node.args, lowerer.namer, fn.__globals__)
    signature = _signature_text(parsed.node)
    wrt_names = [p for p, m in zip(lowered.params, mask) if m]
    role = "forward pass"
    if flat:
        if not generated.single_output:
            return None
        name = f"value_and_grad_{fn.__name__}{const_suffix(mask)}"
        text, factory, tree = combined.render(generated, name, signature, wrt_names, lowerer.namer, same_shape,
                                              others, numpy_elsewhere)
        role = "value and gradient"
    else:
        text, factory, tree = emit.render_module(generated, signature, wrt_names)
    filename = f"<δ {os.path.basename(parsed.file)}:{parsed.first_line} {fn.__qualname__} {name}" \
        + _variant_words(pullback_runs_once and not flat, defer_numbers, first_arguments) + ">"
    compiled = load.load(text, factory, fn.__globals__, generated.bindings, filename,
                         user_file=parsed.file, primal=fn.__qualname__, tree=tree, role=role)
    compiled.__source__ = text
    compiled.__autodiffsource_primal__ = fn
    compiled.__wrt__ = mask
    compiled.__qualname__ = name
    return compiled


# A second backward pass: about two fifths more first call. The NumPy branch the build is for is made up
# to the same size (transform/numpy_branch.py).
_SAME_SHAPE_MAX_OPERATIONS = numpy_branch.MAX_OPERATIONS


def _numpy_only(lowered, namer, fn, name: str, pullback_runs_once: bool, first_arguments: str, others):
    """The Generated of a δ function that holds NumPy code only (``numpy_branch.numpy_only``, built
    assuming shared shapes for ``"same shapes"``), or None, with the namer as it found it, where the
    rewrite does not apply."""
    names_before = namer.state()
    groups, built = _numpy_first_build(lowered, namer, fn, name, pullback_runs_once, first_arguments)
    generated = numpy_branch.numpy_only(built, namer, groups, others)
    if generated is None:
        namer.restore(names_before)  # (a build after takes the same names)
    return generated


def _numpy_first_build(lowered, namer, fn, name: str, pullback_runs_once: bool, first_arguments: str):
    """``(groups, Generated)``: the one build of a function first called with float NumPy arrays, assuming
    that the differentiated parameters of each group share a shape where the arrays had one shape."""
    groups = _same_shape_groups(lowered, at_any_length=True) if first_arguments == "same shapes" else ()
    return groups, reverse.ReverseBuilder(lowered, namer, fn.__globals__, name, pullback_runs_once,
                                          assumed_same_shape=groups).build()


def _variant_words(runs_once: bool, defer_numbers: bool, first_arguments: str | None) -> str:
    """What sets a variant's text apart from the plain one's, for its linecache name: every variant's text
    under its own name, or a traceback through one would show the lines of another compiled later."""
    first = {"same shapes": "NumPy arrays of one shape", "any shapes": "NumPy arrays", "other arrays": "other arrays",
             None: "numbers handed on" if defer_numbers else None}[first_arguments]  # (each implies the hand-off)
    return "".join(f" ({word})" for word in ("pullback runs once" if runs_once else None, first) if word)


def _same_shape_variant(lowered, namer, names_before, user_globals: dict, name: str):
    """``(groups, Generated)`` for value_and_grad's same-shape branch, or None.

    The groups: differentiated parameters that meet in elementwise arithmetic (``shapes.elementwise_groups``);
    the Generated: the run-once δ function built again assuming each group shares a shape, so that
    ``(x - y) ** 2`` un-broadcasts nothing and a full sum's cotangent stays a number. Skipped for long
    functions (the second build would cost more than the first call's budget) and where no two
    differentiated parameters meet."""
    groups = _same_shape_groups(lowered)
    if not groups:
        return None
    # Built from the namer as the first build found it, so both branches use the same names (dx, the
    # helpers'); names either build took stay taken for what comes after.
    names_after = namer.state()
    namer.restore(names_before)
    assumed = reverse.ReverseBuilder(lowered, namer, user_globals, name, pullback_runs_once=True,
                                     assumed_same_shape=groups).build()
    taken, counters = namer.state()
    namer.restore((taken | names_after[0], {k: max(counters.get(k, 0), names_after[1].get(k, 0))
                                            for k in counters.keys() | names_after[1].keys()}))
    return groups, assumed


def _same_shape_groups(lowered, at_any_length: bool = False) -> tuple[tuple[str, ...], ...]:
    """The differentiated parameters a same-shape build assumes share a shape (``shapes.elementwise_groups``);
    none for long functions (see ``_SAME_SHAPE_MAX_OPERATIONS``) but ``at_any_length``: for the one
    build of a function first called with NumPy arrays, which is no second copy."""
    if not at_any_length and numpy_branch.operations(lowered) > _SAME_SHAPE_MAX_OPERATIONS:
        return ()
    return shapes.elementwise_groups(lowered, [p for p, m in zip(lowered.params, lowered.wrt) if m])


def _has_varargs(fn) -> bool:
    return any(p.kind is p.VAR_POSITIONAL for p in inspect.signature(fn).parameters.values())


def _signature_text(node) -> str:
    import ast

    return ast.unparse(node.args)


class _LazyVariant:
    """Another variant of a generated function, compiled by ``make()`` on its first call and called from then
    on: what a function hands the arguments it has no code for to (Python numbers, for a ``defer_numbers``
    variant: the plain one, with their fast path; for a ``first_arguments`` δ or value_and_grad function,
    the arguments its NumPy code does not take: the variant with the generic code). ``make`` is a
    ``functools.partial``, not a closure: no reference cycle for the collector to find."""

    __slots__ = ("make", "compiled")

    def __init__(self, make):
        self.make, self.compiled = make, None

    def __call__(self, *args):
        compiled = self.compiled
        if compiled is None:
            compiled = self.compiled = self.make()
        return compiled(*args)


def _first_arguments(args: tuple, mask: tuple[bool, ...]) -> str | None:
    """``"same shapes"`` or ``"any shapes"`` where every differentiated argument came, positionally, as a
    float NumPy array (of one shape, or not); ``"other arrays"`` where each came as something that is
    neither a NumPy array nor a Python number (another library's array); else None (see
    :func:`value_and_grad_function` and :func:`transform`)."""
    arrays = [a for a, m in zip(args, mask) if m]
    if len(args) < len(mask):
        return None
    if all(type(a) is np.ndarray and a.dtype.kind == "f" for a in arrays):
        return "same shapes" if len({a.shape for a in arrays}) == 1 else "any shapes"
    if all(not isinstance(a, (np.ndarray, numbers.Number)) and hasattr(a, "shape") for a in arrays):
        return "other arrays"
    return None


def _all_numbers(args: tuple, mask: tuple[bool, ...]) -> bool:
    """Whether every differentiated argument came, positionally, as a Python float or int."""
    return len(args) >= len(mask) and all(type(a) is float or type(a) is int for a, m in zip(args, mask) if m)


# ---- binding δf names --------------------------------------------------------------------------------

def _stub(fn, mask: tuple[bool, ...], name: str, namespace: dict | None):
    """A stand-in for ``δf...``: transforms on first call, then rebinds ``namespace[name]`` to the result."""

    varargs = _has_varargs(fn)

    def stub(*args, **kwargs):
        if varargs:  # one compiled variant per number of extra arguments, each of them differentiated
            return transform(fn, mask + (True,) * max(0, len(args) - len(mask)))(*args, **kwargs)
        # First called with arrays: the Python-number fast path waits until numbers come (if ever).
        # With float NumPy arrays, so does the generic code for other arguments.
        compiled = transform(fn, mask, defer_numbers=not _all_numbers(args, mask),
                             first_arguments=None if kwargs else _first_arguments(args, mask))
        if namespace is not None and namespace.get(name) is stub:
            namespace[name] = compiled
        if getattr(fn, "δ", None) is stub:  # f.δ too: later calls skip this frame and the cache lookup
            fn.δ = compiled
        return compiled(*args, **kwargs)

    stub.__name__ = stub.__qualname__ = name
    stub.__doc__ = f"Value and pullback of `{fn.__qualname__}` (transformed on first call)."
    stub.__autodiffsource_primal__ = fn
    stub.__wrt__ = mask
    stub.__module__ = fn.__module__
    return stub


def _variant_masks(n: int):
    yield (True,) * n
    for k in range(n):
        yield tuple(i != k for i in range(n))
    if n >= 3:
        for j, k in itertools.combinations(range(n), 2):
            yield tuple(i not in (j, k) for i in range(n))


def δ(fn):
    """Differentiate ``fn``: bind ``δfn`` (value and pullback) beside it, return ``fn`` unchanged.

    Also binds ``δfn_constK`` for each argument K (1-based), and ``δfn_constJ_constK`` for each pair when
    ``fn`` has three or more arguments; these are cheap until first called. Works as a decorator and as a
    plain call on a function from another module (the name is bound in the caller's module).

    >>> import numpy as np
    >>> @δ
    ... def f(x, y):
    ...     return (x + 2 * y) * y ** 2
    >>> z, back = δf(3, 2)
    >>> z, back()
    (28, (4.0, 36.0))
    """
    if not isinstance(fn, types.FunctionType):
        raise _not_a_python_function(fn)
    with collector_paused():  # a long function's tree is tens of thousands of objects (see collector_paused)
        parsed = parse_function(fn)
        lower.fence(parsed)  # unsupported syntax is reported now, at the decorator
    if parsed.node.end_lineno - parsed.node.lineno < _KEPT_PARSE_MAX_LINES:
        _decorator_parses[fn] = parsed  # the first transform takes this tree instead of parsing again
    caller = sys._getframe(1).f_globals
    n = len(_positional_params(fn))
    main = None
    for mask in _variant_masks(n):
        name = delta_name(fn, mask)
        stub = _stub(fn, mask, name, caller)
        caller[name] = stub
        if main is None:
            main = stub
    try:
        fn.δ = main
    except AttributeError:
        pass
    return fn


delta = δ  # the ASCII spelling


def _not_a_python_function(fn) -> NoSourceError:
    from .rules.registry import REGISTRY

    name = getattr(fn, "__name__", type(fn).__name__)
    if REGISTRY.rule_for(fn) is not None:
        hint = (f"`{name}` already has a derivative rule: call it inside a Python function and decorate that "
                "function with @δ.")
    else:
        hint = (f"Write a custom rule `δ{name}(...)` returning (value, pullback) next to the function that "
                f"calls `{name}`; autodiffsource uses it by name.")
    return NoSourceError(f"δ needs a Python function with source; `{name}` is a {type(fn).__name__}", hint=hint)


def source(delta_fn) -> str:
    """The generated Python source of a δ function (``δf``, ``δf_constK``, or ``f.δ``).

    >>> @δ
    ... def square(x):
    ...     return x * x
    >>> text = source(δsquare)
    >>> "def δsquare(x):" in text and "def square_pullback(" in text
    True
    """
    fn = getattr(delta_fn, "__autodiffsource_primal__", None)
    if fn is None:
        fn = getattr(getattr(delta_fn, "δ", None), "__autodiffsource_primal__", None)
        if fn is None:
            raise TypeError(f"{delta_fn!r} is not a δ function made by autodiffsource")
        delta_fn = delta_fn.δ
    return transform(fn, delta_fn.__wrt__).__source__


# ---- JAX-style entry points ----------------------------------------------------------------------------

def _argnums_mask(fn, argnums) -> tuple[tuple[bool, ...], tuple[int, ...]]:
    n = len(_positional_params(fn))
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not -n <= a < n:
            raise ValueError(f"argnums={argnums!r} is out of range for `{fn.__name__}`, which takes {n} "
                             "positional arguments")
    nums = tuple(a % n for a in nums)
    return tuple(i in nums for i in range(n)), nums


_SCALAR_OUTPUTS = (float, np.float64)  # the commonest outputs (Python arithmetic, NumPy's sum): no check needed


def _scalar_check(fn, value):
    shape = getattr(value, "shape", ())
    if tuple(shape) != ():
        raise ADError(
            f"`{fn.__name__}` returns an array of shape {tuple(shape)}; a gradient needs a scalar output",
            hint="Reduce the output (e.g. np.sum), or use vjp(f, *args) with a cotangent of that shape.")


def value_and_grad(fn, argnums=0):
    """``g(*args) -> (value, gradient)``; an int ``argnums`` gives one gradient, a tuple a tuple.

    >>> import numpy as np
    >>> def loss(w, x):
    ...     return np.sum((w * x) ** 2)
    >>> value, dw = value_and_grad(loss)(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    >>> float(value), dw.tolist()
    (73.0, [18.0, 64.0])
    """
    if getattr(fn, "__autodiffsource_grad_of__", None) is not None:  # grad(grad(f)): f' as source (issue 9)
        from .higher import derivative_function

        fn = derivative_function(*fn.__autodiffsource_grad_of__)

    # Set by the first call, which checks argnums and transforms: later calls read neither the signature
    # nor the cache (on Python floats this wrapper's own cost is a quarter of the whole call).
    combined = positions = single = mask = None
    varargs = _has_varargs(fn)

    def value_and_grad_f(*args, **kwargs):
        nonlocal combined, positions, single, mask
        if mask is None:
            mask, nums = _argnums_mask(fn, argnums)
            order = sorted(nums)
            # None: the partials as they come (an int argnums, or several distinct nums in order).
            as_they_come = len(nums) > 1 and list(nums) == order and len(set(nums)) == len(nums)
            positions = None if isinstance(argnums, int) or as_they_come \
                else tuple(order.index(a) for a in nums)
            single = sum(mask) == 1  # one differentiated argument: its partial comes bare
        run = combined
        if run is None:  # *args: one function per count of extra (constant) arguments, looked up per call
            full = mask + (False,) * max(0, len(args) - len(mask)) if varargs else mask
            # First called with arrays: the Python-number fast path waits until numbers come (if ever);
            # with float NumPy arrays, so does the generic code for other arrays.
            run = value_and_grad_function(fn, full, defer_numbers=not _all_numbers(args, full),
                                          first_arguments=None if kwargs else _first_arguments(args, full))
            if run is None:  # several outputs: the δ function's count of them goes in the error
                outputs = transform(fn, full)(*args, **kwargs)
                raise ADError(f"`{fn.__name__}` returns {len(outputs) - 1} values; a gradient needs exactly one",
                              hint="Use vjp(f, *args) for functions with several outputs.")
            if not varargs:
                combined = run
        value, partials = run(*args, **kwargs)
        if type(value) not in _SCALAR_OUTPUTS:
            _scalar_check(fn, value)
        if positions is None:
            return value, partials
        partials = (partials,) if single else partials
        return value, tuple(partials[p] for p in positions)

    value_and_grad_f.__name__ = f"value_and_grad_{fn.__name__}"
    return value_and_grad_f


def grad(fn, argnums=0):
    """``g(*args) -> gradient`` of a scalar-valued ``fn`` (JAX's ``grad``).

    >>> def f(x, y):
    ...     return (x + 2 * y) * y ** 2
    >>> grad(f, argnums=(0, 1))(3.0, 2.0)
    (4.0, 36.0)
    """
    vg = value_and_grad(fn, argnums)

    def grad_f(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    grad_f.__name__ = f"grad_{fn.__name__}"
    grad_f.__autodiffsource_grad_of__ = (fn, argnums)
    return grad_f


def vjp(fn, *args):
    """``(outputs, pullback)`` with ``pullback(*cotangents)`` -> a tuple with a partial per argument (JAX).

    >>> def f(x, y):
    ...     return x * y, x + y
    >>> (p, s), back = vjp(f, 2.0, 5.0)
    >>> back(1.0, 0.0)
    (5.0, 2.0)
    """
    mask = (True,) * len(_positional_params(fn))
    if _has_varargs(fn) and len(args) > len(mask):
        mask = (True,) * len(args)  # each extra positional argument is an input of its own
    if len(args) != len(mask):
        raise TypeError(f"vjp: `{fn.__name__}` takes {len(mask)} positional arguments, got {len(args)}")
    *outputs, pullback = transform(fn, mask)(*args)

    def vjp_pullback(*cotangents):
        partials = pullback(*cotangents)
        return partials if len(mask) > 1 else (partials,)

    return (outputs[0] if len(outputs) == 1 else tuple(outputs)), vjp_pullback


__all__ = ["δ", "delta", "grad", "value_and_grad", "vjp", "source", "transform", "UnsupportedSyntaxError"]
