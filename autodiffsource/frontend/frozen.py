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
from .survey import Survey

# The methods whose frozen form takes its own arguments first, then the distribution's parameters.
METHODS = frozenset({"pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "pmf", "logpmf", "ppf", "isf", "mean",
                     "median", "var", "std", "entropy", "moment", "interval", "support"})


def unfreeze(pf: ParsedFunction, closure: dict) -> ParsedFunction:
    """``pf``, or a copy calling distributions' methods where it called frozen distributions' (module doc)."""
    kinds = _distribution_classes()
    if kinds is None:  # (nothing can have made a frozen distribution before scipy.stats was imported)
        return pf
    found = pf.survey if pf.survey is not None and pf.survey.node is pf.node else Survey(pf.node)
    pf.survey = found  # (left for the lowering to take, where nothing is rewritten: one walk of the tree)
    calls = [n for n in found.of(ast.Call) if n.func.__class__ is ast.Attribute and n.func.attr in METHODS
             and _plain(n)]
    if not calls:
        return pf
    rewriter = _Unfreezer(pf, found, closure, kinds)
    if not rewriter.plan(calls):
        return pf
    copies: dict = {}  # id(a node of pf.node) -> its copy: what the plan names, in the copy
    tree = copy.deepcopy(pf.node, copies)
    rewriter.follow(copies)
    tree = rewriter.visit(tree)
    ast.fix_missing_locations(tree)
    return dataclasses.replace(pf, node=tree)


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

    def __init__(self, pf: ParsedFunction, found: Survey, closure: dict, kinds):
        self.pf = pf
        self.found = found
        self.closure = closure
        self.distributions, self.frozen = kinds
        self.arguments = {a.arg for a in found.of(ast.arg)}  # (inner functions' and lambdas' too)
        self.local_names = found.local_names() | self.arguments
        self.inline: set[int] = set()  # id of `D(a).m(b)` calls
        self.held: dict[str, ast.Call] = {}  # a local name -> the one `D(a)` it holds
        self.parameter_names: dict[str, list[str]] = {}  # that name -> the names its parameters get
        self.held_assignments: set[int] = set()  # id of those assignments
        self.module_frozen: dict[int, object] = {}  # id of `G.m(b)` calls -> the frozen distribution G
        self.taken: set[str] = set()

    # ---- finding them ---------------------------------------------------------------------------------

    def plan(self, calls: list[ast.Call]) -> bool:
        """Decide what to rewrite, naming nodes of ``pf.node``; whether anything is."""
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
        if candidates:
            self._plan_held(candidates)
        return bool(self.inline or self.held or self.module_frozen)

    def _plan_held(self, candidates: dict[str, list[ast.Call]]) -> None:
        """A name holds a distribution if one assignment binds it, to ``D(a)``, and it is read only as the
        receiver of its method calls (``candidates[name]``)."""
        made = {a.targets[0].id: a for a in self.found.of(ast.Assign)
                if len(a.targets) == 1 and a.targets[0].__class__ is ast.Name and a.targets[0].id in candidates
                and a.value.__class__ is ast.Call and _plain(a.value) and self._is_distribution(a.value.func)}
        if not made:
            return
        stores: dict[str, int] = {}
        loads: dict[str, int] = {}
        for n in self.found.of(ast.Name):
            counts = loads if n.ctx.__class__ is ast.Load else stores
            counts[n.id] = counts.get(n.id, 0) + 1
        self.taken = {n.id for n in self.found.of(ast.Name)} | self.local_names
        for name, assignment in made.items():
            if stores.get(name) != 1 or loads.get(name) != len(candidates[name]) or name in self.arguments:
                continue
            value = assignment.value
            self.held[name] = value
            self.held_assignments.add(id(assignment))
            self.parameter_names[name] = [self._fresh(f"{name}_{label}")
                                          for label in _labels(self._resolve(value.func), value)]

    def follow(self, copies: dict) -> None:
        """The plan's nodes are now their copies (``copies``: deepcopy's memo of ``pf.node``'s copy)."""
        def moved(ids):
            return {id(copies[i]) for i in ids}
        self.inline, self.held_assignments = moved(self.inline), moved(self.held_assignments)
        self.module_frozen = {id(copies[i]): frozen for i, frozen in self.module_frozen.items()}

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
