"""Stage 1 (continued): a δ function and its pullback called inside differentiated code.

Contract: in a function being differentiated, ``y, back = δf(x)`` followed by calls ``back(dy)`` is
lowered as ``y = f(x)`` and ``vjp_f(dy, x)``, where ``vjp_f`` is ``f``'s gradient written as one plain
function (``transform/flat.py``) for the variables ``δf`` differentiates. The arguments are held in fresh
names at the ``δf`` call, so ``back`` sees them as they were then, whatever happens to ``x`` later.
A call of a ``grad(f)`` function becomes ``vjp_f(1.0, x)`` the same way.
Differentiating that code again is reverse over reverse (or forward over reverse, under ``jvp``): the
engine reads ``vjp_f`` like any user function. Anything else done with ``back`` (storing it, returning it,
passing it on) and calling ``δf`` without unpacking its pullback are refused at the user's line.
"""

from __future__ import annotations

import ast
import dataclasses

from .calls import _count_outputs


@dataclasses.dataclass
class PendingPullback:
    """A pullback name bound by ``..., back = δf(...)``: what a later ``back(dy)`` call becomes."""

    primal: object
    wrt: tuple[bool, ...]
    positional: list[str]
    keywords: dict[str, str]
    n_outputs: int


class PullbackLowering:
    """Mixed into :class:`~autodiffsource.frontend.lower.Lowerer`."""

    def delta_function_called(self, value: ast.expr):
        """The δ function ``value`` calls (a ``δf`` stub or compiled δ function), else None."""
        if not isinstance(value, ast.Call) or not isinstance(value.func, (ast.Name, ast.Attribute)):
            return None
        root = value.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or self.is_local(root.id) or root.id in self.inner_functions:
            return None
        try:
            obj = self.resolve(value.func)
        except Exception:  # an unknown name: reported where the call itself is lowered
            return None
        if getattr(obj, "__autodiffsource_primal__", None) is None or not hasattr(obj, "__wrt__"):
            return None
        return obj

    def lower_delta_with_pullback(self, target: ast.Tuple | ast.List, value: ast.Call, delta) -> None:
        """``y..., back = δf(args)``: the primal's outputs now, the pullback's calls later (see the module)."""
        primal, wrt = delta.__autodiffsource_primal__, tuple(delta.__wrt__)
        names = [e.id for e in target.elts]
        n_out = _count_outputs(primal)
        if n_out is None or len(names) != n_out + 1:
            self.unsupported(value, f"unpacking `{ast.unparse(value.func)}(...)` into {len(names)} names; it returns "
                                    f"the {n_out or 'unknown number of'} value(s) of `{primal.__name__}` and then "
                                    "its pullback")
        back = names[-1]
        positional = []
        for i, arg in enumerate(value.args):
            if isinstance(arg, ast.Starred):
                self.unsupported(arg, f"`*args` in a call of `{ast.unparse(value.func)}`")
            positional.append(self.hold_argument(f"{back}_arg{i + 1}", arg))
        keywords = {}
        for kw in value.keywords:
            if kw.arg is None:
                self.unsupported(kw.value, f"`**kwargs` in a call of `{ast.unparse(value.func)}`")
            keywords[kw.arg] = self.hold_argument(f"{back}_{kw.arg}", kw.value)
        primal_name = self.namer.fresh(primal.__name__)
        self.closure[primal_name] = primal
        call = ast.copy_location(ast.Call(
            ast.Name(primal_name, ast.Load()), [ast.Name(n, ast.Load()) for n in positional],
            [ast.keyword(k, ast.Name(n, ast.Load())) for k, n in keywords.items()]), value)
        outputs = ast.Name(names[0], ast.Store()) if n_out == 1 else \
            ast.Tuple([ast.Name(n, ast.Store()) for n in names[:-1]], ast.Store())
        self.assign(ast.copy_location(outputs, target), call)
        self.pending_pullbacks[back] = PendingPullback(primal, wrt, positional, keywords, n_out)
        self.env.pop(back, None)

    def vjp_of_gradient(self, func: ast.Name, gradient) -> str:
        """The bound name of the flat gradient that ``grad(f, argnums)`` computes (seeded with 1.0)."""
        from ..api import _argnums_mask

        fn, argnums = gradient.__autodiffsource_grad_of__
        if not isinstance(argnums, int) and list(argnums) != sorted(argnums):
            self.unsupported(func, f"`{func.id}` (a gradient with argnums {argnums} out of order) inside a "
                                   "function being differentiated; list the argnums in increasing order")
        mask, _ = _argnums_mask(fn, argnums)
        return self.bound_vjp(fn, mask)

    def bound_vjp(self, fn, mask: tuple[bool, ...]) -> str:
        """The name the lowered code calls ``fn``'s flat gradient by (``transform/flat.py``), bound as a
        closure value the first time a call needs it, once per (function, mask)."""
        from ..transform.flat import vjp_function

        key = (fn, tuple(mask))
        if key not in self.bound_vjps:
            self.bound_vjps[key] = name = self.namer.fresh(f"vjp_{fn.__name__}")
            self.closure[name] = vjp_function(fn, tuple(mask))
        return self.bound_vjps[key]

    def hold_argument(self, preferred: str, arg: ast.expr) -> str:
        name = self.namer.fresh(preferred)
        self.assign(ast.copy_location(ast.Name(name, ast.Store()), arg), arg)
        return name

    def gradient_functions_read(self) -> dict[str, object]:
        """Global or closure names this function reads that hold ``grad(f)`` functions (computed once)."""
        if self._gradients_read is None:
            scope = {**self.fn.__globals__, **self.closure}
            self._gradients_read = {n: scope[n] for n in self.loads
                                    if getattr(scope.get(n), "__autodiffsource_grad_of__", None) is not None}
        return self._gradients_read

    def with_pullback_calls(self, node: ast.AST) -> ast.AST:
        """``node`` with each ``back(dy)`` of a pending pullback replaced by its ``vjp_f(dy, args)`` call,
        and each call of a ``grad(f)`` function by ``vjp_f(1.0, args)``."""
        gradients = self.gradient_functions_read()
        if not self.pending_pullbacks and not gradients:
            return node
        pending, lowerer = self.pending_pullbacks, self

        class Replace(ast.NodeTransformer):
            def visit_Call(self, call: ast.Call):
                if isinstance(call.func, ast.Name) and call.func.id in pending:
                    call.args = [self.visit(a) for a in call.args]
                    call.keywords = [self.visit(k) for k in call.keywords]
                    p = pending[call.func.id]
                    cotangents = list(call.args)
                    if not cotangents and not call.keywords and p.n_outputs == 1:
                        cotangents = [ast.Constant(None)]  # back() seeds with ones, as the pullback does
                    return ast.copy_location(ast.Call(
                        ast.Name(lowerer.bound_vjp(p.primal, p.wrt), ast.Load()),
                        cotangents + [ast.Name(n, ast.Load()) for n in p.positional],
                        list(call.keywords) + [ast.keyword(k, ast.Name(n, ast.Load())) for k, n in p.keywords.items()]),
                        call)
                self.generic_visit(call)
                if isinstance(call.func, ast.Name) and call.func.id in gradients and not lowerer.is_local(call.func.id):
                    vjp_name = lowerer.vjp_of_gradient(call.func, gradients[call.func.id])
                    return ast.copy_location(ast.Call(ast.Name(vjp_name, ast.Load()),
                                                      [ast.Constant(1.0)] + call.args, call.keywords), call)
                return call

            def visit_Name(self, name: ast.Name):
                if name.id in pending and isinstance(name.ctx, ast.Load):
                    lowerer.unsupported(name, f"using the pullback `{name.id}` other than calling it "
                                              f"(`{name.id}(dy)`) inside a function being differentiated")
                return name

        return Replace().visit(node)
