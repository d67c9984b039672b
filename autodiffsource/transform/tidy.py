"""Last touches on generated statements, so they read (and run) like a careful hand-written gradient.

Contract: ``tidy(forward, pullback, outputs, names, fusable, helper)`` rewrites the two statement lists
in place and changes no value any of them computes (up to the rounding of reassociated number literals):

- copy propagation in the pullback: ``d_t1 = d_t4`` disappears and later reads say ``d_t4`` (only in a
  pullback without loops, where each name is assigned once and read after), as does ``d = d``;
- fusion: a temporary assigned once and read once, by the very next statement of the same source line,
  is written into that statement (``_t4 = _t1 - _t2 ** 2``). Nothing user-visible is reordered: it is
  fused only where everything the next statement evaluates before it is a name, a literal or a pure
  helper call; in the pullback a definition may also move down past statements that only call runtime
  helpers and touch none of its names (accumulations into other cotangents). Besides reading better,
  this lets NumPy reuse a large temporary in place (its refcount-1 elision), so a big intermediate dies
  the moment it is consumed instead of when the function returns;
- constant folding in the pullback: ``-(d * 2) * x`` becomes ``d * -2 * x`` and ``d * 100 * 2`` becomes
  ``d * 200``: one pass over an array instead of two or three;
- in place on dead temporaries (pullbacks without loops): ``d * a * b``, where ``d`` is a new array the
  pullback made and reads here for the last time, becomes ``scale_owned(d, a, b)``, which multiplies into
  ``d`` on large NumPy arrays (``runtime.scale_owned`` decides at run time; other libraries compute it
  as written).

- with ``scatters_by_region`` (a variant first called with another library's arrays, in pullbacks
  without loops): a buffer's slice writes of one region are added one after the other
  (``_group_scatters``), the order XLA fuses best; the terms' sum changes only in rounding.

With ``numbers`` (scalar.py's Python-number fast path, which must equal the generic code to the bit)
only the exact folds apply (signs), and nothing is scaled in place.

``fusable`` names the temporaries that may be fused away (generated names, never the user's). Each
statement is walked once, into a table of its names (:class:`NameTable`, kept up to date by the
rewrites, and handed on to the passes after tidy); ``tidy`` returns the names the code read or wrote,
which reverse.build uses to drop unused helpers without a walk.
"""

from __future__ import annotations

import ast
import collections

from .. import runtime
from ..astutil import Transformer, child_fields as _child_fields, nodes as _nodes
from .codeparts import Comment

# Helpers that only read their arguments and make a new value: evaluating them earlier or later than
# written changes nothing (their errors aside, which concern shapes the earlier statements share).
_PURE_HELPERS = {runtime.zeros_like, runtime.shape_of}
_PURE_BUILTINS = {"slice"}
# Expressions inside which evaluation is conditional or repeated: nothing is fused into them.
_CONDITIONAL = (ast.IfExp, ast.BoolOp, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
                ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom, ast.Dict)


def tidy(forward: list[ast.stmt], pullback: list[ast.stmt], outputs: list[ast.expr], names: "NameTable",
         fusable, helper, numbers: bool = False, scatters_by_region: bool = False) -> set[str]:
    """``names``: a fresh table for the bound names ``names.named`` (name -> object), left up to date
    for the statements the passes after tidy read (``inplace``); ``helper(fn)``: the name generated code
    calls runtime function ``fn`` by (binding it). ``numbers``: code that computes on Python numbers
    only (scalar.py's fast path), which must give the generic code's values to the bit: no number
    literals reassociated (signs still move: negation is exact), and nothing scaled in place (there are
    no arrays to own). ``scatters_by_region``: group a buffer's slice writes by region (see above).

    Returns the names the statements and outputs read or write, as they came: the rewrites here remove
    only temporaries (and copies of names that stay read) and add only calls of helpers named by
    ``helper``, so it holds every other name the result reads (the unused helpers' check needs no walk)."""
    # One walk per statement finds the names it reads and writes; every rewrite below consults these
    # and updates them, so the passes stay linear and cheap (they run at every transform).
    named = names.named
    loads, stores = collections.Counter(), collections.Counter()
    loads_get, stores_get = loads.get, stores.get
    for s in forward + pullback + [ast.Expr(o) for o in outputs]:
        if s.__class__ is Comment:
            continue  # (no names)
        s_loads, s_stores = names.of(s)[:2]
        for name, count in s_loads.items():  # what Counter.update does, without a call per statement
            loads[name] = loads_get(name, 0) + count
        for name, count in s_stores.items():
            stores[name] = stores_get(name, 0) + count
    straight = not _has_loop(pullback)
    if straight:
        _propagate_copies(pullback, fusable, loads, stores, names)
    ok = lambda name: fusable(name) and loads[name] == 1 and stores[name] == 1  # noqa: E731
    helpers: dict[ast.stmt, tuple] = {}
    _fuse_block(forward, ok, named, False, names, helpers)
    _fuse_block(pullback, ok, named, True, names, helpers)
    fold = _Fold(numbers)
    for i, s in enumerate(pullback):
        # A block's own entry is not updated by the fusions inside it: its statements are walked.
        if s.__class__ is not Comment and (_foldable(s) if hasattr(s, "body") else names.of(s)[3]):
            fold.changed = False
            pullback[i] = fold.visit(s)  # names are unchanged: folding moves signs and numbers only
            if fold.changed:
                names.forget(s)  # (but not always their parents)
    if straight and scatters_by_region:
        _group_scatters(pullback, named)  # (first: scaling in place depends on the order of the reads)
    if straight and not numbers:
        _scale_in_place(pullback, fusable, named, helper, stores, names)
    return loads.keys() | stores.keys()


class _Counts(dict):
    """Counts by name; 0 for a name not counted (as ``Counter``, whose construction and update cost
    more than the counting itself here)."""

    def __missing__(self, key):
        return 0


class NameTable:
    """Per statement (by identity): the counts of names it loads, of names it stores, whether it holds
    conditional evaluation, whether it holds what :class:`_Fold` rewrites (a negation, a product or
    quotient by a number), and the counts of its reads that are not an operand of arithmetic nor the
    value ``index_add`` adds (what _scale_in_place calls escaping: anything else could keep the value, or
    a view of it); computed once, updated by the rewrites that change it, and forgotten by those that do
    not update it (a block's entry is not updated either: fusion inside it leaves it as it was)."""

    def __init__(self, named: dict):
        self.cache: dict[ast.AST, tuple] = {}  # by the statement itself (nodes hash by identity)
        self.named = named

    def of(self, s) -> tuple:
        """``(loads, stores, conditional, foldable, escaping, s)``."""
        hit = self.cache.get(s)
        if hit is None or hit[5] is not s:
            # Walked as astutil.nodes walks; each name is counted where its parent is at hand, and each
            # class's fields and role are looked up once per node.
            s_loads, s_stores, escaping, conditional, foldable = _Counts(), _Counts(), _Counts(), False, False
            todo = [s]
            append = todo.append
            known = _SCAN.get
            for n in todo:
                cls = n.__class__
                fields, role = known(cls) or _scan_role(cls)
                contained = False
                if role:
                    if role is _FOLD_ROLE:
                        contained = True
                        if not foldable:
                            foldable = _folds(n)
                    elif role is _CONDITIONAL_ROLE:
                        conditional = True
                    elif role is _ARG_ROLE:
                        s_stores[n.arg] = s_stores.get(n.arg, 0) + 1
                for field in fields:
                    value = getattr(n, field, None)
                    for child in value if value.__class__ is list else (value,):
                        if child.__class__ is _Name:
                            name = child.id
                            if child.ctx.__class__ is _Load:
                                s_loads[name] = s_loads.get(name, 0) + 1
                                if not (contained or cls is ast.Call and self.added(n, child)):
                                    escaping[name] = escaping.get(name, 0) + 1
                            else:
                                s_stores[name] = s_stores.get(name, 0) + 1
                        elif isinstance(child, ast.AST):
                            append(child)
            hit = (s_loads, s_stores, conditional, foldable, escaping, s)
            self.cache[s] = hit
        return hit

    def added(self, call: ast.Call, child: ast.Name) -> bool:
        """Whether ``child`` is the value ``index_add(buffer, index, value)`` adds (into a NumPy buffer,
        a copy; a list's entry may become the value itself: inplace.consume_forward_values asks)."""
        return call.func.__class__ is _Name and len(call.args) == 3 and call.args[2] is child \
            and self.named.get(call.func.id) is runtime.index_add

    def forget(self, s) -> None:
        """``s`` was rewritten in place: walked again when next asked for."""
        self.cache.pop(s, None)

    def read_in(self, stmts: list[ast.stmt]) -> frozenset[str]:
        """The names ``stmts`` read (blocks walked again: their entries are not kept up to date)."""
        read = set()
        for s in stmts:
            if s.__class__ is Comment:
                continue  # (no names)
            if hasattr(s, "body"):
                self.forget(s)
            read.update(name for name, count in self.of(s)[0].items() if count)
        return frozenset(read)

    def fused(self, s, name: str, definition) -> None:
        """``definition``'s value was written into ``s`` in place of its one read of ``name``."""
        s_loads, s_stores, conditional, foldable, escaping, _ = self.of(s)
        # An Assign to a name: its loads are its value's.
        d_loads, _, d_conditional, d_foldable, d_escaping, _ = self.of(definition)
        s_loads[name] -= 1
        for other, count in d_loads.items():
            s_loads[other] += count
        escaped = escaping[name]  # (read once here)
        if escaped:
            escaping[name] -= escaped
        for other, count in d_escaping.items():
            escaping[other] += count
        value = definition.value
        if value.__class__ is _Name:  # the value itself now stands where the read did, under its parent
            escaping[value.id] += escaped - 1
        # A number written in place of the name may be what a product or quotient is by now.
        foldable = foldable or d_foldable or _number(value)
        self.cache[s] = (s_loads, s_stores, conditional or d_conditional, foldable, escaping, s)


_Name, _Load = ast.Name, ast.Load
_CONDITIONAL_ROLE, _ARG_ROLE, _FOLD_ROLE = "conditional", "arg", "fold"
_SCAN: dict[type, tuple] = {}


def _scan_role(cls) -> tuple:
    """``(child fields, role)`` of a node class for :meth:`NameTable.of`: the role says what else a node of
    it tells (None: nothing)."""
    role = _CONDITIONAL_ROLE if issubclass(cls, _CONDITIONAL) else _ARG_ROLE if issubclass(cls, ast.arg) \
        else _FOLD_ROLE if issubclass(cls, (ast.UnaryOp, ast.BinOp)) else None
    entry = _SCAN[cls] = (_child_fields(cls), role)
    return entry


def _folds(n) -> bool:
    """Whether ``n`` is a negation or a product or quotient by a number (what _Fold rewrites)."""
    return isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub) \
        or isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Mult, ast.Div)) and _number(n.right)


def _foldable(s) -> bool:
    """Whether ``s`` holds what _Fold rewrites (a walk: for blocks, whose entries fusion leaves as they were)."""
    return any(_folds(n) for n in _nodes(s))


def _has_loop(stmts) -> bool:
    for s in stmts:
        if isinstance(s, (ast.For, ast.While)):
            return True
        if isinstance(s, ast.If) and (_has_loop(s.body) or _has_loop(s.orelse)):
            return True
    return False


# ---- copy propagation ------------------------------------------------------------------------------------

class _Rename(Transformer):
    def __init__(self, renames: dict):
        self.renames = renames

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.renames:
            return ast.Name(self.renames[node.id], ast.Load())
        return node


def _propagate_copies(stmts: list[ast.stmt], fusable, loads, stores, names: NameTable) -> None:
    """``a = b`` (both assigned once, ``a`` generated): drop it and read ``b`` wherever ``a`` was read.
    ``a = a`` after a statement here assigned ``a`` (what an identity helper leaves on numbers,
    ``d = expand_reduced(d, ...)``) is dropped first: it does nothing."""
    self_copies = {s for s in stmts if s.__class__ is ast.Assign and len(s.targets) == 1
                   and s.targets[0].__class__ is _Name and s.value.__class__ is _Name and s.value.id == s.targets[0].id}
    if self_copies:  # (then the names assigned before each are followed; most pullbacks have none)
        assigned, idle = set(), set()  # names the simple statements so far assigned (`a = a` of another raises)
        for s in stmts:
            if s.__class__ is ast.Assign and s in self_copies and s.value.id in assigned:
                stores[s.value.id] -= 1
                loads[s.value.id] -= 1
                idle.add(s)
            elif s.__class__ is ast.Delete:
                assigned.difference_update(t.id for t in s.targets if t.__class__ is _Name)
            elif not (s.__class__ is Comment or hasattr(s, "body")):  # (a block's branch may not run)
                assigned.update(name for name, count in names.of(s)[1].items() if count)
        if idle:
            stmts[:] = [s for s in stmts if s not in idle]
    renames: dict[str, str] = {}
    kept = []
    for s in stmts:
        if (isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
                and isinstance(s.value, ast.Name) and fusable(s.targets[0].id)
                and stores[s.targets[0].id] == 1 and stores[s.value.id] <= 1):
            source = s.value.id
            renames[s.targets[0].id] = renames.get(source, source)
            stores[s.targets[0].id] -= 1
            loads[s.value.id] -= 1
            continue
        kept.append(s)
    if not renames:
        return
    rename = _Rename(renames)
    for k, s in enumerate(kept):
        if s.__class__ is Comment:
            continue  # (no names)
        s_loads = names.of(s)[0]
        if renames.keys().isdisjoint(s_loads):
            continue  # (most statements: the test runs in C)
        renamed = [a for a in s_loads if s_loads[a] and a in renames]  # by the statement's names: linear
        if renamed:
            escaping = names.of(s)[4]
            for a in renamed:
                b = renames[a]
                loads[b] += s_loads[a]
                loads[a] -= s_loads[a]
                # The statement's own counts, as a fresh walk would find them: each read of `a` is now one
                # of `b`, under the same parent (so it escapes where it did).
                s_loads[b] += s_loads.pop(a)
                if a in escaping:
                    escaping[b] += escaping.pop(a)
            rename.visit(s)  # (in place: the statement itself is returned)
    stmts[:] = kept


# ---- fusion ----------------------------------------------------------------------------------------------

def _fuse_block(stmts: list[ast.stmt], ok, named: dict, skip: bool, names: NameTable, helpers: dict) -> None:
    """Fuse within one block; ``skip``: a definition may also move down past statements that only
    call runtime helpers and neither write what it reads nor read it (the pullback's accumulations).
    ``helpers``: whether a statement is such a one, by identity (a statement in ``out`` no longer
    changes, and the walk back from each later statement asks again)."""
    out: list[ast.stmt] = []
    append = out.append
    for s in stmts:
        cls = s.__class__
        if cls not in _VALUED:
            if cls is not Comment:
                for field in ("body", "orelse"):
                    inner = getattr(s, field, None)
                    if isinstance(inner, list):
                        _fuse_block(inner, ok, named, skip, names, helpers)
            append(s)
            continue
        entry = names.of(s)
        if s.value is not None and not entry[2]:
            reads = entry[0].get  # (fusion updates that dict in place)
            while True:
                j = len(out) - 1
                while j >= 0:
                    passed = out[j]
                    targets = getattr(passed, "targets", None)  # first the cheap question: is it read here?
                    if targets and targets[0].__class__ is _Name and reads(targets[0].id):
                        site = _fusion_site(passed, s, ok, named, names)
                        if site is not None:
                            break
                    known = helpers.get(passed) if skip else None
                    if skip and (known is None or known[0] is not passed):
                        known = helpers[passed] = (passed, _helper_statement(passed, named))
                    if not (skip and known[1]):
                        j = -1
                        break
                    j -= 1
                if j < 0 or not _may_move_past(out[j], out[j + 1:], names):
                    break
                previous = out.pop(j)
                parent, field, index = site
                if parent is None:
                    s.value = previous.value
                elif index is None:
                    setattr(parent, field, previous.value)
                else:
                    getattr(parent, field)[index] = previous.value
                names.fused(s, previous.targets[0].id, previous)
        append(s)
    stmts[:] = out


# Statements with a value fusion can write a definition into (no block: no body to fuse within).
_VALUED = frozenset({ast.Assign, ast.AugAssign, ast.Expr, ast.Return})


def _helper_statement(s: ast.stmt, named: dict) -> bool:
    """``name = <arithmetic and runtime helper calls>``: no user code runs, nothing but ``name`` and
    buffers the pullback owns (accumulating cotangents, which nothing reads yet) changes."""
    if not (isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)):
        return False
    for node in _nodes(s.value):
        if isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and (node.func.id in _PURE_BUILTINS and node.func.id not in named
                                                     or runtime.is_helper(named.get(node.func.id)))):
            return False
    return True


def _may_move_past(definition: ast.Assign, passed: list[ast.stmt], names: NameTable) -> bool:
    name = definition.targets[0].id
    reads = set(names.of(definition)[0]) | {name}
    for s in passed:
        entry = names.of(s)
        if s.targets[0].id in reads or entry[0].get(name) or entry[1].get(name):
            return False
    return True


def _fusion_site(previous: ast.stmt, s: ast.stmt, ok, named: dict, names: NameTable):
    """Where ``previous`` (``name = value``, ``name`` fusable and read once in all the code) can be written
    into ``s``: ``(parent, field, index)`` of the one read of ``name`` in ``s.value`` (``parent`` None: the
    value is that read; ``index`` None: the field holds it, not a list), when everything ``s.value``
    evaluates before that read is pure (:func:`_pure`); else None. One walk, stopped at the read."""
    if not (isinstance(previous, ast.Assign) and len(previous.targets) == 1
            and isinstance(previous.targets[0], ast.Name) and ok(previous.targets[0].id)):
        return None
    name = previous.targets[0].id
    if names.of(s)[0][name] != 1:
        return None  # read elsewhere (a later statement): not ours to fuse
    site = _first_read(s.value, name, named, None, None, None)
    return site or None  # (False: something impure is evaluated first; None: read elsewhere)


def _first_read(node, name: str, named: dict, parent, field, index):
    """In the order Python evaluates ``node`` and its sub-expressions (for the expressions fusion allows:
    no conditional evaluation, no dict displays; a call after its function and arguments, any other node
    after its parts): ``(parent, field, index)`` of the first read of ``name``, where ``node`` stands at
    ``parent.field[index]``; False when a node that is not :func:`_pure` is evaluated before it; None
    when ``node`` holds no read of it."""
    cls = node.__class__
    if cls is _Name:
        return (parent, field, index) if node.id == name and node.ctx.__class__ is _Load else None
    if cls is ast.Call:
        found = _first_read(node.func, name, named, node, "func", None)
        if found is not None:
            return found
        for i, argument in enumerate(node.args):
            found = _first_read(argument, name, named, node, "args", i)
            if found is not None:
                return found
        for keyword in node.keywords:
            found = _first_read(keyword.value, name, named, keyword, "value", None)
            if found is not None:
                return found
    else:
        for key in node._fields:
            value = getattr(node, key, None)
            if isinstance(value, ast.expr):
                found = _first_read(value, name, named, node, key, None)
                if found is not None:
                    return found
            elif value.__class__ is list:
                for i, item in enumerate(value):
                    if isinstance(item, ast.expr):
                        found = _first_read(item, name, named, node, key, i)
                        if found is not None:
                            return found
    return None if _pure(node, named) else False


def _pure(node, named: dict) -> bool:
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            return False
        return node.func.id in _PURE_BUILTINS and node.func.id not in named or named.get(node.func.id) in _PURE_HELPERS
    return isinstance(node, (ast.Name, ast.Constant, ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple,
                             ast.List, ast.BinOp, ast.UnaryOp, ast.Starred))


# ---- a buffer's slice writes, grouped by region -------------------------------------------------------------

def _group_scatters(stmts: list[ast.stmt], named: dict) -> None:
    """``B = index_add(B, J, g)`` moves up past the ``B = index_add(B, I, h)`` just before it when an earlier
    write into ``B`` has ``J`` as its index and ``I`` is another one (both literal): ``dx[:-1]``'s terms are
    then added one after the other, as JAX orders them, before ``dx[1:]``'s. On JAX, ``index_add`` pads
    each term to ``B``'s shape, and XLA fuses the sum into one loop; it cannot reassociate float adds, so
    two pads of one region merge into one only when they are added together (rosenbrock's gradient at
    10^6 under ``jax.jit``: 1.05-1.13x JAX's own with ``dx[1:]``'s term between them, 1.00-1.02x without).
    The terms' sum per element is the same up to rounding. Only for code whose arrays are not NumPy's
    (a variant first called with another library's arrays): on NumPy, the order before this lets the
    last of them scale a cotangent in place (``scale_owned``) after the others read it."""
    written: dict[str, set[str]] = {}  # buffer -> the indices written into it so far (ast.dump)
    for k in range(len(stmts)):
        write = _slice_write(stmts[k], named)
        if write is None:
            continue
        buffer, index = write
        seen = written.setdefault(buffer, set())
        j = k
        while j > 0 and index in seen:
            before = _slice_write(stmts[j - 1], named)
            if before is None or before[0] != buffer or before[1] == index \
                    or stmts[j - 1].value.args[0].__class__ is not _Name:  # (that write made the buffer)
                break
            if any(n.__class__ is _Name and n.id == buffer
                   for s in (stmts[j], stmts[j - 1]) for n in _nodes(s.value.args[2])):
                break  # (a term that reads the buffer itself: never generated, never moved)
            stmts[j - 1], stmts[j] = stmts[j], stmts[j - 1]
            j -= 1
        seen.add(index)


def _slice_write(s, named: dict) -> tuple[str, str] | None:
    """``(B, dump of I)`` for ``B = index_add(B, I, g)`` or ``B = index_add(zeros_like(x), I, g)`` with a
    literal index ``I``; else None."""
    if s.__class__ is not ast.Assign or len(s.targets) != 1 or s.targets[0].__class__ is not _Name:
        return None
    value = s.value
    if value.__class__ is not ast.Call or value.func.__class__ is not _Name or len(value.args) != 3 \
            or value.keywords or named.get(value.func.id) is not runtime.index_add:
        return None
    buffer, index = s.targets[0].id, value.args[1]
    first = value.args[0]
    if not (first.__class__ is _Name and first.id == buffer or first.__class__ is ast.Call
            and first.func.__class__ is _Name and named.get(first.func.id) is runtime.zeros_like):
        return None
    if not literal_basic_index(index):
        return None  # (an index computed from the data: not compared)
    return buffer, ast.dump(index)


def literal_basic_index(node) -> bool:
    """``slice(1, None, None)``, ``3``, or a tuple of them: an index written with literals only."""
    parts = node.elts if isinstance(node, ast.Tuple) else [node]
    for part in parts:
        if isinstance(part, ast.Call) and isinstance(part.func, ast.Name) and part.func.id == "slice" \
                and not part.keywords and len(part.args) <= 3 and all(_is_int_or_none(a) for a in part.args):
            continue
        if _is_int_or_none(part) and not (isinstance(part, ast.Constant) and part.value is None):
            continue
        return False
    return True


def _is_int_or_none(node) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and (node.value is None or type(node.value) is int)


# ---- in place on dead temporaries ---------------------------------------------------------------------------

def _scale_in_place(stmts: list[ast.stmt], fusable, named: dict, helper, stores, names: NameTable) -> None:
    """``d * -2 * x`` where ``d`` is a cotangent this pullback made with arithmetic (a new array), read
    for the last time here, and never handed anywhere that could keep it: ``scale_owned(d, -2, x)``,
    which multiplies into ``d`` itself on large NumPy arrays (one array less alive, no allocation)."""
    made = {}
    for s in stmts:
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) \
                and _makes_new_array(s.value, named) and fusable(s.targets[0].id):
            made[s.targets[0].id] = s
    if not made:
        return
    last_read = {}
    escapes = set()
    for i, s in enumerate(stmts):
        if s.__class__ is Comment:
            continue  # (no names)
        if hasattr(s, "body"):  # a block's entry is not kept up to date by the fusions inside it: walked again
            names.forget(s)
        entry = names.of(s)
        s_loads, escaping = entry[0], entry[4]
        for name, count in s_loads.items():  # (a statement reads a few names: no set made per statement)
            if count and name in made:
                last_read[name] = i
                if escaping[name]:
                    escapes.add(name)
    for name, i in last_read.items():
        if name in escapes or stores[name] != 1:
            continue
        nodes = _nodes(stmts[i])
        chains = [node for node in nodes if product_led_by(node, name)]
        if not chains or sum(1 for n in nodes if isinstance(n, ast.Name) and n.id == name) != 1:
            continue
        chain = chains[0]  # the outermost (the walk goes breadth first); the others are its left parts
        names.forget(stmts[i])  # (its count of the helper's name would be missing)
        stmts[i] = replace_node(stmts[i], chain, scale_owned_chain(chain, helper(runtime.scale_owned)))


def scale_owned_chain(chain: ast.BinOp, scale_owned: str) -> ast.Call:
    """``a * b * c * d`` (a chain ``product_led_by`` its first factor) as ``scale_owned(scale_owned(a, b, c),
    d)``: the same multiplications in the same order, into ``a`` where ``runtime.scale_owned`` may."""
    factors = []
    node = chain
    while isinstance(node, ast.BinOp):
        factors.append(node.right)
        node = node.left
    factors.reverse()
    call = node
    for k in range(0, len(factors), 2):
        call = ast.Call(ast.Name(scale_owned, ast.Load()), [call] + factors[k:k + 2], [])
    return call


# Helpers whose result is always a new array (never one of their arguments).
_NEW_ARRAY_HELPERS = {runtime.matmul_left_partial, runtime.matmul_right_partial, runtime.dot_left_partial,
                      runtime.dot_right_partial}


def _makes_new_array(value, named: dict) -> bool:
    """Arithmetic, a helper that always makes a new array, or ``unbroadcast`` of arithmetic (which
    returns its first argument or a new sum of it)."""
    if isinstance(value, (ast.BinOp, ast.UnaryOp)):
        return True
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        fn = named.get(value.func.id)
        if fn in _NEW_ARRAY_HELPERS:
            return True
        if fn in (runtime.unbroadcast, runtime.unbroadcast_to) and value.args:
            return _makes_new_array(value.args[0], named)
    return False


def product_led_by(node, name: str) -> bool:
    """``name * a * b`` (left-nested products whose first factor is ``name``), the whole chain only."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
        return False
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        node = node.left
    return isinstance(node, ast.Name) and node.id == name


def replace_node(tree, old, new):
    """``tree`` with the node ``old`` replaced by ``new`` (in place; ``new`` itself if ``tree`` is ``old``).
    (Not a class made per call: a class is a reference cycle the garbage collector must find.)"""
    if tree is old:
        return new
    for node in _nodes(tree):
        for field in _child_fields(node.__class__):
            child = getattr(node, field, None)
            if child is old:
                setattr(node, field, new)
                return tree
            if child.__class__ is list:
                for i, item in enumerate(child):
                    if item is old:
                        child[i] = new
                        return tree
    return tree


# ---- constant folding -------------------------------------------------------------------------------------

def _number(node) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def subtracted(s: ast.stmt) -> ast.stmt:
    """``g += -h`` -> ``g -= h``: the same value (``a + (-b)`` rounds as ``a - b``), without a pass to
    negate ``h``; any other statement as it is."""
    value = getattr(s, "value", None)
    if s.__class__ is ast.AugAssign and isinstance(s.op, ast.Add) and isinstance(value, ast.UnaryOp) \
            and isinstance(value.op, ast.USub):
        return ast.AugAssign(s.target, ast.Sub(), value.operand)
    return s


class _Fold(Transformer):
    """``exact``: only the rewrites that give the same value to the bit (signs), not ``a * c1 * c2`` ->
    ``a * (c1 * c2)``. ``changed``: whether anything was rewritten since it was last set False (most
    statements that hold a product by a number have nothing to fold: their names table stays valid)."""

    def __init__(self, exact: bool = False):
        self.exact = exact
        self.changed = False

    def _rewritten(self, node, new):
        if new is not node:
            self.changed = True
        return new

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        return self._rewritten(node, subtracted(node))

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        return self._rewritten(node, self._negation(node))

    def visit_BinOp(self, node):
        self.generic_visit(node)
        return self._rewritten(node, self._product(node))

    def _negation(self, node):
        if not isinstance(node.op, ast.USub):
            return node
        operand = node.operand
        if _number(operand):
            return ast.Constant(-operand.value)
        if isinstance(operand, ast.UnaryOp) and isinstance(operand.op, ast.USub):
            return operand.operand
        if isinstance(operand, ast.BinOp) and isinstance(operand.op, (ast.Mult, ast.Div)):
            if _number(operand.right):  # -(a * 2) -> a * -2
                return ast.BinOp(operand.left, operand.op, ast.Constant(-operand.right.value))
            if _has_literal_factor(operand.left):  # -(a * 2 * x) -> a * -2 * x, -(-a * x) -> a * x
                return ast.BinOp(self.visit(ast.UnaryOp(ast.USub(), operand.left)), operand.op, operand.right)
        return node

    def _product(self, node):
        left, right = node.left, node.right
        if isinstance(node.op, (ast.Mult, ast.Div)) and _number(right):
            if isinstance(left, ast.UnaryOp) and isinstance(left.op, ast.USub):  # (-a) * c -> a * -c
                return self.visit_BinOp(ast.BinOp(left.operand, node.op, ast.Constant(-right.value)))
            if isinstance(node.op, ast.Mult) and isinstance(left, ast.BinOp) and isinstance(left.op, ast.Mult) \
                    and _number(left.right) and not self.exact:  # a * c1 * c2 -> a * (c1 * c2)
                return ast.BinOp(left.left, ast.Mult(), ast.Constant(left.right.value * right.value))
        return node


def _has_literal_factor(node) -> bool:
    """Whether a left-nested product has a number literal or a negation among its factors (where a
    sign can go: ``-(-d * a * b)`` is ``d * a * b``)."""
    if _number(node) or isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        return _number(node.right) or _has_literal_factor(node.left)
    return False
