"""Turn benchmark results into BENCHMARKS.md, a PNG chart and a JSON record.

Contract: :func:`write` takes the results dictionary built by :mod:`bench.__main__` (times in seconds,
memory in bytes, cells that could not run as strings) and writes ``BENCHMARKS.md``, the chart and
``results.json`` into a folder; :func:`markdown` alone returns the text. Nothing here measures.
"""

from __future__ import annotations

import json
import os

from .peers import AUTODIFFSOURCE_PEERS, LABELS, PEERS
from .jaxjit import TARGET as JIT_DELTA_TARGET
from .transform_time import FUNCTIONS
from .workloads import CASES, CASES_BY_KEY, MEMORY_TARGET, QUICK_SIZES, TARGETS, TRANSFORM_TARGETS

CHART_NAME = "bench/benchmarks.png"


def format_time(seconds: float) -> str:
    """``3.6 ms``, ``172 µs``, ``0.31 µs``: three significant figures at most."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            value = seconds / scale
            return f"{value:.3g} {unit}"
    raise AssertionError


def format_ratio(ratio: float) -> str:
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.3g}×" if ratio < 1000 else f"{ratio:.0f}×"


def format_bytes(n) -> str:
    return "n/a" if n is None else f"{n / 2 ** 20:.1f} MiB"


def _cell(results: dict, key: str, peer: str, ratio: bool) -> str:
    entry = results["times"].get(key, {}).get(peer)
    if isinstance(entry, str):
        return entry
    if entry is None:
        return "–"
    base = results["times"][key]["handwritten"]
    if not ratio or peer == "handwritten":
        return format_time(entry)
    return format_ratio(entry / base) + _range(results.get("spread", {}).get("times", {}).get(key, {}).get(peer)
                                                if peer in AUTODIFFSOURCE_PEERS else None)


def _range(spread) -> str:
    """`` (0.98–1.12)``: the lowest and highest of the processes' ratios (see bench/processes.py)."""
    return "" if not spread else f" ({spread[0]:.2f}–{spread[1]:.2f})"


def markdown(results: dict) -> str:
    """The body of BENCHMARKS.md."""
    out = ["# Benchmarks", "",
           "Medians of one value-and-gradient call, every peer in the same process on the same inputs, "
           "timed in interleaved rounds; each gradient was checked against the hand-written NumPy "
           "gradient (itself checked against central finite differences) before it was timed. "
           "Ratios are to the hand-written gradient (lower is faster). The workloads are issue 6's, "
           "defined [below](#workloads) and in `bench/workloads.py`.", ""]
    count = results.get("processes", 1)
    if count > 1:
        out += [f"Each ratio is the median over {count} fresh processes of the ratio measured within each "
                "(a process's memory layout moves its ratios by up to ±10% on this machine, and more rounds in "
                "one process cannot average that out: `bench/processes.py`); autodiffsource's columns give "
                "the lowest and highest of them in brackets.", ""]
    if results.get("clock") == "cpu" or results.get("threads"):
        out += [f"Clock: {'CPU time of the process (all threads)' if results.get('clock') == 'cpu' else 'wall'}; "
                f"threads: {results.get('threads') or 'library defaults'}.", ""]
    if results.get("quick"):
        out += ["**Quick run (`--quick`): small sizes and a handful of samples; these numbers only show "
                "that everything runs.**", ""]
    out += ["## Time, as a ratio to the hand-written gradient", ""]
    header = ["workload"] + [LABELS[p] for p in PEERS] + ["target"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * len(header))
    for case in CASES:
        if case.key not in results["times"]:
            continue
        row = [results["labels"][case.key]] + [_cell(results, case.key, p, True) for p in PEERS]
        row.append(f"≤ {TARGETS[case.key]}×")
        out.append("| " + " | ".join(row) + " |")
    out += ["", "The target column is issue 6's goal for autodiffsource. *value_and_grad* is `value_and_grad(f, argnums)` (JAX's "
            "name; its pullback runs once, so the generated code may reuse the forward pass's dead arrays); "
            "*δf + pullback* is the seed's API, `v, back = δf(x); back()`, whose pullback may be called again.", ""]
    secondary = results.get("secondary")
    if secondary:
        out += [f"### The same, steadier: {secondary.get('caption', '')}", "",
                "| workload | " + " | ".join(LABELS[p] for p in PEERS) + " |", "|" + "---|" * (len(PEERS) + 1)]
        for case in CASES:
            if case.key in secondary["times"]:
                out.append("| " + " | ".join([case.key] + [_cell(secondary, case.key, p, True) for p in PEERS])
                           + " |")
        out.append("")
    out += ["## Time per call", "", "| workload | " + " | ".join(LABELS[p] for p in PEERS) + " |",
            "|" + "---|" * (len(PEERS) + 1)]
    for case in CASES:
        if case.key in results["times"]:
            out.append("| " + " | ".join([results["labels"][case.key]] + [
                _cell(results, case.key, p, False) for p in PEERS]) + " |")
    out += ["", f"![ratio to hand-written, log scale]({CHART_NAME})", ""]
    out += _beyond_section(results)
    out += _jit_delta_section(results) + _memory_section(results) + _transform_section(results)
    out += _machine_section(results)
    return "\n".join(out) + "\n"


def _beyond_section(results: dict) -> list[str]:
    from .beyond import table

    if not results.get("beyond"):
        return []
    return ["## Beyond the four workloads", "",
            "Functions a NumPy user writes, outside issue 6's targets (`bench/beyond.py`, "
            "`python -m bench.beyond`): B1 `np.sum((x - y) ** 2 - y ** 2)` of two arrays of one shape, B2 ridge "
            "regression (gradient in w), B3 logistic regression's mean log-loss (in w and b), X 256×64. The "
            "hand-written gradients follow the forward pass without algebra an AD tool could not do.", ""] \
        + table(results["beyond"]) + [""]


def _jit_delta_section(results: dict) -> list[str]:
    entries = results.get("jit_delta", {})
    secondary = (results.get("secondary") or {}).get("jit_delta", {})
    if not entries and not secondary:
        return []
    out = ["## δ under jax.jit, on JAX arrays", "",
           "One `jax.jit` function calls the δ function and its pullback on JAX arrays (JAX traces the "
           "generated code; XLA compiles value and gradient together), beside `jax.jit(jax.value_and_grad(f))` "
           "of the JAX port of the same primal, in the same process, timed in interleaved rounds; both "
           "gradients were checked against the hand-written one and against each other first "
           "(`bench/jaxjit.py`). *First call* is trace + compile + run after JAX itself was warmed up, the "
           "fastest of three per contender (orders δ, JAX, JAX, δ, δ, JAX). "
           f"Target: δ within {JIT_DELTA_TARGET}× of JAX's own.", ""]
    if entries:
        out += _jit_delta_table(entries, results.get("quick"), results.get("spread", {}).get("jit_delta", {}))
    if secondary:
        caption = results["secondary"].get("caption", "").replace(", ratio to hand-written", "")
        out += [f"### The same, steadier: {caption}", ""]
        out += _jit_delta_table(secondary, False, results["secondary"].get("spread", {}).get("jit_delta", {}))
    return out


def _jit_delta_table(entries: dict, quick, spread: dict) -> list[str]:
    out = ["| workload | jax.jit(value_and_grad) | δ under jax.jit | ratio | first call, jax.jit | "
           "first call, δ | ratio | target |", "|---|---|---|---|---|---|---|---|"]
    for key, entry in entries.items():
        label = CASES_BY_KEY[key].label
        if quick and key in QUICK_SIZES:
            label += f" (quick: size {QUICK_SIZES[key]})"
        cells = [label]
        for pair in (("jax.jit", "δ"), ("first_jax.jit", "first_δ")):
            values = [entry.get(k, entry.get(k.replace("first_", ""))) for k in pair]
            cells += [format_time(v) if isinstance(v, float) else str(v) for v in values]
            cells.append(format_ratio(values[1] / values[0]) + _range(spread.get(key, {}).get(pair[1]))
                         if all(isinstance(v, float) for v in values) else "–")
        cells.append(f"≤ {JIT_DELTA_TARGET}×")
        out.append("| " + " | ".join(cells) + " |")
    return out + [""]


def _memory_section(results: dict) -> list[str]:
    memory = results.get("memory", {})
    if not memory:
        return []
    out = ["## Peak memory of one call", "",
           "Each peer in a fresh process: inputs built, transform/jit and one warm-up call done, then the "
           "rise of peak RSS (VmHWM) during one more call. `tracemalloc` (which sees NumPy's buffers, not "
           "torch's or XLA's) agrees for the NumPy-based peers. The result (value and partials) is alive "
           f"at the peak, so it is counted. Target for autodiffsource: ≤ {MEMORY_TARGET}× hand-written.", "",
           "| workload | " + " | ".join(LABELS[p] for p in PEERS) + " |", "|" + "---|" * (len(PEERS) + 1)]
    for key, per_peer in memory.items():
        base = (per_peer.get("handwritten") or {}).get("rss")
        cells = []
        for peer in PEERS:
            entry = per_peer.get(peer)
            if entry is None:
                cells.append("–")
            elif entry.get("rss") is None:
                cells.append(entry.get("error", "n/a"))
            else:
                text = format_bytes(entry["rss"])
                if base and peer != "handwritten":
                    text += f" ({entry['rss'] / base:.2f}×)"
                if entry.get("traced") is not None:
                    text += f"; traced {format_bytes(entry['traced'])}"
                cells.append(text)
        out.append("| " + " | ".join([results["memory_labels"][key]] + cells) + " |")
    return out + [""]


def _transform_section(results: dict) -> list[str]:
    transform = results.get("transform", {})
    secondary = (results.get("secondary") or {}).get("transform", {})
    if not transform and not secondary:
        return []
    out = ["## First call (transform + compile)", "",
           "Generated straight-line NumPy functions (`bench/transform_time.py`) written to a module and "
           "imported in a fresh process; `@δ` runs at import (decorate), the first `δf(x, y)` call "
           "transforms, compiles and runs it and its pullback. *cold* is the first function transformed in "
           "the process (it also pays for reading the rule library); *first call* is the median (and range) "
           f"of the next {FUNCTIONS} functions of the same size{_over_processes(transform or secondary)}; "
           "*value_and_grad* the same for the first call of `value_and_grad(g, argnums=(0, 1))(x, y)` of as "
           "many undecorated ones (its one function is compiled then), each taken in turn with a δf's. "
           "Library import is `import autodiffsource`; *NumPy import* (`import numpy` in the same fresh "
           "process) is a yardstick of the machine's speed at the time: on a shared machine it moves by "
           "1.5-2×, and the first calls move with it.", ""]
    if transform:
        out += _transform_table(transform)
    if secondary:
        caption = results["secondary"].get("caption", "").replace(", ratio to hand-written", "")
        out += [f"### The same, steadier: {caption}", ""] + _transform_table(secondary)
    return out


def _over_processes(transform: dict) -> str:
    """`` in each of 3 fresh processes run one after another (15 in all)``, for entries that say so."""
    counts = {entry.get("processes", 1) for entry in transform.values() if "error" not in entry}
    if len(counts) != 1 or counts == {1}:
        return ""
    (n,) = counts
    return (f" in each of {n} fresh processes run one after another ({FUNCTIONS * n} in all; the other "
            "figures are the median of the processes')")


def _transform_table(transform: dict) -> list[str]:
    out = ["| lines | NumPy import | library import | decorate | first call, cold | first call | value_and_grad | "
           "later calls | the primal | target |", "|---|---|---|---|---|---|---|---|---|---|"]
    for lines, entry in transform.items():
        if "error" in entry:
            out.append(f"| {lines} | {entry['error']} |||||||||")
            continue
        target = TRANSFORM_TARGETS.get(int(lines))
        out.append("| " + " | ".join([str(lines)] + [format_time(entry[k]) for k in (
            "numpy_import", "library_import", "decorate", "first_call_cold")]
            + [_with_range(entry, "first_call"), _with_range(entry, "first_call_value_and_grad")]
            + [format_time(entry[k]) for k in ("later_call", "primal_call")]
            + [f"≤ {format_time(target)}" if target else ""]) + " |")
    return out + [""]


def _with_range(entry: dict, key: str) -> str:
    """``41 ms (38 ms-47 ms)``: a median with the range it came from, where the entry has them."""
    if key not in entry:
        return "–"
    low_high = entry.get(key + "_range")
    spread = f" ({format_time(low_high[0])}–{format_time(low_high[1])})" if low_high else ""
    return format_time(entry[key]) + spread


WORKLOADS = """## Workloads

- **W1** `sum(100*(x[1:] - x[:-1]**2)**2 + (1 - x[:-1])**2)` (rosenbrock), float64, n = 10, 10^3, 10^6.
- **W2** the seed's autoencoder 784-300-100-784: `sigmoid(We1 @ input + b1)`, `sigmoid(We2 @ h1 + b2)`,
  `r = sigmoid(Wd @ h2)`, loss `sum((input - r)**2)`, float32, input constant; one vector, or a batch of
  64 columns with (n, 1) biases.
- **W3** `(x + 2*y) * y**2` on Python floats (each framework's call includes making its scalars).
- **W4** `h = tanh(W @ h + x_t)` for 50 steps, W 64×64, loss `sum(h_T**2)`, gradient with respect to W
  and h0 (xs constant), float64; autodiffsource differentiates the Python `for` loop itself.

The hand-written gradients are in `bench/handwritten.py`; the peers (autograd, torch eager with
`torch.autograd.grad`, `jax.value_and_grad` eager and under `jax.jit`, JAX in 64-bit mode) differentiate
line-for-line ports of the same functions (`bench/peers.py`). Array inputs are converted to each
framework's arrays once, outside the timed loop.
"""


def _machine_section(results: dict) -> list[str]:
    machine = results.get("machine", {})
    out = WORKLOADS.splitlines() + ["", "## Machine and versions", ""]
    out += [f"- {k}: {v}" for k, v in machine.items()]
    out += ["", "## Rerun", "", "```bash", "make bench        # full run, rewrites BENCHMARKS.md and the chart",
            "make bench-quick  # every workload and peer once on small sizes (what CI runs)", "```", ""]
    notes = results.get("notes", [])
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return out


def chart(results: dict, path: str) -> None:
    """Grouped bars of each peer's ratio to the hand-written gradient, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [c.key for c in CASES if c.key in results["times"]]
    peers = [p for p in PEERS if p != "handwritten"]
    fig, ax = plt.subplots(figsize=(11, 4.8))
    width = 0.8 / len(peers)
    for i, peer in enumerate(peers):
        xs, ys = [], []
        for j, key in enumerate(keys):
            entry = results["times"][key].get(peer)
            if isinstance(entry, float):
                xs.append(j + (i - (len(peers) - 1) / 2) * width)
                ys.append(entry / results["times"][key]["handwritten"])
        ax.bar(xs, ys, width, label=LABELS[peer])
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(keys)), keys)
    ax.set_ylabel("time / hand-written NumPy (log)")
    title = "value + gradient, ratio to hand-written (lower is faster)"
    ax.set_title(title + (" — quick run" if results.get("quick") else ""))
    ax.legend(ncol=3, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: dict, folder: str) -> dict:
    """Write BENCHMARKS.md, the chart and results.json under ``folder``; return their paths."""
    chart_path = os.path.join(folder, CHART_NAME)
    os.makedirs(os.path.dirname(chart_path), exist_ok=True)
    chart(results, chart_path)
    md_path = os.path.join(folder, "BENCHMARKS.md")
    with open(md_path, "w") as file:
        file.write(markdown(results))
    json_path = os.path.join(folder, "bench", "results.json")
    with open(json_path, "w") as file:
        json.dump(results, file, indent=1, ensure_ascii=False)
    return {"markdown": md_path, "chart": chart_path, "json": json_path}
