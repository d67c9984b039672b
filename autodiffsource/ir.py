"""The intermediate representation between lowering and the reverse pass.

A lowered function is a list of statements in A-normal form: each :class:`Assign` does at most one
differentiable operation on *atoms* (``ast.Name`` of an SSA variable, ``ast.Constant``, or an inactive
expression that is cheap to repeat). Every statement keeps the user's :class:`SourceLoc`. Variables are
in SSA form for straight-line code: a reassigned user variable ``x`` becomes ``x``, ``x_2``... so the
backward pass can read any earlier value by name.

``print(lowered)`` gives a deterministic text dump, one statement a line.
"""

from __future__ import annotations

import ast
import dataclasses
from typing import Any

from .errors import SourceLoc
from .rules.registry import Rule


@dataclasses.dataclass
class PrimOp:
    """A call of a registered rule; ``args`` maps each rule parameter to its atom."""

    rule: Rule
    args: dict[str, ast.expr]

    def describe(self) -> str:
        inner = ", ".join(f"{k}={ast.unparse(v)}" for k, v in self.args.items())
        return f"{self.rule.delta.__name__}({inner})"


@dataclasses.dataclass
class DeltaCall:
    """A call through a δ function: a user rule ``δname`` or a recursively differentiated function.

    ``delta`` is the object to call (the user's rule or our compiled/lazy δ variant); ``active`` says
    which positional arguments carry derivatives; ``ours`` is True for δ functions we generated (whose
    pullback accepts None cotangents and returns partials for the active arguments only).
    """

    name: str
    delta: Any
    args: list[ast.expr]
    kwargs: dict[str, ast.expr]
    active: list[bool]
    ours: bool

    def describe(self) -> str:
        parts = [ast.unparse(a) for a in self.args] + [f"{k}={ast.unparse(v)}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"


@dataclasses.dataclass
class PlainOp:
    """An expression (or a statement such as ``assert``) evaluated as written; carries no derivative."""

    expr: ast.expr | ast.stmt

    def describe(self) -> str:
        return ast.unparse(self.expr)


@dataclasses.dataclass
class SetItemOp:
    """``old[index] = value`` in place; the target names the object after the write (an alias of ``old``)."""

    old: str
    index: ast.expr
    value: ast.expr

    def describe(self) -> str:
        return f"setitem({self.old}[{ast.unparse(self.index)}] = {ast.unparse(self.value)})"


@dataclasses.dataclass
class PackOp:
    """A list, tuple or dict literal holding differentiated values (``keys`` for dicts)."""

    kind: str
    items: list[ast.expr]
    keys: list[ast.expr] | None = None

    def describe(self) -> str:
        if self.kind == "dict":
            return "{" + ", ".join(f"{ast.unparse(k)}: {ast.unparse(v)}" for k, v in zip(self.keys, self.items)) + "}"
        inner = ", ".join(ast.unparse(v) for v in self.items)
        return f"[{inner}]" if self.kind == "list" else f"({inner},)"


@dataclasses.dataclass
class AppendOp:
    """``old.append(value)`` in place; the target names the list after it (an alias of ``old``)."""

    old: str
    value: ast.expr
    count: str

    def describe(self) -> str:
        return f"append({self.old}, {ast.unparse(self.value)})"


@dataclasses.dataclass
class Assign:
    """``targets = op``; ``active`` lists, per target, whether it carries a derivative."""

    targets: list[str]
    op: PrimOp | DeltaCall | PlainOp | SetItemOp | PackOp | AppendOp
    loc: SourceLoc
    active: list[bool]
    # A SetItemOp's: the values read out of the array before the write by subscript (NumPy's views, which
    # the write changes): the pullback reads each as it was before it (transform/reverse.py's snapshots).
    items_before: list[str] = dataclasses.field(default_factory=list)

    def __str__(self) -> str:
        lhs = ", ".join(f"{t}{'*' if a else ''}" for t, a in zip(self.targets, self.active, strict=True))
        return f"{lhs + ' = ' if self.targets else ''}{self.op.describe()}    # {self.loc.short()}"


@dataclasses.dataclass
class If:
    """``if test: body else: orelse``; each branch ends with the copies that merge its versions (phis)."""

    test: ast.expr
    body: list
    orelse: list
    loc: SourceLoc

    def __str__(self) -> str:
        inner = "\n".join(f"    {line}" for s in self.body for line in str(s).splitlines())
        other = "\n".join(f"    {line}" for s in self.orelse for line in str(s).splitlines())
        return f"if {ast.unparse(self.test)}:    # {self.loc.short()}\n{inner}" + (f"\nelse:\n{other}" if other else "")


@dataclasses.dataclass
class Loop:
    """A ``for`` (``target``/``iter``) or ``while`` (``test``) loop over a lowered body.

    ``carried`` lists ``(L, E)``: the loop-carried variable's name ``L`` (bound before the loop, read in
    the body, holding the result after it) and the name ``E`` of its last version in the body; the
    generated code copies ``L = E`` at the end of each iteration. ``exit_test`` (from break, early
    return) leaves the loop after the iteration's values are saved.
    """

    kind: str
    target: ast.expr | None
    iter: ast.expr | None
    test: ast.expr | None
    body: list
    carried: list[tuple[str, str]]
    exit_test: ast.expr | None
    loc: SourceLoc
    # Values read by subscript before the loop out of arrays its body writes into: as items_before of a
    # write, with the snapshot taken as the loop is entered (before its first write).
    items_before: list[str] = dataclasses.field(default_factory=list)

    def __str__(self) -> str:
        head = (f"for {ast.unparse(self.target)} in {ast.unparse(self.iter)}" if self.kind == "for"
                else f"while {ast.unparse(self.test)}")
        inner = "\n".join(f"    {line}" for s in self.body for line in str(s).splitlines())
        carry = ", ".join(f"{l} <- {e}" for l, e in self.carried)
        return f"{head}:    # {self.loc.short()}  carried: {carry}\n{inner}"


def walk_statements(stmts):
    """Every IR statement in ``stmts``, nested blocks included, in order."""
    for s in stmts:
        yield s
        if isinstance(s, If):
            yield from walk_statements(s.body)
            yield from walk_statements(s.orelse)
        elif isinstance(s, Loop):
            yield from walk_statements(s.body)


@dataclasses.dataclass
class Return:
    """The function's outputs, one atom each."""

    values: list[ast.expr]
    loc: SourceLoc

    def __str__(self) -> str:
        return f"return {', '.join(ast.unparse(v) for v in self.values)}    # {self.loc.short()}"


@dataclasses.dataclass
class LoweredFunction:
    """A function in IR form, ready for the reverse pass."""

    name: str
    params: list[str]
    vararg: str | None
    defaults_source: list[str]
    wrt: list[bool]
    body: list
    ret: Return
    active: set[str]
    closure: dict[str, Any]
    file: str
    first_line: int
    def_line: int
    # Values that may be views of arrays the function writes into (frontend/views.py), and versions of
    # arrays it writes into: a loop saves them for its pullback as copies, as a later iteration's write
    # would change them.
    views: set[str] = dataclasses.field(default_factory=set)
    changed_in_place: set[str] = dataclasses.field(default_factory=set)

    def __str__(self) -> str:
        head = f"def {self.name}({', '.join(self.params)})  # wrt={self.wrt}"
        return "\n".join([head] + [f"    {s}" for s in self.body] + [f"    {self.ret}"])
