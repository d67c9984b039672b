"""Rules for the run-time helpers generated pullbacks call that write into memory they own
(``runtime.scale_owned``, ``runtime.zeros_with``), so that generated gradients using them can be
differentiated again (``transform/flat.py``).

Contract: differentiated again, each helper is the plain expression it stands for, computed out of
place: ``scale_owned(a, b, c)`` is the product ``a * b * c`` (the second pass reads ``a`` after the
product, for its partials in ``b`` and ``c``, so the in-place version would hand it the product instead of
``a``); ``zeros_with(like, index, a, b)`` is ``index_add(zeros_like(like), index, a * b)``, bilinear in
``a`` and ``b`` (its forward form is the product rule: ``rules/forward.py`` lists it as multilinear).
"""

from __future__ import annotations

from ..runtime import scale_owned, unbroadcast, zeros_with
from .pullback_helpers import read_at
from .registry import rule


@rule(scale_owned)
def δscale_owned(a, b, c=1):
    z = a * b * c

    def scale_owned_pullback(dz):
        return unbroadcast(dz * b * c, a), unbroadcast(dz * a * c, b), unbroadcast(dz * a * b, c)

    return z, scale_owned_pullback


@rule(zeros_with, static=("index",), shape_only=("like",))
def δzeros_with(like, index, a, b=1):
    z = zeros_with(like, index, a, b)

    def zeros_with_pullback(dz):
        part = read_at(dz, index)
        return None, None, unbroadcast(part * b, a), unbroadcast(part * a, b)

    return z, zeros_with_pullback
