"""A δ function's value and gradient over 10**7 numbers, computed by a dask.distributed cluster.

Starts ``distributed.LocalCluster`` on loopback (2 worker processes, one thread each, no dashboard), builds
the gradient as a lazy Dask graph, runs it on the workers and compares with NumPy's gradient of the same
function. examples/distributed.py is the same thing as a script (and takes a real scheduler's address).
"""

from __future__ import annotations

import numpy as np
import pytest
from array_api_compat import array_namespace

import autodiffsource as ad

da = pytest.importorskip("dask.array", reason="dask is not installed")
distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")

N = 10**7


def rosenbrock(x):
    xp = array_namespace(x)
    a = x[1:]
    b = x[:-1]
    return xp.sum(100.0 * (a - b * b) ** 2 + (1.0 - b) ** 2)


def starting_point(xp, n, **where):
    return 0.9 * xp.sin(xp.arange(n, dtype=xp.float64, **where) * 1e-3)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.mark.slow
def test_value_and_gradient_on_a_local_cluster_match_numpy(client):
    x = starting_point(da, N, chunks=N // 4)  # made on the workers, chunk by chunk
    value, gradient = ad.value_and_grad(rosenbrock)(x)
    assert isinstance(value, da.Array) and isinstance(gradient, da.Array)
    assert gradient.shape == (N,) and gradient.dtype == np.float64
    assert gradient.chunks == x.chunks  # the partial keeps the input's chunking

    with distributed.get_task_stream(client) as tasks:
        value, gradient = client.compute([value, gradient], sync=True)
    workers = {t["worker"] for t in tasks.data}
    assert len(workers) == 2, f"tasks ran on {workers}"

    expected_value, expected_gradient = ad.value_and_grad(rosenbrock)(starting_point(np, N))
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-12, atol=1e-12)


@pytest.mark.slow
def test_the_example_script_runs_against_a_given_scheduler(client):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parent.parent / "examples" / "distributed.py"
    spec = importlib.util.spec_from_file_location("distributed_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    result = example.main(client.scheduler.address, n=10**5, chunks=25_000)  # checks against NumPy itself
    assert result["workers"] == 2
