"""The Python-number fast path (autodiffsource/transform/scalar.py) against the generic code it shadows.

The fast path must be invisible except in speed: on every input, value, partials (bit for bit, types
included) and errors (type and message) equal what the generic code of the same function gives. Each
test compares the δ function with its *generic twin*: the same pipeline with the pass switched off.
Gradients are also checked against central finite differences, so a pass that broke both paths alike
would still fail.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import autodiffsource as ad
from autodiffsource import api
from autodiffsource.errors import CotangentError
from autodiffsource.transform import scalar
from finite_differences import check_pullback, numeric_partial
import strategies as program_strategies

FAST_PATH = "Python numbers:"


# ---- functions under test (module level: the engine reads their source) ------------------------------

def polynomial(x, y):
    return (x + 2 * y) * y ** 2


def with_math(x, y):
    return math.sin(x) * math.exp(y) + math.sqrt(x * x + 1) - math.log(y)


def with_numpy(x, y):
    return np.sin(x) * np.tanh(y) + np.log(x) + np.sum(x * y)


def with_builtins(x, y):
    return x ** y + abs(x) - x / y + max(x, y) * min(y, 0.5)


def branches(x, y):
    if x > y:
        z = x * y
    else:
        z = x - y
    return z * z + (x if y > 0 else y)


def several_outputs(x, y):
    return x * y, x + y


def ignores_y(x, y):
    return x * 3.0


def reuses(x, y):
    a = x * y
    b = a * a
    c = b + a + x
    c = c * b
    return c


def scaled(x, c):
    return x * c + c


SCALE = 2.5


def reads_a_global(x, y):
    return x * SCALE + y


def loops(x, n):
    s = x
    for _ in range(n):
        s = s * x
    return s


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


# Inlined by the engine: polynomial's operations become this function's.
def calls_a_user_function(x, y):
    return polynomial(x, y) * y


# Called through δloops_const2, whose partials the pass does not know to be numbers.
def calls_a_loop(x, y):
    return loops(x, 3) * y


SCALAR_FUNCTIONS = [polynomial, with_math, with_numpy, with_builtins, branches, several_outputs, ignores_y,
                    reuses, calls_a_user_function]


# ---- helpers ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def pass_switched_off():
    original = scalar.specialise
    scalar.specialise = lambda gen, *args: gen
    try:
        yield
    finally:
        scalar.specialise = original


_twins: dict = {}


def generic_twin(fn, mask):
    """``fn``'s δ function compiled without the fast path (uncached, so ``transform``'s cache is untouched)."""
    key = (fn, mask)
    if key not in _twins:
        with pass_switched_off():
            _twins[key] = api._run_pipeline(fn, mask)
    return _twins[key]


def all_args(fn):
    return (True,) * fn.__code__.co_argcount


def outcome(delta, args, cotangents=()):
    """What calling ``delta`` then its pullback gives: ('ok', outputs, partials) or ('raise', type, message)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # np.log(-1.0) warns in both paths alike
        try:
            *outputs, pullback = delta(*args)
            partials = pullback(*cotangents)
        except Exception as exc:  # noqa: BLE001 - the point is to compare whatever is raised
            return ("raise", type(exc), str(exc))
    return ("ok", tuple(outputs), partials)


def identical(a, b) -> bool:
    """Same structure, same types, same bits (NaN equals NaN of the same payload)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(identical(p, q) for p, q in zip(a, b))
    if isinstance(a, (float, np.floating, np.ndarray)):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    return a == b


def assert_same(fast, generic):
    assert fast[0] == generic[0], (fast, generic)
    if fast[0] == "raise":
        assert fast[1:] == generic[1:]
    else:
        assert identical(fast[1], generic[1]), (fast, generic)
        assert identical(fast[2], generic[2]), (fast, generic)


def load_module(tmp_path, name, text):
    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ---- which functions get the fast path --------------------------------------------------------------

@pytest.mark.parametrize("fn", SCALAR_FUNCTIONS, ids=lambda f: f.__name__)
def test_scalar_functions_get_the_fast_path_and_keep_the_generic_one(fn):
    text = api.transform(fn, all_args(fn)).__source__
    assert FAST_PATH in text
    fast, generic = text.split(FAST_PATH)
    assert "type(x) is float or type(x) is int" in fast
    # The generic code follows, unchanged: the same text as the twin's δ function body.
    twin = generic_twin(fn, all_args(fn)).__source__
    twin_body = twin.split(f"    def δ{fn.__name__}(x, y):\n", 1)[1].rsplit("    return δ", 1)[0]
    assert twin_body.strip() in generic
    compile(text, "<test>", "exec")


def test_w3_fast_path_has_no_per_operation_helper():
    text = api.transform(polynomial, (True, True)).__source__
    fast = text.split(FAST_PATH)[1].split("return (_t4, polynomial_pullback)")[0]
    for helper in ("unbroadcast(", "finalize(", "distinct_partials(", "namespace("):
        assert helper not in fast
    assert "seed_cotangent(" in fast  # kept for a cotangent the caller passes


def test_w3_fast_path_reads_as_written_by_hand():
    # With the helpers gone, what they left is tidied as the generic code was (to the bit: no number
    # literal reassociated): the temporary only the un-broadcast read is fused, copies are propagated,
    # and value_and_grad's seed needs no `d is None` test (it passes no cotangent).
    text = api.value_and_grad_function(polynomial, (True, True)).__source__
    fast = text.split(FAST_PATH)[1].split("if type(x) is ndarray")[0]
    lines = [line.strip() for line in fast.splitlines()[1:] if line.strip() and not line.strip().startswith("#")]
    assert lines == [
        "_t2 = x + 2 * y", "_t3 = y ** 2", "_t4 = _t2 * _t3",
        "d_t4 = 1.0 if type(_t4) is float else seed_cotangent(None, _t4, 'the output of polynomial')",
        "d_t2 = d_t4 * _t3", "dy = d_t4 * _t2 * 2 * y", "dy += d_t2 * 2", "return (_t4, (float(d_t2), float(dy)))"]


@pytest.mark.parametrize("fn", SCALAR_FUNCTIONS, ids=lambda f: f.__name__)
def test_fast_paths_hold_no_copies_of_a_name_to_itself_nor_double_negations(fn):
    for made in (api.transform(fn, all_args(fn)), api.value_and_grad_function(fn, all_args(fn))):
        if made is None:
            continue  # (value_and_grad of several outputs)
        for line in made.__source__.split(FAST_PATH)[1].splitlines()[1:]:
            if line.strip() and len(line) - len(line.lstrip()) <= 8:
                break  # the fast path's block is over (the generic code is the δ function's own body)
            target, assigns, value = line.strip().partition(" = ")
            assert not assigns or value != target and "--" not in value, line


@pytest.mark.parametrize("fn, mask", [
    (rosenbrock, (True,)),             # indexing: arrays
    (loops, (True, False)),            # a loop: left generic
    (reads_a_global, (True, True)),    # a global may be an array at the next call
    (calls_a_loop, (True, True)),      # a user δ function's partials are not known to be numbers
])
def test_functions_the_pass_cannot_prove_stay_generic(fn, mask):
    text = api.transform(fn, mask).__source__
    assert FAST_PATH not in text
    assert text == generic_twin(fn, mask).__source__


def test_a_constant_argument_joins_the_guard_when_the_proof_needs_it():
    text = api.transform(scaled, (True, False)).__source__
    assert "(type(x) is float or type(x) is int) and (type(c) is float or type(c) is int)" in text
    # An array constant takes the generic path: the partial sums over the broadcast.
    c = np.array([1.0, 2.0, 3.0])
    value, back = ad.api.transform(scaled, (True, False))(1.5, c)
    assert np.allclose(value, 1.5 * c + c)
    assert back(np.ones(3)) == pytest.approx(6.0)


# ---- the fast path equals the generic one ----------------------------------------------------------

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-3, 3),
    st.integers(-5, 5),
    st.booleans(),
    st.floats(-3, 3).map(np.float64),
)
big_or_number = st.one_of(numbers, st.integers(-10 ** 30, 10 ** 30))  # for x only: x ** y stays small
cotangents = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3), st.booleans(),
    st.floats(-3, 3).map(np.float64), st.floats(-3, 3).map(np.array),
    st.just(np.ones(1)), st.just(1j), st.just("one"), st.just([1.0]),
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(fn=st.sampled_from(SCALAR_FUNCTIONS), x=big_or_number, y=numbers, cotangent=cotangents,
       pass_cotangent=st.booleans())
def test_fast_path_is_bit_identical_to_the_generic_code(fn, x, y, cotangent, pass_cotangent):
    mask = all_args(fn)
    delta = api.transform(fn, mask)
    n_outputs = 2 if fn is several_outputs else 1
    cots = () if not pass_cotangent and n_outputs == 1 else (cotangent,) * n_outputs
    assert_same(outcome(delta, (x, y), cots), outcome(generic_twin(fn, mask), (x, y), cots))


@pytest.mark.parametrize("fn", SCALAR_FUNCTIONS, ids=lambda f: f.__name__)
def test_fast_path_gradients_match_finite_differences(fn):
    args = [0.7, 1.3]
    delta = api.transform(fn, all_args(fn))
    partials = check_pullback(fn, delta, args)  # random Python-float cotangents
    assert [type(p) for p in partials] == [float, float]
    if fn is not several_outputs:  # no cotangent: the fast path seeds 1.0 itself
        _, back = delta(*args)
        for i, partial in enumerate(back()):
            assert partial == pytest.approx(numeric_partial(fn, args, i, [1.0]), rel=1e-6, abs=1e-8)


def test_arrays_take_the_generic_path():
    x, y = np.array([0.5, 1.5]), np.array([2.0, 3.0])
    value, back = api.transform(with_numpy, (True, True))(x, y)
    dx, dy = back()
    assert type(dx) is np.ndarray and dx.shape == (2,)
    assert_same(outcome(api.transform(with_numpy, (True, True)), (x, y)),
                outcome(generic_twin(with_numpy, (True, True)), (x, y)))


def test_a_wrong_cotangent_is_reported_as_clearly_as_before():
    _, back = api.transform(polynomial, (True, True))(1.0, 2.0)
    with pytest.raises(CotangentError, match=r"shape \(3,\), but the output of polynomial has shape \(\)"):
        back(np.ones(3))
    with pytest.raises(CotangentError, match="the output of polynomial is a str, not a number or array"):
        back("1.0")
    *_, back2 = api.transform(several_outputs, (True, True))(1.0, 2.0)
    with pytest.raises(CotangentError, match="output 1 of several_outputs"):
        back2(np.ones(2), 1.0)


def test_errors_in_the_fast_path_name_the_users_line():
    delta = api.transform(with_math, (True, True))
    with pytest.raises(ValueError, match="math domain error") as info:
        delta(1.0, -1.0)
    notes = getattr(info.value, "__notes__", [])
    assert any("forward pass of `with_math`" in n and "test_scalar_variant.py:" in n for n in notes), notes


def test_a_module_that_shadows_type_and_float(tmp_path):
    module = load_module(tmp_path, "shadows_builtins", (
        "type = 'linear'\n"
        "float = None\n"
        "def f(x, y):\n"
        "    return (x + 2 * y) * y ** 2\n"))
    delta = api.transform(module.f, (True, True))
    assert FAST_PATH in delta.__source__
    value, back = delta(1.25, 0.5)
    assert (value, back()) == (0.5625, (0.25, 2.75))


# ---- random programs (tests/strategies.py) on Python floats -----------------------------------------

@st.composite
def scalar_programs(draw):
    """The fuzzer's programs, every parameter a Python float."""
    shapes = program_strategies.SHAPES
    program_strategies.SHAPES = [()]
    try:
        return draw(program_strategies.programs())
    finally:
        program_strategies.SHAPES = shapes


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(program=scalar_programs(), cotangent=st.sampled_from([None, 0.5, 2, np.float64(-1.5), np.array(3.0)]))
def test_random_scalar_programs_agree_with_their_generic_twin(tmp_path_factory, program, cotangent):
    note(str(program))
    module = program.load(str(tmp_path_factory.getbasetemp()))
    fn = module.f
    delta = api.transform(fn, program.mask)
    twin = generic_twin(fn, program.mask)
    n_outputs = len(outcome(twin, program.args)[1]) if outcome(twin, program.args)[0] == "ok" else 1
    cots = (cotangent,) * n_outputs
    assert_same(outcome(delta, program.args, cots), outcome(twin, program.args, cots))


# ---- first called with arrays: the fast path waits for numbers ---------------------------------------

@pytest.fixture
def analysed(monkeypatch):
    """Names of the δ functions the Python-number analysis (scalar.specialise) ran on, in order."""
    names = []
    real = scalar.specialise
    monkeypatch.setattr(scalar, "specialise", lambda gen, *a, **k: names.append(gen.name) or real(gen, *a, **k))
    return names


def test_a_stub_first_called_with_arrays_leaves_the_fast_path_until_numbers_come(tmp_path, analysed):
    module = load_module(tmp_path, "deferred_numbers", (
        "import numpy as np\n"
        "from autodiffsource import δ\n\n"
        "@δ\n"
        "def f(x, y):\n"
        "    return np.sum((x + 2 * y) * y ** 2)\n"))
    x, y = np.array([1.0, 2.0]), np.array([0.5, -1.5])
    value, back = module.δf(x, y)
    check_pullback(module.f, module.δf, (x, y))
    assert analysed == []  # no Python-number analysis on the way to the first array result
    bound = module.δf.__source__
    assert "compiled on the first such call" in bound and FAST_PATH + " each runtime helper" not in bound
    got = module.δf(1.5, 2.5)  # the first numbers: the variant with the fast path is made now
    assert analysed == ["δf"]
    fast = api.transform(module.f, (True, True))  # (cached: no second analysis)
    want = fast(1.5, 2.5)
    assert analysed == ["δf"] and got[0] == want[0] and identical(got[1](), want[1]())
    assert FAST_PATH + " each runtime helper" in fast.__source__


def test_a_stub_first_called_with_numbers_binds_the_fast_path_itself(tmp_path):
    module = load_module(tmp_path, "numbers_first", (
        "from autodiffsource import δ\n\n"
        "@δ\n"
        "def g(x, y):\n"
        "    return (x + 2 * y) * y ** 2\n"))
    value, back = module.δg(1.5, 2.5)
    assert module.δg is api.transform(module.g, (True, True)) and FAST_PATH in module.δg.__source__
    assert (value, back()) == (40.625, (6.25, 45.0))
    value, back = module.δg(np.array([1.5]), np.array([2.5]))  # arrays take its generic code
    assert np.allclose(back()[1], [45.0])


def test_value_and_grad_first_called_with_arrays_leaves_the_fast_path_until_numbers_come(tmp_path, analysed):
    module = load_module(tmp_path, "deferred_numbers_vg", (
        "import numpy as np\n\n"
        "def f(x, y):\n"
        "    return np.sum((x + 2 * y) * y ** 2)\n"))
    vg = ad.value_and_grad(module.f, argnums=(0, 1))
    x, y = np.array([1.0, 2.0]), np.array([0.5, -1.5])
    value, (dx, dy) = vg(x, y)
    np.testing.assert_allclose(dx, y ** 2)
    np.testing.assert_allclose(dy, 2 * y * (x + 2 * y) + 2 * y ** 2)
    assert analysed == []  # no Python-number analysis on the way to the first array result
    deferred = api.value_and_grad_function(module.f, (True, True), defer_numbers=True)  # (the one vg runs)
    assert "compiled on the first such call" in deferred.__source__
    assert FAST_PATH + " each runtime helper" not in deferred.__source__
    got = vg(1.5, 2.5)  # the first numbers: the variant with the fast path is made now
    assert analysed == ["δf"]
    fast = api.value_and_grad_function(module.f, (True, True))  # (cached: no second analysis)
    assert analysed == ["δf"] and FAST_PATH + " each runtime helper" in fast.__source__
    assert got == fast(1.5, 2.5) == (40.625, (6.25, 45.0))
    assert type(got[1][0]) is float


def test_value_and_grad_first_called_with_numbers_compiles_the_fast_path_at_once(tmp_path):
    module = load_module(tmp_path, "numbers_first_vg", (
        "def g(x, y):\n"
        "    return (x + 2 * y) * y ** 2\n"))
    vg = ad.value_and_grad(module.g, argnums=(0, 1))
    assert vg(1.5, 2.5) == (40.625, (6.25, 45.0))
    assert FAST_PATH in api.value_and_grad_function(module.g, (True, True)).__source__
    value, (dx, dy) = vg(np.array(1.5), np.array(2.5))  # arrays take its generic code
    assert value == 40.625 and np.allclose(dy, 45.0) and isinstance(dy, np.ndarray)
