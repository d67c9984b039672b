"""The writers of the nodes generated code is made of, for codegen/emit.py's ``_LocatingUnparser``.

Contract: each writes exactly the text the standard library's unparser writes for its node (same
parentheses, same spacing: ``ast._Unparser``'s tables are read, not copied) and gives every node it
writes the location that text has, as the unparser's generic traversal would: line, and UTF-8 byte
columns, a parenthesised expression's span including its parentheses. A node written a second time
in one text is copied first (``unshare``). What none of them writes goes back to the unparser's
``traverse`` (the stdlib's method for the node). The text and every location are those of the
generic traversal, node for node; writing the common nodes here, with the running column passed
along instead of a context manager, a precedence lookup and a generic visit per node, takes a
fraction of its time (the rest is the locations themselves: four attributes set on every node).
"""

from __future__ import annotations

import ast

from ..astutil import clone
from ..transform.codeparts import Comment

def unshare(parent: ast.AST, node: ast.AST, precedences: dict) -> ast.AST:
    """A node written a second time (the generator may use one ``Name`` in two statements) needs a
    second location: ``parent`` gets a copy of it in place of the first field or item that holds it
    (which need not be the one being written: ``x * x`` of one ``Name``), and the copy is written."""
    copy = clone(node)
    if node in precedences:
        precedences[copy] = precedences[node]
    for field in parent._fields:
        value = getattr(parent, field, None)
        if value is node:
            setattr(parent, field, copy)
            return copy
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is node:
                    value[i] = copy
                    return copy
    return copy


# ---- the writers of the common nodes ------------------------------------------------------------------
# An expression writer takes (unparser, node, column), writes the node where the stdlib's method would,
# gives it its location and returns the column after it; the caller has checked the node is not written
# elsewhere already (``unshare``) and, where the stdlib's method sets its precedence, set it. A ``Name``
# (half of all nodes) is written by ``_name``, as every other node by its writer, through ``_child``.

_P = {precedence.name: int(precedence) for precedence in ast._Precedence}
_TUPLE, _YIELD, _TEST, _CMP, _EXPR, _FACTOR, _ATOM = (_P[k] for k in ("TUPLE", "YIELD", "TEST", "CMP", "EXPR",
                                                                     "FACTOR", "ATOM"))
WRITTEN = "_emit_written"  # the attribute that marks a node as written by an unparser: its `_written`
# Nodes whose text does not depend on their precedence: the precedence a parent sets for them is not kept.
_PLAIN = frozenset({ast.Name, ast.Constant, ast.Call, ast.Attribute, ast.Subscript, ast.List})


def _next(precedence: int) -> int:
    return min(precedence + 1, _ATOM)


def _operator_table(names: dict, precedences: dict, spaced: bool) -> dict:
    return {getattr(ast, name): ((f" {text} " if spaced else text), int(precedences[text]))
            for name, text in names.items()}


# class -> (" + ", precedence, left operand's, right operand's)
_BINOPS = {cls: (text, precedence) + ((_next(precedence), precedence) if text == " ** " else
                                      (precedence, _next(precedence)))
           for cls, (text, precedence) in _operator_table(ast._Unparser.binop, ast._Unparser.binop_precedence,
                                                          True).items()}
# class -> ("-" or "not ", precedence): factor prefixes are not separated from their operand
_UNOPS = {cls: (text if precedence == _FACTOR else text + " ", precedence)
          for cls, (text, precedence) in _operator_table(ast._Unparser.unop, ast._Unparser.unop_precedence,
                                                         False).items()}
_BOOLOPS = _operator_table(ast._Unparser.boolops, ast._Unparser.boolop_precedence, True)
_AUGOPS = {getattr(ast, name): f" {text}= " for name, text in ast._Unparser.binop.items()}
_CMPOPS = {getattr(ast, name): f" {text} " for name, text in ast._Unparser.cmpops.items()}


def _width(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def _child(u, parent, node, col: int) -> int:
    """Writes ``node``, a child of ``parent``, at ``col``; returns the column after it."""
    cls = node.__class__
    write = EXPRESSIONS.get(cls)
    if write is None:  # the stdlib's method, through the generic traversal (which checks sharing)
        u._col = col
        u._parents.append(parent)
        u.traverse(node)
        u._parents.pop()
        return u._col
    if node.__dict__.get(WRITTEN) is u._written:
        node = unshare(parent, node, u._precedences)
    node.__dict__[WRITTEN] = u._written
    return write(u, node, col)


def _atom(u, parent, node, col: int) -> int:
    """``_child`` for a part written at atom precedence (a call's function, what is subscripted or has an
    attribute read): parenthesised unless it is one."""
    if node.__class__ not in _PLAIN:
        u._precedences[node] = _ATOM
    return _child(u, parent, node, col)


def _items(u, parent, items: list, col: int) -> int:
    """``items_view``: comma-separated, a single item followed by a comma."""
    out = u._source
    if len(items) == 1:
        col = _child(u, parent, items[0], col)
        out.append(",")
        return col + 1
    for i, item in enumerate(items):
        if i:
            out.append(", ")
            col += 2
        col = _child(u, parent, item, col)
    return col


def _name(u, node, col):
    text = node.id
    u._source.append(text)
    node.lineno = node.end_lineno = u._line
    node.col_offset = col
    node.end_col_offset = col = col + _width(text)
    return col


def _binop_parts(u, node, col):
    text, _, left_precedence, right_precedence = _BINOPS[node.op.__class__]
    precedences = u._precedences
    left = node.left
    if left.__class__ not in _PLAIN:
        precedences[left] = left_precedence
    col = _child(u, node, left, col)
    u._source.append(text)
    right = node.right
    if right.__class__ not in _PLAIN:
        precedences[right] = right_precedence
    return _child(u, node, right, col + len(text))


def _unaryop_parts(u, node, col):
    text, precedence = _UNOPS[node.op.__class__]
    u._source.append(text)
    operand = node.operand
    if operand.__class__ not in _PLAIN:
        u._precedences[operand] = precedence
    return _child(u, node, operand, col + len(text))


def _call(u, node, col):
    out, line = u._source, u._line
    node.lineno, node.col_offset = line, col
    col = _atom(u, node, node.func, col)
    out.append("(")
    col += 1
    comma = False
    for argument in node.args + node.keywords:
        if comma:
            out.append(", ")
            col += 2
        else:
            comma = True
        col = _child(u, node, argument, col)
    out.append(")")
    col += 1
    node.end_lineno, node.end_col_offset = line, col
    return col


def _keyword(u, node, col):
    line = u._line
    node.lineno, node.col_offset = line, col
    text = "**" if node.arg is None else node.arg + "="
    u._source.append(text)
    col = _child(u, node, node.value, col + _width(text))
    node.end_lineno, node.end_col_offset = line, col
    return col


def _attribute(u, node, col):
    line = u._line
    node.lineno, node.col_offset = line, col
    col = _atom(u, node, node.value, col)
    value = node.value
    # `3.__abs__()` is a syntax error: an integer literal is separated from the dot
    text = (" ." if isinstance(value, ast.Constant) and isinstance(value.value, int) else ".") + node.attr
    u._source.append(text)
    node.end_lineno, node.end_col_offset = line, col = line, col + _width(text)
    return col


def _subscript(u, node, col):
    out, line = u._source, u._line
    node.lineno, node.col_offset = line, col
    col = _atom(u, node, node.value, col)
    out.append("[")
    index = node.slice
    if isinstance(index, ast.Tuple) and index.elts:  # parentheses can be omitted if the tuple isn't empty
        col = _items(u, node, index.elts, col + 1)  # the tuple is not traversed: its items are the subscript's
        out.append("]")
        col += 1
        index.lineno, index.col_offset = line, node.col_offset
        index.end_lineno, index.end_col_offset = line, col
    else:
        col = _child(u, node, index, col + 1)
        out.append("]")
        col += 1
    node.end_lineno, node.end_col_offset = line, col
    return col


def _list(u, node, col):
    out, line = u._source, u._line
    node.lineno, node.col_offset = line, col
    out.append("[")
    col += 1
    for i, item in enumerate(node.elts):
        if i:
            out.append(", ")
            col += 2
        col = _child(u, node, item, col)
    out.append("]")
    node.end_lineno, node.end_col_offset = line, col = line, col + 1
    return col


def _compare_parts(u, node, col):
    out, precedences = u._source, u._precedences
    precedences[node.left] = _EXPR  # all set before any is written, as the stdlib does
    for comparator in node.comparators:
        precedences[comparator] = _EXPR
    col = _child(u, node, node.left, col)
    for operator, comparator in zip(node.ops, node.comparators):
        text = _CMPOPS[operator.__class__]
        out.append(text)
        col = _child(u, node, comparator, col + len(text))
    return col


def _boolop_parts(u, node, col):
    text, precedence = _BOOLOPS[node.op.__class__]
    out, precedences = u._source, u._precedences
    for i, value in enumerate(node.values):
        if i:
            out.append(text)
            col += len(text)
        precedence = _next(precedence)  # the stdlib raises each operand's level by one more
        precedences[value] = precedence
        col = _child(u, node, value, col)
    return col


def _ifexp_parts(u, node, col):
    out, precedences = u._source, u._precedences
    precedences[node.body] = precedences[node.test] = _TEST + 1
    col = _child(u, node, node.body, col)
    out.append(" if ")
    col = _child(u, node, node.test, col + 4)
    out.append(" else ")
    precedences[node.orelse] = _TEST
    return _child(u, node, node.orelse, col + 6)


def _parenthesised(parts, level):
    """The writer of an operator node: ``parts(u, node, col)`` writes what is inside, in parentheses where
    the precedence its parent set is above the node's own, ``level(node)``."""
    def write(u, node, col):
        out, line = u._source, u._line
        node.lineno, node.col_offset = line, col
        parens = u._precedences.get(node, _TEST) > level(node)
        if parens:
            out.append("(")
            col += 1
        col = parts(u, node, col)
        if parens:
            out.append(")")
            col += 1
        node.end_lineno, node.end_col_offset = line, col
        return col
    return write


_binop = _parenthesised(_binop_parts, lambda node: _BINOPS[node.op.__class__][1])
_unaryop = _parenthesised(_unaryop_parts, lambda node: _UNOPS[node.op.__class__][1])
_compare = _parenthesised(_compare_parts, lambda node: _CMP)
_boolop = _parenthesised(_boolop_parts, lambda node: _BOOLOPS[node.op.__class__][1])
_ifexp = _parenthesised(_ifexp_parts, lambda node: _TEST)
# (an empty tuple always: its level is below every precedence)
_tuple = _parenthesised(lambda u, node, col: _items(u, node, node.elts, col), lambda node: _TUPLE if node.elts else -1)


def _starred(u, node, col):
    line = u._line
    node.lineno, node.col_offset = line, col
    u._source.append("*")
    u._precedences[node.value] = _EXPR
    col = _child(u, node, node.value, col + 1)
    node.end_lineno, node.end_col_offset = line, col
    return col


_NoneType = type(None)


def _constant(u, node, col):
    line = u._line
    node.lineno, node.col_offset = line, col
    value = node.value
    cls = value.__class__
    if cls is int or cls is bool or cls is _NoneType or (cls is str and node.kind is None and not u._avoid_backslashes):
        text = repr(value)
    elif cls is float:
        text = repr(value)
        if text[-1] in "fn":  # inf, nan: the stdlib writes an overflowing literal
            text = text.replace("inf", ast._INFSTR).replace("nan", f"({ast._INFSTR}-{ast._INFSTR})")
    else:  # tuples, Ellipsis, bytes, complex, NumPy scalars, u-strings: the stdlib's method
        u._col = col
        ast._Unparser.visit_Constant(u, node)
        node.end_lineno, node.end_col_offset = line, u._col
        return u._col
    u._source.append(text)
    node.end_lineno, node.end_col_offset = line, col = line, col + (len(text) if text.isascii() else len(text.encode()))
    return col


EXPRESSIONS = {ast.Name: _name, ast.BinOp: _binop, ast.UnaryOp: _unaryop, ast.Call: _call, ast.keyword: _keyword,
               ast.Attribute: _attribute, ast.Subscript: _subscript, ast.Tuple: _tuple, ast.List: _list,
               ast.Compare: _compare, ast.BoolOp: _boolop, ast.IfExp: _ifexp, ast.Starred: _starred,
               ast.Constant: _constant}


# A statement writer takes (unparser, node, output, line, indentation): ``block`` has started the line
# (the stdlib's ``fill``) and located the node's start; the writer writes the indentation and the
# statement and returns the column where it ends.

def block(u, stmts: list) -> None:
    """Writes a list of statements (a body): the common ones here, any other through the stdlib's method."""
    written, out = u._written, u._source
    indent = "    " * u._indent  # the same for the whole body: only the stdlib's `block` changes it
    width = len(indent)
    for stmt in stmts:
        write = STATEMENTS.get(stmt.__class__)
        if write is None:
            u.traverse(stmt)
            continue
        if stmt.__dict__.get(WRITTEN) is written:
            stmt = unshare(u._parents[-1], stmt, u._precedences)
        stmt.__dict__[WRITTEN] = written
        if out:
            out.append("\n")
            u._line += 1
        line = u._line
        if u._starting:  # the statements (a `def`, an `if`) whose first line is this one
            for waiting in u._starting:
                waiting.lineno, waiting.col_offset = line, width
            u._starting = []
        stmt.lineno, stmt.col_offset = line, width
        stmt.end_lineno, stmt.end_col_offset = line, u._col = line, write(u, stmt, out, line, indent)


def _assign(u, node, out, line, indent):
    out.append(indent)
    col = len(indent)
    for target in node.targets:
        if target.__class__ not in _PLAIN:
            u._precedences[target] = _TUPLE
        col = _child(u, node, target, col)
        out.append(" = ")
        col += 3
    return _child(u, node, node.value, col)


def _augassign(u, node, out, line, indent):
    out.append(indent)
    col = _child(u, node, node.target, len(indent))
    text = _AUGOPS[node.op.__class__]
    out.append(text)
    return _child(u, node, node.value, col + len(text))


def _expr(u, node, out, line, indent):
    out.append(indent)
    value = node.value
    if value.__class__ not in _PLAIN:
        u._precedences[value] = _YIELD
    return _child(u, node, value, len(indent))


def _return(u, node, out, line, indent):
    if node.value:
        out.append(indent + "return ")
        return _child(u, node, node.value, len(indent) + 7)
    out.append(indent + "return")
    return len(indent) + 6


def _delete(u, node, out, line, indent):
    out.append(indent + "del ")
    col = len(indent) + 4
    for i, target in enumerate(node.targets):
        if i:
            out.append(", ")
            col += 2
        col = _child(u, node, target, col)
    return col


def _comment(u, node, out, line, indent):
    text = indent + "# " + node.text
    out.append(text)
    return len(text) if text.isascii() else len(text.encode())


def _keyword_statement(keyword: str):
    def write(u, node, out, line, indent):
        out.append(indent + keyword)
        return len(indent) + len(keyword)
    return write


STATEMENTS = {ast.Assign: _assign, ast.AugAssign: _augassign, ast.Expr: _expr, ast.Return: _return,
              ast.Delete: _delete, Comment: _comment, ast.Pass: _keyword_statement("pass"),
              ast.Break: _keyword_statement("break"), ast.Continue: _keyword_statement("continue")}
