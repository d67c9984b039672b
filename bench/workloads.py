"""The four benchmark workloads of issue 6, as plain Python functions, plus their inputs.

Contract: each primal here is the one function every peer differentiates (autodiffsource through
``δ``; the peers through their own ports in :mod:`bench.peers`, written line for line the same).
``make_inputs(workload, size, dtype)`` returns fresh, deterministic inputs; the differentiated
arguments come first and the constant ones (``input`` in W2, ``xs`` in W4) last.

- W1 rosenbrock: ``sum(100*(x[1:] - x[:-1]**2)**2 + (1 - x[:-1])**2)``, float64, n = 10, 10^3, 10^6.
- W2 autoencoder 784-300-100-784 with sigmoid layers, float32; the seed's argument order
  ``(We1, We2, Wd, b1, b2, input)``; input constant; one vector (784,) or a batch (784, 64) whose
  biases are (n, 1).
- W3 ``(x + 2*y) * y**2`` on Python floats.
- W4 ``h = tanh(W @ h + x_t)`` for 50 steps, W 64x64, gradient with respect to W and h0, loss
  ``sum(h_T**2)``; xs constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# ---- the primals ------------------------------------------------------------------------------------

def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def autoencoder(We1, We2, Wd, b1, b2, input):
    firstLayer = sigmoid(We1 @ input + b1)
    encodedInput = sigmoid(We2 @ firstLayer + b2)
    reconstructedInput = sigmoid(Wd @ encodedInput)
    return np.sum((input - reconstructedInput) ** 2)


def polynomial(x, y):
    return (x + 2 * y) * y ** 2


def rnn(W, h0, xs):
    # The Pythonic loop over the rows of xs; rnn_range below is the same with an index.
    h = h0
    for x_t in xs:
        h = np.tanh(W @ h + x_t)
    return np.sum(h ** 2)


def rnn_range(W, h0, xs):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    return np.sum(h ** 2)


# ---- the cases --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One row of the table: a workload at one size."""

    key: str          # "W1-1e6": stable id used in results and tests
    workload: str     # "W1".."W4"
    label: str        # what the table prints
    size: int         # n for W1, batch for W2 (0 = one vector), steps for W4
    nconst: int       # how many trailing arguments are constant


W4_STEPS = 50
W4_WIDTH = 64
W2_SIZES = (784, 300, 100)
W2_BATCH = 64

CASES = (
    Case("W1-10", "W1", "W1 rosenbrock n=10", 10, 0),
    Case("W1-1e3", "W1", "W1 rosenbrock n=10^3", 1000, 0),
    Case("W1-1e6", "W1", "W1 rosenbrock n=10^6", 10 ** 6, 0),
    Case("W2-vec", "W2", "W2 autoencoder 784-300-100-784, one vector, float32", 0, 1),
    Case("W2-batch", "W2", "W2 same, batch of 64", W2_BATCH, 1),
    Case("W3", "W3", "W3 (x + 2*y) * y**2 on Python floats", 1, 0),
    Case("W4", "W4", "W4 h = tanh(W @ h + x_t), 50 steps, W 64x64, grad W and h0", W4_STEPS, 1),
)
CASES_BY_KEY = {c.key: c for c in CASES}

# --quick: every case still runs, on sizes that cost milliseconds.
QUICK_SIZES = {"W1-1e6": 10 ** 4, "W2-batch": 4, "W4": 5}
# JAX compiles every primitive afresh for each new shape, eager or not, so --quick runs jax.jit on one
# case per workload and eager JAX (the same port, unjitted) on two: seconds instead of fifteen.
QUICK_JAX_CASES = {"jax.jit": ("W1-1e3", "W2-batch", "W3", "W4"), "jax": ("W1-1e3", "W3")}


def make_inputs(case: Case, size: int | None = None, dtype=None) -> tuple:
    """Fresh deterministic inputs for ``case`` (``size`` overrides the case's own, for --quick)."""
    rng = np.random.default_rng(1234)
    n = case.size if size is None else size
    if case.workload == "W1":
        return (rng.uniform(-1.5, 1.5, n).astype(dtype or np.float64),)
    if case.workload == "W2":
        dtype = dtype or np.float32
        d_in, d_h1, d_h2 = W2_SIZES
        cols = (n,) if n else ()
        bias = (1,) if n else ()

        def weights(rows, cols_):
            return (rng.standard_normal((rows, cols_)) / np.sqrt(cols_)).astype(dtype)

        return (weights(d_h1, d_in), weights(d_h2, d_h1), weights(d_in, d_h2),
                (0.1 * rng.standard_normal((d_h1,) + bias)).astype(dtype),
                (0.1 * rng.standard_normal((d_h2,) + bias)).astype(dtype),
                rng.uniform(0, 1, (d_in,) + cols).astype(dtype))
    if case.workload == "W3":
        return (1.25, 0.5)
    if case.workload == "W4":
        dtype = dtype or np.float64
        W = (rng.standard_normal((W4_WIDTH, W4_WIDTH)) / np.sqrt(W4_WIDTH)).astype(dtype)
        h0 = rng.standard_normal(W4_WIDTH).astype(dtype)
        xs = (0.5 * rng.standard_normal((n, W4_WIDTH))).astype(dtype)
        return (W, h0, xs)
    raise ValueError(case.workload)


PRIMALS = {"W1": rosenbrock, "W2": autoencoder, "W3": polynomial, "W4": rnn}

# Issue 6's targets for autodiffsource, as ratios to the hand-written gradient.
TARGETS = {"W1-10": 3.0, "W1-1e3": 1.2, "W1-1e6": 0.85, "W2-vec": 1.1, "W2-batch": 1.05, "W3": 5.0, "W4": 1.3}
MEMORY_CASES = (("W1-1e6", 10 ** 6), ("W2-batch", W2_BATCH))
MEMORY_TARGET = 1.1
TRANSFORM_LINES = (50, 1000)
TRANSFORM_TARGETS = {50: 0.05, 1000: 1.0}
