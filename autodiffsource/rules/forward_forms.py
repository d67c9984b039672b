"""Forward forms for the rules that used to go through one pullback call per output element.

Contract: importing this module (``rules/forward.py`` does, at its end) registers, with
:func:`~autodiffsource.rules.forward.forward_form`, a written-out jvp for each of these rules, and a
reverse rule for every helper the forms call (in ``HELPER_RULES``), so that jvp code stays
differentiable by the reverse engine (second order: ``hvp``, ``hessian``). The conventions are those of
``rules/forward.py``: a form's parameters are the rule's parameters, ``<param>_dot`` for tangents (None
for an absent argument), and the rule's output (``y``, or the name given as ``output=``).

Three kinds of helper:

* *locally linear* operations (clip, builtin max/min, median): their Jacobian is piecewise constant, so
  the tangent is ``J @ t`` and the helper's reverse rule is the rule's own pullback for the tangents and
  zero for the primals (a second derivative of a piecewise-linear function is zero);
* *linear helpers* (the coefficients of a polynomial's derivative, the symmetric matrix a triangle
  stands for), whose reverse rule is their transpose;
* *sums of products* (matrix_power, multi_dot, prod, math.prod, math.dist): the tangent is written out
  and its reverse rule differentiates it in the primals and the tangents, exactly, zeros included.
"""

from __future__ import annotations

import math

import numpy as np
import numpy as xp  # the stand-in name in forward forms; inlined code binds the run-time namespace

from ..runtime import expand_reduced, namespace, zeros_like
from .forward import _absent_or_none, forward_form
from .support import _axes, _from_end, _move_to_end, clip_partials, clip_shares, extreme_of_partials
from .numpy_shape import pad_primal
from .support import median_partial, prod_partial, safe_divide
from .support_linalg import matrix_power_partial, multi_dot_partials, svd_partial, eigh_partial


def _is_false_or_absent(param):
    import ast

    def check(args):
        return param not in args or (isinstance(args[param], ast.Constant) and not args[param].value)

    return check


def _fro_or_absent(args):
    import ast

    return "ord" not in args or (isinstance(args["ord"], ast.Constant) and args["ord"].value == "fro")


def _nonnegative_int(param):
    import ast

    def check(args):
        node = args.get(param)
        return isinstance(node, ast.Constant) and isinstance(node.value, int) and node.value >= 0

    return check


# ---- locally linear -----------------------------------------------------------------------------------------

@forward_form("δclip")
def jvp_clip(x, x_dot, a_min=None, a_min_dot=None, a_max=None, a_max_dot=None):
    return clip_tangent(x_dot, a_min_dot, a_max_dot, x, a_min, a_max)


def clip_tangent(x_dot, lo_dot, hi_dot, x, lo, hi):
    """The tangent of ``clip(x, lo, hi)``: each tangent where its value is the result (ties split)."""
    to_x, to_lo, to_hi = clip_shares(x, lo, hi)
    t = to_x * x_dot
    if lo_dot is not None:
        t = t + to_lo * lo_dot
    if hi_dot is not None:
        t = t + to_hi * hi_dot
    return t


def δclip_tangent(x_dot, lo_dot, hi_dot, x, lo, hi):
    t = clip_tangent(x_dot, lo_dot, hi_dot, x, lo, hi)

    def clip_tangent_pullback(dt):
        d_x, d_lo, d_hi = clip_partials(dt, x, lo, hi)
        return (d_x, None if lo_dot is None else d_lo, None if hi_dot is None else d_hi,
                zeros_like(x), zeros_like(lo), zeros_like(hi))

    return t, clip_tangent_pullback


@forward_form("δbuiltin_max", output="z")  # the rule's second argument is named y: its output is z
def jvp_builtin_max(x, x_dot, z, y=None, y_dot=None):
    return extreme_tangent(x_dot, y_dot, x, y, z, True)


@forward_form("δbuiltin_min", output="z")
def jvp_builtin_min(x, x_dot, z, y=None, y_dot=None):
    return extreme_tangent(x_dot, y_dot, x, y, z, False)


def _inner_sum(w, t):
    if type(w) in (list, tuple):
        return sum(wi * ti for wi, ti in zip(w, t))
    return w * t if np.ndim(w) == 0 else xp_sum(w * t)


def xp_sum(a):
    from ..runtime import namespace

    return namespace(a).sum(a)


def extreme_tangent(x_dot, y_dot, x, y, z, is_max):
    """The tangent of builtin ``max(x, y)`` / ``max(x)``: the tangents where the extreme is (ties shared)."""
    wx, wy = extreme_of_partials(1.0, x, y, z, is_max)
    t = _inner_sum(wx, x_dot)
    if y is not None and y_dot is not None:
        t = t + wy * y_dot
    return t


def δextreme_tangent(x_dot, y_dot, x, y, z, is_max):
    t = extreme_tangent(x_dot, y_dot, x, y, z, is_max)

    def extreme_tangent_pullback(dt):
        d_x, d_y = extreme_of_partials(dt, x, y, z, is_max)
        return d_x, None if y_dot is None else d_y, zeros_like(x), zeros_like(y), zeros_like(z), None

    return t, extreme_tangent_pullback


@forward_form("δmedian")
def jvp_median(x, x_dot, y, axis=None, out=None, overwrite_input=False, keepdims=False):
    return xp.sum(median_weights(x, y, axis, keepdims) * x_dot, axis=axis, keepdims=keepdims)


def median_weights(x, y, axis, keepdims):
    """How median ``y`` of ``x`` depends on each element of ``x`` (1 or 1/2 at the middle, ties shared)."""
    return median_partial(1.0 + zeros_like(y), x, axis, keepdims)


# ---- linear in the differentiated argument -----------------------------------------------------------------

@forward_form("δnanmean")
def jvp_nanmean(x, x_dot, y, axis=None, dtype=None, out=None, keepdims=False):
    # NaN entries are left out of the mean: `0.0 * x` puts NaN at exactly those places in the tangent.
    return np.nanmean(x_dot + 0.0 * x, axis=axis, keepdims=keepdims)


def _no_weights(args):
    return _absent_or_none("weights")(args) and _is_false_or_absent("returned")(args)


@forward_form("δaverage", applies=_no_weights)
def jvp_average(a, a_dot, y, axis=None, weights=None, returned=False, keepdims=False):
    return np.average(a_dot, axis=axis, keepdims=keepdims)


@forward_form("δpad")
def jvp_pad(x, x_dot, y, pad_width, mode="constant", constant_values=0):
    # The padding copies elements (edge, reflect, wrap) or is a constant: the tangent is padded with 0.
    return np.pad(x_dot, pad_width, mode=mode)


@forward_form("δmatrix_norm", applies=_fro_or_absent)
def jvp_matrix_norm(x, x_dot, y, keepdims=False, ord="fro"):
    return safe_divide(xp.sum(x * x_dot, axis=(-2, -1), keepdims=keepdims), y)


@forward_form("δpolyval")
def jvp_polyval(p, p_dot, x, x_dot, y):
    return np.polyval(p_dot, x) + np.polyval(polynomial_derivative(p), x) * x_dot


def polynomial_derivative(p):
    """The coefficients of p' (highest power first, as np.polyval reads them); [0.0] for a constant."""
    c = np.asarray(p, dtype=float)
    n = c.shape[0]
    if n <= 1:
        return np.zeros(1)
    return c[:-1] * np.arange(n - 1, 0, -1)


def δpolynomial_derivative(p):
    d = polynomial_derivative(p)

    def polynomial_derivative_pullback(dd):
        n = np.shape(p)[0]
        dp = np.zeros(n)
        if n > 1:
            dp[:-1] = np.asarray(dd) * np.arange(n - 1, 0, -1)
        return list(dp) if type(p) in (list, tuple) else dp

    return d, polynomial_derivative_pullback


# ---- linear algebra ---------------------------------------------------------------------------------------

def symmetric_from_triangle(a, uplo):
    """The symmetric matrix that the ``uplo`` triangle of ``a`` stands for (what eigh/cholesky read)."""
    if uplo == "L":
        return np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2)
    return np.triu(a) + np.swapaxes(np.triu(a, 1), -1, -2)


def δsymmetric_from_triangle(a, uplo):
    s = symmetric_from_triangle(a, uplo)

    def symmetric_from_triangle_pullback(ds):
        dt = np.swapaxes(ds, -1, -2)
        if uplo == "L":
            return np.tril(ds) + np.tril(dt, -1), None
        return np.triu(ds) + np.triu(dt, 1), None

    return s, symmetric_from_triangle_pullback


def lower_half_diagonal(m):
    """The lower triangle of ``m`` with its diagonal halved (Murray's Phi, for Cholesky's tangent)."""
    return np.tril(m) - 0.5 * (m * np.eye(np.shape(m)[-1]))


def δlower_half_diagonal(m):
    y = lower_half_diagonal(m)

    def lower_half_diagonal_pullback(dy):
        return lower_half_diagonal(dy)

    return y, lower_half_diagonal_pullback


@forward_form("δcholesky", applies=_is_false_or_absent("upper"))
def jvp_cholesky(a, a_dot, y, upper=False):
    # L' = L Phi(L^-1 S L^-T), S the symmetric matrix a_dot's lower triangle stands for.
    s = symmetric_from_triangle(a_dot, "L")
    half = np.linalg.solve(y, s)
    inner = np.swapaxes(np.linalg.solve(y, np.swapaxes(half, -1, -2)), -1, -2)
    return y @ lower_half_diagonal(inner)


def eigh_vectors(a, uplo):
    """The eigenvectors of the symmetric matrix the ``uplo`` triangle of ``a`` stands for."""
    return np.linalg.eigh(a, UPLO=uplo)[1]


def δeigh_vectors(a, uplo):
    w, v = np.linalg.eigh(a, UPLO=uplo)

    def eigh_vectors_pullback(dv):
        return eigh_partial(None, dv, w, v, uplo), None

    return v, eigh_vectors_pullback


@forward_form("δeigvalsh")
def jvp_eigvalsh(a, a_dot, y, UPLO="L"):
    # w_i' = v_i^T S v_i (distinct eigenvalues).
    v = eigh_vectors(a, UPLO)
    return xp.sum(v * (symmetric_from_triangle(a_dot, UPLO) @ v), axis=-2)


def svd_left(a):
    return np.linalg.svd(a, full_matrices=False)[0]


def svd_right(a):
    return np.linalg.svd(a, full_matrices=False)[2]


def δsvd_left(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)

    def svd_left_pullback(du):
        return svd_partial(du, None, None, a, u, s, vh, False)

    return u, svd_left_pullback


def δsvd_right(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)

    def svd_right_pullback(dvh):
        return svd_partial(None, None, dvh, a, u, s, vh, False)

    return vh, svd_right_pullback


@forward_form("δsvdvals")
def jvp_svdvals(a, a_dot, y):
    # s_i' = u_i^T A' v_i (distinct singular values).
    return xp.sum(svd_left(a) * (a_dot @ np.swapaxes(svd_right(a), -1, -2)), axis=-2)


def identity_rows(a):
    """The identity matrix of ``a``'s row count."""
    return np.eye(np.shape(a)[-2])


def identity_columns(a):
    return np.eye(np.shape(a)[-1])


@forward_form("δpinv", applies=_is_false_or_absent("hermitian"))
def jvp_pinv(a, a_dot, y, rcond=None, hermitian=False):
    # Golub & Pereyra (constant rank): P' = -P A' P + P P^T A'^T (I - A P) + (I - P A) A'^T P^T P.
    a_dot_t = np.swapaxes(a_dot, -1, -2)
    p_t = np.swapaxes(y, -1, -2)
    first = -(y @ a_dot @ y)
    second = y @ p_t @ a_dot_t @ (identity_rows(a) - a @ y)
    third = (identity_columns(a) - y @ a) @ a_dot_t @ p_t @ y
    return first + second + third


@forward_form("δmatrix_power", applies=_nonnegative_int("n"))
def jvp_matrix_power(a, a_dot, y, n):
    return matrix_power_tangent(a, a_dot, n)


def matrix_power_tangent(a, a_dot, n):
    """sum_k A^k A' A^(n-1-k), the tangent of A^n for n >= 0."""
    if n == 0:
        return 0.0 * a_dot
    powers = _powers(a, n)
    return sum(powers[k] @ a_dot @ powers[n - 1 - k] for k in range(n))


def _powers(a, n):
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a))]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    return powers


def δmatrix_power_tangent(a, a_dot, n):
    t = matrix_power_tangent(a, a_dot, n)

    def matrix_power_tangent_pullback(dt):
        if n == 0:
            return np.zeros(np.shape(a)), np.zeros(np.shape(a_dot)), None
        powers = _powers(a, n)
        dt_ = np.swapaxes(a_dot, -1, -2)
        d_dot = sum(np.swapaxes(powers[k], -1, -2) @ dt @ np.swapaxes(powers[n - 1 - k], -1, -2) for k in range(n))
        # <dt, P_k A' Q_k>: P_k = A^k gets dt Q_k^T A'^T, Q_k = A^(n-1-k) gets A'^T P_k^T dt.
        d_a = np.zeros(np.shape(a))
        for k in range(n):
            right = np.swapaxes(powers[n - 1 - k], -1, -2)
            d_a = d_a + matrix_power_partial(dt @ right @ dt_, a, k)
            d_a = d_a + matrix_power_partial(dt_ @ np.swapaxes(powers[k], -1, -2) @ dt, a, n - 1 - k)
        return d_a, d_dot, None

    return t, matrix_power_tangent_pullback


@forward_form("δmulti_dot")
def jvp_multi_dot(arrays, arrays_dot, y):
    return multi_dot_tangent(arrays, arrays_dot)


def multi_dot_tangent(arrays, arrays_dot):
    """The product rule over a chain: sum_i multi_dot(arrays with the i-th replaced by its tangent)."""
    return sum(np.linalg.multi_dot(_replaced(arrays, i, arrays_dot[i])) for i in range(len(arrays)))


def _replaced(items, i, value):
    return list(items[:i]) + [value] + list(items[i + 1:])


def δmulti_dot_tangent(arrays, arrays_dot):
    t = multi_dot_tangent(arrays, arrays_dot)

    def multi_dot_tangent_pullback(dt):
        d_arrays = [np.zeros(np.shape(a)) for a in arrays]
        d_dots = [np.zeros(np.shape(a)) for a in arrays]
        for i in range(len(arrays)):
            parts = multi_dot_partials(dt, _replaced(arrays, i, arrays_dot[i]))
            for j, part in enumerate(parts):
                if j == i:
                    d_dots[j] = d_dots[j] + part
                else:
                    d_arrays[j] = d_arrays[j] + part
        return d_arrays, d_dots

    return t, multi_dot_tangent_pullback


# ---- products and distances ----------------------------------------------------------------------------------

@forward_form("δprod")
def jvp_prod(x, x_dot, y, axis=None, dtype=None, out=None, keepdims=False):
    return prod_tangent(x, x_dot, axis, keepdims)


def prod_tangent(x, x_dot, axis, keepdims):
    """sum_i x_dot_i prod_{j != i} x_j over each lane (exact with zeros)."""
    return np.sum(prod_partial(1.0, x, axis, True) * x_dot, axis=axis, keepdims=keepdims)


def δprod_tangent(x, x_dot, axis, keepdims):
    t = prod_tangent(x, x_dot, axis, keepdims)

    def prod_tangent_pullback(dt):
        d_dot = prod_partial(dt, x, axis, keepdims)
        if np.ndim(x) == 0:
            return zeros_like(x), d_dot, None, None
        # d t / d x_k = sum_{i != k} x_dot_i prod_{j != i, k} x_j: for each position i of a lane, the
        # products of the others with x_i replaced by 1, minus the i = k term; no division, zeros exact.
        g = expand_reduced(dt, x, axis, keepdims)
        axes = _axes(axis, np.ndim(x))
        lanes, kept, _ = _move_to_end(np.asarray(x, dtype=float), axes)
        dots, _, _ = _move_to_end(np.asarray(x_dot, dtype=float) + 0.0 * np.asarray(x), axes)
        grads, _, _ = _move_to_end(np.asarray(g, dtype=float) + 0.0 * np.asarray(x), axes)
        total = np.zeros(lanes.shape)
        for i in range(lanes.shape[-1]):
            with_one = lanes.copy()
            with_one[..., i] = 1.0
            others = prod_partial(1.0, with_one, -1, True)
            others[..., i] = 0.0  # the term i = k is not a second derivative
            total = total + dots[..., i:i + 1] * others
        return _from_end(total * grads, x, axes, kept), d_dot, None, None

    return t, prod_tangent_pullback


@forward_form("δcumprod")
def jvp_cumprod(x, x_dot, y, axis=None, dtype=None):
    return cumprod_tangent(x, x_dot, axis)


def _lanes(a, axis):
    """``a`` (an array) with ``axis`` last; None flattens, as cumprod/cumsum do."""
    a = np.asarray(a, dtype=float)
    return a.reshape(1, -1) if axis is None else np.moveaxis(a, axis, -1)


def _unlanes(lanes, x, axis):
    return lanes.reshape(-1) if axis is None else np.moveaxis(lanes, -1, axis)


def cumprod_tangent(x, x_dot, axis):
    """y_i' = sum_{j <= i} x_j' prod_{k <= i, k != j} x_k along ``axis``: with x_j set to 1, the
    cumulative products from j on, one lane position at a time (no division: zeros are exact)."""
    if np.ndim(x) == 0:
        return np.reshape(x_dot + 0.0 * x, (1,))
    lanes, dots = _lanes(x, axis), _lanes(x_dot + 0.0 * np.asarray(x), axis)
    total = np.zeros(lanes.shape)
    for j in range(lanes.shape[-1]):
        with_one = lanes.copy()
        with_one[..., j] = 1.0
        products = np.cumprod(with_one, axis=-1)
        products[..., :j] = 0.0
        total = total + dots[..., j:j + 1] * products
    return _unlanes(total, x, axis)


def δcumprod_tangent(x, x_dot, axis):
    t = cumprod_tangent(x, x_dot, axis)

    def cumprod_tangent_pullback(dt):
        from .support import cumprod_partial

        if np.ndim(x) == 0:
            return zeros_like(x), np.reshape(dt, ()), None
        lanes, dots, grads = _lanes(x, axis), _lanes(x_dot + 0.0 * np.asarray(x), axis), _lanes(dt, axis)
        d_x, d_dot = np.zeros(lanes.shape), np.zeros(lanes.shape)
        for j in range(lanes.shape[-1]):
            with_one = lanes.copy()
            with_one[..., j] = 1.0
            tail = grads.copy()
            tail[..., :j] = 0.0  # only y_i with i >= j hold the term of x_j'
            part = cumprod_partial(tail, with_one, np.cumprod(with_one, axis=-1), -1)
            d_dot[..., j] = part[..., j]
            part[..., j] = 0.0  # x_j is the 1 put in its place: not a variable of this term
            d_x = d_x + dots[..., j:j + 1] * part
        shape = np.shape(x)
        return (np.reshape(_unlanes(d_x, x, axis), shape), np.reshape(_unlanes(d_dot, x, axis), shape), None)

    return t, cumprod_tangent_pullback


@forward_form("δinterp")
def jvp_interp(x, x_dot, points, fp, fp_dot, y, left=None, right=None):
    # Linear in fp (the same interpolation of fp's tangent; a constant left/right value has none) and
    # piecewise linear in x (the slope of the interval, itself linear in fp).
    along = np.interp(x, points, fp_dot, left=zero_unless_none(left), right=zero_unless_none(right))
    return interp_slope(x, points, fp, left, right) * x_dot + along


def zero_unless_none(value):
    """0.0 for a given value, None for None: the tangent of interp's constant left/right values."""
    return None if value is None else 0.0


def _interval(x, points):
    xs = np.asarray(x, dtype=float)
    pts = np.asarray(points, dtype=float)
    i = np.clip(np.searchsorted(pts, xs, side="right") - 1, 0, pts.size - 2)
    outside = (xs < pts[0]) | (xs > pts[-1])
    return i, pts[i + 1] - pts[i], outside


def interp_slope(x, points, fp, left, right):
    """The slope of np.interp at ``x`` (the interval to the right at a breakpoint, 0 outside the range)."""
    i, width, outside = _interval(x, points)
    vals = np.asarray(fp, dtype=float)
    slope = np.where(outside, 0.0, (vals[i + 1] - vals[i]) / width)
    return float(slope) if type(x) in (float, int) else slope


def δinterp_slope(x, points, fp, left, right):
    slope = interp_slope(x, points, fp, left, right)

    def interp_slope_pullback(ds):
        # Linear in fp: fp[i + 1] gets ds / width, fp[i] gets -ds / width; constant in x (piecewise).
        i, width, outside = _interval(x, points)
        share = np.where(outside, 0.0, np.asarray(ds, dtype=float) / width)
        dfp = np.zeros(np.size(fp))
        np.add.at(dfp, i + 1, share)
        np.add.at(dfp, i, -share)
        return zeros_like(x), None, np.reshape(dfp, np.shape(fp)), None, None

    return slope, interp_slope_pullback


@forward_form("δmath_prod")
def jvp_math_prod(x, x_dot, y, start=1):
    return list_prod_tangent(x, x_dot) * start


def list_prod_tangent(x, x_dot):
    """sum_i x_dot_i prod_{j != i} x_j for lists of numbers (exact with zeros)."""
    total = 0.0
    for i in range(len(x)):
        term = x_dot[i]
        for j, part in enumerate(x):
            if j != i:
                term = term * part
        total = total + term
    return total


def δlist_prod_tangent(x, x_dot):
    t = list_prod_tangent(x, x_dot)

    def list_prod_tangent_pullback(dt):
        n = len(x)
        d_dot = [dt * math.prod(x[j] for j in range(n) if j != i) for i in range(n)]
        d_x = [dt * sum(x_dot[i] * math.prod(x[j] for j in range(n) if j not in (i, k)) for i in range(n) if i != k)
               for k in range(n)]
        return d_x, d_dot

    return t, list_prod_tangent_pullback


@forward_form("δmath_dist")
def jvp_math_dist(p, p_dot, q, q_dot, y):
    return dist_tangent(p, p_dot, q, q_dot, y)


def dist_tangent(p, p_dot, q, q_dot, y):
    """<p - q, p_dot - q_dot> / |p - q|; 0 where the points coincide (as the rule's pullback)."""
    if not y:
        return 0.0
    return sum((a - b) * (da - db) for a, b, da, db in zip(p, q, p_dot, q_dot)) / y


def δdist_tangent(p, p_dot, q, q_dot, y):
    t = dist_tangent(p, p_dot, q, q_dot, y)

    def dist_tangent_pullback(dt):
        n = len(p)
        if not y:
            zeros = [0.0] * n
            return zeros, list(zeros), list(zeros), list(zeros), 0.0
        d = [a - b for a, b in zip(p, q)]
        dd = [da - db for da, db in zip(p_dot, q_dot)]
        # y is |d| (its own partials flow through the rule for math.dist): t = <d, dd> / y.
        d_p = [dt * ddi / y for ddi in dd]
        d_dot = [dt * di / y for di in d]
        d_y = -dt * t / y
        return d_p, d_dot, [-g for g in d_p], [-g for g in d_dot], d_y

    return t, dist_tangent_pullback


# ---- several outputs (a ``value`` calls the primal; the form returns one tangent per output) ----------------

def modf_value(x):
    return math.modf(x)


@forward_form("δmath_modf", value=modf_value, output=("frac", "whole"))
def jvp_modf(x, x_dot, frac, whole):
    return x_dot, 0.0 * x_dot  # the integer part is piecewise constant


def slogdet_value(a):
    return np.linalg.slogdet(a)


@forward_form("δslogdet", value=slogdet_value, output=("sign", "logabsdet"))
def jvp_slogdet(a, a_dot, sign, logabsdet):
    return 0.0 * sign, xp.trace(np.linalg.solve(a, a_dot), axis1=-2, axis2=-1)


def eigh_value(a, UPLO="L"):
    return np.linalg.eigh(a, UPLO=UPLO)


@forward_form("δeigh", value=eigh_value, output=("w", "v"))
def jvp_eigh(a, a_dot, w, v, UPLO="L"):
    # M = V^T S V: w' = diag(M), V' = V (F o M) with F[i, j] = 1 / (w_j - w_i) (0 on the diagonal and
    # for repeated eigenvalues, as the rule's pullback couples them).
    s_v = symmetric_from_triangle(a_dot, UPLO) @ v
    m = np.swapaxes(v, -1, -2) @ s_v
    gaps = xp.expand_dims(w, axis=-2) - xp.expand_dims(w, axis=-1)
    return xp.sum(v * s_v, axis=-2), v @ (safe_divide(1.0, gaps) * m)


# ---- rules whose primal is a helper: the helper gets the rule ---------------------------------------------------

def astype_tangent(t, y):
    """The tangent of ``x.astype(dtype)`` (result ``y``): ``t`` in y's dtype, zero for a cast to integers."""
    xp_ = namespace(y)
    if not xp_.isdtype(y.dtype, ("real floating", "complex floating")):
        return zeros_like(y)
    return t.astype(y.dtype) if type(t) is np.ndarray else xp_.astype(t, y.dtype)


def δastype_tangent(t, y):
    z = astype_tangent(t, y)

    def astype_tangent_pullback(dz):
        if not hasattr(t, "dtype") or not namespace(y).isdtype(y.dtype, ("real floating", "complex floating")):
            return zeros_like(t), zeros_like(y)
        return (dz.astype(t.dtype) if type(dz) is np.ndarray else namespace(dz).astype(dz, t.dtype)), zeros_like(y)

    return z, astype_tangent_pullback


@forward_form("δastype")
def jvp_astype(x, x_dot, y, dtype):
    return astype_tangent(x_dot, y)


# ---- the reverse rules of the helpers above, bound beside them in jvp modules ------------------------------------

def _pad_rule():
    from .numpy_shape import δpad  # np.pad's rule computes with pad_primal, which jvp code then calls

    return δpad


def _constant(fn):
    from .forward import _constant_rule

    return _constant_rule(fn)


HELPERS = [
    (clip_tangent, δclip_tangent), (extreme_tangent, δextreme_tangent), (median_weights, _constant(median_weights)),
    (polynomial_derivative, δpolynomial_derivative), (symmetric_from_triangle, δsymmetric_from_triangle),
    (lower_half_diagonal, δlower_half_diagonal), (eigh_vectors, δeigh_vectors), (svd_left, δsvd_left),
    (svd_right, δsvd_right), (identity_rows, _constant(identity_rows)), (identity_columns, _constant(identity_columns)),
    (matrix_power_tangent, δmatrix_power_tangent), (multi_dot_tangent, δmulti_dot_tangent),
    (prod_tangent, δprod_tangent), (list_prod_tangent, δlist_prod_tangent), (dist_tangent, δdist_tangent),
    (astype_tangent, δastype_tangent), (pad_primal, _pad_rule()), (cumprod_tangent, δcumprod_tangent),
    (interp_slope, δinterp_slope), (zero_unless_none, _constant(zero_unless_none)),
]
