"""The lowering's bookkeeping that speed work replaced: frontend/env.py's Env (which variables hold each
SSA name; journals of what a branch changed) and frontend/survey.py's quick pass of the decorator's check.

Each test states what the slower code it replaced computed, and checks the new code against it."""

from __future__ import annotations

import importlib.util
import os
import random
import textwrap

import pytest

from autodiffsource.errors import UnsupportedSyntaxError
from autodiffsource.frontend import survey as survey_module
from autodiffsource.frontend.env import ABSENT, Env
from autodiffsource.source import parse_function


# ---- Env ------------------------------------------------------------------------------------------------

def _holders_by_scan(env: dict, value) -> set:
    return {name for name, v in env.items() if v == value}  # what bind_atom and same_object asked before


def test_env_holders_follow_every_change():
    rng = random.Random(6)
    env, plain = Env({"a": "a", "b": "a"}), {"a": "a", "b": "a"}
    names, values = ["a", "b", "c", "d", "e"], ["a", "a_2", "_t1", "_t2", None]
    for _ in range(400):
        name = rng.choice(names)
        step = rng.random()
        if step < 0.6:
            value = rng.choice(values)
            env[name] = plain[name] = value
        elif step < 0.8 and name in plain:
            del env[name], plain[name]
        else:
            assert env.pop(name, "gone") == plain.pop(name, "gone")
        assert dict(env) == plain
        for value in values:
            assert env.holders(value) == _holders_by_scan(plain, value)


def test_env_refuses_changes_that_would_skip_the_index():
    env = Env({"a": "a"})
    for change in (lambda: env.update(b="b"), lambda: env.setdefault("b", "b"), env.popitem, env.clear):
        with pytest.raises(TypeError):
            change()
    assert dict(env) == {"a": "a"} and env.holders("a") == {"a"}


def test_env_journals_undo_a_branch_and_nest():
    env = Env({"x": "x", "y": "y"})
    before = dict(env)
    env.begin()
    env["x"] = "x_2"
    env["t"] = "_t1"
    env.begin()  # a branch inside the branch
    env["y"] = "y_2"
    env["x"] = "x_3"
    del env["t"]
    inner = env.end()
    assert inner == {"y": "y", "x": "x_2", "t": "_t1"}  # values when the inner journal began
    env.undo(inner)
    assert dict(env) == {"x": "x_2", "y": "y", "t": "_t1"}
    outer = env.end()
    assert outer == {"x": "x", "t": ABSENT, "y": "y"}  # the inner journal's older values passed up
    env.undo(outer)
    assert dict(env) == before
    assert env.holders("x") == {"x"} and not env.holders("x_2") and not env.holders("_t1")


def test_env_reset_holds_the_snapshot_again():
    env = Env({"x": "x", "y": "y", "z": "z"})
    snapshot = dict(env)
    env.begin()
    env["x"] = "x_2"
    del env["y"]
    env["w"] = "x_2"
    env.reset(snapshot)
    assert dict(env) == snapshot
    assert env.holders("x_2") == set() and env.holders("y") == {"y"}
    assert set(env.end()) == {"x", "y", "w"}  # the reset's changes are journaled like any others


# ---- the decorator's check: the survey's quick pass never passes what the full check refuses ------------

_BODIES = [
    "y = x * 2\nreturn y",
    "if x > 0:\n    y = x\nelse:\n    y = -x\nreturn y",
    "for i in range(3):\n    x = x * 2\nreturn x",
    "for i in range(3):\n    x = x * 2\nelse:\n    x = x + 1\nreturn x",
    "while x < 10:\n    x = x * 2\nelse:\n    pass\nreturn x",
    "with open('f') as f:\n    pass\nreturn x",
    "try:\n    y = x\nexcept ValueError:\n    y = 0\nreturn y",
    "if x > 0:\n    import math\nreturn x",
    "def g(t):\n    return t * 2\nreturn g(x)",
    "def g(t):\n    yield t\nreturn x",
    "def g(t):\n    if t:\n        return t, t\n    return t\nreturn g(x)",
    "if x > 0:\n    return x, x\nreturn x",
    "if x > 0:\n    return x\nreturn 2 * x",
    "y = (z := x) * 2\nreturn y",
    "y = [t for t in (x, x)]\nreturn y[0]",
    "h = lambda t: t * 2\nreturn h(x)",
    "class C:\n    pass\nreturn x",
    "global q\nreturn x",
    "del x\nreturn 1.0",
    "assert x > 0\nraise ValueError('no')",
    "'''doc'''\nreturn x",
]


def _function(tmp_path, body: str, header: str = "def f(x):"):
    text = header + "\n" + textwrap.indent(body, "    ") + "\n"
    path = os.path.join(tmp_path, f"survey_case_{abs(hash(text))}.py")
    with open(path, "w") as file:
        file.write(text)
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


def _full_check_refuses(fn, monkeypatch) -> str | None:
    with monkeypatch.context() as patch:
        patch.setattr(survey_module, "_plainly_supported", lambda found: False)
        try:
            survey_module.fence(parse_function(fn))
        except UnsupportedSyntaxError as err:
            return str(err)
    return None


@pytest.mark.parametrize("header", ["def f(x):", "def f(x, k=lambda t: t):"])
@pytest.mark.parametrize("body", _BODIES)
def test_quick_pass_agrees_with_full_check(tmp_path, monkeypatch, body, header):
    fn = _function(str(tmp_path), body, header)
    refused = _full_check_refuses(fn, monkeypatch)
    parsed = parse_function(fn)
    quick = survey_module._plainly_supported(survey_module.Survey(parsed.node))
    if refused is not None:
        assert not quick
        with pytest.raises(UnsupportedSyntaxError) as err:
            survey_module.fence(parsed)
        assert str(err.value) == refused  # the same problems, in the same order, as the full check lists
    else:
        survey_module.fence(parsed)
        if "def " not in body and "lambda" not in body:
            assert quick  # (a plain function takes the quick pass: the point of having one)
