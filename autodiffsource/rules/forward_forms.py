"""Forward forms for the rules that used to go through one pullback call per output element.

Contract: importing this module (``rules/forward.py`` does, at its end) registers, with
:func:`~autodiffsource.rules.forward.forward_form`, a written-out jvp for each of these rules, and a
reverse rule for every helper the forms call (in ``HELPER_RULES``), so that jvp code stays
differentiable by the reverse engine (second order: ``hvp``, ``hessian``). The conventions are those of
``rules/forward.py``: a form's parameters are the rule's parameters, ``<param>_dot`` for tangents (None
for an absent argument), and the rule's output (``y``, or the name given as ``output=``).

Four kinds of helper:

* *locally linear* operations (clip, builtin max/min, median): their Jacobian is piecewise constant, so
  the tangent is ``J @ t`` and the helper's reverse rule is the rule's own pullback for the tangents and
  zero for the primals (a second derivative of a piecewise-linear function is zero);
* *linear helpers* (the coefficients of a polynomial's derivative, the symmetric matrix a triangle
  stands for), whose reverse rule is their transpose;
* *sums of products* (matrix_power, multi_dot, prod, cumprod, math.prod, math.dist): the tangent is
  written out and its reverse rule differentiates it in the primals and the tangents, exactly, zeros
  included;
* tangents written in plain Python with branches (norms of every ord, weighted averages, logsumexp,
  negative matrix powers, lstsq), marked :func:`differentiable_source`: the reverse engine transforms
  them from their source like user code, so they need no reverse rule of their own.

Rules with several outputs (modf here; slogdet, eigh, svd, qr, lstsq in ``rules/forward_linalg.py``,
with the other linear-algebra forms) have a ``value`` that calls the primal (which the reverse engine
knows) and a form returning one tangent per output.
"""

from __future__ import annotations

import math

import numpy as np
import numpy as xp  # the stand-in name in forward forms; inlined code binds the run-time namespace

from ..runtime import expand_reduced, namespace, zeros_like
from ..runtime import namespace as array_namespace  # the name the reverse engine knows for a namespace factory
from .forward import _constant_rule, _is_false_or_absent, differentiable_source, extreme_weights, forward_form
from .forward import δsafe_divide  # noqa: F401  (found beside safe_divide by the differentiable_source functions)
from .forward_linalg import svd_left, svd_right, δsvd_left, δsvd_right  # noqa: F401  (the same, for norm_tangent)
from .support import _axes, _from_end, _move_to_end, clip_partials, clip_shares, extreme_of_partials
from .numpy_shape import pad_primal
from .support import median_partial, prod_partial, safe_divide
from .support_statistics import cov_tangent, quantile_tangent, δcov_tangent, δquantile_tangent


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


# quantile and percentile: linear in the tangent with piecewise-constant weights (support_statistics.py)
@forward_form("δquantile")
def jvp_quantile(a, a_dot, q, y, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    return quantile_tangent(a_dot, a, q, axis, keepdims, method, 1.0, False)


@forward_form("δpercentile")
def jvp_percentile(a, a_dot, q, y, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    return quantile_tangent(a_dot, a, q, axis, keepdims, method, 100.0, False)


@forward_form("δnanquantile")
def jvp_nanquantile(a, a_dot, q, y, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    return quantile_tangent(a_dot, a, q, axis, keepdims, method, 1.0, True)


@forward_form("δnanpercentile")
def jvp_nanpercentile(a, a_dot, q, y, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    return quantile_tangent(a_dot, a, q, axis, keepdims, method, 100.0, True)


# ---- cov, corrcoef, NaN-skipping reductions ----------------------------------------------------------------------

@forward_form("δcov", output="c")  # (the rule's second argument is named y: its output is c)
def jvp_cov(m, m_dot, c, y=None, y_dot=None, rowvar=True, bias=False, ddof=None):
    return cov_tangent(m_dot, y_dot, m, y, rowvar, bias, ddof)


@forward_form("δcorrcoef", output="r")
def jvp_corrcoef(x, x_dot, r, y=None, y_dot=None, rowvar=True):
    return corrcoef_tangent(x, x_dot, y, y_dot, rowvar)


@differentiable_source
def corrcoef_tangent(x, x_dot, y, y_dot, rowvar):
    """R' = C' / (s s^T) - R (h_i + h_j) with C = cov(x, y), s = sqrt(diag C), h = diag(C') / (2 diag C)."""
    c = np.cov(x, y, rowvar)
    c_dot = cov_tangent(x_dot, y_dot, x, y, rowvar, False, None)
    if np.ndim(c) == 0:
        return 0.0 * c_dot  # one variable: R is 1
    d = np.diagonal(c)
    s = np.sqrt(d)
    scale = np.outer(s, s)
    h = np.diagonal(c_dot) / (2.0 * d)
    return c_dot / scale - c / scale * (h[:, None] + h[None, :])


@forward_form("δnanvar")
def jvp_nanvar(x, x_dot, y, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    # NaN entries: NaN in `centred`, skipped by nansum.
    centred = x - np.nanmean(x, axis=axis, keepdims=True)
    count = np.sum(x == x, axis=axis, keepdims=keepdims)
    return np.nansum(centred * x_dot, axis=axis, keepdims=keepdims) * 2.0 / (count - ddof)


@forward_form("δnanstd")
def jvp_nanstd(x, x_dot, y, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    centred = x - np.nanmean(x, axis=axis, keepdims=True)
    count = np.sum(x == x, axis=axis, keepdims=keepdims)
    return safe_divide(np.nansum(centred * x_dot, axis=axis, keepdims=keepdims), y * (count - ddof))


@forward_form("δnanprod")
def jvp_nanprod(x, x_dot, y, axis=None, dtype=None, out=None, keepdims=False):
    # NaN entries read as 1 with a zero tangent.
    present = x == x
    return prod_tangent(xp.where(present, x, 1.0), xp.where(present, x_dot, 0.0), axis, keepdims)


@forward_form("δnancumsum")
def jvp_nancumsum(x, x_dot, y, axis=None, dtype=None):
    # `0.0 * x` puts NaN at the NaN entries of x: nancumsum then skips their tangents.
    return np.nancumsum(x_dot + 0.0 * x, axis=axis, dtype=dtype)


# ---- linear in the differentiated argument -----------------------------------------------------------------

@forward_form("δnanmean")
def jvp_nanmean(x, x_dot, y, axis=None, dtype=None, out=None, keepdims=False):
    # NaN entries are left out of the mean: `0.0 * x` puts NaN at exactly those places in the tangent.
    return np.nanmean(x_dot + 0.0 * x, axis=axis, keepdims=keepdims)


@forward_form("δaverage", applies=_is_false_or_absent("returned"))
def jvp_average(a, a_dot, y, axis=None, weights=None, weights_dot=None, returned=False, keepdims=False):
    return average_tangent(a, a_dot, weights, weights_dot, y, axis, keepdims)


@differentiable_source
def average_tangent(a, a_dot, weights, weights_dot, y, axis, keepdims):
    """(sum(a' w) + sum((a - y) w')) / sum(w) over ``axis``; 1-D weights lie along ``axis``."""
    if weights is None:
        return np.average(a_dot, axis=axis, keepdims=keepdims)
    w = weights
    w_dot = weights_dot
    if np.ndim(weights) == 1 and np.ndim(a) > 1:
        shape = [1] * np.ndim(a)
        shape[axis] = -1
        w = np.reshape(weights, shape)
        w_dot = np.reshape(weights_dot, shape)
    centre = y
    if axis is not None and not keepdims:
        centre = np.expand_dims(y, axis)
    total = np.sum(a_dot * w + (a - centre) * w_dot, axis=axis, keepdims=keepdims)
    return total / np.sum(w + 0.0 * a, axis=axis, keepdims=keepdims)


@forward_form("δpad")
def jvp_pad(x, x_dot, y, pad_width, mode="constant", constant_values=0):
    # The padding copies elements (edge, reflect, wrap) or is a constant: the tangent is padded with 0.
    return np.pad(x_dot, pad_width, mode=mode)


@forward_form("δnorm")
def jvp_norm(x, x_dot, y, ord=None, axis=None, keepdims=False):
    return norm_tangent(x, x_dot, y, ord, axis, keepdims, False)


@forward_form("δvector_norm")
def jvp_vector_norm(x, x_dot, y, axis=None, keepdims=False, ord=2):
    return norm_tangent(x, x_dot, y, ord, axis, keepdims, True)


@forward_form("δmatrix_norm")
def jvp_matrix_norm(x, x_dot, y, keepdims=False, ord="fro"):
    return norm_tangent(x, x_dot, y, ord, (-2, -1), keepdims, False)


@forward_form("δscipy_norm")
def jvp_scipy_norm(a, a_dot, y, ord=None, axis=None, keepdims=False, check_finite=True):
    return norm_tangent(a, a_dot, y, ord, axis, keepdims, False)  # (NumPy's norm; its input is named a)


@differentiable_source
def norm_tangent(x, x_dot, y, ord, axis, keepdims, vector):
    """The tangent of ``np.linalg.norm(x, ord, axis, keepdims)`` = y, for every ord NumPy has
    (``vector``: np.linalg.vector_norm, where two axes are one vector too)."""
    matrix = not vector and ((axis is None and np.ndim(x) == 2 and ord is not None)
                             or (type(axis) is tuple and len(axis) == 2))
    if not matrix:
        if ord is None or ord == 2 or ord == "fro":
            return safe_divide(np.sum(x * x_dot, axis=axis, keepdims=keepdims), y)
        if ord == np.inf or ord == -np.inf:
            at_extreme = extreme_weights(np.abs(x), y, axis, keepdims)
            return np.sum(at_extreme * np.sign(x) * x_dot, axis=axis, keepdims=keepdims)
        if ord == 0:
            return 0.0 * y
        if ord == 1:
            return np.sum(np.sign(x) * x_dot, axis=axis, keepdims=keepdims)
        powers = np.abs(x) ** (ord - 1) * np.sign(x)
        return safe_divide(np.sum(powers * x_dot, axis=axis, keepdims=keepdims), y ** (ord - 1))
    axes = (0, 1) if axis is None else axis
    if ord is None or ord == "fro":
        return safe_divide(np.sum(x * x_dot, axis=axes, keepdims=keepdims), y)
    if ord == "nuc" or ord == 2 or ord == -2:
        # s_i' = u_i^T X' v_i on the matrices moved to the last two axes
        moved = np.moveaxis(x, axes, (-2, -1))
        moved_dot = np.moveaxis(x_dot, axes, (-2, -1))
        rates = np.sum(svd_left(moved) * (moved_dot @ np.swapaxes(svd_right(moved), -1, -2)), axis=-2)
        if ord == "nuc":
            return np.reshape(np.sum(rates, axis=-1), np.shape(y))
        if ord == 2:
            return np.reshape(rates[..., 0], np.shape(y))
        return np.reshape(rates[..., -1], np.shape(y))
    # 1 / -1: the largest / smallest column sum of |x|; inf / -inf: the same over rows.
    summed = axes[0] if ord == 1 or ord == -1 else axes[1]
    other = axes[1] if ord == 1 or ord == -1 else axes[0]
    sums = np.sum(np.abs(x), axis=summed, keepdims=True)
    if ord == 1 or ord == np.inf:
        extreme = np.max(sums, axis=other, keepdims=True)
    else:
        extreme = np.min(sums, axis=other, keepdims=True)
    at_extreme = extreme_weights(sums, extreme, other, True)
    return np.sum(at_extreme * np.sign(x) * x_dot, axis=axes, keepdims=keepdims)


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


@forward_form("δlogsumexp")
def jvp_logsumexp(a, a_dot, y, axis=None, b=None, b_dot=None, keepdims=False, return_sign=False):
    return logsumexp_tangent(a, a_dot, b, b_dot, y, axis, keepdims)


@differentiable_source
def logsumexp_tangent(a, a_dot, b, b_dot, y, axis, keepdims):
    """y = log sum(b exp(a)): y' = sum(exp(a - y) (b a' + b'))  (b = 1 when absent)."""
    xp = array_namespace(a)
    weights = xp.exp(a - expand_reduced(y, a, axis, keepdims))
    if b is None:
        return xp.sum(weights * a_dot, axis=axis, keepdims=keepdims)
    return xp.sum(weights * (b * a_dot + b_dot), axis=axis, keepdims=keepdims)


def δexpand_reduced(y, x, axis, keepdims):
    """The reverse rule of ``expand_reduced`` (broadcast a reduction's result back over ``axis``)."""
    z = expand_reduced(y, x, axis, keepdims)

    def expand_reduced_pullback(dz):
        xp_ = namespace(dz)
        dy = xp_.sum(dz, axis=axis, keepdims=keepdims) if axis is not None or keepdims else xp_.sum(dz)
        if keepdims and axis is None:
            dy = xp_.reshape(xp_.sum(dz), tuple(getattr(y, "shape", ())))
        return dy, zeros_like(x), None, None

    return z, expand_reduced_pullback


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


@forward_form("δcumprod", "δcumulative_prod")
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


# The reverse rules the differentiable_source functions find beside the helpers they call (δname).
δextreme_weights = _constant_rule(extreme_weights)


# ---- the reverse rules of the helpers above, bound beside them in jvp modules ------------------------------------

def _pad_rule():
    from .numpy_shape import δpad  # np.pad's rule computes with pad_primal, which jvp code then calls

    return δpad


def _difference_rules():
    # np.gradient's and np.ediff1d's rules compute with these helpers (on the array's own library), which
    # jvp code then calls (the rules are linear: their forward computation applied to the tangents)
    from .numpy_reductions import δediff1d, δgradient
    from .support_differences import ediff1d_primal, gradient_primal

    return [(gradient_primal, δgradient), (ediff1d_primal, δediff1d)]


def _constant(fn):
    from .forward import _constant_rule

    return _constant_rule(fn)


HELPERS = [
    (clip_tangent, δclip_tangent), (extreme_tangent, δextreme_tangent), (median_weights, _constant(median_weights)),
    (polynomial_derivative, δpolynomial_derivative),
    (prod_tangent, δprod_tangent), (list_prod_tangent, δlist_prod_tangent), (dist_tangent, δdist_tangent),
    (astype_tangent, δastype_tangent), (pad_primal, _pad_rule()), (cumprod_tangent, δcumprod_tangent),
    (interp_slope, δinterp_slope), (zero_unless_none, _constant(zero_unless_none)), *_difference_rules(),
    (quantile_tangent, δquantile_tangent), (cov_tangent, δcov_tangent),
]
