"""The same δ function on a Dask cluster: value and gradient of a loss over 10**7 numbers, computed by workers.

Run it as is to start a local cluster (two worker processes on this machine, loopback only):

    python examples/distributed.py

or point it at a real cluster by giving the scheduler's address (``dask scheduler`` prints it; workers join
with ``dask worker tcp://host:8786``):

    python examples/distributed.py tcp://scheduler-host:8786

Nothing here is Dask-specific except making the input: ``rosenbrock`` is written against the array API, so
autodiffsource's generated gradient builds a lazy Dask graph, and ``client.compute`` runs it on the workers.
The gradient never passes through the client until it is asked for.
"""

from __future__ import annotations

import sys
import time

import dask.array as da
import numpy as np
from array_api_compat import array_namespace
from distributed import Client, LocalCluster

import autodiffsource as ad


def rosenbrock(x):
    xp = array_namespace(x)
    a = x[1:]
    b = x[:-1]
    return xp.sum(100.0 * (a - b * b) ** 2 + (1.0 - b) ** 2)


def starting_point(xp, n: int, **where):
    """A deterministic point both NumPy and Dask can make (Dask makes it on the workers, chunk by chunk)."""
    return 0.9 * xp.sin(xp.arange(n, dtype=xp.float64, **where) * 1e-3)


def main(address: str | None = None, n: int = 10**7, chunks: int = 2_500_000, check: bool = True) -> dict:
    """Compute rosenbrock's value and gradient at ``starting_point`` on a cluster; compare with NumPy."""
    if address is None:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    else:
        cluster, client = None, Client(address)
    try:
        x = starting_point(da, n, chunks=chunks)
        value, gradient = ad.value_and_grad(rosenbrock)(x)  # lazy: a graph, nothing computed yet
        print(f"gradient: {gradient!r}")
        start = time.perf_counter()
        value, gradient = client.compute([value, gradient], sync=True)
        seconds = time.perf_counter() - start
        workers = len(client.scheduler_info()["workers"])
        print(f"computed on {workers} workers in {seconds:.2f} s: f(x) = {float(value):.6g}, "
              f"|grad f(x)| = {np.linalg.norm(gradient):.6g}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    result = {"value": value, "gradient": gradient, "seconds": seconds, "workers": workers}
    if check:
        expected_value, expected_gradient = ad.value_and_grad(rosenbrock)(starting_point(np, n))
        np.testing.assert_allclose(value, expected_value, rtol=1e-12)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-12, atol=1e-12)
        print("matches NumPy")
    return result


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
