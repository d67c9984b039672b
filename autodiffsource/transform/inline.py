"""Inline a rule's source into generated code: forward lines into the forward pass, the pullback's body
into the backward pass, with every name renamed. No closure and no helper call per operation.

Contract: ``template_for(rule)`` returns a :class:`Template` when the rule has the simple shape::

    def δname(p1, p2=default):
        <forward statements>
        def name_pullback(dz):
            <statements>
            return partial1, partial2        # one per parameter, None for none
        return value, name_pullback

and ``None`` otherwise (such rules are called as closures). ``Template.instantiate`` substitutes the
call's atoms for the parameters, binds the rule module's globals through a callback (so generated code
names them hygienically), and gives the forward statements plus a builder for the backward statements
that keeps only what the requested partials need (dead code is never emitted).
"""

from __future__ import annotations

import ast
import builtins
import copy
import dataclasses
import functools
import inspect
import textwrap
from typing import Callable

from ..rules.registry import Rule

XP = "xp"  # the name rules use for the run-time array namespace


@dataclasses.dataclass
class Template:
    """A parsed, inlinable rule."""

    rule: Rule
    params: list[str]
    defaults: dict[str, object]
    forward: list[ast.stmt]
    value: ast.expr
    cotangent: str
    backward: list[ast.stmt]
    partials: list[ast.expr]
    free: dict[str, object]
    uses_xp: bool

    def instantiate(self, args: dict[str, ast.expr], target: str, fresh: Callable[[str], str],
                    bind: Callable[[str, object], str], xp_name: str) -> "Instance":
        """Substitute ``args`` (param -> atom; missing params take their defaults) into the rule."""
        mapping: dict[str, ast.expr] = {}
        for p in self.params:
            if p in args:
                mapping[p] = args[p]
            else:
                mapping[p] = _literal(self.defaults[p], bind)
        locals_ = _assigned_names(self.forward) | _assigned_names(self.backward)
        value_name = self.value.id if isinstance(self.value, ast.Name) and self.value.id in locals_ else None
        for name in sorted(locals_):
            if name in self.params:
                continue
            mapping[name] = ast.Name(target if name == value_name else fresh(f"_{name}"), ast.Load())
        for name, obj in self.free.items():
            mapping[name] = ast.Name(bind(name, obj), ast.Load())
        mapping[XP] = ast.Name(xp_name, ast.Load())
        forward = [_substitute(s, mapping) for s in self.forward]
        if value_name is None:
            forward.append(ast.Assign([ast.Name(target, ast.Store())], _substitute(self.value, mapping)))
        return Instance(self, mapping, forward)


@dataclasses.dataclass
class Instance:
    """One inlined use of a template."""

    template: Template
    mapping: dict[str, ast.expr]
    forward: list[ast.stmt]

    def backward(self, cotangent: str, needed: list[bool]) -> tuple[list[ast.stmt], list[ast.expr | None]]:
        """The pullback body for the ``needed`` partials, given the cotangent's variable name."""
        mapping = dict(self.mapping)
        mapping[self.template.cotangent] = ast.Name(cotangent, ast.Load())
        partials = [
            _fold(_substitute(expr, mapping)) if want else None
            for expr, want in zip(self.template.partials, needed, strict=True)
        ]
        live = set()
        for expr in partials:
            if expr is not None:
                live |= _loaded_names(expr)
        kept = []
        for stmt in reversed(self.template.backward):
            stmt = _substitute(stmt, mapping)
            targets = _assigned_names([stmt])
            if targets and not (targets & live) and isinstance(stmt, ast.Assign):
                continue  # dead: feeds no requested partial
            kept.append(stmt)
            live |= _loaded_names(stmt)
        return list(reversed(kept)), partials


@functools.lru_cache(maxsize=None)
def _parse_rule(delta) -> ast.FunctionDef | None:
    try:
        text = textwrap.dedent(inspect.getsource(delta))
    except (OSError, TypeError):
        return None
    tree = ast.parse(text)
    node = tree.body[0]
    return node if isinstance(node, ast.FunctionDef) else None


_templates: dict[int, Template | None] = {}


def template_for(rule: Rule) -> Template | None:
    """The inlinable template of ``rule``, or None when the rule must be called as a closure."""
    key = id(rule)
    if key not in _templates:
        _templates[key] = _build(rule)
    return _templates[key]


def _build(rule: Rule) -> Template | None:
    node = _parse_rule(rule.delta)
    if node is None:
        return None
    a = node.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
        return None
    params = [p.arg for p in a.args]
    sig = inspect.signature(rule.delta)
    defaults = {p: sig.parameters[p].default for p in params if sig.parameters[p].default is not inspect.Parameter.empty}
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) < 2 or not isinstance(body[-1], ast.Return):
        return None
    ret = body[-1].value
    if not (isinstance(ret, ast.Tuple) and len(ret.elts) == 2 and isinstance(ret.elts[1], ast.Name)):
        return None
    pb_name = ret.elts[1].id
    pbs = [i for i, s in enumerate(body) if isinstance(s, ast.FunctionDef) and s.name == pb_name]
    if len(pbs) != 1:
        return None
    pb = body[pbs[0]]
    forward = body[: pbs[0]] + body[pbs[0] + 1: -1]
    if len(pb.args.args) != 1 or pb.args.vararg or pb.args.defaults:
        return None
    pb_body = list(pb.body)
    if not pb_body or not isinstance(pb_body[-1], ast.Return) or pb_body[-1].value is None:
        return None
    if any(isinstance(n, (ast.Return, ast.FunctionDef, ast.Lambda, ast.Yield, ast.Global, ast.Nonlocal))
           for s in forward + pb_body[:-1] for n in ast.walk(s)):
        return None
    out = pb_body[-1].value
    partials = list(out.elts) if isinstance(out, ast.Tuple) else [out]
    if len(partials) != len(params):
        return None
    local = set(params) | _assigned_names(forward) | _assigned_names(pb_body) | {pb.args.args[0].arg}
    free_names = set()
    for s in forward + pb_body:
        free_names |= _loaded_names(s)
    free_names |= _loaded_names(ret.elts[0])
    free_names -= local
    module_globals = rule.delta.__globals__
    free = {}
    for name in sorted(free_names):
        if name == XP:
            continue
        if name in module_globals:
            free[name] = module_globals[name]
        elif hasattr(builtins, name):
            free[name] = getattr(builtins, name)
        else:
            return None
    return Template(rule, params, defaults, forward, ret.elts[0], pb.args.args[0].arg, pb_body[:-1],
                    partials, free, XP in free_names)


# ---- AST utilities -----------------------------------------------------------------------------------

def _assigned_names(stmts) -> set[str]:
    names = set()
    for s in stmts:
        for n in ast.walk(s):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                names.add(n.id)
    return names


def _loaded_names(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _literal(value, bind) -> ast.expr:
    if value is None or isinstance(value, (bool, int, float, str)):
        return ast.Constant(value)
    if isinstance(value, tuple) and all(isinstance(v, (int, float, type(None))) for v in value):
        return ast.Tuple([ast.Constant(v) for v in value], ast.Load())
    return ast.Name(bind("default", value), ast.Load())


def index_value(node: ast.expr) -> ast.expr:
    """An index written in subscript syntax (``1:``, ``:, 0``) as a value expression (``slice(1, None)``)."""
    if isinstance(node, ast.Slice):
        parts = [node.lower, node.upper, node.step]
        return ast.Call(ast.Name("slice", ast.Load()), [p if p is not None else ast.Constant(None) for p in parts], [])
    if isinstance(node, ast.Tuple):
        return ast.Tuple([index_value(e) for e in node.elts], ast.Load())
    return node


class _Substitute(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Subscript(self, node):
        # The index keeps its slice syntax where it stands in a subscript...
        node.value = self.visit(node.value)
        if isinstance(node.slice, ast.Name) and node.slice.id in self.mapping:
            node.slice = copy.deepcopy(self.mapping[node.slice.id])
        else:
            node.slice = self.visit(node.slice)
        return node

    def visit_Name(self, node):
        if node.id not in self.mapping:
            return node
        new = copy.deepcopy(self.mapping[node.id])
        if isinstance(node.ctx, ast.Store):
            if not isinstance(new, ast.Name):
                raise AssertionError(f"rule assigns to parameter {node.id}")
            return ast.Name(new.id, ast.Store())
        # ...and becomes a value (slice(...) objects) anywhere else.
        return index_value(new)


def _substitute(node, mapping):
    new = _Substitute(mapping).visit(copy.deepcopy(node))
    return ast.fix_missing_locations(new)


class _Fold(ast.NodeTransformer):
    """Fold what inlining a literal creates: ``2 - 1`` -> ``1``, ``x ** 1`` -> ``x``.

    ``a * 1`` is left alone: with ``a`` a boolean array it converts to numbers, which later code needs.
    """

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right = node.left, node.right
        lit = lambda n: isinstance(n, ast.Constant) and type(n.value) in (int, float)  # noqa: E731
        if lit(left) and lit(right) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            value = eval(compile(ast.Expression(node), "<fold>", "eval"))  # two number literals only
            return ast.copy_location(ast.Constant(value), node)
        if isinstance(node.op, ast.Pow) and lit(right) and right.value == 1:
            return left
        return node


def _fold(node):
    return ast.fix_missing_locations(_Fold().visit(node))
