"""Constants of the array-API idiom: ``xp = array_namespace(x)`` and friends carry no derivative.

User code written against the standard starts with ``xp = array_api_compat.array_namespace(x)``; the
namespace, the device and the type tests are constants to the differentiator. Calls through ``xp``
(``xp.exp``) find their rules by array-API name (``rule(..., array_api=("exp",))``).
"""

import array_api_compat

from .registry import nondiff, nondiff_methods

nondiff(
    array_api_compat.array_namespace, array_api_compat.get_namespace, array_api_compat.device,
    array_api_compat.size, array_api_compat.is_array_api_obj, array_api_compat.is_numpy_array,
    array_api_compat.is_torch_array, array_api_compat.is_jax_array, array_api_compat.is_cupy_array,
    array_api_compat.is_dask_array, array_api_compat.is_lazy_array, array_api_compat.is_writeable_array,
    array_api_compat.is_array_api_strict_namespace, array_api_compat.is_numpy_namespace,
    array_api_compat.is_torch_namespace, array_api_compat.is_jax_namespace,
    array_api_compat.is_cupy_namespace, array_api_compat.is_dask_namespace,
)
nondiff_methods("__array_namespace__")
