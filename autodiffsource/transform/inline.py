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
that keeps only what the requested partials need (dead code is never emitted). Each substitution is a
fresh copy; a rule used often is copied by a function compiled for each of its statements, which makes
the very copy the walk makes (issue 6: the walk was a tenth of a long function's transform). The copies
of the rule's own nodes carry no location (the rule's lines mean nothing in generated code, and
codegen/emit.py gives every node it writes its place in the generated text): a node constructor given
four location keywords costs about three times one without.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import functools
import inspect
import operator
from typing import Callable

from ..astutil import Transformer, clone
from ..errors import NoSourceError
from ..rules.registry import Rule
from ..source import parse_function

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

    def __post_init__(self):
        # Name sets, in the rule's own names, computed once: instantiation and dead-code removal then
        # need no walk over the substituted code (they dominated the transform time).
        self.locals = frozenset(_assigned_names(self.forward) | _assigned_names(self.backward))
        self.renamed_locals = [name for name in sorted(self.locals) if name not in self.params]  # (in this order)
        self.value_name = self.value.id if isinstance(self.value, ast.Name) and self.value.id in self.locals else None
        self.partial_loads = [_loaded_names(p) for p in self.partials]
        self.backward_deps = [(_assigned_names([s]), _loaded_names(s), isinstance(s, ast.Assign))
                              for s in self.backward]
        # Statements that can hold an `is None` test or a conditional expression: the only ones
        # _DecideNoneTests can change (substitution brings in atoms only), so the others skip its walk.
        self.deciding = {id(s) for s in self.forward + self.backward + [self.value] if _may_decide(s)}
        # id(node) -> how often it was substituted into, then (from the _COMPILE_AFTER-th time) the
        # function compiled for it.
        self.builders: dict[int, int | Callable] = {}
        self.live: dict[tuple[bool, ...], list[ast.stmt]] = {}  # live_backward's answers

    def live_backward(self, needed) -> list[ast.stmt]:
        """The backward statements that feed a partial ``needed`` asks for, in order (dead code is never
        emitted); worked out once per ``needed``, since it depends on nothing else."""
        key = tuple(needed)
        kept = self.live.get(key)
        if kept is None:
            live = set()
            for loads, want in zip(self.partial_loads, key, strict=True):
                if want:
                    live |= loads
            kept = []
            for stmt, (assigned, loads, is_assign) in zip(reversed(self.backward), reversed(self.backward_deps)):
                if assigned and not (assigned & live) and is_assign:
                    continue  # dead: feeds no requested partial
                kept.append(stmt)
                live |= loads
            kept.reverse()
            self.live[key] = kept
        return kept

    def substitute(self, node, mapping: dict):
        """``_substitute(node, mapping)`` for one of the template's own statements or expressions: by a
        function compiled for that node once the rule has been used often (the same copy, made without
        walking the template each time; compiling costs about ten walks)."""
        build = self.builders.get(id(node))
        if build is None or build.__class__ is int:
            uses = (build or 0) + 1
            if uses < _COMPILE_AFTER:
                self.builders[id(node)] = uses
                return _substitute(node, mapping)
            build = self.builders[id(node)] = _compiled_substitution(node)
        return build(mapping)

    def instantiate(self, args: dict[str, ast.expr], target: str, fresh: Callable[[str], str],
                    bind: Callable[[str, object], str], xp_name: str) -> "Instance":
        """Substitute ``args`` (param -> atom; missing params take their defaults) into the rule."""
        mapping: dict[str, ast.expr] = {}
        for p in self.params:
            if p in args:
                mapping[p] = args[p]
            else:
                mapping[p] = _literal(self.defaults[p], bind)
        value_name = self.value_name
        for name in self.renamed_locals:
            mapping[name] = ast.Name(target if name == value_name else fresh(f"_{name}"), ast.Load())
        for name, obj in self.free.items():
            mapping[name] = ast.Name(bind(name, obj), ast.Load())
        mapping[XP] = ast.Name(xp_name, ast.Load())
        deciding = self.deciding
        substitute = self.substitute
        forward = [_decide(substitute(s, mapping), id(s) in deciding) for s in self.forward]
        if value_name is None:
            value = _decide(substitute(self.value, mapping), id(self.value) in deciding)
            forward.append(ast.Assign([ast.Name(target, ast.Store())], value))
        return Instance(self, mapping, forward)


@dataclasses.dataclass
class Instance:
    """One inlined use of a template."""

    template: Template
    mapping: dict[str, ast.expr]
    forward: list[ast.stmt]

    def backward(self, cotangent: str, needed: list[bool]) -> tuple[list[ast.stmt], list[ast.expr | None]]:
        """The pullback body for the ``needed`` partials, given the cotangent's variable name."""
        template = self.template
        mapping = dict(self.mapping)
        mapping[template.cotangent] = ast.Name(cotangent, ast.Load())
        # Only rules with literal (static) parameters create foldable arithmetic such as `2 - 1`.
        fold = _fold if template.rule.static else (lambda node: node)
        substitute = template.substitute
        partials = [fold(substitute(expr, mapping)) if want else None
                    for expr, want in zip(template.partials, needed, strict=True)]
        deciding = template.deciding
        return [_decide(substitute(s, mapping), id(s) in deciding) for s in template.live_backward(needed)], partials


@functools.lru_cache(maxsize=None)
def _parse_rule(delta) -> ast.FunctionDef | None:
    """The rule's definition, parsed where it stands in its module (``source.parse_function``: no
    tokenizer run per rule, which was most of the first transform's extra cost in a process)."""
    try:
        return parse_function(delta).node
    except NoSourceError:
        return None


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


def _substitute(node, mapping):
    """A copy of ``node`` with names replaced by (copies of) their mapped expressions.

    An index keeps its slice syntax where it stands in a subscript (``x[1:]``) and becomes a value
    (``slice(1, None, None)``) anywhere else.
    """
    return _Substitution(mapping).walk(node)


class _Substitution:
    """The walk of :func:`_substitute`. A class, not a closure that calls itself: such a closure is a
    reference cycle (function -> cell -> function), and thousands of them per transform (each holding
    its mapping and nodes) waited for the cyclic garbage collector, whose pass over them cost a
    1,000-line function's transform ~0.2 s."""

    __slots__ = ("mapping",)

    def __init__(self, mapping):
        self.mapping = mapping

    def walk(self, n):
        cls = n.__class__
        if cls is ast.Name:
            target = self.mapping.get(n.id)
            if target is None:
                return _Name(n.id, n.ctx)
            if n.ctx.__class__ is ast.Store:
                if target.__class__ is not ast.Name:
                    raise AssertionError(f"rule assigns to parameter {n.id}")
                return ast.Name(target.id, ast.Store())
            if target.__class__ is ast.Name:  # most atoms: what index_value(clone(target)) gives
                return _copy_name(target)
            return index_value(clone(target))
        if cls is list:
            return [self.walk(item) for item in n]
        if cls is ast.Subscript:
            index = n.slice
            if index.__class__ is ast.Name and index.id in self.mapping:
                return ast.Subscript(self.walk(n.value), clone(self.mapping[index.id]), n.ctx)
        elif isinstance(n, _SHARED_LEAVES) or not isinstance(n, ast.AST):
            return n  # contexts and operators carry nothing: shared, as the parser shares them
        new = cls.__new__(cls)  # (copy_node without the location attributes)
        d, source = new.__dict__, n.__dict__
        for key in cls._fields:
            value = source.get(key)
            d[key] = self.walk(value) if value.__class__ is list or isinstance(value, ast.AST) else value
        return new


# Substitutions into one template node after which it is compiled (_compiled_substitution): a small
# function's rules are walked (a 50-line function uses each a few times), a long one's are compiled.
_COMPILE_AFTER = 16
_SHARED_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
_NAME_ATTRIBUTES = ast.Name._attributes
_Name = ast.Name
_ID_AND_CTX = frozenset({"id", "ctx"})


def _compiled_substitution(node) -> Callable[[dict], object]:
    """A function of the mapping returning ``_substitute(node, mapping)``: the walk done once, here, and
    written out as one nested expression of node constructors (a copy then costs a constructor call
    per node instead of a walk over its fields). Every object the copy shares with ``node`` (operators,
    contexts, field values that are not nodes) is passed in, never respelled."""
    writer = _SubstitutionWriter()
    try:
        text = f"def substitute(m):\n    return {writer.write(node)}\n"
        namespace = {"K": writer.shared, "load": _load, "store": _store, "clone": clone, "Subscript": ast.Subscript}
        exec(compile(text, "<rule template>", "exec"), namespace)
    except (SyntaxError, RecursionError, MemoryError):  # too deeply nested to compile: walked each time
        return functools.partial(_substitute, node)
    return namespace.pop("substitute")  # (its globals keep no reference to it: no cycle)


class _SubstitutionWriter:
    """The expression :func:`_compiled_substitution` compiles (a class, not closures calling each other:
    those would be reference cycles left to the garbage collector)."""

    __slots__ = ("shared",)

    def __init__(self):
        self.shared: list = []  # the objects the expression refers to, as K[i]

    def ref(self, obj) -> str:
        self.shared.append(obj)
        return f"K[{len(self.shared) - 1}]"

    def write(self, n) -> str:
        cls = n.__class__
        if cls is list:
            return "[" + "".join(self.write(item) + ", " for item in n) + "]"
        if cls is ast.Name:
            return f"load(m, {n.id!r}, {self.ref(n)})" if n.ctx.__class__ is not ast.Store else \
                f"store(m, {n.id!r}, {self.ref(n)})"
        if isinstance(n, _SHARED_LEAVES) or not isinstance(n, ast.AST):
            return self.ref(n)
        source = n.__dict__
        parts = [self.write(value) if value.__class__ is list or isinstance(value, ast.AST) else self.ref(value)
                 for value in (source.get(key) for key in cls._fields)]
        made = f"{self.ref(cls)}({', '.join(parts)})"
        index = n.slice if cls is ast.Subscript else None
        if index.__class__ is ast.Name:  # x[i] with i a parameter: the index keeps its slice syntax
            return f"(Subscript({self.write(n.value)}, clone(m[{index.id!r}]), {self.ref(n.ctx)}) " \
                   f"if {index.id!r} in m else {made})"
        return made


def _load(mapping: dict, name: str, n: ast.Name):
    """What :class:`_Substitution` makes of the template's read ``n`` of ``name``."""
    target = mapping.get(name)
    if target is None:
        return _Name(name, n.ctx)
    if target.__class__ is ast.Name:
        fields = target.__dict__
        if fields.keys() == _ID_AND_CTX:  # no location (the lowering's atoms): what _copy_name makes
            return _Name(fields["id"], fields["ctx"])
        return _copy_name(target)
    return index_value(clone(target))


def _store(mapping: dict, name: str, n: ast.Name):
    """What :class:`_Substitution` makes of the template's write ``n`` of ``name``."""
    target = mapping.get(name)
    if target is None:
        return _Name(name, n.ctx)
    if target.__class__ is not ast.Name:
        raise AssertionError(f"rule assigns to parameter {name}")
    return ast.Name(target.id, ast.Store())


def _copy_name(n: ast.Name) -> ast.Name:
    """``clone(n)`` for a Name (its id and context, and its location where it has one), made directly."""
    new = ast.Name.__new__(ast.Name)
    source, d = n.__dict__, new.__dict__
    d["id"], d["ctx"] = source.get("id"), source.get("ctx")
    for key in _NAME_ATTRIBUTES:
        if key in source:
            d[key] = source[key]
    return new

_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


class _Fold(Transformer):
    """Fold what inlining a literal creates: ``2 - 1`` -> ``1``, ``x ** 1`` -> ``x``.

    ``a * 1`` is left alone: with ``a`` a boolean array it converts to numbers, which later code needs.
    """

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right = node.left, node.right
        lit = lambda n: isinstance(n, ast.Constant) and type(n.value) in (int, float)  # noqa: E731
        if lit(left) and lit(right) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            value = _ARITHMETIC[type(node.op)](left.value, right.value)
            return ast.copy_location(ast.Constant(value), node)
        if isinstance(node.op, ast.Pow) and lit(right) and right.value == 1:
            return left
        return node


class _DecideNoneTests(Transformer):
    """Decide ``1.7 is None`` (an optional parameter given a literal) when the rule is inlined: Python
    warns about ``is`` with a literal, and the generated line reads better without the dead branch."""

    def visit_Compare(self, node):
        self.generic_visit(node)
        if (len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot))
                and _is_literal(node.left) and isinstance(node.comparators[0], ast.Constant)
                and node.comparators[0].value is None):
            same = isinstance(node.left, ast.Constant) and node.left.value is None
            return ast.copy_location(ast.Constant(same if isinstance(node.ops[0], ast.Is) else not same), node)
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant) and type(node.test.value) is bool:
            return node.body if node.test.value else node.orelse
        return node


def _may_decide(node) -> bool:
    return any(isinstance(n, (ast.Compare, ast.IfExp)) for n in ast.walk(node))


def _decide(node, needed: bool):
    return _DecideNoneTests().visit(node) if needed else node


def _is_literal(node) -> bool:
    """A constant, or a signed one: ``-0.25`` is ``UnaryOp(USub, Constant)`` in the AST."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant)


def _fold(node):
    return _Fold().visit(node)
