"""``python -m bench.beyond``: value_and_grad on code that is not one of issue 6's four workloads.

Contract: times three functions a NumPy user writes, each side by side in one process with a
hand-written gradient written the way the forward pass reads (no algebra an AD tool could not do: the
logistic loss's gradient is not simplified to ``p - y``), autograd and jax.jit, after checking every
gradient against the hand-written one (itself checked against central differences). Prints a table of
ratios to the hand-written gradient; ``--quick`` runs each once on small sizes (CI: it still runs).

- B1 ``np.sum((x - y) ** 2 - y ** 2)``, two differentiated arrays of one shape (value_and_grad's
  same-shape branch and sums of squares), n = 10^3 and 10^6;
- B2 ridge regression ``r = X @ w - y; r @ r + lam * w @ w``, X 256x64, gradient in w;
- B3 logistic regression, mean log-loss of ``sigmoid(X @ w + b)``, X 256x64, gradient in w and b.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("JAX_ENABLE_X64", "1")

import numpy as np  # noqa: E402

from . import timing  # noqa: E402


def two_arrays(x, y):
    return np.sum((x - y) ** 2 - y ** 2)


def ridge(w, X, y, lam):
    r = X @ w - y
    return r @ r + lam * w @ w


def logistic(w, b, X, y):
    p = 1 / (1 + np.exp(-(X @ w + b)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def two_arrays_vg(x, y):
    r = x - y
    value = r @ r - y @ y
    r *= 2
    return value, (r, -r - 2 * y)


def ridge_vg(w, X, y, lam):
    r = X @ w - y
    return r @ r + lam * (w @ w), (2 * (r @ X) + 2 * lam * w,)


def logistic_vg(w, b, X, y):
    e = np.exp(-(X @ w + b))
    p = 1 / (1 + e)
    value = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    dp = (-(y / p) + (1 - y) / (1 - p)) / y.size
    dz = dp * p * p * e  # d sigmoid = p^2 e^-z
    return value, (dz @ X, np.sum(dz))


def cases(quick: bool):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((256, 64))
    out = []
    for n in ((10, 1000) if quick else (10 ** 3, 10 ** 6)):
        out.append((f"B1 two arrays n={n:,}", two_arrays, two_arrays_vg, (0, 1),
                    (rng.standard_normal(n), rng.standard_normal(n))))
    out.append(("B2 ridge 256x64", ridge, ridge_vg, (0,), (0.1 * rng.standard_normal(64), X,
                                                           rng.standard_normal(256), 0.1)))
    out.append(("B3 logistic 256x64", logistic, logistic_vg, (0, 1),
                (0.1 * rng.standard_normal(64), 0.1, X, (rng.random(256) > 0.5).astype(float))))
    return out


def _check_by_differences(f, args, argnums, partials, step=1e-6):
    rng = np.random.default_rng(0)
    vs = [rng.standard_normal(np.shape(args[i])) for i in argnums]
    plus, minus = list(args), list(args)
    for i, v in zip(argnums, vs):
        plus[i], minus[i] = args[i] + step * v, args[i] - step * v
    numeric = (f(*plus) - f(*minus)) / (2 * step)
    analytic = sum(float(np.sum(p * v)) for p, v in zip(partials, vs))
    assert abs(analytic - numeric) <= 1e-6 * max(1.0, abs(numeric)), (f.__name__, analytic, numeric)


def _runners(f, hand, argnums, args):
    import autograd
    import autograd.numpy as anp
    import jax
    import jax.numpy as jnp

    from autodiffsource import value_and_grad

    from .peers import Runner

    value, want = hand(*args)
    _check_by_differences(f, args, argnums, want)
    names = [f"a{i}" for i in range(len(args))]
    call = f"f({', '.join(names)})"
    ours = value_and_grad(f, argnums=argnums)
    ported = {"np": anp}
    exec(compile(_source(f), "<autograd port>", "exec"), ported)  # the same text, autograd's NumPy
    ag = autograd.value_and_grad(ported[f.__name__], argnum=argnums if len(argnums) > 1 else argnums[0])
    jitted = {"np": jnp}
    exec(compile(_source(f), "<jax port>", "exec"), jitted)
    jj = jax.jit(jax.value_and_grad(jitted[f.__name__], argnums=argnums))
    jax_args = [jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    runners = {"hand-written": (hand, args), "value_and_grad": (ours, args), "autograd": (ag, args),
               "jax.jit": (jj, jax_args)}
    out = {}
    for peer, (g, peer_args) in runners.items():
        got_value, got = g(*peer_args)
        if peer == "jax.jit":
            jax.block_until_ready(got)
        got = got if isinstance(got, tuple) else (got,)
        assert np.isclose(float(got_value), float(value), rtol=1e-10), (f.__name__, peer)
        for p, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(p), w, rtol=1e-8, atol=1e-10, err_msg=f"{f.__name__} {peer}")
        stmt = f"jax.block_until_ready({call})" if peer == "jax.jit" else call
        out[peer] = Runner(stmt, {"f": g, "jax": jax, **dict(zip(names, peer_args))}, np.asarray)
    return out


def _source(f) -> str:
    import inspect

    return inspect.getsource(f)


PEERS = ("hand-written", "value_and_grad", "autograd", "jax.jit")


def run(quick: bool) -> dict:
    """``{label: {peer: seconds per call}}`` for every case, each gradient checked first."""
    return {label: timing.time_case(_runners(f, hand, argnums, args), budget_s=0.0 if quick else 3.0)
            for label, f, hand, argnums, args in cases(quick)}


def table(times: dict) -> list[str]:
    """Markdown rows: the hand-written gradient's time, then each peer's ratio to it."""
    out = ["| function | " + " | ".join(PEERS) + " |", "|" + "---|" * (len(PEERS) + 1)]
    for label, cells in times.items():
        base = cells["hand-written"]
        out.append(f"| {label} | {base * 1e6:.1f} µs | " + " | ".join(f"{cells[p] / base:.2f}×" for p in PEERS[1:])
                   + " |")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.beyond", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one call each: checks it runs")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="cpu")
    options = parser.parse_args(argv)
    timing.CLOCK = time.process_time if options.clock == "cpu" else time.perf_counter
    print("\n".join(table(run(options.quick))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
