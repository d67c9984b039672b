"""Forward mode and higher derivatives: ``jvp``, ``jacfwd``, ``jacrev``, ``jacobian``, ``hvp``, ``hessian``.

Contract (JAX's signatures and output layouts):

* ``jvp(f, primals, tangents) -> (outputs, output_tangents)`` runs the forward-mode source
  transformation of ``f`` (``transform/forward.py``); read it with ``source(jvp_function(f))``.
* ``jacfwd(f, argnums)`` pushes one basis tangent per input element (one jvp each); ``jacrev(f, argnums)``
  pulls one basis cotangent per output element (one pullback call each). Both return arrays of shape
  ``output.shape + input.shape``. ``jacobian`` picks reverse mode when inputs outnumber outputs ("wide")
  and forward mode otherwise ("tall").
* ``hvp(f)(x, v)`` is the Hessian of a scalar ``f`` times ``v``, exact, by **forward over reverse**:
  ``vjp_function(f)`` writes the gradient as one plain function (forward pass and pullback body, no
  closure), and the forward-mode transformation of *that* function in direction ``v`` is ``H v``. Where
  the gradient code calls a helper without a rule of its own, it falls back to reverse over forward
  (the gradient of the generated jvp function ``x -> ∇f(x)·v``). ``hessian`` stacks ``hvp`` over a basis.
  Reverse over reverse: a function that calls ``δf`` and its pullback can be differentiated again
  (``frontend/pullbacks.py``).
* ``derivative(f)`` is ``f'`` for a scalar function of one scalar as a generated Python function with
  source, so ``grad`` and ``δ`` can differentiate it again (``grad(derivative(f))`` is ``f''``).
"""

from __future__ import annotations

import math

import numpy as np

from .api import _argnums_mask, _positional_params, transform
from .errors import CotangentError, MissingRuleError, UnsupportedSyntaxError
from .rules.registry import nondiff
from .runtime import _device as device_of
from .runtime import namespace, zeros_like
from .transform.flat import vjp_function as flat_vjp_function
from .transform.forward import jvp_transform


def jvp(fn, primals, tangents):
    """``(f(*primals), J·tangents)``, one tangent per positional argument (JAX's ``jax.jvp``).

    A tangent of ``None`` holds that argument constant (an int trip count, a mode flag).

    >>> import numpy as np
    >>> def f(x, y):
    ...     return np.sin(x) * y
    >>> value, slope = jvp(f, (0.0, 2.0), (1.0, 0.0))
    >>> float(value), float(slope)
    (0.0, 2.0)
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    mask = tuple(t is not None for t in tangents)
    result = jvp_transform(fn, mask)(*[t for t in tangents if t is not None], *primals)
    n = len(result) // 2
    outs, touts = result[:n], result[n:]
    if n == 1:
        return outs[0], touts[0]
    return tuple(outs), tuple(touts)


def jvp_function(fn, argnums=0):
    """The generated jvp function ``jvp_f(<tangents of argnums>, *args)`` (its text: ``.__source__``)."""
    mask, _ = _argnums_mask(fn, argnums)
    return jvp_transform(fn, mask)


def _basis(x):
    """Unit tangents shaped like ``x``, one per element, in C order, in ``x``'s library, device and dtype.

    Python numbers get ``1.0``. Arrays get the rows of an identity matrix made by their own array
    namespace (so a CUDA tensor's basis is on its GPU, a JAX tracer's is traced, a Dask one is lazy);
    an integer array gets the library's default float (its tangents are real).
    """
    if not hasattr(x, "shape"):
        yield 1.0
        return
    xp = namespace(x)
    shape = tuple(x.shape)
    size = math.prod(shape)
    if shape == ():
        yield xp.ones((), **_float_like(xp, x))
        return
    eye = xp.eye(size, **_float_like(xp, x))
    for k in range(size):
        yield xp.reshape(eye[k, ...], shape)


def _float_like(xp, x) -> dict:
    """``dtype=`` and ``device=`` keywords for a real array next to ``x`` (x's float dtype, else the default)."""
    dtype = x.dtype if xp.isdtype(x.dtype, "real floating") else None
    return {"dtype": dtype, "device": device_of(x)}


def stack_columns(columns, leading_shape: tuple, x):
    """``columns`` (one per element of ``x``, each of ``leading_shape``) as one array of shape
    ``leading_shape + x.shape``, column k at flat position k of the trailing axes: a Jacobian or Hessian
    from its jvps/hvps, in the columns' array library (NumPy for Python numbers), on their device.

    A scalar ``x`` (no shape) gives its one column back as an array of ``leading_shape``.
    """
    xp = namespace(x, *columns)
    like = next((c for c in columns if hasattr(c, "shape")), x if hasattr(x, "shape") else None)
    keywords = _float_like(xp, like) if like is not None else {}
    arrays = [c if hasattr(c, "shape") else xp.asarray(c, **keywords) for c in columns]
    in_shape = tuple(x.shape) if hasattr(x, "shape") else ()
    if not in_shape and not hasattr(x, "shape"):
        return arrays[0]
    stacked = xp.stack(arrays, axis=-1) if arrays else xp.zeros(tuple(leading_shape) + (0,), **keywords)
    return xp.reshape(stacked, tuple(leading_shape) + in_shape)


def stack_rows(rows, leading_shape: tuple, x):
    """``rows`` (one per element of an output of ``leading_shape``, each shaped like ``x``) as one array
    of shape ``leading_shape + x.shape``: a Jacobian from its pullbacks."""
    xp = namespace(x, *rows)
    like = next((r for r in rows if hasattr(r, "shape")), x if hasattr(x, "shape") else None)
    keywords = _float_like(xp, like) if like is not None else {}
    arrays = [r if hasattr(r, "shape") else xp.asarray(r, **keywords) for r in rows]
    in_shape = tuple(x.shape) if hasattr(x, "shape") else ()
    return xp.reshape(xp.stack(arrays, axis=0), tuple(leading_shape) + in_shape)


def _shape(x) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else ()


def jacfwd(fn, argnums=0):
    """The Jacobian by forward mode: shape ``output.shape + input.shape`` (a tuple for tuple argnums).

    On any array library: the basis tangents and the result are arrays of the input's library,
    device and dtype (a JAX tracer under ``jax.jit`` included).
    """

    def jacfwd_f(*args):
        mask, nums = _argnums_mask(fn, argnums)
        jvp_f = jvp_transform(fn, mask)
        order = sorted(nums)
        blocks = {}
        for a in order:
            columns = []
            for e in _basis(args[a]):
                tangents = [e if b == a else zeros_like(args[b]) for b in order]
                result = jvp_f(*tangents, *args)
                n = len(result) // 2
                columns.append(_single_output(fn, result[n:]))
            blocks[a] = stack_columns(columns, _shape(columns[0]), args[a])
        return blocks[nums[0]] if isinstance(argnums, int) else tuple(blocks[a] for a in nums)

    jacfwd_f.__name__ = f"jacfwd_{fn.__name__}"
    return jacfwd_f


def _single_output(fn, values):
    if len(values) != 1:
        raise ValueError(f"`{fn.__name__}` returns {len(values)} values; jacobians need one output")
    return values[0]


def jacrev(fn, argnums=0):
    """The Jacobian by reverse mode: shape ``output.shape + input.shape`` (a tuple for tuple argnums).

    One pullback call per output element, seeded with the rows of an identity in the output's library.
    """

    def jacrev_f(*args):
        mask, nums = _argnums_mask(fn, argnums)
        outputs = transform(fn, mask)(*args)
        value, pullback = _single_output(fn, outputs[:-1]), outputs[-1]
        order = sorted(nums)
        rows = {a: [] for a in order}
        for e in _basis(value):
            partials = pullback(e)
            partials = partials if len(order) > 1 else (partials,)
            for a, p in zip(order, partials):
                rows[a].append(p if p is not None else zeros_like(args[a]))
        blocks = {a: stack_rows(rows[a], _shape(value), args[a]) for a in order}
        return blocks[nums[0]] if isinstance(argnums, int) else tuple(blocks[a] for a in nums)

    jacrev_f.__name__ = f"jacrev_{fn.__name__}"
    return jacrev_f


def jacobian(fn, argnums=0):
    """``jacrev`` when the inputs have more elements than the output (wide), else ``jacfwd`` (tall).

    >>> import numpy as np
    >>> def f(x):
    ...     return x[:2] * x[1:]
    >>> jacobian(f)(np.array([1.0, 2.0, 3.0])).tolist()
    [[2.0, 1.0, 0.0], [0.0, 3.0, 2.0]]
    """

    def jacobian_f(*args):
        _, nums = _argnums_mask(fn, argnums)
        n_in = sum(math.prod(_shape(args[a])) for a in nums)
        out = fn(*args)
        wide = n_in > math.prod(_shape(out))
        return (jacrev if wide else jacfwd)(fn, argnums)(*args)

    jacobian_f.__name__ = f"jacobian_{fn.__name__}"
    return jacobian_f


def vjp_function(fn, argnums=0):
    """The gradient of ``fn`` as one generated function ``vjp_f(<cotangents>, *args)`` -> partials.

    Its body is ``δf``'s forward pass followed by its pullback's body, with no closure
    (``transform/flat.py``), so it can be differentiated again; read it with ``.__source__``.

    >>> def f(x, y):
    ...     return x * x * y
    >>> vjp_function(f, argnums=(0, 1))(1.0, 3.0, 2.0)
    (12.0, 9.0)
    """
    mask, _ = _argnums_mask(fn, argnums)
    return flat_vjp_function(fn, mask)


def hvp_function(fn, argnums=0):
    """The generated forward-over-reverse function behind ``hvp``:
    ``jvp_vjp_f(v, dy, *args) -> (dy·∇f, dy·H v)``; read it with ``.__source__``."""
    if not isinstance(argnums, int):
        raise TypeError("hvp: argnums must be one int (the argument the Hessian is taken in)")
    n = len(_positional_params(fn))
    mask = tuple(i == argnums % n for i in range(n))
    gradient = flat_vjp_function(fn, mask)
    if gradient.__n_cotangents__ != 1:
        raise ValueError(f"hvp: `{fn.__name__}` returns {gradient.__n_cotangents__} values; it needs one scalar")
    return jvp_transform(gradient, (False,) + mask)


_hvp_plans: dict[tuple, tuple[str, object]] = {}


def _hvp_plan(fn, argnums: int) -> tuple[str, object]:
    """``("forward-over-reverse", jvp of the flat gradient)``, or, where the gradient code calls a helper
    that has no rule of its own yet, ``("reverse-over-forward", the jvp function)``; cached."""
    key = (fn, argnums)
    plan = _hvp_plans.get(key)
    if plan is None:
        try:
            plan = ("forward-over-reverse", hvp_function(fn, argnums))
        except (MissingRuleError, UnsupportedSyntaxError):
            n = len(_positional_params(fn))
            jvp_f = jvp_transform(fn, tuple(i == argnums % n for i in range(n)))
            if jvp_f.__n_outputs__ != 1:
                raise ValueError(f"hvp: `{fn.__name__}` returns {jvp_f.__n_outputs__} values; it needs one scalar")
            plan = ("reverse-over-forward", jvp_f)
        _hvp_plans[key] = plan
    return plan


def hvp(fn, argnums=0):
    """``hvp(f)(*args, v)``: the Hessian of scalar ``f`` in argument ``argnums`` times ``v``.

    Forward over reverse: the jvp, in direction ``v``, of the gradient written as one plain function
    (``vjp_function``), so one transformation of each kind serves every ``v`` and the cost is a small
    multiple of one gradient. Where the gradient code calls a helper without a rule of its own, the
    product is computed reverse over forward instead (the gradient of ``∇f·v``): the same numbers.

    >>> def f(x, y):
    ...     return x * x * y
    >>> hvp(f)(3.0, 2.0, 1.0)   # d²f/dx² = 2y
    4.0
    """
    if not isinstance(argnums, int):
        raise TypeError("hvp: argnums must be one int (the argument the Hessian is taken in)")

    def hvp_f(*args_and_v):
        *args, v = args_and_v
        n = len(_positional_params(fn))
        a = argnums % n
        kind, product = _hvp_plan(fn, a)
        if kind == "forward-over-reverse":
            try:
                _, hv = product(v, 1.0, *args)
            except CotangentError as err:  # the seed 1.0 does not fit an array output
                raise ValueError(f"hvp: `{fn.__name__}` returns an array; it needs a scalar") from err
            return hv
        # product(v, *args) -> (f, ∇f·v); differentiate it in args[a] with v and the rest constant.
        mask = (False,) + tuple(i == a for i in range(n))
        try:
            reverse = transform(product, mask)
        except MissingRuleError as refusal:
            refusal.add_note(f"hvp differentiates the forward-mode code of `{fn.__name__}` again (print it with "
                             "jvp_function(f).__source__); a rule without a forward form there is called through "
                             "its pullback, which has first derivatives only.")
            raise
        value, slope, pullback = reverse(v, *args)
        if np.ndim(value) != 0:
            raise ValueError(f"hvp: `{fn.__name__}` returns an array of shape {np.shape(value)}; it needs a scalar")
        return pullback(None, 1.0)

    hvp_f.__name__ = f"hvp_{fn.__name__}"
    return hvp_f


def hessian(fn, argnums=0):
    """The Hessian of scalar ``f`` in argument ``argnums``: shape ``x.shape + x.shape`` (one hvp per element).

    >>> import numpy as np
    >>> def f(x):
    ...     return x[0] ** 2 * x[1]
    >>> hessian(f)(np.array([1.0, 3.0])).tolist()
    [[6.0, 2.0], [2.0, 0.0]]
    """
    product = hvp(fn, argnums)

    def hessian_f(*args):
        a = argnums % len(_positional_params(fn))
        x = args[a]
        columns = [product(*args, e) for e in _basis(x)]
        if not hasattr(x, "shape"):
            return float(columns[0])
        return stack_columns(columns, _shape(x), x)  # in x's array library, device and dtype

    hessian_f.__name__ = f"hessian_{fn.__name__}"
    return hessian_f




# ---- grad(grad(f)) -------------------------------------------------------------------------------------

_derivatives: dict[tuple, object] = {}


def derivative_function(fn, argnums=0):
    """``f'`` in argument ``argnums`` (a scalar) as a generated Python function with source.

    ``grad(grad(f))`` differentiates this function: its body calls ``f``'s generated jvp function with
    the unit tangent, which the reverse engine can differentiate again (reverse over forward).

    >>> def f(x):
    ...     return x ** 3
    >>> d = derivative_function(f)
    >>> d(2.0)
    12.0
    >>> from autodiffsource import grad
    >>> grad(d)(2.0)
    12.0
    """
    if not isinstance(argnums, int):
        raise TypeError("grad(grad(f)) needs one int argnums: a second derivative in one scalar argument")
    if getattr(fn, "__autodiffsource_grad_of__", None) is not None:  # grad(grad(grad(f))): f'' first
        fn = derivative_function(*fn.__autodiffsource_grad_of__)
    key = (fn, argnums)
    if key in _derivatives:
        return _derivatives[key]
    import linecache
    import os

    from .api import _has_varargs
    from .source import parse_function

    if _has_varargs(fn):
        raise TypeError(f"grad(grad({fn.__name__})): functions with *args are not supported here")
    params = _positional_params(fn)
    a = argnums % len(params)
    jvp_f = jvp_transform(fn, tuple(i == a for i in range(len(params))))
    jvp_name = jvp_f.__name__
    name = f"d_{fn.__name__}_d{params[a]}"
    call_args = ", ".join(params)
    text = (f"def {name}({call_args}):\n"
            f"    _value, _slope = {jvp_name}(_unit_tangent({params[a]}), {call_args})\n"
            f"    return _slope\n")
    parsed = parse_function(fn)
    filename = f"<derivative {os.path.basename(parsed.file)}:{parsed.first_line} {fn.__qualname__} {name}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {jvp_name: jvp_f, "_unit_tangent": _unit_tangent, "__builtins__": __builtins__}
    exec(compile(text, filename, "exec"), namespace)
    derivative = namespace[name]
    derivative.__source__ = text
    _derivatives[key] = derivative
    return derivative


def _unit_tangent(x):
    if np.ndim(x) != 0:
        raise ValueError(f"grad(grad(f)) takes the second derivative in a scalar argument; got shape "
                         f"{np.shape(x)} (use hessian(f) or hvp(f) for arrays)")
    return 1.0


nondiff(_unit_tangent)  # the unit tangent is a constant to both modes (third derivatives and up)


__all__ = ["jvp", "jvp_function", "vjp_function", "hvp_function", "jacfwd", "jacrev", "jacobian", "hvp", "hessian",
           "derivative_function"]
