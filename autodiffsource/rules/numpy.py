"""NumPy's rule table: registers the rule modules for each part of NumPy and declares its constants.

The rules live one module per part (``numpy_ufuncs``, ``numpy_reductions``, ``numpy_products``,
``numpy_shape``, ``numpy_linalg``); this module imports them all and declares which NumPy functions,
array methods and attributes return constants (shapes, comparisons, index results, ``zeros_like``...).
Every other NumPy function is refused with :class:`MissingRuleError` when a differentiated value reaches
it; nothing gets a silent zero. Functions only differentiable piecewise-constantly (sign, floor, round...)
are constants here: their derivative is zero wherever it exists.
"""

import numpy as np

from . import numpy_linalg, numpy_products, numpy_reductions, numpy_shape, numpy_ufuncs  # noqa: F401
from .numpy_shape import matrix_T, δmatrix_T  # noqa: F401  (the lowering stage maps `.T` here)
from .registry import nondiff, nondiff_attributes, nondiff_methods


# ---- constants: results that carry no derivative ----------------------------------------------------

nondiff(
    # shapes, sizes, dtypes
    np.shape, np.ndim, np.size, np.result_type, np.broadcast_shapes, np.can_cast, np.iscomplexobj,
    np.isrealobj, np.isscalar, np.iinfo, np.finfo,
    # piecewise constant: zero derivative wherever one exists
    np.sign, np.floor, np.ceil, np.trunc, np.round, np.around, np.rint, np.fix, np.floor_divide,
    np.signbit, np.heaviside, np.count_nonzero,
    # constructors
    np.zeros, np.ones, np.empty, np.full, np.zeros_like, np.ones_like, np.empty_like, np.full_like,
    np.arange, np.linspace, np.logspace, np.geomspace, np.eye, np.identity, np.tri, np.indices,
    np.tril_indices, np.triu_indices, np.diag_indices, np.ravel_multi_index, np.unravel_index,
    # indices and searches
    np.argmax, np.argmin, np.argsort, np.nonzero, np.flatnonzero, np.argwhere, np.searchsorted,
    np.digitize, np.nanargmax, np.nanargmin, np.lexsort, np.argpartition,
    # predicates and comparisons
    np.isnan, np.isinf, np.isfinite, np.isposinf, np.isneginf, np.isclose, np.allclose,
    np.array_equal, np.array_equiv, np.equal, np.not_equal, np.less, np.less_equal, np.greater,
    np.greater_equal, np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.any, np.all,
    np.isreal, np.iscomplex,
    # random numbers
    np.random.seed, np.random.rand, np.random.randn, np.random.random, np.random.normal,
    np.random.uniform, np.random.randint, np.random.default_rng, np.random.choice,
    np.random.permutation, np.random.standard_normal,
)
nondiff_methods("argmax", "argmin", "argsort", "nonzero", "any", "all", "copy_shape", "round", "searchsorted",
                "argpartition")
nondiff_attributes("shape", "ndim", "size", "dtype", "device", "itemsize", "nbytes", "strides", "flags")
