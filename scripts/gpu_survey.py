"""Random programs on GPU arrays with every failure recorded, for a GPU session's few device minutes.

    python scripts/gpu_survey.py run OUT.jsonl [--library cupy torch-cuda] [--examples 3000] [--seconds 200]
    python scripts/gpu_survey.py replay FAILURES.jsonl [--library cupy]

``tests/test_gpu.py`` stops at the first failing program, as a test does; this survey keeps going. ``run``
checks the program fuzzer's programs (``tests/strategies.py``) on each library through
``tests/test_fuzz_programs.py``'s ``check_program_on_library`` (the value and partials of the NumPy run's
central differences, in the library's own array type) and writes one JSON line per failing program: the
first line of the error, the program's source, arguments and mask, and the traceback of what δ raised (where
the failure was δ raising), so the failures can be grouped and fixed on a machine without a GPU. ``replay``
checks a file of them again (after a fix) and prints how many pass. Each stops after ``--seconds``.

CPU libraries' names (``torch``, ``dask``...) work too, to try the script where no GPU is, and ``cupy-like``
(tests/cupy_like.py: NumPy arrays behind CuPy's refusals) replays CuPy's failures of a NumPy leak on the CPU.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("SCIPY_ARRAY_API", "1")
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def library(name: str):
    from backend_cases import cpu_libraries, cupy_like_library, gpu_libraries

    found = {lib.name: lib for lib in gpu_libraries()[0] + cpu_libraries() + [cupy_like_library()]}
    if name not in found:
        sys.exit(f"no array library {name!r} here (found: {', '.join(found)})")
    return found[name]


def checked(fuzz, program, lib) -> None:
    """``check_program_on_library``; on CPU tensors, noting where NumPy turned a tensor into an array (the
    function itself left torch there, as the torch fuzz test allows)."""
    if lib.name != "torch":
        fuzz.check_program_on_library(program, lib)
        return
    with fuzz._tensors_made_numpy() as made_numpy:
        fuzz.check_program_on_library(program, lib, made_numpy)


def raised_in_delta(error: AssertionError) -> str:
    """The traceback of what δ raised, where the check's failure is that (its assertion hides it from
    Hypothesis's report but keeps it as the context); "" for a wrong value or partial."""
    context = error.__context__
    return "".join(traceback.format_exception(context)) if context is not None else ""


class TimeUp(Exception):
    """Raised from the property when ``--seconds`` have passed: Hypothesis stops at the first exception."""


def _time_was_up(error: BaseException) -> bool:
    """Whether ``error`` is the TimeUp that ends a run, also as Hypothesis wraps it (replaying the example
    that raised it can pass before the time was up: a FlakyFailure holding the TimeUp)."""
    return isinstance(error, TimeUp) or any(_time_was_up(e) for e in getattr(error, "exceptions", ()))


def run(lib, out_path: str, examples: int, seconds: float, seed_value: int) -> None:
    from hypothesis import given, reject, seed, settings

    import test_fuzz_programs as fuzz
    from strategies import programs

    start, failures, before = time.time(), 0, collections.Counter(fuzz.STATS)  # (counts of this run only)
    with open(out_path, "a") as out:
        @seed(seed_value)
        @settings(fuzz.FUZZ_SETTINGS, max_examples=examples, phases=[fuzz.Phase.generate])
        @given(programs())
        def check(program):
            nonlocal failures
            if time.time() - start > seconds:
                raise TimeUp  # (a rejection would not end it: Hypothesis goes on generating up to its limit)
            if lib.name == "cupy-like" and "special." in program.source:
                reject()  # (the stand-in has no special-function library: CuPy's is cupyx's, on a GPU)
            try:
                checked(fuzz, program, lib)
            except AssertionError as error:
                failures += 1
                out.write(json.dumps({"library": lib.name, "error": str(error).split("\n")[0][:400],
                                      "source": program.source, "mask": list(program.mask),
                                      "args": [a.tolist() if hasattr(a, "tolist") else a for a in program.args],
                                      "traceback": raised_in_delta(error)[-3000:]}) + "\n")
                out.flush()
                reject()

        try:
            check()
        except Exception as error:  # noqa: BLE001 - Hypothesis gave up (too many rejections): a report
            if not _time_was_up(error):
                print(f"  stopped: {type(error).__name__}: {str(error)[:200]}")
    counts = {k.split(": ", 1)[1]: v - before[k] for k, v in fuzz.STATS.items() if k.startswith(lib.name + ":")}
    print(f"{lib.name}: {counts}, {failures} failing, {time.time() - start:.0f} s", flush=True)


def replay(lib, path: str) -> None:
    import hypothesis.errors
    import numpy as np

    import test_fuzz_programs as fuzz
    from strategies import Program

    fuzz.note = lambda text: None  # (Hypothesis's notes: outside a test there is none to add to)
    outcomes = collections.Counter()
    for line in open(path):
        entry = json.loads(line)
        program = Program(source=entry["source"], entry="f", mask=tuple(entry["mask"]), features=frozenset(),
                          args=[np.array(a) if isinstance(a, list) else a for a in entry["args"]])
        try:
            checked(fuzz, program, lib)
            outcomes["passes"] += 1
        except hypothesis.errors.UnsatisfiedAssumption:
            outcomes["skipped (the function itself raised, or not smooth)"] += 1
        except AssertionError as error:
            outcomes["fails: " + str(error).split("\n")[0][:150]] += 1
    for outcome, count in outcomes.most_common():
        print(f"{count:6d}  {outcome}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["run", "replay"])
    parser.add_argument("path", help="run: where to append the failures (JSON lines); replay: such a file")
    parser.add_argument("--library", nargs="+", default=["cupy", "torch-cuda"])
    parser.add_argument("--examples", type=int, default=3000, help="programs per library (run)")
    parser.add_argument("--seconds", type=float, default=200.0, help="time per library (run)")
    parser.add_argument("--seed", type=int, default=20261201)
    options = parser.parse_args(argv)
    for name in options.library:
        if options.mode == "run":
            run(library(name), options.path, options.examples, options.seconds, options.seed)
        else:
            replay(library(name), options.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
