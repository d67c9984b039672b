"""Cotangents and partials at the pullback's edges: the seed of an output's cotangent and its checks,
``finalize`` (a partial shaped and typed like its input), zeros, sums that may be None or containers,
copies that keep a caller's cotangent from aliasing a partial, and user rules' partials normalised.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import CotangentError, NonDifferentiableInputError
from .common import (_CONTAINERS, _FLOAT32, _FLOAT64, _NUMPY_SCALAR, _PY_SCALARS, _default_float, _is_array_api_obj,
                     _ndarray, _xp)
from .broadcasting import _sum_to_shape


def zeros_like(x):
    """A fresh zero cotangent shaped like ``x`` (float, whatever ``x``'s dtype)."""
    if x is None or type(x) is str:  # a variable not yet bound on this path (loop-carried `return` slot), or
        return None                    # a label beside numbers in a tuple (`sorted(zip(losses, names))`)
    if type(x) in _PY_SCALARS:
        return 0.0
    if type(x) is _ndarray:
        dtype = x.dtype if x.dtype.kind in "fc" else np.float64
        return np.zeros(x.shape, dtype=dtype)
    if type(x) in _CONTAINERS:
        # Lists and dicts, so the generated code can add into them; finalize restores tuples.
        if type(x) is dict:
            return {k: zeros_like(v) for k, v in x.items()}
        return [zeros_like(v) for v in x]
    if isinstance(x, _NUMPY_SCALAR):
        return 0.0
    xp = _xp(x)
    floating = xp.isdtype(x.dtype, "real floating")
    # zeros_like keeps x's device (a CUDA tensor's zeros stay on the GPU) and Dask's unknown sizes.
    return xp.zeros_like(x, dtype=x.dtype if floating else _default_float(xp, x))


def seed_cotangent(dy, y, name="output"):
    """The cotangent of a single output: ``None`` means 1 (ones shaped like ``y``); else check its shape."""
    if dy is None and (type(y) is _FLOAT64 or type(y) is _FLOAT32):
        return 1.0  # a NumPy sum or mean: the commonest output of all, first
    if type(y) is complex or (type(y) is _ndarray or isinstance(y, _NUMPY_SCALAR)) and y.dtype.kind == "c":
        raise NonDifferentiableInputError(
            f"{name} is complex; autodiffsource differentiates real functions of real inputs only",
            hint="Differentiate real inputs, and return real and imaginary parts as two outputs (z.real, z.imag).")
    if dy is None and type(y) in _CONTAINERS:
        raise CotangentError(f"{name} is a {type(y).__name__}: pass its cotangent, a {type(y).__name__} of the "
                             "same structure, to the pullback")
    if dy is None:
        if type(y) in _PY_SCALARS:
            return 1.0
        if type(y) is _ndarray:
            return np.ones(y.shape, dtype=y.dtype if y.dtype.kind == "f" else np.float64)
        if isinstance(y, _NUMPY_SCALAR):
            return 1.0
        if not _is_array_api_obj(y):  # None, a string, an object: there is no 1 to seed with
            raise CotangentError(f"{name} is of type {type(y).__name__}, not a real number or array",
                                 hint="Return numbers or arrays from a function you differentiate.")
        xp = _xp(y)
        dtype = y.dtype if xp.isdtype(y.dtype, "real floating") else _default_float(xp, y)
        return xp.ones_like(y, dtype=dtype)
    return check_cotangent(dy, y, name)


def check_cotangent(dy, y, name="output"):
    """Raise :class:`CotangentError` unless ``dy`` has the shape of ``y``; ``None`` becomes zeros."""
    if dy is None:
        return zeros_like(y)
    ty = type(dy)
    if type(y) in _CONTAINERS:
        return _check_container_cotangent(dy, y, name)
    if ty in _PY_SCALARS and type(y) in _PY_SCALARS:
        return dy
    if not hasattr(dy, "shape") and not isinstance(dy, numbers.Number):
        # A string or a list for a number: it would fail later, inside the pullback, with a message
        # about strings or shapes (or, for a list times an int, repeat it silently).
        raise CotangentError(f"the cotangent of {name} is a {ty.__name__}, not a number or array",
                             hint="Pass a cotangent shaped exactly like the output it belongs to (None means zero).")
    dshape = () if ty in _PY_SCALARS else tuple(getattr(dy, "shape", ()))
    yshape = () if type(y) in _PY_SCALARS else tuple(getattr(y, "shape", ()))
    if dshape != yshape and not _same_known_shape(dshape, yshape):
        raise CotangentError(
            f"the cotangent of {name} has shape {dshape}, but {name} has shape {yshape}",
            hint="Pass a cotangent shaped exactly like the output it belongs to (None means zero).",
        )
    if ty is complex or getattr(getattr(dy, "dtype", None), "kind", "f") == "c":
        raise CotangentError(f"the cotangent of {name} is complex; only real cotangents are supported")
    return dy


def _same_known_shape(a: tuple, b: tuple) -> bool:
    """Equal shapes where a NaN size (Dask's not-yet-computed lengths) matches any size."""
    return len(a) == len(b) and all(m == n or m != m or n != n for m, n in zip(a, b))


def wrong_cotangent_count(name: str, expected: int, got: int):
    """Raise the error for a pullback called with the wrong number of cotangents."""
    raise CotangentError(
        f"{name} takes {expected} cotangent{'s' if expected != 1 else ''} (one per output), got {got}",
        hint="Call the pullback with one cotangent per output of the δ function, None for zero.",
    )


def finalize(g, x):
    """The partial for input ``x``: same kind, shape and dtype as ``x``; ``None`` (no path) is zero."""
    tx = type(x)
    if tx is _ndarray and type(g) is _ndarray and g.dtype is x.dtype and g.shape == x.shape and \
            g.dtype.kind == "f" and g.flags.writeable:
        return g  # the usual NumPy case: a float array of the input's shape and dtype, ours to hand out
    if tx is float or tx is int:
        if g is None:
            return 0.0
        return float(g)
    if tx is _ndarray:
        kind = x.dtype.kind
        if kind == "c":
            raise _complex_input(x)
        dtype = x.dtype if kind == "f" else np.float64
        if g is None or kind == "b":  # bools are constants: True + True is not a real number's step
            return np.zeros(x.shape, dtype=dtype)
        if type(g) is not _ndarray or g.shape != x.shape:
            g = np.array(np.broadcast_to(_sum_to_shape(g, x.shape) if hasattr(g, "shape") else g, x.shape))
        elif not g.flags.writeable:
            g = g.copy()  # a broadcast view of a cotangent: hand back an array the user may modify
        if g.dtype != dtype:
            g = g.astype(dtype)
        return g
    if isinstance(x, _NUMPY_SCALAR):
        if x.dtype.kind == "c":
            raise _complex_input(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
        return dtype.type(0.0 if g is None or x.dtype.kind == "b" else g)
    if tx is bool:
        return 0.0
    if tx is complex:
        raise _complex_input(x)
    if tx in _CONTAINERS:
        return _finalize_container(g, x)
    return _finalize_array_api(g, x)


def _complex_input(x) -> NonDifferentiableInputError:
    # A real-valued pullback would silently drop the imaginary part (NumPy casts with a warning only).
    return NonDifferentiableInputError(
        f"cannot differentiate with respect to a complex value ({type(x).__name__}): autodiffsource "
        "differentiates real inputs only",
        hint="Split it into real and imaginary parts, or mark this argument constant (δf_constK, or argnums "
        "in grad/value_and_grad).")


def _finalize_array_api(g, x):
    import array_api_compat

    if not array_api_compat.is_array_api_obj(x):
        raise NonDifferentiableInputError(
            f"cannot differentiate with respect to a {type(x).__name__}",
            hint="Differentiate with respect to floats or arrays, or mark this argument constant "
            "(δf_constK, or argnums in grad/value_and_grad).",
        )
    from ..backend import BackendError, owned

    xp = array_api_compat.array_namespace(x)
    floating = xp.isdtype(x.dtype, "real floating")
    dtype = x.dtype if floating else _default_float(xp, x)
    if g is None:
        return xp.zeros_like(x, dtype=dtype)
    if type(g) in _PY_SCALARS or isinstance(g, _NUMPY_SCALAR):
        return xp.full_like(x, float(g), dtype=dtype)  # a Python float: a NumPy scalar would leak NumPy
    if type(g) is _ndarray:
        raise BackendError(
            f"the partial for a {type(x).__module__.partition('.')[0]} array came back as a NumPy array: a rule "
            "on the way computed with NumPy instead of the array's own namespace (a silent round trip)",
            hint="Report the rule; meanwhile call that function through xp (array_namespace(x)), or write a "
                 "δ rule for it next to your function.")
    if tuple(g.shape) != tuple(x.shape):
        g = xp.broadcast_to(_sum_to_shape(g, tuple(x.shape)), tuple(x.shape))
    if g.dtype != dtype:
        g = xp.astype(g, dtype)
    return owned(g, like=x)


def check_input(x, position: int, fname: str):
    """Refuse inputs that cannot be differentiated (complex numbers, strings, objects)."""
    tx = type(x)
    if tx is float or tx is int or tx is _ndarray and x.dtype.kind in "fiub":
        return
    if tx is complex or getattr(getattr(x, "dtype", None), "kind", "") == "c":
        raise NonDifferentiableInputError(
            f"argument {position + 1} of {fname} is complex; autodiffsource differentiates real inputs only",
            hint="Split it into real and imaginary parts, or mark it constant with δ"
            f"{fname}_const{position + 1}.",
        )


def user_partials(result, args: tuple, rule_name: str):
    """Normalise what a user rule's pullback returned into a tuple of one partial per argument in
    ``args``; a None partial (the seed's "no derivative") becomes zeros shaped like its argument."""
    from ..errors import RuleContractError

    nargs = len(args)
    if nargs == 1 and not isinstance(result, tuple):
        result = (result,)
    if not isinstance(result, tuple) or len(result) != nargs:
        got = len(result) if isinstance(result, tuple) else "a single value"
        raise RuleContractError(
            f"the pullback of `{rule_name}` returned {got}, expected {nargs} partials "
            "(one per argument, in order)",
            hint=f"Make the pullback of {rule_name} return a tuple with one entry per argument "
            "(None for arguments without a derivative).",
        )
    if any(p is None for p in result):
        # Only numbers and arrays get zeros; None for a string or an object argument stays None (unused).
        result = tuple(zeros_like(a) if p is None and (type(a) in _PY_SCALARS or hasattr(a, "shape")) else p
                       for p, a in zip(result, args))
    return result


def accumulate(d, g):
    """``d + g`` where either may still be None (no contribution yet on this path), or be containers."""
    return add_cotangents(d, g)


def or_zeros(d, like):
    """``d``, or zeros shaped like ``like`` where no cotangent arrived (for rules that need an array)."""
    return zeros_like(like) if d is None else d


def copy_value(x):
    """A snapshot of ``x`` before an in-place write, for a pullback that reads the old content."""
    if type(x) is _ndarray:
        return x.copy()
    if isinstance(x, list):
        return list(x)
    if isinstance(x, dict):
        return dict(x)
    if type(x) in _PY_SCALARS or x is None or type(x) is tuple:  # (None: a loop's value made on a path not taken)
        return x
    if isinstance(x, _NUMPY_SCALAR):  # immutable; a 0-d copy would be NumPy's array, which CuPy's refuse beside theirs
        return x
    import array_api_compat

    if array_api_compat.is_torch_array(x):
        return x.clone()
    return _xp(x).asarray(x, copy=True)


def copy_if_view(x):
    """``x`` as a loop saves it for its pullback: copied where it is a view of another array (of one the
    loop writes into, whose next iteration would change it), else itself."""
    if type(x) is _ndarray:
        return x.copy() if x.base is not None else x
    if type(x) in _PY_SCALARS or not hasattr(x, "shape"):
        return x
    import array_api_compat

    if array_api_compat.is_torch_array(x):
        return x.clone() if x._base is not None else x
    return copy_value(x) if getattr(x, "base", None) is not None or getattr(x, "_array", None) is not None else x


def add_cotangents(a, b):
    """``a + b`` for cotangents that may be containers (element by element) or None (zero)."""
    if a is None:
        return b
    if b is None:
        return a
    if type(a) is dict:
        return {k: add_cotangents(a[k], b.get(k)) for k in a}
    if type(a) in (list, tuple):
        return [add_cotangents(p, q) for p, q in zip(a, b, strict=True)]
    return a + b


def _finalize_container(g, x):
    if g is None:
        g = zeros_like(x)
    if type(x) is dict:
        return {k: finalize(g.get(k) if type(g) is dict else None, v) for k, v in x.items()}
    parts = [finalize(p, v) for p, v in zip(g, x, strict=True)]
    return tuple(parts) if type(x) is tuple else parts


def _check_container_cotangent(dy, y, name):
    if type(y) is dict:
        if type(dy) is not dict or set(dy) - set(y):
            raise CotangentError(f"the cotangent of {name} must be a dict with keys among {sorted(y)}")
        return {k: check_cotangent(dy.get(k), v, f"{name}[{k!r}]") for k, v in y.items()}
    if type(dy) not in (list, tuple) or len(dy) != len(y):
        raise CotangentError(f"the cotangent of {name} must be a list or tuple of {len(y)} entries")
    return [check_cotangent(d, v, f"{name}[{i}]") for i, (d, v) in enumerate(zip(dy, y))]


def distinct_partials(parts: tuple, cotangents: tuple):
    """``parts`` with every mutable array that is also another partial or one of the caller's
    cotangents replaced by a copy; a single partial comes back on its own, several as a tuple."""
    seen = {id(p) for p in parts}
    if len(seen) == len(parts) and not any(id(c) in seen for c in cotangents):
        # The usual case, all distinct objects: a set of ids tells it at once (issue 6, W2).
        return parts[0] if len(parts) == 1 else tuple(parts)
    out = []
    for p in parts:
        if type(p) not in _PY_SCALARS and not isinstance(p, _NUMPY_SCALAR) and p is not None and (
                any(p is q for q in out) or any(p is c for c in cotangents)):
            p = copy_value(p)
        out.append(p)
    return out[0] if len(out) == 1 else tuple(out)
