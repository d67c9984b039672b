"""Stage 1's bindings: which SSA name each user variable holds while a function is lowered.

Contract: an :class:`Env` is a ``dict`` (user variable -> SSA name) that also answers, in O(1), which
variables hold a given SSA name (:meth:`Env.holders`); it changes one variable at a time.
"""

from __future__ import annotations


_ABSENT = object()


class Env(dict):
    """User variable -> the SSA name it holds now, which also knows the variables holding each SSA name
    (:meth:`holders`): asking that is O(1), not a pass over every variable (on a long function, a pass
    per statement made the lowering grow with the square of its length). Snapshots are plain ``dict``
    copies; ``Env(snapshot)`` makes one the lowering's again."""

    __slots__ = ("_holders",)

    def __init__(self, items=()):
        super().__init__(items)
        self._holders: dict[str, set[str]] = {}
        for name, value in dict.items(self):
            self._holders.setdefault(value, set()).add(name)

    def __setitem__(self, name, value):
        old = dict.get(self, name, _ABSENT)
        if old is not _ABSENT:
            self._release(name, old)
        dict.__setitem__(self, name, value)
        self._holders.setdefault(value, set()).add(name)

    def __delitem__(self, name):
        self._release(name, self[name])
        dict.__delitem__(self, name)

    def pop(self, name, *default):
        if name in self:
            self._release(name, self[name])
        return dict.pop(self, name, *default)

    def _release(self, name, value) -> None:
        holders = self._holders[value]
        holders.discard(name)
        if not holders:
            del self._holders[value]

    def holders(self, value) -> set[str]:
        """The variables holding SSA name ``value`` (do not change the set)."""
        return self._holders.get(value, set())

    def _refuse(self, *args, **kwargs):
        raise TypeError("Env changes one variable at a time (item assignment, del, pop)")

    update = setdefault = popitem = clear = __ior__ = _refuse
