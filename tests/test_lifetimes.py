"""Generated code lets each value go after the statement that reads it last (transform/lifetimes.py, issue 6).

Three kinds of check:
- the pass itself, on random straight-line programs with loops, branches and closures mixed in: the
  program with its ``del`` statements returns exactly what the program without them returns (the
  oracle is the untouched program), and a value is let go where the rules say;
- the generated code of a δ function and of value_and_grad: which names are let go, and which never
  are (a pullback's saved values);
- memory (traced peaks), with the gradients checked against central differences: a forward pass of
  five dead temporaries holds no more than two of them at once, and a 200-line pullback a few
  cotangents, not one per line.
"""

import ast
import os
import textwrap
import tracemalloc

import numpy as np
from hypothesis import given, settings, strategies as st

from autodiffsource import transform, value_and_grad
from autodiffsource.api import value_and_grad_function
from autodiffsource.transform.lifetimes import free_at_last_use
import finite_differences

RNG = np.random.default_rng(11)


def _freed(text: str) -> str:
    """``text`` (a function's source) with the pass run on the function's body."""
    tree = ast.parse(textwrap.dedent(text))
    fn = tree.body[0]
    fn.body = free_at_last_use(fn.body)
    return ast.unparse(tree)


def _deleted_after(text: str) -> dict[str, str]:
    """Each deleted name -> the source of the statement right before its ``del``."""
    fn = ast.parse(text).body[0]
    out = {}
    for before, s in zip(fn.body, fn.body[1:]):
        if isinstance(s, ast.Delete):
            for t in s.targets:
                out[t.id] = ast.unparse(before)
    return out


def test_a_value_is_let_go_after_its_last_reading_statement_and_nowhere_else():
    text = _freed("""
        def f(x, n):
            a = x * 2
            b = a + 1
            c = x          # an alias: frees nothing
            k = 0
            for i in range(n):
                k = k + b
            s = [a for _ in range(2)]   # read in a comprehension: a scope of its own
            g = lambda: e               # e is a closure's cell
            e = b * 3
            t = x - 1
            return g() + k + s[0] + c + t
    """)
    assert _deleted_after(text) == {"b": "e = b * 3"}, text
    # not a (a comprehension reads it), e (a lambda's cell), c (an alias), k (assigned a constant, then
    # in the loop), t (last read by the return: the function's end lets it go)
    assert "del x" not in text  # a parameter the function never rebinds


def test_a_name_read_last_inside_a_loop_goes_after_the_loop_and_a_def_is_its_own_scope():
    text = _freed("""
        def f(x):
            a = x + 1
            for i in range(3):
                x = x + a
            def inner(y):
                u = y * 2
                v = u + 1
                w = v * 3
                return w
            return inner(x)
    """)
    fn = ast.parse(text).body[0]
    assert isinstance(fn.body[2], ast.Delete) and fn.body[2].targets[0].id == "a"  # right after the loop
    inner = fn.body[3]
    # (not v: the statement before the final return reads it last, and the function lets it go a
    # statement later anyway)
    assert [ast.unparse(s) for s in inner.body] == ["u = y * 2", "v = u + 1", "del u", "w = v * 3", "return w"]


def test_names_a_del_or_an_except_clause_unbinds_are_left_alone():
    text = _freed("""
        def f(x):
            a = x + 1
            b = a * 2
            del a
            c = b + 1
            try:
                d = c * 2
            except ValueError as b:
                pass
            e = d * x
            return e + 1
    """)
    assert text.count("del a") == 1  # the user's own, not one more
    assert "del b" not in text  # `except ... as b` unbinds it itself
    assert "del c" in text


# ---- random programs: with and without the dels, the same result ----------------------------------

_OPS = ("+", "-", "*")


@st.composite
def _programs(draw):
    """A function of x of straight-line assignments, with a loop, a branch, a lambda or a nested def
    reading earlier names here and there, and rebinding some; it returns one of its names."""
    names = ["x"]
    lines = []
    for k in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(("assign", "assign", "assign", "alias", "loop", "branch", "lambda", "def",
                                     "rebind")))
        a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        new = f"v{k}"
        if kind == "assign":
            lines.append(f"{new} = {a} {draw(st.sampled_from(_OPS))} {b}")
        elif kind == "alias":
            lines.append(f"{new} = {a}")
        elif kind == "loop":
            lines += [f"{new} = {a} * 1", "for _i in range(2):", f"    {new} = {new} + {b}"]
        elif kind == "branch":
            lines += [f"if {a} > 0:", f"    {new} = {a} - {b}", "else:", f"    {new} = {b} - {a}"]
        elif kind == "lambda":
            lines.append(f"{new} = (lambda t: t * {a})({b})")
        elif kind == "def":
            lines += [f"def h{k}(t):", f"    w = t + {a}", "    z = w * 2", "    return z + w",
                      f"{new} = h{k}({b})"]
        else:  # rebind an existing computed name
            target = draw(st.sampled_from(names))
            if target != "x":
                lines.append(f"{target} = {a} + {b}")
                continue
            lines.append(f"{new} = {a} + 1")
        names.append(new)
    result = draw(st.sampled_from(names))
    body = "\n".join("    " + line for line in lines)
    return f"def f(x):\n{body}\n    return {result} + 0\n"


@settings(max_examples=300, deadline=None)
@given(_programs(), st.integers(-3, 3))
def test_random_programs_compute_the_same_with_their_values_let_go(text, x):
    original, freed = {}, {}
    exec(text, original)
    exec(_freed(text), freed)
    assert freed["f"](x) == original["f"](x)


# ---- the generated code -----------------------------------------------------------------------------

def sigmoid_layers(W1, W2, x):
    a = W1 @ x
    h = 1 / (1 + np.exp(-a))   # its partial reads h and exp(-a), not a
    z = W2 @ h
    return np.sum(z * z)


def _arguments():
    rng = np.random.default_rng(3)
    return rng.standard_normal((30, 20)), rng.standard_normal((10, 30)), rng.standard_normal((20, 5))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def test_the_delta_function_lets_go_what_its_pullback_does_not_keep():
    δf = transform(sigmoid_layers, (True, True, False))
    factory = ast.parse(δf.__source__).body[0]
    delta = factory.body[0]
    pullback = next(s for s in delta.body if isinstance(s, ast.FunctionDef))
    read_by_pullback = {n.id for n in ast.walk(pullback) if isinstance(n, ast.Name)}
    own = {n.id for s in pullback.body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    forward_deleted = {t.id for s in delta.body if isinstance(s, ast.Delete) for t in s.targets}
    pullback_deleted = {t.id for s in pullback.body if isinstance(s, ast.Delete) for t in s.targets}
    assert "a" in forward_deleted  # read by the forward pass only
    assert not forward_deleted & read_by_pullback  # what the pullback keeps stays
    assert pullback_deleted and pullback_deleted <= own  # the pullback lets go of its own values only
    W1, W2, x = _arguments()
    value, pb = δf(W1, W2, x)
    partials = pb()
    finite_differences.directional_check(sigmoid_layers, [W1, W2, x], list(partials), (0, 1), RNG)
    assert all(np.array_equal(p, q) for p, q in zip(partials, pb()))  # it runs again: nothing it keeps went


def test_value_and_grad_lets_go_each_forward_value_after_its_last_read():
    combined = value_and_grad_function(sigmoid_layers, (True, True, False))
    lines = _lines(combined.__source__)
    assert "del a" in lines and "-a" in lines[lines.index("del a") - 1]  # right after its one reader
    W1, W2, x = _arguments()
    value, (d1, d2) = value_and_grad(sigmoid_layers, argnums=(0, 1))(W1, W2, x)
    finite_differences.directional_check(sigmoid_layers, [W1, W2, x], [d1, d2], (0, 1), RNG)


def five_temporaries(x):
    a = x * 2.0
    b = a + 1.0
    c = b * 3.0
    d = c - 2.0
    e = d * 0.5
    return np.sum(e)


def test_a_forward_pass_holds_no_more_than_two_dead_temporaries_at_once():
    x = np.random.default_rng(0).standard_normal(10 ** 6)  # 8 MB
    δf = transform(five_temporaries, (True,))
    δf(x)  # (compiled and warm)
    tracemalloc.start()
    value, pb = δf(x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2.5 * x.nbytes, peak / x.nbytes  # without the dels: five at once
    dx = pb()
    assert isinstance(dx, np.ndarray) and dx.shape == x.shape
    finite_differences.directional_check(five_temporaries, [x], [dx], (0,), RNG)


def test_a_long_pullback_holds_a_few_cotangents_at_once_not_one_per_line(tmp_path, monkeypatch):
    # 200 chained lines (the first-call benchmark's functions): each line's cotangent dies a line or two
    # later. Held until the pullback returned, they were 341 arrays at once; let go, a handful.
    monkeypatch.syspath_prepend(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # (bench)
    from bench.transform_time import generate

    (tmp_path / "long_chain.py").write_text("import numpy as np\n" + generate("chain", 200, 1), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import long_chain

    x, y = np.linspace(-1, 1, 10 ** 4), np.linspace(1, 2, 10 ** 4)
    value, pb = transform(long_chain.chain, (True, True))(x, y)
    pb()  # (warm)
    tracemalloc.start()
    dx, dy = pb()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 12 * x.nbytes, peak / x.nbytes
    finite_differences.directional_check(long_chain.chain, [x, y], [dx, dy], (0, 1), RNG, rtol=1e-5)


def recurrence(W, h0, xs):
    h = h0
    for x_t in xs:
        h = np.tanh(W @ h + x_t)
    return np.sum(h ** 2)


def test_a_loop_tape_is_let_go_once_the_backward_loop_has_read_it():
    rng = np.random.default_rng(4)
    W, h0, xs = 0.3 * rng.standard_normal((6, 6)), rng.standard_normal(6), rng.standard_normal((5, 6))
    combined = value_and_grad_function(recurrence, (True, True, False))
    lines = _lines(combined.__source__)
    loop = max(i for i, line in enumerate(lines) if line.startswith("for ") and "reversed(_tape)" in line)
    assert "del _tape" in lines[loop:]  # after the backward loop (the forward one appends to it)
    value, (dW, dh0) = value_and_grad(recurrence, argnums=(0, 1))(W, h0, xs)
    finite_differences.directional_check(recurrence, [W, h0, xs], [dW, dh0], (0, 1), RNG)
    δf = transform(recurrence, (True, True, False))
    value, pb = δf(W, h0, xs)
    first, again = pb(), pb()  # the closure's tape stays: the pullback runs again to the same partials
    assert all(np.array_equal(p, q) for p, q in zip(first, again))
    assert all(np.allclose(p, q, rtol=1e-12) for p, q in zip(first, (dW, dh0)))
