"""codegen/writers.py writes what the unparser's generic traversal writes, and locates nodes as it does.

The writers replace, for the common nodes, the standard library's methods run through
``emit._LocatingUnparser``'s generic traversal. The oracle here is that traversal itself, with no
writer: the same text (which must also be the stdlib's ``ast._Unparser``'s), the same ``complete``
flag, the same location on every node, and the same nodes copied where one node is written twice.
Trees are drawn by hypothesis from the nodes generated code uses and the ones around them (every
operator, parentheses forced by precedence, shared nodes, non-ASCII names, odd constants, f-strings,
``elif`` chains). The corpus's generated functions are checked the same way by test_first_call.py
(text) and by the byte-identical dump of generated code (locations compile to the same code).
"""

from __future__ import annotations

import ast
import copy

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from autodiffsource.codegen import emit
from autodiffsource.transform.codeparts import Comment


class _Generic(emit._LocatingUnparser):
    """Every node through the generic traversal (the stdlib's method for it), as before the writers."""

    def __init__(self, first_line: int = 1, **options):
        super().__init__(first_line, **options)
        self._seen: set = set()

    def traverse(self, node):
        if isinstance(node, list):
            for item in node:
                self.traverse(item)
            return
        cls = node.__class__
        visit = getattr(self, "visit_" + cls.__name__)
        if "lineno" not in cls._attributes:
            self._parents.append(node)
            visit(node)
            self._parents.pop()
            return
        if node in self._seen:
            node = self._unshare(node)
        self._seen.add(node)
        if isinstance(node, (ast.stmt, ast.excepthandler)):
            self._starting.append(node)
        else:
            node.lineno, node.col_offset = self._line, self._col
        self._parents.append(node)
        visit(node)
        self._parents.pop()
        node.end_lineno, node.end_col_offset = self._line, self._col
        if cls is ast.JoinedStr:
            for part in ast.walk(node):
                if "lineno" in part._attributes:
                    part.lineno, part.col_offset = node.lineno, node.col_offset
                    part.end_lineno, part.end_col_offset = node.end_lineno, node.end_col_offset

    def visit_Subscript(self, node):
        super().visit_Subscript(node)
        index = node.slice
        if isinstance(index, ast.Tuple) and index.elts:  # `x[i, j]`: the tuple itself is not traversed
            index.lineno, index.col_offset = node.lineno, node.col_offset
            index.end_lineno, index.end_col_offset = self._line, self._col


class _Stdlib(ast._Unparser):
    def visit_Comment(self, node):
        self.fill("# " + node.text)

    def get_type_comment(self, node):
        return None


# ---- trees ----------------------------------------------------------------------------------------------

_NAMES = st.sampled_from(["x", "y", "_t1", "dx", "δx", "μ", "xp", "ñame"])
_CONSTANTS = st.one_of(
    st.integers(-3, 10**20), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([None, True, False, ...]),
    st.text(max_size=6), st.binary(max_size=3), st.complex_numbers(max_magnitude=10, allow_nan=False),
    st.tuples(st.integers(-2, 2), st.floats(allow_nan=False, allow_infinity=True)))
_BINOPS = [ast.Add, ast.Sub, ast.Mult, ast.MatMult, ast.Div, ast.Mod, ast.Pow, ast.LShift, ast.RShift, ast.BitOr,
           ast.BitXor, ast.BitAnd, ast.FloorDiv]
_UNOPS = [ast.USub, ast.UAdd, ast.Not, ast.Invert]
_CMPOPS = [ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn]


def _load(name):
    return ast.Name(name, ast.Load())


def _expressions():
    leaves = st.one_of(_NAMES.map(_load), _CONSTANTS.map(ast.Constant),
                       st.builds(lambda s: ast.Constant(s, "u"), st.text(max_size=3)))

    def extend(inner):
        keywords = st.lists(st.builds(ast.keyword, st.one_of(st.none(), _NAMES), inner), max_size=2)
        formatted = st.builds(lambda e, c: ast.JoinedStr([ast.Constant("a{"), ast.FormattedValue(e, c, None)]),
                              inner, st.sampled_from([-1, ord("r")]))
        return st.one_of(
            st.builds(ast.BinOp, inner, st.sampled_from(_BINOPS).map(lambda op: op()), inner),
            st.builds(ast.UnaryOp, st.sampled_from(_UNOPS).map(lambda op: op()), inner),
            st.builds(ast.Call, inner, st.lists(st.one_of(inner, st.builds(ast.Starred, inner, st.just(ast.Load()))),
                                                max_size=3), keywords),
            st.builds(ast.Attribute, inner, st.sampled_from(["exp", "real", "δ"]), st.just(ast.Load())),
            st.builds(ast.Subscript, inner, st.one_of(
                inner, st.builds(ast.Tuple, st.lists(inner, min_size=0, max_size=3), st.just(ast.Load())),
                st.builds(ast.Slice, st.none() | inner, st.none() | inner, st.none() | inner)), st.just(ast.Load())),
            st.builds(ast.Tuple, st.lists(inner, max_size=3), st.just(ast.Load())),
            st.builds(ast.List, st.lists(inner, max_size=3), st.just(ast.Load())),
            st.builds(lambda left, rest: ast.Compare(left, [op() for op, _ in rest], [e for _, e in rest]),
                      inner, st.lists(st.tuples(st.sampled_from(_CMPOPS), inner), min_size=1, max_size=3)),
            st.builds(ast.BoolOp, st.sampled_from([ast.And(), ast.Or()]), st.lists(inner, min_size=2, max_size=4)),
            st.builds(ast.IfExp, inner, inner, inner),
            st.builds(lambda body: ast.Lambda(ast.arguments([], [ast.arg("a")], None, [], [], None, []), body), inner),
            formatted)

    return st.recursive(leaves, extend, max_leaves=12)


def _share(draw, expr, pool):
    """``expr``, or (sometimes) a node already used elsewhere in the tree: shared nodes get copied."""
    pool.append(expr)
    if draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from(pool))
    return expr


@st.composite
def _functions(draw):
    expressions = _expressions()
    pool: list = []  # expressions (and targets)
    statement_pool: list = []

    def expr():
        return _share(draw, draw(expressions), pool)

    def target():
        kind = draw(st.integers(0, 3))
        if kind == 0:
            return ast.Tuple([ast.Name(draw(_NAMES), ast.Store()) for _ in range(draw(st.integers(1, 3)))],
                             ast.Store())
        if kind == 1:
            return ast.Subscript(expr(), expr(), ast.Store())
        return _share(draw, ast.Name(draw(_NAMES), ast.Store()), pool)

    def statements(depth):
        out = []
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.integers(0, 10 if depth < 2 else 7))
            if kind == 0:
                stmt = ast.Assign([target() for _ in range(draw(st.integers(1, 2)))], expr(), None)
            elif kind == 1:
                stmt = ast.AugAssign(ast.Name(draw(_NAMES), ast.Store()), draw(st.sampled_from(_BINOPS))(), expr())
            elif kind == 2:
                stmt = ast.Expr(expr())
            elif kind == 3:
                stmt = ast.Return(draw(st.none() | expressions))
            elif kind == 4:
                stmt = ast.Delete([ast.Name(draw(_NAMES), ast.Del()) for _ in range(draw(st.integers(1, 3)))])
            elif kind == 5:
                stmt = Comment(draw(st.sampled_from(["model.py:3  y = δx * x", "f.py:1", "ünïcode"])))
            elif kind == 6:
                stmt = draw(st.sampled_from([ast.Pass, ast.Break, ast.Continue]))()
            elif kind == 7:
                stmt = ast.Assign([target()], expr(), None)
            elif kind == 8:  # an `if` whose `else` is one `if`: written as `elif`
                inner = ast.If(expr(), statements(depth + 1), statements(depth + 1) if draw(st.booleans()) else [])
                stmt = ast.If(expr(), statements(depth + 1), [inner])
            elif kind == 9:
                stmt = ast.For(target(), expr(), statements(depth + 1), [], None)
            else:
                stmt = ast.FunctionDef(draw(_NAMES), ast.arguments([], [ast.arg("δa"), ast.arg("b")], None, [], [],
                                                                   None, [expr()]),
                                       statements(depth + 1), [], None)
            out.append(_share(draw, stmt, statement_pool) if kind in (2, 5, 6) else stmt)
        return out

    body = statements(0)
    args = ast.arguments([], [ast.arg("x"), ast.arg("δy")], None, [], [], None, [ast.Constant(None)])
    return ast.FunctionDef("_make_δf", args, body, [], None)


def _render(unparser_class, tree):
    unparser = unparser_class(first_line=2)
    try:
        return unparser.render(tree), unparser.complete
    except Exception as error:  # what the stdlib refuses (a backslash in an f-string part) it refuses either way
        return type(error).__name__, None


def _shape(tree) -> list:
    """The tree as the classes of its nodes in order, each node numbered by its first appearance."""
    first: dict = {}
    return [(type(node).__name__, first.setdefault(id(node), len(first))) for node in ast.walk(tree)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_functions())
def test_writers_write_and_locate_as_the_generic_traversal(tree):
    generic, written = copy.deepcopy(tree), copy.deepcopy(tree)
    expected = _render(_Generic, generic)
    assert _render(emit._LocatingUnparser, written) == expected
    if expected[1] is None:
        return
    assert expected[0] == _Stdlib().visit(copy.deepcopy(tree)).lstrip("\n")
    assert ast.dump(written, include_attributes=True) == ast.dump(generic, include_attributes=True)
    assert _shape(written) == _shape(generic)


def test_a_node_written_twice_in_one_expression_gets_two_locations():
    shared = ast.Name("δx", ast.Load())
    tree = ast.FunctionDef("f", ast.arguments([], [], None, [], [], None, []),
                           [ast.Assign([ast.Name("y", ast.Store())], ast.BinOp(shared, ast.Mult(), shared), None)],
                           [], None)
    unparser = emit._LocatingUnparser(first_line=1)
    assert unparser.render(tree) == "def f():\n    y = δx * δx"
    product = tree.body[0].value
    assert product.left is not product.right
    spans = sorted((n.col_offset, n.end_col_offset) for n in (product.left, product.right))
    assert spans == [(8, 11), (14, 17)]  # UTF-8 byte columns: δ is two bytes
