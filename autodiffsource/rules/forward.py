"""Forward-mode (jvp) forms of the rule library, keyed by the same :class:`Rule` objects.

Contract: :func:`forward_kind` says how ``transform/forward.py`` builds the tangent of a rule's output
from the tangents of its arguments, without a hand-written jvp per rule:

* ``"elementwise"``: the output is an elementwise function of its arguments (NumPy/SciPy ufuncs, scalar
  ``math`` functions, arithmetic operators). Each partial of such a rule's pullback is the diagonal
  Jacobian times the cotangent, so the jvp is the pullback's partial expression with the cotangent
  replaced by the argument's tangent and ``unbroadcast(...)`` dropped (broadcasting happens forward by
  itself), summed over the differentiated arguments.
* ``"linear"``: linear in its non-static parameters (sums, means, reshapes, indexing, stacking...): the
  tangent is the rule's own forward computation applied to the tangents.
* ``"multilinear"``: linear in each argument separately (products: ``@``, dot, outer, einsum...): the
  tangent is the sum, over differentiated arguments, of the product with that argument replaced by its
  tangent (the product rule).
* ``"extreme"``: max/min reductions: the tangent is the mean of the tangents at the (tied) extremes,
  ``sum(w * x_dot, axis)`` with the piecewise-constant weights ``w`` of :func:`extreme_weights`.
* ``"form"``: a jvp written out (:func:`forward_form`), inlined like a rule template: var, std, softmax,
  inv, solve, det below; norms, sort-like and piecewise-linear rules, products, decompositions and the
  rules with several outputs in ``rules/forward_forms.py``.
* ``None``: no rule of the library is left here (tests/test_forward.py checks it). User rules (``δname``)
  have a pullback only: they go through :func:`jvp_from_pullback`, which builds ``J @ t`` from one
  pullback call per output element: exact, but costs ``output size`` pullback calls, NumPy only, and
  first order only (the pullback call cannot be differentiated again).

The helpers below are what generated forward code calls. Each has a reverse rule written in the user
rule convention (``δname``), which the generated jvp module binds next to it so that the reverse engine
can differentiate jvp code again (second order, :mod:`autodiffsource.higher`).
"""

from __future__ import annotations

import math
import types

import numpy as np
import numpy as xp  # the stand-in name in forward forms; inlined code binds the run-time namespace

from ..backend import special as backend_special
from ..runtime import _device, dot_primal, log_base, namespace, power_base_partial, sign_of, take_any, transpose_axes
from ..runtime import unbroadcast, where_tie_split, zeros_like
from .numpy_products import δdot
from .numpy_shape import δtake
from .support import (atleast_primal, exp_any, extreme_partial, finite_mask, indicator, items_at, log1p_any,
                      log_any, safe_divide, sinc_derivative, sort_order, zeros_of)
from .support_products import einsum_partial, einsum_primal
from .registry import REGISTRY, Rule, nondiff


class _ScipySpecial:
    """``scipy.special``, imported on first use: importing SciPy takes about a third of a second, and
    ``import autodiffsource`` should not pay it (rules/scipy_special.py defers its table the same way)."""

    def __getattr__(self, name: str):
        import scipy.special

        value = getattr(scipy.special, name)
        setattr(self, name, value)  # later lookups skip __getattr__
        return value


scipy_special = _ScipySpecial()


# ---- classification --------------------------------------------------------------------------------

# Elementwise rules: those of NumPy/SciPy ufuncs (found by their primal objects), scalar ``math``
# functions, and these, named one by one: a rule is never assumed elementwise for its module alone.
_ELEMENTWISE = {
    "δadd", "δsub", "δmul", "δtruediv", "δmod_operator", "δneg", "δpos", "δpow", "δpower_by_constant",
    "δidentity", "δaugmented_result",
    "δbuiltin_abs", "δbuiltin_float", "δbuiltin_pow",
    "δwhere", "δnan_to_num", "δreal", "δsinc", "δi0",
    # scipy.special: ufuncs, but not always ufunc objects (SciPy's array-API mode wraps them in functions)
    "δerf", "δerfc", "δerfinv", "δerfcinv", "δndtr", "δlog_ndtr", "δndtri", "δgamma", "δgammaln", "δdigamma",
    "δpolygamma", "δbetaln", "δbeta", "δexpit", "δsoftplus", "δlogit", "δlog_expit", "δxlogy", "δxlog1py",
    "δentr", "δi1", "δi0e", "δstdtr", "δgammainc", "δgammaincc", "δbetainc", "δbetaincc",
    "δspecial_expm1", "δspecial_log1p", "δrel_entr", "δkl_div", "δhuber", "δpseudo_huber",
    "δboxcox", "δboxcox1p", "δinv_boxcox", "δinv_boxcox1p",
    "δerfcx", "δi1e", "δspecial_sinc", "δpoch", "δbinom", "δexp1", "δexpi", "δexpn", "δdawsn",
    "δzeta", "δspence", "δowens_t",
    # scipy.stats.norm's methods, elementwise in x, loc and scale, and their helpers (rules/scipy_stats.py)
    "δnorm_logpdf", "δnorm_pdf", "δnorm_cdf", "δnorm_sf", "δnorm_logcdf", "δnorm_logsf", "δstandardized",
    "δlog_of",
    # and those of expon, laplace, logistic and cauchy (the same six methods each)
    *(f"δ{d}_{m}" for d in ("expon", "laplace", "logistic", "cauchy")
      for m in ("logpdf", "pdf", "cdf", "sf", "logcdf", "logsf")),
    # and those of t and gamma, elementwise in their shape parameter too, and their log-density helpers
    "δt_logpdf", "δt_pdf", "δt_cdf", "δt_sf", "δt_logcdf", "δt_logsf", "δt_log_density",
    "δgamma_logpdf", "δgamma_pdf", "δgamma_cdf", "δgamma_sf", "δgamma_log_density",
    # and those of poisson and binom, elementwise in mu or p (their counts are constants), and Boost's binomial pmf
    "δpoisson_logpmf", "δpoisson_pmf", "δbinom_logpmf", "δbinom_pmf", "δbinomial_mass",
    # and beta's, elementwise in a and b too, and its log-density and (Boost's) density helpers
    "δbeta_logpdf", "δbeta_pdf", "δbeta_cdf", "δbeta_sf", "δbeta_log_density", "δbeta_density",
    # and lognorm's, elementwise in s too
    *(f"δlognorm_{m}" for m in ("logpdf", "pdf", "cdf", "sf", "logcdf", "logsf")),
    "δscale_owned",  # a * b * c into an owned buffer (rules/owned_helpers.py)
}
# math functions that take sequences, not scalars
_NOT_ELEMENTWISE = {"δmath_fsum", "δmath_prod", "δmath_dist", "δmath_sumprod"}
_LINEAR = {
    # operator / builtins
    "δgetitem", "δbuiltin_sum", "δmath_fsum",
    "δbuiltin_list", "δbuiltin_tuple", "δbuiltin_reversed", "δitems_at",  # (items_at: order is static)
    # reductions
    "δsum", "δmean", "δcumsum", "δtrace", "δnansum",
    # shape
    "δasarray", "δascontiguousarray", "δasfortranarray", "δatleast_1d", "δatleast_2d", "δatleast_3d",
    "δbroadcast_to", "δcolumn_stack", "δconcatenate", "δcopy", "δdiag", "δdiagonal", "δdstack",
    "δexpand_dims", "δflip", "δfliplr", "δflipud", "δfloat32", "δfloat64", "δhstack", "δmatrix_T",
    "δmoveaxis", "δravel", "δrepeat", "δreshape", "δroll", "δrot90", "δsplit", "δsqueeze", "δstack",
    "δswapaxes", "δtake", "δtile", "δtranspose", "δtril", "δtriu", "δvstack",
    "δcumulative_sum", "δdiff", "δappend", "δmatrix_transpose", "δtake_along_axis", "δlist_getitem",
    "δitem", "δlinalg_diagonal", "δlinalg_trace", "δcompress", "δextract",
    "δediff1d", "δgradient",  # linear in the differenced values; gradient's spacings are static
}
_MULTILINEAR = {"δcross", "δdot", "δeinsum", "δinner", "δkron", "δnp_matmul", "δouter", "δtensordot",
                "δvdot", "δmatmul", "δvecdot", "δconvolve", "δcorrelate", "δlinalg_outer", "δlinalg_cross",
                "δmatvec", "δvecmat",
                "δtrapezoid",  # trapezoid: linear in the heights, and in the sample points
                "δzeros_with"}  # index_add(zeros_like(like), index, a * b): bilinear in a and b (owned_helpers.py)


_EXTREME = {"δmax", "δmin", "δnanmax", "δnanmin"}


def declare_linear(*rule_names: str) -> None:
    """Declare rules linear in their arguments other than static and shape-only ones (other modules'
    rules: the helpers generated pullbacks call, ``rules/pullback_helpers.py``)."""
    _LINEAR.update(rule_names)


def _rule_module(rule: Rule) -> str:
    return rule.delta.__module__.rsplit(".", 1)[-1]


def forward_kind(rule: Rule) -> str | None:
    """``"elementwise"``, ``"linear"``, ``"multilinear"``, ``"extreme"``, ``"form"`` or None."""
    name = rule.delta.__name__
    if rule.outputs != 1:
        return "form" if name in FORWARD_FORMS else None  # a form with one tangent per output
    if name in _LINEAR:
        return "linear"
    if name in _MULTILINEAR:
        return "multilinear"
    if name in _EXTREME:
        return "extreme"
    if name in FORWARD_FORMS:
        return "form"
    if name in _ELEMENTWISE or (_rule_module(rule) == "math" and name not in _NOT_ELEMENTWISE):
        return "elementwise"
    if name != "δclip" and any(isinstance(p, np.ufunc) for p in _primals_of(rule)):
        return "elementwise"
    return None


def _primals_of(rule: Rule) -> list:
    return [obj for obj, r in REGISTRY.primals() if r is rule]


def rules_by_kind() -> dict[str | None, list[Rule]]:
    """Every registered rule, grouped by :func:`forward_kind` (for tests and documentation)."""
    seen: dict[int, Rule] = {}
    for _, r in REGISTRY.primals():
        seen[id(r)] = r
    out: dict[str | None, list[Rule]] = {}
    for r in seen.values():
        out.setdefault(forward_kind(r), []).append(r)
    return out


# ---- written-out forward forms ----------------------------------------------------------------------------
#
# Each is inlined into generated jvp code (transform/forward.py): its parameters are the rule's
# parameters, ``<param>_dot`` for the tangent of each differentiated one (zeros for a constant), and ``y``
# for the rule's output; it returns the output's tangent. ``xp`` is the run-time array namespace. They
# use only operations with reverse rules, so jvp code stays differentiable (second order).

FORWARD_FORMS: dict[str, object] = {}


def forward_form(*rule_names, applies=None, value=None, output="y"):
    """Register the decorated function as the forward form of the named rules.

    ``output`` names the form's parameter that receives the rule's output (``y`` unless the rule has
    a parameter of that name).

    ``applies(args)``, given the call's parameter -> atom map, may decline a call (a static argument the
    form does not cover); the call then goes through the pullback instead. ``value``, a function of the
    rule's parameters, replaces the rule's own forward computation of the output where that one is
    spelled in a way the reverse engine cannot differentiate again (``xp.var(x, correction=ddof)``).
    """

    def register(fn):
        fn.applies = applies or (lambda args: True)
        fn.value = value
        fn.output = output
        for name in rule_names:
            FORWARD_FORMS[name] = fn
        return fn

    return register


def _is_false_or_absent(param):
    import ast

    def check(args):
        return param not in args or (isinstance(args[param], ast.Constant) and not args[param].value)

    return check


def differentiable_source(fn):
    """Mark a tangent function written in plain Python as code the reverse engine differentiates from
    its source, as it does user code (functions of this package are otherwise library functions, never
    transformed): control flow, reshapes and calls with rules, no reverse rule of its own needed."""
    fn.__module__ = f"differentiable:{__name__}"
    return fn


def _absent_or_none(*params):
    import ast

    def check(args):
        return all(p not in args or (isinstance(args[p], ast.Constant) and args[p].value is None) for p in params)

    return check


def var_value(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centred = x - xp.mean(x, axis=axis, keepdims=True)
    squares = xp.sum(centred * centred, axis=axis, keepdims=keepdims)
    return squares / (np.size(x) / np.size(squares) - ddof)


def std_value(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centred = x - xp.mean(x, axis=axis, keepdims=True)
    squares = xp.sum(centred * centred, axis=axis, keepdims=keepdims)
    return xp.sqrt(squares / (np.size(x) / np.size(squares) - ddof))


@forward_form("δvar", value=var_value)
def jvp_var(x, x_dot, y, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centred = x - xp.mean(x, axis=axis, keepdims=True)
    count = np.size(x) / np.size(y)
    return xp.sum(centred * x_dot, axis=axis, keepdims=keepdims) * (2.0 / (count - ddof))


@forward_form("δstd", value=std_value)
def jvp_std(x, x_dot, y, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centred = x - xp.mean(x, axis=axis, keepdims=True)
    count = np.size(x) / np.size(y)
    return safe_divide(xp.sum(centred * x_dot, axis=axis, keepdims=keepdims), y * (count - ddof))


def sort_value(x, axis=-1):
    return np.sort(x, axis=axis)  # equal values are equal: the order of ties does not change the value


@forward_form("δsort", value=sort_value)
def jvp_sort(x, x_dot, y, axis=-1):
    # The tangents travel with their elements (stable order, as the rule's pullback sends them back).
    order = np.argsort(x, axis=axis, kind="stable")
    return np.take_along_axis(x_dot, order, axis=axis)


@forward_form("δbuiltin_sorted")
def jvp_builtin_sorted(x, x_dot, y, key=None, reverse=False):
    # The tangents travel with their items, in the order the values sort in (ties: stable, as the pullback).
    return items_at(x_dot, sort_order(x, key, reverse))


@forward_form("δptp")
def jvp_ptp(x, x_dot, y, axis=None, out=None, keepdims=False):
    high = xp.max(x, axis=axis, keepdims=keepdims)
    low = xp.min(x, axis=axis, keepdims=keepdims)
    to_high = extreme_weights(x, high, axis, keepdims)
    to_low = extreme_weights(x, low, axis, keepdims)
    return xp.sum((to_high - to_low) * x_dot, axis=axis, keepdims=keepdims)


@forward_form("δsoftmax")
def jvp_softmax(x, x_dot, y, axis=None):
    return y * (x_dot - xp.sum(y * x_dot, axis=axis, keepdims=True))


@forward_form("δlog_softmax")
def jvp_log_softmax(x, x_dot, y, axis=None):
    return x_dot - xp.sum(xp.exp(y) * x_dot, axis=axis, keepdims=True)


@forward_form("δinv")
def jvp_inv(a, a_dot, y):
    return -(y @ a_dot @ y)


@forward_form("δsolve")
def jvp_solve(a, a_dot, b, b_dot, y):
    return np.linalg.solve(a, b_dot - a_dot @ y)


@forward_form("δdet", "δscipy_det")  # (scipy.linalg.det: the same tangent)
def jvp_det(a, a_dot, y):
    return y * xp.trace(np.linalg.solve(a, a_dot), axis1=-2, axis2=-1)


# ---- helpers called by generated forward code ---------------------------------------------------------

def broadcast_tangent(t, like):
    """``t`` with ``like``'s shape: an elementwise op's tangent where only a broadcast argument moved."""
    shape = np.shape(like) if not hasattr(like, "shape") else tuple(like.shape)
    if tuple(getattr(t, "shape", ())) == shape:
        return t
    return t + zeros_like(like)


def δbroadcast_tangent(t, like):
    y = broadcast_tangent(t, like)

    def broadcast_tangent_pullback(dy):
        return unbroadcast(dy, t), zeros_like(like)

    return y, broadcast_tangent_pullback


def tangent_copy(t):
    """A copy of a tangent that the code is about to write into (``y[i] = v`` in the user's code)."""
    if type(t) is list:
        return list(t)
    if type(t) is dict:
        return dict(t)
    if isinstance(t, (int, float, complex)):
        return t
    return t.copy() if hasattr(t, "copy") else t


def δtangent_copy(t):
    y = tangent_copy(t)

    def tangent_copy_pullback(dy):
        return dy

    return y, tangent_copy_pullback


def δzeros_like(x):
    y = zeros_like(x)

    def zeros_like_pullback(dy):
        return zeros_like(x)

    return y, zeros_like_pullback


δzeros_like.constant_result = True  # forward mode: a zero tangent, no pullback calls


def _inner(a, b):
    """Σ a·b over arrays, numbers and (nested) containers, in the arrays' library; None is zero."""
    if a is None or b is None:
        return 0.0
    if type(a) in (list, tuple):
        return sum((_inner(p, q) for p, q in zip(a, b, strict=True)), 0.0)
    if type(a) is dict:
        return sum((_inner(a[k], b[k]) for k in a), 0.0)
    if not hasattr(a, "shape") and not hasattr(b, "shape"):
        return float(a) * float(b)
    return namespace(a, b).sum(a * b)


def _pairing(pullback, cotangents, tangents):
    partials = pullback(*cotangents)
    partials = partials if isinstance(partials, tuple) else (partials,)
    return sum((_inner(p, t) for p, t in zip(partials, tangents)), 0.0)


def jvp_from_pullback(pullback, outputs, tangents, n_outputs: int = 1, n_partials: int | None = None):
    """``J @ tangents`` for an operation known only by its pullback: one pullback call per output element.

    ``outputs`` is the value (or tuple of ``n_outputs`` values), ``tangents`` the argument tangents in
    the order of the pullback's partials (None: constant). Returns the output tangent (or a tuple), in
    the output's array library, device and dtype (a Python float for a number or a NumPy 0-d value).
    """
    outs = tuple(outputs) if n_outputs > 1 else (outputs,)
    results = []
    for j, y in enumerate(outs):
        cotangents = [None] * n_outputs
        if not hasattr(y, "shape") or isinstance(y, np.generic):
            cotangents[j] = 1.0
            results.append(float(_pairing(pullback, cotangents, tangents)))
            continue
        xp = namespace(y)
        shape = tuple(y.shape)
        size = math.prod(shape)
        keywords = {"dtype": y.dtype if xp.isdtype(y.dtype, "real floating") else None, "device": _device(y)}
        # The basis cotangents: rows of an identity made by y's own library (y's device, y's dtype).
        eye = xp.eye(max(size, 1), **keywords)
        entries = []
        for k in range(size):
            cotangents[j] = xp.reshape(eye[k, ...], shape)
            total = _pairing(pullback, cotangents, tangents)
            entries.append(total if hasattr(total, "shape") else xp.asarray(total, **keywords))
        t_out = xp.reshape(xp.stack(entries), shape) if entries else xp.zeros(shape, **keywords)
        results.append(float(t_out) if shape == () and type(y) is np.ndarray else t_out)
    return tuple(results) if n_outputs > 1 else results[0]


def extreme_weights(x, y, axis, keepdims):
    """Where max/min ``y`` of ``x`` over ``axis`` is attained, 1/(number of ties); 0 elsewhere."""
    if np.ndim(x) == 0 and not hasattr(x, "shape"):
        return 1.0
    return extreme_partial(1.0 + zeros_like(y), x, y, axis, keepdims)


# ---- reverse rules for the helpers jvp code calls (second order: reverse over forward) -----------------

def _constant_rule(fn):
    """A reverse rule for a piecewise-constant helper (signs, masks, tie shares): no partials."""

    def δconstant(*args):
        y = fn(*args)

        def constant_pullback(dy):
            zeros = tuple(zeros_like(a) for a in args)
            return zeros if len(args) > 1 else zeros[0]

        return y, constant_pullback

    δconstant.__name__ = "δ" + fn.__name__
    δconstant.constant_result = True  # forward mode: a zero tangent, no pullback calls
    return δconstant


def δpower_base_partial(x, y):
    # p = y * x**(y-1);  dp/dx = y (y-1) x**(y-2),  dp/dy = x**(y-1) (1 + y log x)
    p = power_base_partial(x, y)

    def power_base_partial_pullback(dp):
        dx = unbroadcast(dp * y * (y - 1) * x ** (y - 2), x)
        dy = unbroadcast(dp * x ** (y - 1) * (1 + y * log_base(x)), y)
        return dx, dy

    return p, power_base_partial_pullback


def δlog_base(x):
    p = log_base(x)

    def log_base_pullback(dp):
        return safe_divide(dp * (x > 0), x)

    return p, log_base_pullback


def δlog_any(x):
    p = log_any(x)

    def log_any_pullback(dp):
        return dp / x

    return p, log_any_pullback


def δexp_any(x):
    p = exp_any(x)

    def exp_any_pullback(dp):
        return dp * p

    return p, exp_any_pullback


def δlog1p_any(x):
    p = log1p_any(x)

    def log1p_any_pullback(dp):
        return dp / (1.0 + x)

    return p, log1p_any_pullback


def δsafe_divide(a, b):
    q = safe_divide(a, b)

    def safe_divide_pullback(dq):
        return unbroadcast(safe_divide(dq, b), a), unbroadcast(-safe_divide(dq * q, b), b)

    return q, safe_divide_pullback


def δeinsum_primal(subscripts, a, b=None, c=None, d=None):
    # δeinsum's pullback also asks for the partials of absent operands; jvp code calls the primal helper.
    z = einsum_primal(subscripts, a, b, c, d)

    def einsum_primal_pullback(dz):
        operands = (a, b, c, d)
        parts = [einsum_partial(dz, subscripts, k, a, b, c, d) if operands[k] is not None else None
                 for k in range(4)]
        return (None, *parts)

    return z, einsum_primal_pullback


def δatleast_primal(x, n):
    y = atleast_primal(x, n)

    def atleast_primal_pullback(dy):
        return np.reshape(dy, np.shape(x)), 0.0

    return y, atleast_primal_pullback


def δsinc_derivative(x):
    # p = sinc'(x) = (cos(pi x) - sinc(x)) / x;  p' = (-pi sin(pi x) - 2 p) / x, and -pi^2/3 at x = 0.
    p = sinc_derivative(x)

    def sinc_derivative_pullback(dp):
        xp_ = namespace(x)
        nonzero = x != 0
        safe = xp_.where(nonzero, x, 1.0)
        second = xp_.where(nonzero, (-np.pi * xp_.sin(np.pi * safe) - 2.0 * p) / safe, -np.pi ** 2 / 3.0)
        return dp * second

    return p, sinc_derivative_pullback


# Reverse rules for special functions that forward forms call but the rule library does not cover (i1e's,
# once here, is rules/scipy_special.py's now).
_EXTRA_SPECIAL_RULES: dict[str, object] = {}


class _SpecialWithRules(types.ModuleType):
    """``special`` as jvp code sees it: the backend dispatcher's functions (``backend.special``), plus
    ``δname`` attributes holding the library's rules, which the reverse engine finds beside a module
    attribute (the user-rule convention), so ``special.expit(x)`` in jvp code can be differentiated again."""

    def __getattr__(self, name: str):
        if name.startswith("δ"):
            rule = REGISTRY.rule_for(getattr(scipy_special, name[1:], None))
            if rule is None:
                if name[1:] in _EXTRA_SPECIAL_RULES:
                    return _EXTRA_SPECIAL_RULES[name[1:]]
                raise AttributeError(name)
            # marked, so that the frontend inlines the rule (frontend/calls.py) rather than calling its
            # pullback for every partial
            rule.delta.__autodiffsource_rule__ = rule
            return rule.delta
        return getattr(backend_special, name)


SPECIAL_WITH_RULES = _SpecialWithRules("special")

# Generated jvp code opens with `xp = array_namespace(...)` (runtime.namespace under that name): a
# constant to the reverse engine when it differentiates jvp code again.
nondiff(namespace, transpose_axes)

# helper object -> its reverse rule, bound as `δ<name>` beside the helper in generated jvp modules.
_HELPER_RULES = [
    (broadcast_tangent, δbroadcast_tangent), (tangent_copy, δtangent_copy), (zeros_like, δzeros_like),
    (dot_primal, δdot), (einsum_primal, δeinsum_primal), (take_any, δtake), (atleast_primal, δatleast_primal),
    (power_base_partial, δpower_base_partial), (log_base, δlog_base), (safe_divide, δsafe_divide),
    (sign_of, _constant_rule(sign_of)), (where_tie_split, _constant_rule(where_tie_split)),
    (finite_mask, _constant_rule(finite_mask)), (indicator, _constant_rule(indicator)),
    (extreme_weights, _constant_rule(extreme_weights)), (zeros_of, _constant_rule(zeros_of)),
    (sinc_derivative, δsinc_derivative), (log_any, δlog_any), (log1p_any, δlog1p_any),
    (exp_any, δexp_any),
]
HELPER_RULES = {id(obj): rule_ for obj, rule_ in _HELPER_RULES}

# The forms of the rules that would otherwise go through their pullback, and their helpers' rules.
from . import forward_forms, forward_linalg  # noqa: E402  (they register into FORWARD_FORMS)

HELPER_RULES.update({id(obj): rule_ for obj, rule_ in forward_forms.HELPERS + forward_linalg.HELPERS})

