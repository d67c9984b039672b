"""The first call's shortcuts (issue 6), each checked against the slow way it replaces.

- ``import autodiffsource`` does not import SciPy: scipy.special's rules are registered at the first
  lookup after something imports it, and are then found exactly as before (gradients checked against
  central differences), including by the coverage view of the registry.
- Later calls pay nothing: the first call of ``δf`` transforms once and rebinds the name.
- codegen/load.py compiles emit.py's own tree instead of parsing the generated text back: the code
  objects (bytecode, names, line tables, exception tables) are identical to those of the text, and the
  text is byte for byte what the standard library's unparser writes.
- source.py parses a function where it stands instead of tokenizing it: the AST, with every line and
  column, is the one the tokenizer path gives, and awkward layouts still come out right.
- A transform leaves no reference cycles (everything it makes is freed without the cyclic collector).
- The number fast path's analysis stops once another round would change nothing: one more round after
  it changes nothing, and the gradients it allows match central differences.
- astutil's fast walks, transformer and location filler give what the standard library's give.
- A rule template used often is copied by a function compiled for it: the copy is the walk's, for every rule.
- tidy counts names once per statement and keeps the counts up to date: they are what a fresh walk counts,
  and the unused-helper check that reads them leaves no factory parameter unnamed.

Speed itself is never asserted here: ``python -m bench.transform_time`` reports it.
"""

from __future__ import annotations

import ast
import copy
import importlib
import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import autodiffsource as ad
from autodiffsource import api
from autodiffsource.codegen import emit, load
from corpus import CORPUS, augmented, branches, dataflow, exits, loops, mixed  # noqa: F401  (registers the corpus)
from corpus import differentiated
from finite_differences import check_pullback

source_module = sys.modules["autodiffsource.source"]  # `autodiffsource.source` is also the public function
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code: str, folder) -> str:
    """Run ``code`` as a script in ``folder`` in a fresh interpreter (this checkout first on the path); its stdout."""
    script = folder / "first_call_script.py"  # a file: the functions it differentiates need their source
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.path.join(ROOT, "tests"))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


# ---- SciPy is imported only when used ------------------------------------------------------------------

def test_importing_the_library_imports_no_scipy(tmp_path):
    out = run_python("""
        import sys
        import autodiffsource
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("scipy", "jax", "torch", "dask"))
        print(heavy)
    """, tmp_path)
    assert out.strip() == "[]"


def test_scipy_rules_are_found_after_a_later_import(tmp_path):
    out = run_python("""
        import sys
        import numpy as np
        import autodiffsource as ad
        from autodiffsource.rules.registry import REGISTRY
        from finite_differences import check_pullback
        assert "scipy" not in sys.modules
        before = len(REGISTRY._by_object)
        import scipy.special  # the user's module imports SciPy after autodiffsource

        def f(x, y):
            return np.sum(scipy.special.gammaln(x) * scipy.special.expit(y)) + scipy.special.comb(5, 2)

        x, y = np.array([0.7, 1.5, 3.2]), np.array([-0.4, 0.3, 2.0])
        check_pullback(f, ad.transform(f, (True, True)), (x, y))
        assert REGISTRY.rule_for(scipy.special.gammaln).delta.__name__ == "δgammaln"
        assert REGISTRY.is_nondiff(scipy.special.comb)
        print(len(REGISTRY.by_object) - before, "scipy.special" in REGISTRY.deferred,
              sorted(library for library in REGISTRY.deferred if library in sys.modules))
    """, tmp_path)
    added, special_deferred, imported_but_deferred = out.split(maxsplit=2)
    assert int(added) >= 25  # every scipy.special rule (26 at the time of writing), not just the one looked up
    # (scipy.stats, which nothing imported, keeps its table deferred: no imported library's table may)
    assert (special_deferred, imported_but_deferred.strip()) == ("False", "[]")


def test_scipy_stats_rules_are_found_after_a_later_import(tmp_path):
    out = run_python("""
        import sys
        import numpy as np
        import autodiffsource as ad
        from autodiffsource.rules.registry import REGISTRY
        from finite_differences import check_pullback
        assert "scipy.stats" not in sys.modules
        from scipy import stats  # the user's module imports scipy.stats after autodiffsource

        def f(x, s):
            return np.sum(stats.norm.logpdf(x, loc=0.5, scale=s) * stats.norm.cdf(x))

        x, s = np.array([0.7, -1.5, 3.2]), np.array([0.4, 1.3, 2.0])
        check_pullback(f, ad.transform(f, (True, True)), (x, s))
        assert REGISTRY.rule_for(stats.norm.cdf).delta.__name__ == "δnorm_cdf"
        assert REGISTRY.rule_for(stats.uniform.cdf) is None  # the rules are norm's, not every distribution's
        print(REGISTRY.deferred)
    """, tmp_path)
    assert out.strip() == "{}"


def test_scipy_imported_first_registers_at_once(tmp_path):
    out = run_python("""
        import scipy.special
        import autodiffsource
        from autodiffsource.rules.registry import REGISTRY
        print(REGISTRY._by_object.get(id(scipy.special.erf)) is not None, "scipy.special" in REGISTRY.deferred)
    """, tmp_path)
    assert out.split() == ["True", "False"]


def test_math_and_numpy_rules_that_need_scipy_work_without_importing_it_first(tmp_path):
    out = run_python("""
        import math, sys
        import numpy as np
        import autodiffsource as ad
        from finite_differences import check_pullback

        def f(x, s):
            return np.sum(np.i0(x)) * math.lgamma(s) + math.gamma(s)

        check_pullback(f, ad.transform(f, (True, True)), (np.array([0.3, -1.2, 2.5]), 2.7))
        print("scipy" in sys.modules)  # the rules' dispatcher imported it when the gradient ran
    """, tmp_path)
    assert out.strip() == "True"


# ---- later calls pay nothing ---------------------------------------------------------------------------

def test_the_first_call_transforms_once_and_rebinds_the_name(tmp_path, monkeypatch):
    (tmp_path / "first_call_model.py").write_text(textwrap.dedent("""
        import numpy as np
        from autodiffsource import δ

        @δ
        def loss(w, x):
            return np.sum(np.tanh(w * x) ** 2)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    model = importlib.import_module("first_call_model")
    runs = []
    real = api._run_pipeline
    monkeypatch.setattr(api, "_run_pipeline",
                        lambda fn, mask, *variant, **how: runs.append(mask) or real(fn, mask, *variant, **how))
    stub = model.δloss
    w, x = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.25, -0.75])
    check_pullback(model.loss, stub, (w, x))
    assert runs == [(True, True)]
    compiled = model.δloss
    assert compiled is not stub and compiled is model.loss.δ  # the stub replaced itself
    check_pullback(model.loss, compiled, (w, x))
    check_pullback(model.loss, stub, (w, x))  # an old reference to the stub reuses the cache
    assert runs == [(True, True)]


def test_the_decorators_tree_is_kept_for_short_functions_only(tmp_path, monkeypatch):
    # @δ parses and checks the function; a short one's tree is kept for its first transform, a long one's
    # is not (every garbage collection until the first call would walk it) and is parsed again then.
    monkeypatch.syspath_prepend(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from bench.transform_time import generate

    long_lines = api._KEPT_PARSE_MAX_LINES + 50
    (tmp_path / "kept_parse_model.py").write_text("import numpy as np\nfrom autodiffsource import δ\n\n\n@δ\n"
                                                  + generate("short", 20) + "\n\n@δ\n" + generate("long", long_lines))
    monkeypatch.syspath_prepend(str(tmp_path))
    model = importlib.import_module("kept_parse_model")
    assert model.short in api._decorator_parses and model.long not in api._decorator_parses
    parses = []
    real = api.parse_function
    monkeypatch.setattr(api, "parse_function", lambda fn: parses.append(fn.__name__) or real(fn))
    x, y = np.linspace(-1, 1, 5), np.linspace(1, 2, 5)
    for name in ("short", "long"):
        check_pullback(getattr(model, name), getattr(model, "δ" + name), (x, y))
    assert parses == ["long"] and model.short not in api._decorator_parses


# ---- the compiled tree is the displayed text -------------------------------------------------------------

def _describe(code: types.CodeType) -> list:
    out = [(code.co_name, code.co_code, code.co_names, code.co_varnames, code.co_freevars,
            tuple(code.co_lines()), code.co_exceptiontable)]
    for const in code.co_consts:
        out += _describe(const) if isinstance(const, types.CodeType) else [repr(const)]
    return out


class _StdlibUnparser(ast._Unparser):
    """The standard library's unparser with emit.py's comment lines and nothing else changed."""

    def visit_Comment(self, node):
        self.fill("# " + node.text)

    def get_type_comment(self, node):
        return None


@pytest.fixture(scope="module")
def corpus_renderings():
    """(text, factory, tree) of every corpus function's δ function, as the pipeline rendered them."""
    seen = []
    real = emit.render_module

    def recording(gen, signature, wrt_names):
        rendered = real(gen, signature, wrt_names)
        seen.append(rendered)
        return rendered

    emit.render_module = recording
    try:
        for fn, argsets in CORPUS:
            api._compiled.pop((fn, tuple(map(differentiated, argsets[0]))), None)
            api.transform(fn, tuple(map(differentiated, argsets[0])))
    finally:
        emit.render_module = real
    assert len(seen) >= len(CORPUS)
    return seen


def test_the_compiled_tree_gives_the_code_of_the_text(corpus_renderings):
    for text, factory, tree in corpus_renderings:
        assert tree is not None, text.splitlines()[0]
        via_tree = compile(load._guarded_module(tree, factory), "<check>", "exec")
        via_text = compile(load._guarded_module(ast.parse(text), factory), "<check>", "exec")
        assert _describe(via_tree) == _describe(via_text), text.splitlines()[0]


def test_the_text_is_what_the_standard_unparser_writes(corpus_renderings):
    for text, _, tree in corpus_renderings:
        header, body = text.split("\n", 1)
        assert body == _StdlibUnparser().visit(tree.body[0]).lstrip("\n") + "\n", header


def test_f_strings_compile_from_the_tree_as_from_the_text(tmp_path, monkeypatch):
    # The stdlib writes f-string parts with a second unparser of the same class (a fuzzer found the crash).
    (tmp_path / "first_call_fstring.py").write_text(textwrap.dedent("""
        import numpy as np

        def f(n, y):
            label = f"{n!r:>6} and {len(n) + 1:.3f} {'a' + str(np.sum(n))}"
            return np.sum(n * y) * len(label)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("first_call_fstring")
    rendered = []
    real = emit.render_module
    monkeypatch.setattr(emit, "render_module", lambda *a: rendered.append(real(*a)) or rendered[-1])
    check_pullback(module.f, ad.transform(module.f, (False, True)), (np.array([1.0, 2.0]), np.array([0.5, -1.5])),
                   wrt=[1])
    (text, factory, tree), = rendered
    assert "f'{n!r:>6}" in text or 'f"{n!r:>6}' in text
    via_tree = compile(load._guarded_module(tree, factory), "<check>", "exec")
    via_text = compile(load._guarded_module(ast.parse(text), factory), "<check>", "exec")
    assert _describe(via_tree) == _describe(via_text)


def test_a_tree_that_does_not_compile_falls_back_to_the_text():
    text = "def _make_δf():\n    def δf(x):\n        return (x * 2.0, None)\n    return δf\n"
    tree = ast.parse(text)
    tree.body[0].body[0].body[0].value.elts[0].right.value = np.float64(2.0)  # compile() refuses NumPy scalars
    with pytest.raises(TypeError):
        compile(tree, "<check>", "exec")
    compiled = load.load(text, "_make_δf", {}, {}, "<δ fallback check>", tree=tree)
    assert compiled(1.5) == (3.0, None)


def test_errors_in_generated_code_still_name_the_users_line(tmp_path, monkeypatch):
    (tmp_path / "first_call_errors.py").write_text(textwrap.dedent("""
        import numpy as np

        def f(x):
            y = np.log(x)
            return np.sum(y.reshape(7))
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("first_call_errors")
    with pytest.raises(ValueError) as info:
        ad.grad(module.f)(np.ones(3))
    assert any("first_call_errors.py:6" in note for note in getattr(info.value, "__notes__", []))


# ---- source found without the tokenizer -------------------------------------------------------------------

def _slow_parse(fn, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(source_module, "_parse_in_place", lambda fn: None)
        return source_module.parse_function(fn)


def _same_parse(fn, monkeypatch, fast_path: bool = True) -> bool:
    """``parse_function(fn)`` equals the tokenizer path's result, every location included."""
    assert (source_module._parse_in_place(fn) is not None) == fast_path, fn.__qualname__
    got, slow = source_module.parse_function(fn), _slow_parse(fn, monkeypatch)
    assert (got.file, got.first_line) == (slow.file, slow.first_line)
    assert ast.dump(got.node, include_attributes=True) == ast.dump(slow.node, include_attributes=True)
    return True


def test_corpus_functions_parse_as_the_tokenizer_path_does(monkeypatch):
    assert all(_same_parse(fn, monkeypatch) for fn, _ in CORPUS)


AWKWARD = '''
import numpy as np


def decorate(fn):
    return fn


@decorate
@decorate
def decorated(x):
    return x * 2.0  # a comment


def one_line(x): return x * x
# a comment at column 0 between definitions


def with_text(x):
    note = """a string
with lines at column 0
"""
    return x * len(note)


def continued(x,
y=1.0):
    return x * y


class Model:
    def method(self, x):
        def inner(z):
            return z * 3.0
        return inner(x) + 1.0
'''


def test_awkward_layouts_parse_as_the_tokenizer_path_does(tmp_path, monkeypatch):
    (tmp_path / "first_call_awkward.py").write_text(AWKWARD)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("first_call_awkward")
    inner = next(c for c in module.Model.method.__code__.co_consts if isinstance(c, types.CodeType))
    inner_fn = types.FunctionType(inner, module.__dict__)
    for fn in (module.decorated, module.one_line, module.Model.method, inner_fn):
        _same_parse(fn, monkeypatch)
    # Lines at column 0 inside the definition (a string's, a signature's) end the guessed block early;
    # the guess does not parse, and the tokenizer path answers.
    for fn in (module.with_text, module.continued):
        _same_parse(fn, monkeypatch, fast_path=False)
    for fn, args in ((module.decorated, (1.5,)), (module.with_text, (2.0,)), (module.continued, (2.0, 3.0))):
        check_pullback(fn, ad.transform(fn, (True,) * len(args)), args)


def test_the_collector_is_paused_during_a_transform_and_restored_after(tmp_path):
    # The transform runs with Python's cyclic collector off (its cost grew faster than the function's length
    # with it on); afterwards the collector is as the caller left it, on or off.
    import gc
    import importlib
    import sys

    (tmp_path / "gc_module.py").write_text("def f(x):\n    return x * x + 1.0\n\ndef g(x):\n    return x * 3.0\n")
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("gc_module")
    finally:
        sys.path.remove(str(tmp_path))
    from autodiffsource.api import transform

    seen = []
    gc.callbacks.append(lambda phase, info: seen.append(phase))
    try:
        assert gc.isenabled()
        value, back = transform(module.f, (True,))(3.0)
        assert gc.isenabled() and (value, back()) == (10.0, 6.0)
        gc.disable()
        try:
            transform(module.g, (True,))(1.0)
            assert not gc.isenabled()
        finally:
            gc.enable()
    finally:
        gc.callbacks.pop()


# ---- nothing left for the cyclic collector ----------------------------------------------------------------

def test_a_transform_leaves_no_reference_cycles(tmp_path):
    # Every object a transform makes is freed by reference counting as soon as it is dropped. A rule
    # inlined with a self-calling closure was a cycle per inlined operation (84,000 objects at 1,000
    # lines) that the collector then had to find: ~0.2 s of a first call. In a fresh interpreter: after
    # test_ipython, the trees IPython's traceback formatter (executing) parsed, a parent link on every
    # node, came free during a later transform and were counted as its own.
    from bench.transform_time import generate

    source = ("import numpy as np\n\n" + generate("warm_up", 12) + "\n" + generate("straight", 40, salt=3) + "\n"
              "def with_branch_and_helper(x, y):\n"
              "    def scaled(v):\n"
              "        return v * 3.0\n"
              "    z = scaled(x) * y\n"
              "    if np.sum(z) > 0:\n"
              "        z = np.tanh(z)\n"
              "    else:\n"
              "        z = z * z\n"
              "    return np.sum(z + x)\n")
    (tmp_path / "cycles_module.py").write_text(source)
    out = run_python(f"""
        import ast, gc, sys, types
        import numpy as np
        sys.path.insert(0, {str(tmp_path)!r})
        import cycles_module as module
        from autodiffsource import api
        from finite_differences import check_pullback

        def made_by_a_transform(obj):  # (other threads, a Dask cluster's say, may leave cycles of their own)
            return isinstance(obj, ast.AST) or isinstance(obj, (types.FunctionType, type)) \\
                and getattr(obj, "__module__", "").startswith("autodiffsource")

        api.transform(module.warm_up, (True, True))  # rule tables and caches the first transform fills
        x, y = np.linspace(-1, 1, 5), np.linspace(1, 2, 5)
        for fn in (module.straight, module.with_branch_and_helper):
            gc.collect()
            gc.disable()
            gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds stays in gc.garbage to be looked at
            compiled = api.transform(fn, (True, True))
            gc.collect()
            found = [obj for obj in gc.garbage if made_by_a_transform(obj)]
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
            print(fn.__name__, len(found), found[:3])
            check_pullback(fn, compiled, (x, y))
    """, tmp_path)
    assert out.splitlines() == ["straight 0 []", "with_branch_and_helper 0 []"], out


# ---- the number fast path's analysis stops as soon as a further round would change nothing ------------

def test_the_scalar_analysis_stops_only_where_another_round_changes_nothing(tmp_path, monkeypatch):
    # transform/scalar.py stops its fixpoint iteration after a round that changed nothing it had already
    # consulted (one round for straight-line code, where the old rule ran two). Every analysis here runs
    # one more round afterwards: it must change no kind, namespace or assignment. The fast path it
    # allows must still give central differences' gradients on Python floats.
    from autodiffsource.transform import scalar
    from bench.transform_time import generate

    rounds_checked = []
    real_init = scalar._Analysis.__init__

    def checked_init(self, gen, guarded, user_globals):
        real_init(self, gen, guarded, user_globals)
        before = (dict(self.env), dict(self.namespaces), set(self.assigned))
        self.changed = self.stale = False
        self._block(gen.forward, in_pullback=False)
        self._block(gen.pullback, in_pullback=True)
        assert not self.changed and before == (self.env, self.namespaces, self.assigned)
        rounds_checked.append(gen.name)

    monkeypatch.setattr(scalar._Analysis, "__init__", checked_init)
    source = ("import math\nimport numpy as np\n\n" + generate("straight", 25, salt=2) + "\n"
              "def reassigned(x, y):\n"
              "    z = x * y\n"
              "    if x > y:\n"
              "        z = z * z + math.sin(y)\n"
              "    else:\n"
              "        w = z - x\n"
              "        z = w * 3.0\n"
              "    z = z + x\n"
              "    return z * y\n")
    (tmp_path / "analysis_module.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("analysis_module")
    for fn in (module.straight, module.reassigned):
        compiled = api.transform(fn, (True, True))
        assert "Python numbers:" in compiled.__source__  # the fast path was made: the analysis ran
        for args in [(0.3, 1.7), (1.2, 0.4)]:
            check_pullback(fn, compiled, args)
    for fn, argsets in CORPUS:  # branches (on numbers and arrays): some analysed, some refused
        if fn.__module__ == "corpus.branches":
            for args in argsets:
                mask = tuple(differentiated(a) for a in args)
                if any(mask):
                    check_pullback(fn, api.transform(fn, mask), args, wrt=[i for i, m in enumerate(mask) if m])
    # Generated code reads each value after its last assignment, so one round settles it; a kind that
    # rises after it was read (`a` becomes possibly-None after `b` read it) needs the second round.
    forward = [ast.parse(line).body[0] for line in ("a = x * 2.0", "b = a * 3.0", "a = None")]
    gen = types.SimpleNamespace(name="hand_made", bindings={}, forward=forward, pullback=[], pullback_params=[],
                                lowered=types.SimpleNamespace(params=["x"]))
    analysis = scalar._Analysis(gen, ["x"], {})
    assert (analysis.env["a"], analysis.env["b"]) == (scalar._ZN, scalar._ZD)
    assert len(rounds_checked) >= 3


# ---- astutil's fast walks give what the standard library's give -------------------------------------------

_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def test_fast_walks_and_transformer_match_the_standard_library(corpus_renderings):
    from autodiffsource import astutil

    class Renamed(ast.NodeTransformer):  # renames every name and folds `-(-x)`, as tidy's passes do
        def visit_Name(self, node):
            return ast.Name("r_" + node.id, node.ctx)

        def visit_UnaryOp(self, node):
            self.generic_visit(node)
            if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.UnaryOp) \
                    and isinstance(node.operand.op, ast.USub):
                return node.operand.operand
            return node

    class FastRenamed(astutil.Transformer, Renamed):
        pass

    trees = [source_module.parse_function(fn).node for fn, _ in CORPUS]
    trees += [tree for _, _, tree in corpus_renderings]
    for tree in trees:
        assert astutil.nodes(tree) == [n for n in ast.walk(tree) if not isinstance(n, _LEAVES)]
        assert astutil.name_ids([tree]) == {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        copied = astutil.clone(tree)  # deepcopy's tree, sharing only the contexts with the original
        assert ast.dump(copied, include_attributes=True) == ast.dump(copy.deepcopy(tree), include_attributes=True)
        original = {id(n) for n in ast.walk(tree)}
        assert all(isinstance(n, (ast.Load, ast.Store, ast.Del)) for n in ast.walk(copied) if id(n) in original)
        slow, fast = Renamed().visit(astutil.clone(tree)), FastRenamed().visit(astutil.clone(tree))
        assert ast.dump(fast, include_attributes=True) == ast.dump(slow, include_attributes=True)
        stripped = astutil.clone(tree)
        for i, node in enumerate(ast.walk(stripped)):  # every other node loses its location
            if i % 2 and "lineno" in node._attributes:
                for key in node._attributes:
                    node.__dict__.pop(key, None)
        ours, theirs = astutil.fix_missing_locations(astutil.clone(stripped)), ast.fix_missing_locations(stripped)
        assert ast.dump(ours, include_attributes=True) == ast.dump(theirs, include_attributes=True)


def test_an_assignment_expression_keeps_the_generic_code_only():
    # The fast path's analysis does not track `:=`. Generated code never holds one (the lowering refuses
    # it), so instead of a walk of its own the fast path's copy refuses one where it meets it.
    from autodiffsource.runtime import finalize
    from autodiffsource.transform import scalar
    from autodiffsource.transform.naming import Namer
    from autodiffsource.transform.reverse import Generated

    def generated(forward_line: str):
        return Generated(name="δh", pullback_name="h_pullback", forward=[ast.parse(forward_line).body[0]],
                         pullback_params=["db"], single_output=True,
                         pullback=[ast.parse("return finalize(db, x)").body[0]],
                         outputs=[ast.Name("b", ast.Load())], bindings={"finalize": finalize},
                         lowered=types.SimpleNamespace(params=["x"]))

    signature = ast.parse("def h(x): pass").body[0].args
    plain = generated("b = x * 2.0 if x else x")
    assert scalar.specialise(plain, (True,), signature, Namer(), {}) is not plain  # a fast path is made
    walrus = generated("b = x * 2.0 if (c := x) else x")
    assert scalar.specialise(walrus, (True,), signature, Namer(), {}) is walrus


def test_the_first_transform_uses_the_tree_the_decorator_parsed(tmp_path, monkeypatch):
    # Parsing is 2-5% of a first call: `@δ` parses (to check the syntax) and the first transform takes that
    # tree; a later variant (another constant mask) parses afresh, since the lowering may change a tree.
    (tmp_path / "parsed_once.py").write_text(
        "import numpy as np\nfrom autodiffsource import δ\n\n@δ\ndef h(x, c):\n    return np.sum(np.sin(x) * c)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("parsed_once")
    parses = []
    real = api.parse_function
    monkeypatch.setattr(api, "parse_function", lambda fn: parses.append(fn.__name__) or real(fn))
    x = np.array([0.3, -1.2, 2.0])
    check_pullback(module.h, module.δh, (x, 1.5))
    assert parses == []
    check_pullback(module.h, module.δh_const2, (x, 1.5), wrt=[0])
    assert parses == ["h"]


# ---- rule templates copied by compiled functions ----------------------------------------------------------

def _every_inlinable_template():
    from autodiffsource.rules.registry import REGISTRY
    from autodiffsource.transform.inline import template_for

    rules = {id(rule): rule for _, rule in REGISTRY.by_object.values()}
    rules.update((id(rule), rule) for rule in REGISTRY.by_method.values())
    rules.update((id(rule), rule) for rule in REGISTRY.by_array_api_name.values())
    templates = [template_for(rule) for rule in rules.values()]
    return [t for t in templates if t is not None]


def test_a_compiled_substitution_copies_a_template_as_the_walk_does():
    # inline.py copies a rule's statement, once it was used often, with a function compiled for it
    # instead of walking it: for every node of every inlinable rule, the same tree (fields and locations),
    # and a copy (only operators and contexts shared with the template, as the walk shares them).
    from autodiffsource.transform.inline import XP, _compiled_substitution, _substitute

    templates = _every_inlinable_template()
    assert len(templates) > 100
    shared_kinds = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
    for template in templates:
        mapping = {}
        for k, p in enumerate(template.params):  # parameters as the lowering hands them: names, numbers, indices
            mapping[p] = (ast.Name(f"arg{k}", ast.Load()), ast.Constant(2.5),
                          ast.Tuple([ast.Slice(ast.Constant(1), None, None), ast.Constant(0)], ast.Load()))[k % 3]
        for name in sorted(template.locals - set(template.params)):
            mapping[name] = ast.Name(f"_{name}_9", ast.Load())
        for name in template.free:
            mapping[name] = ast.Name(f"bound_{name}", ast.Load())
        mapping[XP] = ast.Name("xp_1", ast.Load())
        mapping[template.cotangent] = ast.Name("d_out", ast.Load())
        for node in template.forward + [template.value] + template.backward + template.partials:
            try:
                walked = _substitute(node, mapping)
            except AssertionError:  # the rule assigns to a parameter given here as a number: both refuse
                with pytest.raises(AssertionError):
                    _compiled_substitution(node)(mapping)
                continue
            copied = _compiled_substitution(node)(mapping)
            assert ast.dump(copied, include_attributes=True) == ast.dump(walked, include_attributes=True), \
                (template.rule, ast.unparse(node))
            originals = {id(n) for n in ast.walk(node) if not isinstance(n, shared_kinds)}
            assert not any(id(n) in originals for n in ast.walk(copied)), (template.rule, ast.unparse(node))


# ---- tidy's names per statement, kept up to date by its rewrites ------------------------------------------

def test_tidys_names_per_statement_are_what_a_fresh_walk_counts(monkeypatch):
    # tidy counts each statement's names once and updates the counts as it fuses, instead of walking
    # statements again (and _scale_in_place reads its escaping reads from them); the passes after it
    # (inplace.py) read the same table. After tidy, and again after first_writes_in_place (where
    # consume_forward_values reads it), every entry held for a statement still in the code is what
    # counting that statement afresh gives.
    from autodiffsource.transform import combined, inplace, tidy

    reverse_module = sys.modules["autodiffsource.transform.reverse"]
    checked = []

    def assert_fresh(table, stmts):
        for s in stmts:
            entry = table.cache.get(s)
            if entry is None or entry[5] is not s or hasattr(s, "body"):
                continue  # not counted since a rewrite, or a block (whose entry fusion inside it leaves as it was)
            fresh = tidy.NameTable(table.named).of(s)
            nonzero = lambda counts: {k: v for k, v in counts.items() if v}  # noqa: E731
            assert [nonzero(entry[0]), nonzero(entry[1]), entry[2], entry[3], nonzero(entry[4])] \
                == [nonzero(fresh[0]), nonzero(fresh[1]), fresh[2], fresh[3], nonzero(fresh[4])], ast.unparse(s)
            checked.append(s)

    real_tidy, real_first_writes = tidy.tidy, inplace.first_writes_in_place
    forwards = []

    def tidy_and_check(forward, pullback, outputs, names, fusable, helper, **options):
        read = real_tidy(forward, pullback, outputs, names, fusable, helper, **options)
        assert_fresh(names, forward + pullback)
        assert read >= {n.id for s in forward + pullback for n in ast.walk(s) if isinstance(n, ast.Name)} \
            - {helper_name for helper_name in names.named}
        forwards.append(forward)
        return read

    def first_writes_and_check(pullback, names, helper):
        real_first_writes(pullback, names, helper)
        assert_fresh(names, forwards[-1] + pullback)

    def lifetimes_and_check(real):
        def free_at_last_use(block, small=frozenset(), names=None):
            if names is not None:  # (what lifetimes reads: the NumPy-only code's too, rewritten in place)
                assert_fresh(names, block + [t for s in block if isinstance(s, ast.FunctionDef) for t in s.body])
                lifetimes_checked.append(block)
            return real(block, small, names)
        return free_at_last_use

    lifetimes_checked = []
    monkeypatch.setattr(reverse_module, "tidy", tidy_and_check)
    monkeypatch.setattr(reverse_module, "first_writes_in_place", first_writes_and_check)
    for module in (emit, combined):
        monkeypatch.setattr(module, "free_at_last_use", lifetimes_and_check(module.free_at_last_use))
    variants = [{}, {"defer_numbers": True, "first_arguments": "same shapes"},
                {"defer_numbers": True, "first_arguments": "any shapes"}]
    for fn, argsets in CORPUS:
        mask = tuple(map(differentiated, argsets[0]))
        if fn.__module__.endswith("refused") or not any(mask):
            continue
        for options in variants:  # (the NumPy-first ones: numpy_only and an in-place branch keep the table)
            monkeypatch.setattr(api, "_compiled", {})
            api.transform(fn, mask, **options)
            # (value_and_grad's pullback runs once: consume_forward_values reads the table)
            api.value_and_grad_function(fn, mask, **options)
    assert len(checked) > 2000 and len(lifetimes_checked) > 100


def test_no_helper_is_bound_that_the_generated_code_does_not_name():
    # reverse.build drops bound runtime helpers no statement names (from the names tidy counted, without
    # walking the code again): every helper parameter of every corpus δ function is named in its body.
    for fn, argsets in CORPUS:
        mask = tuple(map(differentiated, argsets[0]))
        if fn.__module__.endswith("refused") or not any(mask):
            continue
        text = api.transform(fn, mask).__source__
        tree = ast.parse(text)
        factory = tree.body[0]
        used = {n.id for n in ast.walk(ast.Module(factory.body, [])) if isinstance(n, ast.Name)}
        for parameter in factory.args.args:
            assert parameter.arg in used, (fn.__name__, parameter.arg)
