"""Helpers that generated code and rules call by name: shapes, broadcasting, cotangents, partials.

Contract: every helper works on Python scalars, NumPy arrays and any array-API array (through
``array_api_compat``), never mutates an argument it does not own, and keeps dtypes. NumPy and Python
scalars take a fast path first: these run once per operation, so each costs as little as a branch.
"""

from __future__ import annotations

import numbers

import numpy as np

from .errors import CotangentError, NonDifferentiableInputError

_ndarray = np.ndarray
_PY_SCALARS = (float, int, bool)
_CONTAINERS = (list, tuple, dict)
_NUMPY_SCALAR = np.generic
_FLOAT64 = np.float64


# ---- namespaces -------------------------------------------------------------------------------------

def namespace(*values):
    """The array namespace of ``values``: NumPy itself when every array is NumPy (or a Python scalar).

    Values that are not arrays (numbers, None, strings, containers) are ignored; arrays from two
    libraries at once are an error (array-api-compat's). NumPy 1.x lacks some array-API names, so
    there it is array-api-compat's NumPy wrapper.
    """
    for v in values:
        t = type(v)
        if t is _ndarray or t in _PY_SCALARS or v is None or isinstance(v, _NUMPY_SCALAR):
            continue
        return _namespace_of_arrays(values)
    return _NUMPY_NAMESPACE


def _namespace_of_arrays(values):
    import array_api_compat

    from .backend import backend_of

    arrays = [v for v in values if type(v) is not _ndarray and not isinstance(v, _NUMPY_SCALAR)
              and array_api_compat.is_array_api_obj(v)]
    if not arrays:
        return _NUMPY_NAMESPACE
    backend_of(arrays[0])  # refuses libraries marked unavailable, with the reason
    return array_api_compat.array_namespace(*arrays)


def _numpy_namespace():
    if int(np.__version__.split(".")[0]) >= 2:
        return np
    import array_api_compat.numpy

    return array_api_compat.numpy


_NUMPY_NAMESPACE = _numpy_namespace()


def shape_of(x) -> tuple:
    """``x.shape``, with ``()`` for Python scalars."""
    if type(x) in _PY_SCALARS:
        return ()
    return tuple(x.shape)


# ---- broadcasting ----------------------------------------------------------------------------------

def unbroadcast(g, x):
    """Sum the cotangent ``g`` down to the shape of ``x`` (undo NumPy broadcasting of ``x``)."""
    tx = type(x)
    if tx in _PY_SCALARS:
        if type(g) in _PY_SCALARS:
            return g
        gs = g.shape
        if gs == ():
            return g
        return _xp(g).sum(g)
    if tx in _CONTAINERS:
        return g  # a container's cotangent is a container of the same structure
    gshape = getattr(g, "shape", ())
    try:
        xshape = x.shape
    except AttributeError:  # not a number or array (a Fraction, an object): finalize refuses it by name
        return g
    if gshape == xshape:
        return g
    return _sum_to_shape(g, tuple(xshape))


def _sum_to_shape(g, shape: tuple):
    if type(g) in _PY_SCALARS:
        # A scalar cotangent for an array input: every element received it.
        return g
    xp = _xp(g)
    gshape = tuple(g.shape)
    lead = len(gshape) - len(shape)
    if lead < 0:
        # Fewer axes than the target (a 0-d cotangent standing for a full array): it broadcasts to the
        # shape already, with nothing to sum; the caller broadcasts it where it needs the full array.
        return g
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1
    )
    if axes:
        g = xp.sum(g, axis=axes, keepdims=True)
    if lead:
        g = xp.reshape(g, shape)
    return g


def _xp(a):
    if type(a) is _ndarray or isinstance(a, _NUMPY_SCALAR):
        return np
    import array_api_compat

    return array_api_compat.array_namespace(a)


def expand_reduced(dy, x, axis, keepdims):
    """Broadcast the cotangent of a reduction over ``axis`` back to the shape of ``x``."""
    if axis is None and type(x) is _ndarray and x.ndim:
        # NumPy fast path for a full reduction (sum, mean...): the same read-only zero-stride view
        # np.broadcast_to returns, made directly; broadcast_to costs several elementwise ops (issue 6).
        if type(dy) in _PY_SCALARS:
            base = np.asarray(dy, dtype=x.dtype)
        elif type(dy) is _ndarray and dy.ndim == 0 or isinstance(dy, _NUMPY_SCALAR):
            base = np.asarray(dy)
        else:
            base = None
        if base is not None:
            view = _ndarray(x.shape, base.dtype, base, 0, (0,) * x.ndim)
            view.flags.writeable = False
            return view
    xshape = shape_of(x)
    if xshape == ():
        return dy
    xp = _xp(x)
    if type(dy) in _PY_SCALARS or isinstance(dy, _NUMPY_SCALAR):
        # An array first: torch's and strict's expand_dims take no Python numbers.
        if type(x) is _ndarray:
            dy = np.asarray(dy, dtype=x.dtype if x.dtype.kind == "f" else np.float64)
        else:
            dtype = x.dtype if xp.isdtype(x.dtype, "real floating") else _default_float(xp, x)
            dy = xp.asarray(float(dy), dtype=dtype, device=_device(x))
    if not keepdims and axis is not None:
        axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
        ndim = len(xshape)
        for a in sorted(a % ndim for a in axes):
            dy = xp.expand_dims(dy, axis=a)
    if any(n != n for n in xshape):  # Dask after boolean indexing: sizes unknown until computed
        return xp.zeros_like(x, dtype=dy.dtype) + dy
    return xp.broadcast_to(dy, xshape)


def reduced_count(x, axis) -> int:
    """How many elements a reduction over ``axis`` combines into each result."""
    xshape = shape_of(x)
    if axis is None:
        return int(np.prod(xshape)) if xshape else 1
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    return int(np.prod([xshape[a] for a in axes]))


# ---- indexing ---------------------------------------------------------------------------------------

def zeros_like(x):
    """A fresh zero cotangent shaped like ``x`` (float, whatever ``x``'s dtype)."""
    if x is None:  # a variable not yet bound on this path (loop-carried `return` slot): no cotangent
        return None
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


def _device(x):
    import array_api_compat

    return array_api_compat.device(x)


def _default_float(xp, x):
    """The floating dtype a partial of a non-float array takes: float64, where the device has it."""
    try:
        return xp.__array_namespace_info__().default_dtypes(device=_device(x))["real floating"]
    except (AttributeError, TypeError):
        return xp.float64


def _is_basic_index(index) -> bool:
    parts = index if type(index) is tuple else (index,)
    for p in parts:
        if p is None or p is Ellipsis or type(p) is slice or isinstance(p, numbers.Integral):
            continue
        return False
    return True


def index_add(buffer, index, g):
    """``buffer[index] += g`` with repeated integer indices adding up; returns ``buffer``.

    ``buffer`` must be owned by the generated code (a fresh zero array), never a user's array.
    """
    if type(buffer) is _ndarray:
        if type(index) is slice or _is_basic_index(index):
            buffer[index] += g
        else:
            np.add.at(buffer, index, g)
        return buffer
    if type(buffer) in _PY_SCALARS:
        raise CotangentError("cannot index into a scalar cotangent")
    if type(buffer) is list or type(buffer) is dict:
        if type(index) is slice:
            for i, part in zip(range(*index.indices(len(buffer))), g):
                buffer[i] = add_cotangents(buffer[i], part)
        else:
            buffer[index] = add_cotangents(buffer[index], g)
        return buffer
    from .backend import backend_of, scatter_add

    backend = backend_of(buffer)
    if not backend.mutable:
        padded = _padded_into(buffer, index, g)
        if padded is not None:
            return buffer + padded
        return buffer.at[index].add(g)  # JAX: functional update, traceable under jit
    if _is_basic_index(index):
        # A basic index selects each element at most once: plain read-add-write is exact.
        if backend.lazy and _has_newaxis(index):
            # Dask's __setitem__ refuses None: drop the new axes from the index and from g alike.
            index = tuple(p for p in index if p is not None) if type(index) is tuple else ()
            g = _xp(buffer).reshape(g, tuple(buffer[index].shape))
        buffer[index] = buffer[index] + g
        return buffer
    return scatter_add(_xp(buffer), buffer, index, g)


def _padded_into(buffer, index, g):
    """``g`` zero-padded to ``buffer``'s shape at ``index`` (slices of step 1 only), else None.

    For immutable arrays (JAX): ``buffer + pad(g)`` is what JAX's own gradient of a slice compiles
    to, and XLA fuses it with the sum; ``buffer.at[index].add(g)`` compiles to a scatter, slower on
    large arrays (issue 6: W1 at n=10^6 under jax.jit).
    """
    parts = index if type(index) is tuple else (index,)
    shape = tuple(buffer.shape)
    if any(p is Ellipsis for p in parts):  # x[..., 1:]: full slices in the Ellipsis' place
        at = [i for i, p in enumerate(parts) if p is Ellipsis]
        if len(at) > 1:
            return None
        parts = parts[:at[0]] + (slice(None),) * (len(shape) - len(parts) + 1) + parts[at[0] + 1:]
    if len(parts) > len(shape) or any(type(p) is not slice or p.step not in (None, 1) for p in parts):
        return None
    xp = _xp(buffer)
    pad = getattr(xp, "pad", None)
    if pad is None:
        return None
    widths, sliced = [], []
    for axis, n in enumerate(shape):
        start, stop, _ = parts[axis].indices(n) if axis < len(parts) else (0, n, 1)
        if stop <= start:
            return None
        widths.append((start, n - stop))
        sliced.append(stop - start)
    if type(g) in _PY_SCALARS:
        g = xp.asarray(g, dtype=buffer.dtype)
    elif g.dtype != buffer.dtype:
        g = xp.astype(g, buffer.dtype)  # as .at[].add would: the buffer's dtype wins
    return pad(xp.broadcast_to(g, tuple(sliced)), widths)


def _has_newaxis(index) -> bool:
    return index is None or type(index) is tuple and any(p is None for p in index)


def take_any(x, indices, axis=None):
    """``np.take(x, indices, axis)`` on any array library (``axis=None`` takes from ``x`` flattened)."""
    if not is_foreign_array(x):
        return np.take(x, indices, axis=axis)
    xp = _xp(x)
    if axis is None:
        return xp.take(xp.reshape(x, (-1,)), indices, axis=0)
    return xp.take(x, indices, axis=axis)


def is_foreign_array(x) -> bool:
    """Whether ``x`` is an array of a library other than NumPy (rules use it to leave NumPy-only paths)."""
    t = type(x)
    if t is _ndarray or t in _PY_SCALARS or t in _CONTAINERS or isinstance(x, _NUMPY_SCALAR):
        return False
    import array_api_compat  # torch tensors and Dask arrays have no __array_namespace__ of their own

    return array_api_compat.is_array_api_obj(x)


def take_partial_any(dy, x, indices, axis):
    """The partial of ``xp.take(x, indices, axis=axis)`` on any array library: repeated indices add up.

    ``axis=None`` (NumPy's flattened take) takes positions in ``x`` flattened.
    """
    from .backend import take_add

    xp = _xp(x)
    buffer = zeros_like(x)
    if axis is None:
        flat = take_add(xp, xp.reshape(buffer, (-1,)), indices, 0, dy)
        return xp.reshape(flat, tuple(x.shape))
    return take_add(xp, buffer, indices, axis % len(x.shape), dy)


# ---- cotangents and partials ------------------------------------------------------------------------

def seed_cotangent(dy, y, name="output"):
    """The cotangent of a single output: ``None`` means 1 (ones shaped like ``y``); else check its shape."""
    if dy is None and type(y) is _FLOAT64:
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


def _is_array_api_obj(y) -> bool:
    import array_api_compat

    return array_api_compat.is_array_api_obj(y)


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
    from .backend import BackendError, owned

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


# ---- calling user rules ----------------------------------------------------------------------------

def user_partials(result, args: tuple, rule_name: str):
    """Normalise what a user rule's pullback returned into a tuple of one partial per argument in
    ``args``; a None partial (the seed's "no derivative") becomes zeros shaped like its argument."""
    from .errors import RuleContractError

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


# ---- helpers shared by rules -------------------------------------------------------------------------

def power_base_partial(x, y):
    """d(x**y)/dx = y * x**(y-1), defined as 0 where y == 0 (so 0**0 has a finite partial)."""
    if type(y) in _PY_SCALARS:
        if y == 0:
            return 0.0 * x
        return y * x ** (y - 1)
    xp = _xp(y)
    safe = xp.where(y == 0, 1.0, y)
    return xp.where(y == 0, 0.0, safe * x ** (safe - 1))


def sign_of(x):
    """-1, 0 or 1 as ``x`` is negative, zero or positive (abs's subgradient, 0 at 0), keeping ``x``'s kind.

    Arithmetic on comparison results (``(x > 0) * 1.0``) is NumPy-only: the array API refuses
    arithmetic on boolean arrays.
    """
    if type(x) in _PY_SCALARS:
        return float((x > 0) - (x < 0))
    return _xp(x).sign(x)


def log_base(x):
    """log(x) where x > 0 and 0 elsewhere: the exponent's partial of x**y, finite at x <= 0."""
    if type(x) in _PY_SCALARS:
        import math

        return math.log(x) if x > 0 else 0.0
    xp = _xp(x)
    return xp.where(x > 0, xp.log(xp.where(x > 0, x, 1.0)), 0.0)


def matmul_left_partial(dz, x, y):
    """The partial of ``x @ y`` with respect to ``x`` (1-D operands and batches included)."""
    if type(dz) is _ndarray and type(x) is _ndarray and type(y) is _ndarray:
        # NumPy matrices and vectors: the plain expression, no shape bookkeeping (issue 6, W2/W4).
        xd, yd = x.ndim, y.ndim
        if xd == 2 and yd == 2:
            return dz @ y.T
        if xd == 2 and yd == 1:
            return dz[:, None] * y
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
    if type(dz) is _ndarray and type(x) is _ndarray and type(y) is _ndarray and x.ndim == 2 and y.ndim <= 2:
        return x.T @ dz  # NumPy matrix @ matrix or matrix @ vector (issue 6, W2/W4)
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
    array = a if type(a) not in _PY_SCALARS else b
    if type(array) is _ndarray:
        return np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0))
    xp = _xp(array)
    # astype rather than where(cond, 0.5, 0.0): the standard's where takes at most one Python scalar.
    dtype = array.dtype if xp.isdtype(array.dtype, "real floating") else _default_float(xp, array)
    return xp.astype(a > b, dtype) + 0.5 * xp.astype(a == b, dtype)


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
        from .errors import MissingRuleError

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


# ---- cotangents under control flow ------------------------------------------------------------------

def accumulate(d, g):
    """``d + g`` where either may still be None (no contribution yet on this path), or be containers."""
    return add_cotangents(d, g)


def or_zeros(d, like):
    """``d``, or zeros shaped like ``like`` where no cotangent arrived (for rules that need an array)."""
    return zeros_like(like) if d is None else d


# ---- in-place assignment y[index] = v ---------------------------------------------------------------

def take_cotangent(d, index):
    """The cotangent of ``y[index]`` given the cotangent ``d`` of the whole ``y`` (a scalar stays itself).

    For ``y[index] = v`` with an index that repeats a position, NumPy keeps the last write only, so only
    the last occurrence receives the cotangent of that position.
    """
    if type(d) in _PY_SCALARS:
        return d
    part = d[index]
    if type(d) is _ndarray and not _is_basic_index(index):
        positions = np.arange(d.size).reshape(d.shape)[index].ravel()
        if len(np.unique(positions)) != positions.size:
            last = np.zeros(positions.size, dtype=bool)
            _, first_from_end = np.unique(positions[::-1], return_index=True)
            last[positions.size - 1 - first_from_end] = True
            part = part * last.reshape(part.shape)  # positions has one entry per element of part
    return part


def without_index(d, index):
    """A copy of the cotangent ``d`` with ``d[index]`` zeroed: what flows to the value ``y`` had before
    ``y[index] = v`` overwrote that part."""
    if type(d) is _ndarray:
        d = d.copy()
        d[index] = 0
        return d
    if type(d) in _PY_SCALARS:
        raise CotangentError("a scalar cotangent for an array that was assigned into")
    if isinstance(d, list):
        d = list(d)
        d[index] = None  # zero
        return d
    if isinstance(d, dict):
        d = dict(d)
        d[index] = zeros_like(d[index])
        return d
    import array_api_compat

    if array_api_compat.is_jax_array(d):
        return d.at[index].set(0)
    if array_api_compat.is_torch_array(d):
        d = d.clone()
        d[index] = 0
        return d
    xp = _xp(d)
    d = xp.asarray(d, copy=True)
    d[index] = 0
    return d


def copy_value(x):
    """A snapshot of ``x`` before an in-place write, for a pullback that reads the old content."""
    if type(x) is _ndarray:
        return x.copy()
    if isinstance(x, list):
        return list(x)
    if isinstance(x, dict):
        return dict(x)
    if type(x) in _PY_SCALARS:
        return x
    import array_api_compat

    if array_api_compat.is_torch_array(x):
        return x.clone()
    return _xp(x).asarray(x, copy=True)


# ---- methods of user objects -------------------------------------------------------------------------

def method_delta(method, active: tuple):
    """The δ function of a bound method (``self`` constant) or of a plain function, for the given
    activity of its positional arguments; transformed once per (function, activity), then cached."""
    import functools

    from .api import transform

    func, bound_self, mask = method_mask(method, active)
    delta = transform(func, mask)
    return functools.partial(delta, bound_self) if bound_self is not None else delta


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


# ---- containers (lists, tuples, dicts of arrays) ------------------------------------------------------

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


def update_in_place(old, new):
    """What ``a += e`` leaves in ``a``: the same array, changed in place (so every name holding it sees
    the change), or, for numbers and immutable arrays, the new value."""
    if type(old) is _ndarray and old.flags.writeable and np.can_cast(np.result_type(new), old.dtype, "same_kind") \
            and np.shape(new) == old.shape:
        old[...] = new
        return old
    if hasattr(old, "__setitem__") and type(old) not in _CONTAINERS and type(old) is not _ndarray \
            and tuple(getattr(new, "shape", ())) == tuple(getattr(old, "shape", ())):
        from .backend import backend_of

        if backend_of(old).mutable:
            old[...] = new
            return old
    return new


def list_item_cotangent(length: int, index, dy):
    """The cotangent of a list of ``length`` entries read only at ``index``: None (zero) elsewhere."""
    d = [None] * length
    if type(index) is slice:
        for i, part in zip(range(*index.indices(length)), dy):
            d[i] = part
    else:
        d[index] = dy
    return d


def saved_shape(x):
    """What a loop saves of a value its pullback only un-broadcasts against: its shape; None for a
    value not made on this path and for a container (whose cotangent needs no un-broadcasting)."""
    if x is None or type(x) in _CONTAINERS:
        return None
    return shape_of(x)


def unbroadcast_to(g, shape):
    """``unbroadcast`` against a saved shape instead of the array itself (loops keep only the shape)."""
    if shape is None:
        return g
    gshape = () if type(g) in _PY_SCALARS else tuple(getattr(g, "shape", ()))
    if gshape == tuple(shape):
        return g
    if shape == () and type(g) not in _PY_SCALARS:
        return _xp(g).sum(g)
    return _sum_to_shape(g, tuple(shape))


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


# ---- in place on buffers the generated code owns --------------------------------------------------------

_IN_PLACE_MIN = 8192  # elements: below this a new array costs less than the checks


def scale_owned(a, b, c=1):
    """``a * b * c`` for an ``a`` the generated code made and reads no more: on a large NumPy float array
    computed into ``a`` itself while a factor changes neither its shape nor its dtype (no new array, no
    page faults); otherwise, and on every other array library, exactly as written."""
    if type(a) is _ndarray and a.size >= _IN_PLACE_MIN and a.dtype.kind == "f" and a.flags.writeable:
        if _keeps_shape_and_dtype(a, b):
            np.multiply(a, b, out=a)
            if type(c) is int and c == 1:
                return a
            if _keeps_shape_and_dtype(a, c):
                return np.multiply(a, c, out=a)
            return a * c
    return a * b if type(c) is int and c == 1 else a * b * c


def _keeps_shape_and_dtype(a, f) -> bool:
    tf = type(f)
    return tf is float or tf is int or tf is _ndarray and np.promote_types(a.dtype, f.dtype) == a.dtype \
        and (f.shape == a.shape or np.broadcast_shapes(a.shape, f.shape) == a.shape)
