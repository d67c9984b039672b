"""The rest of Python inside δ functions: in-place writes, aliases, containers, comprehensions, inner
functions, lambdas, recursion and methods. Every gradient against central finite differences."""

import numpy as np
import pytest
from array_api_compat import array_namespace

from autodiffsource import UnsupportedSyntaxError, grad, source, transform, value_and_grad, δ
from corpus.mixed import carried_list_read_twice
from finite_differences import check_pullback, numeric_partial

RNG = np.random.default_rng(7)


# ---- in-place assignment --------------------------------------------------------------------------------

def fill_by_index(x):
    y = np.zeros(4)
    for i in range(4):
        y[i] = x[i] * x[(i + 1) % 4]
    return np.sum(y * y)


def overwrite_after_use(x, v):
    y = x * 2.0
    z = y * y          # reads y before the write: the pullback needs the old content
    y[1:3] = v
    return np.sum(y * z)


def augmented_slices(x, v):
    y = x * 1.0
    y[1:3] += v * 3.0
    y[0] *= 2.0
    return np.sum(y ** 2)


def masked_write(x):
    y = x * 1.0
    y[y < 0] = 0.0
    return np.sum(y ** 3)


def write_seen_through_alias(x):
    y = x * 1.0
    w = y
    y[0] = 5.0        # w is the same array: it sees the write
    return np.sum(w * x)


def repeated_fancy_index(x, v):
    y = x * 1.0
    y[[0, 0, 2]] += v  # buffered, as NumPy does: index 0 gets v once
    return np.sum(y ** 2)


@pytest.mark.parametrize("fn, args", [
    (fill_by_index, (RNG.standard_normal(4),)),
    (overwrite_after_use, (RNG.standard_normal(5), RNG.standard_normal(2))),
    (augmented_slices, (RNG.standard_normal(5), RNG.standard_normal(2))),
    (masked_write, (RNG.standard_normal(6),)),
    (write_seen_through_alias, (RNG.standard_normal(3),)),
    (repeated_fancy_index, (RNG.standard_normal(4), 0.7)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_in_place_writes(fn, args):
    δ(fn)
    check_pullback(fn, globals()["δ" + fn.__name__], args)


def test_old_content_is_copied_only_when_the_pullback_reads_it():
    δ(overwrite_after_use)
    δ(fill_by_index)
    assert "copy_value(y)" in source(δoverwrite_after_use)  # noqa: F821
    assert "copy_value" not in source(δfill_by_index)  # noqa: F821


def test_writing_into_an_argument_is_refused():
    def into_argument(x):
        x[0] = 1.0
        return np.sum(x)

    δ(into_argument)
    with pytest.raises(UnsupportedSyntaxError, match="copy it first"):
        δinto_argument(np.ones(3))  # noqa: F821


def test_inputs_are_not_mutated_by_in_place_code():
    x = RNG.standard_normal(5)
    kept = x.copy()
    δ(augmented_slices)
    value, pullback = δaugmented_slices(x, np.ones(2))  # noqa: F821
    pullback()
    pullback()
    np.testing.assert_array_equal(x, kept)


# ---- augmented assignment and aliases ---------------------------------------------------------------------

def array_alias_updated_in_place(x):
    a = x * 1.0
    b = a
    a += x * x        # an array: b changes too
    return np.sum(b * x)


def number_alias_left_alone(x):
    prev = x * 1.0
    cur = prev
    cur += 0.5 * x    # a number: prev keeps its value
    return prev * cur


@pytest.mark.parametrize("fn, args", [
    (array_alias_updated_in_place, (RNG.standard_normal(3),)),
    (number_alias_left_alone, (1.3,)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_augmented_assignment_follows_python_aliasing(fn, args):
    δ(fn)
    delta = globals()["δ" + fn.__name__]
    assert delta(*args)[0] == pytest.approx(fn(*args))
    check_pullback(fn, delta, args)


def float32_array_updated(x, c):
    a = c * 1.0       # c: a float32 array, so a is one
    a += x            # NumPy casts back: a stays float32
    return a


def int_array_updated(x, c):
    v = np.where(x == x, 1, 0)
    v += x + x        # a float into an int array: NumPy refuses (UFuncTypeError)
    return np.sum(v * c)


def shared_int_array_updated(x, c):
    v = np.where(x == x, 1, 0)
    w = v
    v += x * c        # the same, where another name holds the array
    return np.sum(w * x)


def updated_beyond_its_shape(x, c):
    a = c * 1.0       # c of shape (1,): a += x would grow it
    a += x
    return np.sum(a)


def read_only_array_updated(x, c):
    a = np.broadcast_to(c * 1.0, x.shape)
    a += x            # a broadcast view is read-only
    return np.sum(a)


def test_augmented_assignment_casts_as_numpy_does():
    # `a += e` where no other name holds the array is rebound, not written: NumPy's cast is done for it.
    x = RNG.standard_normal(3)
    δ(float32_array_updated)
    value, pullback = δfloat32_array_updated(x, np.ones(3, np.float32))  # noqa: F821
    expected = float32_array_updated(x, np.ones(3, np.float32))
    assert value.dtype == expected.dtype == np.float32
    np.testing.assert_array_equal(value, expected)
    np.testing.assert_allclose(pullback(np.ones(3, np.float32))[0], np.ones(3))


@pytest.mark.parametrize("fn, c", [
    (int_array_updated, 2.0), (shared_int_array_updated, 2.0), (updated_beyond_its_shape, np.ones(1)),
    (read_only_array_updated, np.ones(3)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_augmented_assignment_raises_where_numpy_does(fn, c):
    x = RNG.standard_normal(3)
    with pytest.raises((TypeError, ValueError)) as raised:
        fn(x, c)
    error = type(raised.value)
    with pytest.raises(error):
        value_and_grad(fn)(x, c)
    δ(fn)
    with pytest.raises(error):
        globals()["δ" + fn.__name__](x, c)


def updated_by_a_constant(x, a, e):
    a = a * 1          # a copy, of a's dtype (no other name holds it: `a += e` is rebound)
    a += e
    return np.sum(x * a), a


_IN_PLACE_DTYPES = [np.bool_, np.int32, np.int64, np.float32, np.float64]


@pytest.mark.parametrize("a_dtype", _IN_PLACE_DTYPES, ids=lambda t: t.__name__)
@pytest.mark.parametrize("e", [True, 2, 0.5, np.float32(0.25), np.ones(3, np.float32), np.ones(3), np.ones((2, 3)),
                               np.arange(3, dtype=np.int64), np.ones(3, bool)],
                         ids=lambda e: f"{type(e).__name__}{getattr(e, 'dtype', '')}{getattr(e, 'shape', '')}")
def test_augmented_assignment_matches_numpy_for_every_dtype(a_dtype, e):
    # Every pairing of an array's dtype with what is added in place: δ's value has NumPy's dtype and
    # numbers, and its partial is the updated array, or δ raises the error NumPy raises.
    x, a = np.linspace(0.5, 1.5, 3), np.arange(1, 4).astype(a_dtype)
    delta = transform(updated_by_a_constant, (True, False, False))
    try:
        expected = updated_by_a_constant(x, a, e)
    except Exception as error:  # noqa: BLE001 - NumPy's refusal: δ must refuse alike
        with pytest.raises(type(error)):
            delta(x, a, e)
        return
    total, updated, pullback = delta(x, a, e)
    assert updated.dtype == expected[1].dtype and updated.shape == expected[1].shape
    np.testing.assert_array_equal(updated, expected[1])
    assert total == pytest.approx(expected[0])
    np.testing.assert_allclose(pullback(1.0, None), expected[1])  # (the partial of sum(x * a): a)


# ---- containers --------------------------------------------------------------------------------------------

def dict_parameters(params, x):
    h = np.tanh(params["W"] @ x + params["b"])
    return np.sum(h ** 2)


def list_of_layers(x, n):
    layers = []
    h = x
    for i in range(n):
        h = np.sin(h) * 1.5
        layers.append(h)
    total = 0.0
    for layer in layers:
        total = total + np.sum(layer)
    return total


def tuple_argument(pair, s):
    a, b = pair
    out = [a * s, b + s]
    return out[0] * out[1]


def dict_result(x):
    return {"loss": np.sum(x ** 2), "aux": x * 2.0}


def test_dict_of_arrays_as_argument_gives_dict_partials():
    params = {"W": RNG.standard_normal((2, 3)), "b": RNG.standard_normal(2)}
    x = RNG.standard_normal(3)
    δ(dict_parameters)
    value, pullback = δdict_parameters(params, x)  # noqa: F821
    d_params, d_x = pullback(1.0)
    assert set(d_params) == {"W", "b"}
    for key in params:
        def of_entry(a, key=key):
            return dict_parameters({**params, key: a}, x)
        expected = numeric_partial(of_entry, [params[key].copy()], 0, [1.0])
        np.testing.assert_allclose(d_params[key], expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(d_x, numeric_partial(lambda v: dict_parameters(params, v), [x], 0, [1.0]),
                               rtol=1e-6, atol=1e-8)


def test_list_built_by_append_in_a_loop():
    δ(list_of_layers)
    for n in (0, 1, 4):
        check_pullback(list_of_layers, δlist_of_layers_const2, (RNG.standard_normal(3), n), wrt=[0])  # noqa: F821


def test_tuple_argument_gets_a_tuple_partial():
    δ(tuple_argument)
    value, pullback = δtuple_argument((1.5, 2.0), 0.7)  # noqa: F821
    d_pair, d_s = pullback()
    assert isinstance(d_pair, tuple)
    assert d_pair == pytest.approx((0.7 * 2.7, 1.5 * 0.7))
    assert d_s == pytest.approx(1.5 * 2.7 + 1.5 * 0.7)


def test_dict_result_takes_a_dict_cotangent():
    δ(dict_result)
    x = np.array([1.0, 2.0])
    out, pullback = δdict_result(x)  # noqa: F821
    assert set(out) == {"loss", "aux"}
    np.testing.assert_allclose(pullback({"loss": 1.0, "aux": np.array([1.0, 0.0])}), 2 * x + [2.0, 0.0])
    np.testing.assert_allclose(pullback({"loss": 0.5}), x)  # a missing entry is zero


# ---- comprehensions ----------------------------------------------------------------------------------------

def list_comprehension(x, w):
    terms = [w[i] * x[i] ** 2 for i in range(len(x)) if i != 1]
    return sum(terms) + np.sum(np.stack([x * k for k in range(3)]))


def generator_expression(x):
    return sum(np.sin(v) for v in x)


def constant_comprehension_named_like_a_variable(x, y):
    # (found by the front-end fuzzer: the constant dict comprehension's own `i` was renamed to the
    # function's `i`, which the generator expression below binds, None there)
    v1 = y
    for k in range(3):
        v2 = x
        for j in range(2):
            v2 = v2 * 0.5 + {i: j * i for i in range(3)}[2]
        v1 = v1 * 0.5 + v2
    return v1 ** 2 + sum(x * i for i in range(2))


@pytest.mark.parametrize("fn, args", [
    (list_comprehension, (RNG.standard_normal(4), RNG.standard_normal(4))),
    (generator_expression, (RNG.standard_normal(4),)),
    (constant_comprehension_named_like_a_variable, (0.3, 0.7)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_comprehensions(fn, args):
    δ(fn)
    check_pullback(fn, globals()["δ" + fn.__name__], args)


# ---- functions inside functions, recursion, methods ----------------------------------------------------------

def inner_def_and_lambda(x, w):
    def layer(h, scale=2.0):
        t = np.tanh(h * w)          # w: a closure over the outer function's variable
        return t * scale
    square = lambda u: u * u  # noqa: E731
    return np.sum(square(layer(x)) + layer(x, 0.5))


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def recursive(x):
    return power(x, 4) + x


class Model:
    def __init__(self):
        self.W = np.array([[1.0, 2.0], [0.5, -1.0]])
        self.scale = 3.0

    def forward(self, x):
        return np.tanh(self.W @ x) * self.scale


def method_call(model, x):
    y = model.forward(x)
    return np.sum(y ** 2) * model.scale


def test_inner_def_lambda_and_closure():
    δ(inner_def_and_lambda)
    check_pullback(inner_def_and_lambda, δinner_def_and_lambda, (RNG.standard_normal(3), 0.7))  # noqa: F821


def inner_functions_of_constants(x):
    # Calls whose arguments are all constants (the front-end fuzzer's program): the calls were kept as
    # written, naming a function the generated code does not have (inner functions exist only inlined).
    def double(t):
        return t * 2.0
    scale = lambda t: t + 0.5  # noqa: E731
    k = double(3.0) + scale(double(1.0))
    return np.sum(x * k) + np.sum(double(x))


def test_inner_functions_called_on_constants():
    δ(inner_functions_of_constants)
    x = RNG.standard_normal(3)
    assert δinner_functions_of_constants(x)[0] == pytest.approx(inner_functions_of_constants(x))  # noqa: F821
    check_pullback(inner_functions_of_constants, δinner_functions_of_constants, (x,))  # noqa: F821


def lambda_called_where_written(x):
    # The front-end fuzzer's program: a constant argument, and x reached only through the lambda's body;
    # the call was taken for a constant one, and x's partial through it was lost.
    flag = x in [x, 1.0]
    return np.sum((lambda t: t * x)(flag)) + np.sum((lambda t: np.sin(t))(x))


def test_a_lambda_called_where_it_is_written():
    δ(lambda_called_where_written)
    x = RNG.standard_normal(3)
    check_pullback(lambda_called_where_written, δlambda_called_where_written, (x,))  # noqa: F821


def test_an_inner_function_in_a_while_condition_is_refused():
    def counted(x):
        more = lambda t: t < 3.0  # noqa: E731
        k = 0.0
        while more(k):
            k = k + 1.0
        return x * k

    with pytest.raises(UnsupportedSyntaxError, match="inner function `more` in a `while` condition"):
        grad(counted)(2.0)


def test_recursion_through_a_module_function():
    δ(recursive)
    check_pullback(recursive, δrecursive, (1.3,))  # noqa: F821


def test_method_of_a_constant_object():
    δ(method_call)
    model = Model()
    x = np.array([0.3, -0.2])
    value, pullback = δmethod_call_const1(model, x)  # noqa: F821
    assert value == pytest.approx(method_call(model, x))
    expected = numeric_partial(lambda v: method_call(model, v), [x], 0, [1.0])
    np.testing.assert_allclose(pullback(), expected, rtol=1e-6, atol=1e-8)


# ---- regressions: silently wrong before ------------------------------------------------------------------

class Network:
    def __init__(self):
        self.layer = Model()


NETWORK = Network()


def method_of_a_constant_objects_attribute(x, network):
    return np.sum(network.layer.forward(x) ** 2)


def method_of_a_module_objects_attribute(x):
    net = NETWORK
    return np.sum(net.layer.forward(x) ** 2)


def namespace_submodule_function(x):
    xp = array_namespace(x)
    return xp.linalg.vector_norm(x) + xp.sum(x ** 2)


class Recorder:
    def __init__(self):
        self.losses = []
        self.w = np.array([1.0, 2.0])

    def loss(self, x):
        value = np.sum(self.w * x ** 2)
        self.losses.append(float(value))  # a record kept aside: the result of append is dropped
        return value


def records_a_loss(x, recorder):
    return recorder.loss(x) * 2.0


def test_a_method_of_a_constant_objects_attribute_whose_result_is_dropped_runs_as_written():
    recorder, x = Recorder(), np.array([0.5, 1.5])
    _, dx = value_and_grad(records_a_loss)(x, recorder)
    np.testing.assert_allclose(dx, numeric_partial(lambda v: records_a_loss(v, Recorder()), [x], 0, [1.0]),
                               rtol=1e-6)
    assert recorder.losses == [pytest.approx(records_a_loss(x, Recorder()) / 2.0)]


@pytest.mark.parametrize("fn, constants", [(method_of_a_constant_objects_attribute, (NETWORK,)),
                                           (method_of_a_module_objects_attribute, ()),
                                           (namespace_submodule_function, ())])
def test_a_method_of_a_constant_objects_attribute_given_differentiated_values(fn, constants):
    # `network.layer.forward(x)` and `xp.linalg.vector_norm(x)` were taken for constants (a zero gradient)
    x = np.array([0.3, -0.2])
    value, dx = value_and_grad(fn)(x, *constants)
    assert value == pytest.approx(fn(x, *constants), rel=1e-12)
    np.testing.assert_allclose(dx, numeric_partial(lambda v: fn(v, *constants), [x], 0, [1.0]), rtol=1e-6)
    assert np.all(dx != 0)


def list_read_in_one_branch_appended_in_the_other(x, n):
    out = [x]
    s = 0.0
    for i in range(n):
        if i == 1:
            s = s + out[0]
        else:
            out.append(x)
    return s


def rnn_over_a_growing_list(W, h0, n):
    hs = [h0]
    for t in range(n):
        hs.append(np.tanh(W @ hs[-1]))   # hs[-1] is the last entry *now*, not after the appends
    return np.sum(hs[-1] ** 2) + np.sum(hs[1])


def view_read_before_a_write(A, x):
    B = A * 1.0
    row = B[0]                            # a view of B
    s = np.sum(row * x)
    B[0] = x * 3.0                        # changes what `row` shows, not what s was made from
    return s + np.sum(B)


@pytest.mark.parametrize("fn, args, wrt", [
    (list_read_in_one_branch_appended_in_the_other, (1.5, 3), [0]),
    (rnn_over_a_growing_list, (RNG.standard_normal((3, 3)) * 0.5, RNG.standard_normal(3), 4), [0, 1]),
    (view_read_before_a_write, (RNG.standard_normal((2, 3)), RNG.standard_normal(3)), [0, 1]),
    (carried_list_read_twice, (0.7, 3), [0]),  # lists swapped in a loop (tests/corpus/mixed.py)
], ids=lambda v: getattr(v, "__name__", ""))
def test_mutation_regressions(fn, args, wrt):
    δ(fn)
    name = "δ" + fn.__name__ + "".join(f"_const{i + 1}" for i in range(len(args)) if i not in wrt)
    check_pullback(fn, globals()[name], args, wrt=wrt)


def test_writing_into_a_view_is_refused():
    def into_view(A):
        B = A * 1.0
        row = B[0]
        row[1] = 0.0
        return np.sum(B)

    δ(into_view)
    with pytest.raises(UnsupportedSyntaxError, match="may share its memory"):
        δinto_view(np.ones((2, 3)))  # noqa: F821


def test_writing_into_an_item_of_an_expression_names_the_expression():
    def into_an_item(x, y):
        a = (x * 1.0, y)[0]
        a[0] = 2.0 * y[1]
        return np.sum(a * x)

    # (it named `None` before: the subscripted value is no variable)
    with pytest.raises(UnsupportedSyntaxError, match=r"read out of `\(x \* 1\.0, y\)`"):
        value_and_grad(into_an_item, argnums=(0, 1))(np.ones(3), np.ones(3))


def test_an_inner_function_defined_twice_is_refused():
    def two_definitions(x, c):
        if c:
            def g(z):
                return z * z
        else:
            def g(z):
                return z * 3
        return g(x)

    δ(two_definitions)
    with pytest.raises(UnsupportedSyntaxError, match="second definition"):
        δtwo_definitions_const2(2.0, True)  # noqa: F821


def test_assignment_expression_is_refused_at_the_decorator():
    def walrus(x):
        k = (y := x * 2) > 0
        return y if k else -y

    with pytest.raises(UnsupportedSyntaxError, match="assignment expression"):
        δ(walrus)


def two_updates_through_aliases(x):
    a = b = x * 2
    a += 1
    b *= 3.0          # on arrays, a and b are one object throughout; on numbers, each its own
    return a * b


def alias_of_a_constant_array(x):
    a = np.zeros(2)
    b = a
    a += x            # b is the same array: it sees x too
    return np.sum(b * x)


def alias_updated_in_a_loop(x):
    x = x * 1.0
    v = x
    for i in range(2):
        x += x * 2.0  # on an array, v is x and changes each iteration; on a number, v keeps x's first value
    return np.sum(v * x)


def alias_updated_in_an_inner_loop(x):
    # The front-end fuzzer's program (tests/test_frontend_fuzz.py): v0's versions made by `x +=` in the inner
    # loop were neither carried through it (a loop of no iteration left v0 unbound) nor undone per iteration
    # (the pullback added v0's cotangent once per iteration: a wrong partial).
    x = x * 1.0  # (a new array: `x +=` then changes no argument)
    v0 = x
    for i, t in enumerate([x, 1.0]):
        v2 = x
        for j in range(2):
            x += x + x
            v2 = v2 * 0.5 + x + x
        v0 = v0 * 0.5 + x + x
    return np.sum(x + v0)


def alias_of_an_inner_loop_with_no_iteration(x):
    x = x * 1.0
    v0 = x
    for i in range(2):
        for j in range(0):
            x += x + x
        v0 = v0 * 0.5 + x + x
    return np.sum(x + v0)


@pytest.mark.parametrize("fn, args", [
    (two_updates_through_aliases, (np.array([0.3, 0.7]),)),
    (two_updates_through_aliases, (0.4,)),
    (alias_of_a_constant_array, (np.array([0.3, 0.7]),)),
    (alias_updated_in_a_loop, (np.array([0.3, -0.4]),)),
    (alias_updated_in_a_loop, (0.7,)),
    (alias_updated_in_an_inner_loop, (np.array([0.3, -0.4]),)),
    (alias_updated_in_an_inner_loop, (0.7,)),
    (alias_of_an_inner_loop_with_no_iteration, (np.array([0.3, -0.4]),)),
    (alias_of_an_inner_loop_with_no_iteration, (0.7,)),
], ids=["arrays", "numbers", "constant-array", "in-a-loop-arrays", "in-a-loop-numbers", "inner-loop-arrays",
        "inner-loop-numbers", "no-iteration-arrays", "no-iteration-numbers"])
def test_aliases_across_several_updates(fn, args):
    δ(fn)
    delta = globals()["δ" + fn.__name__]
    # (copies of the arrays only: np.copy would make a number a 0-d array, which `+=` changes in place)
    np.testing.assert_allclose(delta(*args)[0], fn(*(a.copy() if isinstance(a, np.ndarray) else a for a in args)))
    check_pullback(fn, delta, args)


# ---- regression: a user rule's call returned directly (`return f(x)` with δf beside f) -------------------

def rule_squared(x):
    return x * x


def δrule_squared(x):
    y = x * x

    def rule_squared_pullback(dy):
        return (3.0 * x * dy,)  # deliberately not 2x: the rule, not the primal's source, must be used

    return y, rule_squared_pullback


def returns_a_rule_call(x):
    return rule_squared(x)


def test_a_user_rule_called_in_the_return_statement():
    # Session 2 found `return f(x)` with a user rule crashing in the lowering stage (outputs unknown).
    assert grad(returns_a_rule_call)(2.0) == pytest.approx(6.0)


# ---- one result of a function that returns several ------------------------------------------------------

def logdet_by_position(a):
    return np.linalg.slogdet(a)[1] * 2.0


def logdet_by_field(a):
    return np.linalg.slogdet(a).logabsdet + np.sum(np.linalg.eigh(a).eigenvalues ** 2)


def results_by_negative_position_and_in_chains(a):
    top = np.linalg.eigh(a)[-1][:, -1]
    return np.sum(top ** 4) + np.sum(np.linalg.svd(a)[1]) + np.sum(np.linalg.qr(a).R ** 2)


@pytest.mark.parametrize("fn", [logdet_by_position, logdet_by_field, results_by_negative_position_and_in_chains],
                         ids=lambda fn: fn.__name__)
def test_one_result_of_a_function_that_returns_several(fn):
    # (refused before: "using 1 value(s) of `slogdet`, which returns 2", or no rule for `.logabsdet`)
    a = np.random.default_rng(5).normal(size=(3, 3))
    a = a @ a.T + 3.0 * np.eye(3)
    value, gradient = value_and_grad(fn)(a)
    assert value == pytest.approx(fn(a), rel=1e-12)
    np.testing.assert_allclose(gradient, numeric_partial(fn, [a], 0, [1.0]), rtol=1e-6, atol=1e-8)


def test_a_result_position_out_of_range_is_still_refused():
    def third_of_two(a):
        return np.linalg.slogdet(a)[2]

    with pytest.raises(UnsupportedSyntaxError, match="returns 2"):
        value_and_grad(third_of_two)(np.eye(2) * 2.0)


def results_kept_as_one_value(a):
    decomposition = np.linalg.eigh(a)  # the pair as one value, unpacked later
    w, v = decomposition
    return np.sum(w ** 2) + np.sum(v[:, 0] * decomposition[0][0])


def test_the_results_of_a_call_kept_as_one_value():
    # (refused before: "using 1 value(s) of `eigh`, which returns 2; unpack all of them")
    a = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.0]])
    value, da = value_and_grad(results_kept_as_one_value)(a)
    assert value == results_kept_as_one_value(a)
    np.testing.assert_allclose(da, numeric_partial(results_kept_as_one_value, [a], 0, [1.0]), rtol=1e-6, atol=1e-9)


def methods_of_a_transpose(x, v):
    flat = x.T.reshape(-1)
    return flat @ flat + np.sum(x.T.sum(axis=0) ** 2) + x.T.dot(v).sum() + np.sum(x.T.copy() ** 3)


def test_a_method_of_a_differentiated_attribute():
    # (refused before: "calling a method of an expression on differentiated values")
    x, v = np.random.default_rng(8).normal(size=(3, 4)), np.random.default_rng(9).normal(size=3)
    value, (dx, dv) = value_and_grad(methods_of_a_transpose, argnums=(0, 1))(x, v)
    assert value == pytest.approx(methods_of_a_transpose(x, v), rel=1e-12)
    np.testing.assert_allclose(dx, numeric_partial(methods_of_a_transpose, [x, v], 0, [1.0]), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dv, numeric_partial(methods_of_a_transpose, [x, v], 1, [1.0]), rtol=1e-6, atol=1e-8)
