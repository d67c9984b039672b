"""δ functions under ``jax.jit`` on JAX arrays, side by side with ``jax.jit(jax.value_and_grad(port))``.

Contract: :func:`run_case` takes a case of :mod:`bench.workloads` with array inputs (W1, W2, W4) and
returns ``{"jax.jit": s, "δ": s, "first_jax.jit": s, "first_δ": s, "error_δ": ...}``: the median time
of one value-and-gradient call of each contender and the time of its first call (trace + compile +
run), or a string for a contender that could not run. Issue 6's target: δ within 1.1× of JAX's own.

The δ contender is one jitted function that calls the δ function (the generated code, made through
``δ`` as in :mod:`bench.peers`) and then its pullback, on JAX arrays, so JAX traces the generated
NumPy-style code through the array namespace and XLA compiles value and gradient together. JAX's
own is ``jax.value_and_grad`` of the line-for-line JAX port of the same primal (:mod:`bench.peers`).
Both results are checked against the hand-written NumPy gradient, and against each other, before
anything is timed; both run in this process, timed in interleaved rounds (:mod:`bench.timing`).

First calls: JAX is warmed up on an unrelated tiny function first (so neither contender pays for
XLA's own start-up), then each contender's first call is timed, in the order δ, JAX, JAX, δ, δ, JAX
with a fresh ``jax.jit`` each time, and the fastest of each contender's three is reported (whichever
goes first also fills caches of ``jax.numpy``'s own that the next then finds warm, and one first call
of W1's 50 ms moves by ±20% from one to the next: three each, in balanced order, keep that out of the
ratio). The δ function's transform (source transformation, cached) happens before, outside that figure.
``--quick`` times one of each.
"""

from __future__ import annotations

import os

import numpy as np

from . import handwritten, peers, timing, workloads

os.environ.setdefault("JAX_ENABLE_X64", "1")

CASE_KEYS = ("W1-10", "W1-1e3", "W1-1e6", "W2-vec", "W2-batch", "W4")
QUICK_CASE_KEYS = ("W1-1e3", "W2-batch")
TARGET = 1.1


def _warm_up_jax() -> None:
    import jax
    import jax.numpy as jnp

    jax.block_until_ready(jax.jit(lambda a: jnp.sin(a) * 2)(jnp.ones(3)))


def delta_under_jit(case):
    """``jax.jit`` of value and gradient through the δ function of ``case``'s primal."""
    import jax

    from autodiffsource.api import transform

    primal, mask, _, _ = peers.autodiffsource_function(case)
    # The variant @δ's stub compiles when its first call passes JAX arrays (or jit's tracers of them):
    # Python numbers handed on, a buffer's slice writes grouped as XLA fuses them best (api._stub).
    delta = transform(primal, mask, defer_numbers=True, first_arguments="other arrays")
    ndiff = sum(mask)

    def value_and_gradient(*args):
        value, pullback = delta(*args)
        partials = pullback()
        return value, (partials if ndiff > 1 else (partials,))

    return jax.jit(value_and_gradient)


def jax_own(case, ndiff: int):
    """``jax.jit(jax.value_and_grad(port))`` for ``case``."""
    import jax
    import jax.numpy as jnp

    port = peers._ports(jnp)[case.workload]
    return jax.jit(jax.value_and_grad(port, argnums=tuple(range(ndiff))))


def run_case(case, quick: bool = False, budget_s: float = 3.0) -> dict:
    """Times and first-call times of δ under jax.jit and of JAX's own, on ``case`` (see the module doc)."""
    import jax
    import jax.numpy as jnp

    size = workloads.QUICK_SIZES.get(case.key) if quick else None
    args = workloads.make_inputs(case, size)
    ndiff = len(args) - case.nconst
    value, partials = handwritten.HANDWRITTEN[case.workload](*args)
    reference = peers._pack(value, partials)
    dtype = args[0].dtype
    inputs = tuple(jnp.asarray(a) for a in args)
    _warm_up_jax()
    entry, runners, results = {}, {}, {}
    makers = {"δ": lambda: delta_under_jit(case), "jax.jit": lambda: jax_own(case, ndiff)}
    for name in ("δ", "jax.jit") if quick else ("δ", "jax.jit", "jax.jit", "δ", "δ", "jax.jit"):
        if name in entry and isinstance(entry[name], str):
            continue  # failed the first time
        try:
            fn = makers[name]()
            start = timing.CLOCK()
            out = jax.block_until_ready(fn(*inputs))
            elapsed = timing.CLOCK() - start
            entry["first_" + name] = min(elapsed, entry.get("first_" + name, elapsed))
            if name in runners:
                continue
            runner = peers.Runner("out = ready(f(*a))", {"f": fn, "a": inputs, "ready": jax.block_until_ready},
                                  lambda out: peers._pack(*out))
            peers.check(runner, reference, dtype)
            results[name] = runner.to_numpy(out)
            runners[name] = runner
        except peers.NotSupported as exc:
            entry[name] = "not yet supported: " + str(exc)
        except Exception as exc:  # a crash or a wrong gradient: reported, and the run fails
            entry[name] = f"failed ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
    if len(results) == 2:  # the two agree with each other too, at float32's or float64's precision
        (v1, p1), (v2, p2) = results.values()
        tol = 2e-4 if np.dtype(dtype) == np.float32 else 1e-9
        worst = max([abs(v1 - v2) / max(abs(v2), 1e-30)] + [
            float(np.linalg.norm(a - b)) / max(float(np.linalg.norm(b)), 1e-30) for a, b in zip(p1, p2)])
        if not worst <= tol:
            entry["δ"] = f"failed (disagrees with jax.value_and_grad: relative error {worst:.2e})"
            del runners["δ"]
    entry.update(timing.time_case(runners, budget_s=0.0 if quick else budget_s))
    return entry


def failures(entries: dict) -> list[str]:
    """The cells of ``entries`` ({case key: entry}) that failed (not merely unsupported)."""
    return [f"δ under jax.jit {key} {name}: {cell}" for key, entry in entries.items()
            for name, cell in entry.items() if isinstance(cell, str) and cell.startswith("failed")]
