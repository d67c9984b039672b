"""Shared by every run-time helper: the scalar and array type tables, the array namespace of values,
shapes, devices and default dtypes. No differentiation logic here.
"""

from __future__ import annotations

import numpy as np


_ndarray = np.ndarray
_PY_SCALARS = (float, int, bool)
_CONTAINERS = (list, tuple, dict)
_NUMPY_SCALAR = np.generic
_FLOAT64 = np.float64
_FLOAT32 = np.float32


def namespace(*values):
    """The array namespace of ``values``: NumPy itself when every array is NumPy (or a Python scalar).

    Values that are not arrays (numbers, None, strings, containers) are ignored; arrays from two
    libraries at once are an error (array-api-compat's). NumPy 2.0 lacks array-API names the rules call:
    there it is NumPy completed by array-api-compat's functions for those (see _numpy_namespace).
    """
    for v in values:
        t = type(v)
        if t is _ndarray or t in _PY_SCALARS or v is None or isinstance(v, _NUMPY_SCALAR):
            continue
        return _namespace_of_arrays(values)
    return _NUMPY_NAMESPACE


def _namespace_of_arrays(values):
    import array_api_compat

    from ..backend import backend_of

    arrays = [v for v in values if type(v) is not _ndarray and not isinstance(v, _NUMPY_SCALAR)
              and array_api_compat.is_array_api_obj(v)]
    if not arrays:
        return _NUMPY_NAMESPACE
    backend_of(arrays[0])  # refuses libraries marked unavailable, with the reason
    xp = array_api_compat.array_namespace(*arrays)
    wrapped = _WITH_NUMBERS.get(xp)
    if wrapped is None:
        wrapped = _WITH_NUMBERS[xp] = _NumbersAsNumPyDoes(xp)
    return wrapped


class _NumbersAsNumPyDoes:
    """Another library's array namespace whose elementwise functions and reductions, given no array of
    that library (Python numbers, NumPy scalars and arrays only), compute what NumPy computes.

    The user wrote ``np.tanh(c)``: on a Python float ``c`` that is NumPy's tanh, also where other
    arguments of the function are PyTorch tensors, whose namespace the generated code calls
    (``xp.tanh(c)``), and whose ``tanh`` refuses a float. Every other name is the namespace's own, and a
    call with one of its arrays among the arguments is the namespace's function, as before."""

    def __init__(self, xp):
        self._xp = xp

    def __getattr__(self, name: str):
        if name == "_xp":  # (an instance made without __init__, by copy or pickle)
            raise AttributeError(name)
        if name in ("median", "trapezoid"):  # (not in the standard; torch's are other functions, other arguments)
            found = getattr(self, "_" + name)
            setattr(self, name, found)  # (looked up once: later reads find it in the instance)
            return found
        own = getattr(self._xp, name)
        numpy_function = getattr(np, name, None)
        found = own
        if name == "where":
            found = self._where(own)
        elif callable(own) and (isinstance(numpy_function, np.ufunc) or name in _REDUCTIONS):
            def found(*args, **kwargs):
                for a in args:
                    if not _numpy_or_number(a):
                        return own(*args, **kwargs)
                return numpy_function(*args, **kwargs)

            found.__name__ = name
        setattr(self, name, found)  # (looked up once per name: later reads find it in the instance)
        return found

    def _where(self, own):
        """``where(condition, x, y)``: NumPy's when neither the condition nor a value is the library's array;
        else the library's, with a condition that is a Python or NumPy bool (or NumPy array) made its array on
        the values' device, as NumPy would convert the values (torch's where refuses a bool condition:
        ``np.where(flag, x, 0.0)``)."""
        def where(condition, *values, **kwargs):
            arrays = [v for v in values if not _numpy_or_number(v)]
            if not arrays:
                if _numpy_or_number(condition):
                    return np.where(condition, *values, **kwargs)
                if len(values) == 2 and all(type(v) in _PY_SCALARS for v in values):
                    # where(z <= 0.0, 0.0, 1.0): array-api-strict refuses two numbers (NumPy, torch take them)
                    import array_api_compat

                    values = (self._xp.asarray(values[0], device=array_api_compat.device(condition)), values[1])
                return own(condition, *values, **kwargs)
            if _numpy_or_number(condition):
                import array_api_compat

                condition = self._xp.asarray(condition, device=array_api_compat.device(arrays[0]))
            return own(condition, *values, **kwargs)

        return where

    def _median(self, x, axis=None, keepdims=False):
        """NumPy's ``median`` (the mean of the two middle values of an even count) where the standard has none:
        NumPy's own for what NumPy's functions hand on (Dask's, CuPy's arrays) or compute (numbers), else the
        middle of the library's sort along the axes moved last."""
        if _numpy_or_number(x) or dispatches_numpy(x):
            return np.median(x, axis=axis, keepdims=keepdims)
        xp, ndim = self._xp, x.ndim
        axes = tuple(range(ndim)) if axis is None else tuple(a % ndim for a in ((axis,) if type(axis) is int
                                                                                 else axis))
        lanes = lanes_last(xp, x, axes)[0]
        ordered, n = xp.sort(lanes, axis=-1), lanes.shape[-1]
        middle = ordered[..., (n - 1) // 2] if n % 2 else (ordered[..., n // 2 - 1] + ordered[..., n // 2]) / 2
        if keepdims:
            return xp.reshape(middle, tuple(1 if a in axes else x.shape[a] for a in range(ndim)))
        return middle

    def _trapezoid(self, y, x=None, dx=1.0, axis=-1):
        """NumPy's ``trapezoid``, ``sum(diff(x) * (y[1:] + y[:-1]) / 2)`` along ``axis`` in NumPy's order of
        operations, with the library's functions (NumPy's own for what NumPy's functions hand on or compute)."""
        if (_numpy_or_number(y) or dispatches_numpy(y)) and (x is None or _numpy_or_number(x) or dispatches_numpy(x)):
            return np.trapezoid(y, x=x, dx=dx, axis=axis)
        import array_api_compat

        xp, ax = self._xp, axis % y.ndim
        lead = (slice(None),) * ax
        heights = y[lead + (slice(1, None), Ellipsis)] + y[lead + (slice(None, -1), Ellipsis)]
        if x is None:
            steps = dx
        else:
            x = x if array_api_compat.is_array_api_obj(x) and not _numpy_or_number(x) else xp.asarray(
                x, device=array_api_compat.device(y))
            steps = xp.diff(x, axis=ax if x.ndim > 1 else 0)
            if x.ndim == 1:  # (1-D sample points along the axis)
                steps = xp.reshape(steps, tuple(y.shape[ax] - 1 if i == ax else 1 for i in range(y.ndim)))
        return xp.sum(steps * heights / 2.0, axis=ax)

    def __repr__(self) -> str:
        return f"<{self._xp.__name__}, NumPy on numbers>"


def lanes_last(xp, x, axes):
    """``x`` with ``axes`` moved last and flattened into one, in ``xp``: ``(lanes, order, kept_shape)``, the
    lanes of shape ``(*kept_shape, n)`` and ``order`` (the kept axes, then ``axes``) for :func:`lanes_back`."""
    ndim = len(x.shape)
    kept = [a for a in range(ndim) if a not in axes]
    order = kept + list(axes)
    kept_shape = tuple(x.shape[a] for a in kept)
    moved = xp.permute_dims(x, tuple(order)) if order != list(range(ndim)) else x
    return xp.reshape(moved, kept_shape + (-1,)), order, kept_shape


def lanes_back(xp, g, shape, order):
    """Undo :func:`lanes_last` for ``g`` shaped like its lanes: an array of ``shape``, the original's."""
    g = xp.reshape(g, tuple(shape[a] for a in order))
    if order == list(range(len(order))):
        return g
    return xp.permute_dims(g, tuple(sorted(range(len(order)), key=order.__getitem__)))  # (the inverse order)


def _numpy_or_number(a) -> bool:
    return type(a) in _PY_SCALARS or type(a) is _ndarray or isinstance(a, _NUMPY_SCALAR)


_WITH_NUMBERS: dict = {}
_REDUCTIONS = frozenset({"sum", "prod", "mean", "max", "min", "std", "var", "where"})


class _NumPyWithArrayAPINames:
    """NumPy's namespace, completed with array-api-compat's functions for the array-API names it lacks.

    Contract: a name NumPy has is NumPy's own object, so calls with Python numbers and every result are what
    ``np.<name>`` gives (array-api-compat's wrappers refuse numbers: its ``sign`` reads ``x.dtype``); only a
    name NumPy lacks (``cumulative_sum`` and ``cumulative_prod`` in NumPy 2.0), or has in a narrower form than
    the standard (_narrower_than_the_standard), is array-api-compat's. ``numpy`` is the module to complete (a
    test may hand in one with names taken out)."""

    def __init__(self, numpy=np):
        import array_api_compat.numpy

        self._numpy = numpy
        self._compat = array_api_compat.numpy
        self._narrower = _narrower_than_the_standard(numpy)

    def __getattr__(self, name: str):
        if name in ("_numpy", "_compat", "_narrower"):  # (an instance made without __init__, by copy or pickle)
            raise AttributeError(name)
        found = None if name in self._narrower else getattr(self._numpy, name, None)
        if found is None:
            found = getattr(self._compat, name)
        setattr(self, name, found)  # (looked up once per name: later reads find it in the instance)
        return found

    def __repr__(self) -> str:
        return f"<numpy {self._numpy.__version__}, with array-api-compat's functions for the names it lacks>"


def _narrower_than_the_standard(numpy) -> frozenset:
    """The names NumPy has in a narrower form than the array-API standard: NumPy 2.0's ``astype`` takes arrays
    only, where partials pass it NumPy scalars too (``xp.astype(a > b, dtype)`` with ``a`` an ``np.float64``),
    as the standard and NumPy 2.1 allow."""
    try:
        numpy.astype(numpy.bool_(True), numpy.float64)
    except TypeError:
        return frozenset({"astype"})
    return frozenset()


# The newest array-API functions that rules call as ``xp.<name>`` on NumPy values: NumPy has them from 2.1 on.
_NEWEST_ARRAY_API_NAMES = ("cumulative_sum", "cumulative_prod")


def _numpy_namespace(numpy=np):
    """The namespace ``namespace`` and ``_xp`` give NumPy values: NumPy itself where it has every array-API name
    the rules call, in the standard's form (NumPy 2.1 on), NumPy completed by array-api-compat in NumPy 2.0
    (_NumPyWithArrayAPINames)."""
    if all(hasattr(numpy, name) for name in _NEWEST_ARRAY_API_NAMES) and not _narrower_than_the_standard(numpy):
        return numpy
    return _NumPyWithArrayAPINames(numpy)


_NUMPY_NAMESPACE = _numpy_namespace()


_add_reduce = np.add.reduce


def sum_of(x, axis=None, dtype=None, keepdims=False):
    """``np.sum(x, axis=axis, dtype=dtype, keepdims=keepdims)``; for an ndarray, the add reduction that
    ``np.sum`` itself ends in, without its two Python layers of argument handling (two microseconds of
    a small gradient): the same call, so the same result to the bit."""
    if type(x) is _ndarray:
        return _add_reduce(x, axis, dtype, None, keepdims)
    return np.sum(x, axis=axis, dtype=dtype, keepdims=keepdims)


_DOT_MIN = 1  # elements (a knob for tests: above any size, the sums are NumPy's own, to the bit)
_FLOAT64_DTYPE = np.dtype(np.float64)
_dot = np.dot


def sum_of_squares(*terms):
    """``np.sum(w1 * u1 ** 2 + u2 ** 2 + ...)`` for terms ``(w1, u1)`` (a weight written in the source) and
    ``u2`` (weight one: no multiplication): what ``sum_of`` of that expression returns.

    When every ``u`` is a float64 ndarray and all have one shape (so the sum of the terms is the sum of
    their sums: nothing broadcasts), each sum of squares is a dot product ``u . u``: one read of ``u`` where
    the expression writes the squares, reads them back to weight and add them, and reads the result again
    to sum it (W1 at n=10^6: the forward pass's eight passes over memory become five, three of them reads
    only; at n=10^3 the call takes 2.7 µs instead of 6). The dot rounds in BLAS's blocked order instead of
    NumPy's pairwise one: the same accuracy in float64, a few units in the last place apart (float32 keeps
    the pairwise sum, which is more accurate there than a float32 dot). Every other case computes the
    expression itself, to the bit.
    """
    flat = []
    for term in terms:
        weight, u = term if type(term) is tuple else (None, term)
        if type(u) is not _ndarray or u.dtype is not _FLOAT64_DTYPE or u.size < _DOT_MIN \
                or u.shape != _term_array(terms[0]).shape:
            break
        if u.ndim != 1:
            if not (u.flags.c_contiguous or u.flags.f_contiguous):
                break  # flattening would copy it: no pass saved
            u = u.ravel(order="K")
        flat.append((weight, u))
    else:
        total = None
        for weight, u in flat:
            square_sum = _dot(u, u)
            square_sum = square_sum if weight is None else weight * square_sum
            total = square_sum if total is None else total + square_sum
        return total
    value = None
    for term in terms:
        weight, u = term if type(term) is tuple else (None, term)
        if type(weight) is int and weight == -1 and value is not None:
            value = value - u ** 2  # `a - u ** 2` as written: no pass to negate the squares
            continue
        square = u ** 2 if weight is None else weight * u ** 2
        value = square if value is None else value + square
    return sum_of(value)


def _term_array(term):
    return term[1] if type(term) is tuple else term


def shape_of(x) -> tuple:
    """``x.shape``, with ``()`` for Python scalars."""
    if type(x) in _PY_SCALARS:
        return ()
    return tuple(x.shape)


def _xp(a):
    if type(a) is _ndarray or isinstance(a, _NUMPY_SCALAR):
        return _NUMPY_NAMESPACE  # (NumPy itself from 2.1 on)
    import array_api_compat

    return array_api_compat.array_namespace(a)


def _device(x):
    import array_api_compat

    return array_api_compat.device(x)


def _default_float(xp, x):
    """The floating dtype a partial of a non-float array takes: float64, where the device has it."""
    try:
        return xp.__array_namespace_info__().default_dtypes(device=_device(x))["real floating"]
    except (AttributeError, TypeError):
        return xp.float64


def dispatches_numpy(x) -> bool:
    """Whether NumPy's functions hand ``x`` to its own library (``__array_function__``: CuPy's arrays,
    Dask's), so that ``np.cumsum(x)`` runs there, on its device. NumPy's own arrays and scalars, torch's
    and JAX's arrays do not."""
    t = type(x)
    return t is not _ndarray and t not in _PY_SCALARS and hasattr(t, "__array_function__") \
        and not isinstance(x, (_ndarray, _NUMPY_SCALAR))


def as_array(x, dtype=None):
    """``np.asarray(x, dtype)`` in a NumPy-surface helper, except that an array NumPy's functions dispatch
    (see dispatches_numpy) stays itself, cast to ``dtype``: the helper's ``np.moveaxis``, ``np.cumsum``...
    then run where the user's ``np.cumsum(x)`` ran, where NumPy would refuse (CuPy) or compute (Dask)."""
    if dispatches_numpy(x):
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    return np.asarray(x, dtype=dtype)


def number_if_0d(r):
    """A NumPy 0-d array as its NumPy scalar, what NumPy's ufuncs give for numbers (``np.where`` gives a
    0-d array): CuPy's arrays meet NumPy scalars in arithmetic but refuse NumPy's arrays, 0-d ones too."""
    return r[()] if type(r) is _ndarray and r.ndim == 0 else r


def is_foreign_array(x) -> bool:
    """Whether ``x`` is an array of a library other than NumPy (rules use it to leave NumPy-only paths)."""
    t = type(x)
    if t is _ndarray or t in _PY_SCALARS or t in _CONTAINERS or isinstance(x, _NUMPY_SCALAR):
        return False
    import array_api_compat  # torch tensors and Dask arrays have no __array_namespace__ of their own

    return array_api_compat.is_array_api_obj(x)


def _is_array_api_obj(y) -> bool:
    import array_api_compat

    return array_api_compat.is_array_api_obj(y)
