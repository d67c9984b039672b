"""``python -m bench.profile CASE``: where a generated gradient spends its time, line by line.

Contract: for a case key of :mod:`bench.workloads` (``W1-1e6``, ``W2-batch``, ...) this recompiles the
δ function's generated text with a clock read after every statement (loop bodies included, summed
over iterations), runs value + gradient ``--calls`` times and prints the generated source with the
mean time per call of each line and its share of the total, next to the hand-written gradient's
time; ``--handwritten`` profiles the hand-written gradient (bench/handwritten.py) line by line too,
to read beside it. The clock costs about a tenth of a microsecond per statement, which is measured
and subtracted; the per-line figures are for finding hot spots, the benchmark proper reports the timing.

All clocks here are CPU time of this process (``time.process_time``), not wall time: on a shared
machine the wall clock charges whichever line was running when another process got the core. Run it
with ``OPENBLAS_NUM_THREADS=1`` so that BLAS work is done, and counted, on this thread.
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import sys
import time
import timeit

os.environ.setdefault("JAX_ENABLE_X64", "1")

_MARK = "__bench_mark"


class _Instrument(ast.NodeTransformer):
    """After every statement in every function body: ``__bench_mark(<line of that statement>)``."""

    def _mark(self, line: int) -> ast.stmt:
        return ast.Expr(ast.Call(ast.Name(_MARK, ast.Load()), [ast.Constant(line)], []))

    def _body(self, body: list) -> list:
        out = []
        for stmt in body:
            self.visit(stmt)
            if isinstance(stmt, ast.Return) and stmt.value is not None:
                temp = ast.Name("__bench_result", ast.Store())
                out += [ast.Assign([temp], stmt.value, lineno=stmt.lineno), self._mark(stmt.lineno),
                        ast.Return(ast.Name("__bench_result", ast.Load()))]
            else:
                out += [stmt, self._mark(stmt.lineno)]
        return out

    def generic_visit(self, node):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                setattr(node, field, self._body(body))
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.stmt):
                self.visit(child)
        return node

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        if node.name.startswith("_make_"):
            return node
        node.body.insert(0, self._mark(0))  # line 0: the call's own entry, reset the clock
        return node


def instrumented(compiled):
    """A copy of ``compiled`` (a δ function) whose statements report to a clock; returns (fn, clock)."""
    text = compiled.__source__
    tree = _Instrument().visit(ast.parse(text))
    ast.fix_missing_locations(tree)
    factory = next(n.name for n in tree.body if isinstance(n, ast.FunctionDef))
    bindings = dict(zip(compiled.__code__.co_freevars, (c.cell_contents for c in compiled.__closure__)))
    clock = {"last": 0.0, "acc": {}, "count": {}}
    perf = time.process_time

    def mark(line, clock=clock, perf=perf):
        now = perf()
        if line:
            acc, count = clock["acc"], clock["count"]
            acc[line] = acc.get(line, 0.0) + (now - clock["last"])
            count[line] = count.get(line, 0) + 1
        clock["last"] = perf()

    namespace: dict = {}
    user_globals = dict(compiled.__globals__, **{_MARK: mark})
    exec(compile(tree, f"<profiled {compiled.__qualname__}>", "exec"), user_globals, namespace)
    params = namespace[factory].__code__.co_varnames[:namespace[factory].__code__.co_argcount]
    return namespace[factory](**{p: bindings[p] for p in params if p in bindings}), clock


def _mark_overhead(fn) -> float:
    """Seconds a line's figure over-counts per execution: what back-to-back marks measure."""
    mark = fn.__globals__[_MARK]
    best = float("inf")
    for _ in range(5):
        probe = {"last": 0.0, "acc": {}, "count": {}}
        mark.__defaults__ = (probe,) + mark.__defaults__[1:]
        mark(0)
        for _ in range(20000):
            mark(-1)
        best = min(best, probe["acc"][-1] / probe["count"][-1])
    return best


def profile(case_key: str, calls: int = 200, size: int | None = None, out=sys.stdout) -> dict:
    """Print the per-line profile of the generated gradient for ``case_key``; return {line: seconds}."""
    from . import handwritten, peers, workloads
    from autodiffsource.api import transform

    case = workloads.CASES_BY_KEY[case_key]
    args = workloads.make_inputs(case, size)
    primal, mask, _, _ = peers.autodiffsource_function(case)
    compiled = transform(primal, mask)
    fn, clock = instrumented(compiled)
    v, pb = fn(*args)
    pb()
    overhead = _mark_overhead(fn)
    fn.__globals__[_MARK].__defaults__ = (clock,) + fn.__globals__[_MARK].__defaults__[1:]
    clock["acc"].clear()
    clock["count"].clear()
    original_acc = clock["acc"]
    start = time.process_time()
    for _ in range(calls):
        v, pb = fn(*args)
        pb()
    elapsed = (time.process_time() - start) / calls
    per_line = {line: max(0.0, t - overhead * clock["count"][line]) / calls for line, t in original_acc.items()}
    hand = handwritten.HANDWRITTEN[case.workload]
    cpu = time.process_time
    number = max(1, int(0.05 / max(timeit.timeit(lambda: hand(*args), number=3, timer=cpu) / 3, 1e-7)))
    hand_samples, plain_samples = [], []
    for _ in range(9):  # interleaved, medians
        hand_samples.append(timeit.timeit(lambda: hand(*args), number=number, timer=cpu) / number)
        plain_samples.append(timeit.timeit(lambda: (lambda o: o[1]())(compiled(*args)), number=number,
                                           timer=cpu) / number)
    hand_time, plain = statistics.median(hand_samples), statistics.median(plain_samples)
    total = sum(per_line.values())
    print(f"# {case.label}: generated {plain * 1e6:.1f} µs per value+gradient (uninstrumented), "
          f"hand-written {hand_time * 1e6:.1f} µs, ratio {plain / hand_time:.2f}; instrumented "
          f"{elapsed * 1e6:.1f} µs, of which the lines below {total * 1e6:.1f} µs", file=out)
    for number_, line in enumerate(compiled.__source__.splitlines(), start=1):
        t = per_line.get(number_)
        prefix = f"{t * 1e6:9.2f} µs {100 * t / total:5.1f}% " if t is not None else " " * 23
        print(prefix + "| " + line, file=out)
    return per_line


def profile_handwritten(case_key: str, calls: int = 200, size: int | None = None, out=sys.stdout) -> dict:
    """The same per-line profile for the hand-written gradient of ``case_key`` (bench/handwritten.py),
    to read beside the generated one; returns {line of the function: seconds per call}."""
    import inspect
    import textwrap

    from . import handwritten, workloads

    case = workloads.CASES_BY_KEY[case_key]
    args = workloads.make_inputs(case, size)
    hand = handwritten.HANDWRITTEN[case.workload]
    text = textwrap.dedent(inspect.getsource(hand))
    tree = _Instrument().visit(ast.parse(text))
    ast.fix_missing_locations(tree)
    clock = {"last": 0.0, "acc": {}, "count": {}}
    perf = time.process_time

    def mark(line, clock=clock, perf=perf):
        now = perf()
        if line:
            clock["acc"][line] = clock["acc"].get(line, 0.0) + (now - clock["last"])
            clock["count"][line] = clock["count"].get(line, 0) + 1
        clock["last"] = perf()

    namespace: dict = {}
    exec(compile(tree, f"<profiled {hand.__qualname__}>", "exec"), dict(hand.__globals__, **{_MARK: mark}), namespace)
    fn = namespace[hand.__name__]
    fn(*args)
    overhead = _mark_overhead(fn)
    mark.__defaults__ = (clock,) + mark.__defaults__[1:]
    clock["acc"].clear()
    clock["count"].clear()
    for _ in range(calls):
        fn(*args)
    per_line = {line: max(0.0, t - overhead * clock["count"][line]) / calls for line, t in clock["acc"].items()}
    total = sum(per_line.values())
    print(f"# {case.label}: hand-written gradient, lines {total * 1e6:.1f} µs per call", file=out)
    for number_, line in enumerate(text.splitlines(), start=1):
        t = per_line.get(number_)
        prefix = f"{t * 1e6:9.2f} µs {100 * t / total:5.1f}% " if t is not None else " " * 23
        print(prefix + "| " + line, file=out)
    return per_line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="+", help="case keys, e.g. W1-1e6 W2-batch W4")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--size", type=int, default=None, help="override the case's size")
    parser.add_argument("--handwritten", action="store_true", help="also profile the hand-written gradient")
    options = parser.parse_args(argv)
    for key in options.cases:
        profile(key, options.calls, options.size)
        print()
        if options.handwritten:
            profile_handwritten(key, options.calls, options.size)
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
