"""Front-end fuzzing: arbitrary valid Python function bodies never produce an internal error.

A generator of statements and expressions (below) writes function bodies using most of Python: literals
and containers, subscripts and slices, comprehensions and generator expressions, lambdas, nested
``def``/``class``, ``try``/``with``/``assert``/``del``/``global``/``import``, ``match``, walrus, f-strings,
starred unpacking, ``for``/``while`` with ``else``, ``break``/``continue``, early ``return``, ``yield``,
``math``/builtins/NumPy calls with keyword arguments. Each function is written to a module with ``@δ``
and must end in one of these outcomes:

- it differentiates correctly: δ's value equals the function's, and (where the function is smooth
  around the point) the partials equal central finite differences;
- a documented refusal with a location in the user's file: UnsupportedSyntaxError (at ``@δ`` or at the
  first call), MissingRuleError or NoSourceError;
- the very exception the function itself raises when run (δ runs the user's code, so it raises what the
  user's code raises);
- a CotangentError / NonDifferentiableInputError when the function does not return real numbers.

Anything else (an AttributeError from inside the transformer, a NameError in generated code, a value
that differs from the function's) is an internal error and fails with the program printed.
"""

from __future__ import annotations

import collections
import importlib.util
import itertools
import math
import os
import sys
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, reject, seed, settings
from hypothesis import strategies as st

from autodiffsource.errors import (ADError, CotangentError, MissingRuleError, NoSourceError,
                                   NonDifferentiableInputError, UnsupportedSyntaxError)
from finite_differences import as_outputs, numeric_partial

LONG = os.environ.get("AUTODIFFSOURCE_LONG") == "1"
EXAMPLES = int(os.environ.get("AUTODIFFSOURCE_FRONTEND_EXAMPLES", 5_000 if LONG else 200))
MODULE_DIR = tempfile.mkdtemp(prefix="autodiffsource_frontend_")
STATS: collections.Counter = collections.Counter()
_counter = itertools.count()

# Expressions over the numeric names in scope ({a}, {b}); every one is valid Python, not all run.
NUMERIC = [
    "{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / ({b} * {b} + 1.0)", "{a} ** 2", "-{a}", "+{a}",
    "math.sin({a})", "math.exp(-{a} * {a})", "abs({a})", "max({a}, {b})", "float({a})", "np.tanh({a})",
    "np.sum(np.array([{a}, {b}]))", "sum([{a}, {b}, 1.0])", "[{a}, {b}][0]", "({a}, {b})[-1]",
    "{{'k': {a}, 'j': {b}}}['k']", "[{a}, {b}, {a}][1:][0]", "sum([{a} * i for i in range(3)])",
    "sum({a} * i for i in range(2))", "[{a} for _ in range(2)][-1]", "{{i: {a} * i for i in range(3)}}[2]",
    "({a} if {a} > {b} else {b})", "len(f'{{{a}:.3f}}') * {b}", "pow({a}, 2)", "round({a}, 2)",
    "int({a} > 0) * {b}", "sorted([{a}, {b}])[0]", "np.float64({a}) * {b}",
    "np.sum(np.array([{a}, {b}]), axis=0)", "({a} > 0) * {a}", "np.where({a} > 0, {a}, {b})", "not {a}",
    "{a} // 1.5", "{a} % 1.5", "np.prod(np.array([{a}, {b}]))", "math.fsum([{a}, {b}])", "{a}.conjugate()",
    "np.linalg.norm([{a}, {b}, 1.0])", "isinstance({a}, float) * {b}", "hash(3) * 0.0 + {a}",
    "np.clip({a}, -0.5, 0.5)", "{a} == {b}", "{a} < {b} <= 3", "{a} is None", "{a} in [{b}, 1.0]",
    "~int({a})",
]
# `and`/`or` returning a differentiated operand: silent zero gradients until
# test_boolean_operators_pass_their_operands_through passes; then set True.
BOOLOP_OPERANDS = False
if BOOLOP_OPERANDS:
    NUMERIC += ["({a}, {b}) and {a}", "{a} or {b}", "str({a}) and {b}"]
# Expressions δ refuses today (calls of expressions, *args, rules it lacks): drawn 1 time in 10.
RARE_NUMERIC = [
    "(lambda t: t * {a})({b})", "divmod({b} * {b} + 3.0, 2.0)[0] * {a}", "{a}.real", "complex({a}, {b}).real",
    "type({a})({b})", "getattr(math, 'cos')({a})", "id({a}) * 0 + {b}", "(lambda *args: sum(args))({a}, {b})",
    "[{a}, {b}].index({b}) + {a}", "max(*[{a}, {b}])", "(t := {a} * 2.0) + t", "math.hypot({a}, {b}, 1.0)",
    "({a}, *[{b}])[1]", "min({a}, {b}, 0.5)",
]
CONDITIONS = ["{a} > {b}", "{a} > 0", "not ({a} < -1.0)", "{a} is not None", "{a} > 0 and {b} < 1",
              "{a} in (1.0, 2.0)", "bool({a})", "{a} != {a}"]


class BodyWriter:
    def __init__(self, draw):
        self.draw = draw
        self.lines: list[str] = []
        self.count = itertools.count()
        self.prelude: list[str] = []  # module-level statements the body needs (globals)
        self.outputs = 1  # every return statement returns this many values

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def expr(self, names) -> str:
        a, b = self.pick(names), self.pick(names)
        pool = RARE_NUMERIC if self.draw(st.integers(0, 9)) == 7 else NUMERIC  # not 0: Hypothesis favours it
        return self.pick(pool).format(a=a, b=b)

    def cond(self, names) -> str:
        return self.pick(CONDITIONS).format(a=self.pick(names), b=self.pick(names))

    def emit(self, indent, text):
        self.lines.append("    " * indent + text)

    def block(self, names: list[str], indent: int, depth: int, n: int, in_loop: bool):
        for _ in range(n):
            kinds = ["assign", "assign", "aug", "unpack", "annotated", "pass", "assert", "def",
                     "lambda", "raise", "return", "expr", "docstring", "starred_call"]
            if depth < 2:
                kinds += ["if", "for", "while", "enumerate"]
            if self.draw(st.integers(0, 24)) == 7:  # constructs δ refuses today: rarer, so most bodies run
                kinds = ["del", "try", "with", "global", "import", "class", "yield", "forelse", "match", "star",
                         "whileelse"]
            if in_loop:
                kinds += ["break", "continue"]
            kind = self.pick(kinds)
            v = f"v{next(self.count)}"
            e = self.expr(names)
            if kind == "assign":
                self.emit(indent, f"{v} = {e}")
                names.append(v)
            elif kind == "aug":
                target = self.pick(names)
                self.emit(indent, f"{target} {self.pick(['+=', '-=', '*=', '/='])} {e}")
            elif kind == "unpack":
                w = f"v{next(self.count)}"
                self.emit(indent, f"{v}, {w} = {e}, {self.expr(names)}")
                names += [v, w]
            elif kind == "star":
                self.emit(indent, f"{v}, *rest_{v} = [{e}, {self.expr(names)}, 1.0]")
                names.append(v)
            elif kind == "annotated":
                self.emit(indent, f"{v}: float = {e}")
                names.append(v)
            elif kind == "pass":
                self.emit(indent, "pass")
            elif kind == "assert":
                self.emit(indent, f"assert {self.cond(names)} or True, 'never'")
            elif kind == "del":
                self.emit(indent, f"{v} = {e}")
                self.emit(indent, f"del {v}")
            elif kind == "def":
                self.emit(indent, f"def inner_{v}(t, s=1.0):")
                self.emit(indent + 1, f"return t * {self.pick(names)} + s")
                self.emit(indent, f"{v} = inner_{v}({self.pick(names)})")
                names.append(v)
            elif kind == "lambda":
                self.emit(indent, f"fn_{v} = lambda t: t * {self.pick(names)}")
                self.emit(indent, f"{v} = fn_{v}({self.pick(names)})")
                names.append(v)
            elif kind == "try":
                self.emit(indent, "try:")
                self.emit(indent + 1, f"{v} = {e}")
                self.emit(indent, f"except {self.pick(['ZeroDivisionError', 'Exception', '(TypeError, ValueError)'])}:")
                self.emit(indent + 1, f"{v} = {self.pick(names)}")
                if self.draw(st.booleans()):
                    self.emit(indent, "finally:")
                    self.emit(indent + 1, "pass")
                names.append(v)
            elif kind == "with":
                self.emit(indent, "with contextlib.suppress(ValueError):")
                self.emit(indent + 1, f"{v} = {e}")
                names.append(v)
            elif kind == "global":
                self.prelude.append(f"G_{v} = 2.0")
                self.emit(indent, f"global G_{v}")
                self.emit(indent, f"G_{v} = {e}")
            elif kind == "import":
                self.emit(indent, self.pick(["import math as m", "from math import sin as m_sin",
                                             "import numpy"]))
            elif kind == "raise":
                self.emit(indent, f"if {self.pick(names)} != {self.pick(names)}:")
                self.emit(indent + 1, "raise ValueError('nan')")
            elif kind == "class":
                self.emit(indent, f"class Box_{v}:")
                self.emit(indent + 1, "scale = 2.0")
                self.emit(indent, f"{v} = Box_{v}.scale * {self.pick(names)}")
                names.append(v)
            elif kind == "return":
                self.emit(indent, f"if {self.cond(names)}:")
                self.emit(indent + 1, "return " + ", ".join([e] + [self.expr(names)
                                                                   for _ in range(self.outputs - 1)]))
            elif kind == "expr":
                self.emit(indent, e)
            elif kind == "docstring":
                self.emit(indent, "'a string statement'")
            elif kind == "yield":
                if self.draw(st.integers(0, 5)) == 0:  # makes it a generator: refused
                    self.emit(indent, f"yield {e}")
            elif kind == "starred_call":
                self.emit(indent, f"{v} = max(*[{e}, {self.pick(names)}], key=abs)")
                names.append(v)
            elif kind == "if":
                self.emit(indent, f"if {self.cond(names)}:")
                self.block(list(names), indent + 1, depth + 1, self.draw(st.integers(1, 2)), in_loop)
                self.emit(indent + 1, f"{v} = {e}")
                if self.draw(st.booleans()):
                    self.emit(indent, f"elif {self.cond(names)}:")
                    self.emit(indent + 1, f"{v} = {self.expr(names)}")
                self.emit(indent, "else:")
                self.emit(indent + 1, f"{v} = {self.expr(names)}")
                names.append(v)
            elif kind in ("for", "forelse", "enumerate"):
                header = {"for": f"for i_{v} in range({self.draw(st.integers(0, 3))}):",
                          "forelse": f"for i_{v} in [{self.pick(names)}, {self.pick(names)}]:",
                          "enumerate": f"for i_{v}, t_{v} in enumerate([{self.pick(names)}, 1.0]):"}[kind]
                self.emit(indent, f"{v} = {self.pick(names)}")
                self.emit(indent, header)
                self.block(list(names) + [f"i_{v}"], indent + 1, depth + 1, self.draw(st.integers(0, 2)), True)
                self.emit(indent + 1, f"{v} = {v} * 0.5 + {self.expr(names + [f'i_{v}'])}")
                if kind == "forelse":
                    self.emit(indent, "else:")
                    self.emit(indent + 1, f"{v} = {v} + 1.0")
                names.append(v)
            elif kind in ("while", "whileelse"):
                self.emit(indent, f"{v} = {self.pick(names)}")
                self.emit(indent, f"k_{v} = 0")
                self.emit(indent, f"while k_{v} < {self.draw(st.integers(0, 3))}:")
                self.emit(indent + 1, f"k_{v} += 1")
                self.block(list(names), indent + 1, depth + 1, self.draw(st.integers(0, 2)), True)
                self.emit(indent + 1, f"{v} = {v} + {self.expr(names)}")
                if kind == "whileelse":
                    self.emit(indent, "else:")
                    self.emit(indent + 1, f"{v} = {v} * 2.0")
                names.append(v)
            elif kind == "match":
                self.emit(indent, f"match int({self.pick(names)} > 0):")
                self.emit(indent + 1, "case 1:")
                self.emit(indent + 2, f"{v} = {e}")
                self.emit(indent + 1, "case _:")
                self.emit(indent + 2, f"{v} = {self.pick(names)}")
                names.append(v)
            elif kind in ("break", "continue"):
                self.emit(indent, f"if {self.cond(names)}:")
                self.emit(indent + 1, kind)


@st.composite
def functions(draw):
    writer = BodyWriter(draw)
    names = ["x", "y"]
    writer.outputs = draw(st.integers(1, 2))
    writer.block(names, 1, 0, draw(st.integers(1, 6)), False)
    writer.emit(1, "return " + ", ".join(writer.expr(names) for _ in range(writer.outputs)))
    source = ("import contextlib\nimport math\n\nimport numpy as np\n\nfrom autodiffsource import δ\n\n"
              + "\n".join(writer.prelude) + "\n\n\n@δ\ndef f(x, y):\n" + "\n".join(writer.lines) + "\n")
    args = draw(st.sampled_from([(0.7, -1.3), (1.25, 0.4), (-0.6, 2.2)]))
    return source, args


def _load(source: str):
    name = f"frontend_fuzz_{next(_counter)}_{os.getpid()}"
    path = os.path.join(MODULE_DIR, name + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module, path


def _is_real(value) -> bool:
    return all(isinstance(v, (int, float, np.floating, np.integer, np.ndarray)) and not isinstance(v, bool)
               and np.isrealobj(v) for v in as_outputs(value))


def _check_refusal(error: ADError, path: str, source: str, where: str):
    assert error.loc is not None, f"{type(error).__name__} {where} without a location: {error}\n{source}"
    assert error.loc.file == path and 1 <= error.loc.line <= source.count("\n") + 1, \
        f"{type(error).__name__} points at {error.loc}, not into the user's file\n{source}"
    STATS[f"refused: {type(error).__name__}"] += 1
    if os.environ.get("AUTODIFFSOURCE_FRONTEND_WHY"):
        STATS[f"  why: {error.message[:60]}"] += 1


def check_function(source: str, args):
    note(source)
    try:
        compile(source, "<fuzz>", "exec")
    except SyntaxError:
        reject()  # not valid Python (the generator's fault, e.g. `global` after a use)
    try:
        module, path = _load(source)
    except UnsupportedSyntaxError as error:  # refused at the decorator
        _check_refusal(error, error.loc.file if error.loc else "", source, "at @δ")
        return
    f = module.f
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                expected = f(*args)
            primal_error = None
        except Exception as error:  # noqa: BLE001 - the user's own code raising is a valid outcome
            expected, primal_error = None, error
        divided_by_zero = primal_error is None and any("divide by zero" in str(w.message) for w in caught)
        try:
            *outputs, pullback = module.δf(*args)
            if primal_error is None and _is_real(expected):
                cotangents = [1.0 if np.shape(o) == () else np.ones(np.shape(o)) for o in outputs]
                partials = pullback(*cotangents)
            else:
                partials = None
                if primal_error is None:  # a zero cotangent (None) for every output
                    pullback(*[None] * len(outputs))
        except (UnsupportedSyntaxError, MissingRuleError, NoSourceError) as error:
            _check_refusal(error, path, source, "at the first call")
            return
        except (CotangentError, NonDifferentiableInputError) as error:
            assert primal_error is None and not _is_real(expected), \
                f"{type(error).__name__} for a function returning reals: {error}\n{source}"
            STATS["refused: not real outputs"] += 1
            return
        except Exception as error:  # noqa: BLE001
            if isinstance(error, ZeroDivisionError) and divided_by_zero:
                # The function divided by zero too (NumPy's inf, with a warning); the pullback divides a
                # Python float cotangent by that zero, and Python raises (naming the user's line).
                STATS["the function divided by zero (NumPy warned), its pullback raised"] += 1
                return
            assert primal_error is not None, f"internal error {type(error).__name__}: {error}\n(the function " \
                f"itself runs)\n{source}"
            # The function fails too. Python's UnboundLocalError for a name a branch did not bind becomes
            # whatever the unbound (None) value then causes: still an error, never a value.
            same = isinstance(error, type(primal_error))
            assert same or isinstance(primal_error, UnboundLocalError), \
                f"δf raises {type(error).__name__}: {error}; the function raises " \
                f"{type(primal_error).__name__}: {primal_error}\n{source}"
            STATS["raised the function's own error" if same else "raised an error (function: unbound name)"] += 1
            return
        assert primal_error is None, \
            f"δf ran, but the function raises {type(primal_error).__name__}: {primal_error}\n{source}"
        if partials is None:
            return
        for got, want in zip(outputs, as_outputs(expected), strict=True):
            np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=1e-12,
                                       equal_nan=True, err_msg=f"value differs\n{source}")
        if divided_by_zero:  # (an infinite intermediate: nan partials, as in JAX, or whatever differences say)
            STATS["the function divided by zero (NumPy warned): partials not compared"] += 1
            return
        if any(isinstance(o, np.floating) and o.dtype.itemsize < 8 for o in as_outputs(expected)):
            # np.tanh(True) is a float16, and x + it too: differences of 1e-6 vanish in its rounding.
            STATS["the function's value is a float16 or float32: partials not compared"] += 1
            return
        for i, partial in enumerate(partials):
            try:
                fd = numeric_partial(f, list(args), i, cotangents, step=1e-6)
                coarse = None if np.allclose(partial, fd, rtol=1e-5, atol=1e-5) \
                    else numeric_partial(f, list(args), i, cotangents, step=1e-5)
            except Exception:  # noqa: BLE001 - the function raises a step away (`if ...: raise`): no derivative
                STATS["differentiated (the function raises a step away)"] += 1
                return
            if coarse is not None:
                if not np.allclose(fd, coarse, rtol=1e-5, atol=1e-5) or not np.isfinite(fd) \
                        or _kink_at(f, list(args), i, cotangents):
                    STATS["differentiated (not smooth at the point)"] += 1
                    return
                raise AssertionError(f"partial {i + 1}: δ {partial!r}, central differences {fd!r}\n{source}")
    STATS["differentiated, partials match central differences"] += 1


def _kink_at(f, args: list, i: int, cotangents) -> bool:
    """Whether the derivative just left of argument ``i`` differs from the one just right of it (a kink:
    `x if x > round(x, 2) else ...`, whose central differences agree at any step but give neither side)."""
    def at(shift):
        moved = list(args)
        moved[i] = args[i] + shift
        return numeric_partial(f, moved, i, cotangents, step=1e-7)

    left, right = at(-1e-5), at(1e-5)
    return not np.allclose(left, right, rtol=1e-4, atol=1e-4)


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    if STATS:
        print("\nfront-end fuzzing outcomes:\n" + "\n".join(f"    {k}: {v}" for k, v in sorted(STATS.items())))


@seed(8)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG, database=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(functions())
def test_arbitrary_function_bodies_never_raise_internal_errors(case):
    source, args = case
    check_function(source, args)


# ---- regressions: bugs this fuzzer found ------------------------------------------------------------------

def test_boolean_operators_pass_their_operands_through():
    """`a or b` and `a and b` return one of their operands, so gradients flow through them (they were
    constants: δ returned zero partials, silently)."""
    module, _ = _load("""
import numpy as np
from autodiffsource import δ

@δ
def f_or(x, y):
    return x or y

@δ
def f_and(x, y):
    z = x and y
    return z * x

@δ
def f_tuple(x, y):
    return (x, x) and y
""")
    assert module.δf_or(0.7, -1.3)[1]() == pytest.approx((1.0, 0.0))
    assert module.δf_or(0.0, -1.3)[1]() == pytest.approx((0.0, 1.0))
    assert module.δf_and(0.7, -1.3)[1]() == pytest.approx((-1.3, 0.7))
    assert module.δf_tuple(0.7, -1.3)[1]() == pytest.approx((0.0, 1.0))


def test_reductions_of_a_list_of_differentiated_values():
    """`np.sum([x, y])`: NumPy reads the list as an array; the pullbacks failed with
    AttributeError: 'list' object has no attribute 'shape' / 'ndim' (an internal error)."""
    module, _ = _load("""
import numpy as np
from autodiffsource import δ

@δ
def f_sum(x, y):
    return np.sum([x, y]) + np.mean([x, y])

@δ
def f_prod(x, y):
    return np.prod([x, y])

@δ
def f_max(x, y):
    return np.max([x, y]) + np.std([x, y])
""")
    x, y = 0.7, -1.3
    assert module.δf_sum(x, y)[1]() == pytest.approx((1.5, 1.5))
    assert module.δf_prod(x, y)[1]() == pytest.approx((y, x))
    assert module.δf_max(x, y)[1]() == pytest.approx((1.5, -0.5))
