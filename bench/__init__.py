"""The benchmark of issue 6: autodiffsource against a hand-written NumPy gradient and the peers.

``python -m bench`` (``make bench``) times W1–W4 (see :mod:`bench.workloads`) for a hand-written NumPy
gradient (:mod:`bench.handwritten`, checked against finite differences), autodiffsource, autograd,
torch eager, JAX eager and ``jax.jit`` (:mod:`bench.peers`) side by side in one process
(:mod:`bench.timing`), after checking every gradient against the hand-written one; measures peak
memory (:mod:`bench.memory`) and first-call cost (:mod:`bench.transform_time`) in fresh processes;
and writes BENCHMARKS.md with a chart (:mod:`bench.report`). ``python -m bench --quick`` only checks
that all of it still runs (CI, through tests/test_bench.py). ``python -m bench.profile CASE`` prints
the generated gradient of a case with the CPU time of each line.
"""
