"""Stage 1 (continued): functions inside functions, and methods of user objects.

Contract:

* An inner ``def`` or a ``lambda`` bound to a name inside a δ function is *inlined* at each call:
  its body is lowered in place with its own names renamed (``g``'s local ``t`` becomes ``g_t``), its
  parameters bound to the call's atoms, and its free variables read from the enclosing function as
  they are at the call, which is when Python's closures read them too. Recursion of an inner function
  is refused; recursion of module-level functions goes through their δ functions.
* A small module-level function of the same module (straight-line assignments and a ``return``, no
  closure, no defaults, free names that are globals of that module and no local name of the caller)
  is inlined the same way: a call through its δ function costs a closure, a namespace lookup, a seed
  and a finalize per call, which on W2's sigmoid layers was a few percent of the gradient (issue 6).
  Anything else, and recursion, goes through the function's δ function.
* A method call on a constant object (``model.forward(x)``, ``self.layer(h)``) is dispatched at run
  time: the method's function is differentiated with ``self`` constant (``runtime.method_delta``).
"""

from __future__ import annotations

import ast
import copy
import types

from ..astutil import fix_missing_locations
from ..ir import DeltaCall, PlainOp
from .normalize import count_outputs, normalize

_NAMESPACE_FACTORIES = {"array_namespace", "get_namespace", "__array_namespace__"}
_INLINE_STATEMENTS = 6  # module-level helpers longer than this are called through their δ function
_INLINE_DEPTH = 3  # helpers inlined inside helpers, at most this deep
_NOT_INLINED = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr, ast.Yield,
                ast.YieldFrom, ast.Await, ast.Starred, ast.Global, ast.Nonlocal)


class FunctionLowering:
    """Mixed into :class:`~autodiffsource.frontend.lower.Lowerer`."""

    # ---- inner functions -------------------------------------------------------------------------

    def define_inner(self, name: str, node: ast.FunctionDef | ast.Lambda) -> None:
        a = node.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
            self.unsupported(node, "an inner function with *args, **kwargs or keyword-only parameters")
        for sub in ast.walk(node):
            if isinstance(sub, (ast.Nonlocal, ast.Global)):
                self.unsupported(sub, "`nonlocal`/`global` in an inner function")
        if name in self.inner_functions:
            # Which definition a call sees would depend on the path taken; inlining cannot follow that.
            self.unsupported(node, f"a second definition of the inner function `{name}`; give each its own name")
        self.inner_functions[name] = node

    def inner_is_active(self, node: ast.Call, inner) -> bool:
        """A call of an inner function carries derivatives if an argument or a free variable does."""
        if any(self.is_active(a) for a in node.args) or any(self.is_active(k.value) for k in node.keywords):
            return True
        params = {a.arg for a in inner.args.args}
        body = inner.body if isinstance(inner, ast.FunctionDef) else [inner.body]
        stored = {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        free = {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        free -= params | stored
        return any(self.env.get(v) in self.active for v in free)

    def lower_inline_call(self, node: ast.Call, inner, n_outputs: int, names: list[str] | None) -> list[str]:
        fname = getattr(inner, "name", "lambda")
        if id(inner) in self.inlining:
            self.unsupported(node, f"recursion of the inner function `{fname}`; define it at module level "
                                   "to recurse")
        if isinstance(inner, ast.Lambda):
            body = [ast.copy_location(ast.Return(inner.body), inner.body)]
        else:
            body = [s for s in inner.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        params = [a.arg for a in inner.args.args]
        stored = {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        renames = {v: self.namer.fresh(f"{fname}_{v}") for v in sorted(set(params) | stored)}
        self.local_names.update(renames.values())
        body = [_rename_all(copy.deepcopy(s), renames) for s in body]
        body = normalize(body, self.namer, count_outputs(body))
        # Parameters: positional, keyword, then defaults (evaluated here, as constants of the call).
        defaults = dict(zip(params[len(params) - len(inner.args.defaults):], inner.args.defaults))
        given = {p: a for p, a in zip(params, node.args)}
        if len(node.args) > len(params):
            self.unsupported(node, f"{len(node.args)} arguments to `{fname}`, which takes {len(params)}")
        for kw in node.keywords:
            if kw.arg not in params:
                self.unsupported(kw.value, f"the keyword `{kw.arg}=` of `{fname}`")
            given[kw.arg] = kw.value
        atoms = {}
        for p in params:
            if p not in given and p not in defaults:
                self.unsupported(node, f"a call of `{fname}` without its argument `{p}`")
            atoms[p] = self.atom(given.get(p, defaults.get(p)))
        for p in params:
            self.bind_atom(renames[p], atoms[p])
        self.inlining.add(id(inner))
        try:
            ret = None
            for stmt in body:
                self.loc = self.pf.loc(stmt)
                if isinstance(stmt, ast.Return):
                    ret = stmt
                    break
                self.lower_stmt(stmt)
            if ret is None or ret.value is None:
                self.unsupported(inner, f"the inner function `{fname}` returns nothing")
            values = ret.value.elts if isinstance(ret.value, ast.Tuple) and n_outputs > 1 else [ret.value]
            if len(values) != n_outputs:
                self.unsupported(node, f"`{fname}` returns {len(values)} value(s), {n_outputs} used here")
            results = [self.atom(v) for v in values]
        finally:
            self.inlining.discard(id(inner))
        targets = []
        for atom in results:
            if isinstance(atom, ast.Name):
                targets.append(atom.id)
            else:
                name = self.temp()
                self.emit([name], PlainOp(atom), [False])
                targets.append(name)
        if names is not None:
            for name, t in zip(names, targets, strict=True):
                self.bind_atom(name, ast.Name(t, ast.Load()))
        return targets

    # ---- small module-level functions ----------------------------------------------------------------

    def inlinable(self, fn) -> ast.FunctionDef | None:
        """``fn``'s definition when a call of it here can be inlined (see the module doc), else None."""
        cache = self.__dict__.setdefault("_inlinable", {})
        if fn not in cache:
            cache[fn] = self._inline_definition(fn)
        node = cache[fn]
        if node is None or id(node) in self.inlining or len(self.inlining) >= _INLINE_DEPTH:
            return None  # recursion, or deep chains of helpers: through the δ function
        return node

    def _inline_definition(self, fn) -> ast.FunctionDef | None:
        from ..errors import NoSourceError
        from ..source import parse_function

        if fn is self.fn or fn.__closure__ or fn.__globals__ is not self.fn.__globals__ or fn.__defaults__ \
                or fn.__kwdefaults__:
            return None
        try:
            pf = parse_function(fn)
        except (NoSourceError, SyntaxError):
            return None
        node = pf.node
        a = node.args
        if pf.file != self.pf.file or a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs or a.defaults:
            return None
        body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        if not body or len(body) > _INLINE_STATEMENTS or not isinstance(body[-1], ast.Return) \
                or body[-1].value is None:
            return None
        if not all(isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
                   for s in body[:-1]):
            return None
        if any(isinstance(n, _NOT_INLINED) for s in body for n in ast.walk(s)):
            return None
        params = {p.arg for p in a.args}
        stored = {s.targets[0].id for s in body[:-1]}
        free = {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name)} - params - stored
        # A free name is a global of fn's module; in the caller it must mean the same global.
        if free & (set(self.local_names) | set(self.closure) | set(self.inner_functions) | {"xp"}):
            return None
        return node

    # ---- methods of user objects ---------------------------------------------------------------------

    def is_namespace_variable(self, name: str) -> bool:
        return name in self.namespace_vars or name == "xp"

    def note_assignment(self, name: str, value: ast.expr) -> None:
        """Remember locals that hold an array namespace (``xp = array_namespace(x)``)."""
        if isinstance(value, ast.Call):
            func = value.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in _NAMESPACE_FACTORIES:
                self.namespace_vars.add(name)

    def lower_method_call(self, node: ast.Call, n_outputs: int, names: list[str] | None) -> list[str]:
        for a in node.args:
            if a.__class__ is ast.Starred:
                self.unsupported(a, "`*args` in a method call on differentiated values; pass the "
                                    "arguments one by one")
        if any(kw.arg is None for kw in node.keywords):
            self.unsupported(node, "`**kwargs` in a method call on differentiated values")
        args = [self.atom(a) for a in node.args]
        kwargs = {kw.arg: self.atom(kw.value) for kw in node.keywords}
        if any(self.is_active_atom(v) for v in kwargs.values()):
            self.unsupported(node, "a differentiated keyword argument to a method")
        mask = [self.is_active_atom(a) for a in args]
        method = self.rename(node.func)
        call = DeltaCall(ast.unparse(node.func), None, args, kwargs, mask, True)
        call.method = method
        call.partial_atoms = [a for a, m in zip(args, mask) if m]
        return self.emit_outputs(call, n_outputs, names)


def is_user_method(obj) -> bool:
    """A bound method whose function has Python source we may differentiate."""
    return isinstance(obj, types.MethodType) and isinstance(obj.__func__, types.FunctionType)


class _Rename(ast.NodeTransformer):
    # At module level: a class made per call is a reference cycle left to the garbage collector.
    def __init__(self, renames: dict[str, str]):
        self.renames = renames

    def visit_Name(self, n):
        if n.id in self.renames:
            return ast.copy_location(ast.Name(self.renames[n.id], n.ctx), n)
        return n

    def visit_Lambda(self, n):
        return n  # a nested lambda keeps its own names


def _rename_all(node, renames: dict[str, str]):
    return fix_missing_locations(_Rename(renames).visit(node))
