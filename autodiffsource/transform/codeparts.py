"""Pieces shared by the reverse pass and its loop reversal: comment and placeholder statements, the
cotangent states, and small AST helpers. No logic of its own."""

from __future__ import annotations

import ast

from ..ir import AppendOp, PackOp, PrimOp, SetItemOp

PRESENT, MAYBE = "present", "maybe"  # a cotangent certainly holds a value / may still be None (zero)


class Comment(ast.stmt):
    """A ``# file:line  source`` line in generated code (rendered by codegen/emit.py)."""

    _fields = ("text",)


class Placeholder(ast.stmt):
    """A slot in the forward pass filled once the pullback is known (a loop's tape)."""

    _fields = ("stmts",)


def has_code(stmts) -> bool:
    return any(not isinstance(s, (Comment, Placeholder)) for s in stmts)


def store_targets(names: list[str]) -> ast.expr:
    if len(names) == 1:
        return ast.Name(names[0], ast.Store())
    return ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())


def input_atoms(op) -> list:
    """The atoms an operation may send cotangents to."""
    if isinstance(op, PrimOp):
        return list(op.args.values())
    if isinstance(op, SetItemOp):
        return [ast.Name(op.old, ast.Load()), op.value]
    if isinstance(op, AppendOp):
        return [ast.Name(op.old, ast.Load()), op.value]
    if isinstance(op, PackOp):
        return list(op.items)
    return list(op.partial_atoms)
