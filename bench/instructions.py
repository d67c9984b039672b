"""First-call cost counted in instructions (valgrind's callgrind), a figure the machine's load does not move.

Contract: ``count(lines, entry, calls)`` returns the instructions one first call of a generated
``lines``-line function costs (``entry``: ``"delta"``, the first call of ``δf`` and its pullback, or
``"value_and_grad"``), as the difference of two processes run under callgrind, which import and decorate
alike: one that makes ``calls`` first calls after a cold one, and one that makes the cold one only, over
``calls``. The functions and the calls are those :mod:`bench.transform_time` times. Needs ``valgrind`` on
the PATH.

Why: on this shared machine a first call's time, on either clock, moves by up to 2x between minutes (memory
reclaim, page faults), so a change of a few percent cannot be told from noise; the same two runs counted
by callgrind differ by 1-2%. The counts say what a change to the transform costs or saves, not how long it
takes (time is BENCHMARKS.md's): use them to compare two versions, each run here.

``python -m bench.instructions [--lines 50 1000] [--entry delta value_and_grad] [--calls 2]``: about a
minute per 50-line figure and four per 1,000-line one (a process under callgrind runs ~50x slower).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

ENTRIES = ("delta", "value_and_grad")
_COLLECTED = re.compile(r"Collected : (\d+)")


def count(lines: int, entry: str = "delta", calls: int = 2, timeout: float = 1800) -> float:
    """Instructions per first call of a ``lines``-line function through ``entry`` (see the module docstring)."""
    if entry not in ENTRIES:
        raise ValueError(f"entry must be one of {ENTRIES}, not {entry!r}")
    made, cold_only = (_instructions(lines, entry, calls, n, timeout) for n in (calls, 0))
    return (made - cold_only) / calls


def _instructions(lines: int, entry: str, calls: int, made: int, timeout: float) -> int:
    """The instructions a process executes, by callgrind, that holds ``calls + 1`` functions (both
    processes decorate as many) and makes ``made`` first calls after a cold one."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # (hash seeds fixed: sets and dicts of strings then iterate alike in both processes)
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={os.devnull}", sys.executable,
               "-m", "bench.instructions", "--child", str(lines), entry, str(calls), str(made)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, cwd=root)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind run failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return int(found.group(1))


def _child(lines: int, entry: str, calls: int, made: int) -> None:
    """Write ``calls + 1`` fresh functions, decorated for ``δf`` and plain for value_and_grad (as the
    benchmark's), and make the first call of ``made + 1`` of them, the cold one first."""
    import importlib

    import numpy as np

    from bench.transform_time import generate

    with tempfile.TemporaryDirectory() as folder:
        module = "bench_instructions_model"
        with open(os.path.join(folder, module + ".py"), "w") as file:
            decorator = "\n\n@δ\n" if entry == "delta" else "\n\n"
            file.write("import numpy as np\nfrom autodiffsource import δ\n" + "".join(
                decorator + generate(f"f{k}", lines, k) for k in range(calls + 1)))
        sys.path.insert(0, folder)
        model = importlib.import_module(module)
        import autodiffsource

        x, y = np.linspace(-1, 1, 16), np.linspace(1, 2, 16)
        for k in range(made + 1):
            if entry == "delta":
                value, pullback = getattr(model, f"δf{k}")(x, y)
                pullback()
            else:
                autodiffsource.value_and_grad(getattr(model, f"f{k}"), argnums=(0, 1))(x, y)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[50, 1000])
    parser.add_argument("--entry", choices=ENTRIES, nargs="+", default=list(ENTRIES))
    parser.add_argument("--calls", type=int, default=2, help="first calls counted per figure (after a cold one)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        lines, entry, calls, made = args.child
        _child(int(lines), entry, int(calls), int(made))
        return 0
    for lines in args.lines:
        for entry in args.entry:
            print(f"{lines:>5} lines, {entry:<14}: {count(lines, entry, args.calls) / 1e6:8.1f} M instructions"
                  " per first call", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
