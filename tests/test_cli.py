"""The command line, run for real: ``autodiffsource demo`` and ``autodiffsource show`` in subprocesses.

Also the demo's model in-process: its generated gradient against central differences written here, and
float32 inputs giving float32 partials.
"""

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from autodiffsource import transform
from autodiffsource.cli import load_module_from_path, main, mask_for

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = shutil.which("autodiffsource", path=os.path.dirname(sys.executable))
SUMMARY = re.compile(r"loss per digit (?P<first>[\d.]+) -> (?P<last>[\d.]+) \(held-out (?P<test>[\d.]+)\)")


def run_cli(*args, cwd=None, timeout=120):
    """The installed console script when there is one, else ``python -m autodiffsource``."""
    command = [SCRIPT] if SCRIPT else [sys.executable, "-m", "autodiffsource"]
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=REPO)
    return subprocess.run(command + list(args), capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=timeout)


def is_png(path) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


# ---- demo -------------------------------------------------------------------------------------------

def test_console_script_is_installed():
    assert SCRIPT is not None, "pip install -e . should have put `autodiffsource` beside python"


def test_demo_trains_and_saves_the_figure(tmp_path):
    out = tmp_path / "figure.png"
    result = run_cli("demo", "--epochs", "3", "--hidden", "16", "8", "--output", str(out), "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert "checkdiff: δautoencoderError matches finite differences" in result.stdout
    epochs = re.findall(r"epoch +(\d+)/3 +train loss +([\d.]+) +test loss +([\d.]+)", result.stdout)
    assert [e[0] for e in epochs] == ["1", "2", "3"]
    losses = [float(e[1]) for e in epochs]
    assert losses[2] < 0.8 * losses[0], losses
    summary = SUMMARY.search(result.stdout)
    assert summary and float(summary["last"]) == losses[-1]
    assert re.search(r"\d+\.\d s", result.stdout)  # the wall time
    assert out.exists() and is_png(out) and out.stat().st_size > 10_000


def run_main(capsys, *args):
    """The CLI's own entry function in this process (no interpreter start-up): (status, stdout, stderr)."""
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_demo_quiet_prints_only_the_summary(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run_main(capsys, "demo", "--epochs", "2", "--hidden", "8", "4", "--quiet")
    assert status == 0
    assert out.count("\n") == 1
    summary = SUMMARY.search(out)
    assert float(summary["last"]) < float(summary["first"])
    assert is_png(tmp_path / "autoencoder.png")  # the default --output, in the working directory


def test_demo_per_sample_sgd_float32(tmp_path, capsys):
    status, out, _ = run_main(capsys, "demo", "--epochs", "2", "--hidden", "8", "4", "--batch-size", "1",
                              "--optimizer", "sgd", "--float32", "--quiet", "--output", str(tmp_path / "f.png"))
    assert status == 0
    assert "3000 steps" in out
    summary = SUMMARY.search(out)
    assert float(summary["last"]) < 0.9 * float(summary["first"])


def test_demo_default_trains_well_within_a_minute():
    """The default run (README's first command) must stay well under a minute on 2 cores."""
    from autodiffsource import demo

    result = demo.run(output=None, quiet=True)
    assert result.seconds < 60  # the training loop alone; start-up is a few seconds more
    assert result.train_loss[-1] < 0.2 * result.train_loss[0]
    assert result.test_loss[-1] < 0.2 * result.test_loss[0]  # it generalises to held-out digits


def test_demo_reads_the_same_digits_as_scikit_learn():
    from sklearn.datasets import load_digits

    from autodiffsource import demo

    data, target = demo._digits()
    digits = load_digits()
    np.testing.assert_array_equal(data, digits.data)
    np.testing.assert_array_equal(target, digits.target)


def central_differences(f, args, i, cotangent_seed=0, h=1e-6):
    """d/d args[i] of f(*args), every element, by central differences in float64."""
    grad = np.zeros_like(args[i], dtype=np.float64)
    for k in range(args[i].size):
        plus = [a.copy() for a in args]
        minus = [a.copy() for a in args]
        plus[i].flat[k] += h
        minus[i].flat[k] -= h
        grad.flat[k] = (f(*plus) - f(*minus)) / (2 * h)
    return grad


def test_demo_model_gradient_against_central_differences():
    from autodiffsource import demo

    rng = np.random.default_rng(3)
    weights = demo.init_weights((5, 3), n_inputs=6, seed=3)
    weights[3] += rng.standard_normal((5, 1))
    weights[4] += rng.standard_normal((3, 1))
    x = rng.random((6, 4))
    loss, pullback = demo.δautoencoderError_const6(*weights, x)
    assert loss == pytest.approx(demo.autoencoderError(*weights, x))
    partials = pullback()
    assert len(partials) == 5
    for i, partial in enumerate(partials):
        expected = central_differences(demo.autoencoderError, [*weights, x], i)
        np.testing.assert_allclose(partial, expected, rtol=1e-6, atol=1e-8)


def test_demo_float32_partials_stay_float32():
    from autodiffsource import demo

    weights = demo.init_weights((5, 3), n_inputs=6, dtype=np.float32)
    x = np.random.default_rng(0).random((6, 4)).astype(np.float32)
    loss, pullback = demo.δautoencoderError_const6(*weights, x)
    assert loss.dtype == np.float32
    assert [p.dtype for p in pullback()] == [np.float32] * 5
    assert [p.shape for p in pullback()] == [w.shape for w in weights]


# ---- show -------------------------------------------------------------------------------------------

MODEL = textwrap.dedent("""\
    import numpy as np

    print("module-level output goes to stderr, not into the code")


    def predict(w, x, b):
        return np.tanh(w @ x + b)


    def loss(w, x, b, y):
        err = predict(w, x, b) - y
        return np.sum(err * err)


    def broken(x):
        try:
            return x
        except ValueError:
            return x
    """)


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model_for_show.py"
    path.write_text(MODEL)
    return path


def test_show_prints_the_generated_code_plain_when_piped(model_file):
    result = run_cli("show", f"{model_file}:loss", "--const", "2", "--const", "4")
    assert result.returncode == 0, result.stderr
    assert "\x1b[" not in result.stdout
    assert "def δloss_const2_const4(w, x, b, y):" in result.stdout
    assert "def loss_pullback(" in result.stdout
    assert f"# {model_file.name}:11  err = predict(w, x, b) - y" in result.stdout
    assert "module-level output" in result.stderr and "module-level output" not in result.stdout
    # exactly the text autodiffsource.source gives for that variant
    module = load_module_from_path(str(model_file))
    assert result.stdout == transform(module.loss, (True, False, True, False)).__source__


def test_show_without_const_differentiates_every_argument(model_file):
    result = run_cli("show", f"{model_file}:predict")
    assert result.returncode == 0, result.stderr
    assert "def δpredict(w, x, b):" in result.stdout


def test_show_accepts_the_name_of_a_delta_variant(tmp_path, capsys):
    path = tmp_path / "decorated.py"
    path.write_text("from autodiffsource import δ\n\n\n@δ\ndef g(a, b, c):\n    return a * b * c\n")
    status, out, _ = run_main(capsys, "show", f"{path}:δg_const2")
    assert status == 0 and "def δg_const2(a, b, c):" in out
    status, out, _ = run_main(capsys, "show", f"{path}:δg_const2", "--const", "3")
    assert status == 0 and "def δg_const2_const3(a, b, c):" in out


def test_show_value_and_grad_prints_the_one_function(tmp_path, capsys):
    path = tmp_path / "loss_for_show.py"
    path.write_text("import numpy as np\n\n\ndef loss(x, c):\n    return np.sum(c * x[1:] * x[:-1])\n"
                    "\n\ndef pair(x):\n    return x, x * 2\n")
    status, out, _ = run_main(capsys, "show", f"{path}:loss", "--const", "2", "--value-and-grad")
    assert status == 0 and "def value_and_grad_loss_const2(x, c):" in out and "_pullback" not in out
    assert "# loss_for_show.py:5  return np.sum(c * x[1:] * x[:-1])" in out
    status, _, err = run_main(capsys, "show", f"{path}:pair", "--value-and-grad")
    assert status != 0 and "returns several values" in err


def test_show_highlights_on_a_terminal(model_file):
    command = [SCRIPT] if SCRIPT else [sys.executable, "-m", "autodiffsource"]
    leader, follower = pty.openpty()
    env = dict(os.environ, PYTHONPATH=REPO, TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(command + ["show", f"{model_file}:predict"], stdout=follower,
                            stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=30) == 0
    shown = b"".join(chunks).decode()
    assert "\x1b[" in shown  # ANSI colour codes
    plain = re.sub(r"\x1b\[[0-9;]*m", "", shown).replace("\r\n", "\n")
    assert "def δpredict(w, x, b):" in plain


def test_show_color_always_when_asked(model_file, capsys):
    status, out, _ = run_main(capsys, "show", f"{model_file}:predict", "--color", "always")
    assert status == 0 and "\x1b[" in out
    assert "def δpredict(w, x, b):" in re.sub(r"\x1b\[[0-9;]*m", "", out)


def test_show_reports_unsupported_syntax_at_its_line(model_file):
    result = run_cli("show", f"{model_file}:broken")
    assert result.returncode == 1
    assert f"{model_file}:16:5: " in result.stderr
    assert "Try" in result.stderr and "try:" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("target,message", [
    ("{file}:nothing", "defines no `nothing`"),
    ("{file}:np", "not a function"),
    ("{dir}/missing.py:f", "no such file"),
    ("{file}", "expected FILE.py:FUNC"),
])
def test_show_usage_errors(model_file, capsys, target, message):
    status, _, err = run_main(capsys, "show", target.format(file=model_file, dir=model_file.parent))
    assert status == 2
    assert message in err and "Traceback" not in err


def test_show_rejects_a_const_out_of_range(model_file, capsys):
    status, _, err = run_main(capsys, "show", f"{model_file}:predict", "--const", "4")
    assert status == 2
    assert "has 3 positional arguments" in err


def test_mask_for_marks_the_constants():
    def f(a, b, c):
        return a * b * c

    assert mask_for(f, []) == (True, True, True)
    assert mask_for(f, [1, 3]) == (False, True, False)


def test_python_dash_m_matches_the_script(model_file):
    env = dict(os.environ, PYTHONPATH=REPO)
    module = subprocess.run([sys.executable, "-m", "autodiffsource", "show", f"{model_file}:predict"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert module.returncode == 0, module.stderr
    assert module.stdout == transform(load_module_from_path(str(model_file)).predict, (True,) * 3).__source__


def test_help_lists_both_commands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "demo" in out and "show" in out
