"""scripts/gpu_survey.py on CPU tensors: the GPU session's survey still runs where no GPU is (a smoke test;
the programs' checks themselves are tests/test_fuzz_programs.py's)."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gpu_survey.py"
pytest.importorskip("torch")


def _survey():
    spec = importlib.util.spec_from_file_location("gpu_survey", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_survey_records_failures_and_replays_them(tmp_path, capsys):
    survey = _survey()
    failures = tmp_path / "failures.jsonl"
    assert survey.main(["run", str(failures), "--library", "torch", "--examples", "20", "--seconds", "120"]) == 0
    assert "torch: {'programs checked against finite differences': 20" in capsys.readouterr().out
    # A program the survey would have recorded (a passing one here): replay checks it again.
    entry = {"library": "torch", "error": "", "mask": [True], "args": [[0.5, 1.5, -0.25]], "traceback": "",
             "source": "import numpy as np\nfrom autodiffsource import δ\n\n@δ\ndef f(x0):\n"
                       "    return (x0 * x0 * 0.5).sum()\n"}  # (a method: np.sum would hand torch an axis)
    failures.write_text(json.dumps(entry) + "\n")
    assert survey.main(["replay", str(failures), "--library", "torch"]) == 0
    assert "1  passes" in capsys.readouterr().out
