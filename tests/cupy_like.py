"""A NumPy-backed array that refuses what CuPy refuses, so that CuPy's failures show up without a GPU.

CuPy's arrays take part in NumPy's functions (``np.cumsum(x)`` runs CuPy's cumsum, through
``__array_function__`` and ``__array_ufunc__``), but they refuse two things NumPy's own arrays and Dask's
accept, and both are easy for a partial to do by accident:

- a NumPy array, of any dimension, beside them in arithmetic or in a function's arguments
  (``TypeError: Unsupported type <class 'numpy.ndarray'>``): a partial that built a constant with ``np.eye``
  or made a 0-d array of a number with ``np.asarray`` fails on the GPU;
- becoming a NumPy array implicitly (``np.asarray(x)``: ``TypeError: Implicit conversion to a NumPy array
  is not allowed``): a partial that ran NumPy's code on the argument fails too.

NumPy scalars (``np.float64(2.0)``) and Python numbers are accepted, as CuPy accepts them; NumPy arrays used
as indices or written into an array with ``x[i] = v`` are accepted too (CuPy copies them over), and
``xp.asarray`` of one is the explicit transfer. Functions give arrays, never NumPy scalars: CuPy's reductions
give 0-d arrays. Everything is computed by NumPy on the wrapped array, so results are NumPy's to the bit.

It refuses the keywords of NumPy 2 that CuPy's linear algebra lacks (``svd``'s and ``pinv``'s ``hermitian``,
``cholesky``'s ``upper``). This is not CuPy: it has every NumPy function where CuPy lacks some (``vecdot``,
``linalg.vector_norm``), and it says nothing about devices, streams or kernels. It catches the family of GPU
failures that the CPU libraries cannot: a NumPy array leaking into a partial of an array NumPy's functions
dispatch. scripts/gpu_check.py runs the real thing.
"""

from __future__ import annotations

import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin


class CuPyLikeArray(NDArrayOperatorsMixin):
    """One NumPy array behind CuPy's refusals (see the module's docstring)."""

    # ``_array``, as array-api-strict names its NumPy array: the run-time helpers that tell a view from a copy
    # (runtime.writes_into, copy_if_view) look through it as they look through strict's arrays; for CuPy's
    # own they ask cupy.may_share_memory.
    __slots__ = ("_array",)
    __hash__ = None

    def __init__(self, array: np.ndarray):
        self._array = np.asarray(array)

    # ---- what CuPy refuses ----------------------------------------------------------------------------

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct "
                        "a NumPy array explicitly. (cupy_like)")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
        if out is not None:  # in place (x += y): the operator returns the array written into
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types_, args, kwargs):
        refused = _KEYWORDS_CUPY_LACKS.get(func, set()) & set(kwargs)
        if refused or (func is np.linalg.pinv and kwargs.get("rcond", 0.0) is None):
            raise TypeError(f"{func.__name__}() got an unexpected keyword argument {sorted(refused) or 'rcond=None'}"
                            " (cupy_like: CuPy's function has no such keyword)")
        # CuPy's functions copy NumPy index arrays over (np.take(x, np.array([0, 2])) runs), not others.
        return _wrap(func(*_unwrap(args, allow_indices=True), **_unwrap(kwargs, allow_indices=True)))

    def __array_namespace__(self, api_version=None):
        return NAMESPACE

    # ---- the array's own surface ----------------------------------------------------------------------

    def get(self) -> np.ndarray:
        """The NumPy copy, as CuPy's ``.get()`` (the explicit way back to the host)."""
        return self._array.copy()

    @property
    def device(self):
        return "cpu"  # (array-api-compat's NumPy namespace takes this device; there is no other here)

    def __getattr__(self, name):
        if name.startswith("__"):  # (__array_interface__ and the like would hand NumPy the data)
            raise AttributeError(name)
        value = getattr(self._array, name)
        if callable(value):
            return lambda *args, **kwargs: _wrap(value(*_unwrap(args, allow_indices=True),
                                                       **_unwrap(kwargs, allow_indices=True)))
        return _wrap(value)

    def __getitem__(self, key):
        return _wrap(self._array[_unwrap(key, allow_numpy=True)])

    def __setitem__(self, key, value):
        self._array[_unwrap(key, allow_numpy=True)] = _unwrap(value, allow_numpy=True)

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        return (_wrap(row) for row in self._array)

    def __bool__(self):
        return bool(self._array)

    def __float__(self):
        return float(self._array)

    def __int__(self):
        return int(self._array)

    def __index__(self):
        return self._array.__index__()

    def __complex__(self):
        return complex(self._array)

    def __repr__(self):
        return f"cupy_like({self._array!r})"


# NumPy 2's keywords that CuPy 14's functions of the same name lack (its pinv's rcond is a number, not None).
_KEYWORDS_CUPY_LACKS = {np.linalg.svd: {"hermitian"}, np.linalg.pinv: {"hermitian"}, np.linalg.cholesky: {"upper"}}


def _unwrap(value, allow_numpy: bool = False, allow_indices: bool = False):
    """The NumPy arrays behind ``value`` (through tuples, lists and dicts), refusing NumPy's own arrays
    as CuPy does, unless ``allow_numpy`` (indices, values written in, explicit transfers) or, for integer
    and boolean ones, ``allow_indices`` (a function's index arguments)."""
    if isinstance(value, CuPyLikeArray):
        return value._array
    if isinstance(value, np.ndarray) and not allow_numpy and not (allow_indices and value.dtype.kind in "iub"):
        raise TypeError(f"Unsupported type {type(value)} (cupy_like: a NumPy array beside a CuPy-like one)")
    if type(value) in (tuple, list):
        return type(value)(_unwrap(v, allow_numpy, allow_indices) for v in value)
    if type(value) is dict:
        return {k: _unwrap(v, allow_numpy, allow_indices) for k, v in value.items()}
    return value


def _wrap(value):
    """NumPy's result as CuPy gives it: arrays (and NumPy scalars, which CuPy's reductions give as 0-d
    arrays) become CuPy-like arrays, through tuples and named tuples; anything else stays itself."""
    if isinstance(value, (np.ndarray, np.generic)):
        return CuPyLikeArray(np.asarray(value))
    if isinstance(value, tuple):
        items = [_wrap(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if type(value) is list:
        return [_wrap(v) for v in value]
    return value


class _Namespace:
    """array-api-compat's NumPy namespace behind the same refusals: its functions take CuPy-like arrays
    and give them back; ``asarray`` also takes NumPy's arrays (the explicit transfer)."""

    _TRANSFERS = frozenset({"asarray", "from_dlpack"})

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        if isinstance(value, types.ModuleType):  # linalg, fft
            return _Namespace(value)
        if isinstance(value, type) or not callable(value):  # dtypes, constants
            return value
        allow_numpy = name in self._TRANSFERS

        def call(*args, **kwargs):
            return _wrap(value(*_unwrap(args, allow_numpy, True), **_unwrap(kwargs, allow_numpy, True)))

        call.__name__ = name
        return call

    def __repr__(self):
        return "cupy_like namespace"


def _compat_numpy():
    import array_api_compat.numpy

    return array_api_compat.numpy


NAMESPACE = _Namespace(_compat_numpy())


def asarray(array, dtype=None) -> CuPyLikeArray:
    """A CuPy-like array of ``array`` (a NumPy array or anything ``np.asarray`` takes)."""
    return CuPyLikeArray(np.array(array, dtype=dtype))
