"""``list``, ``tuple``, ``reversed`` and ``sorted`` inside δ functions: of an array (its rows, the 0-d entries
of a 1-D one), of a list or tuple (its items), of ``zip(...)``/``enumerate(...)`` (their tuples).

Every gradient against central finite differences in float64 (tests/finite_differences.py), on NumPy and on
the other CPU array libraries. ``sorted``'s ties follow Python's stable sort: tied items keep their input
order, so the first of equal items receives the cotangent of the first of their places (with
``reverse=True`` too). What has no meaning here is refused at transform time with the user's line.
"""

import importlib.util
import textwrap

import numpy as np
import pytest
from array_api_compat import array_namespace

import autodiffsource as ad
from autodiffsource import MissingRuleError, UnsupportedSyntaxError, δ
from backend_cases import cpu_libraries
from finite_differences import check_pullback, numeric_partial

RNG = np.random.default_rng(11)


# ---- the user's spellings -------------------------------------------------------------------------------

def rows_of_an_array(W):
    rows = list(W)
    total = 0.0
    for i, r in enumerate(rows):
        total = total + (i + 1.0) * np.sum(r * r)
    return total + np.sum(rows[0] * rows[-1])


def parts_of_a_split(x):
    parts = tuple(np.split(x, 3))
    return np.sum(parts[0] * parts[2]) + np.sum(np.sin(parts[1]))


def copy_of_a_list(x, y):
    params = [x, y]
    xs = list(params)
    xs.append(x * y)  # the copy grows, the original does not
    return sum(np.sum(p) for p in params) * 2.0 + sum(np.sum(q * q) for q in xs)


def zip_of_a_copy(x, y):
    xs = [x, 2.0 * y]
    ys = [np.cos(y), x]
    total = 0.0
    for a, b in zip(list(xs), ys):
        total = total + np.sum(a * b)
    return total


def sorted_python_floats(x):
    values = [float(x[0] ** 2), float(x[1]), float(x[2] * 3.0)]
    s = sorted(values)
    return s[0] + 2.0 * s[1] + 5.0 * s[2]


def sorted_entries(x):
    s = sorted(x)  # a list of 0-d items
    return s[0] * 3.0 + s[-1] * s[1]


def k_smallest(x):
    losses = [(x[0] - 1.0) ** 2, x[1] ** 2, (x[2] + 1.0) ** 2, x[3] * x[0]]
    k = 2
    return sum(sorted(losses)[:k])


def sorted_by_magnitude(x):
    s = sorted(list(x), key=abs, reverse=True)
    return s[0] * 3.0 + s[1] - s[-1]


def sorted_by_a_local_lambda(x):
    descending = lambda v: -v  # noqa: E731
    s = sorted([x[0], x[1] * x[2], x[2]], key=descending)
    return s[0] * 3.0 + s[1]


def sorted_rows_by_a_lambda(x):
    rows = sorted(list(x.reshape(3, 2)), key=lambda r: r[0] + r[1])
    return np.sum(rows[0] * np.arange(2.0)) + np.sum(rows[2]) * 5.0


def reversed_items(x):
    xs = [x, np.sin(x), x * x]
    total = 0.0
    for i, a in enumerate(reversed(xs)):
        total = total + (i + 1.0) * np.sum(a)
    return total


def list_of_zip(x, y):
    pairs = list(zip([x, y], [y * y, x]))
    return sum(np.sum(a * b) for a, b in pairs) + np.sum(pairs[1][0])


def list_of_enumerate(x):
    numbered = list(enumerate([x, 2.0 * x, x ** 3]))
    return sum((i + 1.0) * np.sum(v) for i, v in numbered)


def tuple_of_enumerate_zip(x, y):
    total = 0.0
    for i, (a, b) in tuple(enumerate(zip([x, y], list(x)), 1)):
        total = total + i * np.sum(a * b)
    return total


def sorted_with_labels(x):
    losses = [float(np.sum(v * v)) for v in x]
    names = ["a", "b", "c"]
    ranked = sorted(zip(losses, names))
    return ranked[0][0] + 2.0 * ranked[1][0]


def rows_read_after_a_write(x):
    w = x * 1.0
    rows = list(w)  # views of w's rows: they show the write below
    w[0] = 5.0 * w[1]
    return sum(np.sum(r * r) for r in rows)


CASES = [
    (rows_of_an_array, (RNG.standard_normal((3, 4)),)),
    (parts_of_a_split, (RNG.standard_normal(6),)),
    (copy_of_a_list, (RNG.standard_normal(3), RNG.standard_normal(3))),
    (zip_of_a_copy, (RNG.standard_normal(3), RNG.standard_normal(3))),
    (sorted_python_floats, (np.array([0.5, -1.5, 0.8]),)),
    (sorted_entries, (np.array([0.4, -1.3, 2.2, 0.9]),)),
    (k_smallest, (np.array([0.3, -0.7, 0.2, 1.9]),)),
    (sorted_by_magnitude, (np.array([0.4, -1.3, 2.2, -0.9]),)),
    (sorted_by_a_local_lambda, (np.array([0.4, -1.3, 2.2]),)),
    (sorted_rows_by_a_lambda, (np.array([0.4, -1.3, 2.2, 0.9, -0.5, 0.1]),)),
    (reversed_items, (RNG.standard_normal(3),)),
    (list_of_zip, (RNG.standard_normal(3), RNG.standard_normal(3))),
    (list_of_enumerate, (RNG.standard_normal(3),)),
    (tuple_of_enumerate_zip, (RNG.standard_normal(2), RNG.standard_normal(2))),
    (sorted_with_labels, (np.array([[0.4, -1.3], [2.2, 0.9], [-0.5, 0.1]]),)),
    (rows_read_after_a_write, (RNG.standard_normal((2, 3)),)),
]


@pytest.mark.parametrize("fn, args", CASES, ids=[fn.__name__ for fn, _ in CASES])
def test_gradients_match_central_differences(fn, args):
    check_pullback(fn, δ(fn).δ, args)


def test_list_of_a_list_argument_gets_a_list_partial():
    def loss(params, ys):
        xs = list(params)
        total = 0.0
        for a, b in zip(list(xs), ys):
            total = total + np.sum(a * b)
        return total * len(xs)

    x, y = RNG.standard_normal(3), RNG.standard_normal(2)
    value, g = ad.value_and_grad(loss)([x, y], [2.0 * x, y * y])
    assert value == pytest.approx(loss([x, y], [2.0 * x, y * y]))
    assert type(g) is list and len(g) == 2
    np.testing.assert_allclose(g[0], 4.0 * x)
    np.testing.assert_allclose(g[1], 2.0 * y * y)


def test_a_tuple_of_rows_as_the_result():
    def rows_doubled(W):
        return tuple(W * 2.0)

    W = RNG.standard_normal((2, 3))
    out, pullback = ad.vjp(rows_doubled, W)
    assert type(out) is tuple and len(out) == 2
    (g,) = pullback([np.ones(3), np.arange(3.0)])
    np.testing.assert_allclose(g, [[2.0, 2.0, 2.0], [0.0, 2.0, 4.0]])


# ---- ties: Python's stable order ------------------------------------------------------------------------

@pytest.mark.parametrize("reverse", [False, True])
def test_tied_items_keep_their_order(reverse):
    def weighted(x):
        s = sorted(x, reverse=reverse)
        return s[0] + 10.0 * s[1] + 100.0 * s[2]

    x = np.array([1.0, 1.0, 0.0])
    # Ascending: [0.0 (item 2), 1.0 (item 0), 1.0 (item 1)]; descending: [1.0 (item 0), 1.0 (item 1), 0.0 (item 2)]
    expected = [10.0, 100.0, 1.0] if not reverse else [1.0, 10.0, 100.0]
    np.testing.assert_array_equal(ad.grad(weighted)(x), expected)
    # forward mode sends the tangents the same way
    _, slope = ad.jvp(weighted, (x,), (np.array([1.0, 0.0, 0.0]),))
    assert float(slope) == expected[0]


def test_sorted_second_order():
    def smallest_squares(x):
        s = sorted([x[0] ** 2, x[1] * x[2], x[2] ** 3])
        return s[0] * s[1]

    x = np.array([0.7, -1.1, 1.3])
    v = np.array([0.3, -0.2, 0.5])
    h = 1e-5
    expected = (ad.grad(smallest_squares)(x + h * v) - ad.grad(smallest_squares)(x - h * v)) / (2 * h)
    np.testing.assert_allclose(ad.hvp(smallest_squares)(x, v), expected, rtol=1e-5, atol=1e-7)


# ---- other array libraries ------------------------------------------------------------------------------

def sorted_entries_xp(x):
    s = sorted(x)
    return s[0] * 3.0 + s[-1] * s[1] + sum(sorted(x, key=abs, reverse=True)[:2])


def reversed_rows_xp(x):
    parts = tuple(reversed(list(x)))
    total = 0.0
    for k, p in enumerate(parts):
        total = total + (k + 1.0) * p * p
    return total


def rows_xp(W):
    xp = array_namespace(W)
    rows = list(W)
    return sum((i + 1.0) * xp.sum(r * r) for i, r in enumerate(rows[:2])) + xp.sum(rows[-1])


LIBRARY_CASES = [(sorted_entries_xp, np.array([0.4, -1.3, 2.2, 0.9])),
                 (reversed_rows_xp, np.array([0.4, -1.3, 2.2])),
                 (rows_xp, RNG.standard_normal((3, 2)))]


@pytest.mark.parametrize("lib", cpu_libraries(), ids=lambda lib: lib.name)
@pytest.mark.parametrize("fn, x", LIBRARY_CASES, ids=[fn.__name__ for fn, _ in LIBRARY_CASES])
def test_other_array_libraries(fn, x, lib):
    if lib.name == "array_api_strict" and x.ndim > 1:
        with pytest.raises(TypeError, match="iteration"):  # its arrays refuse list(W), in Python as here
            fn(lib.convert(x, "float64"))
        return
    value, g = ad.value_and_grad(fn)(lib.convert(x, "float64"))
    assert isinstance(g, lib.array_type())
    assert float(value) == pytest.approx(float(fn(x)))
    np.testing.assert_allclose(lib.to_numpy(g), numeric_partial(fn, [x], 0, [1.0]), rtol=1e-6, atol=1e-8)


# ---- refusals at transform time ---------------------------------------------------------------------------

REFUSED = textwrap.dedent("""\
    import numpy as np


    def mapped(x):
        return sum(list(map(np.sin, [x, 2 * x])))


    def zip_kept(x):
        pairs = zip([x], [x])
        return sum(a * b for a, b in pairs)


    def sorted_with_cmp(x):
        return sorted([x, 2 * x], cmp=None)[0]


    def sorted_key_by_position(x):
        return sorted([x, 2 * x], abs)[0]


    def sorted_by_an_inner_def(x):
        def k(v):
            return -v
        return sorted([x, 2 * x], key=k)[0]
    """)


def _load(tmp_path):
    path = tmp_path / "list_refusals.py"
    path.write_text(REFUSED)
    spec = importlib.util.spec_from_file_location("list_refusals", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, str(path)


@pytest.mark.parametrize("name, error, line, col, words", [
    ("mapped", MissingRuleError, 5, 20, ["`map` of differentiated values", "list comprehension"]),
    ("zip_kept", MissingRuleError, 9, 12, ["`zip` of differentiated values", "list(zip(xs, ys))"]),
    ("sorted_with_cmp", UnsupportedSyntaxError, 14, 34, ["the keyword `cmp=` of `sorted`"]),
    ("sorted_key_by_position", UnsupportedSyntaxError, 18, 30, ["second positional argument to `sorted`",
                                                               "`key=`"]),
    ("sorted_by_an_inner_def", UnsupportedSyntaxError, 24, 34, ["the inner function `k` as `key=`",
                                                               "lambda"]),
])
def test_refusals_name_the_line_and_the_construct(tmp_path, name, error, line, col, words):
    module, path = _load(tmp_path)
    with pytest.raises(error) as info:
        ad.grad(getattr(module, name))(0.5)
    err = info.value
    assert (err.loc.file, err.loc.line, err.loc.col) == (path, line, col)
    text = str(err)
    assert REFUSED.splitlines()[line - 1] in text
    for word in words:
        assert word in text, word
