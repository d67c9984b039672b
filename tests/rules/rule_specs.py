"""The rule table's test specs: for every registered rule, the user functions that exercise it.

Each entry is a list of :class:`Case` built by the helpers in ``rule_harness`` (``unary`` crosses the
standard shapes, ``binary`` the broadcast pairs, ``reduction`` the axis/keepdims variants). The coverage
test in ``test_rule_table.py`` fails when a rule is registered without a case here.
"""

from __future__ import annotations

import builtins
import math
import operator

import numpy as np
import scipy.special as special

from autodiffsource.rules.numpy_shape import matrix_T
from autodiffsource.rules.operator import identity, list_getitem, power_by_constant
from autodiffsource.runtime import augmented_result
from rule_harness import (PY, above_one, binary, case, erfc_range, full_rank, infix, nonzero, positive,
                          probability, real, reduction, spread, symmetric_positive, unary, unit,
                          well_conditioned)

M = "method:"  # cover key prefix for array methods
S3, S34, S234 = (3,), (3, 4), (2, 3, 4)

CASES = []
add = CASES.extend

# ---- NumPy elementwise, one argument --------------------------------------------------------------------
for name, domain in [("exp", real), ("exp2", real), ("expm1", real), ("log", positive), ("log2", positive),
                     ("log10", positive), ("log1p", positive), ("sqrt", positive), ("cbrt", nonzero),
                     ("square", real), ("reciprocal", nonzero), ("abs", nonzero), ("fabs", nonzero),
                     ("negative", real), ("positive", real), ("real", real), ("nan_to_num", real),
                     ("sin", real), ("cos", real), ("tan", unit), ("arcsin", unit), ("arccos", unit),
                     ("arctan", real), ("sinh", real), ("cosh", real), ("tanh", real), ("arcsinh", real),
                     ("arccosh", above_one), ("arctanh", unit), ("deg2rad", real), ("radians", real),
                     ("rad2deg", real), ("degrees", real), ("sinc", nonzero)]:
    add(unary(f"np.{name}", getattr(np, name), domain))
add([case("x.conj()", [(real, S34)], M + "conj"), case("x.conjugate()", [(real, S3)], M + "conjugate")])

# ---- NumPy elementwise, two and three arguments ---------------------------------------------------------
for name, dx, dy in [("add", real, real), ("subtract", real, real), ("multiply", real, real),
                     ("divide", real, nonzero), ("power", positive, real), ("float_power", positive, real),
                     ("maximum", spread, real), ("minimum", spread, real), ("fmax", spread, real),
                     ("fmin", spread, real), ("hypot", nonzero, real), ("arctan2", real, nonzero),
                     ("logaddexp", real, real), ("logaddexp2", real, real), ("mod", real, positive),
                     ("fmod", real, positive), ("copysign", nonzero, nonzero)]:
    add(binary(f"np.{name}", getattr(np, name), dx, dy))
add([case("np.where(x > 0.1, x, y)", [(real, a), (real, b)], np.where)
     for a, b in [((5,), (5,)), (S34, ()), ((3, 1), (1, 4)), (PY, S34)]])
add([case("np.clip(x, -0.5, 0.7)", [(real, s)], np.clip) for s in (PY, (), (5,), S34)])
add([case("np.clip(x, y, 1.5)", [(real, S34), (unit, (4,))], np.clip),
     case("np.clip(x, None, y)", [(real, S34), (unit, ())], np.clip),
     case("np.clip(x, y, z)", [(real, S34), (unit, (3, 1)), (above_one, (4,))], np.clip),
     case("x.clip(-0.5, 0.5)", [(real, S34)], M + "clip")])

# ---- operators ------------------------------------------------------------------------------------------
add(infix("+", operator.add) + infix("-", operator.sub) + infix("*", operator.mul))
add(infix("/", operator.truediv, dy=nonzero) + infix("**", operator.pow, dx=positive))
add(infix("%", operator.mod, dy=positive, pairs=[((5,), (5,)), (PY, PY)]))
add([case("-x", [(real, s)], operator.neg) for s in (PY, (5,))])
add([case("+x", [(real, s)], operator.pos) for s in (PY, (5,))])
add([case("x ** 3", [(real, s)], power_by_constant) for s in (PY, (), S34)])
add([case("x ** 2 + x ** -1.5", [(positive, S34)], power_by_constant)])
add([case("x @ y", [(real, a), (real, b)], operator.matmul)
     for a, b in [(S34, (4, 2)), (S234, (4, 2)), ((4,), (4, 2)), (S34, (4,)), ((4,), (4,))]])
for op, fn in [("iadd", operator.iadd), ("isub", operator.isub), ("imul", operator.imul),
               ("itruediv", operator.itruediv), ("ipow", operator.ipow), ("imatmul", operator.imatmul)]:
    shapes = [(S34, (4, 4))] if op == "imatmul" else [((5,), (5,))]
    dy = nonzero if op == "itruediv" else real
    dx = positive if op == "ipow" else real
    add([case(f"operator.{op}(x * 1.0, y)", [(dx, a), (dy, b)], fn) for a, b in shapes])
add([case("y = x\n    z = y * y\n    return z", [(real, (5,))], identity, name="alias")])
# `a += e` where no other name holds a: rebound, cast as NumPy's in-place operator casts
add([case("a = x * 1.0\n    a += y * a\n    return a", [(real, a), (real, b)], augmented_result,
          name="augmented assignment") for a, b in [(PY, PY), ((5,), (5,)), (S34, (4,))]])
add([case("x.T", [(real, s)], matrix_T) for s in (S34, S234)])
# a list the function appends to: reads keep its length (rules/operator.py list_getitem)
add([case("items = [x, x * 2.0]\n    first = items[0] * items[-1]\n    items.append(first)\n"
          "    return items[2] + items[1]", [(real, s)], list_getitem, name="growing list") for s in (PY, (5,))])

# getitem: basic slices with negative steps, repeated integer indices, masks, None/..., mixed
add([case(f"x[{index}]", [(real, shape)], operator.getitem) for index, shape in [
    ("1:", (5,)), ("::-1", (5,)), ("::-2", (5,)), ("IDX", (5,)), ("MASK", (5,)), ("None", (5,)),
    ("..., 0", S34), (":, IDX", S34), ("IDX3, 1:3", S34), ("1", S34), ("-1, ::2", S34), ("MASK34", S34),
    ("None, ..., 1", S34), ("IDX3", S34), ("0, 1", S34)]])

# ---- reductions -----------------------------------------------------------------------------------------
add(reduction("np.sum", np.sum) + reduction("np.prod", np.prod) + reduction("np.mean", np.mean))
add(reduction("np.var", np.var) + reduction("np.std", np.std))
add(reduction("np.var", np.var, extra="ddof=1", zero_d=False)[:4])
add(reduction("np.std", np.std, extra="ddof=1", zero_d=False)[:4])
add(reduction("np.max", np.max, spread) + reduction("np.amax", np.amax, spread, zero_d=False)[:3])
add(reduction("np.min", np.min, spread) + reduction("np.amin", np.amin, spread, zero_d=False)[:3])
add(reduction("np.ptp", np.ptp, spread, zero_d=False))
add(reduction("np.median", np.median, spread, zero_d=False) + [case("np.median(x)", [(spread, (4,))], np.median)])
# quantiles: a number and lists of q, axes, keepdims, the methods other than 'linear' (spread: no ties)
add([case(f"np.{fn}(x, {q}{a})", [(spread, s)], getattr(np, fn))
     for fn, q in [("quantile", "0.3"), ("percentile", "[10.0, 62.5]"), ("nanquantile", "[0.3, 0.75]"),
                   ("nanpercentile", "40.0")]
     for s, a in [((5,), ""), (S34, ", axis=1"), (S34, ", axis=0, keepdims=True"), (S234, ", axis=(0, 2)")]]
    + [case(f"np.quantile(x, 0.4{a})", [(spread, (6,))], np.quantile) for a in (
        ", method='hazen'", ", method='nearest'", ", method='lower'", ", method='midpoint'", ", method='weibull'",
        ", method='inverted_cdf'", ", method='averaged_inverted_cdf'")]
    + [case(f"np.{fn}(x, {q})", [(real, s)], getattr(np, fn)) for fn, q in [("quantile", "0.3"), ("percentile", "70")]
       for s in (PY, ())])
# cov and corrcoef: rows or columns of variables, a second input, bias and ddof; NaN-skipping var, std, prod, cumsum
add([case(f"np.cov(x{a})", [(real, s)], np.cov) for s, a in [
    (S34, ""), ((5,), ""), (S34, ", rowvar=False"), (S34, ", bias=True"), (S34, ", ddof=0")]]
    + [case(f"np.cov(x, y{a})", [(real, s), (real, t)], np.cov) for s, t, a in [
        (S34, (2, 4), ""), ((5,), (5,), ", ddof=2"), (S34, (3,), ", rowvar=False"), ((4, 3), (1, 4), ", rowvar=False"),
        ((4, 2), (4, 3), ", rowvar=False")]]
    + [case(f"np.corrcoef(x{a})", [(real, s)], np.corrcoef, rtol=1e-4)
       for s, a in [(S34, ""), ((5, 3), ", rowvar=False")]]
    + [case("np.corrcoef(x, y)", [(real, s), (real, t)], np.corrcoef, rtol=1e-4) for s, t in [((5,), (5,)),
                                                                                           (S34, (2, 4))]])
add(reduction("np.nanvar", np.nanvar, zero_d=False)[:5] + reduction("np.nanstd", np.nanstd, zero_d=False)[:5]
    + reduction("np.nanvar", np.nanvar, extra="ddof=1", zero_d=False)[2:5]
    + reduction("np.nanstd", np.nanstd, extra="ddof=1", zero_d=False)[2:5]
    + reduction("np.nanprod", np.nanprod, zero_d=False)[:6]
    + [case(f"np.nancumsum(x{a})", [(real, s)], np.nancumsum) for s, a in [((5,), ""), (S34, ""), (S34, ", axis=0"),
                                                                         (S34, ", axis=-1")]])
add(reduction("np.nansum", np.nansum, zero_d=False)[:5] + reduction("np.nanmean", np.nanmean, zero_d=False)[:5])
add([case("np.average(x)", [(real, S34)], np.average),
     case("np.average(x, axis=1, weights=y)", [(real, S34), (positive, (4,))], np.average),
     case("np.average(x, axis=0, weights=y)", [(real, S34), (positive, S34)], np.average),
     case("np.average(x, weights=y)", [(real, (5,)), (positive, (5,))], np.average),
     case("np.average(x, axis=1, weights=y, keepdims=True)", [(real, S34), (positive, (4,))], np.average)])
add([case(f"np.cumsum(x{a})", [(real, s)], np.cumsum) for s, a in [((5,), ""), (S34, ""), (S34, ", axis=0"),
                                                                   (S34, ", axis=1"), (S234, ", axis=-1")]])
add([case(f"np.cumprod(x{a})", [(real, s)], np.cumprod) for s, a in [((5,), ""), (S34, ""), (S34, ", axis=0"),
                                                                     (S34, ", axis=1")]])
add([case("np.trace(x)", [(real, s)], np.trace) for s in (S34, (4, 4))]
    + [case("np.trace(x, 1)", [(real, S34)], np.trace),
       case("np.trace(x, -1, 1, 2)", [(real, S234)], np.trace)])
for method, body in [("sum", "x.sum(axis=0)"), ("mean", "x.mean(1)"), ("max", "x.max(axis=0)"),
                     ("min", "x.min()"), ("prod", "x.prod(axis=1)"), ("var", "x.var(ddof=1)"),
                     ("std", "x.std(axis=0)"), ("cumsum", "x.cumsum(axis=1)"), ("cumprod", "x.cumprod()"),
                     ("trace", "x.trace()")]:
    add([case(body, [(spread, S34)], M + method)])

# ---- norms ----------------------------------------------------------------------------------------------
add([case(f"np.linalg.norm(x{a})", [(nonzero, s)], np.linalg.norm) for s, a in [
    ((5,), ""), ((5,), ", 1"), ((5,), ", 2"), ((5,), ", np.inf"), ((5,), ", -np.inf"), ((5,), ", 3"),
    (S34, ""), (S34, ", axis=1"), (S34, ", 1, axis=0"), (S34, ", np.inf, axis=1, keepdims=True"),
    (S34, ", 'fro'"), (S234, ", 'fro', axis=(1, 2)"), (S234, ", axis=(0, 2), keepdims=True")]])
add([case(f"np.linalg.norm(x, {o})", [(full_rank, S34)], np.linalg.norm, rtol=1e-4)
     for o in ("'nuc'", "2", "-2")])
add([case(f"np.linalg.norm(x, {o})", [(spread, S34)], np.linalg.norm) for o in ("1", "-1", "np.inf", "-np.inf")])

# ---- products -------------------------------------------------------------------------------------------
add([case("np.dot(x, y)", [(real, a), (real, b)], np.dot) for a, b in [
    ((5,), (5,)), (S34, (4,)), ((4,), (4, 2)), (S34, (4, 2)), ((), S34)]]
    # np.dot(float, float32 array) is float64 in NumPy but float32 here (a weak Python scalar): float64 only
    + [case("np.dot(x, y)", [(real, PY), (real, (3,))], np.dot, float32=False)])
add([case("x.dot(y)", [(real, S34), (real, (4, 2))], M + "dot")])
add([case("np.matmul(x, y)", [(real, a), (real, b)], np.matmul) for a, b in [
    (S34, (4, 2)), (S234, (4, 5)), (S234, (2, 4, 5)), ((4,), (4, 2)), (S34, (4,)), ((1, 3, 4), (2, 4, 2)),
    ((4,), (2, 4, 3))]])
add([case("np.vdot(x, y)", [(real, a), (real, a)], np.vdot) for a in [(5,), S34]])
add([case("np.inner(x, y)", [(real, a), (real, b)], np.inner) for a, b in [((5,), (5,)), (S34, (2, 4)), ((), (5,)),
                                                                         (S234, (4,))]])
add([case("np.outer(x, y)", [(real, a), (real, b)], np.outer) for a, b in [((3,), (4,)), ((2, 2), (3,))]])
add([case(f"np.tensordot(x, y{a})", [(real, s), (real, t)], np.tensordot) for s, t, a in [
    (S34, (4, 2), ", 1"), (S234, (3, 4, 5), ""), (S34, (4, 3), ", axes=([1, 0], [0, 1])"),
    ((2,), (3,), ", 0"), (S234, (4, 2), ", axes=([2], [0])"), (S234, (2, 5, 3), ", axes=([0, 1], [0, 2])")]])
add([case(f"np.einsum('{spec}', {', '.join('xyzw'[:len(shapes)])})", [(real, s) for s in shapes], np.einsum)
     for spec, shapes in [
         ("ij,jk->ik", [S34, (4, 2)]), ("ii->", [(3, 3)]), ("ij->i", [S34]), ("ij->", [S34]),
         ("i,i->", [(5,), (5,)]), ("bij,bjk->bik", [S234, (2, 4, 3)]), ("...ij,...jk->...ik", [S234, (4, 2)]),
         ("ij,jk", [S34, (4, 2)]), ("ii->i", [(3, 3)]), ("ij,ij->ij", [S34, S34]), ("ijk->kji", [S234]),
         ("i,j,k->ijk", [(2,), (3,), (2,)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
         ("iij->j", [(3, 3, 2)]), ("i,i,i,i->", [(3,), (3,), (3,), (3,)])]])
add([case("np.kron(x, y)", [(real, a), (real, b)], np.kron) for a, b in [((2, 2), (2, 3)), ((3,), (2,)),
                                                                       ((2,), (2, 3))]])
add([case("np.cross(x, y)", [(real, a), (real, b)], np.cross) for a, b in [((3,), (3,)), ((4, 3), (4, 3)),
                                                                         ((2, 3), (3,))]]
    + [case("np.cross(x, y, axis=0)", [(real, (3, 2)), (real, (3, 2))], np.cross)])

# ---- shape and data movement ----------------------------------------------------------------------------
add([case(b, [(real, s)], np.reshape) for b, s in [("np.reshape(x, (4, 3))", S34), ("np.reshape(x, (2, -1))", S34),
                                                    ("np.reshape(x, (1, 5))", (5,))]])
add([case(b, [(real, s)], M + "reshape") for b, s in [("x.reshape(4, 3)", S34), ("x.reshape(-1)", S34),
                                                       ("x.reshape((2, 6))", S34)]])
add([case("np.ravel(x)", [(real, s)], np.ravel) for s in (S34, ())]
    + [case("x.ravel()", [(real, S34)], M + "ravel"), case("x.flatten()", [(real, S234)], M + "flatten")])
add([case(b, [(real, s)], np.squeeze) for b, s in [("np.squeeze(x)", (1, 3, 1)), ("np.squeeze(x, axis=0)", (1, 3, 1))]]
    + [case("x.squeeze()", [(real, (3, 1))], M + "squeeze")])
add([case(b, [(real, s)], np.expand_dims) for b, s in [("np.expand_dims(x, 0)", S34), ("np.expand_dims(x, -1)", (5,)),
                                                        ("np.expand_dims(x, (0, 2))", S34)]])
add([case(f"np.atleast_{n}d(x)", [(real, s)], getattr(np, f"atleast_{n}d")) for n in (1, 2, 3) for s in ((), (5,), S34)])
add([case(b, [(real, s)], np.broadcast_to) for b, s in [("np.broadcast_to(x, (3, 4))", (4,)),
                                                         ("np.broadcast_to(x, (2, 3))", ()),
                                                         ("np.broadcast_to(x, (3, 4))", (3, 1))]])
add([case(b, [(real, s)], np.transpose) for b, s in [("np.transpose(x)", S34), ("np.transpose(x, (1, 0, 2))", S234),
                                                      ("np.transpose(x, (2, 0, 1))", S234)]]
    + [case("x.transpose()", [(real, S34)], M + "transpose"),
       case("x.transpose(1, 2, 0)", [(real, S234)], M + "transpose")])
add([case("np.swapaxes(x, 0, 2)", [(real, S234)], np.swapaxes), case("x.swapaxes(0, 1)", [(real, S34)], M + "swapaxes")])
add([case(b, [(real, S234)], np.moveaxis) for b in ("np.moveaxis(x, 0, -1)", "np.moveaxis(x, (0, 1), (2, 0))")])
add([case(f"np.flip(x{a})", [(real, S34)], np.flip) for a in ("", ", 0", ", (0, 1)", ", axis=-1")]
    + [case("np.fliplr(x)", [(real, S34)], np.fliplr), case("np.flipud(x)", [(real, S34)], np.flipud)])
add([case(f"np.roll(x, {a})", [(real, s)], np.roll) for s, a in [((5,), "2"), (S34, "1, axis=1"),
                                                                 (S34, "(1, 2), axis=(0, 1)"), (S34, "5")]])
add([case(f"np.rot90(x{a})", [(real, S34)], np.rot90) for a in ("", ", 2", ", -1", ", 1, (1, 0)")])
add([case(f"np.tile(x, {r})", [(real, s)], np.tile) for s, r in [((3,), "2"), ((2, 3), "(2, 1)"), ((3,), "(2, 2)"),
                                                                 ((2, 3), "3")]])
add([case(f"np.repeat(x, {r})", [(real, s)], np.repeat) for s, r in [((3,), "2"), ((2, 3), "2, axis=1"),
                                                                     ((2, 3), "[1, 0, 2], axis=1"), ((2, 3), "2")]]
    + [case("x.repeat(2, axis=0)", [(real, (2, 3))], M + "repeat")])
add([case(f"np.pad(x, {a})", [(real, s)], np.pad) for s, a in [
    (S34, "1"), (S34, "((1, 0), (2, 1))"), ((5,), "2, mode='edge'"), ((5,), "(2, 3), mode='reflect'"),
    (S34, "1, mode='symmetric'"), (S34, "((2, 1), (1, 3)), mode='wrap'"), (S34, "1, constant_values=0.5")]])
add([case(f"np.take(x, {a})", [(real, s)], np.take) for s, a in [((5,), "IDX"), (S34, "IDX, axis=1"),
                                                                 (S34, "IDX3, axis=0"), (S34, "IDX")]]
    + [case("x.take(IDX3)", [(real, (5,))], M + "take")])
add([case(f"np.compress({c}, x{a})", [(real, s)], np.compress) for s, c, a in [
    ((5,), "MASK", ""), (S34, "[True, False, True]", ", axis=0"), (S34, "[False, True, True]", ", axis=1"),
    (S34, "x[0] > 0.0", ", axis=1"), (S34, "MASK", "")]]
    + [case(f"np.extract({c}, x)", [(real, s)], np.extract) for s, c in [(S34, "MASK34"), ((5,), "x > 0.1")]])
add([case(f"np.sort(x{a})", [(spread, s)], np.sort) for s, a in [((5,), ""), (S34, ""), (S34, ", axis=0"),
                                                                 (S34, ", axis=None")]])
add([case(f"np.diag(x{a})", [(real, s)], np.diag) for s, a in [((4,), ""), ((3,), ", 1"), ((3,), ", -2"),
                                                               (S34, ""), (S34, ", 1"), ((4, 3), ", -1")]])
add([case(f"np.diagonal(x{a})", [(real, s)], np.diagonal) for s, a in [(S34, ""), (S34, ", 1"),
                                                                       (S234, ", 0, 1, 2"), (S234, ", -1, 2, 0")]]
    + [case("x.diagonal()", [(real, S34)], M + "diagonal")])
add([case(f"np.{fn}(x{a})", [(real, s)], getattr(np, fn)) for fn in ("triu", "tril")
     for s, a in [(S34, ""), (S34, ", 1"), (S34, ", -1"), ((2, 3, 3), "")]])
add([case(b, [(real, s)], M + "astype") for b, s in [("x.astype(float)", S34), ("x.astype(np.float64)", (5,))]]
    + [case("x.astype(int) * 1.0 + x", [(real, (5,))], M + "astype")])
add([case(f"np.{fn}(x)", [(real, s)], getattr(np, fn)) for fn in ("asarray", "array", "asanyarray",
                                                                  "ascontiguousarray", "asfortranarray", "copy")
     for s in ((), S34)]
    + [case("x.copy()", [(real, S34)], M + "copy"), case("np.asarray(x, dtype=float)", [(real, (5,))], np.asarray)])
add([case(f"np.{fn}(x)", [(real, s)], getattr(np, fn), float32=False) for fn in ("float64", "double")
     for s in (PY, (), S34)]
    # float32 rounding needs a coarse difference step to see the identity underneath
    + [case(f"np.{fn}(x)", [(real, s)], getattr(np, fn), float32=False, rtol=1e-3, step=1e-2)
       for fn in ("float32", "single")
       for s in (PY, S34)])
add([case("x.item()", [(real, s)], M + "item") for s in ((1,), (1, 1))])

# ---- linear algebra -------------------------------------------------------------------------------------
L = np.linalg
add([case("np.linalg.inv(x)", [(well_conditioned, s)], L.inv) for s in ((3, 3), (2, 3, 3))])
add([case("np.linalg.det(x)", [(well_conditioned, s)], L.det) for s in ((3, 3), (2, 3, 3))])
add([case("sign, logdet = np.linalg.slogdet(x)\n    return logdet * sign", [(well_conditioned, s)], L.slogdet,
          name="slogdet") for s in ((3, 3), (2, 3, 3))])
add([case("np.linalg.solve(x, y)", [(well_conditioned, a), (real, b)], L.solve)
     for a, b in [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 2)), ((2, 3, 3), (3, 1))]])
add([case("np.linalg.cholesky(x)", [(symmetric_positive, s)], L.cholesky, rtol=1e-4) for s in ((3, 3), (2, 3, 3))]
    + [case("np.linalg.cholesky(x, upper=True)", [(symmetric_positive, (3, 3))], L.cholesky, rtol=1e-4)])
add([case(f"w, v = np.linalg.eigh(x{a})\n    return w, v * v", [(symmetric_positive, s)], L.eigh, name=f"eigh{a}",
          rtol=1e-4) for s, a in [((3, 3), ""), ((2, 3, 3), ""), ((3, 3), ", UPLO='U'")]])
add([case("np.linalg.eigvalsh(x)", [(symmetric_positive, (3, 3))], L.eigvalsh, rtol=1e-4)])
add([case("np.linalg.pinv(x)", [(full_rank, s)], L.pinv, rtol=1e-4) for s in ((4, 3), (3, 4), (3, 3))])
add([case(f"u, s, vh = np.linalg.svd(x{a})\n    return u * u, s, vh * vh", [(full_rank, s)], L.svd,
          name=f"svd{a}", rtol=1e-4)
     for s, a in [((4, 3), ", full_matrices=False"), ((3, 4), ", full_matrices=False"), ((3, 3), ""),
                  ((2, 4, 3), ", full_matrices=False")]]
    + [case("u, s, vh = np.linalg.svd(x, full_matrices=False)\n    return (u * s) @ vh", [(full_rank, (4, 3))],
            L.svd, name="svd-reconstruct", rtol=1e-4)])
add([case("np.linalg.svdvals(x)", [(full_rank, s)], L.svdvals, rtol=1e-4) for s in ((4, 3), (3, 3))])
add([case("q, r = np.linalg.qr(x)\n    return q, r", [(full_rank, s)], L.qr, name="qr", rtol=1e-4)
     for s in ((4, 3), (3, 3), (2, 4, 3))])
add([case("sol, res, rank, sv = np.linalg.lstsq(x, y)\n    return sol, res", [(full_rank, a), (real, b)], L.lstsq,
          name="lstsq", rtol=1e-4) for a, b in [((4, 3), (4,)), ((4, 3), (4, 2)), ((3, 3), (3,))]]
    + [case("sol, res, rank, sv = np.linalg.lstsq(x, y)\n    return sol", [(full_rank, (3, 4)), (real, (3,))],
            L.lstsq, name="lstsq-wide", rtol=1e-4)])

# ---- scipy.special --------------------------------------------------------------------------------------
for name, domain in [("erf", real), ("erfc", real), ("erfinv", unit), ("erfcinv", erfc_range), ("ndtr", real),
                     ("log_ndtr", real), ("ndtri", probability), ("gamma", positive), ("gammaln", positive),
                     ("digamma", positive), ("psi", positive), ("expit", real), ("logit", probability),
                     ("log_expit", real), ("entr", positive), ("i0", real), ("i1", real), ("i0e", nonzero)]:
    add(unary(f"special.{name}", getattr(special, name), domain, shapes=[PY, (5,), S34]))
add([case(f"special.polygamma({n}, x)", [(positive, s)], special.polygamma) for n in (1, 2) for s in ((5,), PY)])
for name, dx, dy in [("xlogy", real, positive), ("xlog1py", real, positive), ("betaln", positive, positive),
                     ("beta", positive, positive)]:
    add(binary(f"special.{name}", getattr(special, name), dx, dy, pairs=[(PY, PY), ((5,), (5,)), ((3, 1), (1, 4))]))
# SciPy's own expm1 and log1p; relative entropies with x > 0 (their partial in x is -inf at 0:
# tests/test_special_functions.py checks the points on x == 0); huber and pseudo_huber in both arguments,
# huber's r kept off |r| == delta, where its second derivative jumps.
add(unary("special.expm1", special.expm1, real, shapes=[PY, (5,), S34])
    + unary("special.log1p", special.log1p, positive, shapes=[PY, (5,), S34]))
for name, dx, dy in [("rel_entr", positive, positive), ("kl_div", positive, positive),
                     ("huber", positive, spread), ("pseudo_huber", positive, real)]:
    add(binary(f"special.{name}", getattr(special, name), dx, dy, pairs=[(PY, PY), ((5,), (5,)), ((3, 1), (1, 4)),
                                                                        (PY, S34), (S34, PY)]))
# The Box-Cox transformations in both arguments, lmbda on both sides of 0 (near it, d/dlmbda switches to a
# series); inverses where 1 + lmbda y > 0.
for name, dx, dy in [("boxcox", positive, real), ("boxcox1p", positive, real), ("inv_boxcox", unit, unit),
                     ("inv_boxcox1p", unit, unit)]:
    add(binary(f"special.{name}", getattr(special, name), dx, dy, pairs=[(PY, PY), ((5,), (5,)), ((3, 1), (1, 4)),
                                                                        (PY, S34), (S34, PY)]))
for name, domain in [("erfcx", real), ("dawsn", real), ("i1e", real), ("exp1", positive), ("expi", nonzero),
                     ("spence", positive)]:
    add(unary(f"special.{name}", getattr(special, name), domain, shapes=[PY, (5,), S34]))
if special.sinc is not np.sinc:  # (SciPy's array-API mode has its own sinc)
    add(unary("special.sinc", special.sinc, nonzero, shapes=[PY, (5,), S34]))
for name, dx, dy in [("poch", positive, positive), ("binom", above_one, probability), ("owens_t", real, real)]:
    add(binary(f"special.{name}", getattr(special, name), dx, dy, pairs=[(PY, PY), ((5,), (5,)), ((3, 1), (1, 4)),
                                                                        (PY, S34), (S34, PY)]))
# In the argument with a closed-form partial only (betainc's a and b, zeta's exponent: refused when
# differentiated, tests/test_special_functions.py); expn's order n is a static integer.
add([case(f"special.betainc({a}, {b}, x)", [(probability, s)], special.betainc)
     for a, b in [("1.7", "2.5"), ("0.6", "0.8")] for s in (PY, (5,), S34)]
    + [case(f"special.expn({n}, x)", [(positive, s)], special.expn) for n in (0, 1, 2, 3) for s in (PY, (5,))]
    + [case(f"special.zeta({a}, x)", [(positive, s)], special.zeta) for a in ("2.5", "4.0") for s in (PY, (5,), S34)])
add([case(f"special.logsumexp(x{a})", [(real, S34)], special.logsumexp) for a in ("", ", axis=1", ", axis=0, keepdims=True")]
    + [case("special.logsumexp(x, axis=1, b=y)", [(real, S34), (positive, S34)], special.logsumexp),
       case("special.logsumexp(x, b=y)", [(real, S34), (positive, (4,))], special.logsumexp)])
add([case(f"special.{fn}(x{a})", [(real, s)], getattr(special, fn)) for fn in ("softmax", "log_softmax")
     for s, a in [((5,), ""), (S34, ""), (S34, ", axis=1"), (S34, ", axis=0")]])

# ---- math -----------------------------------------------------------------------------------------------
for name, domain in [("exp", real), ("log", positive), ("log1p", positive), ("expm1", real), ("sqrt", positive),
                     ("fabs", nonzero), ("sin", real), ("cos", real), ("tan", unit), ("asin", unit), ("acos", unit),
                     ("atan", real), ("sinh", real), ("cosh", real), ("tanh", real), ("erf", real), ("erfc", real),
                     ("gamma", positive), ("lgamma", positive), ("log2", positive), ("log10", positive),
                     ("exp2", real), ("cbrt", nonzero), ("asinh", real), ("acosh", above_one), ("atanh", unit),
                     ("degrees", real), ("radians", real)]:
    add(unary(f"math.{name}", getattr(math, name), domain, shapes=[PY]))
for name, dx, dy in [("pow", positive, real), ("atan2", real, nonzero), ("hypot", nonzero, real),
                     ("copysign", nonzero, nonzero), ("fmod", real, positive), ("remainder", real, positive),
                     ("log", positive, above_one)]:
    add(binary(f"math.{name}", getattr(math, name), dx, dy, pairs=[(PY, PY)]))
add([case("math.ldexp(x, 3)", [(real, PY)], math.ldexp)])

# ---- builtins -------------------------------------------------------------------------------------------
add(unary("abs", builtins.abs, nonzero))
add(binary("max", builtins.max, spread, real, pairs=[(PY, PY)]) + binary("min", builtins.min, spread, real, pairs=[(PY, PY)]))
add(binary("pow", builtins.pow, positive, real, pairs=[(PY, PY), ((5,), (5,))]))
add([case("float(x)", [(real, s)], builtins.float) for s in (PY, ())])
add([case("sum(x)", [(real, s)], builtins.sum) for s in ((5,), S34)] + [case("sum(x, y)", [(real, S34), (real, (4,))], builtins.sum)])

# ---- lists of arrays ------------------------------------------------------------------------------------
add([case(f"np.concatenate({a})", [(real, s), (real, t)], np.concatenate) for s, t, a in [
    ((2, 3), (1, 3), "[x, y]"), ((2, 3), (2, 2), "[x, y, x], axis=1"), ((2, 3), (4,), "(x, y), axis=None"),
    ((5,), (2,), "[y, x * 2.0]")]]
    + [case("np.concat([x, y], axis=-1)", [(real, (2, 3)), (real, (2, 1))], np.concat)])
add([case(f"np.stack({a})", [(real, s), (real, s)], np.stack) for s, a in [
    ((3,), "[x, y]"), ((2, 3), "[x, y, x], axis=1"), ((2, 3), "(x, y), axis=-1"), ((), "[x, y]")]])
add([case(f"np.{fn}([x, y])", [(real, s), (real, t)], getattr(np, fn)) for fn, s, t in [
    ("hstack", (3,), (2,)), ("hstack", (2, 3), (2, 1)), ("vstack", (3,), (3,)), ("vstack", (2, 3), (1, 3)),
    ("dstack", (2, 3), (2, 3)), ("dstack", (3,), (3,)), ("column_stack", (3,), (3, 2)),
    ("column_stack", (3,), (3,))]])
add([case("parts = np.split(x, 3)\nreturn parts[0] * parts[2], parts[1]", [(real, (6,))], np.split, name="split3"),
     case("parts = np.split(x, [1, 3], axis=1)\nreturn parts[2] + 1.0, parts[0]", [(real, (2, 5))], np.split,
          name="split-indices"),
     case("a, b, c = np.array_split(x, 3)\nreturn c * a[:2]", [(real, (7,))], np.array_split, name="array_split")])
add([case("np.array([x, y, x * y])", [(real, PY), (real, PY)], np.array, float32=False),
     case("np.array([x, y])", [(real, (3,)), (real, (3,))], np.array),
     case("np.asarray([[x, y], [y, 2.0]])", [(real, PY), (real, PY)], np.asarray, float32=False)])
add([case("sum([x, y, x * y])", [(real, s), (real, s)], builtins.sum) for s in (PY, (3,))])
# list, tuple, reversed, sorted: an array's rows (0-d entries of a 1-D one) or a list's items, as a list
add([case("rows = list(x)\nreturn rows[0] * rows[2], rows[1]", [(real, S34)], builtins.list, name="list of rows"),
     case("items = list(x)\nreturn items[0] * items[3] + items[1]", [(real, (5,))], builtins.list,
          name="list of entries")]
    + [case("items = list([x, y * x])\nreturn items[1] - 2.0 * items[0]", [(real, s), (real, s)], builtins.list,
            name="list of a list") for s in (PY, (3,))]
    + [case("parts = tuple(np.split(x, 3))\nreturn parts[0] * parts[2], parts[1]", [(real, (6,))], builtins.tuple,
            name="tuple of a list"),
       case("rows = tuple(x)\nreturn rows[1] * 2.0 + rows[0]", [(real, S34)], builtins.tuple, name="tuple of rows"),
       case("rows = list(reversed(x))\nreturn rows[0] * rows[1], rows[2]", [(real, S34)], builtins.reversed,
            name="reversed rows"),
       case("a, b, c = reversed([x, 2.0 * y, x * y])\nreturn a * 3.0 + b - c", [(real, PY), (real, PY)],
            builtins.reversed, name="reversed list"),
       case("s = sorted(x)\nreturn s[0] * 3.0 + s[-1], s[1]", [(spread, (5,))], builtins.sorted, name="sorted entries"),
       case("s = sorted([x[0], x[1] + 0.1, x[2] * x[3]], reverse=True)\nreturn s[0] * 3.0 + s[1]", [(spread, (5,))],
            builtins.sorted, name="sorted list, reverse=True"),
       case("s = sorted(x - 2.0, key=abs)\nreturn s[0] * 3.0 + s[-1], s[2]", [(spread, (5,))], builtins.sorted,
            name="sorted by abs")])
add([case("math.fsum([x, y, x * y])", [(real, PY), (real, PY)], math.fsum),
     case("math.prod([x, y, x])", [(real, PY), (real, PY)], math.prod)])

# ---- differences, convolution, more NumPy 2 spellings ----------------------------------------------------
add([case(f"np.diff(x{a})", [(real, s)], np.diff) for s, a in [((5,), ""), ((5,), ", 2"), (S34, ", axis=0"), (S34, "")]])
add([case(f"np.convolve(x, y{a})", [(real, s), (real, t)], np.convolve) for s, t, a in [
    ((5,), (3,), ""), ((5,), (3,), ", 'same'"), ((5,), (3,), ", 'valid'"), ((3,), (5,), ""), ((6,), (4,), ", 'same'"),
    ((4,), (6,), ", 'same'"), ((4,), (6,), ", 'valid'")]])
add([case("np.take_along_axis(x, np.argsort(x, axis=1), axis=1)", [(spread, S34)], np.take_along_axis),
     case("np.take_along_axis(x, IDX, axis=None)", [(real, (5,))], np.take_along_axis),
     case("np.take_along_axis(x, np.array([[0, 0, 2, 1]]), axis=0)", [(real, S34)], np.take_along_axis)])
add([case(f"np.append(x, y{a})", [(real, s), (real, t)], np.append) for s, t, a in [
    ((3,), (2,), ""), (S34, (2,), ""), (S34, (1, 4), ", axis=0")]])
add(reduction("np.nanmax", np.nanmax, spread, zero_d=False)[:5] + reduction("np.nanmin", np.nanmin, spread, zero_d=False)[:5])
if hasattr(np, "cumulative_sum"):  # (NumPy 2.1 on; its array-API spelling, on every NumPy: tests/test_backends.py)
    add([case(f"np.cumulative_sum(x{a})", [(real, s)], np.cumulative_sum) for s, a in [((5,), ""), (S34, ", axis=1")]])
add([case(f"np.trapezoid(x{a})", [(real, s)], np.trapezoid) for s, a in [((5,), ""), (S34, ", dx=0.5"),
                                                                           (S34, ", axis=0")]]
    + [case(f"np.trapezoid(x, y{a})", [(real, s), (spread, t)], np.trapezoid) for s, t, a in [
        ((5,), (5,), ""), (S34, (4,), ""), (S34, (3,), ", axis=0")]])
add([case(f"np.ediff1d(x{a})", [(real, s)], np.ediff1d) for s, a in [
    ((5,), ""), (S34, ""), ((5,), ", to_end=[1.5, -2.0], to_begin=0.5")]]
    + [case("np.ediff1d(x, y, z)", [(real, S34), (real, (2,)), (real, PY)], np.ediff1d, float32=False),
       case("np.ediff1d(x, to_begin=y)", [(real, (5,)), (real, (2, 2))], np.ediff1d)])
# np.gradient: uniform steps, sample points (POINTS5, POINTS4), one axis or several (a tuple of results)
add([case(f"np.gradient(x{a})", [(real, s)], np.gradient) for s, a in [
    ((5,), ""), ((2,), ""), ((5,), ", 0.5"), ((3,), ", edge_order=2"), ((5,), ", 0.5, edge_order=2"),
    ((5,), ", POINTS5"), ((5,), ", POINTS5, edge_order=2"), (S34, ", axis=1"), (S34, ", 2.0, axis=-2, edge_order=2"),
    (S34, ", POINTS4, axis=1, edge_order=2")]]
    + [case("gx, gy = np.gradient(x)\nreturn gx * gy", [(real, S34)], np.gradient, name="gradient-2d"),
       case("gx, gy = np.gradient(x, 0.5, POINTS4, edge_order=2)\nreturn gx, gy", [(real, S34)], np.gradient,
            name="gradient-2d-points"),
       case("parts = np.gradient(x, axis=(2, 0))\nreturn parts[0] * 2.0", [(real, S234)], np.gradient,
            name="gradient-one-used")])
add([case("np.permute_dims(x, (2, 0, 1))", [(real, S234)], np.permute_dims),
     case("np.matrix_transpose(x)", [(real, S234)], np.matrix_transpose),
     case("np.linalg.matrix_transpose(x)", [(real, S34)], np.linalg.matrix_transpose)])
add([case(f"np.vecdot(x, y{a})", [(real, s), (real, t)], np.vecdot) for s, t, a in [
    ((5,), (5,), ""), (S34, (4,), ""), (S34, (3, 1), ", axis=0")]]
    + [case("np.linalg.vecdot(x, y)", [(real, S34), (real, S34)], np.linalg.vecdot)])
# NumPy 2's np.linalg spellings (np.linalg.diagonal and trace: the last two axes), matvec/vecmat (NumPy 2.2 on)
add([case("np.linalg.matmul(x, y)", [(real, a), (real, b)], np.linalg.matmul) for a, b in [(S34, (4, 2)), (S234, (4,))]]
    + [case("np.linalg.outer(x, y)", [(real, (3,)), (real, (4,))], np.linalg.outer)]
    + [case(f"np.linalg.cross(x, y{a})", [(real, s), (real, t)], np.linalg.cross) for s, t, a in [
        ((3,), (3,), ""), ((4, 3), (3,), ""), ((3, 2), (3, 2), ", axis=0")]]
    + [case(f"np.linalg.diagonal(x{a})", [(real, s)], np.linalg.diagonal) for s, a in [
        (S34, ""), (S234, ""), (S234, ", offset=1"), ((2, 3, 3), ", offset=-1")]]
    + [case(f"np.linalg.trace(x{a})", [(real, s)], np.linalg.trace) for s, a in [
        (S34, ""), (S234, ""), (S234, ", offset=-1"), ((2, 3, 3), ", offset=1")]]
    + [case(f"np.cumulative_prod(x{a})", [(real, s)], np.cumulative_prod) for s, a in [
        ((5,), ""), (S34, ", axis=1"), (S34, ", axis=0")]])
if hasattr(np, "matvec"):
    add([case("np.matvec(x, y)", [(real, a), (real, b)], np.matvec) for a, b in [(S34, (4,)), (S234, (4,)),
                                                                               (S34, (2, 1, 4))]]
        + [case("np.vecmat(x, y)", [(real, a), (real, b)], np.vecmat) for a, b in [((3,), S34), ((2, 3), S34),
                                                                                 ((3,), S234)]])
add(unary("np.i0", np.i0, real, shapes=[(5,), S34]))
add([case(f"np.linalg.matrix_power(x, {n})", [(well_conditioned, s)], np.linalg.matrix_power, rtol=1e-4)
     for n in (0, 1, 3, -2) for s in ((3, 3),)] + [case("np.linalg.matrix_power(x, 2)", [(real, (2, 3, 3))],
                                                       np.linalg.matrix_power)])
add([case("np.linalg.multi_dot([x, y, z])", [(real, a), (real, b), (real, c)], np.linalg.multi_dot)
     for a, b, c in [((2, 3), (3, 4), (4, 2)), ((3,), (3, 4), (4,)), ((3,), (3, 4), (4, 2))]])
add([case(f"np.linalg.vector_norm(x{a})", [(nonzero, s)], np.linalg.vector_norm) for s, a in [
    ((5,), ""), (S34, ""), (S34, ", axis=1, ord=1"), (S234, ", axis=(0, 2), keepdims=True"), (S34, ", ord=np.inf")]])
add([case(f"np.linalg.matrix_norm(x{a})", [(full_rank, s)], np.linalg.matrix_norm, rtol=1e-4) for s, a in [
    (S34, ""), (S234, ""), (S34, ", ord='nuc'"), (S34, ", ord=2, keepdims=True")]])
add([case("math.dist([x, y], [y, 2.0])", [(real, PY), (real, PY)], math.dist),
     case("frac, whole = math.modf(x)\nreturn frac * whole", [(above_one, PY)], math.modf, name="modf")])
add([case(f"{fn}(x)", [(spread, (5,))], getattr(builtins, fn)) for fn in ("max", "min")]
    + [case(f"{fn}([x, y, 0.25])", [(spread, PY), (real, PY)], getattr(builtins, fn)) for fn in ("max", "min")])
add([case(f"np.correlate(x, y{a})", [(real, s), (real, t)], np.correlate) for s, t, a in [
    ((5,), (3,), ""), ((5,), (3,), ", 'same'"), ((4,), (6,), ", 'full'")]])
add([case(f"np.interp(x, np.array([-1.0, 0.0, 0.5, 2.0]), y{a})", [(real, s), (real, (4,))], np.interp)
     for s, a in [((5,), ""), (PY, ""), (S34, ""), ((5,), ", left=0.3, right=-2.0")]]
    + [case("np.interp(x, [-3.0, -1.0, 0.5, 3.0], [1.0, 2.0, 0.0, 4.0])", [(real, (5,))], np.interp)])
add([case("np.polyval(x, y)", [(real, s), (real, t)], np.polyval) for s, t in [((3,), (5,)), ((4,), PY), ((2,), S34)]])
add(unary("special.softplus", special.softplus, real, shapes=[PY, (5,), S34]))

# ---- scipy.linalg and scipy.stats.norm (rules/scipy_linalg.py, rules/scipy_stats.py) ----------------------
import scipy.linalg as sla  # noqa: E402
import scipy.stats as stats  # noqa: E402

from rule_harness import USER_GLOBALS as _GLOBALS  # noqa: E402

from autodiffsource.rules.registry import REGISTRY  # noqa: E402

REGISTRY.load_deferred()  # (scipy.stats imported just now: its rules and their helpers are made at this call)
from autodiffsource.rules import scipy_stats as norm_rules  # noqa: E402

_GLOBALS.update(sla=sla, stats=stats, standardized=norm_rules.standardized, log_of=norm_rules.log_of)
add([case(f"sla.solve_triangular(x, y{a})", [(well_conditioned, (3, 3)), (real, b)], sla.solve_triangular)
     for b, a in [((3,), ""), ((3, 2), ", lower=True"), ((3,), ", trans=1, lower=True"), ((3, 2), ", trans='T'"),
                  ((3,), ", lower=True, unit_diagonal=True")]]
    + [case("sla.solve(x, y)", [(well_conditioned, (3, 3)), (real, b)], sla.solve) for b in ((3,), (3, 2))]
    + [case(f"sla.solve(x, y, assume_a={k!r}{a})", [(symmetric_positive, (3, 3)), (real, b)], sla.solve)
       for k, a, b in [("pos", "", (3,)), ("pos", ", lower=True", (3, 2)), ("sym", ", lower=True", (3,)),
                       ("her", "", (3, 2))]]
    + [case(f"sla.solve(x, y, assume_a={k!r})", [(well_conditioned, (3, 3)), (real, (3,))], sla.solve)
       for k in ("upper triangular", "lower triangular")]
    + [case(f"sla.cholesky(x{a})", [(symmetric_positive, (3, 3))], sla.cholesky, rtol=1e-4)
       for a in ("", ", lower=True")]
    + [case(f"sla.cho_factor(x{a})[0]", [(symmetric_positive, (3, 3))], sla.cho_factor, rtol=1e-4)
       for a in ("", ", lower=True")]
    + [case(f"sla.cho_solve(sla.cho_factor(x{a}), y)", [(symmetric_positive, (3, 3)), (real, b)], sla.cho_solve)
       for a, b in [("", (3,)), (", lower=True", (3, 2))]]
    + [case("sla.expm(x)", [(real, s)], sla.expm, rtol=1e-4) for s in ((3, 3), (2, 3, 3))])
# (the rest of scipy.linalg: NumPy's partials, with SciPy's keywords; symmetric inputs checked entry by entry, so
# the triangle a function does not read must get zero)
add([case(f"sla.inv(x{a})", [(well_conditioned, s)], sla.inv) for s, a in [((3, 3), ""), ((2, 3, 3), ""),
                                                                          ((3, 3), ", check_finite=False")]]
    + [case(f"sla.inv(x, assume_a={k!r}{a})", [(d, (3, 3))], sla.inv)
       for k, a, d in [("pos", "", symmetric_positive), ("sym", ", lower=True", symmetric_positive),
                       ("upper triangular", "", well_conditioned), ("lower triangular", "", well_conditioned)]]
    + [case("sla.det(x)", [(well_conditioned, s)], sla.det) for s in ((3, 3), (2, 3, 3))]
    + [case(f"w, v = sla.eigh(x{a})\n    return w, v * v", [(symmetric_positive, s)], sla.eigh,
            name=f"sla.eigh{a}", rtol=1e-4)
       for s, a in [((3, 3), ""), ((2, 3, 3), ""), ((3, 3), ", lower=False"), ((3, 3), ", driver='ev'")]]
    + [case(f"sla.eigvalsh(x{a})", [(symmetric_positive, (3, 3))], sla.eigvalsh, rtol=1e-4)
       for a in ("", ", lower=False")]
    + [case(f"u, s, vh = sla.svd(x{a})\n    return u * u, s, vh * vh", [(full_rank, s)], sla.svd,
            name=f"sla.svd{a}", rtol=1e-4)
       for s, a in [((4, 3), ", full_matrices=False"), ((3, 4), ", full_matrices=False"), ((3, 3), ""),
                    ((3, 3), ", lapack_driver='gesvd'"), ((2, 4, 3), ", full_matrices=False")]]
    + [case("sla.svdvals(x)", [(full_rank, s)], sla.svdvals, rtol=1e-4) for s in ((4, 3), (3, 3))]
    + [case(f"q, r = sla.qr(x{a})\n    return q, r", [(full_rank, s)], sla.qr, name=f"sla.qr{a}", rtol=1e-4)
       for s, a in [((4, 3), ", mode='economic'"), ((3, 3), ""), ((2, 4, 3), ", mode='economic'")]]
    + [case(f"sla.pinv(x{a})", [(full_rank, s)], sla.pinv, rtol=1e-4)
       for s, a in [((4, 3), ""), ((3, 4), ""), ((3, 3), ", atol=1e-12")]]
    + [case(f"sla.norm(x{a})", [(nonzero, s)], sla.norm) for s, a in [
        ((5,), ""), ((3, 4), ""), ((5,), ", 1"), ((3, 4), ", axis=1"), ((2, 3, 4), ", axis=-1, keepdims=True")]]
    + [case(f"sla.norm(x, {o})", [(full_rank, S34)], sla.norm, rtol=1e-4) for o in ("'fro'", "'nuc'", "2")]
    + [case("sol, res, rank, sv = sla.lstsq(x, y)\n    return sol, res", [(full_rank, a), (real, b)], sla.lstsq,
            name="sla.lstsq", rtol=1e-4) for a, b in [((4, 3), (4,)), ((4, 3), (4, 2)), ((3, 3), (3,))]]
    + [case("sol, res, rank, sv = sla.lstsq(x, y, lapack_driver='gelsy')\n    return sol", [(full_rank, (3, 4)),
                                                                                           (real, (3,))],
            sla.lstsq, name="sla.lstsq-wide", rtol=1e-4)]
    + [case("lu, piv = sla.lu_factor(x)\n    return lu", [(well_conditioned, s)], sla.lu_factor,
            name="sla.lu_factor", rtol=1e-4) for s in ((3, 3), (2, 3, 3))]
    + [case(f"sla.lu_solve(sla.lu_factor(x), y{a})", [(well_conditioned, s), (real, b)], sla.lu_solve)
       for s, b, a in [((3, 3), (3,), ""), ((3, 3), (3, 2), ", trans=1"), ((2, 3, 3), (2, 3, 2), ""),
                       ((3, 3), (3,), ", trans=2")]]
    + [case(f"sla.block_diag({a})", [(real, s) for s in shapes], sla.block_diag)
       for a, shapes in [("x", [(2, 3)]), ("x, y", [(2, 2), (3,)]), ("x, 2.0, y", [(1, 2), (2, 1)]),
                         ("x, y, z", [PY, (2, 3), ()])]])
add([case(f"stats.norm.{m}(x, loc=y, scale=1.5)", [(real, a), (real, b)], getattr(stats.norm, m))
     for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf") for a, b in [((5,), PY), (S34, (3, 1))]]
    + [case(f"stats.norm.{m}(x, 0.25, y)", [(real, (5,)), (above_one, (5,))], getattr(stats.norm, m))
       for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")]
    + [case("standardized(x, y, 1.5)", [(real, S34), (real, (3, 1))], norm_rules.standardized),
       case("standardized(x, 0.5, y)", [(real, (5,)), (above_one, (5,))], norm_rules.standardized),
       case("log_of(x)", [(above_one, (5,))], norm_rules.log_of)])

# ---- the helpers generated pullbacks call (rules/pullback_helpers.py: second order) -----------------------
# User code never calls these; gradient code made by autodiffsource does, and differentiating that code
# again (hvp, δ of a function calling δf) needs their rules. Shape-only arguments get a zero partial.
# index_add writes into its buffer: the cases pass it a fresh array (x * 1.0), as generated code does.
from autodiffsource import runtime as rt  # noqa: E402
from autodiffsource.rules import support as sp  # noqa: E402
from autodiffsource.rules.support import extreme_partial, squeeze_back  # noqa: E402
from rule_harness import USER_GLOBALS  # noqa: E402

from autodiffsource.rules.pullback_helpers import broadcast_like, read_at, reduce_like  # noqa: E402

# (Called by their bare names: pullback_helpers also holds their δ rules, which `ph.name` would find first.)
USER_GLOBALS.update(rt=rt, sp=sp, broadcast_like=broadcast_like, read_at=read_at, reduce_like=reduce_like,
                    squeeze_back=squeeze_back, extreme_partial=extreme_partial,
                    ALONG=np.array([[0, 3], [1, 1], [2, 0]]))
add([case("rt.unbroadcast(x, y)", [(real, a), (real, b)], rt.unbroadcast, float32=False)
     for a, b in [(S34, (4,)), (S34, (3, 1)), ((5,), PY), (S34, S34)]]
    + [case(f"rt.unbroadcast_to(x, {s})", [(real, S34)], rt.unbroadcast_to, float32=False)
       for s in ("(4,)", "()", "(3, 4)")]
    + [case(f"rt.expand_reduced(x, y, {a})", [(real, s), (real, S34)], rt.expand_reduced, float32=False)
       for s, a in [((4,), "0, False"), (PY, "None, False"), ((), "None, False"), ((3, 1), "1, True")]]
    + [case("rt.seed_cotangent(x, y, 'the output')", [(real, s), (real, s)], rt.seed_cotangent, float32=False)
       for s in (S34, PY)]
    + [case("rt.check_cotangent(x, y, 'output 1')", [(real, s), (real, s)], rt.check_cotangent, float32=False)
       for s in (S34, PY)]
    + [case("rt.finalize(x, y)", [(real, s), (real, s)], rt.finalize, float32=False) for s in (S34, PY)]
    + [case("squeeze_back(x, y)", [(real, a), (real, b)], squeeze_back, float32=False)
       for a, b in [((12,), S34), ((1, 3), (3,))]]
    + [case(f"rt.index_add(x * 1.0, {i}, y)", [(real, a), (real, b)], rt.index_add, float32=False)
       for a, b, i in [((5,), (2,), "slice(1, 3)"), ((4,), (3,), "IDX3"), (S34, (4,), "1"), (S34, (), "(1, 2)")]]
    + [case("rt.add_cotangents(x, y)", [(real, S34), (real, S34)], rt.add_cotangents, float32=False),
       case("rt.accumulate(x, y)", [(real, (5,)), (real, (5,))], rt.accumulate, float32=False),
       case("rt.or_zeros(x, y)", [(real, S34), (real, S34)], rt.or_zeros, float32=False),
       case("rt.copy_value(x)", [(real, S34)], rt.copy_value, float32=False),
       case("rt.without_index(x, slice(1, 3))", [(real, (5,))], rt.without_index, float32=False),
       case("rt.list_item_cotangent(3, 1, x)[1] * 2.0", [(real, S34)], rt.list_item_cotangent, float32=False)]
    + [case(f"rt.take_cotangent(x, {i})", [(real, s)], rt.take_cotangent, float32=False)
       for s, i in [((5,), "slice(1, 3)"), ((4,), "IDX3"), (S34, "1"), (PY, "0")]]
    + [case(f"rt.reduction_extreme_partial(x, y, np.max(y{a}), {b})", [(real, s), (spread, S34)],
            rt.reduction_extreme_partial, float32=False)
       for s, a, b in [((4,), ", axis=0", "0, False"), (PY, "", "None, False"), ((3, 1), ", axis=1, keepdims=True", "1, True")]]
    + [case(f"extreme_partial(x, y, np.min(y{a}), {b})", [(real, s), (spread, S34)], extreme_partial, float32=False)
       for s, a, b in [((4,), ", axis=0", "0, False"), ((3, 1), ", axis=1, keepdims=True", "1, True")]]
    + [case(f"rt.{fn}(x, y, z)", [(real, a), (real, b), (real, c)], getattr(rt, fn), float32=False)
       for fn in ("matmul_left_partial", "matmul_right_partial", "dot_left_partial", "dot_right_partial")
       for a, b, c in [((3, 5), (3, 4), (4, 5)), ((3,), (3, 4), (4,)), ((5,), (4,), (4, 5)), (PY, (4,), (4,))]])
# scale_owned multiplies into its first argument: the cases pass it a fresh array, as generated code does.
add([case("rt.scale_owned(x * 1.0, y, z)", [(real, a), (real, b), (real, c)], rt.scale_owned, float32=False)
     for a, b, c in [(S34, S34, S34), (S34, PY, S34), ((4,), (4,), PY), (PY, PY, PY)]]
    + [case("rt.scale_owned(x * 1.0, y)", [(real, S34), (real, (4,))], rt.scale_owned, float32=False)])
# zeros_with(like, index, a, b): index_add(zeros_like(like), index, a * b); `like` is read for its shape only.
add([case(f"rt.zeros_with(x, {i}, y, z)", [(real, a), (real, b), (real, c)], rt.zeros_with, float32=False)
     for a, b, c, i in [((5,), (2,), (2,), "slice(1, 3)"), ((5,), PY, (4,), "slice(None, -1)"),
                        (S34, (4,), (2, 4), "slice(1, None)"), ((4,), (3,), PY, "IDX3")]]
    + [case("rt.zeros_with(x, slice(2, 4), y)", [(real, (6,)), (real, (2,))], rt.zeros_with, float32=False)])
add([case(f"sp.{call}", [(real, a), (real, b)], getattr(sp, call.split("(")[0]), float32=False) for call, a, b in [
    ("cumsum_partial(x, y, 0)", S34, S34), ("cumsum_partial(x, y, None)", (12,), S34),
    ("take_partial(x, y, IDX3, 0)", (3,), (4,)), ("take_partial(x, y, IDX3, None)", (3,), (2, 2)),
    ("trace_partial(x, y, 0, 0, 1)", (), S34), ("diagonal_partial(x, y, 1, 0, 1)", (3,), S34),
    ("diag_partial(x, y, 0)", (3, 3), (3,)), ("diag_partial(x, y, 1)", (3,), S34),
    ("repeat_partial(x, y, 2, 0)", (6,), (3,)), ("repeat_partial(x, y, 2, None)", (12,), (2, 3)),
    ("tile_partial(x, y, (2,))", (6,), (3,)), ("take_along_axis_partial(x, y, ALONG, 1)", (3, 2), S34),
    ("sum_partial(x, y)", (4,), S34), ("unstack_like(x, y)", (12,), S34), ("unstack_like(x, y)", (), PY),
    ("items_partial([x[0], x[1] * 2.0, x[2]], y)", S34, S34), ("items_partial([x[2], x[0]], y)", (3,), (2,)),
    ("items_partial([x, y * 2.0], [x, y])[1]", S34, S34)]]
    + [case("rows = sp.items_at(x, [2, 0, 1])\nreturn rows[0] * 2.0 + rows[1], rows[2]", [(real, S34)], sp.items_at,
            float32=False),
       case("items = sp.items_at([x, y, x * y], [1, 2, 0])\nreturn items[0] * 2.0 + items[1] - items[2]",
            [(real, PY), (real, PY)], sp.items_at, float32=False)]
    + [case("rt.take_any(x, IDX3, 0)", [(real, (4,))], rt.take_any, float32=False),
       case("rt.dot_primal(x, y)", [(real, (3, 4)), (real, (4,))], rt.dot_primal, float32=False)]
    + [case("sp.safe_divide(x, y)", [(real, a), (nonzero, b)], sp.safe_divide, float32=False)
       for a, b in [(S34, S34), (S34, (4,)), (PY, PY)]])
add([case(call, [(real, a), (real, b)], globals()[call.split("(")[0]], float32=False) for call, a, b in [
    ("broadcast_like(x, y)", (4,), S34), ("broadcast_like(x, y)", S34, S34), ("broadcast_like(x, y)", PY, (3,)),
    ("reduce_like(x, y, 0, False)", S34, (4,)), ("reduce_like(x, y, None, False)", S34, PY),
    ("reduce_like(x, y, 1, True)", S34, (3, 1))]]
    + [case(f"read_at(x, {i})", [(real, s)], read_at, float32=False)
       for s, i in [((5,), "IDX3"), (S34, "1"), (PY, "0")]])

# ---- scipy.stats.expon, laplace, logistic and cauchy (rules/scipy_stats.py) -----------------------------
# expon's cases stay on its support x > loc (the harness's differences cannot take logpdf's -inf left of it;
# tests/test_scipy_stats.py checks the points off the support).
_PLAIN_FAMILIES = ("expon", "laplace", "logistic", "cauchy")
_METHODS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
add([case(f"stats.{d}.{m}(x, loc=y, scale=1.5)", [(above_one if d == "expon" else real, a),
                                                   (unit if d == "expon" else real, b)], getattr(getattr(stats, d), m))
     for d in _PLAIN_FAMILIES for m in _METHODS for a, b in [((5,), PY), (S34, (3, 1))]]
    + [case(f"stats.{d}.{m}(x, 0.25, y)", [(above_one if d == "expon" else real, (5,)), (above_one, (5,))],
            getattr(getattr(stats, d), m))
       for d in _PLAIN_FAMILIES for m in _METHODS])

# ---- scipy.stats.t and gamma (rules/scipy_stats.py) and the special functions of their cdfs ---------------
# The densities in every argument, the shape parameter included; cdf and sf (t's logcdf and logsf) with the
# shape parameter a constant: its partial has no closed form and is refused (tests/test_scipy_stats.py).
# gamma's cases stay on its support x > loc.
_GLOBALS.update(t_log_density=norm_rules.t_log_density, gamma_log_density=norm_rules.gamma_log_density)
add([case(f"stats.{d}.{m}(x, y, loc=z, scale=1.5)",
          [(above_one if d == "gamma" else real, a), (above_one, b), (unit if d == "gamma" else real, c)],
          getattr(getattr(stats, d), m))
     for d in ("t", "gamma") for m in ("logpdf", "pdf") for a, b, c in [((5,), PY, (5,)), (S34, (4,), (3, 1))]]
    + [case(f"stats.{d}.{m}(x, 0.8, 0.25, y)", [(above_one if d == "gamma" else real, (5,)), (above_one, (5,))],
            getattr(getattr(stats, d), m)) for d in ("t", "gamma") for m in ("logpdf", "pdf")]
    + [case(f"stats.{d}.{m}(x, {s}, loc=y, scale=1.5)",
            [(above_one if d == "gamma" else real, a), (unit if d == "gamma" else real, b)],
            getattr(getattr(stats, d), m))
       for d, ms in [("t", ("cdf", "sf", "logcdf", "logsf")), ("gamma", ("cdf", "sf"))] for m in ms
       for s in ("2.5", "0.8") for a, b in [((5,), PY), (S34, (3, 1))]]
    + [case(f"stats.{d}.{m}(x, 1.7, 0.25, y)", [(above_one if d == "gamma" else real, (5,)), (above_one, (5,))],
            getattr(getattr(stats, d), m))
       for d, ms in [("t", ("cdf", "sf", "logcdf", "logsf")), ("gamma", ("cdf", "sf"))] for m in ms]
    + [case("t_log_density(x, y)", [(real, S34), (above_one, (4,))], norm_rules.t_log_density),
       case("t_log_density(x, y)", [(real, (5,)), (positive, PY)], norm_rules.t_log_density),
       case("gamma_log_density(x, y)", [(positive, S34), (above_one, (4,))], norm_rules.gamma_log_density),
       case("gamma_log_density(x, y)", [(positive, (5,)), (positive, PY)], norm_rules.gamma_log_density)]
    + [case(f"special.stdtr({df}, x)", [(real, s)], special.stdtr) for df in ("2.5", "0.8") for s in (PY, (5,), S34)]
    + [case(f"special.{fn}({a}, x)", [(positive, s)], getattr(special, fn))
       for fn in ("gammainc", "gammaincc") for a in ("1.7", "0.6") for s in (PY, (5,), S34)])

# ---- scipy.stats.multivariate_normal (rules/scipy_stats.py) ------------------------------------------------
# One point and several, the mean given and omitted, cov 2-D (its lower triangle read: the harness's central
# differences of the upper entries are 0, as the partials), 1-D (a diagonal) and a number (a variance).
add([case(f"stats.multivariate_normal.{m}(x, y, z)", [(real, a), (real, (3,)), (symmetric_positive, (3, 3))],
          getattr(stats.multivariate_normal, m)) for m in ("logpdf", "pdf") for a in ((3,), (4, 3))]
    + [case(f"stats.multivariate_normal.{m}(x, cov=y)", [(real, (4, 3)), (symmetric_positive, (3, 3))],
            getattr(stats.multivariate_normal, m)) for m in ("logpdf", "pdf")]
    + [case(f"stats.multivariate_normal.{m}(x, mean=y, cov=z)", [(real, (4, 3)), (real, (3,)), (positive, s)],
            getattr(stats.multivariate_normal, m)) for m in ("logpdf", "pdf") for s in ((3,), PY)])

# ---- scipy.stats.poisson and binom (rules/scipy_stats.py) ------------------------------------------------------
# In the continuous parameter (mu, p) only: the counts k and n are constants here (their partials are refused,
# tests/test_scipy_stats.py), some of them off the support (a negative count, one above n, one not whole: where
# logpmf is -inf, which the harness's differences cannot take, the cases read it through np.where).
_K34, _N4 = np.array([[0, 1, 2, 3], [4, 5, -1, 2], [2.5, 1, 0, 7]]), np.array([5, 6, 7, 8])
_COUNTED = (_K34 >= 0) & (np.floor(_K34) == _K34)
_GLOBALS.update(K5=np.array([0, 1, 2, 4, 3]), K34=_K34, N4=_N4, binomial_mass=norm_rules.binomial_mass,
                COUNTED=_COUNTED, TRIALS=_COUNTED & (_K34 <= _N4))
# (A number x with a number count: an array count would make a NumPy output of a number, which the backend sweeps
# pair with their own library's cotangent.)
add([case(f"stats.poisson.{m}({k}, x{a})", [(positive, s)], getattr(stats.poisson, m))
     for m in ("logpmf", "pmf") for k, s, a in [("K5", (5,), ""), ("3", PY, ", loc=-1"), ("K5", (1, 5), "")]]
    + [case("stats.poisson.pmf(K34, x)", [(positive, (4,))], stats.poisson.pmf),
       case("np.where(COUNTED, stats.poisson.logpmf(K34, x, 0), 0.0)", [(positive, (3, 1))], stats.poisson.logpmf)]
    + [case(f"stats.binom.{m}({k}, 6, x{a})", [(probability, s)], getattr(stats.binom, m))
       for m in ("logpmf", "pmf") for k, s, a in [("K5", (5,), ""), ("2", PY, ", loc=-1"), ("K5", (3, 5), "")]]
    + [case("stats.binom.pmf(K34, N4, x)", [(probability, (4,))], stats.binom.pmf),
       case("np.where(TRIALS, stats.binom.logpmf(K34, N4, x), 0.0)", [(probability, (3, 1))], stats.binom.logpmf)]
    + [case(f"binomial_mass({k}, 6.0, x)", [(probability, s)], norm_rules.binomial_mass)
       for k, s in (("K5", (5,)), ("2.0", PY))])

# ---- scipy.stats.beta (rules/scipy_stats.py) and the special functions of its cdf and sf ------------------------
# On the open support 0 < (x - loc) / scale < 1 (tests/test_scipy_stats.py checks the points off it and at its
# ends): the densities in every argument, cdf and sf with the shapes constant (their partials are refused).


def _near_zero(rng, shape):
    return rng.uniform(-0.05, 0.05, shape)


_GLOBALS.update(beta_log_density=norm_rules.beta_log_density, beta_density=norm_rules.beta_density)
add([case(f"stats.beta.{m}(x, y, z, loc=w, scale=1.5)",
          [(probability, s), (above_one, t), (positive, u), (_near_zero, v)], getattr(stats.beta, m))
     for m in ("logpdf", "pdf") for s, t, u, v in [((5,), PY, (5,), (5,)), (S34, (4,), (3, 1), PY)]]
    + [case(f"stats.beta.{m}(x, 0.8, 1.7, -0.1, y)", [(probability, (5,)), (above_one, (5,))], getattr(stats.beta, m))
       for m in ("logpdf", "pdf", "cdf", "sf")]
    + [case(f"stats.beta.{m}(x, {s}, 1.3, loc=y, scale=1.5)", [(probability, a), (_near_zero, b)],
            getattr(stats.beta, m)) for m in ("cdf", "sf") for s in ("2.5", "0.8") for a, b in [((5,), PY), (S34, (3, 1))]]
    + [case(f"{h}(x, y, z)", [(probability, a), (above_one, b), (positive, c)], getattr(norm_rules, h))
       for h in ("beta_log_density", "beta_density") for a, b, c in [(S34, (4,), (3, 1)), ((5,), PY, PY)]]
    + [case(f"special.{fn}({a}, 1.3, x)", [(probability, s)], getattr(special, fn))
       for fn in ("betainc", "betaincc") for a in ("1.7", "0.6") for s in (PY, (5,), S34)])

# ---- scipy.stats.lognorm (rules/scipy_stats.py) -------------------------------------------------------------
# Every method in every argument, the shape s included (its cdf's partial in s has a closed form); the cases stay
# on the support x > loc (tests/test_scipy_stats.py checks the points off it).
add([case(f"stats.lognorm.{m}(x, y, loc=z, scale=1.5)", [(above_one, a), (positive, b), (unit, c)],
          getattr(stats.lognorm, m))
     for m in _METHODS for a, b, c in [((5,), PY, (5,)), (S34, (4,), (3, 1))]]
    + [case(f"stats.lognorm.{m}(x, 0.8, 0.25, y)", [(above_one, (5,)), (above_one, (5,))], getattr(stats.lognorm, m))
       for m in _METHODS])
