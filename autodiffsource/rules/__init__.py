"""The rule tables, one module per namespace; importing this package registers them all."""

from . import array_api, builtins, math, numpy, operator, scipy_linalg, scipy_special, scipy_stats  # noqa: F401
from . import partial_helpers, pullback_helpers  # noqa: F401  (after the tables: gradient code differentiated again)
from . import owned_helpers  # noqa: F401  (scale_owned, zeros_with: helpers that write into memory they own)
from .registry import REGISTRY, Rule, nondiff, nondiff_attributes, nondiff_methods, rule

__all__ = ["REGISTRY", "Rule", "nondiff", "nondiff_attributes", "nondiff_methods", "rule"]
