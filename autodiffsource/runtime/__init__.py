"""Helpers that generated code and rules call by name: shapes, broadcasting, cotangents, partials.

Contract: every helper works on Python scalars, NumPy arrays and any array-API array (through
``array_api_compat``), never mutates an argument it does not own, and keeps dtypes. NumPy and Python
scalars take a fast path first: these run once per operation, so each costs as little as a branch.

One module per concern (``common``: types, namespaces, shapes; ``broadcasting``; ``cotangents``: seeds,
checks, ``finalize``, sums; ``indexing``: scatter-adds and in-place writes; ``partials``: what rule
templates call), all re-exported here: generated code and rules name them ``runtime.<helper>``.
"""

from __future__ import annotations

from .common import (as_array, _CONTAINERS, _default_float, _device, dispatches_numpy, _FLOAT64,
                     _is_array_api_obj, is_foreign_array, number_if_0d,
                     namespace, _namespace_of_arrays, _ndarray, _NUMPY_NAMESPACE, _numpy_namespace,
                     _NUMPY_SCALAR, _PY_SCALARS, shape_of, sum_of, sum_of_squares, _xp)  # noqa: F401
from .broadcasting import (expand_reduced, reduced_count, saved_shape, _sum_to_shape, unbroadcast,
                           unbroadcast_to)  # noqa: F401
from .cotangents import (accumulate, add_cotangents, _check_container_cotangent, check_cotangent, check_input,
                         _complex_input, copy_if_view, copy_value, distinct_partials, finalize, _finalize_array_api,
                         _finalize_container, or_zeros, _same_known_shape, seed_cotangent, user_partials,
                         wrong_cotangent_count, zeros_like)  # noqa: F401
from .indexing import (augmented_result, _has_newaxis, _IN_PLACE_MIN, index_add, _is_basic_index,
                       _keeps_shape_and_dtype, list_item_cotangent, _padded_into, refuse_changed_view,
                       refuse_update_through_view, scale_owned, take_any, take_cotangent, take_partial_any,
                       update_in_place, without_index, writes_into, zeros_with)  # noqa: F401
from .partials import (dot_left_partial, dot_primal, dot_right_partial, inverse_permutation, log_base,
                       matmul_left_partial, matmul_right_partial, method_delta, method_mask,
                       power_base_partial, reduction_extreme_partial, sign_of, transpose_axes, where_tie_split)  # noqa: F401


def is_helper(obj) -> bool:
    """Whether ``obj`` is one of the run-time helpers (defined in this package)."""
    module = getattr(obj, "__module__", None) or ""
    return module == __name__ or module.startswith(__name__ + ".")
