"""Stage 1's bindings: which SSA name each user variable holds while a function is lowered.

Contract: an :class:`Env` is a ``dict`` (user variable -> SSA name) that changes one variable at a time
and also answers, in O(1), which variables hold a given SSA name (:meth:`Env.holders`). A branch is
lowered inside a *journal* (:meth:`Env.begin` ... :meth:`Env.end`): the value each variable had before
the branch first changed it, so that what the branch changed, and undoing it, cost what the branch
did, not a copy and a comparison of every variable (an ``if`` every few lines of a long function made
that grow with the square of its length). The order of the variables means nothing.
"""

from __future__ import annotations

ABSENT = object()  # a variable's "value" before it was bound (what `end` and the branch merges report for it)


class Env(dict):
    """User variable -> the SSA name it holds now (see the module docstring). Snapshots are plain
    ``dict`` copies; :meth:`reset` makes the env hold one again."""

    __slots__ = ("_holders", "_journals")

    def __init__(self, items=()):
        super().__init__(items)
        self._holders: dict[str, set[str]] = {}
        self._journals: list[dict] = []
        for name, value in dict.items(self):
            self._holders.setdefault(value, set()).add(name)

    def __setitem__(self, name, value):
        old = dict.get(self, name, ABSENT)
        self._note(name, old)
        if old is not ABSENT:
            self._release(name, old)
        dict.__setitem__(self, name, value)
        self._holders.setdefault(value, set()).add(name)

    def __delitem__(self, name):
        old = self[name]
        self._note(name, old)
        self._release(name, old)
        dict.__delitem__(self, name)

    def _note(self, name, old) -> None:
        """In the innermost journal, if any: ``name``'s value before its first change since it began."""
        if self._journals and name not in self._journals[-1]:
            self._journals[-1][name] = old

    def pop(self, name, *default):
        if name in self:
            value = self[name]
            del self[name]
            return value
        return dict.pop(self, name, *default)

    def _release(self, name, value) -> None:
        holders = self._holders[value]
        holders.discard(name)
        if not holders:
            del self._holders[value]

    def holders(self, value) -> set[str]:
        """The variables holding SSA name ``value`` (do not change the set)."""
        return self._holders.get(value, set())

    # ---- journals ------------------------------------------------------------------------------------

    def begin(self) -> None:
        """Start noting, for each variable changed from now on, the value it had (journals nest)."""
        self._journals.append({})

    def end(self) -> dict:
        """Stop the innermost journal: ``{variable: its value at begin, or ABSENT}`` for each variable
        changed since (a variable changed back to its old value included). The enclosing journal, if
        any, takes the older values it had not noted yet."""
        journal = self._journals.pop()
        if self._journals:
            outer = self._journals[-1]
            for name, old in journal.items():
                if name not in outer:
                    outer[name] = old
        return journal

    def undo(self, journal: dict) -> None:
        """Give each variable of ``journal`` (from :meth:`end`) its old value back."""
        for name, old in journal.items():
            if old is ABSENT:
                if name in self:
                    del self[name]
            elif dict.get(self, name, ABSENT) != old:
                self[name] = old

    def reset(self, snapshot: dict) -> None:
        """Hold exactly ``snapshot`` (a ``dict`` copy of this env) again, changing only what differs."""
        differing = {name for name, _ in self.items() ^ snapshot.items()}
        for name in differing:
            if name in snapshot:
                self[name] = snapshot[name]
            else:
                del self[name]

    def _refuse(self, *args, **kwargs):
        raise TypeError("Env changes one variable at a time (item assignment, del, pop)")

    update = setdefault = popitem = clear = __ior__ = _refuse
