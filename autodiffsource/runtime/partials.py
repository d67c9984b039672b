"""Partials that rule templates call by name because they take more than an expression: powers and
logarithms defined at the edges of their domains, ``@`` and ``np.dot`` in every rank, tie shares of
max/min, axis permutations, and the δ function of a user object's method.
"""

from __future__ import annotations

import numpy as np

from .common import _PY_SCALARS, _default_float, _ndarray, number_if_0d, _xp, shape_of
from .broadcasting import expand_reduced, unbroadcast


def power_base_partial(x, y):
    """d(x**y)/dx = y * x**(y-1), defined as 0 where y == 0 (so 0**0 has a finite partial). A NumPy scalar
    ``y`` is a number here too: an array NumPy's ``where`` made of it would meet a tensor ``x`` (torch and
    CuPy refuse NumPy's arrays in their arithmetic)."""
    if type(y) in _PY_SCALARS or isinstance(y, np.generic):
        if y == 0:
            return 0.0 * x
        return y * x ** (y - 1)
    xp = _xp(y)
    safe = xp.where(y == 0, 1.0, y)
    return number_if_0d(xp.where(y == 0, 0.0, safe * x ** (safe - 1)))


def sign_of(x):
    """-1, 0 or 1 as ``x`` is negative, zero or positive (abs's subgradient, 0 at 0), keeping ``x``'s kind.

    Arithmetic on comparison results (``(x > 0) * 1.0``) is NumPy-only: the array API refuses
    arithmetic on boolean arrays.
    """
    if type(x) in _PY_SCALARS:
        return float((x > 0) - (x < 0))
    if getattr(x, "dtype", None) == bool:  # a comparison's result (NumPy's abs keeps it): no derivative
        return _xp(x).zeros_like(x, dtype=float)
    return _xp(x).sign(x)


def log_base(x):
    """log(x) where x > 0 and 0 elsewhere: the exponent's partial of x**y, finite at x <= 0."""
    if type(x) in _PY_SCALARS:
        import math

        return math.log(x) if x > 0 else 0.0
    xp = _xp(x)
    return number_if_0d(xp.where(x > 0, xp.log(xp.where(x > 0, x, 1.0)), 0.0))


def matmul_left_partial(dz, x, y):
    """The partial of ``x @ y`` with respect to ``x`` (1-D operands and batches included)."""
    if type(x) is _ndarray and type(y) is _ndarray:
        # NumPy matrices and vectors: the plain expression, no shape bookkeeping (issue 6: W2, W4, and
        # the dot products and matrix-vector products of B2/B3, whose dz may be a number).
        xd, yd = x.ndim, y.ndim
        if xd == 1 and yd == 1:
            return dz * y  # (dz: the product's 0-d cotangent)
        if type(dz) is _ndarray:
            if xd == 2 and yd == 2:
                return dz @ y.T
            if xd == 2 and yd == 1:
                return dz[:, None] * y
            if xd == 1 and yd == 2 and dz.ndim == 1:
                return y @ dz
    xp = _xp(dz) if type(dz) not in _PY_SCALARS else _xp(y)
    xd, yd = len(shape_of(x)), len(shape_of(y))
    if xd == 1 and yd == 1:
        return dz * y
    if xd == 2 and yd <= 2 and type(dz) not in _PY_SCALARS:
        # Other libraries, matrix @ matrix or vector: one contraction with no transposed copy. Under
        # jax.jit, matmul(matrix_transpose(.)) compiles to a transpose XLA materialises (issue 6).
        return xp.tensordot(dz, y, axes=([1], [1]) if yd == 2 else 0)
    if yd == 1:
        return unbroadcast(dz[..., :, None] * y, x)
    if xd == 1:
        return unbroadcast(xp.matmul(y, dz[..., :, None])[..., 0], x)
    return unbroadcast(xp.matmul(dz, xp.matrix_transpose(y)), x)


def matmul_right_partial(dz, x, y):
    """The partial of ``x @ y`` with respect to ``y`` (1-D operands and batches included)."""
    if type(x) is _ndarray and type(y) is _ndarray:  # NumPy matrices and vectors (see left)
        xd, yd = x.ndim, y.ndim
        if xd == 1 and yd == 1:
            return dz * x
        if type(dz) is _ndarray:
            if xd == 2 and yd <= 2:
                return x.T @ dz  # matrix @ matrix or matrix @ vector (W2, W4)
            if xd == 1 and yd == 2 and dz.ndim == 1:
                return x[:, None] * dz
    xp = _xp(dz) if type(dz) not in _PY_SCALARS else _xp(x)
    xd, yd = len(shape_of(x)), len(shape_of(y))
    if xd == 1 and yd == 1:
        return dz * x
    if xd == 2 and yd <= 2 and type(dz) not in _PY_SCALARS:
        return xp.tensordot(x, dz, axes=([0], [0]))  # x.T @ dz without the transposed copy (see left)
    if xd == 1:
        return unbroadcast(x[:, None] * dz[..., None, :], y)
    if yd == 1:
        return unbroadcast(xp.matmul(xp.matrix_transpose(x), dz[..., :, None])[..., 0], y)
    return unbroadcast(xp.matmul(xp.matrix_transpose(x), dz), y)


def where_tie_split(a, b):
    """1 where a > b, 1/2 where a == b, 0 elsewhere: how max(a, b) shares its cotangent with ``a``.

    Ties split the cotangent equally, so max(x, x) has derivative 1 and neither side gets all of it.
    """
    if type(a) in _PY_SCALARS and type(b) in _PY_SCALARS:
        return 1.0 if a > b else (0.5 if a == b else 0.0)
    # Another library's array decides over a NumPy scalar (a CuPy array's share is CuPy's); of NumPy's values
    # alone NumPy's where, a NumPy scalar for numbers (its 0-d array would meet CuPy's cotangent, refused there).
    # The comparisons with that array on the left: a NumPy scalar's own makes a 0-d NumPy array of it first.
    if type(a) not in _PY_SCALARS and not isinstance(a, np.generic):
        array, greater, equal = a, a > b, a == b
    else:
        array, greater, equal = b, b < a, b == a
    if type(array) is _ndarray or type(array) in _PY_SCALARS or isinstance(array, np.generic):
        return number_if_0d(np.where(greater, 1.0, np.where(equal, 0.5, 0.0)))
    xp = _xp(array)
    # astype rather than where(cond, 0.5, 0.0): the standard's where takes at most one Python scalar.
    dtype = array.dtype if xp.isdtype(array.dtype, "real floating") else _default_float(xp, array)
    return xp.astype(greater, dtype) + 0.5 * xp.astype(equal, dtype)


def reduction_extreme_partial(dy, x, y, axis, keepdims):
    """Cotangent of max/min over ``axis``: shared equally among the tied extreme elements."""
    xp = _xp(x) if type(x) not in _PY_SCALARS else np
    if type(x) in _PY_SCALARS:
        return dy
    y_full = expand_reduced(y, x, axis, keepdims)
    hits = xp.astype(x == y_full, x.dtype if xp.isdtype(x.dtype, "real floating") else xp.float64)
    count = xp.sum(hits, axis=axis, keepdims=True) if axis is not None else xp.sum(hits)
    return hits * (expand_reduced(dy, x, axis, keepdims) / count)


def transpose_axes(x, axes):
    """The permutation ``np.transpose(x, axes)`` applies (``None`` reverses the axes)."""
    n = len(shape_of(x))
    if axes is None:
        return tuple(range(n - 1, -1, -1))
    return tuple(a % n for a in axes)


def inverse_permutation(axes):
    """The permutation that undoes ``axes``."""
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return tuple(inverse)


def dot_primal(x, y):
    """``np.dot`` for scalars, vectors and matrices, through ``@`` so every array library can run it."""
    if len(shape_of(x)) == 0 or len(shape_of(y)) == 0:
        return x * y
    if len(shape_of(x)) > 2 or len(shape_of(y)) > 2:
        from ..errors import MissingRuleError

        raise MissingRuleError("np.dot of arrays with more than 2 dimensions has no rule; use np.matmul "
                               "or np.tensordot")
    return x @ y


def dot_left_partial(dz, x, y):
    """The partial of ``np.dot(x, y)`` with respect to ``x``."""
    if len(shape_of(x)) == 0 or len(shape_of(y)) == 0:
        return unbroadcast(dz * y, x)
    return matmul_left_partial(dz, x, y)


def dot_right_partial(dz, x, y):
    """The partial of ``np.dot(x, y)`` with respect to ``y``."""
    if len(shape_of(x)) == 0 or len(shape_of(y)) == 0:
        return unbroadcast(dz * x, y)
    return matmul_right_partial(dz, x, y)


def method_delta(method, active: tuple):
    """The δ function of a bound method (``self`` constant) or of a plain function, for the given
    activity of its positional arguments; transformed once per (function, activity), then cached."""
    import functools

    from ..api import transform

    func, bound_self, mask = method_mask(method, active)
    _refuse_a_library_method(func, bound_self)
    delta = transform(func, mask)
    return functools.partial(delta, bound_self) if bound_self is not None else delta


def _refuse_a_library_method(func, bound_self) -> None:
    """A library's method (found on a constant object only when the code runs) is differentiated by a rule
    found when the function is transformed, never through the library's source: refused, naming it."""
    from ..errors import MissingRuleError
    from ..frontend.calls import _library_function
    from ..frontend.frozen import METHODS

    if not _library_function(func):
        return
    owner = type(bound_self).__name__ if bound_self is not None else func.__module__
    hint = ("Call a function with a rule, or write a rule δ" + func.__name__ + " next to your function.")
    if type(bound_self).__name__.endswith("_frozen") and func.__name__ in METHODS:
        hint = ("A frozen scipy.stats distribution is differentiated where it is made in the function or "
                "the module (`d = stats.norm(mu, s); d.logpdf(x)`); one passed in as an argument, or used "
                "otherwise than by calling its methods, is not: call the distribution's method with its "
                "parameters, `stats.norm.logpdf(x, mu, s)`.")
    raise MissingRuleError(f"no derivative rule for `{owner}.{func.__name__}`, a method of a constant object "
                           "given differentiated arguments", hint=hint)


def method_mask(method, active: tuple):
    """``(function, self or None, mask over the function's positional parameters)`` for a call of
    ``method`` whose given positional arguments are differentiated where ``active`` says so."""
    import inspect

    func = getattr(method, "__func__", method)
    bound_self = getattr(method, "__self__", None)
    params = [p for p in inspect.signature(func).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    lead = (False,) if bound_self is not None else ()
    return func, bound_self, lead + tuple(active) + (False,) * (len(params) - len(lead) - len(active))
