"""Every contender as a timeable statement: hand-written, autodiffsource, autograd, torch, JAX eager/jit.

Contract: ``prepare(peer, case, args)`` returns a :class:`Runner` whose ``stmt`` (a line of Python) computes
the value and every partial once, reading its inputs as ``a0, a1, ...`` and the compiled function as
``f`` from ``namespace``, and leaving the result in ``out``; ``to_numpy(out)`` turns that result into
``(value, (partial, ...))`` of NumPy arrays for the check against the hand-written gradient. The
statement is compiled into :mod:`timeit`'s own loop, so no peer pays for an extra Python frame.
Framework conversions of array inputs happen once, outside the loop; W3's inputs are Python floats,
so turning them into tensors is part of each framework's call there.

A peer that cannot run a case (W4 needs ``for`` inside a δ function) raises :class:`NotSupported`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import handwritten, workloads

# 64-bit JAX for W1/W3/W4; W2's float32 inputs stay float32 (JAX keeps an explicit input dtype).
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# autodiffsource twice: `value_and_grad(f)` (JAX's name, what a training loop calls; its pullback runs once,
# so it may reuse the forward pass's memory) and the seed's `δf` with its pullback (which may run again).
PEERS = ("handwritten", "autodiffsource", "autodiffsource.δ", "autograd", "torch", "jax", "jax.jit")
AUTODIFFSOURCE_PEERS = ("autodiffsource", "autodiffsource.δ")
LABELS = {"handwritten": "hand-written", "autodiffsource": "autodiffsource value_and_grad",
          "autodiffsource.δ": "autodiffsource δf + pullback", "autograd": "autograd",
          "torch": "torch eager", "jax": "jax eager", "jax.jit": "jax.jit"}


class NotSupported(Exception):
    """This peer cannot run this case yet; the table says why."""


@dataclass
class Runner:
    """What the timing loop needs from a peer: one statement and the names it reads."""

    stmt: str
    namespace: dict
    to_numpy: Callable
    note: str = ""
    extra: dict = field(default_factory=dict)


def _arg_names(args) -> list[str]:
    return [f"a{i}" for i in range(len(args))]


def _ndiff(case, args) -> int:
    return len(args) - case.nconst


def _call(args) -> str:
    return "f(" + ", ".join(_arg_names(args)) + ")"


def _np(x):
    if hasattr(x, "detach"):
        x = x.detach().numpy()
    return np.asarray(x, dtype=np.float64)


def _pack(value, partials):
    return float(_np(value)), tuple(_np(p) for p in partials)


# ---- hand-written and autodiffsource ------------------------------------------------------------------

def _handwritten(case, args):
    ns = dict(zip(_arg_names(args), args), f=handwritten.HANDWRITTEN[case.workload])
    return Runner(f"out = {_call(args)}", ns, lambda out: _pack(*out))


def autodiffsource_function(case):
    """``(primal, mask, the δ function's name, the namespace the public ``δ`` decorator bound it in)`` for
    ``case``: the name holds the decorator's stub, which transforms on its first call, as a user's does."""
    import autodiffsource
    from autodiffsource.api import delta_name

    nargs = {"W1": 1, "W2": 6, "W3": 2, "W4": 3}[case.workload]
    mask = (True,) * (nargs - case.nconst) + (False,) * case.nconst
    candidates = [workloads.rnn, workloads.rnn_range] if case.workload == "W4" else \
        [workloads.PRIMALS[case.workload]]
    errors = []
    for primal in candidates:
        namespace = {"δ": autodiffsource.δ, "primal": primal, "__name__": "bench_δ"}
        try:
            exec("δ(primal)", namespace)  # δ binds δf... in its caller's globals: this namespace
        except autodiffsource.UnsupportedSyntaxError as exc:
            errors.append(exc)
            continue
        return primal, mask, delta_name(primal, mask), namespace
    raise NotSupported("not yet supported: " + str(errors[-1]).splitlines()[0])


def _autodiffsource(case, args, through_delta: bool):
    """``value_and_grad(f, argnums)`` or, ``through_delta``, the δ function and one call of its pullback."""
    import autodiffsource

    primal, mask, name, namespace = autodiffsource_function(case)
    ndiff = _ndiff(case, args)
    try:
        if through_delta:
            namespace[name](*args)  # the stub's first call transforms (for these arguments) and rebinds the name
            compiled = namespace[name]
        else:
            compiled = autodiffsource.value_and_grad(primal, argnums=tuple(range(ndiff)) if ndiff > 1 else 0)
        # Transform outside the timed loop (first-call cost is measured on its own).
        compiled(*args)
    except autodiffsource.UnsupportedSyntaxError as exc:
        raise NotSupported("not yet supported: " + str(exc).splitlines()[0]) from exc
    ns = dict(zip(_arg_names(args), args), f=compiled)

    def to_numpy(out):
        value, partials = out
        return _pack(value, partials if ndiff > 1 else (partials,))

    note = "" if primal is workloads.PRIMALS.get(case.workload, primal) else f"via `{primal.__name__}`"
    stmt = f"v, pb = {_call(args)}; out = v, pb()" if through_delta else f"out = {_call(args)}"
    return Runner(stmt, ns, to_numpy, note=note)


# ---- ports of the primals to each framework -------------------------------------------------------------

def _ports(xp, tanh=None, exp=None):
    """The four primals written against namespace ``xp``, line for line as in :mod:`bench.workloads`."""

    def rosenbrock(x):
        return xp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    def sigmoid(x):
        return 1 / (1 + xp.exp(-x))

    def autoencoder(We1, We2, Wd, b1, b2, input):
        firstLayer = sigmoid(We1 @ input + b1)
        encodedInput = sigmoid(We2 @ firstLayer + b2)
        reconstructedInput = sigmoid(Wd @ encodedInput)
        return xp.sum((input - reconstructedInput) ** 2)

    def polynomial(x, y):
        return (x + 2 * y) * y ** 2

    def rnn(W, h0, xs):
        h = h0
        for x_t in xs:
            h = xp.tanh(W @ h + x_t)
        return xp.sum(h ** 2)

    return {"W1": rosenbrock, "W2": autoencoder, "W3": polynomial, "W4": rnn}


def _autograd(case, args):
    import autograd
    import autograd.numpy as anp

    primal = _ports(anp)[case.workload]
    ndiff = _ndiff(case, args)
    f = autograd.value_and_grad(primal, tuple(range(ndiff)))
    ns = dict(zip(_arg_names(args), args), f=f)
    return Runner(f"out = {_call(args)}", ns, lambda out: _pack(*out))


def _torch(case, args):
    import torch

    primal = _ports(torch)[case.workload]
    ndiff = _ndiff(case, args)
    names = _arg_names(args)
    ns = {"f": primal, "grad": torch.autograd.grad, "T": torch.tensor, "float64": torch.float64}
    if case.workload == "W3":
        # Python floats in, so making the leaf tensors is part of the call.
        leaves = ", ".join(f"T({n}, dtype=float64, requires_grad=True)" for n in names)
        ns.update(zip(names, args))
        stmt = (f"t = ({leaves},); v = f(*t); out = v, grad(v, t)")
        return Runner(stmt, ns, lambda out: _pack(out[0], out[1]))
    tensors = [torch.from_numpy(a).requires_grad_(i < ndiff) for i, a in enumerate(args)]
    ns.update(zip(names, tensors))
    ns["leaves"] = tuple(tensors[:ndiff])
    stmt = f"v = {_call(args)}; out = v, grad(v, leaves)"
    return Runner(stmt, ns, lambda out: _pack(out[0], out[1]))


def _jax(case, args, jit):
    import jax
    import jax.numpy as jnp

    primal = _ports(jnp)[case.workload]
    ndiff = _ndiff(case, args)
    f = jax.value_and_grad(primal, argnums=tuple(range(ndiff)))
    if jit:
        f = jax.jit(f)
    inputs = args if case.workload == "W3" else tuple(jnp.asarray(a) for a in args)
    ns = dict(zip(_arg_names(args), inputs), f=f, ready=jax.block_until_ready)
    runner = Runner(f"out = ready({_call(args)})", ns, lambda out: _pack(*out))
    if jit:
        jax.block_until_ready(f(*inputs))  # compile outside the timed loop
    return runner


def prepare(peer: str, case, args) -> Runner:
    """The runner for ``peer`` on ``case`` with inputs ``args`` (NumPy arrays or Python floats)."""
    if peer == "handwritten":
        return _handwritten(case, args)
    if peer in AUTODIFFSOURCE_PEERS:
        return _autodiffsource(case, args, through_delta=peer == "autodiffsource.δ")
    if peer == "autograd":
        return _autograd(case, args)
    if peer == "torch":
        return _torch(case, args)
    if peer == "jax":
        return _jax(case, args, jit=False)
    if peer == "jax.jit":
        return _jax(case, args, jit=True)
    raise ValueError(f"unknown peer {peer!r}")


def run_once(runner: Runner):
    """Execute the runner's statement once and return ``out``."""
    ns = dict(runner.namespace)
    exec(runner.stmt, ns)
    return ns["out"]


def check(runner: Runner, reference, dtype) -> float:
    """Relative error of the runner's value and partials against ``reference``; raises past tolerance."""
    value, partials = runner.to_numpy(run_once(runner))
    ref_value, ref_partials = reference
    tol = 2e-4 if np.dtype(dtype) == np.float32 else 1e-9
    worst = abs(value - ref_value) / max(abs(ref_value), 1e-30)
    if len(partials) != len(ref_partials):
        raise AssertionError(f"{len(partials)} partials, expected {len(ref_partials)}")
    for p, r in zip(partials, ref_partials):
        if np.shape(p) != np.shape(r):
            raise AssertionError(f"partial of shape {np.shape(p)}, expected {np.shape(r)}")
        scale = max(float(np.linalg.norm(r)), 1e-30)
        worst = max(worst, float(np.linalg.norm(p - r)) / scale)
    if not worst <= tol:
        raise AssertionError(f"gradient disagrees with the hand-written one (relative error {worst:.2e})")
    return worst
