"""autodiffsource: reverse-mode automatic differentiation for Python by source-code transformation.

``@δ`` on a function ``f`` binds ``δf``, which returns ``f``'s outputs and a pullback closure; the
pullback maps output cotangents to input partials. The generated code is plain Python you can read
with :func:`source`.
"""

from . import rules  # noqa: F401  (registers the rule tables)
from .api import delta, grad, source, transform, value_and_grad, vjp, δ
from .check import checkdiff, checkgrad
from .higher import hessian, hvp, jacfwd, jacobian, jacrev, jvp  # forward mode and second order (issue 9)
from .errors import ADError, CotangentError, MissingRuleError, NoSourceError, RuleContractError
from .errors import UnsupportedSyntaxError
from .rules.registry import nondiff, rule

__version__ = "0.1.0"

__all__ = [
    "δ", "delta", "grad", "value_and_grad", "vjp", "source", "transform", "checkdiff", "checkgrad",
    "rule", "nondiff", "ADError", "UnsupportedSyntaxError", "MissingRuleError", "NoSourceError",
    "RuleContractError", "CotangentError",
]
