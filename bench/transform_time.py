"""First-call cost: the transform and compile of a fresh function, in fresh subprocesses.

Contract: ``measure(lines)`` generates straight-line NumPy functions of ``lines`` statements, writes
them to temporary modules and, in each of ``PROCESSES`` fresh Python processes run one after another,
imports the one whose functions are decorated (``@δ`` runs there: getsource and the syntax check;
"decorate" is per function) and times the first call of each ``δf`` (transform + compile + one run of
it and its pullback). The first of them pays the library's one-time costs (reading rule sources:
"cold"); the next ``FUNCTIONS`` are what every later function pays, each taken in turn with the first
call of ``value_and_grad(g, argnums=(0, 1))(x, y)`` of an undecorated function of the same size (the
JAX-named entry point: its one function is compiled on that call). Then a later call and the plain
function. The processes' first calls are pooled (:func:`combine`): their median is reported with their
range (one sample on a shared machine says little). Returns seconds: ``{"numpy_import": ...,
"library_import": ..., "decorate": ..., "first_call_cold": ..., "first_call": ...,
"first_call_range": (min, max), "later_call": ..., "primal_call": ..., "first_call_value_and_grad": ...,
"first_call_value_and_grad_range": (min, max)}`` (``library_import`` is ``import autodiffsource`` after
NumPy), ``"processes"``, and ``"scipy_imported"``: whether importing the library imported SciPy (it
should not).

``python -m bench.transform_time [--clock cpu]`` prints the figures for 50 and 1,000 lines (``--lines``
for others); ``python -m bench.transform_time N [cpu]`` is one measured process.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# Each line reads the two previous values; bounded functions keep 1,000 chained lines finite.
_TEMPLATES = (
    "np.tanh({a} * {b})",
    "np.sin({a}) + 0.5 * {b}",
    "np.exp(-{a} * {a}) * {b}",
    "{a} * {b} - np.cos({a})",
    "{a} / (1 + {b} * {b})",
    "np.tanh({a} - {b}) ** 2",
    "np.sqrt(1 + {a} * {a}) - {b}",
)


def generate(name: str, lines: int, salt: int = 0) -> str:
    """The source of a ``lines``-statement function ``name(x, y)`` returning a scalar."""
    body = ["t0 = x", "t1 = y"]
    for i in range(2, lines):
        template = _TEMPLATES[(i + salt) % len(_TEMPLATES)]
        body.append(f"t{i} = " + template.format(a=f"t{i - 1}", b=f"t{i - 2}"))
    body.append(f"return np.sum(t{lines - 1})")
    return f"def {name}(x, y):\n" + "".join(f"    {line}\n" for line in body)


FUNCTIONS = 5  # fresh functions timed per figure and process (after the cold one)
PROCESSES = 3  # fresh processes, one after another: their first calls are pooled (see combine)


def _child(lines: int, clock=time.perf_counter) -> dict:
    start = clock()
    import numpy as np

    numpy_import = clock() - start
    start = clock()
    import autodiffsource  # noqa: F401  (its import is timed on its own, not as part of decorating)

    library_import = clock() - start
    scipy_imported = "scipy" in sys.modules
    with tempfile.TemporaryDirectory() as folder:
        # Decorated functions in one module (importing it runs each @δ), plain ones for value_and_grad in another.
        decorated, plain = f"bench_decorated_{lines}", f"bench_plain_{lines}"
        text = "import numpy as np\nfrom autodiffsource import δ\n" + "".join(
            "\n\n@δ\n" + generate(f"f{k}", lines, k) for k in range(FUNCTIONS + 1))
        with open(os.path.join(folder, decorated + ".py"), "w") as file:
            file.write(text)
        with open(os.path.join(folder, plain + ".py"), "w") as file:
            file.write("import numpy as np\n" + "".join(
                "\n\n" + generate(f"g{k}", lines, FUNCTIONS + 1 + k) for k in range(FUNCTIONS)))
        sys.path.insert(0, folder)
        start = clock()
        module = importlib.import_module(decorated)
        imported = clock() - start
        plain_module = importlib.import_module(plain)
        x, y = np.linspace(-1, 1, 16), np.linspace(1, 2, 16)
        result = {"numpy_import": numpy_import, "library_import": library_import, "scipy_imported": scipy_imported,
                  "decorate": imported / (FUNCTIONS + 1)}

        def first_call_of_delta(k):
            value, pullback = getattr(module, f"δf{k}")(x, y)
            pullback()

        def first_call_of_value_and_grad(k):
            autodiffsource.value_and_grad(getattr(plain_module, f"g{k}"), argnums=(0, 1))(x, y)

        result["first_call_cold"] = _timed(clock, lambda: first_call_of_delta(0))
        # Taken in turns, so that a slow spell of the machine falls on both entry points alike.
        deltas, flats = [], []
        for k in range(FUNCTIONS):
            deltas.append(_timed(clock, lambda: first_call_of_delta(k + 1)))
            flats.append(_timed(clock, lambda: first_call_of_value_and_grad(k)))
        result["first_call_samples"], result["first_call_value_and_grad_samples"] = deltas, flats
        compiled, primal = module.δf1, module.f1
        for key, call in (("later_call", lambda: compiled(x, y)[1]()), ("primal_call", lambda: primal(x, y))):
            result[key] = min(_timed(clock, call) for _ in range(5))
        return result


def _timed(clock, call) -> float:
    start = clock()
    call()
    return clock() - start


def measure(lines: int, timeout: float = 300, clock: str = "wall", processes: int = PROCESSES) -> dict:
    """First-call timings of generated ``lines``-line functions, measured in ``processes`` fresh Python
    processes one after another and combined by :func:`combine` (``clock="cpu"``: each process's CPU
    time, steadier than the wall clock on a shared machine)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    runs = []
    for _ in range(processes):
        done = subprocess.run([sys.executable, "-m", "bench.transform_time", str(lines), clock], capture_output=True,
                              text=True, env=env, timeout=timeout, cwd=root)
        if done.returncode != 0:
            lines_out = (done.stderr or done.stdout).strip().splitlines()
            return {"error": lines_out[-1] if lines_out else f"exit {done.returncode}"}
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return combine(runs)


def combine(runs: list[dict]) -> dict:
    """One entry from the processes' own: the first calls of every process pooled, their median and
    range reported (``first_call``, ``first_call_range``, and the same for value_and_grad); every other
    figure the median of the processes' (the cold call, the imports: one sample each per process).

    Why several processes: the machine's speed moves by up to 2x for minutes at a time, and the five
    functions of one process fall in one such spell or another; fifteen over three processes, each
    entry point's taken in turn with the other's, say what a first call usually costs here."""
    out = {"processes": len(runs), "scipy_imported": any(run["scipy_imported"] for run in runs)}
    for key in ("first_call", "first_call_value_and_grad"):
        samples = [t for run in runs for t in run[key + "_samples"]]
        out[key], out[key + "_range"] = statistics.median(samples), (min(samples), max(samples))
    for key in ("numpy_import", "library_import", "decorate", "first_call_cold", "later_call", "primal_call"):
        out[key] = statistics.median(run[key] for run in runs)
    return out


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.transform_time", description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[50, 1000])
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    options = parser.parse_args(argv)
    keys = ("numpy_import", "library_import", "decorate", "first_call_cold", "first_call", "later_call",
            "first_call_value_and_grad")
    print("lines  " + "  ".join(f"{k:>15}" for k in keys) + "  scipy imported")
    for lines in options.lines:
        entry = measure(lines, clock=options.clock)
        if "error" in entry:
            print(f"{lines:5}  {entry['error']}")
            continue
        print(f"{lines:5}  " + "  ".join(f"{entry[k] * 1e3:12.1f} ms" for k in keys) + f"  {entry['scipy_imported']}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) in (2, 3) and sys.argv[1].isdigit():  # the measured process (see measure)
        cpu = sys.argv[2:] == ["cpu"]
        print(json.dumps(_child(int(sys.argv[1]), time.process_time if cpu else time.perf_counter)))
    else:
        sys.exit(main())
