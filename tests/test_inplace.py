"""value_and_grad's run-once pullback scales the forward pass's dead values in place (issue 6).

The variant ``transform(f, mask, pullback_runs_once=True)`` is the δ function whose pullback may reuse the
memory of forward values it reads for the last time; ``value_and_grad`` and ``grad`` call the same code
written as one function (``value_and_grad_function``: forward pass, then the pullback's body). The gradients are
checked against directional central differences (arrays large enough for the in-place path, 20,000
elements, where a full finite-difference Jacobian would cost 40,000 evaluations) and against autograd;
the source is checked for where the in-place helper may and may not appear.
"""

import numpy as np
import pytest

from autodiffsource import grad, transform, value_and_grad
import finite_differences

RNG = np.random.default_rng(5)
N = 20_000  # above runtime._IN_PLACE_MIN: the in-place path runs


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def total_variation(u):
    return np.sum((u[:, 1:] - u[:, :-1]) ** 2) + np.sum((u[1:, :] - u[:-1, :]) ** 2)


def square_twice(x):
    t = x * 2.0
    return np.sum(t * t)


def chain(x, w):
    a = np.tanh(x * w)
    b = a * a + x
    return np.sum(b * np.sin(a))


def keeps_a_view(x):
    t = x * 3.0
    v = t.reshape(-1)  # a view of t: scaling t in place would change v
    return np.sum(v * t)


def reads_a_view_after_the_product(x):
    t = x * 3.0
    v = t.T  # a view of t, which the pullback reads after its last read of t itself
    a = np.sum(v * x)
    b = np.sum(np.sin(x) * t)
    return a + b


def returns_a_forward_value(x):
    t = x * 3.0
    return np.sum(t * t), t


def passes_to_a_call(x):
    t = x + 1.0
    return np.sum(np.exp(t) * t)


def directional_check(f, args, partials, argnums, **options):
    finite_differences.directional_check(f, args, partials, argnums, RNG, **options)


@pytest.mark.parametrize("f, nargs", [(rosenbrock, 1), (square_twice, 1), (chain, 2), (keeps_a_view, 1),
                                      (reads_a_view_after_the_product, 1), (passes_to_a_call, 1)])
def test_value_and_grad_matches_directional_differences(f, nargs):
    args = [RNG.uniform(-1, 1, N) for _ in range(nargs)]
    before = [a.copy() for a in args]
    value, partials = value_and_grad(f, argnums=tuple(range(nargs)))(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    directional_check(f, args, partials, range(nargs))
    for a, b in zip(args, before):  # the inputs are never written
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("f, nargs", [(rosenbrock, 1), (chain, 2), (keeps_a_view, 1)])
def test_value_and_grad_matches_autograd(f, nargs):
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    args = [RNG.uniform(-1, 1, N) for _ in range(nargs)]
    ported = {rosenbrock: lambda x: anp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2),
              chain: lambda x, w: anp.sum((anp.tanh(x * w) ** 2 + x) * anp.sin(anp.tanh(x * w))),
              keeps_a_view: lambda x: anp.sum((x * 3.0) ** 2)}[f]
    want = autograd.grad(ported, argnum=list(range(nargs)))(*args) if nargs > 1 else \
        [autograd.grad(ported)(*args)]
    got = grad(f, argnums=tuple(range(nargs)))(*args)  # a tuple argnums: a tuple of partials
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10)


def test_total_variation_of_an_image_matches_directional_differences():
    # Its first contribution is written into a block of a new buffer (runtime.zeros_with, 2-D slices).
    u = RNG.uniform(-1, 1, (200, 300))
    assert "zeros_with(u, (slice(1, None, None), slice(None, None, None))" in \
        transform(total_variation, (True,), pullback_runs_once=True).__source__
    value, du = value_and_grad(total_variation)(u)
    assert value == pytest.approx(total_variation(u), rel=1e-12)
    directional_check(total_variation, [u], [du], [0])


def test_the_run_once_variant_scales_dead_forward_values_and_the_plain_one_does_not():
    once = transform(rosenbrock, (True,), pullback_runs_once=True).__source__
    plain = transform(rosenbrock, (True,)).__source__
    assert "scale_owned(_t4, d_t11 * 200)" in once  # P * t: the same product, into t
    assert "scale_owned(_t4" not in plain  # δf's pullback may be called again: it never writes its tape


@pytest.mark.parametrize("f", [keeps_a_view, reads_a_view_after_the_product, passes_to_a_call])
def test_values_that_may_be_kept_elsewhere_are_never_scaled(f):
    once = transform(f, (True,), pullback_runs_once=True).__source__
    assert "scale_owned(t," not in once and "scale_owned(t)" not in once


def test_a_view_read_after_the_last_product_keeps_its_values():
    # Seeded with 2.5, the partial of b is 2.5 * sin(x) and t's last read is the product 2.5 * t: scaling t
    # there would scale v, which the pullback reads next.
    x = RNG.uniform(-1, 1, N)
    value, back = transform(reads_a_view_after_the_product, (True,), pullback_runs_once=True)(x)
    want = transform(reads_a_view_after_the_product, (True,))(x)[1]()
    np.testing.assert_allclose(back(2.5), 2.5 * want, rtol=1e-13)
    directional_check(reads_a_view_after_the_product, [x], [want], [0])


def test_a_returned_forward_value_is_never_scaled():
    x = RNG.uniform(-1, 1, N)
    delta_f = transform(returns_a_forward_value, (True,), pullback_runs_once=True)
    assert "scale_owned(t," not in delta_f.__source__
    total, t, back = delta_f(x)
    t_before = t.copy()
    back(1.0, np.ones(N))
    np.testing.assert_array_equal(t, t_before)


def test_vjp_and_delta_pullbacks_still_run_twice():
    x = RNG.uniform(-1, 1, N)
    value, back = transform(rosenbrock, (True,))(x)
    np.testing.assert_array_equal(back(), back())
    np.testing.assert_array_equal(grad(rosenbrock)(x), back())
    np.testing.assert_array_equal(grad(rosenbrock)(x), grad(rosenbrock)(x))


def test_each_variant_keeps_its_own_source_for_tracebacks():
    import linecache

    once = transform(rosenbrock, (True,), pullback_runs_once=True)
    plain = transform(rosenbrock, (True,))
    files = {v.__code__.co_filename for v in (once, plain)}
    assert len(files) == 2
    for v in (once, plain):
        assert "".join(linecache.getlines(v.__code__.co_filename)) == v.__source__


# ---- random straight-line programs ---------------------------------------------------------------------

_STATEMENTS = (
    "{a} * {b}", "{a} * {b} + {a}", "np.tanh({a}) * {b}", "{a} - {b} * {b}", "({a} + 1.5) * {b}",
    "np.exp(-{a} * {a}) * {b}", "{a} / (1.0 + {b} * {b})", "np.sin({a}) * np.cos({b})", "{a} ** 2 - {b}",
    "2.0 * {a} * {b}", "{a}[1:] * {b}[:-1]" , "-{a} * {b}",
)


def _random_program(rng, index: int) -> str:
    """``f(x, y)``: 3-7 statements, each combining two earlier values, returning the sum of the last."""
    values, lines = ["x", "y"], []
    for k in range(int(rng.integers(3, 8))):
        template = _STATEMENTS[int(rng.integers(len(_STATEMENTS)))]
        a, b = (values[int(i)] for i in rng.integers(len(values), size=2))
        if "[1:]" in template:  # keep every value's length: pad the product back with a slice of a
            line = f"np.concatenate([{a}[:1], " + template.format(a=a, b=b) + "])"
        else:
            line = template.format(a=a, b=b)
        lines.append(f"    t{k} = {line}")
        values.append(f"t{k}")
    return f"def f_{index}(x, y):\n" + "\n".join(lines) + f"\n    return np.sum({values[-1]} * {values[-2]})\n"


def test_random_straight_line_programs_in_place_at_every_size(tmp_path, monkeypatch):
    """The run-once variant of 60 random programs, with the in-place paths forced on at every size (the
    threshold at 0), against central differences of the program itself; most of them must actually
    scale a forward value in place, or the test would prove nothing."""
    import importlib.util

    from autodiffsource.runtime import indexing

    rng = np.random.default_rng(2026)
    text = "import numpy as np\n\n\n" + "\n\n".join(_random_program(rng, i) for i in range(60))
    path = tmp_path / "straight_line_programs.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("straight_line_programs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(indexing, "_IN_PLACE_MIN", 0)
    consumed = 0
    for i in range(60):
        f = getattr(module, f"f_{i}")
        once = transform(f, (True, True), pullback_runs_once=True)
        plain = transform(f, (True, True)).__source__
        consumed += once.__source__.replace(" (pullback runs once)", "") != plain
        x, y = rng.uniform(0.2, 1.2, 7), rng.uniform(0.2, 1.2, 7)
        value, back = once(x, y)
        assert value == pytest.approx(f(x, y), rel=1e-12)
        dx, dy = back()
        directional_check(f, [x, y], [dx, dy], (0, 1), rtol=1e-5)
    assert consumed >= 20, consumed


# ---- value_and_grad's one function (transform/combined.py) ---------------------------------------------

def two_outputs(x):
    return np.sum(x), np.sum(x * x)


def mismatched(a, b):
    c = a @ b
    return np.sum(c)


def test_value_and_grad_is_one_function_with_the_pullbacks_body():
    from autodiffsource.api import value_and_grad_function

    text = value_and_grad_function(rosenbrock, (True,)).__source__
    assert "_pullback" not in text and text.count("\n    def ") == 1  # one function inside the factory
    assert "d_t11 = None" in text and "return (_t11, finalize(dx, x))" in text
    assert "scale_owned(_t4, d_t11 * 200)" in text  # the run-once in-place scaling


@pytest.fixture
def pairwise_sums(monkeypatch):
    """Sums of squares summed as NumPy sums them (no dot products: those round differently, tested below)."""
    from autodiffsource.runtime import common

    monkeypatch.setattr(common, "_DOT_MIN", float("inf"))


def test_value_and_grad_equals_the_delta_function_and_its_pullback_bit_for_bit(pairwise_sums):
    from autodiffsource.api import value_and_grad_function

    for f, nargs in [(rosenbrock, 1), (square_twice, 1), (chain, 2), (total_variation, 1)]:
        args = [RNG.uniform(-1, 1, (200, 300) if f is total_variation else N) for _ in range(nargs)]
        value, back = transform(f, (True,) * nargs)(*args)
        want = back()
        got_value, got = value_and_grad_function(f, (True,) * nargs)(*args)
        assert got_value == value
        for g, w in zip(got if nargs > 1 else [got], want if nargs > 1 else [want]):
            np.testing.assert_array_equal(g, w)


def test_value_and_grad_of_several_outputs_is_refused_with_their_count():
    import autodiffsource as ad

    with pytest.raises(ad.ADError, match="returns 2 values; a gradient needs exactly one"):
        value_and_grad(two_outputs)(np.ones(3))


def test_python_numbers_take_the_fast_path_inside_the_one_function():
    from autodiffsource.api import value_and_grad_function

    def poly(x, y):
        return (x + 2 * y) * y ** 2

    combined = value_and_grad_function(poly, (True, True))
    assert "Python numbers" in combined.__source__ and "_pullback" not in combined.__source__
    assert combined(3.0, 2.0) == (28.0, (4.0, 28.0 + 8.0))
    assert value_and_grad(poly, argnums=(1, 0))(3.0, 2.0) == (28.0, (36.0, 4.0))


def test_an_error_in_value_and_grad_names_the_users_line():
    import inspect

    line = inspect.getsourcelines(mismatched)[1] + 1
    with pytest.raises(ValueError) as info:
        value_and_grad(mismatched)(np.ones((2, 3)), np.ones((4, 1)))
    assert info.value.__notes__ == [
        f"while running the value and gradient of `mismatched`, at {__file__}:{line}  c = a @ b"]


# ---- the NumPy branch of the one function (transform/numpy_branch.py) ------------------------------------

class _Subclass(np.ndarray):
    """An ndarray subclass: fails the branch's `type(p) is ndarray` guard, so the generic code runs."""


def rows_in_a_loop(x):
    total = 0.0
    for i in range(3):
        total = total + np.sum(x[i] * x[i + 1])
    return total


def test_the_numpy_branch_writes_out_the_helpers_it_can_prove():
    from autodiffsource.api import value_and_grad_function

    text = value_and_grad_function(rosenbrock, (True,)).__source__
    branch = text[text.index("NumPy arrays"):text.index("return (_t11, dx)")]
    assert "dx[1:] += d_t4" in branch and "dx[:-1] += scale_owned(d_t4, -2, _t2)" in branch
    assert "index_add" not in branch and "finalize" not in branch and "namespace(" not in branch
    assert "sum_of_squares((100, _t4), _t8)" in branch and "d_t11 = None" not in branch
    assert "_t6" not in branch  # the weighted square made for the sum alone is folded into it


@pytest.mark.parametrize("f, shapes", [(rosenbrock, [(N,)]), (rosenbrock, [(7,)]), (chain, [(N,), (N,)]),
                                       (total_variation, [(200, 300)]), (square_twice, [(50,)]),
                                       (rows_in_a_loop, [(5, 4)])])
def test_the_numpy_branch_equals_the_generic_code_bit_for_bit(f, shapes, pairwise_sums):
    from autodiffsource.api import value_and_grad_function

    combined = value_and_grad_function(f, (True,) * len(shapes))
    args = [RNG.uniform(-1, 1, s) for s in shapes]
    value, partials = combined(*args)  # NumPy float arrays: the branch
    generic_value, generic = combined(*[a.copy().view(_Subclass) for a in args])
    assert value == generic_value
    for p, g in zip(partials if len(shapes) > 1 else [partials], generic if len(shapes) > 1 else [generic]):
        assert type(p) is np.ndarray
        np.testing.assert_array_equal(p, np.asarray(g))
    directional_check(f, args, partials if len(shapes) > 1 else [partials], range(len(shapes)))


def test_integer_arrays_take_the_generic_code():
    x = np.arange(1, 8)
    value, dx = value_and_grad(rosenbrock)(x)
    assert dx.dtype == np.float64
    directional_check(rosenbrock, [x.astype(float)], [dx], [0])


@pytest.mark.parametrize("x, kw", [(RNG.standard_normal(1000), {}), (RNG.standard_normal((3, 4)), {"axis": 0}),
                                   (RNG.standard_normal((3, 4)).astype(np.float32), {"keepdims": True}),
                                   (np.array([True, False, True]), {}), (np.arange(6), {"dtype": np.float32}),
                                   (np.array(2.5), {}), (3.0, {}), ([1.0, 2.0], {})])
def test_sum_of_is_np_sum(x, kw):
    from autodiffsource.runtime import sum_of

    got = sum_of(x, kw.get("axis"), kw.get("dtype"), kw.get("keepdims", False))
    want = np.sum(x, **kw)
    assert type(got) is type(want) and np.shape(got) == np.shape(want)
    assert getattr(got, "dtype", None) == getattr(want, "dtype", None)
    np.testing.assert_array_equal(got, want)


def energy(x, k):
    return 0.5 * k * np.sum(x[1:] ** 2 - x[:-1])


@pytest.mark.parametrize("k", [3.0, 2, np.array(1.5)])
def test_constant_arguments_of_the_namespace_are_guarded_as_arrays_or_numbers(k):
    from autodiffsource.api import value_and_grad_function

    combined = value_and_grad_function(energy, (True, False))
    assert "type(k) is ndarray or type(k) is float or type(k) is int" in combined.__source__
    x = RNG.uniform(-1, 1, N)
    value, dx = combined(x, k)
    generic_value, generic = combined(x.copy().view(_Subclass), k)
    assert value == generic_value
    np.testing.assert_array_equal(dx, np.asarray(generic))
    directional_check(lambda x: energy(x, k), [x], [dx], [0])


def rebinds_its_parameter(x):
    x = x * 2.0
    return np.sum(x[1:] * x[:-1])


def test_a_rebound_parameter_is_a_new_name_under_the_guard():
    # The lowering names the second x apart (x_2), so the guard on x still speaks for every read of x; were a
    # parameter itself rebound in the generated code, the branch would not be made at all.
    import re

    from autodiffsource.api import value_and_grad_function

    combined = value_and_grad_function(rebinds_its_parameter, (True,))
    code = [line for line in combined.__source__.splitlines() if not line.strip().startswith("#")]
    assert not any(re.match(r"\s+x = ", line) for line in code)
    x = RNG.uniform(-1, 1, 50)
    value, dx = combined(x)
    directional_check(rebinds_its_parameter, [x], [dx], [0])


def two_layers(W1, W2, x):
    a = W1 @ x
    h = np.tanh(a)  # its partial reads h, not a: nothing in the backward part reads a
    z = W2 @ h
    return np.sum(z * z)


def test_the_one_function_drops_forward_values_the_backward_part_does_not_read():
    # A closure keeps only what its pullback reads; the one function lets the rest go after its last read.
    import tracemalloc

    from autodiffsource.api import value_and_grad_function

    combined = value_and_grad_function(two_layers, (True, True, False))
    W1, W2, x = RNG.standard_normal((300, 200)), RNG.standard_normal((50, 300)), RNG.standard_normal((200, 400))
    peaks = []
    for run in (lambda: combined(W1, W2, x), lambda: transform(two_layers, (True, True, False))(W1, W2, x)[1]()):
        run()
        tracemalloc.start()
        run()
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[0] <= peaks[1], peaks  # no more alive at once than the δ function and its pullback
    lines = [line.strip() for line in combined.__source__.splitlines()]
    assert "del a" in lines and "tanh(a)" in lines[lines.index("del a") - 1]  # let go once tanh has read it
    value, (d1, d2) = combined(W1, W2, x)
    directional_check(lambda a, b: two_layers(a, b, x), [W1, W2], [d1, d2], (0, 1))


def with_varargs(x, *rest):
    total = np.sum(x * x)
    for r in rest:
        total = total + np.sum(r * x)
    return total


@pytest.mark.parametrize("extra", [0, 1, 3])
def test_value_and_grad_of_a_varargs_function_holds_the_extra_arguments_constant(extra):
    x = RNG.uniform(-1, 1, 30)
    rest = [RNG.uniform(-1, 1, 30) for _ in range(extra)]
    value, dx = value_and_grad(with_varargs)(x, *rest)  # used to fail: the δ function took x only
    assert value == pytest.approx(with_varargs(x, *rest), rel=1e-12)
    directional_check(lambda x: with_varargs(x, *rest), [x], [dx], [0])


# ---- the whole corpus (loops, branches, early exits, in-place writes, calls) -------------------------------

def _corpus_cases():
    from corpus import CORPUS, augmented, branches, dataflow, exits, loops, mixed  # noqa: F401  (registers it)
    from corpus import differentiated

    out = []
    for fn, argsets in CORPUS:
        if fn.__module__.endswith("refused"):
            continue
        for k, args in enumerate(argsets):
            mask = tuple(differentiated(a) for a in args)
            if any(mask):
                out.append(pytest.param(fn, args, mask, id=f"{fn.__name__}-{k}"))
    return out


@pytest.mark.parametrize("fn, args, mask", _corpus_cases())
def test_value_and_grads_one_function_equals_the_delta_function_on_the_corpus(fn, args, mask):
    """value_and_grad's function (NumPy branch, run-once in-place scaling, `del`s) against δf and its
    pullback, which the corpus tests check against central differences: equal partials, for every
    function with one output."""
    from autodiffsource.api import value_and_grad_function

    combined = value_and_grad_function(fn, mask)
    if combined is None:  # several outputs: value_and_grad refuses them
        return
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    value, back = transform(fn, mask)(*copies)
    want = back(np.ones_like(value) if isinstance(value, np.ndarray) else 1.0)
    got_value, got = combined(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    np.testing.assert_allclose(np.asarray(got_value, float), np.asarray(value, float), rtol=1e-13, atol=0)
    want = want if sum(mask) > 1 else (want,)
    got = got if sum(mask) > 1 else (got,)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g, float), np.asarray(w, float), rtol=1e-12, atol=1e-14)
