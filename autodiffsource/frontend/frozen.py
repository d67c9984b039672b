"""Stage 1, before lowering: SciPy's frozen distributions as calls of the distribution's own methods.

Contract: :func:`unfreeze` returns ``pf`` itself, or a copy of it whose tree (the original is not changed)
calls the distribution's methods with the frozen parameters written out, computing the same values:

* ``stats.norm(mu, s).logpdf(x)``  ->  ``stats.norm.logpdf(x, mu, s)``;
* ``d = stats.norm(mu, scale=s)`` ... ``d.logpdf(x)``  ->  ``d_loc = mu; d_scale = s`` ...
  ``stats.norm.logpdf(x, d_loc, scale=d_scale)``, where ``d`` is bound by that one assignment and read only
  to call the methods below (otherwise ``d`` is left as written: a distribution made of constants is a
  constant). Each parameter gets a name of its own (SciPy's name for it after ``d_``, made unique), so
  that each is differentiated only where it depends on a differentiated input;
* ``prior.logpdf(x)``, with ``prior`` a frozen distribution of the module or a closure  ->
  ``prior.dist.logpdf(x, prior.args[0], scale=prior.kwds['scale'])``, read when the code runs.

A frozen method is its distribution's method with the frozen arguments after its own
(``dist(*a, **k).m(*b, **l)`` is ``dist.m(*b, *a, **l, **k)``, as SciPy writes them) for the methods in
:data:`METHODS`; the rules of those methods (rules/scipy_stats.py) then differentiate them, in the frozen
parameters too. Calls with ``*`` or ``**`` arguments, and other methods (``rvs``: its ``size`` comes first),
are left as written. Rewritten nodes keep the locations of the user's code they stand for.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import sys

from ..source import ParsedFunction

# The methods whose frozen form takes its own arguments first, then the distribution's parameters.
METHODS = frozenset({"pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "pmf", "logpmf", "ppf", "isf", "mean",
                     "median", "var", "std", "entropy", "moment", "interval", "support"})


def unfreeze(pf: ParsedFunction, closure: dict) -> ParsedFunction:
    """``pf``, or a copy calling distributions' methods where it called frozen distributions' (module doc)."""
    kinds = _distribution_classes()
    if kinds is None:  # (nothing can have made a frozen distribution before scipy.stats was imported)
        return pf
    if not _method_calls(pf.node):
        return pf
    tree = copy.deepcopy(pf.node)  # (planned on the copy it rewrites: the plan names its nodes)
    rewriter = _Unfreezer(pf, tree, closure, kinds)
    if not rewriter.plan(_method_calls(tree)):
        return pf
    tree = rewriter.visit(tree)
    ast.fix_missing_locations(tree)
    return dataclasses.replace(pf, node=tree)


def _method_calls(tree: ast.FunctionDef) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if n.__class__ is ast.Call and n.func.__class__ is ast.Attribute
            and n.func.attr in METHODS and _plain(n)]


def _distribution_classes():
    """(distribution classes, frozen univariate distribution class), or None where SciPy's stats are absent."""
    if "scipy.stats" not in sys.modules:
        return None
    try:
        from scipy.stats._distn_infrastructure import rv_frozen, rv_generic
        from scipy.stats._multivariate import multi_rv_generic
    except ImportError:  # (a SciPy that moved them: frozen distributions stay as written)
        return None
    return (rv_generic, multi_rv_generic), rv_frozen


def is_distribution(obj) -> bool:
    """Whether ``obj`` is one of SciPy's distributions (``scipy.stats.norm``), which calling freezes."""
    kinds = _distribution_classes()
    return kinds is not None and isinstance(obj, kinds[0])


def _plain(call: ast.Call) -> bool:
    """No ``*`` or ``**`` arguments (their count, or names, are known only when the code runs)."""
    return (not any(a.__class__ is ast.Starred for a in call.args)
            and not any(k.arg is None for k in call.keywords))


class _Unfreezer(ast.NodeTransformer):
    """Finds the frozen distributions of one function (:meth:`plan`), then rewrites its tree (``visit``)."""

    def __init__(self, pf: ParsedFunction, tree: ast.FunctionDef, closure: dict, kinds):
        self.pf = pf
        self.tree = tree
        self.closure = closure
        self.distributions, self.frozen = kinds
        self.local_names = _local_names(tree)
        self.inline: set[int] = set()  # id of `D(a).m(b)` calls
        self.held: dict[str, ast.Call] = {}  # a local name -> the one `D(a)` it holds
        self.parameter_names: dict[str, list[str]] = {}  # that name -> the names its parameters get
        self.taken = {n.id for n in ast.walk(tree) if n.__class__ is ast.Name} | self.local_names
        self.held_assignments: set[int] = set()  # id of those assignments
        self.module_frozen: dict[int, object] = {}  # id of `G.m(b)` calls -> the frozen distribution G

    # ---- finding them ---------------------------------------------------------------------------------

    def plan(self, calls: list[ast.Call]) -> bool:
        """Decide what to rewrite; whether anything is."""
        candidates: dict[str, list[ast.Call]] = {}
        for call in calls:
            receiver = call.func.value
            if receiver.__class__ is ast.Call and _plain(receiver) and self._is_distribution(receiver.func):
                self.inline.add(id(call))
            elif receiver.__class__ is ast.Name and receiver.id in self.local_names:
                candidates.setdefault(receiver.id, []).append(call)
            elif self._root_is_global(receiver):
                frozen = self._resolve(receiver)
                if isinstance(frozen, self.frozen):
                    self.module_frozen[id(call)] = frozen
        for name, uses in candidates.items():
            self._plan_held(name, uses)
        return bool(self.inline or self.held or self.module_frozen)

    def _plan_held(self, name: str, uses: list[ast.Call]) -> None:
        """``name`` holds a distribution if one assignment binds it, to ``D(a)``, and it is read only as
        the receiver of the method calls ``uses``."""
        stores = [n for n in ast.walk(self.tree) if n.__class__ is ast.Name and n.id == name
                  and n.ctx.__class__ is not ast.Load]
        loads = sum(1 for n in ast.walk(self.tree) if n.__class__ is ast.Name and n.id == name
                    and n.ctx.__class__ is ast.Load)
        if len(stores) != 1 or loads != len(uses) or name in _parameters(self.tree):
            return
        assignment = next((a for a in ast.walk(self.tree) if a.__class__ is ast.Assign and len(a.targets) == 1
                           and a.targets[0] is stores[0]), None)
        if assignment is None:
            return
        value = assignment.value
        if value.__class__ is ast.Call and _plain(value) and self._is_distribution(value.func):
            self.held[name] = value
            self.held_assignments.add(id(assignment))
            self.parameter_names[name] = [self._fresh(f"{name}_{label}")
                                          for label in _labels(self._resolve(value.func), value)]

    def _fresh(self, wanted: str) -> str:
        name, k = wanted, 2
        while name in self.taken:
            name, k = f"{wanted}_{k}", k + 1
        self.taken.add(name)
        return name

    def _is_distribution(self, func: ast.expr) -> bool:
        return self._root_is_global(func) and isinstance(self._resolve(func), self.distributions)

    def _root_is_global(self, node: ast.expr) -> bool:
        while node.__class__ is ast.Attribute:
            node = node.value
        return node.__class__ is ast.Name and node.id not in self.local_names

    def _resolve(self, node: ast.expr):
        """The object a global or closure name (or an attribute chain of one) refers to now; None if none."""
        if node.__class__ is ast.Attribute:
            return getattr(self._resolve(node.value), node.attr, None)
        if node.id in self.closure:
            return self.closure[node.id]
        return self.pf.fn.__globals__.get(node.id)

    # ---- rewriting ------------------------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign):
        key = id(node)
        self.generic_visit(node)
        if key not in self.held_assignments:
            return node
        # d = D(a, k=b)  ->  d_<name of a> = a; d_k = b  (each statement at the user's line)
        made = node.value
        names = self.parameter_names[node.targets[0].id]
        values = [*made.args, *(k.value for k in made.keywords)]
        return [ast.copy_location(ast.Assign([ast.copy_location(ast.Name(name, ast.Store()), node.targets[0])],
                                             value), node)
                for name, value in zip(names, values, strict=True)] or ast.copy_location(ast.Pass(), node)

    def visit_Call(self, node: ast.Call):
        key = id(node)  # (the plan's node, before its children are rewritten)
        self.generic_visit(node)
        method = node.func
        if method.__class__ is not ast.Attribute:
            return node
        if key in self.inline:  # D(a).m(b)  ->  D.m(b, a)
            made = method.value
            return self._method_call(node, made.func, made.args, made.keywords)
        receiver = method.value
        if receiver.__class__ is ast.Name and receiver.id in self.held:  # d.m(b)  ->  D.m(b, d_loc, ...)
            made = self.held[receiver.id]
            items = [ast.Name(name, ast.Load()) for name in self.parameter_names[receiver.id]]
            keywords = [ast.keyword(k.arg, item) for k, item in zip(made.keywords, items[len(made.args):])]
            return self._method_call(node, copy.deepcopy(made.func), items[:len(made.args)], keywords)
        frozen = self.module_frozen.get(key)
        if frozen is not None:  # G.m(b)  ->  G.dist.m(b, G.args[0], ..., k=G.kwds['k'])
            def part(attribute, index):
                read = ast.Attribute(copy.deepcopy(receiver), attribute, ast.Load())
                return ast.Subscript(read, ast.Constant(index), ast.Load())
            args = [part("args", i) for i in range(len(frozen.args))]
            keywords = [ast.keyword(k, part("kwds", k)) for k in frozen.kwds]
            return self._method_call(node, ast.Attribute(receiver, "dist", ast.Load()), args, keywords)
        return node

    @staticmethod
    def _method_call(call: ast.Call, distribution: ast.expr, args: list, keywords: list) -> ast.Call:
        func = ast.Attribute(distribution, call.func.attr, ast.Load())
        new = ast.Call(func, [*call.args, *args], [*call.keywords, *keywords])
        for n in ast.walk(new):  # every node at the user's call, unless it has its own place already
            if not hasattr(n, "lineno") and isinstance(n, (ast.expr, ast.keyword)):
                ast.copy_location(n, call)
        return ast.copy_location(new, call)


def _labels(distribution, made: ast.Call) -> list[str]:
    """What to call each argument of ``D(a, k=b)`` in a name: SciPy's name of its parameter where the
    distribution lists them (``_param_info``: shapes, ``loc``, ``scale``), else its position; a keyword's own."""
    try:
        known = [info.name for info in distribution._param_info()]
    except Exception:  # (multivariate distributions list none)
        known = []
    positional = [known[i] if i < len(known) else str(i) for i in range(len(made.args))]
    return positional + [k.arg for k in made.keywords]


def _parameters(node: ast.FunctionDef) -> set[str]:
    a = node.args
    names = {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs}
    names.update(v.arg for v in (a.vararg, a.kwarg) if v is not None)
    return names


def _local_names(node: ast.FunctionDef) -> set[str]:
    """What the function (or a function inside it) binds: its names are not the module's."""
    names = _parameters(node)
    for n in ast.walk(node):
        if n.__class__ is ast.Name and n.ctx.__class__ is not ast.Load:
            names.add(n.id)
        elif n.__class__ in (ast.FunctionDef, ast.Lambda) and n is not node:
            if n.__class__ is ast.FunctionDef:
                names.add(n.name)
            names.update(_parameters(n))
    return names
