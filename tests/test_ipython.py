"""Works where people write code: an IPython/Jupyter cell, a script, an imported module.

Each place is checked the same way: the function is differentiated and its gradient agrees with
central differences written here; errors and generated comments name the place the code came from.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    main = sys.modules["__main__"]
    shell = InteractiveShell.instance()
    yield shell
    shell.reset()
    InteractiveShell.clear_instance()
    # The shell installs its own `__main__` (no __spec__): multiprocessing's spawn, which a later dask
    # cluster uses, reads the real one's.
    sys.modules["__main__"] = main


def run(shell, cell):
    result = shell.run_cell(textwrap.dedent(cell), store_history=True)
    return result


def test_a_function_defined_in_a_cell_is_differentiated(shell):
    assert run(shell, """
        import numpy as np
        from autodiffsource import δ, source
        """).success
    assert run(shell, """
        @δ
        def cell_fn(x, y):
            z = np.sin(x) * y
            return np.sum(z * z)
        """).success
    result = run(shell, """
        x0 = np.array([0.3, -1.2, 2.0])
        y0 = np.array([1.5, 0.7, -0.4])
        value, back = δcell_fn(x0, y0)
        dx, dy = back()
        """)
    assert result.success, result.error_in_exec
    ns = shell.user_ns
    f = ns["cell_fn"]
    x0, y0 = ns["x0"], ns["y0"]
    assert ns["value"] == pytest.approx(f(x0, y0))
    h = 1e-6
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        assert ns["dx"][k] == pytest.approx((f(x0 + e, y0) - f(x0 - e, y0)) / (2 * h), rel=1e-6)
        assert ns["dy"][k] == pytest.approx((f(x0, y0 + e) - f(x0, y0 - e)) / (2 * h), rel=1e-6)


def test_the_cell_is_named_in_the_generated_code(shell):
    run(shell, """
        @δ
        def cell_square(x):
            return x * x
        """)
    assert run(shell, "text = source(δcell_square)").success
    text = shell.user_ns["text"]
    assert "# <ipython-input-" in text and "return x * x" in text


def test_a_cell_calling_a_function_from_another_cell(shell):
    assert run(shell, """
        def helper(x):
            return np.tanh(x) * 3
        """).success
    assert run(shell, """
        @δ
        def uses_helper(x):
            return helper(x) + x
        """).success
    assert run(shell, "v, back = δuses_helper(0.4)\ng = back()").success
    f = shell.user_ns["uses_helper"]
    h = 1e-6
    assert shell.user_ns["g"] == pytest.approx((f(0.4 + h) - f(0.4 - h)) / (2 * h), rel=1e-7)


def test_unsupported_syntax_in_a_cell_points_into_the_cell(shell):
    result = run(shell, """
        def cell_try(x):
            y = x
            try:
                y = x + 1
            except ValueError:
                pass
            return y
        δ(cell_try)
        """)
    err = result.error_in_exec
    from autodiffsource import UnsupportedSyntaxError

    assert isinstance(err, UnsupportedSyntaxError)
    assert err.loc.file.startswith("<ipython-input-")
    assert (err.loc.line, err.loc.col) == (3, 4)  # the cell's own line 3 (IPython drops the leading blank)
    assert "\n        try:\n        ^^^^\n" in str(err)  # the cell line, its caret


def test_a_runtime_error_in_a_cell_names_the_cell_line(shell):
    run(shell, """
        @δ
        def cell_mul(a, b):
            c = a * b
            return np.sum(c)
        """)
    result = run(shell, "δcell_mul(np.ones(2), np.ones(3))")
    err = result.error_in_exec
    assert isinstance(err, ValueError)
    (note,) = err.__notes__
    assert note.startswith("while running the forward pass of `cell_mul`, at <ipython-input-")
    assert note.endswith(":3  c = a * b")


SCRIPT = textwrap.dedent("""\
    import numpy as np
    from autodiffsource import δ


    @δ
    def script_fn(x):
        return np.sum(np.exp(x) * x)


    x0 = np.array([0.1, -0.5, 1.0])
    value, back = δscript_fn(x0)
    h = 1e-6
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        fd = (script_fn(x0 + e) - script_fn(x0 - e)) / (2 * h)
        assert abs(back()[k] - fd) < 1e-6 * max(1, abs(fd)), (k, back()[k], fd)
    print("script ok")
    """)


def test_a_function_defined_in_a_script(tmp_path):
    path = tmp_path / "train_script.py"
    path.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=REPO)
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "script ok"


def test_a_function_in_an_imported_module(tmp_path, monkeypatch):
    (tmp_path / "imported_model.py").write_text(textwrap.dedent("""\
        import numpy as np


        def energy(x, k):
            return 0.5 * k * np.sum(x ** 2)
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    import imported_model

    from autodiffsource import δ, grad

    δ(imported_model.energy)
    value, back = δenergy_const2(np.array([1.0, -2.0]), 3.0)  # noqa: F821 (bound here by δ)
    assert value == pytest.approx(7.5)
    h = 1e-6
    x0 = np.array([1.0, -2.0])
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        fd = (imported_model.energy(x0 + e, 3.0) - imported_model.energy(x0 - e, 3.0)) / (2 * h)
        assert back()[k] == pytest.approx(fd, rel=1e-7)
        assert grad(imported_model.energy)(x0, 3.0)[k] == pytest.approx(fd, rel=1e-7)
    sys.modules.pop("imported_model", None)
