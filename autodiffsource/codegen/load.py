"""Stage 4: generated text -> a live function, compiled under a filename that ``linecache`` knows.

Contract: ``load(text, factory, user_globals, bindings, filename)`` compiles ``text`` with the user's
module globals (so the user's own names resolve live, as in their function), calls the factory with the
bound helpers and returns the δ function, with ``__source__`` set. Tracebacks, ``inspect`` and pdb then
show the generated text, not ``<string>``.
"""

from __future__ import annotations

import linecache


def register_source(filename: str, text: str) -> None:
    """Make ``text`` readable under ``filename`` for tracebacks, pdb and inspect."""
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)


def load(text: str, factory: str, user_globals: dict, bindings: dict, filename: str):
    """Compile and instantiate the generated δ function."""
    register_source(filename, text)
    code = compile(text, filename, "exec")
    namespace: dict = {}
    exec(code, user_globals, namespace)  # definitions only: the factory is defined, nothing else runs
    return namespace[factory](**bindings)
