"""Stage 1 (continued): changing objects in place: ``y[i] = v``, ``items.append(v)``, ``a += e`` on
shared objects, and calls that change a local array (``c.sort()``, ``np.copyto(c, a)``, ``out=c``).

Contract: the forward pass changes the object in place exactly as the user's code does (every name
holding it sees the change); in the IR each change makes a new SSA version of the object, so the
pullback can tell the content before the write from the content after it, and saves the old content
only when it reads it (writes of constants too: the pullback of an earlier ``x * c`` reads ``c``).
Which names hold the object is known by name (alias groups: who *may* hold it, joined where paths
merge) and by object token (who certainly does); a name that only may is asked at run time (``h is
old``). Every version the object may have had before the write (other names', a branch's own, the
array before a loop) is snapshotted for the statements before the write that read it.
Writes carrying a derivative into an argument (the caller's array) or into a slice of another array
(shared memory) are refused with a hint. Views of the objects changed are frontend/views.py's.
"""

from __future__ import annotations

import ast

from ..astutil import walk
from .. import runtime
from ..ir import AppendOp, Assign, If, PlainOp, PrimOp, SetItemOp
from ..rules import operator as operator_rules
from .normalize import own_nodes


class MutationLowering:
    """Mixed into :class:`~autodiffsource.frontend.lower.Lowerer`."""

    def append(self, call: ast.Call) -> None:
        """``items.append(v)`` in place; the list's cotangent gives ``v`` its last entry back."""
        name = call.func.value.id
        old = self.env.get(name)
        if old is None:
            self.unsupported(call, f"appending to `{name}` before it is bound")
        if old in self.params:
            self.unsupported(call, f"appending to the argument `{name}`, which would change the caller's list; "
                                   f"copy it first (`{name} = list({name})`)")
        value = self.atom(call.args[0])
        count = self.temp()
        new = self.namer.fresh(name)
        self.emit([new], AppendOp(old, value, count), [True])
        self.note_same_object(new, old)
        holders = self.same_object(name)
        self.list_reads_before(holders, old)
        self.move_holders(holders, old, new)

    def shared_names(self, stmt: ast.AugAssign) -> list[str]:
        """Other variables, read later, that hold the same object as the target of ``a += e``."""
        name = stmt.target.id
        return sorted(o for o in self.same_object(name) if o != name and self.env.get(o) is not None
                      and o in _names_read_after(self.node, stmt))  # (bound here: groups say who may be)

    def same_object(self, name: str) -> set[str]:
        """User variables bound to the object ``name`` holds (``b = a``, ``a = b = e``), itself included.

        Kept by name, not by SSA version: an in-place update gives the names new versions, but Python
        still has them share one object (when it is an array). The groups say who *may* share it: where
        paths merge (after an ``if``, a loop that may run no iteration), a name that shares it on one
        path stays in the group, and a write decides at run time (:meth:`move_holders`)."""
        version = self.env.get(name)
        group = set(self.env.holders(version)) | {name}
        for members in self.alias_groups:
            if members & group:
                group |= members
        return group

    def joined_alias_groups(self, *paths: list[set[str]]) -> list[set[str]]:
        """The alias groups after control flow that took one of ``paths`` (each the groups at the end
        of one): names that may share an object on any of them share a group."""
        groups: list[set[str]] = []
        for members in (m for path in paths for m in path):
            merged = set(members)
            for other in [g for g in groups if g & merged]:
                merged |= other
                groups.remove(other)
            groups.append(merged)
        return groups

    def note_binding(self, name: str, value: ast.expr, atom: ast.expr | None = None) -> None:
        """Track which user names share an object: ``name = other`` joins, anything else leaves. ``atom``,
        where given, is what ``value`` lowered to: a version other names hold (``a = x if c else y``
        lowers to the name the conditional expression's branches bound) joins them too."""
        for members in self.alias_groups:
            members.discard(name)
        self.alias_groups = [m for m in self.alias_groups if len(m) > 1]
        others = set()
        if isinstance(value, ast.Name) and value.id in self.env and value.id != name:
            others.add(value.id)
        elif isinstance(atom, ast.Name):
            others |= self.env.holders(atom.id) - {name}
        if others:
            self.alias_groups = self.joined_alias_groups(self.alias_groups, [others | {name}])

    def update_in_place(self, stmt: ast.AugAssign, value: ast.expr) -> None:
        """``a += e`` while another name holds the same object, or a view of it is read later: on an
        array Python changes it in place, so both names (and the view) see the new value; on a number
        only ``a`` changes. The generated code does the same at run time (runtime.update_in_place);
        whether the other names now hold the new value is decided there too, as an ordinary branch the
        pullback replays (the view's: views.refresh_views)."""
        name = stmt.target.id
        old = self.env[name]
        if old in self.params:
            self.unsupported(stmt, f"`{name}` is an argument shared with another variable (or viewed by one); an "
                                   f"in-place update would change the caller's array: write `{name} = {name} ...` "
                                   f"instead")
        aliases = self.shared_names(stmt)
        holders = self.same_object(name)
        result = self.atom(value)
        new = self.namer.fresh(name)
        self.emit([new], SetItemOp(old, ast.Constant(Ellipsis), result), [True])
        self.note_same_object(new, old)
        self.list_reads_before(holders, old)
        self.env[name] = new
        same = self.temp()
        self.emit([same], PlainOp(ast.Compare(ast.Name(new, ast.Load()), [ast.Is()], [ast.Name(old, ast.Load())])),
                  [False])
        for alias in aliases:
            own = self.env[alias]  # what the alias holds now (a number it kept earlier, or the same array)
            test = same
            if own != old:
                # A version of its own (a loop's: the alias may have been rebound in an earlier iteration):
                # it sees the update only if it still holds the object `name` held.
                test = self.temp()
                holds = ast.Compare(ast.Name(own, ast.Load()), [ast.Is()], [ast.Name(old, ast.Load())])
                self.emit([test], PlainOp(ast.BoolOp(ast.And(), [ast.Name(same, ast.Load()), holds])), [False])
            self.choose_version(alias, test, new, own)  # an array changed in place / a number left as it was
        self.refresh_views(holders, old, new, ast.Constant(Ellipsis), stmt)

    def rebind_augmented(self, stmt: ast.AugAssign, value: ast.expr) -> None:
        """``a op= e`` where no other name holds ``a``'s object: ``a`` is rebound to ``a op e``, so the old
        array stays as the pullback may read it, cast as NumPy's in-place operator casts (and refused where
        it refuses: runtime.augmented_result)."""
        name = stmt.target.id
        old = self.env.get(name)
        if old is None:  # (unbound: reading it raises, as Python does)
            self.assign(stmt.target, value)
            return
        result = self.atom(value)
        cast = self.temp()
        cast_op = PrimOp(operator_rules.δaugmented_result.rule, {"result": result, "old": ast.Name(old, ast.Load())})
        self.emit([cast], cast_op, [self.is_active_atom(result)])
        self.bind_atom(name, ast.Name(cast, ast.Load()))
        self.note_binding(name, value, ast.Name(cast, ast.Load()))

    def choose_version(self, name: str, test: str, new: str, own: str) -> None:
        """``name`` holds ``new`` where ``test`` holds at run time, else the version ``own`` it holds now:
        an ordinary ``if`` (the pullback replays it)."""
        version = self.namer.fresh(name)
        branches = []
        for source in (new, own):
            op, is_active = self.copy_op(source)
            branches.append([Assign([version], op, self.loc, [is_active])])
        if new in self.active or own in self.active:
            self.active.add(version)
        self.body.append(If(ast.Name(test, ast.Load()), branches[0], branches[1], self.loc))
        self.note_merged_object(version, new, own)
        self.env[name] = version

    def move_holders(self, holders: set[str], old: str, new: str) -> None:
        """After the write (just emitted) that made ``new`` out of ``old``: the user names ``holders``
        that hold the object now hold ``new``. One that may hold another (an alias bound on one path of
        an ``if``, or in a loop that may run no iteration) is asked at run time: ``h is old``."""
        for holder in sorted(holders):
            own = self.env.get(holder)
            if own is None or own == new:
                continue
            if self.holds_same_object(own, old):
                self.env[holder] = new
                continue
            test = self.temp()
            self.emit([test], PlainOp(ast.Compare(ast.Name(own, ast.Load()), [ast.Is()],
                                                  [ast.Name(old, ast.Load())])), [False])
            self.choose_version(holder, test, new, own)

    def assign_subscript(self, target: ast.Subscript, value: ast.expr, where: ast.AST) -> None:
        """``y[index] = value`` in place, as Python does; the old content is kept if the pullback reads it."""
        if not isinstance(target.value, ast.Name) or not self.is_local(target.value.id):
            self.unsupported(target, "assigning into something other than a local variable")
        name = target.value.id
        old = self.env.get(name)
        if old is None:
            self.unsupported(target, f"assigning into `{name}` before it is bound")
        holders = self.same_object(name)
        differentiated = self.is_active(value) or old in self.active
        if not differentiated and (old in self.params or old in self.view_of):
            # A constant argument or view written into as the user's code does (the caller's buffer). The
            # array it changes is kept first, where the pullback reads it from before the write: a write of
            # the whole array into itself, whose snapshot the pullback's earlier reads then take.
            base = name
            while self.env.get(base) in self.view_of and self.view_of[self.env[base]] in self.env:
                base = self.view_of[self.env[base]]
            self.keep_for_the_pullback(base)
            self.emit([], PlainOp(self.rename(ast.Assign([target], value))), [])
            return
        if old in self.params:
            self.unsupported(target, f"assigning into the argument `{name}`, which would change the caller's "
                                     f"array; copy it first (`{name} = {name}.copy()`)")
        if old in self.view_of:
            self.unsupported(target, f"assigning into `{name}`, which was read out of `{self.view_of[old]}` and may "
                                     f"share its memory; copy it first (`{name} = {name}.copy()`)")
        chain = self.view_chains.get(old)
        viewed = chain.root if chain is not None and chain.steps is not None and chain.root not in holders else None
        if viewed is not None and differentiated:
            # A constant that may be a view (`t = c[0]`; `t = c[[0, 1]]` is a copy) written with a derivative:
            # refused at run time where it shares `c`'s memory (c would carry the derivative unseen).
            self.refuse_update_through_view(name, where, f"{name}[...] = ...")
        index = self.index_atoms(target.slice)
        atom = self.atom(value)
        if viewed is not None and self.env.get(viewed) not in (None, *self.params):
            # A view of another array (`t = c[0]; t[1] = 0`): the write changes that array too, which the
            # pullback reads from before the write as it was (kept: a write of the array into itself).
            self.keep_for_the_pullback(viewed)
        new = self.namer.fresh(name)
        self.emit([new], SetItemOp(old, index, atom), [differentiated])
        self.note_written(new, old, holders)
        if differentiated:
            self.refresh_views(holders, old, new, index, where)  # views of the array read later see it too


    def keep_for_the_pullback(self, name: str) -> None:
        """Before a write that changes ``name``'s array without making a version of it (through a view,
        or into an argument as the function does): a write of the array into itself, whose snapshot the
        pullback's reads of it from before then take (only where it reads it)."""
        kept = ast.Name(self.env[name], ast.Load())
        self.emit([self.namer.fresh(f"{name}_kept")], SetItemOp(kept.id, ast.Constant(Ellipsis), kept), [False])
        self.list_reads_before(self.same_object(name), kept.id)  # (as for any write)

    def note_written(self, new: str, old: str, holders: set[str]) -> None:
        """After the write (just emitted) that made ``new`` out of ``old``, the array ``holders`` hold."""
        self.note_same_object(new, old)
        self.list_reads_before(holders, old)
        self.move_holders(holders, old, new)  # every name holding the object sees the write

    def list_reads_before(self, holders: set[str], old: str) -> None:
        """On the write just emitted into the object ``holders`` hold (``old``, its version written): the
        values the pullback reads as they were before it, for the statements before it (reverse.py's
        snapshots). Items read out of the array (views NumPy changes with the write; ``y[i] *= v`` reads
        ``y[i]`` first), and the versions other names hold of the object (``a = m`` before ``m[0] = 7``:
        one object, two versions; one that may hold another object costs a copy), and the versions each
        of these may be where paths merged (a branch's own, the array before a loop)."""
        before = self.body[-1].items_before
        before.extend(v for v, base in self.item_of.items() if base in holders)
        others = self.versions_merged_into(old, *(self.env.get(h) for h in holders))
        before.extend(sorted(others - {old} - set(before)))


# Array methods that change their array in place, and NumPy functions that change their first argument.
_MUTATING_METHODS = frozenset({"sort", "fill", "put", "itemset", "partition", "setfield"})
_MUTATING_FUNCTIONS = ("copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis")


class CallMutationLowering:
    """Calls on constants that change a local array in place (``c.sort()``, ``np.copyto(c, a)``,
    ``rng.shuffle(c)``, ``np.add.at(c, i, 1)``, ``np.add(a, b, out=c)``, ``np.negative(a, c)``): each is a
    write into ``c`` like ``c[...] = ...``, so the pullback reads ``c`` as it was before it where it read
    ``c`` before it (mixed into the Lowerer)."""

    def arrays_changed_by(self, call: ast.expr) -> list[str]:
        """The local arrays the constant call ``call`` changes in place (bound, not arguments)."""
        if not isinstance(call, ast.Call):
            return []
        return [n for n in changed_by_call(call, self.numpy_object) if self.is_local(n)
                and self.env.get(n) is not None and self.env[n] not in self.params]

    def numpy_object(self, func: ast.expr):
        """What the dotted name ``func`` is in the user's module, where it starts from a global (not a
        local variable: ``c.sort`` is a method); None where it cannot be found."""
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or self.is_local(root.id):
            return None
        try:
            return self.resolve(func)
        except Exception:  # noqa: BLE001 (not resolvable: not one of NumPy's)
            return None

    def call_changing_arrays(self, call: ast.Call, changed: list[str]) -> None:
        """``call`` run on copies of the arrays it changes, each then written back into its array in place
        (a SetItemOp of the whole array: snapshots and views follow, as for ``c[...] = ...``)."""
        copies = {}  # the version each array has now -> its copy's name
        for name in changed:
            copies[self.env[name]] = self.temp()
            self.emit([copies[self.env[name]]], PlainOp(ast.Call(self.helper_name(runtime.copy_value, "copy_value"),
                                                                 [ast.Name(self.env[name], ast.Load())], [])), [False])
        renamed = self.rename(call)
        for node in ast.walk(renamed):
            if isinstance(node, ast.Name) and node.id in copies:
                node.id = copies[node.id]
        self.emit([], PlainOp(renamed), [])
        for name in changed:
            old = self.env[name]
            new = self.namer.fresh(name)
            self.emit([new], SetItemOp(old, ast.Constant(Ellipsis), ast.Name(copies[old], ast.Load())), [False])
            self.note_written(new, old, self.same_object(name))


def changed_by_call(call: ast.Call, numpy_object=None) -> list[str]:
    """The names a call changes in place: the array of a changing method (``c.sort()``), the first
    argument of NumPy's changing functions (``np.copyto(c, a)``), of a shuffle (``rng.shuffle(c)``) and
    of a ufunc's ``at`` (``np.add.at(c, i, 1)``), and a ufunc's outputs (``out=c``, ``np.add(a, b, c)``).
    ``numpy_object(func)``: what the callee's dotted name is (CallMutationLowering.numpy_object); without
    it the spelling alone decides, a superset (what the survey of a loop's body needs)."""
    import numpy as np

    func, args = call.func, call.args
    spelled = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    # (vars(np), not getattr: the module's __getattr__ warns of names such as `np.str`)
    named = numpy_object if numpy_object is not None else lambda f: vars(np).get(_last_name(f))
    names = []
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and spelled in _MUTATING_METHODS:
        names.append(func.value)
    elif args and spelled == "shuffle" and (isinstance(func, ast.Attribute) or numpy_object is None
                                            or named(func) is np.random.shuffle):
        names.append(args[0])
    elif args and spelled in _MUTATING_FUNCTIONS and (numpy_object is None or named(func) is getattr(np, spelled)):
        names.append(args[0])
    elif args and spelled == "at" and isinstance(func, ast.Attribute) and isinstance(named(func.value), np.ufunc):
        names.append(args[0])
    elif isinstance(ufunc := named(func) if spelled is not None else None, np.ufunc):
        names.extend(args[ufunc.nin:])  # (outputs given by position)
    for k in call.keywords:
        if k.arg == "out":
            names.extend(k.value.elts if isinstance(k.value, ast.Tuple) else [k.value])
    return [n.id for n in names if isinstance(n, ast.Name)]


def output_written(call: ast.expr, numpy_object) -> str | None:
    """``c`` where ``call`` returns the array it writes its result into, ``c``: ``f(..., out=c)``, or a
    ufunc's output given by position (``np.add(a, b, c)``)."""
    import numpy as np

    if not isinstance(call, ast.Call):
        return None
    for k in call.keywords:
        if k.arg == "out" and isinstance(k.value, ast.Name):
            return k.value.id
    ufunc = numpy_object(call.func)
    if isinstance(ufunc, np.ufunc) and ufunc.nout == 1 and len(call.args) == ufunc.nin + 1 \
            and isinstance(call.args[-1], ast.Name):
        return call.args[-1].id
    return None


def _last_name(func: ast.expr) -> str:
    """``add`` for ``np.add``, ``add.at`` and ``add``."""
    while isinstance(func, ast.Attribute) and func.attr == "at":
        func = func.value
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _names_read_after(fn: ast.FunctionDef, stmt: ast.stmt) -> set[str]:
    """Names loaded after ``stmt`` in the source, in a loop enclosing it (the next iteration's reads,
    but for names the iteration binds again before it reads them: ``prev = y[i - 1]`` at its top), or
    in an inner function or lambda (called, maybe, after it)."""
    if getattr(stmt, "end_lineno", None) is None:
        return set()
    start, end = (stmt.lineno, stmt.col_offset), (stmt.end_lineno, stmt.end_col_offset)
    ranges = []  # (first, last, names not read again before they are bound again)
    for n in walk(fn):
        if isinstance(n, (ast.For, ast.While)) and (n.lineno, n.col_offset) <= start \
                and end <= (n.end_lineno, n.end_col_offset):
            ranges.append(((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset), _bound_first(n)))
        elif isinstance(n, (ast.FunctionDef, ast.Lambda)) and n is not fn:
            ranges.append(((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset), frozenset()))
    augmented = {id(n.target) for n in walk(fn) if isinstance(n, ast.AugAssign)}  # (`t += 1` reads t)
    names = set()
    for sub in walk(fn):
        if isinstance(sub, ast.Name) and (isinstance(sub.ctx, ast.Load) or id(sub) in augmented):
            where = (sub.lineno, sub.col_offset)
            if where > end or any(first <= where <= last and sub.id not in fresh for first, last, fresh in ranges):
                names.add(sub.id)
    return names


def _bound_first(loop: ast.For | ast.While) -> frozenset[str]:
    """Names each iteration of ``loop`` binds before it can read them: its target, and names assigned
    by a statement of its body's own (not inside an ``if``) before any statement that reads them."""
    bound = {n.id for n in walk(loop.target) if isinstance(n, ast.Name)} if isinstance(loop, ast.For) else set()
    read = set()
    for s in loop.body:
        loads = {n.id for n in walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        read |= loads - bound
        if isinstance(s, ast.Assign):
            bound |= {t.id for t in s.targets if isinstance(t, ast.Name)} - read
    return frozenset(bound)


def _changed_in_place(body, local_names: set[str], own: list | None = None,
                      augmented: set | None = None) -> tuple[set[str], set[str]]:
    """Names written into (``y[i] = v``, ``y[i] += v``) and names appended to, with their aliases
    (``a = y`` makes ``a`` and ``y`` one object): reads of these need care in the pullback. ``own``: the
    body's ``own_nodes``, where the caller has them (the order does not matter; only its ``Assign``,
    ``AugAssign`` and ``Call`` nodes are looked at, so those alone will do). ``augmented``, where given,
    gets the names updated by ``a += e`` (in place on an array). ``local_names``: the function's own
    variables (``c.sort()`` changes ``c``; ``np.sort(x)`` changes nothing)."""
    groups: dict[str, set[str]] = {}

    def group(name):
        return groups.setdefault(name, {name})

    written, appended = set(), set()
    for node in own_nodes(body) if own is None else own:
        if isinstance(node, ast.Assign):
            for name, source in _bindings(node):
                merged = group(name) | group(source)
                for n in merged:
                    groups[n] = merged
            targets = node.targets
        elif isinstance(node, ast.AugAssign):
            targets = [node.target]
            if augmented is not None and isinstance(node.target, ast.Name):
                augmented.add(node.target.id)
        else:
            if _is_append(node):
                appended.add(node.func.value.id)
            elif isinstance(node, ast.Call):
                written.update(n for n in changed_by_call(node) if n in local_names)
            continue
        for t in targets:
            if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
                written.add(t.value.id)
    return ({m for n in written for m in group(n)}, {m for n in appended for m in group(n)})


def _bindings(node: ast.Assign) -> list[tuple[str, str]]:
    """``(target, variable)`` for each target of ``node`` that may be bound to a variable's object:
    ``a = x``, ``a = x if c else y``, ``a, b = x, y``."""
    pairs = []
    for target in node.targets:
        if isinstance(target, ast.Name):
            pairs += [(target.id, source) for source in _objects_named_by(node.value)]
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(node.value, (ast.Tuple, ast.List)) \
                and len(target.elts) == len(node.value.elts):
            pairs += [(t.id, source) for t, v in zip(target.elts, node.value.elts, strict=True)
                      if isinstance(t, ast.Name) for source in _objects_named_by(v)]
    return pairs


def _objects_named_by(value: ast.expr) -> set[str]:
    """The variables whose object ``value`` may be: ``x``, or ``x if c else y``."""
    if isinstance(value, ast.Name):
        return {value.id}
    if isinstance(value, ast.IfExp):
        return _objects_named_by(value.body) | _objects_named_by(value.orelse)
    return set()


def _is_append(node: ast.expr) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append"
            and isinstance(node.func.value, ast.Name) and len(node.args) == 1 and not node.keywords)
