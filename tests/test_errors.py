"""Errors point at the user's own code: exact (file, line, column) at transform time, and a note naming the
user's line when generated code raises at run time, with tracebacks that show the generated source.
"""

import importlib.util
import linecache
import os
import re
import subprocess
import sys
import textwrap
import traceback

import numpy as np
import pytest

import autodiffsource as ad
from autodiffsource import MissingRuleError, NoSourceError, UnsupportedSyntaxError, δ

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Line numbers below are those of this text in the file written by `load`.
SOURCE = textwrap.dedent("""\
    import numpy as np


    class Scale:
        def __call__(self, x):
            return 2 * x


    scale = Scale()


    def uses_callable_object(x):
        y = np.sin(x)
        return scale(y) + 1


    def has_try(x):
        y = x * 2
        try:
            y = y + 1
        except ValueError:
            pass
        return y


    def has_yield(x):
        yield x * 2


    def two_problems(x):
        with open("f") as f:
            pass
        y = (yield x)
        return y


    def inner(a, b, *, called_through_its_delta_function=True):
        c = a @ b
        return np.sum(c)


    def outer(w, x):
        h = np.tanh(w)
        return inner(h, x)


    def divide(x, y):
        q = x / y
        return q * 2


    class Model:
        def __init__(self, W):
            self.W = W

        def loss(self, W, x):
            return np.sum(np.tanh(x @ W))


    def makes_a_model(W, x):
        model = Model(W)
        return model.loss(W, x)


    def chains_a_model(W, x):
        return Model(W).loss(W, x)
    """)


def load(tmp_path, name="err_model"):
    path = tmp_path / f"{name}.py"
    path.write_text(SOURCE)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, str(path)


def where(err):
    return (err.loc.file, err.loc.line, err.loc.col)


# ---- transform time: exact file, line and column ----------------------------------------------------

def test_unsupported_statement_points_at_it(tmp_path):
    module, path = load(tmp_path)
    with pytest.raises(UnsupportedSyntaxError) as info:
        δ(module.has_try)
    err = info.value
    assert where(err) == (path, 19, 4)
    # SyntaxError's own fields agree, 1-based offset as Python reports them
    assert (err.filename, err.lineno, err.offset) == (path, 19, 5)
    text = str(err)
    assert text.startswith(f"{path}:19:5: not supported: ")
    assert "\n        try:\n        ^^^^" in text  # the line, and the caret under `try:`


def test_unsupported_expression_points_at_it(tmp_path):
    module, path = load(tmp_path)
    with pytest.raises(UnsupportedSyntaxError) as info:
        δ(module.has_yield)
    assert where(info.value) == (path, 27, 4)
    assert "generators" in info.value.message
    assert "        yield x * 2\n        ^^^^^^^^^^^" in str(info.value)


def test_every_problem_is_reported_at_once(tmp_path):
    module, path = load(tmp_path)
    with pytest.raises(UnsupportedSyntaxError) as info:
        δ(module.two_problems)
    assert where(info.value) == (path, 31, 4)
    assert f"{path}:33:10: also not supported" in str(info.value)  # the `yield` inside the assignment


def test_missing_rule_points_at_the_call_and_offers_a_stub(tmp_path):
    module, path = load(tmp_path)
    with pytest.raises(MissingRuleError) as info:
        ad.grad(module.uses_callable_object)(0.5)
    err = info.value
    assert isinstance(err, NotImplementedError)
    assert where(err) == (path, 14, 11)
    assert (err.loc.end_line, err.loc.end_col) == (14, 19)
    assert "        return scale(y) + 1\n               ^^^^^^^^" in str(err)
    assert "def δscale(x):" in err.hint and "return value, scale_pullback" in err.hint


@pytest.mark.parametrize("name, text", [("makes_a_model", "model = Model(W)"),
                                        ("chains_a_model", "return Model(W).loss(W, x)")])
def test_an_object_made_from_a_differentiated_value_gets_advice(tmp_path, name, text):
    # (a stub `δModel` to paste was no help, and the chained call blamed an "array method `.loss()`")
    module, path = load(tmp_path)
    with pytest.raises(MissingRuleError) as info:
        ad.grad(getattr(module, name))(np.ones((3, 2)), np.ones(3))
    err = info.value
    line = SOURCE.splitlines().index("    " + text) + 1
    assert where(err) == (path, line, SOURCE.splitlines()[line - 1].index("Model(W)"))
    assert "making an object of the class `Model` from a differentiated value" in err.message
    assert "pass the arrays you differentiate to its methods as arguments" in err.hint
    assert "def δModel" not in err.hint


def test_the_pasted_stub_works(tmp_path):
    """Fill in the stub the error offers, and the gradient is right (central differences)."""
    filled = SOURCE + textwrap.dedent("""\


        def δscale(x):
            value = scale(x)
            def scale_pullback(dvalue):
                dx = 2 * dvalue
                return dx
            return value, scale_pullback
        """)
    path = tmp_path / "with_stub.py"
    path.write_text(filled)
    spec = importlib.util.spec_from_file_location("with_stub", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    g = ad.grad(module.uses_callable_object)(0.5)
    h = 1e-6
    f = module.uses_callable_object
    assert g == pytest.approx((f(0.5 + h) - f(0.5 - h)) / (2 * h), rel=1e-7)


# ---- no source ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("obj,says", [
    (np.sin, "`sin` is a ufunc"),
    (print, "`print` is a builtin_function_or_method"),
    (abs, "`abs` is a builtin_function_or_method"),
])
def test_c_functions_get_a_clear_error(obj, says):
    with pytest.raises(NoSourceError) as info:
        δ(obj)
    assert says in str(info.value)
    assert "δ" in info.value.hint


def test_a_builtin_with_a_rule_says_so():
    with pytest.raises(NoSourceError) as info:
        δ(np.sin)
    assert "already has a derivative rule" in info.value.hint


def test_a_lambda_gets_a_clear_error():
    with pytest.raises(NoSourceError) as info:
        δ(lambda x: x * x)
    assert "lambda" in str(info.value) and "write it as a `def`" in info.value.hint


def test_exec_without_source_gets_a_clear_error():
    namespace = {}
    exec("def f(x):\n    return x * x\n", namespace)
    with pytest.raises(NoSourceError) as info:
        δ(namespace["f"])
    assert "defined in <string>, where Python keeps no source" in str(info.value)


def test_function_typed_at_a_bare_repl_gets_a_clear_error():
    code = "import autodiffsource as ad\ndef f(x):\n    return x * x\n\nad.δ(f)\n"
    result = subprocess.run([sys.executable, "-i", "-q"], input=code, capture_output=True, text=True,
                            timeout=60)
    assert "NoSourceError: cannot read the source of `f`: it was defined in <stdin>" in result.stderr


# ---- run time: a note naming the user's line, generated source in the traceback ----------------------

def test_forward_error_carries_the_users_line(tmp_path):
    module, path = load(tmp_path)
    δ(module.outer)
    with pytest.raises(ValueError) as info:
        module.outer.δ(np.ones((2, 3)), np.ones((4, 1)))  # (2,3) @ (4,1): mismatched
    notes = info.value.__notes__
    assert notes == [
        f"while running the forward pass of `inner`, at {path}:38  c = a @ b",
        f"while running the forward pass of `outer`, at {path}:44  return inner(h, x)",
    ]


def test_backward_error_carries_the_users_line(tmp_path):
    module, path = load(tmp_path)
    δ(module.divide)
    q, pullback = module.divide.δ(np.ones(3), np.ones(3))
    with pytest.raises(ad.CotangentError) as info:
        pullback(np.ones(5))  # the wrong shape of cotangent
    assert info.value.__notes__ == [
        f"while running the backward pass (pullback) of `divide`, at {path}:49  return q * 2"]


def test_traceback_shows_the_generated_source(tmp_path):
    module, path = load(tmp_path)
    δ(module.outer)
    try:
        module.outer.δ(np.ones((2, 3)), np.ones((4, 1)))
    except ValueError as err:
        text = "".join(traceback.format_exception(err))
    frames = re.findall(r'File "(<δ [^"]+>)", line (\d+), in (\S+)', text)
    assert [(file, name) for file, _, name in frames] == [
        ("<δ err_model.py:42 outer δouter (NumPy arrays)>", "δouter"),  # (first called with NumPy arrays)
        ("<δ err_model.py:37 inner δinner>", "δinner")]  # (the callee's plain variant)
    # each frame's line is the generated line that made the call / raised, read back through linecache
    outer_line = linecache.getline(frames[0][0], int(frames[0][1])).strip()
    inner_line = linecache.getline(frames[1][0], int(frames[1][1])).strip()
    assert "δinner(" in outer_line and outer_line in text
    assert "a @ b" in inner_line and inner_line in text
    assert inner_line in ad.source(ad.transform(module.inner, (True, True)))
    assert "<string>" not in text


def test_each_variant_shows_its_own_lines_in_a_traceback(tmp_path):
    # δf first called with arrays compiles a variant that hands Python numbers on; numbers then compile
    # the plain variant. Their texts differ, so each is registered under its own name: a traceback
    # through the first must show its own line, not the line of that number in the other's text.
    module, _ = load(tmp_path)
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    arrays_first = ad.transform(module.divide, (True, True), defer_numbers=True)
    plain = ad.transform(module.divide, (True, True))
    assert arrays_first.__source__ != plain.__source__
    assert arrays_first.__code__.co_filename != plain.__code__.co_filename
    try:
        arrays_first(x, "not a number")
    except TypeError as err:
        frame = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith("<δ")][-1]
    assert frame.line == arrays_first.__source__.splitlines()[frame.lineno - 1].strip()
    assert frame.line == linecache.getline(arrays_first.__code__.co_filename, frame.lineno).strip()


def test_linemap_maps_each_generated_line_to_the_users(tmp_path):
    module, path = load(tmp_path)
    compiled = ad.transform(module.divide, (True, True))
    generated = ad.source(ad.δ(module.divide).δ).splitlines()
    assert compiled.__linemap__
    for number, (loc, text) in compiled.__linemap__.items():
        assert loc.file == path
        assert linecache.getline(path, loc.line).strip() == text
        assert generated[number - 1].strip() and not generated[number - 1].strip().startswith("#")
    q_line = next(i for i, line in enumerate(generated, 1) if line.strip().startswith("q = "))
    assert compiled.__linemap__[q_line][0].line == 48


def test_no_wrapper_on_the_hot_path(tmp_path):
    """After the first call δf is the generated function itself: no Python frame is added per call."""
    module, _ = load(tmp_path)
    δ(module.divide)  # binds δdivide here, in the caller's module, as a stub
    globals()["δdivide"](1.0, 2.0)  # the first call transforms and rebinds the name
    code = globals()["δdivide"].__code__
    assert code.co_filename.startswith("<δ err_model.py:")
    assert code.co_name == "δdivide"


def test_f_dot_delta_is_rebound_to_the_generated_function(tmp_path):
    module, _ = load(tmp_path)
    δ(module.divide)
    module.divide.δ(1.0, 2.0)
    assert module.divide.δ.__code__.co_filename.startswith("<δ err_model.py:")


def test_an_uncaught_error_prints_the_generated_line(tmp_path):
    """Python < 3.13 prints uncaught tracebacks in C, which ignores linecache; ours must still show it."""
    script = tmp_path / "uncaught.py"
    script.write_text(textwrap.dedent("""\
        import numpy as np
        from autodiffsource import δ

        @δ
        def f(a, b):
            c = a @ b
            return np.sum(c)

        δf(np.ones((2, 3)), np.ones((4, 1)))
        """))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, PYTHONPATH=REPO))
    lines = result.stderr.splitlines()
    frame = next(i for i, line in enumerate(lines)
                 if line.startswith('  File "<δ uncaught.py:4 f δf (NumPy arrays)>"'))
    assert lines[frame + 1].strip() == "c = a @ b"
    assert lines[-1] == f"while running the forward pass of `f`, at {script}:6  c = a @ b"
