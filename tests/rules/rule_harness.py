"""The machinery behind the generated rule tests: cases, input domains, user functions, the FD oracle.

A :class:`Case` is one small user function (``def f(x, y): return np.add(x, y)``) plus the domain and
shape of each argument and the registry entries it exercises. :func:`make_function` compiles its source
under a ``linecache`` filename so autodiffsource can read it like any file. :func:`numeric_partial` is the
oracle: central finite differences in float64, element by element, of ``<cotangent, f(args)>``; nothing
here imports a rule or a helper from autodiffsource, so a wrong rule cannot pass its own check.
"""

from __future__ import annotations

import dataclasses
import itertools
import linecache
import math
import operator
from typing import Callable

import numpy as np
import scipy.special as special

PY = "py"  # the shape of a Python float argument

# ---- input domains: rng, shape -> float64 values --------------------------------------------------------


def real(rng, shape):
    return rng.uniform(-2.0, 2.0, shape)


def nonzero(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def unit(rng, shape):
    return rng.uniform(-0.8, 0.8, shape)


def above_one(rng, shape):
    return rng.uniform(1.2, 3.0, shape)


def probability(rng, shape):
    return rng.uniform(0.1, 0.9, shape)


def erfc_range(rng, shape):
    return rng.uniform(0.2, 1.8, shape)


def spread(rng, shape):
    """Values at least 0.1 apart (sort, median, max: no ties for the differences to cross)."""
    n = int(np.prod(shape)) if shape else 1
    values = rng.permutation(np.arange(n)) * 0.37 - 0.3 * n / 2 + rng.uniform(0, 0.05, n)
    return values.reshape(shape)


def well_conditioned(rng, shape):
    """Square matrices (batched) safely away from singular."""
    return rng.uniform(-1, 1, shape) + 3.0 * np.eye(shape[-1])


def symmetric_positive(rng, shape):
    """Symmetric positive-definite matrices with well-separated eigenvalues."""
    n = shape[-1]
    q, _ = np.linalg.qr(rng.normal(size=shape))
    w = np.arange(1, n + 1) * 1.0 + rng.uniform(0, 0.3, shape[:-2] + (n,))
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def full_rank(rng, shape):
    """Matrices with well-separated singular values (for svd, qr, pinv, lstsq)."""
    m, n = shape[-2], shape[-1]
    k = min(m, n)
    u, _ = np.linalg.qr(rng.normal(size=shape[:-2] + (m, k)))
    v, _ = np.linalg.qr(rng.normal(size=shape[:-2] + (n, k)))
    s = np.arange(k, 0, -1) * 1.0 + 0.5
    return (u * s) @ np.swapaxes(v, -1, -2)


# ---- cases ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Case:
    """One user function calling a primal, with its arguments' domains and shapes."""

    id: str
    body: str                       # the body after `def f(x, y):`, e.g. "return np.add(x, y)"
    args: tuple                     # (domain, shape) per argument; shape PY is a Python float
    covers: tuple                   # registry keys exercised: primal objects and "method:<name>"
    rtol: float = 1e-5
    float32: bool = True            # also run in float32 (dtype kept, values close to float64)
    step: float = 1e-6              # finite-difference step (relative)

    @property
    def params(self) -> list[str]:
        return ["x", "y", "z", "w"][: len(self.args)]


def _shape_text(shape) -> str:
    return "py" if shape == PY else "x".join(map(str, shape)) or "0d"


def case(body, args, covers, *, name=None, rtol=1e-5, float32=True, step=1e-6) -> Case:
    covers = covers if isinstance(covers, tuple) else (covers,)
    label = name or body.replace("return ", "")
    shapes = ",".join(_shape_text(s) for _, s in args)
    return Case(f"{label}[{shapes}]", body if "return" in body else f"return {body}", tuple(args), covers,
                rtol, float32, step)


SHAPES = [PY, (), (5,), (3, 4)]
PAIRS = [(PY, PY), ((), ()), ((5,), (5,)), ((3, 4), (3, 4)), ((3, 1), (1, 4)), ((3, 4), ()), ((), (4,)),
         (PY, (3, 4)), ((2, 3, 4), (3, 1))]


def unary(call, covers, domain=real, shapes=SHAPES, **kw) -> list[Case]:
    """``call(x)`` over the standard shapes (``call`` is the text before the parenthesis)."""
    return [case(f"{call}(x)", [(domain, s)], covers, **kw) for s in shapes]


def binary(call, covers, dx=real, dy=real, pairs=PAIRS, **kw) -> list[Case]:
    """``call(x, y)`` over same-shape and broadcast pairs, both ways."""
    return [case(f"{call}(x, y)", [(dx, a), (dy, b)], covers, **kw) for a, b in pairs]


def infix(op, covers, dx=real, dy=real, pairs=PAIRS, **kw) -> list[Case]:
    return [case(f"x {op} y", [(dx, a), (dy, b)], covers, **kw) for a, b in pairs]


def reduction(call, covers, domain=real, extra="", zero_d=True, **kw) -> list[Case]:
    """``call(x, axis=..., keepdims=...)`` over the axis/keepdims variants NumPy reductions take."""
    variants = [((5,), ""), ((5,), "axis=0"), ((3, 4), ""), ((3, 4), "axis=0"), ((3, 4), "axis=1"),
                ((3, 4), "axis=-1, keepdims=True"), ((3, 4), "axis=(0, 1)"), ((3, 4), "keepdims=True"),
                ((2, 3, 4), "axis=(0, 2)")]
    if zero_d:
        variants.insert(0, ((), ""))
    out = []
    for shape, kwargs in variants:
        args = ", ".join(a for a in (kwargs, extra) if a)
        out.append(case(f"{call}(x{', ' + args if args else ''})", [(domain, shape)], covers, **kw))
    return out


def each_dtype(cases: list[Case]):
    """(case, dtype) pairs: float64 always, float32 where the case allows."""
    for c in cases:
        yield c, np.float64
        if c.float32 and any(s != PY for _, s in c.args):
            yield c, np.float32


# ---- user functions -------------------------------------------------------------------------------------

_counter = itertools.count()


def make_function(source_body: str, params: list[str], globals_: dict) -> Callable:
    """A real Python function with readable source (registered in linecache), as a user writes one."""
    name = f"f_{next(_counter)}"
    lines = [f"def {name}({', '.join(params)}):"] + ["    " + line.strip() for line in source_body.split("\n")]
    text = "\n".join(lines) + "\n"
    filename = f"<rule case {name}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = dict(globals_)
    exec(compile(text, filename, "exec"), namespace)
    return namespace[name]


def draw_inputs(c: Case, seed: int) -> list:
    rng = np.random.default_rng(seed)
    values = []
    for domain, shape in c.args:
        if shape == PY:
            values.append(float(domain(rng, ())))
        else:
            values.append(np.asarray(domain(rng, shape), dtype=np.float64))
    return values


# ---- the oracle -----------------------------------------------------------------------------------------

def as_outputs(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def pairing(f, args, cotangents) -> float:
    outs = as_outputs(f(*args))
    return sum(float(np.sum(np.asarray(o, dtype=np.float64) * c)) for o, c in zip(outs, cotangents, strict=True))


def numeric_partial(f, args, i, cotangents, step=1e-6):
    """d<cotangents, f(args)>/d args[i] by central differences in float64, shaped like ``args[i]``."""
    a = args[i]
    if isinstance(a, float):
        h = step * max(1.0, abs(a))
        plus, minus = list(args), list(args)
        plus[i], minus[i] = a + h, a - h
        return (pairing(f, plus, cotangents) - pairing(f, minus, cotangents)) / (2 * h)
    grad = np.zeros(a.shape)
    for k in range(a.size):
        h = step * max(1.0, abs(a.flat[k]))
        plus, minus = list(args), list(args)
        plus[i], minus[i] = a.copy(), a.copy()
        plus[i].flat[k] += h
        minus[i].flat[k] -= h
        grad.flat[k] = (pairing(f, plus, cotangents) - pairing(f, minus, cotangents)) / (2 * h)
    return grad


USER_GLOBALS = {"np": np, "special": special, "math": math, "operator": operator,
                "IDX": np.array([0, 2, 2, 1]), "IDX3": np.array([2, 0, 2]),
                "MASK": np.array([True, False, True, True, False]),
                "MASK34": np.arange(12).reshape(3, 4) % 3 == 0,
                "POINTS5": np.array([-1.0, -0.4, 0.5, 0.7, 2.0]), "POINTS4": np.array([0.0, 0.5, 1.75, 2.0])}
