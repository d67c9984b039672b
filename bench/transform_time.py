"""First-call cost: the transform and compile of a fresh function, in a fresh subprocess.

Contract: ``measure(lines)`` generates a straight-line NumPy function of ``lines`` statements, writes it
to a temporary module, imports it (``@δ`` runs there: getsource and the syntax check; "decorate" is per function), and times the
first call of ``δf`` (transform + compile + one run), a second call, and the plain function, all in a
fresh Python process. It does this for two such functions in a row: the first pays the library's
one-time costs (reading rule sources), the second is what every later function pays. Then the first
call of ``value_and_grad(g, argnums=(0, 1))`` of a third function of the same size (the JAX-named entry
point: its one function is compiled on that call). Returns seconds:
``{"numpy_import": ..., "library_import": ..., "decorate": ..., "first_call_cold": ..., "first_call": ...,
"later_call": ..., "primal_call": ..., "first_call_value_and_grad": ...}`` (``library_import`` is
``import autodiffsource`` after NumPy), and ``"scipy_imported"``: whether importing the library imported
SciPy (it should not).

``python -m bench.transform_time [--clock cpu]`` prints the figures for 50 and 1,000 lines (``--lines``
for others), each measured in a fresh process; ``python -m bench.transform_time N [cpu]`` is that process.
"""

from __future__ import annotations

import importlib
import json
import os
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


def _child(lines: int, clock=time.perf_counter) -> dict:
    start = clock()
    import numpy as np

    numpy_import = clock() - start
    start = clock()
    import autodiffsource  # noqa: F401  (its import is timed on its own, not as part of decorating)

    library_import = clock() - start
    scipy_imported = "scipy" in sys.modules
    with tempfile.TemporaryDirectory() as folder:
        module_name = f"bench_generated_{lines}"
        text = ("import numpy as np\nfrom autodiffsource import δ\n\n\n@δ\n" + generate("first", lines, 0)
                + "\n\n@δ\n" + generate("second", lines, 1) + "\n\n" + generate("third", lines, 2))
        with open(os.path.join(folder, module_name + ".py"), "w") as file:
            file.write(text)
        sys.path.insert(0, folder)
        start = clock()
        module = importlib.import_module(module_name)
        imported = clock() - start
        x, y = np.linspace(-1, 1, 16), np.linspace(1, 2, 16)
        result = {"numpy_import": numpy_import, "library_import": library_import, "scipy_imported": scipy_imported,
                  "decorate": imported / 2}
        for fname, key in (("first", "first_call_cold"), ("second", "first_call")):
            stub = getattr(module, "δ" + fname)
            start = clock()
            value, pullback = stub(x, y)
            pullback()
            result[key] = clock() - start
        compiled, primal = module.δsecond, module.second
        for key, call in (("later_call", lambda: compiled(x, y)[1]()), ("primal_call", lambda: primal(x, y))):
            best = float("inf")
            for _ in range(5):
                start = clock()
                call()
                best = min(best, clock() - start)
            result[key] = best
        value_and_grad = autodiffsource.value_and_grad(module.third, argnums=(0, 1))
        start = clock()
        value_and_grad(x, y)
        result["first_call_value_and_grad"] = clock() - start
        return result


def measure(lines: int, timeout: float = 300, clock: str = "wall") -> dict:
    """First-call timings of generated ``lines``-line functions, measured in a fresh Python process
    (``clock="cpu"``: that process's CPU time, steadier than the wall clock on a shared machine)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "bench.transform_time", str(lines), clock], capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=root)
    if done.returncode != 0:
        lines_out = (done.stderr or done.stdout).strip().splitlines()
        return {"error": lines_out[-1] if lines_out else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


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
