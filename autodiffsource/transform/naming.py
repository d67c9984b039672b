"""Collision-free, deterministic names for generated code.

Contract: a :class:`Namer` is seeded with every name the user's function mentions; ``fresh(base)``
returns ``base`` if nobody has it yet, else ``base_2``, ``base_3``... User names are never renamed
except to version a reassigned variable (``x``, ``x_2``, ...). The same input always gives the same
names (no counters shared between transforms), so generated code is byte-identical run to run.
"""

from __future__ import annotations

import ast
import unicodedata

from ..astutil import nodes


def const_suffix(mask: tuple[bool, ...]) -> str:
    """``_const2_const3`` for the constant (unmasked) positional arguments, numbered from 1: the seed's
    ``δf_const2`` convention, shared by the δ, jvp and flat-gradient functions' names.

    >>> const_suffix((True, False, False))
    '_const2_const3'
    """
    return "".join(f"_const{i + 1}" for i, m in enumerate(mask) if not m)


class Namer:
    """Hands out names that collide with nothing seen so far."""

    def __init__(self, taken=()):
        self._taken: set[str] = set(taken)
        self._next: dict[str, int] = {}

    @classmethod
    def for_function(cls, node: ast.FunctionDef, every: list | None = None) -> "Namer":
        """A namer that already knows every identifier used anywhere in ``node`` (``every``: its nodes,
        as :func:`~autodiffsource.astutil.nodes` gives them, in any order, where the caller has them)."""
        taken = set()
        for sub in nodes(node) if every is None else every:
            if isinstance(sub, ast.Name):
                taken.add(sub.id)
            elif isinstance(sub, ast.arg):
                taken.add(sub.arg)
            elif isinstance(sub, (ast.FunctionDef, ast.Lambda)) and hasattr(sub, "name"):
                taken.add(sub.name)
        return cls(taken)

    def state(self):
        """A snapshot to :meth:`restore` (the lowering stage retries a loop body with it)."""
        return set(self._taken), dict(self._next)

    def restore(self, state) -> None:
        taken, counters = state
        self._taken, self._next = set(taken), dict(counters)

    def reserve(self, name: str) -> None:
        """Mark ``name`` as used without handing it out."""
        self._taken.add(name)

    def is_taken(self, name: str) -> bool:
        return name in self._taken

    def fresh(self, base: str) -> str:
        """``base`` itself when free, else the first free ``base_N`` (N >= 2)."""
        base = unicodedata.normalize("NFKC", base)
        if base.isidentifier() is False:
            raise ValueError(f"not an identifier: {base!r}")
        if base not in self._taken:
            self._taken.add(base)
            return base
        # Remember where each stem's numbering got to, so handing out many names is linear, not quadratic.
        n = self._next.get(base, 2)
        while f"{base}_{n}" in self._taken:
            n += 1
        name = f"{base}_{n}"
        self._next[base] = n + 1
        self._taken.add(name)
        return name


class FactoryNames:
    """Objects a rewrite of generated code names, bound as parameters of the module's factory (so a user's
    global ``type`` or ``float`` cannot shadow them): ``bound(preferred, obj)`` reuses the name ``obj``
    already has in ``bindings``, else binds a fresh one from ``namer``."""

    def __init__(self, namer: Namer, bindings: dict):
        self.namer = namer
        self.bindings = bindings

    def bound(self, preferred: str, obj) -> ast.Name:
        for name, value in self.bindings.items():
            if value is obj:
                return ast.Name(name, ast.Load())
        name = self.namer.fresh(preferred)
        self.bindings[name] = obj
        return ast.Name(name, ast.Load())
