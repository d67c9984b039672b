"""Errors raised by autodiffsource, each pointing at the user's own source.

Every error that concerns user code carries a :class:`SourceLoc` (file, line, column and the source
line) and renders as::

    model.py:13:8: MissingRuleError: no derivative rule for `scipy.stats.norm.cdf`
        h = norm.cdf(x)
            ^^^^^^^^^^^
    ...how to fix it...

Messages are built here, in one place, so that every stage words the same problem the same way.
"""

from __future__ import annotations

import dataclasses
import linecache


@dataclasses.dataclass(frozen=True)
class SourceLoc:
    """Where a construct sits in the user's file (1-based line, 0-based column, as ``ast`` counts)."""

    file: str
    line: int
    col: int = 0
    end_line: int | None = None
    end_col: int | None = None

    @property
    def text(self) -> str:
        """The full source line, without its newline (empty where the file cannot be read)."""
        return linecache.getline(self.file, self.line).rstrip("\n")

    def short(self) -> str:
        """``file:line`` as used in generated-code comments."""
        return f"{self.file}:{self.line}"

    def caret(self) -> str:
        """The source line with a caret run under the construct."""
        text = self.text
        if not text:
            return ""
        end = self.end_col if (self.end_col is not None and self.end_line in (None, self.line)) else len(text)
        width = max(1, end - self.col)
        return f"    {text}\n    {' ' * self.col}{'^' * width}"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col + 1}"


class ADError(Exception):
    """Base class of every autodiffsource error about user code."""

    def __init__(self, message: str, loc: SourceLoc | None = None, hint: str = ""):
        self.message = message
        self.loc = loc
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        head = f"{self.loc}: {self.message}" if self.loc else self.message
        parts.append(head)
        if self.loc is not None and self.loc.caret():
            parts.append(self.loc.caret())
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


class UnsupportedSyntaxError(ADError, SyntaxError):
    """A construct autodiffsource cannot differentiate (yet); raised at transform time."""

    def __init__(self, message: str, loc: SourceLoc | None = None, hint: str = ""):
        ADError.__init__(self, message, loc, hint)
        # SyntaxError's own fields, so IDEs and tracebacks point at the right place.
        if loc is not None:
            self.filename = loc.file
            self.lineno = loc.line
            self.offset = loc.col + 1
            self.text = loc.text
            self.end_lineno = loc.end_line
            self.end_offset = (loc.end_col + 1) if loc.end_col is not None else None
        self.msg = self._render()

    def __str__(self) -> str:
        return self._render()


class MissingRuleError(ADError, NotImplementedError):
    """A differentiated value flows into a callable with neither a rule nor readable source."""


class NoSourceError(ADError):
    """The function's source cannot be found (a lambda typed at a bare REPL, a C function...)."""


class RuleContractError(ADError):
    """A rule or pullback broke the (value, pullback) convention: wrong arity, shape or type."""


class CotangentError(ADError, ValueError):
    """A pullback was called with the wrong number or shape of cotangents."""


class NonDifferentiableInputError(ADError, TypeError):
    """An argument to differentiate is not a real number or real array (complex, str, object...)."""


def missing_rule_stub(name: str, params: list[str]) -> str:
    """A ready-to-paste custom rule for ``name`` in the seed's ``δname`` convention."""
    args = ", ".join(params) or "x"
    partials = ", ".join(f"d{p}" for p in params) or "dx"
    single = len(params) <= 1
    body = partials if single else f"({partials})"
    return (
        "Define a rule next to your function, in the same module:\n\n"
        f"    def δ{name}({args}):\n"
        f"        value = {name}({args})\n"
        f"        def {name}_pullback(dvalue):\n"
        f"            ...  # compute {partials} from dvalue\n"
        f"            return {body}\n"
        f"        return value, {name}_pullback\n"
    )
