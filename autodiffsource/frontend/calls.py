"""Stage 1 (continued): calls inside a δ function, classified and lowered.

Contract: every call is classified now, against the function's globals, closure cells and builtins, in
the seed's order: a user rule ``δname`` beside the caller, a library rule, a function with readable
source (differentiated recursively, for this call's activity), a declared constant, else a
:class:`MissingRuleError` at the call site with a stub to paste. Functions of covered libraries (NumPy's
own Python functions included) are never differentiated through their source.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import types

from ..errors import MissingRuleError, UnsupportedSyntaxError
from ..ir import DeltaCall, PackOp, PrimOp
from ..rules.registry import REGISTRY, Rule
from .functions import is_user_method
from .frozen import is_distribution
from .normalize import count_outputs, own_nodes

_MISSING = object()


class CallLowering:
    """Mixed into :class:`~autodiffsource.frontend.lower.Lowerer`."""

    def call_kind(self, node: ast.Call):
        """Classify a call: ("rule", Rule, receiver) · ("delta", callable, n_outputs, ...) · ("nondiff",)."""
        func = node.func
        if isinstance(func, ast.Lambda):  # called where it is written: inlined as a named one is
            return ("inline", func)
        key, root = _dotted(func)
        if root is not None and root not in self.local_names and not (func.__class__ is ast.Name
                                                                      and root in self.inner_functions):
            # A global or closure name, or an attribute of one (`np.tanh`): what the checks below
            # would find, asked of this callee before.
            kind = self.call_kinds.get(key)
            if kind is not None:
                return kind
        if isinstance(func, ast.Attribute) and _root(func) is None and self.is_active(func.value):
            # A method of a differentiated expression: (x * y).sum(), np.mean(x, axis=1).max().
            return _array_method(func)
        if isinstance(func, ast.Attribute) and self.is_local(_root(func)):
            root = _root(func)
            if isinstance(func.value, ast.Name) and func.value.id in self.env and self.env[func.value.id] in self.active:
                # A method of a differentiated array: x.sum(axis=0).
                if func.attr in REGISTRY.nondiff_methods:
                    return ("nondiff",)
                rule = REGISTRY.by_method.get(func.attr)
                if rule is None:
                    return ("missing_method", func.attr)
                return ("rule", rule, func.value)
            if isinstance(func.value, ast.Name) and not self.is_namespace_variable(func.value.id):
                return ("method",)  # a method of a constant object: model.forward(x)
            if self.is_active(func.value):
                return _array_method(func)  # of a differentiated attribute: x.T.reshape(-1)
            if self.is_namespace_variable(root) and _attribute_path(func) is not None:
                # A run-time array namespace (xp = array_namespace(x)): xp.exp -> the rule for np.exp,
                # xp.linalg.vector_norm -> np.linalg.vector_norm's.
                import numpy as np

                obj, path = np, _attribute_path(func)
                for attr in path:
                    obj = getattr(obj, attr, _MISSING)
                if obj is _MISSING:
                    rule = REGISTRY.by_array_api_name.get(".".join(path))
                    return ("rule", rule, None) if rule else ("missing", ".".join(path), None)
                return self.classify_object(obj, func, node)
            if any(self.is_active(a) for a in node.args) or any(self.is_active(k.value) for k in node.keywords):
                # A method of a constant object's part given differentiated values (model.layer.forward(x),
                # self.dist.logpdf(x)): differentiated as `model.forward(x)` is, or refused there. Never a
                # constant where its result is used: it depends on them ("part": a statement that drops the
                # result, `self.losses.append(loss)`, runs as written).
                return ("method", "part")
            return ("nondiff",)
        if isinstance(func, ast.Name) and func.id in self.inner_functions:
            return ("inline", self.inner_functions[func.id])
        if isinstance(func, ast.Name) and self.is_local(func.id):
            self.unsupported(func, "calling a function held in a local variable; call it by its own name, "
                                   "or define it inside this function")
        obj = self.resolve(func)
        if is_user_method(obj) and not _library_function(obj.__func__):
            kind = ("method",)
        else:
            kind = self.classify_object(obj, func, node)
        if key is not None and kind[0] != "inline" and not (kind[0] == "delta" and kind[3]):
            # What a global or closure name refers to, and its rule, stay put while a function is
            # lowered: asked again for the same callee (`np.tanh` on each line; a call's activity, then
            # its lowering), the answer is kept. (It names no node: a call site's errors are raised, not
            # kept. Whether a user function is inlined depends on the helpers being inlined around it.)
            self.call_kinds[key] = kind
        return kind

    def classify_object(self, obj, func: ast.expr, node: ast.Call):
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "f")
        user_rule = self.user_rule(func, name)
        library_rule = getattr(user_rule, "__autodiffsource_rule__", None)
        if library_rule is not None:
            # A library rule reached by the δname convention (``special.δstdtr`` in generated jvp code,
            # rules/forward.py's SPECIAL_WITH_RULES): the rule itself, inlined, so that only the partials of
            # differentiated arguments are computed (a partial without closed form raises when computed).
            return ("rule", library_rule, None)
        if user_rule is not None:
            # Outputs as the primal's source returns them (None when unknown: one, where it matters).
            n = _count_outputs(obj) if isinstance(obj, types.FunctionType) else None
            return ("delta", user_rule, n, False)
        if getattr(obj, "__autodiffsource_primal__", None) is not None:
            # δf returns values *and* a pullback: only `y, back = δf(x)` has a meaning here (pullbacks.py).
            self.unsupported(node, f"calling `{name}` here without unpacking its pullback; write "
                                   f"`y, back = {name}(...)` and call `back(dy)`, or call the function itself")
        rule = REGISTRY.rule_for(obj)
        if rule is not None:
            return ("rule", rule, None)
        if REGISTRY.is_nondiff(obj) or isinstance(obj, type) and obj in (int, bool, range):
            return ("nondiff",)
        if isinstance(obj, types.FunctionType) and obj.__name__ != "<lambda>" and not _library_function(obj):
            definition = self.inlinable(obj)
            if definition is not None:  # a small helper of this module: its body in place, like an inner def
                return ("inline", definition)
            n = _count_outputs(obj)
            return ("delta", obj, n, True)
        return ("missing", name, obj)

    def user_rule(self, func: ast.expr, name: str):
        """The seed's convention: a callable ``δname`` beside the caller (or beside a module attribute)."""
        delta_name = "δ" + name
        if isinstance(func, ast.Attribute):
            try:
                owner = self.resolve(func.value)
            except UnsupportedSyntaxError:
                owner = None
            candidate = getattr(owner, delta_name, None) if isinstance(owner, types.ModuleType) else None
        else:
            candidate = self.closure.get(delta_name, self.fn.__globals__.get(delta_name))
        if candidate is None or not callable(candidate):
            return None
        if getattr(candidate, "__autodiffsource_primal__", None) is not None:
            return None  # one of ours: differentiate the primal for this call's activity instead
        return candidate

    def lower_call(self, node: ast.Call, n_outputs: int, names: list[str] | None = None,
                   known_args: list[bool] | None = None) -> list[str]:
        """``known_args``: the activity of the first positional arguments, where the caller just asked."""
        kind = self.call_kind(node)
        if kind[0] == "missing_method":
            receiver = node.func.value
            if isinstance(receiver, ast.Call) and (made := self.call_kind(receiver))[0] == "missing":
                node, kind = receiver, made  # `Model(W).loss(X)`: what has no rule is `Model(W)`
            else:
                self.missing(node.func, f"the array method `.{kind[1]}()`", kind[1], ["x"])
        if kind[0] == "missing":
            if isinstance(kind[2], type) and not _library_function(kind[2]):
                # An object of the user's class holding a differentiated value: its attributes would carry
                # the derivative through code autodiffsource cannot see. A δname rule does not help here.
                name = _callee_text(node.func)
                raise MissingRuleError(
                    f"no derivative rule for making an object of the class `{name}` from a differentiated "
                    f"value (called in `{self.node.name}`)", self.pf.loc(node),
                    hint=f"Make the object outside the differentiated function (its attributes are then "
                         f"constants) and pass the arrays you differentiate to its methods as arguments: "
                         f"`model = {name}(...)` once, then `model.loss(W, X)` inside.")
            if is_distribution(kind[2]):
                name = _callee_text(node.func)
                raise MissingRuleError(
                    f"no derivative rule for a frozen distribution `{name}(...)` of differentiated parameters "
                    f"held as an object (called in `{self.node.name}`)", self.pf.loc(node),
                    hint=f"Only call its methods (`d = {name}(mu, s)`, then `d.logpdf(x)`, `d.cdf(x)`...: "
                         f"autodiffsource then calls `{name}.logpdf(x, mu, s)`), or call those directly.")
            advice = next((hint for f, hint in _ITERATOR_ADVICE if kind[2] is f), None)
            if advice is not None:  # a lazy iterator over differentiated values: what to write instead
                raise MissingRuleError(f"no derivative rule for `{_callee_text(node.func)}` of differentiated "
                                       f"values here (called in `{self.node.name}`)", self.pf.loc(node),
                                       hint=advice)
            self.missing(node, f"`{_callee_text(node.func)}`", kind[1], _param_names(kind[2], node))
        if kind[0] == "nondiff":
            raise AssertionError("constant calls are lowered as plain expressions")
        if kind[0] == "inline":
            return self.lower_inline_call(node, kind[1], n_outputs, names)
        if kind[0] == "method":
            return self.lower_method_call(node, n_outputs, names)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.unsupported(arg, "`*args` in a call on differentiated values")
        for kw in node.keywords:
            if kw.arg is None:
                self.unsupported(kw.value, "`**kwargs` in a call on differentiated values")
        if kind[0] == "rule":
            rule, receiver = kind[1], kind[2]
            positional = ([receiver] if receiver is not None else []) + list(node.args)
            if receiver is not None and node.func.attr in ("reshape", "transpose") and len(node.args) > 1:
                positional = [receiver, ast.Tuple(list(node.args), ast.Load())]  # x.reshape(3, 4)
            elif rule.delta.__name__ == "δreshape" and len(positional) == 2 and _int_literal(positional[1]):
                # x.reshape(-1), np.reshape(x, 6): NumPy takes an int, the array API's reshape a tuple only
                positional = [positional[0], ast.Tuple([positional[1]], ast.Load())]
            known = known_args if receiver is None else None  # (positional: the call's own arguments)
            if receiver is None and positional and rule.name in _LISTING and rule in _listing_rules():
                if len(positional) > 1:  # (sorted's rule has key and reverse as parameters: Python's keywords)
                    self.unsupported(positional[1], f"a second positional argument to `{rule.name}`; write "
                                                    f"`key=` and `reverse=` as keywords, as Python requires")
                listed = self.listed_iteration(positional[0])
                if listed is not None:  # list(zip(a, b)): the list of the tuples it yields
                    positional[0], known = listed, None
            keywords = node.keywords
            if any(k.arg == "key" and isinstance(k.value, ast.Name) and k.value.id in self.inner_functions
                   for k in keywords):
                keywords = [self.key_function(k) for k in keywords]
            args = self.bind_rule_args(rule, positional, keywords, node, known)
            if n_outputs == 1 and rule.outputs > 1:
                return [self.pack_results(rule, args)]
            if n_outputs != rule.outputs:
                self.unsupported(node, f"using {n_outputs} value(s) of `{rule.name}`, which returns "
                                       f"{rule.outputs}; unpack all of them (`a, b = ...`)")
            if n_outputs == 1:
                return [self.prim(rule, args).id]
            return self.emit_outputs(PrimOp(rule, args), n_outputs, names)
        _, delta, known_outputs, ours = kind
        return self.lower_delta_call(node, delta, known_outputs, ours, n_outputs, names)

    def key_function(self, keyword: ast.keyword) -> ast.keyword:
        """``key=k`` where ``k`` is an inner function, which exists only inlined where it is called: a lambda's
        own text in its place (called by the generated code as Python calls it), a ``def`` refused."""
        if keyword.arg != "key" or not isinstance(keyword.value, ast.Name) or \
                keyword.value.id not in self.inner_functions:
            return keyword
        inner = self.inner_functions[keyword.value.id]
        if not isinstance(inner, ast.Lambda):
            self.unsupported(keyword.value, f"the inner function `{keyword.value.id}` as `key=`: inner functions "
                                            f"exist only where they are called; write the key in the call as a "
                                            f"lambda (`key=lambda v: ...`), or define it at module level")
        return ast.copy_location(ast.keyword("key", inner), keyword)

    def listed_iteration(self, node: ast.expr) -> ast.ListComp | None:
        """``zip(a, b)``, ``enumerate(xs)`` (``enumerate(zip(a, b))``) of differentiated values, where
        ``list``/``tuple``/``sorted`` takes it, as the list comprehension of the tuples it yields,
        ``[(a_i, b_i) for a_i, b_i in zip(a, b)]``: lowered like a ``for`` loop over it, each item's cotangent
        flowing back into its sequence. None for anything else."""
        target = self.iteration_target(node)
        if target is None or not self.is_active(node):
            return None
        comp = ast.ListComp(_loaded(target), [ast.comprehension(target, node, [], 0)])
        for sub in ast.walk(comp):
            if isinstance(sub, (ast.expr, ast.comprehension)) and not hasattr(sub, "lineno"):
                ast.copy_location(sub, node)
        return comp

    def iteration_target(self, node: ast.expr) -> ast.Tuple | None:
        """The target a ``for`` over the builtin ``zip(...)`` or ``enumerate(...)`` call ``node`` unpacks its items
        into (fresh names; ``(i, (a, b))`` for ``enumerate(zip(a, b))``), None for any other expression."""
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not self.is_local(node.func.id)
                and node.func.id not in self.inner_functions):
            return None
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return None
        callee = self.resolve(node.func)
        if callee is builtins.zip and node.args and not node.keywords:
            return ast.Tuple([ast.Name(self.namer.fresh("_zipped"), ast.Store()) for _ in node.args], ast.Store())
        if callee is builtins.enumerate and 1 <= len(node.args) <= 2 - len(node.keywords) \
                and all(k.arg == "start" for k in node.keywords):
            inner = self.iteration_target(node.args[0])
            item = inner if inner is not None else ast.Name(self.namer.fresh("_item"), ast.Store())
            return ast.Tuple([ast.Name(self.namer.fresh("_count"), ast.Store()), item], ast.Store())
        return None

    def pack_results(self, rule: Rule, args: dict[str, ast.expr]) -> str:
        """The results of a rule that returns several, taken as one value (``factor = cho_factor(a)``, then
        ``cho_solve(factor, b)``): a tuple of them, as Python holds them, made like a tuple literal."""
        results = [ast.Name(t, ast.Load()) for t in self.emit_outputs(PrimOp(rule, args), rule.outputs, None)]
        name = self.temp()
        self.emit([name], PackOp("tuple", results), [True])
        self.packed.add(name)
        return name

    def bind_rule_args(self, rule: Rule, positional, keywords, node, known: list | None = None) -> dict[str, ast.expr]:
        """``known``: the activity of the first positional arguments, where the caller knows it."""
        template, params, required, takes_sequences = _rule_signature(rule)
        if len(positional) > len(params):
            self.unsupported(node, f"{len(positional)} positional arguments to `{rule.name}` (its rule takes "
                                   f"{len(params)})")
        args = {}
        for i, (p, a) in enumerate(zip(params, positional)):
            if p == "index" and p in rule.static:
                args[p] = self.index_atoms(a)
            else:
                args[p] = self.atom(a, active=known[i] if known is not None and i < len(known) else None)
        for kw in keywords:
            if kw.arg not in params:
                self.unsupported(kw.value, f"the keyword `{kw.arg}=` of `{rule.name}` (its rule supports "
                                           f"{', '.join(params)})")
            args[kw.arg] = self.atom(kw.value)
        for p in required:  # a required argument left out: say so here, not as a KeyError in inlining
            if p not in args:
                self.unsupported(node, f"a call of `{rule.name}` without its argument `{p}`")
        for p in rule.static:
            if p in args and self.is_active_atom(args[p]):
                self.unsupported(node, f"a differentiated value as `{p}` of `{rule.name}`")
        if not takes_sequences and self.packed:
            # NumPy turns a list or tuple argument into an array first; so does the generated code.
            for p, a in args.items():
                if isinstance(a, ast.Name) and a.id in self.packed and p not in rule.static:
                    args[p] = self.prim(REGISTRY.rule_for(np_asarray()), {"x": a})
        return args

    def lower_delta_call(self, node, delta, known_outputs, ours, n_outputs, names) -> list[str]:
        args = [self.atom(a) for a in node.args]
        kwargs = {kw.arg: self.atom(kw.value) for kw in node.keywords}
        if ours:
            fn = delta
            try:
                bound = inspect.signature(fn).bind(*args, **kwargs)
            except TypeError as err:
                self.unsupported(node, f"this call of `{fn.__name__}` ({err})")
            mask, extra = [], []
            for p in inspect.signature(fn).parameters.values():
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                    mask.append(p.name in bound.arguments and self.is_active_atom(bound.arguments[p.name]))
                elif p.kind is p.VAR_POSITIONAL:
                    extra = list(bound.arguments.get(p.name, ()))  # each one an input of its own (varargs.py)
                elif p.kind is p.KEYWORD_ONLY and p.name in bound.arguments and self.is_active_atom(bound.arguments[p.name]):
                    self.unsupported(node, f"differentiating through the keyword-only `{p.name}` of `{fn.__name__}`")
            mask += [self.is_active_atom(a) for a in extra]
            if known_outputs is not None and known_outputs != n_outputs:
                self.unsupported(node, f"`{fn.__name__}` returns {known_outputs} value(s) but {n_outputs} are "
                                       "used here")
            callable_, _ = self.resolve_delta(fn, tuple(mask))
            active_positional = [bound.arguments.get(p) for p, m in zip(_positional_names(fn), mask) if m]
            active_positional += [a for a in extra if self.is_active_atom(a)]
            call = DeltaCall(fn.__name__, callable_, args, kwargs, list(mask), True)
            call.partial_atoms = active_positional
        else:
            if any(self.is_active_atom(v) for v in kwargs.values()):
                self.unsupported(node, "a differentiated keyword argument to a custom rule")
            call = DeltaCall(getattr(delta, "__name__", "rule"), delta, args, kwargs,
                             [self.is_active_atom(a) for a in args], False)
            call.partial_atoms = list(args)
        return self.emit_outputs(call, n_outputs, names)

    def resolve(self, node: ast.expr):
        """The object a non-local name or attribute chain refers to at transform time."""
        if isinstance(node, ast.Attribute):
            owner = self.resolve(node.value)
            try:
                return getattr(owner, node.attr)
            except AttributeError:
                self.unsupported(node, f"`{ast.unparse(node)}`, which does not exist")
        if isinstance(node, ast.Name):
            name = node.id
            if name in self.closure:
                return self.closure[name]
            g = self.fn.__globals__
            if name in g:
                return g[name]
            b = g.get("__builtins__", builtins)
            b = b if isinstance(b, dict) else vars(b)
            if name in b:
                return b[name]
            self.unsupported(node, f"the name `{name}`, which is not defined")
        self.unsupported(node, "calling the result of an expression")


# Functions from these packages are never differentiated through their Python source (NumPy's own
# `np.average` is Python): either a rule covers them, or they are declared constant, or refused.
_COVERED_PACKAGES = ("numpy", "scipy", "math", "builtins", "operator", "torch", "jax", "cupy", "dask",
                     "array_api_compat", "array_api_strict", "autodiffsource")
# ...except modules of this package that are user code: the demo's model is differentiated like yours.
_USER_CODE_MODULES = ("autodiffsource.demo",)




# Builtins that make lazy iterators, which have no rule: where their items are differentiated, what to write.
_ITERATOR_ADVICE = (
    (builtins.zip, "Iterate over it where it is written (`for a, b in zip(xs, ys)`, a comprehension), or take "
                   "`list(zip(xs, ys))` (also `tuple(...)`, `sorted(...)`), a list of its tuples."),
    (builtins.enumerate, "Iterate over it where it is written (`for i, v in enumerate(xs)`, a comprehension), "
                         "or take `list(enumerate(xs))`, a list of its pairs."),
    (builtins.map, "Write a list comprehension instead: `[f(v) for v in xs]`."),
    (builtins.filter, "Write a list comprehension with a condition instead: `[v for v in xs if keep(v)]`."),
    (builtins.iter, "Iterate over the list or array itself, or index it: `xs[0]`, `xs[1:]`."),
)


_LISTING = ("list", "tuple", "sorted")


def _listing_rules() -> tuple:
    """The rules of the builtins that take the list of what a ``zip(...)`` or ``enumerate(...)`` yields
    (CallLowering.listed_iteration): ``list``, ``tuple``, ``sorted``."""
    return tuple(REGISTRY.rule_for(f) for f in (builtins.list, builtins.tuple, builtins.sorted))


def _loaded(target: ast.expr) -> ast.expr:
    """A loop target read back as an expression: ``(a, (b, c))`` -> the same tuples, loaded."""
    if isinstance(target, ast.Tuple):
        return ast.Tuple([_loaded(e) for e in target.elts], ast.Load())
    return ast.Name(target.id, ast.Load())


def _array_method(func: ast.Attribute) -> tuple:
    """The kind of a call of the method ``func.attr`` of the differentiated value ``func.value``: its rule by
    the method's name, with the value as receiver."""
    if func.attr in REGISTRY.nondiff_methods:
        return ("nondiff",)
    rule = REGISTRY.by_method.get(func.attr)
    return ("rule", rule, func.value) if rule is not None else ("missing_method", func.attr)


def _library_function(fn) -> bool:
    module = getattr(fn, "__module__", None) or ""
    return module.split(".")[0] in _COVERED_PACKAGES and module not in _USER_CODE_MODULES


def np_asarray():
    import numpy

    return numpy.asarray


_signatures: dict[int, tuple] = {}  # id(rule) -> _rule_signature(rule); rules live as long as the registry


def _rule_signature(rule: Rule) -> tuple:
    """``(template, parameter names, required parameters, takes lists as they are)`` of a rule (template:
    None when its rule is called, not inlined; then no parameter is checked as required), worked out once
    per rule."""
    found = _signatures.get(id(rule))
    if found is None or found[0] is not rule:
        from ..transform.inline import template_for

        template = template_for(rule)
        params = template.params if template is not None else list(inspect.signature(rule.delta).parameters)
        required = [p for p in params if p not in template.defaults] if template is not None else []
        found = _signatures[id(rule)] = (rule, template, params, required, rule.sequences)
    return found[1:]


def _dotted(node: ast.expr) -> tuple[tuple | None, str | None]:
    """``(("norm", "linalg", "np"), "np")`` for ``np.linalg.norm``, a chain of attributes of a name (or
    ``((name,), name)`` for the name), else ``(None, None)``: a key for the callee, and its root."""
    parts = []
    while node.__class__ is ast.Attribute:
        parts.append(node.attr)
        node = node.value
    if node.__class__ is not ast.Name:
        return None, None
    parts.append(node.id)
    return tuple(parts), node.id


def _attribute_path(func: ast.Attribute) -> list[str] | None:
    """The attributes after the root name of ``root.a.b`` (``["a", "b"]``); None if not a plain chain."""
    path = []
    while func.__class__ is ast.Attribute:
        path.append(func.attr)
        func = func.value
    return path[::-1] if func.__class__ is ast.Name else None


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _callee_text(func: ast.expr) -> str:
    return ast.unparse(func)


def _param_names(obj, node: ast.Call) -> list[str]:
    try:
        return [p for p in inspect.signature(obj).parameters][: max(1, len(node.args))]
    except (TypeError, ValueError):
        return [f"x{i + 1}" for i in range(max(1, len(node.args)))] if len(node.args) > 1 else ["x"]


def _positional_names(fn) -> list[str]:
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _count_outputs(fn) -> int | None:
    """How many values ``fn`` returns, read from its last ``return`` statement (None if unknown)."""
    from ..source import parse_function
    from ..errors import NoSourceError

    try:
        node = parse_function(fn).node
    except NoSourceError:
        return None
    if not any(isinstance(n, ast.Return) and n.value is not None for n in own_nodes(node.body)):
        return None
    return count_outputs(node.body)


def _int_literal(node: ast.expr) -> bool:
    """``6``, ``-1``: an int written in the source."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int
