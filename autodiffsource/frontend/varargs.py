"""Before lowering: ``def f(x, *args)`` called with n extra arguments -> ``def f(x, args_1, ..., args_n)``.

Contract: ``expand_varargs(parsed, n)`` returns a copy of the parsed function whose ``*args`` parameter
is replaced by ``n`` ordinary positional parameters, one differentiated input each (the wrt mask covers
them after the named parameters). Inside the body, ``args[k]`` with a constant ``k`` becomes the k-th
parameter, ``len(args)`` becomes ``n``, ``g(*args)`` passes the n parameters on, and any other use of
``args`` becomes the tuple ``(args_1, ..., args_n)``, which later stages lower like a tuple written by
hand (so nothing is silently left undifferentiated). Where ``args`` is reassigned or shadowed, the body
instead starts with ``args = (args_1, ..., args_n)``. Locations are kept, so errors still point at the
user's line. A function without ``*args`` is returned unchanged.
"""

from __future__ import annotations

import ast
import copy
import dataclasses

from ..source import ParsedFunction


def expand_varargs(parsed: ParsedFunction, n_extra: int) -> ParsedFunction:
    """``parsed`` with its ``*args`` expanded into ``n_extra`` positional parameters."""
    node = parsed.node
    if node.args.vararg is None:
        return parsed
    node = copy.deepcopy(node)
    vararg = node.args.vararg.arg
    taken = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
    names = []
    for k in range(1, n_extra + 1):
        name = f"{vararg}_{k}"
        while name in taken:
            name += "_"
        taken.add(name)
        names.append(name)
    node.args.args = node.args.args + [ast.copy_location(ast.arg(name), node.args.vararg) for name in names]
    node.args.vararg = None
    rebound = any(isinstance(n, ast.Name) and n.id == vararg and not isinstance(n.ctx, ast.Load)
                  or isinstance(n, ast.arg) and n.arg == vararg for n in ast.walk(node))
    if rebound:
        # `args` is reassigned or shadowed somewhere: bind the tuple once, as Python does, and let the
        # container support carry it, rather than rewrite uses that may mean something else.
        pack = ast.Assign([ast.Name(vararg, ast.Store())], ast.Tuple([ast.Name(n, ast.Load()) for n in names],
                                                                     ast.Load()))
        node.body = [ast.copy_location(pack, node.body[0])] + node.body
    else:
        node.body = [_Expand(vararg, names).visit(stmt) for stmt in node.body]
    ast.fix_missing_locations(node)
    return dataclasses.replace(parsed, node=node)


class _Expand(ast.NodeTransformer):
    def __init__(self, vararg: str, names: list[str]):
        self.vararg = vararg
        self.names = names

    def _is_vararg(self, node) -> bool:
        return isinstance(node, ast.Name) and node.id == self.vararg and isinstance(node.ctx, ast.Load)

    def visit_Subscript(self, node: ast.Subscript):
        if self._is_vararg(node.value) and isinstance(node.ctx, ast.Load):
            k = _constant_int(node.slice)
            if k is not None and -len(self.names) <= k < len(self.names):
                return ast.copy_location(ast.Name(self.names[k], ast.Load()), node)
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call):
        if (isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1
                and not node.keywords and self._is_vararg(node.args[0])):
            return ast.copy_location(ast.Constant(len(self.names)), node)
        # g(x, *args) passes each extra argument on as a positional argument of its own.
        flat = []
        for arg in node.args:
            if isinstance(arg, ast.Starred) and self._is_vararg(arg.value):
                flat += [ast.copy_location(ast.Name(n, ast.Load()), arg) for n in self.names]
            else:
                flat.append(arg)
        node.args = flat
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name):
        if self._is_vararg(node):
            elts = [ast.copy_location(ast.Name(n, ast.Load()), node) for n in self.names]
            return ast.copy_location(ast.Tuple(elts, ast.Load()), node)
        return node


def _constant_int(node) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and type(node.operand.value) is int:
        return -node.operand.value
    return None
