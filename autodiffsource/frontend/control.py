"""Stage 1 (continued): lowering of ``if``, ``for``, ``while`` and conditional expressions.

Contract: branches and loops keep their structure in the IR (:class:`If`, :class:`Loop`), with SSA
inside. Where control flow merges, versions are joined by explicit copies at the end of each branch
(``x_3 = x_2`` in one, ``x_3 = x`` in the other). A loop-carried variable gets one name ``L`` for the
whole loop (bound before it, read in the body, updated by ``L = E`` at the end of each iteration).
Which carried variables are active is found by a fixpoint: the body is lowered again whenever an
iteration makes a carried value depend on a differentiated input that it did not depend on before.
Iterating over a differentiated array (``for row in A``, ``enumerate``, ``zip``, both) becomes a ``range``
loop whose body starts with subscripts, so each row's cotangent flows back into ``A``.
"""

from __future__ import annotations

import ast
import collections
import copy

from ..astutil import walk
from ..ir import Assign, If, Loop, PlainOp, PrimOp, walk_statements
from ..rules import operator as operator_rules
from .env import ABSENT
from .mutation import _changed_in_place
from .normalize import LoopExit


class ControlFlowLowering:
    """Mixed into :class:`~autodiffsource.frontend.lower.Lowerer`."""

    # ---- blocks ---------------------------------------------------------------------------------------

    def lower_block(self, stmts: list[ast.stmt]) -> list:
        """Lower ``stmts`` into a fresh IR list (the caller keeps its own)."""
        saved = self.body
        self.body = []
        try:
            for stmt in stmts:
                self.loc = self.pf.loc(stmt)
                self.lower_stmt(stmt)
            return self.body
        finally:
            self.body = saved

    def copy_op(self, source: str | None):
        """The op that copies version ``source`` into a merged name (None: undefined on this path)."""
        if source is None:
            return PlainOp(ast.Constant(None)), False
        if source in self.active:
            return PrimOp(operator_rules.δidentity.rule, {"x": ast.Name(source, ast.Load())}), True
        return PlainOp(ast.Name(source, ast.Load())), False

    # ---- if -------------------------------------------------------------------------------------------

    def lower_if(self, stmt: ast.If) -> None:
        loc = self.pf.loc(stmt)
        test = self.atom(stmt.test)
        env = self.env
        # Each branch in a journal of the variables it changes; then undone, so the other branch (and the
        # merge) starts from the variables as they were before the `if`.
        groups_before = [set(m) for m in self.alias_groups]
        items_before = set(self.item_of)
        env.begin()
        body = self.lower_block(stmt.body)
        body_changes = env.end()
        body_items = set(self.item_of) - items_before
        after_body = {v: env.get(v, ABSENT) for v in body_changes}
        env.undo(body_changes)
        groups_after_body, self.alias_groups = self.alias_groups, groups_before
        env.begin()
        orelse = self.lower_block(stmt.orelse)
        else_changes = env.end()
        # Items read out of arrays written later, on one path: None on the other, where a later write's
        # snapshot of them (copy_value(None) is None) runs though the branch that made them did not.
        for block, items in ((orelse, body_items), (body, set(self.item_of) - items_before - body_items)):
            block.extend(Assign([item], PlainOp(ast.Constant(None)), loc, [False]) for item in sorted(items))
        self.alias_groups = self.joined_alias_groups(groups_after_body, self.alias_groups)
        after_else = {v: env.get(v, ABSENT) for v in else_changes}
        env.undo(else_changes)
        versions = {}  # variable -> (before, after the body, after the else), None where unbound
        for var, old in {**else_changes, **body_changes}.items():
            end_body, end_else = after_body.get(var, old), after_else.get(var, old)
            if end_body is ABSENT and end_else is ABSENT:
                continue  # bound after neither branch: nothing to merge
            versions[var] = tuple(None if v is ABSENT else v for v in (old, end_body, end_else))
        changed = sorted(v for v, (old, end_body, end_else) in versions.items() if end_body != old or end_else != old)
        self.loc = loc
        assigned = None  # versions each branch binds (found once, where a merged array is written later)
        for var in changed:
            from_body, from_else = versions[var][1], versions[var][2]
            if from_body == from_else:
                self.env[var] = from_body
                continue
            merged = self.new_version(var)
            for block, source in ((body, from_body), (orelse, from_else)):
                op, is_active = self.copy_op(source)
                block.append(Assign([merged], op, loc, [is_active]))
            if (from_body in self.active) or (from_else in self.active):
                self.active.add(merged)
            self.note_merged_view(merged, test, from_body, from_else)
            self.note_merged_object(merged, from_body, from_else)
            self.note_merged_item(merged, from_body, from_else)
            if var in self.written or var in self.augmented or var in self.appended:
                # A later write into the merged array changes the branch's own version too, which the
                # branch's statements read: that version is None where the other branch runs, so the
                # write's snapshot of it (copy_value(None)) runs on either path.
                self.merged_from[merged] = {v for v in (from_body, from_else) if v is not None}
                if assigned is None:
                    assigned = {id(body): _assigned_in(body), id(orelse): _assigned_in(orelse)}
                for block, made, source in ((orelse, body, from_body), (body, orelse, from_else)):
                    # (and the versions it may be in turn, made in the branch: an inner if's own)
                    for version in sorted(self.versions_merged_into(source) & assigned[id(made)]):
                        block.append(Assign([version], PlainOp(ast.Constant(None)), loc, [False]))
        self.body.append(If(test, body, orelse, loc))

    def lower_ifexp(self, node: ast.IfExp) -> ast.Name:
        """``a if c else b`` on differentiated values: an ``if`` statement assigning a fresh variable."""
        name = self.temp()
        self.local_names.add(name)
        stmt = ast.If(node.test, [ast.Assign([ast.Name(name, ast.Store())], node.body)],
                      [ast.Assign([ast.Name(name, ast.Store())], node.orelse)])
        ast.copy_location(stmt, node)
        for sub in walk(stmt):
            if not hasattr(sub, "lineno"):
                ast.copy_location(sub, node)
        self.lower_if(stmt)
        return ast.Name(self.env[name], ast.Load())

    def lower_comprehension(self, node) -> ast.Name:
        """``[e for t in it if c]`` (or a generator expression) on differentiated values: the loop it
        stands for, appending to a fresh list. Its variables are renamed, as Python keeps them inside."""
        for gen in node.generators:
            if gen.is_async:
                self.unsupported(node, "async comprehensions")
        renames = {}
        for gen in node.generators:
            for n in walk(gen.target):
                if isinstance(n, ast.Name):
                    renames[n.id] = self.namer.fresh(f"{n.id}_item")
        result = self.temp()
        self.local_names.update(renames.values())
        self.local_names.add(result)

        def renamed(expr):
            return _rename_names(copy.deepcopy(expr), renames)

        append = ast.Expr(ast.Call(ast.Attribute(ast.Name(result, ast.Load()), "append", ast.Load()),
                                   [renamed(node.elt)], []))
        body: list[ast.stmt] = [append]
        for gen in reversed(node.generators):
            for cond in reversed(gen.ifs):
                body = [ast.If(renamed(cond), body, [])]
            body = [ast.For(renamed(gen.target), renamed(gen.iter), body, [])]
        stmts = [ast.Assign([ast.Name(result, ast.Store())], ast.List([], ast.Load()))] + body
        stmts = _located(stmts, node)
        saved_loads = self.loads
        self.loads = saved_loads + collections.Counter(
            n.id for s in stmts for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))
        try:
            for stmt in stmts:
                self.lower_stmt(stmt)
        finally:
            self.loads = saved_loads
        return ast.Name(self.env[result], ast.Load())

    # ---- loops ----------------------------------------------------------------------------------------

    def lower_for(self, stmt: ast.For) -> None:
        if stmt.orelse:
            self.unsupported(stmt, "`for ... else`")
        target, iter_expr, prologue = self.for_header(stmt)
        self.lower_loop(stmt, "for", target, iter_expr, None, prologue + list(stmt.body))

    def lower_while(self, stmt: ast.While) -> None:
        if stmt.orelse:
            self.unsupported(stmt, "`while ... else`")
        self.lower_loop(stmt, "while", None, None, stmt.test, list(stmt.body))

    def for_header(self, stmt: ast.For):
        """``(target, iterable, prologue)``: a loop over a differentiated array becomes a range loop, as
        does one over an array the function writes into (its rows are views that show the writes, and a
        write carrying a derivative makes them differentiated: frontend/views.py)."""
        it = stmt.iter
        if not self.is_active(it) and not (isinstance(it, ast.Name) and it.id in self.written):
            return stmt.target, it, []
        index = self.temp()
        self.local_names.add(index)
        idx = ast.Name(index, ast.Load())

        def sequence(node):
            # Evaluated once, before the loop, and held under a name of its own: the body may rebind
            # the user's variable, but Python iterates over the object it had when the loop began.
            atom = self.atom(node)
            held = self.temp()
            self.local_names.add(held)
            self.bind_atom(held, atom)
            if isinstance(node, ast.Name):  # the held name is the same object: same care when it changes
                for changed in (self.written, self.appended, self.view_roots):
                    if node.id in changed:
                        changed.add(held)
                self.note_binding(held, node)
            return ast.Name(held, ast.Load())

        def length(node):
            return ast.Call(self.builtin_name("len"), [node], [])

        def rng(n):
            return ast.Call(self.builtin_name("range"), [n], [])

        def zipped(node, target) -> tuple[list, list, ast.expr]:
            """``(targets, sequences, count)`` for iterating ``node`` into ``target``: a name and a
            sequence per zipped sequence of ``zip(...)`` (the shortest decides the count), else the one."""
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "zip" \
                    and not node.keywords:
                if not (isinstance(target, ast.Tuple) and len(target.elts) == len(node.args)):
                    self.unsupported(target, "this target for `zip` (one name per zipped sequence)")
                seqs = [sequence(a) for a in node.args]
                count = ast.Call(self.builtin_name("min"), [length(s) for s in seqs], []) if len(seqs) > 1 \
                    else length(seqs[0])
                return target.elts, seqs, count
            seq = sequence(node)
            return [target], [seq], length(seq)

        def items(targets, seqs, position) -> list[ast.stmt]:
            return [ast.Assign([t], ast.Subscript(copy.deepcopy(s), copy.deepcopy(position), ast.Load()))
                    for t, s in zip(targets, seqs, strict=True)]

        call = it if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) else None
        start = _constant_start(call) if call is not None and call.func.id == "enumerate" else None
        if call is not None and call.func.id == "enumerate" and (len(call.args) == 1 and not call.keywords
                                                                  or start is not None):
            if not (isinstance(stmt.target, ast.Tuple) and len(stmt.target.elts) == 2):
                self.unsupported(stmt.target, "this target for `enumerate` (write `for i, x in enumerate(...)`)")
            counter, item = stmt.target.elts
            if not isinstance(counter, ast.Name):
                self.unsupported(counter, "this counter for `enumerate` (use a plain name)")
            # (`enumerate(zip(a, b))` into `i, (x, y)`: the zipped sequences indexed by the one position)
            targets, seqs, count = zipped(call.args[0], item)
            if start is not None:  # enumerate(A, 1): index A by the position, count from `start`
                prologue = items(targets, seqs, idx) + [
                    ast.Assign([counter], ast.BinOp(idx, ast.Add(), ast.Constant(start)))]
                return ast.Name(index, ast.Store()), rng(count), _located(prologue, stmt)
            prologue = items(targets, seqs, ast.Name(counter.id, ast.Load()))
            return counter, rng(count), _located(prologue, stmt)
        if call is not None and call.func.id == "zip" and not call.keywords:
            targets, seqs, count = zipped(call, stmt.target)
            return ast.Name(index, ast.Store()), rng(count), _located(items(targets, seqs, idx), stmt)
        seq = sequence(it)
        prologue = [ast.Assign([stmt.target], ast.Subscript(seq, idx, ast.Load()))]
        return ast.Name(index, ast.Store()), rng(length(seq)), _located(prologue, stmt)

    def builtin_name(self, name: str) -> ast.Name:
        """A name for the builtin ``name`` in generated code, even where the user's code rebinds it."""
        import builtins

        shadowed = name in self.local_names or name in self.closure or name in self.fn.__globals__
        if not shadowed:
            return ast.Name(name, ast.Load())
        ref = self.namer.fresh(f"builtin_{name}")
        self.closure[ref] = getattr(builtins, name)  # bound into the generated module like a closure value
        return ast.Name(ref, ast.Load())

    def carried_variables(self, stmt, body: list[ast.stmt], written: set[str]) -> list[str]:
        """User variables the loop assigns that live across iterations or after the loop. ``written``: the
        names its body writes into (``_changed_in_place``)."""
        assigned = {n.id for s in body for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        # Objects changed in place are carried too: y[i] = v and items.append(v) make new versions.
        for s in body:
            for n in walk(s):
                if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name):
                    assigned.add(n.value.id)
                elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Subscript) \
                        and isinstance(n.target.value, ast.Name):
                    assigned.add(n.target.value.id)
                elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "append" \
                        and isinstance(n.func.value, ast.Name):
                    assigned.add(n.func.value.id)
                elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and n.target.id in self.env:
                    # `a += e` on an array changes every name holding it (mutation.update_in_place): those
                    # get new versions in the body as if assigned there.
                    assigned |= self.same_object(n.target.id)
        # So do the other names of an array written into: aliases bound before the loop (`w = v`, then
        # `w[i] = ...` inside) and in its body (`w = v; w[i] = ...` inside); and views of such arrays
        # (frontend/views.py).
        for name in written:
            assigned |= self.same_object(name) if name in self.env else {name}
        assigned |= self.views_of_any(assigned)
        assigned = sorted(assigned)
        inside = collections.Counter(n.id for n in walk(stmt) if isinstance(n, ast.Name)
                                     and isinstance(n.ctx, ast.Load))
        # (Read outside the loop: read more often in the function than inside it. Asked of the assigned
        # names only, not of every name the function reads: a loop costs what it holds.)
        return [v for v in assigned if v in self.env or self.loads.get(v, 0) > inside.get(v, 0)]

    def lower_loop(self, stmt, kind: str, target, iter_expr, test, body: list[ast.stmt]) -> None:
        loc = self.pf.loc(stmt)
        self.loc = loc
        header_iter = self.rename(iter_expr) if iter_expr is not None else None
        target_names = ([n.id for n in walk(target) if isinstance(n, ast.Name)] if target is not None else [])
        # The names the body writes into, with its own aliases, and those `a += e` changes in place (too,
        # where others hold `a` or view it): one walk, for the carried names and the items to snapshot.
        updated: set[str] = set()
        written, _ = _changed_in_place(body, self.local_names, augmented=updated)
        carried = [v for v in self.carried_variables(stmt, body, written) if v not in target_names]
        before = dict(self.env)
        items_before = dict(self.item_of)  # (read by subscript so far: see Loop.items_before)
        # Bind each carried variable's loop name before the loop, copying its current version in.
        loop_names, entries, assumed_active, loop_views, loop_objects = {}, {}, set(), {}, {}

        def bind_loop_name(var: str) -> None:
            source = entries[var] = self.env.get(var)
            name = loop_names[var] = self.new_version(var)
            op, is_active = self.copy_op(source)
            self.emit([name], op, [is_active])
            if name in self.active:
                assumed_active.add(name)
            # A view's chain holds in the loop while each iteration leaves the view it began with; an array
            # changed in place is the object it held before the loop (until an iteration rebinds it).
            if source in self.view_chains:
                loop_views[name] = self.view_chains[source]
            if source is not None:
                loop_objects[name] = self.object_of(source)

        for var in carried:
            bind_loop_name(var)
        # Names that may share an object at the top of an iteration: those before the loop, joined with
        # those at the end of the body (found by the fixpoint too).
        loop_groups = [set(m) for m in self.alias_groups]
        while True:
            state = self.checkpoint()
            self.alias_groups = [set(m) for m in loop_groups]
            self.active |= assumed_active
            self.note_loop_views(loop_views)
            self.object_tokens.update(loop_objects)
            for var in carried:
                self.env[var] = loop_names[var]
            header_target = self.bind_loop_target(target) if target is not None else None
            header_test = self.rename_repeated(test, "a `while` condition") if test is not None else None
            self.loop_exit = None
            lowered_body = self.lower_block(body)
            exit_test, self.loop_exit = self.loop_exit, None
            ends = {var: self.env.get(var) for var in carried}
            newly = {loop_names[v] for v in carried if ends[v] in self.active} - assumed_active
            back_edges = [(loop_names[v], ends[v]) for v in carried]
            views_changed = self.loop_views_changed(loop_views, back_edges)
            objects_changed = self.loop_objects_changed(loop_objects, back_edges)
            joined = self.joined_alias_groups(loop_groups, self.alias_groups)
            groups_changed = _partition(joined) != _partition(loop_groups)
            loop_groups = joined
            if not newly and not views_changed and not objects_changed and not groups_changed:
                break
            self.restore(state)  # a carried value became differentiable (or a view, object, group changed)
            assumed_active |= newly
            if groups_changed:
                # `a += e` gives a new version to every name that may hold `a`'s object, and the body may
                # have joined names to it (`v2 + (y if c else x)`): those are carried too (else unbound
                # after a loop of no iteration).
                self.alias_groups = [set(m) for m in loop_groups]
                for var in self.carried_variables(stmt, body, written):
                    if var not in loop_names and var not in target_names:
                        carried.append(var)
                        bind_loop_name(var)
        self.alias_groups = loop_groups  # (a loop may run no iteration, or stop after any)
        pairs = [(loop_names[v], ends[v]) for v in carried if ends[v] is not None and ends[v] != loop_names[v]]
        # Items the body read out of arrays written later are each iteration's, saved on the tape (as
        # copies where they may be views: transform/loops.py), not snapshots a write after the loop takes;
        # a carried variable holding one is (its loop name: entry or last iteration's item).
        for var in carried:
            name, end, entry = loop_names[var], ends[var], entries[var]
            if end is not None and end != name:
                self.note_merged_item(name, end, entry)
                self.loop_ends[name] = {end}
            if entry is not None and end is not None:
                # The loop's name is the array before it where no iteration ran, or where the body never
                # rebinds it (`for row in v:` only reads `v`): a write into it after the loop changes that
                # version too, for the statements before the loop that read it.
                self.merged_from[name] = {entry}
        for item in set(self.item_of) - items_before.keys() - set(loop_names.values()):
            self.items_of_iterations[item] = self.item_of.pop(item)
        for var in carried:
            self.env[var] = loop_names[var]
        self.loc = loc
        # A loop that runs no iteration leaves its target as it was (``i = 0; for i in range(n)``):
        # the target's loop name starts as a copy of the value bound before.
        if target is not None:
            versions = [n.id for n in walk(header_target) if isinstance(n, ast.Name)]
            for var, version in zip(target_names, versions, strict=True):
                prior = before.get(var)
                if prior is not None and prior not in self.active and self.env.get(var) == version:
                    self.emit([version], PlainOp(ast.Name(prior, ast.Load())), [False])
                elif prior is None and self.env.get(var) == version and self.read_outside(stmt, var):
                    # Unbound before and after a loop with no iteration: None, never read by the pullback.
                    self.emit([version], PlainOp(ast.Constant(None)), [False])
        # Names the body bound that are neither carried nor read after the loop die with it: forget
        # them, so no merge after the loop copies a value that a loop with no iteration never made.
        for var in sorted(self.env.keys() - before.keys()):  # (the bound since: a set difference, in C)
            if var not in carried and not (var in target_names and self.read_outside(stmt, var)):
                del self.env[var]
        changed = written | updated
        holders = set().union(*(self.same_object(n) for n in changed if n in self.env)) if changed else set()
        items = [v for v, base in items_before.items() if base in holders]
        # And the arrays themselves, as the loop found them: statements before it read them so.
        items += sorted({before[h] for h in holders if before.get(h) is not None} - set(items))
        self.body.append(Loop(kind, header_target, header_iter, header_test, lowered_body, pairs, exit_test, loc,
                              items))

    def versions_merged_into(self, *versions: str | None, loop_ends: bool = False) -> set[str]:
        """``versions`` and every version each may be (see Lowerer.merged_from), transitively; with
        ``loop_ends``, a loop's name may also be the value each iteration leaves it (Lowerer.loop_ends:
        defined inside the loop, so for its tape, not for a snapshot after it)."""
        found, todo = set(), [v for v in versions if v is not None]
        while todo:
            v = todo.pop()
            if v not in found:
                found.add(v)
                todo.extend(self.merged_from.get(v, ()))
                if loop_ends:
                    todo.extend(self.loop_ends.get(v, ()))
        return found

    def note_merged_item(self, merged: str, first: str | None, second: str | None) -> None:
        """``merged`` holds ``first`` or ``second``: an item read out of an array (see Lowerer.item_of)
        where either is."""
        root = self.item_of.get(first) or self.item_of.get(second)
        if root is not None:
            self.item_of[merged] = root

    def read_outside(self, stmt, var: str) -> bool:
        """Whether the function reads ``var`` anywhere outside the loop ``stmt``."""
        inside = sum(1 for n in walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id == var)
        return self.loads.get(var, 0) > inside

    def bind_loop_target(self, target: ast.expr) -> ast.expr:
        """The loop target with SSA names (loop targets are never differentiated)."""
        if isinstance(target, ast.Name):
            self.note_binding(target.id, None)
            return ast.Name(self.new_version(target.id), ast.Store())
        if isinstance(target, (ast.Tuple, ast.List)):
            return ast.Tuple([self.bind_loop_target(e) for e in target.elts], ast.Store())
        self.unsupported(target, "this loop target (use plain names)")

    def lower_loop_exit(self, stmt: LoopExit) -> None:
        self.loop_exit = self.rename_repeated(stmt.test, "a loop's exit condition")

    def rename_repeated(self, test: ast.expr, what: str) -> ast.expr:
        """``rename`` for a condition Python evaluates again at every iteration: an inner function's call
        in it, inlined once before the loop, would not be (refused)."""
        for n in walk(test):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in self.inner_functions:
                self.unsupported(n, f"calling the inner function `{n.func.id}` in {what}; assign its result to "
                                    f"a variable before the loop and again at the end of its body")
        return self.rename(test)

    # ---- state for the activity fixpoint -----------------------------------------------------------

    def checkpoint(self):
        return (dict(self.env), set(self.bound_once), set(self.active), self.namer.state(), self._temp,
                set(self.local_names), dict(self.view_chains), dict(self.object_tokens))

    def restore(self, state) -> None:
        env, bound, active, taken, temp, local, views, objects = state
        self.env.reset(env)
        self.view_chains, self.object_tokens = dict(views), dict(objects)
        self.bound_once, self.active = set(bound), set(active)
        self.namer.restore(taken)
        self._temp, self.local_names = temp, set(local)


def _assigned_in(block: list) -> set[str]:
    return {t for s in walk_statements(block) if isinstance(s, Assign) for t in s.targets}


def _partition(groups: list[set[str]]) -> frozenset:
    return frozenset(frozenset(m) for m in groups if len(m) > 1)


def _constant_start(call: ast.Call) -> int | None:
    """The ``start`` of ``enumerate(seq, start)`` or ``enumerate(seq, start=k)`` when it is an int literal."""
    given = call.args[1:] + [k.value for k in call.keywords if k.arg == "start"]
    if len(call.args) + len(call.keywords) != 2 or len(given) != 1:
        return None
    value = given[0]
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub) and isinstance(value.operand, ast.Constant):
        value = ast.Constant(-value.operand.value)
    if isinstance(value, ast.Constant) and type(value.value) is int:
        return value.value
    return None


def _rename_names(node, renames: dict[str, str]):
    for n in walk(node):
        if isinstance(n, ast.Name) and n.id in renames:
            n.id = renames[n.id]
    return node


def _located(stmts: list[ast.stmt], where: ast.AST) -> list[ast.stmt]:
    for s in stmts:
        for node in walk(s):
            if hasattr(node, "lineno") or isinstance(node, (ast.stmt, ast.expr)):
                ast.copy_location(node, where)
    return stmts
