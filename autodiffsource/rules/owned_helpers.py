"""The rule for ``runtime.scale_owned``, the one run-time helper generated pullbacks call that works in
place, so that generated gradients using it can be differentiated again (``transform/flat.py``).

Contract: differentiated again, ``scale_owned(a, b, c)`` is the product ``a * b * c`` computed out of
place: the second pass reads ``a`` after the product (its partials for ``b`` and ``c``), so the in-place
version would hand it the product instead of ``a``.
"""

from __future__ import annotations

from ..runtime import scale_owned, unbroadcast
from .registry import rule


@rule(scale_owned)
def δscale_owned(a, b, c=1):
    z = a * b * c

    def scale_owned_pullback(dz):
        return unbroadcast(dz * b * c, a), unbroadcast(dz * a * c, b), unbroadcast(dz * a * b, c)

    return z, scale_owned_pullback
