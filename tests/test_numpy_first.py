"""value_and_grad compiles only the branch its first call's arrays take (issue 6's first call).

The one function then holds the Python-number hand-off, the NumPy branch (built assuming shared shapes
where the first call's arrays shared one) and a hand-off of every other call to the full variant, which
is compiled when such arguments first come. First called with another library's arrays, it holds the
generic code and hands float NumPy arrays to that variant instead. Checked: on the corpus, the
NumPy-only function gives what δf and its pullback give (which the corpus tests check against central
differences; test_inplace checks the full variant the hand-offs call the same way); the full variant is
compiled only when needed; broadcasting shapes, float32, torch tensors and Python numbers after a NumPy
first call, and NumPy arrays after a torch first call, get gradients that match central differences; a
signature a hand-off could not pass arguments through keeps the generic code.
"""

from __future__ import annotations

import os

os.environ.setdefault("JAX_ENABLE_X64", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from autodiffsource import api, value_and_grad  # noqa: E402
from autodiffsource.api import transform, value_and_grad_function  # noqa: E402
import finite_differences  # noqa: E402
from test_inplace import _corpus_cases  # noqa: E402

RNG = np.random.default_rng(31)


class _Subclass(np.ndarray):
    """Fails the NumPy branch's `type(p) is ndarray` guard: the call is handed to the full variant."""


def squares(x, y):
    return np.sum((x - y) ** 2 * np.tanh(x) - y ** 2)


def scaled(x, *, scale=2.0):
    return np.sum(np.sin(x) * scale)


def variants(fn) -> list[tuple]:
    """The cache keys of ``fn``'s compiled functions, past (function, mask)."""
    return [key[2:] for key in api._compiled if key[0] is fn]


def forget(fn) -> None:
    """Drop ``fn``'s compiled functions from the cache: the next call compiles afresh."""
    for key in [key for key in api._compiled if key[0] is fn]:
        del api._compiled[key]


def _as_given(value):
    return value.copy() if isinstance(value, np.ndarray) else value


# The corpus cases whose differentiated arguments are all float NumPy arrays.
NUMPY_CASES = [case for case in _corpus_cases()
               if api._first_arguments(case.values[1], case.values[2]) in ("same shapes", "any shapes")]


@pytest.mark.parametrize("fn, args, mask", NUMPY_CASES)
def test_the_numpy_only_function_equals_the_delta_function_on_the_corpus(fn, args, mask):
    kind = api._first_arguments(args, mask)
    numpy_only = value_and_grad_function(fn, mask, defer_numbers=True, first_arguments=kind)
    if numpy_only is None:  # several outputs: value_and_grad refuses them
        return
    value, back = transform(fn, mask)(*[_as_given(a) for a in args])
    want = back(np.ones_like(value) if isinstance(value, np.ndarray) else 1.0)
    want = want if sum(mask) > 1 else (want,)
    got_value, got = numpy_only(*[_as_given(a) for a in args])
    np.testing.assert_allclose(np.asarray(got_value, float), np.asarray(value, float), rtol=1e-12, atol=0)
    got = got if sum(mask) > 1 else (got,)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g, float), np.asarray(w, float), rtol=1e-12, atol=1e-14)


def test_a_first_call_with_arrays_of_one_shape_compiles_the_same_shape_branch_alone():
    x, y = RNG.uniform(-1, 1, 50), RNG.uniform(-1, 1, 50)
    forget(squares)
    value, partials = value_and_grad(squares, argnums=(0, 1))(x, y)
    assert variants(squares) == [("value_and_grad", "numbers deferred", "first arguments", "same shapes")]
    text = value_and_grad_function(squares, (True, True), True, "same shapes").__source__
    assert "x.shape == y.shape" in text and "return other_arguments(x, y)" in text
    assert "unbroadcast" not in text and "namespace(" not in text  # no generic code
    finite_differences.directional_check(squares, [x, y], partials, (0, 1), RNG)


def _later_arguments(later: str) -> list:
    """Arguments of a later call that a NumPy-only function's guard may not take."""
    if later == "broadcasting":
        return [RNG.uniform(-1, 1, (6, 1)), RNG.uniform(-1, 1, 5)]
    if later == "float32":
        return [RNG.uniform(-1, 1, 7).astype(np.float32), RNG.uniform(-1, 1, 7).astype(np.float32)]
    if later == "subclass":
        return [RNG.uniform(-1, 1, 7).view(_Subclass), RNG.uniform(-1, 1, 7).view(_Subclass)]
    if later == "torch":
        torch = pytest.importorskip("torch")
        return [torch.tensor(RNG.uniform(-1, 1, 7)), torch.tensor(RNG.uniform(-1, 1, 7))]
    return [0.3, -1.2]


def _check_squares(args, value, partials, later: str) -> None:
    """``squares``'s value and partials at ``args`` against the primal and central differences."""
    as_numpy = [np.asarray(a, dtype=np.float64) for a in args]
    partials = [np.asarray(p, dtype=np.float64) for p in partials]
    for p, a in zip(partials, as_numpy):
        assert p.shape == a.shape
    assert float(value) == pytest.approx(squares(*as_numpy), rel=1e-5 if later == "float32" else 1e-12)
    finite_differences.directional_check(squares, as_numpy, partials, (0, 1), RNG,
                                         rtol=1e-3 if later == "float32" else 1e-6)


@pytest.mark.parametrize("later", ["broadcasting", "float32", "subclass", "torch", "numbers"])
def test_other_arguments_after_a_first_call_with_numpy_arrays_get_right_gradients(later):
    vg = value_and_grad(squares, argnums=(0, 1))
    forget(squares)
    vg(RNG.uniform(-1, 1, 20), RNG.uniform(-1, 1, 20))
    assert ("value_and_grad", "numbers deferred") not in variants(squares)
    args = _later_arguments(later)
    value, partials = vg(*args)
    _check_squares(args, value, partials, later)
    # The full variant is compiled where the NumPy branch does not take the arguments, and only there.
    handed_on = later in ("broadcasting", "subclass", "torch")
    assert (("value_and_grad", "numbers deferred") in variants(squares)) == handed_on


def test_a_first_call_with_another_librarys_arrays_compiles_the_generic_code_alone():
    torch = pytest.importorskip("torch")
    x, y = torch.tensor(RNG.uniform(-1, 1, 9)), torch.tensor(RNG.uniform(-1, 1, 9))
    vg = value_and_grad(squares, argnums=(0, 1))
    forget(squares)
    value, (dx, dy) = vg(x, y)
    assert variants(squares) == [("value_and_grad", "numbers deferred", "first arguments", "other arrays")]
    text = value_and_grad_function(squares, (True, True), True, "other arrays").__source__
    assert "return numpy_arguments(x, y)" in text and "NumPy arrays: each helper" not in text  # no NumPy branch
    finite_differences.directional_check(squares, [x.numpy(), y.numpy()], [dx.numpy(), dy.numpy()], (0, 1), RNG)
    # Float NumPy arrays then go to the variant with the NumPy branch, compiled on that call.
    a, b = RNG.uniform(-1, 1, 9), RNG.uniform(-1, 1, 9)
    value, partials = vg(a, b)
    assert ("value_and_grad", "numbers deferred") in variants(squares)
    assert value == pytest.approx(squares(a, b), rel=1e-12)
    finite_differences.directional_check(squares, [a, b], partials, (0, 1), RNG)


def test_a_signature_a_hand_off_cannot_pass_through_keeps_the_generic_code():
    x = RNG.uniform(-1, 1, 12)
    value, dx = value_and_grad(scaled)(x)
    assert "other_arguments" not in value_and_grad_function(scaled, (True,), True, "same shapes").__source__
    finite_differences.directional_check(scaled, [x], [dx], (0,), RNG)


def test_the_branch_rewritten_in_place_is_the_branch_copied(monkeypatch):
    # With the generic code left out and shapes assumed, combined.render rewrites the body's own
    # statements into the NumPy branch instead of copying them (numpy_branch(in_place=True)): the text
    # must be what the copy gives, on every corpus case that takes that path.
    from autodiffsource.transform import combined

    real = combined.numpy_branch
    taken = []

    def branch(*args, in_place=False, copying=False):
        taken.append(in_place)
        return real(*args, in_place=in_place and not copying)

    for case in NUMPY_CASES:
        fn, args, mask = case.values
        texts = []
        for copying in (False, True):
            monkeypatch.setattr(combined, "numpy_branch",
                                lambda *a, in_place=False, copying=copying: branch(*a, in_place=in_place, copying=copying))
            forget(fn)
            made = value_and_grad_function(fn, mask, True, api._first_arguments(args, mask))
            texts.append(None if made is None else made.__source__)  # (None: several outputs)
        assert texts[0] == texts[1], fn.__name__
    assert sum(taken) >= 16  # (asked for in place on both passes of each case that takes the path: 9 now)


# ---- δf, the seed's API: a stub first called with float NumPy arrays compiles NumPy code only ----------

@pytest.mark.parametrize("fn, args, mask", NUMPY_CASES)
def test_the_numpy_only_delta_function_equals_the_generic_one_on_the_corpus(fn, args, mask):
    # (the corpus tests check the generic δ function against central differences)
    kind = api._first_arguments(args, mask)
    numpy_only = transform(fn, mask, defer_numbers=True, first_arguments=kind)
    *outputs, back = transform(fn, mask)(*[_as_given(a) for a in args])  # (δf returns each output, then the pullback)
    *got_outputs, got_back = numpy_only(*[_as_given(a) for a in args])
    for got, want in zip(got_outputs, outputs, strict=True):
        np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), rtol=1e-12, atol=0)
    # The pullback with no cotangent, with one passed, and run a second time: as the generic one's.
    cotangents = [0.5 * np.ones_like(o) if isinstance(o, np.ndarray) else 0.5 for o in outputs]
    runs = ((), tuple(cotangents), ()) if len(outputs) == 1 else (tuple(cotangents),) * 2  # (several: each needs one)
    for cotangent in runs:
        want, got = back(*cotangent), got_back(*cotangent)
        want, got = (want, got) if sum(mask) > 1 else ((want,), (got,))
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(np.asarray(g, float), np.asarray(w, float), rtol=1e-12, atol=1e-14)


def _delta_stub(fn, mask):
    """``δfn`` as ``@δ`` binds it: a stub that transforms on its first call (bound in a namespace here)."""
    namespace = {}
    forget(fn)
    return api._stub(fn, mask, api.delta_name(fn, mask), namespace)


def test_a_delta_stub_first_called_with_numpy_arrays_of_one_shape_compiles_numpy_code_alone():
    x, y = RNG.uniform(-1, 1, 50), RNG.uniform(-1, 1, 50)
    value, back = _delta_stub(squares, (True, True))(x, y)
    assert variants(squares) == [("numbers deferred", "first arguments", "same shapes")]
    text = transform(squares, (True, True), defer_numbers=True, first_arguments="same shapes").__source__
    assert "x.shape == y.shape" in text and "return other_arguments(x, y)" in text
    assert "unbroadcast(" not in text and "namespace(x" not in text  # no generic code
    assert "namespace" not in text.splitlines()[1]  # (the factory binds no helper it no longer calls)
    assert value == pytest.approx(squares(x, y), rel=1e-12)
    finite_differences.directional_check(squares, [x, y], back(), (0, 1), RNG)


@pytest.mark.parametrize("later", ["broadcasting", "float32", "subclass", "torch", "numbers"])
def test_other_arguments_after_a_delta_stubs_first_call_with_numpy_arrays_get_right_gradients(later):
    delta = _delta_stub(squares, (True, True))
    delta(RNG.uniform(-1, 1, 20), RNG.uniform(-1, 1, 20))
    delta = transform(squares, (True, True), defer_numbers=True, first_arguments="same shapes")  # (what the stub rebinds its name to)
    args = _later_arguments(later)
    value, back = delta(*args)
    _check_squares(args, value, back(), later)
    # The generic variant is compiled where the NumPy code does not take the arguments, and only there
    # (float32 arrays pass its guard: NumPy's own float kind, of one shape).
    handed_on = later in ("broadcasting", "subclass", "torch")
    assert (("numbers deferred",) in variants(squares)) == handed_on


def test_a_delta_stubs_first_call_builds_once_at_any_length(tmp_path, monkeypatch):
    # Beyond numpy_branch.MAX_OPERATIONS the NumPy-only code is made as for a short function, in one
    # build (the limit is for a second copy beside the generic code; this is the only one): shapes
    # assumed shared, no un-broadcast, no namespace looked up.
    import importlib
    import os
    import sys

    from autodiffsource.frontend import lower
    from autodiffsource.source import parse_function
    from autodiffsource.transform import numpy_branch, reverse

    monkeypatch.syspath_prepend(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from bench.transform_time import generate

    lines = numpy_branch.MAX_OPERATIONS // 2 + 10  # (a few operations per line)
    (tmp_path / "builds_once_model.py").write_text(
        "import numpy as np\nfrom autodiffsource import δ\n\n\n@δ\n" + generate("long", lines) + "\n\n@δ\n"
        + "def short(x, y):\n    return np.sum(np.tanh(x) * y)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    model = importlib.import_module("builds_once_model")
    builds = []
    real = reverse.ReverseBuilder.build
    monkeypatch.setattr(reverse.ReverseBuilder, "build", lambda self: builds.append(self.delta_name) or real(self))
    x, y = RNG.uniform(-1, 1, 6), RNG.uniform(-1, 1, 6)
    for name in ("long", "short"):
        value, back = getattr(model, "δ" + name)(x, y)
        finite_differences.directional_check(getattr(model, name), [x, y], back(), (0, 1), RNG)
    assert builds == ["δlong", "δshort"], builds
    lowered = lower.Lowerer(parse_function(model.long), [True, True], api._resolve_delta).lower()
    assert numpy_branch.operations(lowered) > numpy_branch.MAX_OPERATIONS
    for fn in (model.δlong, model.δshort):
        assert "namespace(" not in fn.__source__ and "unbroadcast(" not in fn.__source__
    # value_and_grad's one function, first called with NumPy arrays of one shape, likewise: the same
    # value and partials as the δ function's.
    value_and_grad_long = value_and_grad_function(model.long, (True, True), defer_numbers=True,
                                                  first_arguments="same shapes")
    assert "unbroadcast(" not in value_and_grad_long.__source__
    value, partials = value_and_grad_long(x, y)
    delta_value, back = model.δlong(x, y)
    assert value == delta_value
    for got, expected in zip(partials, back()):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    del sys.modules["builds_once_model"]
