"""Stage 3: :class:`Generated` -> Python source text, with the user's ``# file:line  source`` comments.

Contract: the text defines one factory, ``_make_<δname>(<bound helpers>)``, returning the δ function;
its body is exactly what :func:`autodiffsource.source` shows and what tracebacks and pdb display. The
same input always gives byte-identical text. Comments are :class:`~autodiffsource.transform.reverse.Comment`
statements in the tree, printed by a small extension of the standard library's unparser.

:func:`render_module` also returns the tree as a module whose every node carries the line and columns
it has in the text (the unparser records them as it writes), so codegen/load.py compiles that tree
directly instead of parsing the text back: parsing was a third of a large function's transform.
"""

from __future__ import annotations

import ast
import contextlib

from ..transform.lifetimes import free_at_last_use, holding_little
from ..transform.reverse import Comment, Generated
from .writers import EXPRESSIONS, STATEMENTS, WRITTEN, block, unshare


class _Unparser(ast._Unparser):  # the stdlib's ast.unparse machinery, plus comment lines
    def visit_Comment(self, node: Comment) -> None:
        self.fill("# " + node.text)

    def get_type_comment(self, node):
        # Generated code has no type comments, and asking would read line numbers nodes may not have.
        return None

    # The stdlib's methods for the commonest nodes, writing the same text without a context manager
    # per node (``require_parens``, ``delimit``): those were a third of the time spent writing.

    def visit_BinOp(self, node):
        operator = self.binop[node.op.__class__.__name__]
        precedence = self.binop_precedence[operator]
        parens = self._precedences.get(node, _TEST) > precedence
        if parens:
            self.write("(")
        if operator in self.binop_rassoc:
            left, right = _NEXT[precedence], precedence
        else:
            left, right = precedence, _NEXT[precedence]
        self._precedences[node.left] = left
        self.traverse(node.left)
        self.write(f" {operator} ")
        self._precedences[node.right] = right
        self.traverse(node.right)
        if parens:
            self.write(")")

    def visit_UnaryOp(self, node):
        operator = self.unop[node.op.__class__.__name__]
        precedence = self.unop_precedence[operator]
        parens = self._precedences.get(node, _TEST) > precedence
        if parens:
            self.write("(")
        self.write(operator)
        if precedence is not _FACTOR:
            self.write(" ")
        self._precedences[node.operand] = precedence
        self.traverse(node.operand)
        if parens:
            self.write(")")

    def visit_Call(self, node):
        self._precedences[node.func] = _ATOM
        self.traverse(node.func)
        self.write("(")
        comma = False
        for argument in node.args + node.keywords:
            if comma:
                self.write(", ")
            else:
                comma = True
            self.traverse(argument)
        self.write(")")

    def visit_Tuple(self, node):
        parens = not node.elts or self._precedences.get(node, _TEST) > _TUPLE
        if parens:
            self.write("(")
        self.items_view(self.traverse, node.elts)
        if parens:
            self.write(")")

    def visit_Subscript(self, node):
        self._precedences[node.value] = _ATOM
        self.traverse(node.value)
        self.write("[")
        index = node.slice
        if isinstance(index, ast.Tuple) and index.elts:
            self.items_view(self.traverse, index.elts)  # parentheses can be omitted if the tuple isn't empty
        else:
            self.traverse(index)
        self.write("]")


_TEST, _TUPLE, _FACTOR, _ATOM = ast._Precedence.TEST, ast._Precedence.TUPLE, ast._Precedence.FACTOR, ast._Precedence.ATOM
_NEXT = {precedence: precedence.next() for precedence in ast._Precedence}


class _LocatingUnparser(_Unparser):
    """Writes the same text, and gives every node it writes the location it has in that text.

    Lines are counted at each newline written; columns are UTF-8 byte offsets, as the parser gives
    them. A statement starts on the line of the next ``fill``; an expression spans what was written
    while it was visited (parentheses the unparser adds around it included, which only widens a
    traceback's caret). ``complete`` is False when the counted lines do not add up to the text (a
    multi-line string): the caller then parses the text instead.

    The statements and expressions generated code is made of are written by codegen/writers.py's
    functions, as the stdlib's methods write them; any other node is written by the stdlib's own
    method through ``traverse`` below, located as a whole.
    """

    def __init__(self, first_line: int = 1, **options):
        super().__init__(**options)  # the stdlib makes one with `_avoid_backslashes` for f-string parts
        self._first_line = first_line
        self._line = first_line
        self._col = 0
        self._starting: list[ast.AST] = []  # statements (and handlers) whose first line is the next fill
        self._parents: list[ast.AST] = []  # the nodes being written by the stdlib's methods
        # Each node written is marked with this object (``writers.WRITTEN``) among its own attributes,
        # which are being written anyway: a set of the nodes cost a fifth of the time in cache misses.
        self._written = object()
        self.complete = False

    def render(self, node: ast.AST) -> str:
        text = self.visit(node)
        self.complete = not text.startswith("\n") and text.count("\n") == self._line - self._first_line
        return text.lstrip("\n")

    def maybe_newline(self):
        if self._source:
            self._source.append("\n")
            self._line += 1
            self._col = 0

    def write(self, *text):
        self._source.extend(text)
        for piece in text:
            self._col += len(piece) if piece.isascii() else len(piece.encode())

    def fill(self, text=""):
        self.maybe_newline()
        indent = "    " * self._indent
        if self._starting:
            for stmt in self._starting:
                stmt.lineno, stmt.col_offset = self._line, len(indent)
            self._starting = []
        self.write(indent + text)

    def _unshare(self, node: ast.AST) -> ast.AST:
        return unshare(self._parents[-1], node, self._precedences)

    def visit_If(self, node):
        # The stdlib's, plus locations for the `elif` branches it folds in (they are never traversed).
        self.fill("if ")
        self.traverse(node.test)
        with self.block():
            self.traverse(node.body)
        folded = []
        while node.orelse and len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
            node = node.orelse[0]
            folded.append(node)
            self._starting.append(node)
            self.fill("elif ")
            self.traverse(node.test)
            with self.block():
                self.traverse(node.body)
        if node.orelse:
            self.fill("else")
            with self.block():
                self.traverse(node.orelse)
        for branch in folded:
            branch.end_lineno, branch.end_col_offset = self._line, self._col

    @contextlib.contextmanager
    def buffered(self, buffer=None):
        col = self._col  # what is written into the buffer is counted again when the buffer is written
        with super().buffered(buffer) as written:
            yield written
        self._col = col

    def traverse(self, node):
        cls = node.__class__
        if cls is list:
            block(self, node)
            return
        write = EXPRESSIONS.get(cls)
        if write is not None:  # an expression the stdlib's method wrote (an `if` test, a default value)
            if node.__dict__.get(WRITTEN) is self._written:
                node = self._unshare(node)
            node.__dict__[WRITTEN] = self._written
            self._col = write(self, node, self._col)
            return
        if cls in STATEMENTS:
            block(self, [node])
            return
        visit, located, starts_a_line = _HOW.get(cls) or _how(cls)
        parents = self._parents
        if not located:  # operators, contexts, `arguments`, comprehensions: no location
            parents.append(node)
            visit(self, node)
            parents.pop()
            return
        if node.__dict__.get(WRITTEN) is self._written:
            node = self._unshare(node)
        node.__dict__[WRITTEN] = self._written
        if starts_a_line:
            self._starting.append(node)
        else:
            node.lineno, node.col_offset = self._line, self._col
        parents.append(node)
        visit(self, node)
        parents.pop()
        node.end_lineno, node.end_col_offset = self._line, self._col
        if node.__class__ is ast.JoinedStr:  # its parts are written by another unparser: they get its span
            for part in ast.walk(node):
                if "lineno" in part._attributes:
                    part.lineno, part.col_offset = node.lineno, node.col_offset
                    part.end_lineno, part.end_col_offset = node.end_lineno, node.end_col_offset


_HOW: dict[type, tuple] = {}


def _how(cls: type) -> tuple:
    """How :class:`_LocatingUnparser` writes a node class: (visit method, has a location, starts a line)."""
    how = (getattr(_LocatingUnparser, "visit_" + cls.__name__), "lineno" in cls._attributes,
           issubclass(cls, (ast.stmt, ast.excepthandler)))
    _HOW[cls] = how
    return how


def _unparse(node: ast.AST) -> str:
    return _Unparser().visit(node)


def _args(signature: str) -> ast.arguments:
    return ast.parse(f"def f({signature}): pass").body[0].args


def render(gen: Generated, signature: str, wrt_names: list[str]) -> tuple[str, str]:
    """The module text and the factory's name."""
    text, factory, _ = render_module(gen, signature, wrt_names)
    return text, factory


def render_module(gen: Generated, signature: str, wrt_names: list[str]) -> tuple[str, str, ast.Module | None]:
    """The module text, the factory's name, and the text's tree with locations (None where they are
    not exact; the tree still holds the ``Comment`` statements, which codegen/load.py drops)."""
    lowered = gen.lowered
    factory = f"_make_{gen.name}"
    header = (f"# Generated by autodiffsource from {lowered.file}:{lowered.first_line} "
              f"`def {lowered.name}({signature})`; wrt=({', '.join(wrt_names)}). Do not edit.")
    if gen.single_output:
        pb_args = ast.arguments([], [ast.arg(gen.pullback_params[0])], None, [], [], None, [ast.Constant(None)])
    else:
        pb_args = ast.arguments([], [ast.arg(p) for p in gen.pullback_params], None, [], [], None, [])
    pullback = ast.FunctionDef(gen.pullback_name, pb_args, gen.pullback, [], None)
    outputs = ast.Tuple(list(gen.outputs) + [ast.Name(gen.pullback_name, ast.Load())], ast.Load())
    # Each value let go after its last read, in the pullback's body too (transform/lifetimes.py).
    body = free_at_last_use(gen.forward + [pullback, ast.Return(outputs)], holding_little(gen.bindings), gen.names)
    delta = ast.FunctionDef(gen.name, _args(signature), body, [], None)
    factory_args = ast.arguments([], [ast.arg(n) for n in gen.bindings], None, [], [], None, [])
    make = ast.FunctionDef(factory, factory_args, [delta, ast.Return(ast.Name(gen.name, ast.Load()))], [], None)
    unparser = _LocatingUnparser(first_line=2)  # line 1 is the header comment
    text = header + "\n" + unparser.render(make) + "\n"
    module = ast.Module([make], []) if unparser.complete else None
    return text, factory, module
