"""Which array library an array belongs to, and what that library can and cannot do.

Contract: the one place that knows array libraries by name. :data:`BACKENDS` is a table with one
:class:`Backend` entry per library: how to recognise its arrays (the top-level module of the array's
type), where its special functions live, and how to scatter-add (``buffer[index] += g`` with repeated
indices adding up). Runtime helpers (``runtime.index_add``, ``runtime.finalize``) and the SciPy rules
(through :data:`special`) ask this module; nothing else names a library. Everything else about an array
is reached through its array-API namespace (``array_api_compat.array_namespace``), so a new array-API
library (a real ArrayFire, say) needs one table entry here and no other change.

NumPy arrays and Python numbers never reach the table: callers test ``type(x) is np.ndarray`` first,
so the NumPy path pays one type check. Imports of optional libraries happen on first use only.

ArrayFire, the seed's GPU backend, is listed but marked unavailable: its Python packages on the registry
ship without the ArrayFire library itself, and its ``__array_namespace__`` is a stub today, so an
ArrayFire array cannot be differentiated here. Once it implements the array API, flipping ``available``
and naming its special-function module is all it takes.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os

import numpy as np

from .errors import ADError

_ndarray = np.ndarray
_FAST_TYPES = (float, int, bool, _ndarray)  # handled by NumPy / SciPy directly


@dataclasses.dataclass(frozen=True)
class Backend:
    """One array library: how to recognise it and the few things the array API does not cover.

    Attributes:
        name: the library's name as users know it.
        modules: top-level modules of its array types (``type(x).__module__`` up to the first dot).
        special: modules holding its special functions (``erf``, ``gammaln``...), tried in order;
            empty means "SciPy's array-API mode handles it" (``SCIPY_ARRAY_API=1``).
        scatter: how ``buffer[index] += g`` with repeated integer indices is done: ``add_at``
            (``np.add.at``), ``cupy_add_at`` (``cupy.add.at``), ``index_put`` (torch
            ``index_put_(accumulate=True)``), ``at`` (JAX ``.at[].add``), ``bincount`` (Dask, lazily),
            ``onehot`` (any array-API library: a one-hot matrix product, O(k·n) memory).
        mutable: arrays support ``__setitem__`` (JAX's do not).
        lazy: operations build a graph; nothing is computed until the user asks (Dask).
        available: whether arrays of this library can be differentiated here at all.
        note: why a library is unavailable, or its known quirks (shown by :func:`describe`).
    """

    name: str
    modules: tuple[str, ...]
    special: tuple[str, ...] = ()
    scatter: str = "onehot"
    mutable: bool = True
    lazy: bool = False
    available: bool = True
    note: str = ""


BACKENDS: tuple[Backend, ...] = (
    Backend("numpy", ("numpy",), special=("scipy.special",), scatter="add_at"),
    Backend("cupy", ("cupy",), special=("cupyx.scipy.special",), scatter="cupy_add_at",
            note="GPU; tests marked `gpu` run on it when CUDA is present."),
    Backend("torch", ("torch",), special=("torch.special",), scatter="index_put",
            note="float32 by default; no negative-step slices (use xp.flip)."),
    Backend("jax", ("jax", "jaxlib"), special=("jax.scipy.special",), scatter="at", mutable=False,
            note="float32 unless JAX_ENABLE_X64=1; value-and-grad functions run under jax.jit."),
    Backend("dask", ("dask",), scatter="bincount", lazy=True,
            note="lazy: partials are Dask arrays, computed by whatever scheduler the user picks."),
    Backend("array_api_strict", ("array_api_strict",), scatter="onehot",
            note="the standard and nothing more: the CI guard against NumPy-only assumptions."),
    Backend("arrayfire", ("arrayfire",), special=("arrayfire",), scatter="onehot", available=False,
            note="The registry's ArrayFire Python packages ship without the ArrayFire library and their "
                 "__array_namespace__ is a stub, so ArrayFire arrays cannot be differentiated yet; "
                 "a conforming release needs only available=True here."),
)

GENERIC = Backend("array-api", (), scatter="onehot", note="any other library implementing the array API")

_BY_MODULE = {m: b for b in BACKENDS for m in b.modules}
_by_type: dict[type, Backend] = {}


class BackendError(ADError, TypeError):
    """An array library that cannot be used here, or a computation that left the array's library."""


def backend_of(x) -> Backend:
    """The :class:`Backend` entry for the library ``x`` belongs to (cached per type).

    >>> import numpy as np
    >>> backend_of(np.zeros(2)).name, backend_of(np.zeros(2)).scatter
    ('numpy', 'add_at')
    """
    t = type(x)
    hit = _by_type.get(t)
    if hit is None:
        hit = _BY_MODULE.get(t.__module__.partition(".")[0], GENERIC)
        _by_type[t] = hit
    if not hit.available:
        raise BackendError(f"cannot differentiate {hit.name} arrays", hint=hit.note)
    return hit


def describe() -> str:
    """One line per backend: name, whether it is importable here, and its note."""
    lines = []
    for b in BACKENDS:
        installed = importlib.util.find_spec(b.modules[0]) is not None
        status = "unavailable" if not b.available else ("installed" if installed else "not installed")
        lines.append(f"{b.name:18s} {status:14s} {b.note}")
    return "\n".join(lines)


# ---- special functions -------------------------------------------------------------------------------

# Names a backend spells differently, or computes from others (torch has lgamma but no gamma).
_ALIASES = {
    "torch": {"psi": "digamma"},
    "jax": {"psi": "digamma"},
}


def _torch_gamma(x):
    import torch

    # Gamma from log|Gamma|: negative between an odd and the next even negative integer.
    sign = torch.where((x > 0) | (torch.floor(x) % 2 == 0), 1.0, -1.0).to(x.dtype)
    return sign * torch.exp(torch.lgamma(x))


def _cupy_polygamma(n, x):
    import cupy
    import cupyx.scipy.special

    # cupyx's polygamma picks digamma where its order is 0 with cupy.where, which refuses the Python bool
    # that a Python int order compares to (digamma's partial is polygamma(1, x)): the order as an array.
    return cupyx.scipy.special.polygamma(cupy.asarray(n), x)


def _torch_with_tensor_shape(name: str):
    """torch.special's ``name(a, x)`` (gammainc, gammaincc) with a number ``a`` made a tensor like ``x``:
    torch refuses a number there, where SciPy and JAX take one (``gammainc(2.5, x)``)."""
    def call(a, x):
        import torch

        fn = getattr(torch.special, name)
        if not isinstance(a, torch.Tensor):
            a = torch.as_tensor(a, dtype=x.dtype, device=x.device)
        return fn(a, x)

    return call


_COMPOSITES = {("torch", "gamma"): _torch_gamma, ("cupy", "polygamma"): _cupy_polygamma,
               ("torch", "gammainc"): _torch_with_tensor_shape("gammainc"),
               ("torch", "gammaincc"): _torch_with_tensor_shape("gammaincc")}


# ---- special functions from the array API, for libraries without their own -----------------------------
# SciPy's array-API mode computes these by a round trip through NumPy (its result is a NumPy array, or a copy
# back: never on a GPU), so a library whose special module lacks them gets them from its own elementwise
# functions, with SciPy's formulas.

def _array_namespace(x):
    from array_api_compat import array_namespace

    return array_namespace(x)


def _log_expit(x):
    # SciPy's (special/_logit.h): x - log1p(exp(x)) below 0, -log1p(exp(-x)) from 0 on; exp(-|x|) is either
    xp = _array_namespace(x)
    tail = xp.log1p(xp.exp(-xp.abs(x)))
    return xp.where(x < 0, x - tail, -tail)


def _softplus(x):
    xp = _array_namespace(x)
    return xp.logaddexp(xp.zeros_like(x), x)  # SciPy's: np.logaddexp(0, x)


def _erfcinv(y):
    # SciPy's (cephes): -ndtri(y / 2) / sqrt(2), with ndtri the library's own or SciPy's array-API one
    return -special.ndtri(0.5 * y) * 0.7071067811865476


def _expm1(x):
    return _array_namespace(x).expm1(x)  # SciPy's expm1 is a NumPy ufunc: it would give a NumPy array


def _log1p(x):
    return _array_namespace(x).log1p(x)


_ARRAY_API_COMPOSITES = {"log_expit": _log_expit, "softplus": _softplus, "erfcinv": _erfcinv,
                         "expm1": _expm1, "log1p": _log1p}


def _scipy_function(name: str):
    import scipy.special

    return getattr(scipy.special, name)


def _native_special(backend: Backend, name: str):
    """The backend's own special function ``name``, or None to fall back on SciPy."""
    composite = _COMPOSITES.get((backend.name, name))
    if composite is not None:
        return composite
    name = _ALIASES.get(backend.name, {}).get(name, name)
    for module_name in backend.special:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        fn = getattr(module, name, None)
        if fn is not None:
            return fn
    return None


def _dask_special(name: str):
    def elementwise(*args):
        from dask.array.core import elemwise as dask_elementwise

        # Each chunk goes back through the dispatcher: NumPy chunks to SciPy, CuPy chunks to cupyx.
        return dask_elementwise(getattr(special, name), *args)

    return elementwise


def _scipy_array_api(name: str, backend: Backend):
    fn = _scipy_function(name)
    if os.environ.get("SCIPY_ARRAY_API") != "1":
        def refuse(*args):
            raise BackendError(
                f"scipy.special.{name} on {backend.name} arrays needs SciPy's array-API mode",
                hint="Set the environment variable SCIPY_ARRAY_API=1 before SciPy is imported.")
        return refuse
    return fn


_special_cache: dict[tuple[str, str], object] = {}


def special_for(backend: Backend, name: str):
    """``name`` (a :mod:`scipy.special` function name) implemented for ``backend``'s arrays."""
    key = (backend.name, name)
    fn = _special_cache.get(key)
    if fn is None:
        if backend.name == "numpy":
            fn = _scipy_function(name)
        elif backend.name == "dask":
            fn = _dask_special(name)
        else:
            fn = (_native_special(backend, name) or _ARRAY_API_COMPOSITES.get(name)
                  or _scipy_array_api(name, backend))
        _special_cache[key] = fn
    return fn


class _Special:
    """``special.erf(x)``: SciPy's ``erf`` for NumPy and Python numbers, the backend's own otherwise.

    Rules call special functions through this object so one rule serves every library: torch tensors go
    to ``torch.special``, JAX arrays to ``jax.scipy.special`` (traceable under ``jax.jit``), CuPy arrays to
    ``cupyx.scipy.special``, Dask arrays chunk by chunk, anything else to SciPy's array-API mode.
    """

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        scipy_fn = _scipy_function(name)

        def dispatch(*args):
            for a in args:
                if type(a) not in _FAST_TYPES and not isinstance(a, np.generic):
                    return special_for(backend_of(a), name)(*args)
            return scipy_fn(*args)

        dispatch.__name__ = dispatch.__qualname__ = name
        dispatch.__doc__ = f"scipy.special.{name}, dispatched on the array library of its arguments."
        setattr(self, name, dispatch)  # later lookups skip __getattr__
        return dispatch


special = _Special()


# ---- scatter-add ------------------------------------------------------------------------------------

def _flat_positions(xp, buffer, index):
    """Where each element of ``buffer[index]`` sits in ``buffer`` flattened: the index applied to arange."""
    shape = tuple(buffer.shape)
    n = 1
    for s in shape:
        n *= s
    positions = xp.reshape(xp.arange(n, device=_device(buffer)), shape)[index]
    return positions, n


def _device(x):
    import array_api_compat

    return array_api_compat.device(x)


def _broadcast_like(xp, g, positions, dtype):
    if not hasattr(g, "shape"):
        return xp.full(tuple(positions.shape), g, dtype=dtype, device=_device(positions))
    shape = tuple(positions.shape)
    if tuple(g.shape) != shape and all(n == n for n in shape):  # NaN: Dask sizes known only later
        return xp.broadcast_to(g, shape)
    return g


def _unknown(chunks) -> bool:
    return any(c != c for cs in chunks for c in cs)


def scatter_add(xp, buffer, index, g):
    """``buffer[index] += g`` for an advanced ``index`` (integer arrays: repeats add up); returns the sum.

    ``buffer`` is owned by the caller (mutable backends update it in place).
    """
    how = backend_of(buffer).scatter
    if how == "at":
        return buffer.at[index].add(g)
    if how == "cupy_add_at":
        import cupy

        cupy.add.at(buffer, index, g)
        return buffer
    positions, n = _flat_positions(xp, buffer, index)
    return _scatter_flat(xp, how, buffer, positions, n, g)


def take_add(xp, buffer, indices, axis, g):
    """``buffer`` plus ``g`` scattered back through ``xp.take(buffer, indices, axis=axis)``; repeats add up.

    The portable form of ``x[..., indices, ...]``'s partial: array-api-strict allows integer-array
    indices only alongside other integers, so the positions come from ``take`` on an arange.
    """
    how = backend_of(buffer).scatter
    shape = tuple(buffer.shape)
    if how == "at":
        return buffer.at[(slice(None),) * axis + (indices,)].add(g)
    n = 1
    for s in shape:
        n *= s
    positions = xp.take(xp.reshape(xp.arange(n, device=_device(buffer)), shape), indices, axis=axis)
    if how == "cupy_add_at":
        import cupy

        flat = buffer.reshape(-1)
        cupy.add.at(flat, positions.reshape(-1), xp.broadcast_to(g, positions.shape).reshape(-1))
        return buffer
    return _scatter_flat(xp, how, buffer, positions, n, g)


def _scatter_flat(xp, how, buffer, positions, n, g):
    """``buffer.flat[positions] += g`` with repeats adding up, for the backends without a native form."""
    g = _broadcast_like(xp, g, positions, buffer.dtype)
    if how == "index_put":
        flat = buffer.reshape(-1)  # a view: the owned buffer is contiguous
        flat.index_add_(0, positions.reshape(-1), g.reshape(-1).to(buffer.dtype))
        return buffer
    if how == "add_at":
        np.add.at(buffer.reshape(-1), positions.reshape(-1), g.reshape(-1))
        return buffer
    if how == "bincount":
        import dask.array as da

        positions = positions if positions.ndim == 1 else xp.reshape(positions, (-1,))
        g = g if g.ndim == 1 else xp.reshape(g, (-1,))
        if g.chunks != positions.chunks:
            # bincount pairs weights with positions chunk by chunk. Sizes still unknown on one side
            # only (a mask's result met a cotangent the caller made) must be computed to line up.
            if _unknown(positions.chunks):
                positions = positions.compute_chunk_sizes()
            if _unknown(g.chunks):
                g = g.compute_chunk_sizes()
            g = g.rechunk(positions.chunks)
        sums = da.bincount(positions, weights=g, minlength=n)
        return buffer + xp.reshape(xp.astype(sums, buffer.dtype), tuple(buffer.shape))
    # One-hot product: portable to any array-API library, O(len(positions) * buffer.size) memory.
    positions = xp.reshape(positions, (-1,))
    g = xp.reshape(g, (1, -1))
    onehot = xp.astype(positions[:, None] == xp.arange(n, device=_device(buffer))[None, :], buffer.dtype)
    return buffer + xp.reshape(g @ onehot, tuple(buffer.shape))


# ---- handing partials back --------------------------------------------------------------------------

def owned(g, like=None):
    """``g``, copied if it is a broadcast view, so the user may update the partial in place.

    NumPy does this in ``runtime.finalize``; here the same for the other mutable, eager libraries.
    Immutable (JAX) arrays are returned as they are; lazy (Dask) ones get the chunks of ``like``, the
    input the partial belongs to, so that a parameter update ``x - lr * g`` needs no rechunking.
    """
    backend = backend_of(g)
    if backend.lazy:
        chunks = getattr(like, "chunks", None)
        if chunks is not None and g.chunks != chunks and not _unknown(chunks) and not _unknown(g.chunks):
            return g.rechunk(chunks)
        return g
    if not backend.mutable:
        return g
    if backend.name == "torch":
        if g.numel() > 1 and 0 in g.stride():
            return g.contiguous()
        return g
    if backend.name == "cupy":
        if g.size > 1 and 0 in g.strides:
            return g.copy()
        return g
    if backend.name == "array_api_strict":
        import array_api_strict

        return array_api_strict.asarray(g, copy=True)
    return g
