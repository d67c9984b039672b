"""Median wall time of one value-and-gradient call, every peer of a case timed in interleaved rounds.

Contract: ``time_case(runners, budget_s)`` returns ``{peer: seconds per call}`` (the median over rounds).
Each round gives every peer one sample of ``number`` back-to-back calls (``number`` chosen per peer so a
sample lasts about ``sample_s``), so slow drift of the machine (frequency, a neighbour process) hits
every peer alike instead of whichever happened to run last. Every other round runs the peers in reverse
order, so none always follows the same neighbour (whose freed memory and cache state it inherits). Uses :mod:`timeit`, so the statement is
compiled into the loop and garbage collection is off while a sample runs.
"""

from __future__ import annotations

import math
import statistics
import time
import timeit

CLOCK = time.perf_counter  # python -m bench --clock cpu sets time.process_time


def _timer(runner):
    return timeit.Timer(runner.stmt, timer=CLOCK, globals=dict(runner.namespace))


def time_case(runners: dict, budget_s: float = 3.0, sample_s: float = 0.02, min_rounds: int = 5,
              max_rounds: int = 41) -> dict:
    """Median seconds per call for each runner in ``runners`` ({peer: Runner})."""
    timers = {peer: _timer(r) for peer, r in runners.items()}
    if budget_s <= 0:  # --quick: one call each shows the statement runs; no statistics
        return {peer: timer.timeit(1) for peer, timer in timers.items()}
    numbers, per_round = {}, 0.0
    for peer, timer in timers.items():
        timer.timeit(1)  # warm caches and allocator
        once = max(min(timer.repeat(3, 1)), 1e-9)
        numbers[peer] = max(1, math.ceil(sample_s / once))
        per_round += numbers[peer] * once
    rounds = int(min(max_rounds, max(min_rounds, budget_s / max(per_round, 1e-9))))
    samples = {peer: [] for peer in timers}
    order = list(timers)
    for round_ in range(rounds):
        for peer in order if round_ % 2 == 0 else reversed(order):
            samples[peer].append(timers[peer].timeit(numbers[peer]) / numbers[peer])
    return {peer: statistics.median(s) for peer, s in samples.items()}
