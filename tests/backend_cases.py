"""The gradient suite every array library runs: δ functions in the array-API idiom, and the libraries.

Shared by tests/test_backends.py (CPU libraries), tests/test_gpu.py and scripts/gpu_check.py (CuPy and
torch CUDA). Each case is written once against the standard (``xp = array_namespace(x)``, ``xp.exp``,
``xp.sum(x, axis=0)``, operators, ``@``, slicing with full index tuples) and must give, on every library,
the partials NumPy gives; the NumPy partials are checked against central finite differences
(tests/finite_differences.py, which does not import autodiffsource).
"""

from __future__ import annotations

import dataclasses
import importlib.util
from typing import Callable

import numpy as np
from array_api_compat import array_namespace, device
from scipy import special

import autodiffsource as ad


# ---- the δ functions ----------------------------------------------------------------------------------

def rosenbrock(x):
    xp = array_namespace(x)
    a = x[1:]
    b = x[:-1]
    return xp.sum(100.0 * (a - b * b) ** 2 + (1.0 - b) ** 2)


def rosenbrock_rows(x):
    # Full index tuples: array-api-strict refuses x[:, 1:] written as x[1:] on 2-D arrays.
    xp = array_namespace(x)
    a = x[..., 1:]
    b = x[..., :-1]
    return xp.sum(xp.sum(100.0 * (a - b * b) ** 2 + (1.0 - b) ** 2, axis=1))


def autoencoder(w1, b1, w2, b2, data):
    xp = array_namespace(w1)
    hidden = xp.tanh(w1 @ data + b1)
    decoded = w2 @ hidden + b2
    error = decoded - data
    return xp.mean(xp.sum(error * error, axis=0))


def broadcasting(col, row, vec, s):
    # (3, 1) against (1, 4) against (4,) against a 0-d array.
    xp = array_namespace(col)
    grid = xp.exp(col) * row + vec / (1.0 + col * col) - s * row
    centred = grid - xp.mean(grid, axis=1, keepdims=True)
    return xp.sum(centred * centred) + xp.sum(xp.log(1.0 + row * row) * s)


def softmax_loss(logits, weights):
    # Log-sum-exp with the max subtracted; max ties are part of the rule under test.
    xp = array_namespace(logits)
    z = logits @ weights
    top = xp.max(z, axis=1, keepdims=True)
    shifted = z - top
    logsumexp = xp.log(xp.sum(xp.exp(shifted), axis=1))
    return xp.sum(logsumexp - shifted[..., 0])


def embedding(table, scale):
    # Repeated integer indices: scatter-add must add every repeat, never drop one. (A 1-D table:
    # array-api-strict allows integer-array indices only alongside other integers, not slices.)
    xp = array_namespace(table)
    rows = xp.asarray([0, 2, 0, 1, 2, 0], device=device(table))
    picked = table[rows]
    return xp.sum(xp.sin(picked) * scale) + scale * scale


def embedding_take(table, weights):
    # The same lookup on a 2-D table, written the portable way.
    xp = array_namespace(table)
    rows = xp.asarray([0, 2, 0, 1, 2, 0], device=device(table))
    picked = xp.take(table, rows, axis=0)
    return xp.sum(xp.tanh(picked @ weights))


def special_functions(x):
    xp = array_namespace(x)
    return xp.sum(special.erf(x) * special.gammaln(x + 2.0) + special.erfc(x * 0.5) + special.gamma(x))


def recurrent(w, u, h0, xs):
    xp = array_namespace(w)
    h = h0
    for t in range(xs.shape[1]):
        h = xp.tanh(w @ h + u @ xs[:, t])
    return xp.sum(h * h)


@dataclasses.dataclass
class Case:
    """A δ function, how to make its arguments, and which of them are differentiated."""

    name: str
    fn: Callable
    make_args: Callable[[np.random.Generator], list]
    argnums: tuple[int, ...]


def _uniform(rng, *shape, low=0.2, high=0.9):
    return rng.uniform(low, high, shape)


CASES = [
    Case("rosenbrock", rosenbrock, lambda r: [r.uniform(-1.5, 1.5, 7)], (0,)),
    Case("rosenbrock_rows", rosenbrock_rows, lambda r: [r.uniform(-1.5, 1.5, (3, 5))], (0,)),
    Case("autoencoder", autoencoder,
         lambda r: [r.standard_normal((3, 6)) * 0.5, r.standard_normal((3, 1)), r.standard_normal((6, 3)) * 0.5,
                    r.standard_normal((6, 1)), r.standard_normal((6, 5))], (0, 1, 2, 3)),
    Case("broadcasting", broadcasting,
         lambda r: [r.standard_normal((3, 1)), r.standard_normal((1, 4)), r.standard_normal(4),
                    np.asarray(r.uniform(0.5, 1.5))], (0, 1, 2, 3)),
    Case("softmax_loss", softmax_loss, lambda r: [r.standard_normal((5, 4)), r.standard_normal((4, 3))], (0, 1)),
    Case("embedding", embedding, lambda r: [r.standard_normal(3), 0.7], (0, 1)),
    Case("embedding_take", embedding_take, lambda r: [r.standard_normal((3, 4)), r.standard_normal((4, 2))], (0, 1)),
    Case("special_functions", special_functions, lambda r: [_uniform(r, 6, low=0.3, high=2.5)], (0,)),
    Case("recurrent", recurrent,
         lambda r: [r.standard_normal((3, 3)) * 0.5, r.standard_normal((3, 2)), r.standard_normal(3),
                    r.standard_normal((2, 4))], (0, 1, 2)),
]
CASES_BY_NAME = {c.name: c for c in CASES}


def case_args(case: Case, seed: int = 0) -> list:
    """The case's arguments as NumPy float64 arrays (and Python floats)."""
    return case.make_args(np.random.default_rng(seed))


_references: dict[str, tuple] = {}


def numpy_reference(case: Case):
    """NumPy's ``(value, partials)`` for the case (checked against finite differences in the tests)."""
    if case.name not in _references:
        value, partials = ad.value_and_grad(case.fn, argnums=case.argnums)(*case_args(case))
        _references[case.name] = (value, partials)
    return _references[case.name]


# ---- the array libraries ------------------------------------------------------------------------------

@dataclasses.dataclass
class Library:
    """How the suite makes one library's arrays and reads them back for comparison."""

    name: str
    convert: Callable  # (NumPy array, dtype name) -> the library's array
    to_numpy: Callable
    array_type: Callable[[], type]
    dtype_name: Callable  # the library's array -> "float32" / "float64"

    def __repr__(self) -> str:
        return self.name


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _numpy_library():
    return Library("numpy", lambda a, dt: np.asarray(a, dtype=dt), np.asarray, lambda: np.ndarray,
                   lambda a: str(a.dtype))


def _strict_library():
    import array_api_strict as xps

    return Library("array_api_strict", lambda a, dt: xps.asarray(np.asarray(a, dtype=dt)), np.asarray,
                   lambda: type(xps.asarray(0.0)), lambda a: str(a.dtype))


def _torch_library(device_name="cpu"):
    import torch

    return Library("torch" if device_name == "cpu" else f"torch-{device_name}",
                   lambda a, dt: torch.asarray(np.asarray(a, dtype=dt), device=device_name),
                   lambda a: a.detach().cpu().numpy(), lambda: torch.Tensor,
                   lambda a: str(a.dtype).removeprefix("torch."))


def _jax_library():
    import jax
    import jax.numpy as jnp

    return Library("jax", lambda a, dt: jnp.asarray(np.asarray(a, dtype=dt)), np.asarray, lambda: jax.Array,
                   lambda a: str(a.dtype))


def _dask_library():
    import dask.array as da

    # Chunks of 2 along every axis: each case spans several chunks.
    return Library("dask", lambda a, dt: da.from_array(np.asarray(a, dtype=dt), chunks=2),
                   lambda a: np.asarray(a.compute()), lambda: da.Array, lambda a: str(a.dtype))


def cupy_like_library():
    """NumPy arrays behind CuPy's refusals (tests/cupy_like.py): CuPy's NumPy leaks, found without a GPU."""
    import cupy_like

    return Library("cupy-like", lambda a, dt: cupy_like.asarray(a, dtype=dt), lambda a: a.get(),
                   lambda: cupy_like.CuPyLikeArray, lambda a: str(a.dtype))


def _cupy_library():
    import cupy

    return Library("cupy", lambda a, dt: cupy.asarray(np.asarray(a, dtype=dt)), lambda a: cupy.asnumpy(a),
                   lambda: cupy.ndarray, lambda a: str(a.dtype))


def cpu_libraries() -> list[Library]:
    """Every installed CPU array library (NumPy first)."""
    libs = [_numpy_library()]
    for module, make in [("array_api_strict", _strict_library), ("torch", _torch_library),
                         ("jax", _jax_library), ("dask", _dask_library)]:
        if _installed(module):
            libs.append(make())
    return libs


def gpu_libraries() -> tuple[list[Library], list[str]]:
    """The CUDA libraries usable here, and for each one that is not, the reason."""
    libs, missing = [], []
    if _installed("cupy"):
        try:
            import cupy

            cupy.cuda.runtime.getDeviceCount()
            libs.append(_cupy_library())
        except Exception as e:  # noqa: BLE001  (no driver, no device: the reason is the message)
            missing.append(f"cupy: {type(e).__name__}: {e}")
    else:
        missing.append("cupy: not installed")
    if _installed("torch"):
        import torch

        if torch.cuda.is_available():
            libs.append(_torch_library("cuda"))
        else:
            missing.append(f"torch {torch.__version__}: torch.cuda.is_available() is False")
    else:
        missing.append("torch: not installed")
    if _installed("jax"):
        import jax

        try:
            gpus = jax.devices("gpu")
        except RuntimeError:
            gpus = []
        if gpus:
            libs.append(_jax_gpu_library(gpus[0]))
        else:
            missing.append("jax: no GPU device")
    return libs, missing


def _jax_gpu_library(gpu):
    import jax

    return Library("jax-gpu", lambda a, dt: jax.device_put(np.asarray(a, dtype=dt), gpu), np.asarray,
                   lambda: jax.Array, lambda a: str(a.dtype))


def convert_args(lib: Library, args: list, dtype: str = "float64") -> list:
    """Arrays become ``lib``'s arrays; Python floats stay Python floats."""
    return [a if isinstance(a, float) else lib.convert(a, dtype) for a in args]


def check_against_numpy(lib: Library, case: Case, dtype: str = "float64", rtol: float = 1e-9,
                        atol: float = 1e-11, transform=None):
    """Run ``case`` on ``lib`` and assert value and partials match NumPy's, in ``lib``'s type and dtype.

    ``transform`` wraps the value-and-grad function (``jax.jit``, say). Returns the partials.
    """
    ref_value, ref_partials = numpy_reference(case)
    args = convert_args(lib, case_args(case), dtype)
    value_and_grad = ad.value_and_grad(case.fn, argnums=case.argnums)
    if transform is not None:
        value_and_grad = transform(value_and_grad)
    value, partials = value_and_grad(*args)
    np.testing.assert_allclose(lib.to_numpy(value), ref_value, rtol=rtol, atol=atol, err_msg=f"{case.name} value")
    for k, (num, got, want) in enumerate(zip(case.argnums, partials, ref_partials, strict=True)):
        arg = args[num]
        what = f"{case.name} on {lib.name}: partial {k + 1} (argument {num + 1})"
        if isinstance(arg, float) and transform is None:
            assert type(got) is float, f"{what} is a {type(got).__name__}, expected a Python float"
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)
            continue
        if not isinstance(arg, float):
            assert isinstance(got, lib.array_type()), f"{what} is a {type(got).__name__}, not {lib.name}'s array"
            assert lib.dtype_name(got) == lib.dtype_name(arg), f"{what} has dtype {got.dtype}, input {arg.dtype}"
            assert device(got) == device(arg), f"{what} is on {device(got)}, input on {device(arg)}"
            assert tuple(got.shape) == tuple(arg.shape), f"{what} has shape {got.shape}, input {arg.shape}"
        np.testing.assert_allclose(lib.to_numpy(got), want, rtol=rtol, atol=atol, err_msg=what)
    return partials
