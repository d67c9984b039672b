"""Control flow end to end: a corpus of user functions (tests/corpus/) with branches, loops, break,
continue, early returns and augmented assignment, each checked against central finite differences in
float64 at inputs that take different branches and trip counts. Then the properties of the generated
code: one transformation for every trip count, a tape of ordinary Python, a pullback that can be called
again, bounded memory over 10,000 steps; and clear refusals, at the user's line and column, of what is
not supported yet.
"""

from __future__ import annotations

import ast
import copy
import inspect
import re
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import autodiffsource as ad
from autodiffsource import UnsupportedSyntaxError
from corpus import CORPUS, augmented, branches, dataflow, differentiated, exits, loops, mixed, refused  # noqa: F401  (registers the corpus)
from finite_differences import check_pullback


def fresh(fn):
    """``fn`` called on copies of its arguments: a function may update an argument in place (``x += 1``)."""
    def call(*args):
        return fn(*copy.deepcopy(args))
    return call


def transform_all_floats(fn, args):
    mask = tuple(differentiated(a) for a in args)
    return ad.transform(fn, mask), [i for i, m in enumerate(mask) if m]


def over_differentiated(fn, args, wrt):
    """``fn`` as a function of the differentiated arguments only, the others fixed at ``args``
    (central differences then never touch counts, modes or containers of parameters)."""
    def call(*values):
        full = list(args)
        for i, v in zip(wrt, values, strict=True):
            full[i] = v
        return fn(*copy.deepcopy(full))
    return call


CASES = [pytest.param(fn, args, id=f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}[{k}]")
         for fn, argsets in CORPUS for k, args in enumerate(argsets)]


def test_corpus_is_large_enough():
    modules = {fn.__module__ for fn, _ in CORPUS}
    assert len(CORPUS) >= 80, len(CORPUS)
    assert len(CORPUS) == len({(fn.__module__, fn.__name__) for fn, _ in CORPUS}), "duplicate names"
    assert modules == {f"corpus.{m}" for m in ("branches", "loops", "exits", "augmented", "mixed", "dataflow")}


def lines_run(fn, args) -> set[int]:
    """The lines of ``fn`` itself (not of what it calls) that run on ``args``."""
    code, seen = fn.__code__, set()

    def tracer(frame, event, arg):
        if frame.f_code is code:
            if event == "line":
                seen.add(frame.f_lineno)
            return tracer
        return None

    previous = sys.gettrace()  # a coverage tool's tracer, say: put it back afterwards
    sys.settrace(tracer)
    try:
        fn(*copy.deepcopy(args))
    finally:
        sys.settrace(previous)
    return seen


def statement_lines(fn) -> set[int]:
    """The lines of ``fn``'s statements, not counting the bodies of functions defined inside it."""
    lines, first = inspect.getsourcelines(fn)
    fdef = ast.parse(textwrap.dedent("".join(lines))).body[0]
    found, stack = set(), list(fdef.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):
            found.add(node.lineno + first - 1)
        if not isinstance(node, (ast.FunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
    return found


NEVER_RUN = {"loop_bodies_that_only_pass"}  # `while np.sum(x) < 0: pass` would never end if it ran


def test_corpus_inputs_run_every_statement():
    """Between them, a function's inputs take every branch and enter every loop (else the finite
    differences would not check that code at all)."""
    unrun = {}
    for fn, argsets in CORPUS:
        if fn.__name__ in NEVER_RUN:
            continue
        missing = statement_lines(fn) - set().union(*(lines_run(fn, args) for args in argsets))
        if missing:
            unrun[fn.__name__] = sorted(missing)
    assert not unrun, f"statements no input runs: {unrun}"


@pytest.mark.parametrize("fn, args", CASES)
def test_corpus_against_central_differences(fn, args):
    δfn, wrt = transform_all_floats(fn, args)
    values = [args[i] for i in wrt]
    check_pullback(over_differentiated(fn, args, wrt), over_differentiated(δfn, args, wrt), values,
                   rtol=1e-6, atol=1e-7)


# ---- what is still refused: UnsupportedSyntaxError at the user's line and column --------------------------

REFUSED = [  # (function, words the message must contain)
    (refused.for_else, "for ... else"),
    (refused.while_else, "while ... else"),
    (refused.try_except, "Try"),
    (refused.with_statement, "With"),
    (refused.match_statement, "Match"),
    (refused.global_statement, "Global"),
    (refused.nonlocal_statement, "Nonlocal"),
    (refused.delete_statement, "Delete"),
    (refused.class_inside, "ClassDef"),
    (refused.starred_target, "starred"),
    (refused.comprehension_of_active, "DictComp"),
    (refused.walrus_in_active_expression, "assignment expression"),
    (refused.augmented_assignment_on_an_alias, "shared with another variable"),
]


def marked_location(fn):
    """(file, line, col) of the text named by the ``# refused: TEXT`` marker in ``fn``'s source."""
    lines, first = inspect.getsourcelines(fn)
    for offset, line in enumerate(lines):
        if "# refused: " in line:
            code, text = line.split("# refused: ")
            return inspect.getsourcefile(fn), first + offset, code.index(text.strip())
    raise AssertionError(f"no refused marker in {fn.__name__}")


@pytest.mark.parametrize("fn, words", REFUSED, ids=[fn.__name__ for fn, _ in REFUSED])
def test_refused_at_the_users_line_and_column(fn, words):
    file, line, col = marked_location(fn)
    mask = tuple(name != "n" for name in inspect.signature(fn).parameters)  # `n` is a count
    with pytest.raises(UnsupportedSyntaxError) as info:
        ad.transform(fn, mask)
    err = info.value
    assert (err.loc.file, err.loc.line, err.loc.col) == (file, line, col), str(err)
    assert (err.filename, err.lineno, err.offset) == (file, line, col + 1)  # as SyntaxError reports it
    text = str(err)
    assert text.startswith(f"{file}:{line}:{col + 1}: not supported"), text
    assert words in text
    source_line = inspect.getsourcelines(fn)[0][line - inspect.getsourcelines(fn)[1]].rstrip("\n")
    assert source_line.split("  # refused")[0] in text  # the user's line, under which the caret sits


# ---- one transformation for every trip count; readable generated code -------------------------------------

def line_of(fn, text):
    """The file line of the first line of ``fn`` containing ``text``."""
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, line in enumerate(lines) if text in line)


def test_one_transformation_serves_every_trip_count():
    fn = loops.rnn_trip_count_argument
    δfn = ad.transform(fn, (True, True, False))
    text = ad.source(δfn)
    W, h = loops.W3, np.linspace(-1, 1, 3)
    for n in (0, 1, 7, 40, 3):
        check_pullback(fn, δfn, [W, h, n], wrt=[0, 1])
        assert ad.transform(fn, (True, True, False)) is δfn  # cached, never regenerated per count
        assert ad.source(δfn) == text
    loops_in_code = re.findall(r"^\s*for .+:$", text, re.M)  # statements, not the `# file:line` comments
    assert len(loops_in_code) == 2, text  # the loop and its reversal, not unrolled, whatever n is


def tapes(text: str) -> dict[str, list[str]]:
    """The generated code's tapes: plain lists (``T = []``) that the forward pass appends to and the
    pullback walks with ``for ... in reversed(T)``; each with the names it saves per iteration."""
    tree = ast.parse(text)
    created = {n.targets[0].id for n in ast.walk(tree) if isinstance(n, ast.Assign)
               and isinstance(n.value, ast.List) and not n.value.elts and isinstance(n.targets[0], ast.Name)}
    walked = {n.iter.args[0].id for n in ast.walk(tree) if isinstance(n, ast.For) and isinstance(n.iter, ast.Call)
              and getattr(n.iter.func, "id", None) == "reversed" and isinstance(n.iter.args[0], ast.Name)}
    found = {}
    for n in ast.walk(tree):
        if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "append"
                and isinstance(n.func.value, ast.Name) and n.func.value.id in created & walked):
            item = n.args[0]
            found[n.func.value.id] = [ast.unparse(e) for e in (item.elts if isinstance(item, ast.Tuple) else [item])]
    return found


def test_generated_loop_code_is_ordinary_python_with_a_tape_and_user_lines():
    δrnn = ad.transform(loops.rnn, (True, True, True))
    text = ad.source(δrnn)
    found = tapes(text)  # parsing it also shows it is valid Python as shown
    assert len(found) == 1, text
    (saved,) = found.values()
    assert any(name.startswith("h") for name in saved), saved  # the state entering each iteration (tanh')
    line = line_of(loops.rnn, "h = np.tanh(W @ h + xs[t])")
    comment = f"# loops.py:{line}  h = np.tanh(W @ h + xs[t])"
    assert text.count(comment) == 2, text  # once in the forward pass, once in its reversal
    assert f"# loops.py:{line - 1}  for t in range(xs.shape[0]):" in text


def test_nested_loops_have_a_tape_each():
    text = ad.source(ad.transform(loops.matvec_by_loops, (True, True)))
    assert len(tapes(text)) == 2, text


def test_branch_decisions_are_replayed_from_saved_tests():
    δfn = ad.transform(exits.break_on_value, (True, False))
    text = ad.source(δfn)
    (saved,) = tapes(text).values()
    pullback = text.split("def break_on_value_pullback")[1]
    tests_in_pullback = re.findall(r"^\s*if (\w+):$", pullback, re.M)
    assert tests_in_pullback and set(tests_in_pullback) <= set(saved), text


@pytest.mark.parametrize("fn, args", [
    (loops.rnn, (loops.W3, np.linspace(-1, 1, 3), np.linspace(0, 1, 12).reshape(4, 3))),
    (exits.break_on_value, (np.array([0.5, 0.7]), 20)),
    (exits.return_in_loop, (np.array([0.1, 0.2]),)),
    (exits.return_two_values_from_loop, (np.array([0.5, 0.5]), 3)),
    (augmented.helper_with_branch_on_arrays_in_loop, (np.array([2.0, 1.5]), 6)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_pullback_can_be_called_again_with_the_same_result(fn, args):
    δfn, wrt = transform_all_floats(fn, args)
    *outputs, back = δfn(*args)
    cotangents = [np.full(np.shape(o), 0.75) if np.shape(o) else 0.75 for o in outputs]
    first = back(*cotangents)
    second = back(*cotangents)
    doubled = back(*[2 * c for c in cotangents])
    first, second, doubled = [p if isinstance(p, tuple) else (p,) for p in (first, second, doubled)]
    for a, b, c in zip(first, second, doubled, strict=True):
        np.testing.assert_array_equal(a, b)  # the tape is read, never consumed
        np.testing.assert_allclose(c, 2 * np.asarray(a), rtol=1e-13, atol=0)


@pytest.mark.parametrize("x", [np.array([0.5, 0.5]), np.array([2.5, 0.5])], ids=["to the end", "early return"])
def test_none_cotangent_is_zero_for_outputs_of_loops(x):
    *_, back = ad.transform(exits.return_two_values_from_loop, (True, False))(x, 3)
    np.testing.assert_array_equal(back(None, 0.75), back(np.zeros(2), 0.75))
    np.testing.assert_array_equal(back(np.full(2, 0.5), None), back(np.full(2, 0.5), 0.0))
    assert np.any(back(np.full(2, 0.5), None) != 0)


# ---- @δ binds control flow like straight-line code --------------------------------------------------------

@ad.δ
def clipped_rnn(W, h, xs, limit):
    for x in xs:
        h = np.tanh(W @ h + x)
        if np.max(np.abs(h)) > limit:
            h = h * (limit / np.max(np.abs(h)))
    return np.sum(h)


def test_decorated_function_with_control_flow():
    W, h, xs = loops.W3 * 3, np.array([0.3, -0.2, 0.9]), np.linspace(-1, 1, 15).reshape(5, 3)
    check_pullback(clipped_rnn, δclipped_rnn, [W, h, xs, 0.5])  # noqa: F821  (bound by @δ)
    check_pullback(clipped_rnn, δclipped_rnn_const4, [W, h, xs, 2.0], wrt=[0, 1, 2])  # noqa: F821


# ---- 10,000 steps over a (100,) state: right gradient, tape memory of exactly the saved values ------------

def ode_flow(h, a, n):
    for _ in range(n):
        h = h + 1e-4 * np.sin(a * h)
    return np.sum(h * h)


def test_ten_thousand_steps_gradient_and_tape_memory():
    steps = 10_000
    rng = np.random.default_rng(10)
    h, a = rng.standard_normal(100), rng.standard_normal(100)
    δflow = ad.transform(ode_flow, (True, True, False))
    δflow(h, a, 2)  # warm up: imports and caches outside the measurement
    tracemalloc.start()
    try:
        value, back = δflow(h, a, steps)
        _, forward_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        dh, da = back(1.0)
        _, backward_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert value == pytest.approx(ode_flow(h, a, steps), rel=1e-12)
    # The tape holds, per step, the arrays the pullback reads: count them in the generated code.
    (saved,) = tapes(ad.source(δflow)).values()
    arrays = [name for name in saved if name.isidentifier()]  # anything else: a shape, a flag (small)
    # The pullback needs a * h (for cos) and h (for the partials of a * h); today it also keeps sin(a * h)
    # and 1e-4 * sin(a * h), read only for their shapes. Never more than that.
    assert 2 <= len(arrays) <= 4, saved
    per_array = h.nbytes + 112  # data plus the ndarray object itself
    expected = steps * (len(arrays) * per_array + 80 + 100 * (len(saved) - len(arrays)))  # + the tuple
    print(f"\n{steps} steps, {len(arrays)} saved arrays per step {saved}: forward peak "
          f"{forward_peak / 1e6:.1f} MB (expected about {expected / 1e6:.1f} MB), backward peak "
          f"{backward_peak / 1e6:.1f} MB")
    assert steps * len(arrays) * h.nbytes <= forward_peak <= 1.25 * expected
    assert backward_peak <= forward_peak + 50 * per_array  # the reversal allocates per step, frees as it goes
    # Central differences along random directions (the full Jacobian would take 400 runs of 10,000 steps).
    for seed in (1, 2):
        u, v = np.random.default_rng(seed).standard_normal((2, 100))
        eps = 1e-6
        numeric = (ode_flow(h + eps * u, a + eps * v, steps) - ode_flow(h - eps * u, a - eps * v, steps)) / (2 * eps)
        assert np.sum(dh * u) + np.sum(da * v) == pytest.approx(numeric, rel=1e-6, abs=1e-7)
