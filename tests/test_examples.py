"""Every script in examples/ runs in a fresh interpreter, checks its own results and exits 0."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = ["readme_tour.py", "rosenbrock.py", "autoencoder.py"]


def test_the_seed_examples_are_all_here():
    present = {p.name for p in EXAMPLES.glob("*.py")}
    assert set(SCRIPTS) <= present


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_and_exits_zero(script):
    env = dict(os.environ, MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, str(EXAMPLES / script)], cwd=EXAMPLES, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    assert done.stdout.strip(), f"{script} printed nothing"
