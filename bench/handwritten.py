"""Careful hand-written NumPy value-and-gradient functions: the baseline every ratio is taken against.

Contract: ``HANDWRITTEN[workload](*args) -> (value, (partial, ...))`` with one partial per
differentiated argument, in order, each shaped and typed like its argument. "Careful" means what a
competent NumPy user writes: shared subexpressions computed once, no helper calls, ``out=`` only
where it is idiomatic; not assembly-level tricks. :func:`check_against_finite_differences`
verifies each one in float64 before anything is timed.
"""

from __future__ import annotations

import numpy as np


def rosenbrock_vg(x):
    a = x[:-1]
    d = x[1:] - a * a          # the residual, shared by value and gradient
    e = 1 - a
    value = np.sum(100 * d * d + e * e)
    d *= 200                   # d is ours: reuse it as 200 d = df/dx[1:]
    g = np.empty_like(x)
    g[0] = 0
    g[1:] = d
    g[:-1] -= 2 * (d * a + e)  # -(400 d a + 2 e), with d already scaled by 200
    return value, (g,)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def autoencoder_vg(We1, We2, Wd, b1, b2, input):
    h1 = _sigmoid(We1 @ input + b1)
    h2 = _sigmoid(We2 @ h1 + b2)
    r = _sigmoid(Wd @ h2)
    err = input - r
    value = np.sum(err * err)
    dz3 = -2 * err * r * (1 - r)
    dh2 = Wd.T @ dz3
    dz2 = dh2 * h2 * (1 - h2)
    dh1 = We2.T @ dz2
    dz1 = dh1 * h1 * (1 - h1)
    if input.ndim == 1:
        return value, (np.outer(dz1, input), np.outer(dz2, h1), np.outer(dz3, h2), dz1, dz2)
    return value, (dz1 @ input.T, dz2 @ h1.T, dz3 @ h2.T,
                   dz1.sum(axis=1, keepdims=True), dz2.sum(axis=1, keepdims=True))


def polynomial_vg(x, y):
    s = x + 2 * y
    yy = y * y
    return s * yy, (yy, 2 * yy + 2 * s * y)


def rnn_vg(W, h0, xs):
    hs = [h0]
    h = h0
    for x_t in xs:
        h = np.tanh(W @ h + x_t)
        hs.append(h)
    value = h @ h
    dh = 2 * h
    dW = np.zeros_like(W)
    for t in range(len(xs), 0, -1):
        h_t = hs[t]
        dz = dh * (1 - h_t * h_t)
        dW += np.outer(dz, hs[t - 1])
        dh = W.T @ dz
    return value, (dW, dh)


HANDWRITTEN = {"W1": rosenbrock_vg, "W2": autoencoder_vg, "W3": polynomial_vg, "W4": rnn_vg}


# ---- verification -----------------------------------------------------------------------------------

def check_against_finite_differences(workload: str, primal, args: tuple, nconst: int, seed: int = 0,
                                     rtol: float = 1e-6) -> float:
    """Compare ⟨gradient, u⟩ with a central difference of ``primal`` along a random ``u``, in float64.

    Returns the relative error; raises AssertionError past ``rtol``. Every differentiated argument
    moves at once, so one pair of evaluations checks all partials together.
    """
    rng = np.random.default_rng(seed)
    args64 = tuple(float(a) if isinstance(a, float) else np.asarray(a, dtype=np.float64) for a in args)
    ndiff = len(args64) - nconst
    _, partials = HANDWRITTEN[workload](*args64)
    directions = [float(rng.standard_normal()) if isinstance(a, float) else rng.standard_normal(np.shape(a))
                  for a in args64[:ndiff]]
    analytic = sum(float(np.sum(g * u)) for g, u in zip(partials, directions, strict=True))

    def shifted(step):
        moved = tuple(a + step * u for a, u in zip(args64[:ndiff], directions))
        return float(primal(*moved, *args64[ndiff:]))

    eps = 1e-6
    numeric = (shifted(eps) - shifted(-eps)) / (2 * eps)
    error = abs(analytic - numeric) / max(abs(numeric), 1e-12)
    if error > rtol:
        raise AssertionError(f"hand-written {workload} gradient disagrees with finite differences: "
                             f"{analytic!r} vs {numeric!r} (relative error {error:.2e})")
    return error
