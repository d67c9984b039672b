"""Hypothesis strategies that generate whole δ-able Python programs, and the machinery to load them.

A :class:`Program` is the text of a real module: a few helper functions (some decorated with ``@δ``, some
differentiated through their source), then an entry function with straight-line code over NumPy, ``math``
and ``scipy.special`` rules, broadcasting between shapes, indices that repeat, steps and blocks, joins
(``np.concatenate``, ``np.stack``), writes into items of a new copy (in loops too) and into all of it
(``v += ...``), views of it (rows, slices, ``.T``, ``.reshape``) and other names for it (bound outright or on one
path only) read after such writes, the whole array read before a loop writes into it, later writes into
such an array (on one branch of an ``if``, in a loop, after statements that read it), calls to the helpers,
``if``/``else``, conditional expressions, ``for`` loops over ranges and over array rows, ``while`` loops,
``break``, ``continue`` and early ``return``. :meth:`Program.load` writes it to a file and imports it, so the engine
reads it with ``inspect.getsource`` exactly as it reads a user's module.

Every operation is chosen with a domain that is safe for any real input (``log(1 + a*a)``, not
``log(a)``), so every generated program is differentiable almost everywhere; the tests reject the rare
example whose finite differences straddle a branch or a kink (see ``test_fuzz_programs``).

Shapes are tracked symbolically: each variable carries the shape it will have at run time, binary
operations only pair shapes that broadcast, and a reassignment inside a branch or loop keeps the shape
of the variable it replaces (so both arms of an ``if`` agree). Helpers are elementwise, so their result
shape is the broadcast of the parameters their result depends on (tracked as a set of parameter indices).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import os
import sys

import numpy as np
from hypothesis import strategies as st

# Switches for generated constructs that once hit engine bugs (now fixed; each has a regression test in
# test_fuzz_programs.py): set one False to fuzz around a bug while it is being fixed.
FOR_MIN_ITERATIONS = 0  # test_empty_for_loop_inside_a_branch
ROWS_MAY_REBIND_SEQUENCE = True  # test_rows_come_from_the_sequence_as_it_was_before_the_loop
ROWS_AFTER_EARLY_RETURN = True  # test_loop_over_rows_after_an_early_return
ROWS_LOOPS = True  # test_rows_loop_in_an_untaken_branch_after_a_loop, ..._taken_branch_then_another_rows_loop
SHAPES = [(), (3,), (2, 3), (2, 1), (1, 3), (2,)]

# Elementwise unary operations, each safe on the whole real line ({a} is a variable name).
UNARY = [
    "np.sin({a})", "np.cos({a})", "np.tanh({a})", "np.arctan({a})", "np.arcsinh({a})",
    "np.exp(np.tanh({a}))", "np.exp(-{a} * {a})", "np.log(1.0 + {a} * {a})", "np.log1p({a} ** 2)",
    "np.sqrt({a} * {a} + 0.25)", "np.expm1(np.sin({a}))", "np.square({a})", "{a} ** 3", "-{a}",
    "np.negative({a})", "np.reciprocal(2.0 + np.sin({a}))", "1.0 / (1.5 + np.cos({a}))", "np.abs({a})",
    "abs({a})", "np.clip({a}, -0.5, 0.5)", "np.exp2(np.sin({a}))", "np.log2(2.0 + np.cos({a}))",
    "np.log10(2.0 + np.sin({a}))", "np.cosh(np.sin({a}))", "np.sinh(np.tanh({a}))",
    "np.arctan2({a}, 1.5)", "np.hypot({a}, 0.5)", "np.logaddexp({a}, 0.3)",
    "np.power({a} * {a} + 1.0, 1.5)", "np.float_power({a} * {a} + 1.0, 0.5)", "special.expit({a})",
    "special.erf({a})", "special.log_expit({a})", "special.ndtr({a})", "special.gammaln(2.0 + {a} * {a})",
    "np.sinc({a})", "np.fmax({a}, 0.1)", "np.where({a} > 0.2, {a}, 0.5 * {a})", "np.deg2rad({a})",
    "2.5 * {a}", "{a} / 3.0", "0.5 - {a}",
]
# Only on 0-d values: the math module and builtins that take scalars.
SCALAR_UNARY = [
    "math.sin({a})", "math.tanh({a})", "math.exp(math.sin({a}))", "math.log(1.0 + {a} * {a})",
    "math.sqrt(0.5 + {a} * {a})", "math.atan({a})", "math.hypot({a}, 1.0)", "float({a})",
    "max({a}, 0.25)", "min({a}, -0.25)", "math.erf({a})", "math.cos({a}) ** 2",
]
# Elementwise binary operations, broadcasting their operands.
BINARY = [
    "{a} + {b}", "{a} - {b}", "{a} * {b}", "{a} / (2.0 + np.cos({b}))", "np.maximum({a}, {b})",
    "np.minimum({a}, {b})", "np.fmin({a}, {b})", "np.hypot({a}, {b} + 2.0)", "np.arctan2({a}, 2.0 + {b} * {b})",
    "np.logaddexp({a}, {b})", "np.add({a}, {b})", "np.subtract({a}, {b})", "np.multiply({a}, {b})",
    "np.where({a} > {b}, {a}, 2.0 * {b})", "{a} ** 2 + {b}", "np.power(1.0 + {a} * {a}, np.sin({b}))",
    "{a} * np.tanh({b}) + {b}", "np.divide({a}, 1.5 + np.sin({b}))",
]
# Reductions to a 0-d value (any shape).
REDUCE_ALL = [
    "np.sum({a})", "np.mean({a})", "{a}.sum()", "np.max({a})", "np.prod(np.tanh({a}) + 1.5)",
    "special.logsumexp({a})", "{a}.mean()", "np.min({a})", "np.sum({a} * {a})", "sum({a}.ravel())",
]
REDUCE_ALL_VECTOR = ["np.linalg.norm({a} + 2.0)", "np.std({a})", "np.var({a})", "{a}.max()"]
# Reductions and scans along an axis (arrays with ndim >= 1): (template, drops the axis?)
REDUCE_AXIS = [
    ("np.sum({a}, axis={ax})", True), ("np.mean({a}, axis={ax})", True), ("{a}.max(axis={ax})", True),
    ("np.cumsum({a}, axis={ax})", False), ("np.sort({a}, axis={ax})", False), ("np.flip({a}, axis={ax})", False),
    ("np.roll({a}, 1, axis={ax})", False), ("{a}.sum(axis={ax}, keepdims=True)", None),
]
CONDITIONS = ["np.sum({a}) > {c}", "{a}.mean() < {c}", "float(np.max({a})) > {c}", "np.min({a}) <= {c}"]


def methods_only_on_arrays(templates, shape):
    """Drop ``{a}.method()`` templates for 0-d values: a scalar parameter is a Python float."""
    return templates if len(shape) >= 1 else [t for t in templates if "}." not in t]


def broadcast(*shapes):
    return tuple(np.broadcast_shapes(*shapes))


def fits(shape, target) -> bool:
    """``shape`` broadcasts into ``target`` without growing it."""
    try:
        return broadcast(shape, target) == tuple(target)
    except ValueError:
        return False


def compatible(a, b) -> bool:
    try:
        broadcast(a, b)
        return True
    except ValueError:
        return False


@dataclasses.dataclass
class Helper:
    name: str
    n_params: int
    # For each output: the parameter indices whose shapes it broadcasts over.
    outputs: list[frozenset]


@dataclasses.dataclass
class Program:
    """A generated module, its entry function, the arguments to call it with and what to differentiate."""

    source: str
    entry: str
    args: list
    mask: tuple
    features: frozenset

    def __str__(self) -> str:
        numbered = "\n".join(f"{i + 1:4d}  {line}" for i, line in enumerate(self.source.splitlines()))
        args = "\n".join(f"    arg {i + 1}: {a!r}" for i, a in enumerate(self.args))
        return f"program (entry {self.entry}, wrt mask {self.mask}):\n{numbered}\n  arguments:\n{args}"

    __repr__ = __str__

    def load(self, directory: str, header: str | None = None):
        """Write the module to ``directory`` under a fresh name and import it (optionally with other imports)."""
        text = self.source if header is None else header + self.source.split(_HEADER_END, 1)[1]
        name = f"fuzzmod_{next(_module_counter)}_{os.getpid()}"
        path = os.path.join(directory, name + ".py")
        with open(path, "w") as fh:
            fh.write(text)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # inspect.getsource finds the file through the module
        spec.loader.exec_module(module)
        return module


_module_counter = itertools.count()
_HEADER_END = "# ---- end of imports ----\n"
HEADER = ("import math\n\nimport numpy as np\nfrom scipy import special\n\nfrom autodiffsource import δ\n"
          + _HEADER_END)
AUTOGRAD_HEADER = ("import math\n\nimport autograd.numpy as np\nfrom autograd.scipy import special\n\n"
                   "def δ(fn):\n    return fn\n" + _HEADER_END)


class _Writer:
    """Draws statements into lines of source, tracking each live variable's shape."""

    def __init__(self, draw, helpers: list[Helper], features: set):
        self.draw = draw
        self.helpers = helpers
        self.features = features
        self.lines: list[str] = []
        self.counter = itertools.count(1)
        self.returned = False  # an early return was written (see ROWS_AFTER_EARLY_RETURN)
        self.owned: set[str] = set()  # arrays item_writes made (copies), which later statements may write into

    def pick(self, options):
        return self.draw(st.sampled_from(options))

    def fresh(self, prefix="v") -> str:
        return f"{prefix}{next(self.counter)}"

    def const(self) -> str:
        return repr(self.draw(st.sampled_from([0.5, -1.25, 2.0, 0.3, 1.0, 3.0])))

    # ---- expressions -----------------------------------------------------------------------------

    def operand(self, env: dict, target=None) -> tuple[str, tuple]:
        """A variable (or a constant) whose shape fits ``target``, or any variable when ``target`` is None."""
        names = [n for n, s in env.items() if target is None or fits(s, target)]
        if not names or self.draw(st.integers(0, 7)) == 0:
            return self.const(), ()
        name = self.pick(sorted(names))
        return name, env[name]

    def elementwise(self, env: dict, target=None) -> tuple[str, tuple]:
        """A unary or binary elementwise expression; its shape is ``target`` when given."""
        a, sa = self.operand(env, target) if target is None else self.target_operand(env, target)
        if self.draw(st.booleans()):
            templates = UNARY + (SCALAR_UNARY if sa == () and a in env else [])
            template = self.pick(templates)
            self.features.add("math" if template.startswith(("math.", "max", "min", "float")) else "unary")
            return template.format(a=a), sa
        b, sb = self.operand(env, target if target is not None else None)
        if not compatible(sa, sb):
            b, sb = self.const(), ()
        self.features.add("binary")
        if sa != sb:
            self.features.add("broadcast")
        template = self.pick(BINARY)
        if self.draw(st.booleans()):
            a, b, sa, sb = b, a, sb, sa
        return template.format(a=a, b=b), broadcast(sa, sb)

    def target_operand(self, env, target):
        """For a reassignment: a variable of exactly the target shape, so the result keeps that shape."""
        exact = sorted(n for n, s in env.items() if tuple(s) == tuple(target))
        name = self.pick(exact)
        return name, tuple(target)

    def expression(self, env: dict) -> tuple[str, tuple]:
        """Any expression over ``env``: elementwise, reduction, shape operation, matmul or helper call."""
        kind = self.draw(st.sampled_from(["elementwise", "elementwise", "reduce", "axis", "shape", "matmul",
                                          "helper", "ifexp"]))
        arrays = sorted(n for n, s in env.items() if len(s) >= 1)
        if kind == "reduce":
            a = self.pick(sorted(env))  # a variable: `0.5.sum()` is no program
            sa = env[a]
            templates = REDUCE_ALL + (REDUCE_ALL_VECTOR if len(sa) >= 1 and np.prod(sa) >= 2 else [])
            templates = methods_only_on_arrays(templates, sa)
            self.features.add("reduce")
            return self.pick(templates).format(a=a), ()
        if kind == "axis" and arrays:
            a = self.pick(arrays)
            shape = env[a]
            axis = self.draw(st.integers(-len(shape), len(shape) - 1))
            template, drops = self.pick(REDUCE_AXIS)
            self.features.add("axis")
            if drops is None:
                out = tuple(1 if i == axis % len(shape) else n for i, n in enumerate(shape))
            elif drops:
                out = tuple(n for i, n in enumerate(shape) if i != axis % len(shape))
            else:
                out = shape
            return template.format(a=a, ax=axis), out
        if kind == "shape" and arrays:
            a = self.pick(arrays)
            shape = env[a]
            self.features.add("shape")
            options = [(f"{a}[0]", shape[1:]), (f"{a}.reshape(-1)", (int(np.prod(shape)),)),
                       (f"{a}[::-1]", shape), (f"np.transpose({a})", shape[::-1]), (f"{a}.T", shape[::-1]),
                       (f"{a}[..., None]", shape + (1,))]
            if shape[0] >= 2:
                options.append((f"{a}[1:]", (shape[0] - 1,) + shape[1:]))
            if len(shape) == 2 and shape[1] == 3:
                options.append((f"{a}[:, 1]", shape[:1]))
            # Indices that repeat, steps, negative positions and blocks (scatter-adds in the pullback).
            options += [(f"{a}[[0, 0, -1]]", (3,) + shape[1:]), (f"{a}[::2]", ((shape[0] + 1) // 2,) + shape[1:]),
                        (f"{a}[-1]", shape[1:])]
            if len(shape) == 2:
                options.append((f"{a}[:, ::-1]", shape))
                if shape[0] >= 2 and shape[1] >= 2:
                    options.append((f"{a}[1:, :2]", (shape[0] - 1, 2)))
            # Joins of two arrays: along the first axis, or stacked on a new one.
            along = sorted(n for n, t in env.items() if len(t) == len(shape) and tuple(t[1:]) == tuple(shape[1:]))
            b = self.pick(along)
            options.append((f"np.concatenate([{a}, {b}])", (shape[0] + env[b][0],) + shape[1:]))
            same = sorted(n for n, t in env.items() if tuple(t) == tuple(shape))
            c = self.pick(same)
            options.append((f"np.stack([{a}, {c}])", (2,) + shape))
            return self.pick(options)
        if kind == "matmul":
            pairs = [(a, b) for a in arrays for b in arrays
                     if len(env[a]) in (1, 2) and len(env[b]) in (1, 2) and env[a][-1] == env[b][0]
                     and len(env[a]) + len(env[b]) <= 3]
            if pairs:
                a, b = self.pick(pairs)
                self.features.add("matmul")
                out = tuple(env[a][:-1]) + tuple(env[b][1:])
                return self.pick([f"{a} @ {b}", f"np.matmul({a}, {b})", f"np.dot({a}, {b})"]).format(), out
        if kind == "helper" and self.helpers:
            helper = self.pick(self.helpers)
            args = [self.operand(env) for _ in range(helper.n_params)]
            shapes = [s for _, s in args]
            try:
                broadcast(*shapes)
            except ValueError:
                args = [(a, s) if i == 0 else (self.const(), ()) for i, (a, s) in enumerate(args)]
                shapes = [s for _, s in args]
            self.features.add("helper")
            call = f"{helper.name}({', '.join(a for a, _ in args)})"
            out_shapes = [broadcast((), *(shapes[i] for i in deps)) for deps in helper.outputs]
            if len(out_shapes) == 1:
                return call, out_shapes[0]
            return call, out_shapes  # several outputs: the statement unpacks them
        if kind == "ifexp":
            cond = self.condition(env)
            e1, s1 = self.elementwise(env)
            e2, s2 = self.elementwise(env, s1) if any(fits(s, s1) and tuple(s) == tuple(s1) for s in env.values()) \
                else (f"0.5 * ({e1})", s1)
            self.features.add("ifexp")
            return f"({e1}) if {cond} else ({e2})", s1
        return self.elementwise(env)

    def condition(self, env: dict) -> str:
        a, _ = self.operand(env)
        if a not in env:
            a = self.pick(sorted(env))
        cond = self.pick(methods_only_on_arrays(CONDITIONS, env[a])).format(a=a, c=self.const())
        if self.draw(st.integers(0, 4)) == 0:
            b = self.pick(sorted(env))
            cond = f"{cond} {self.pick(['and', 'or'])} np.sum({b}) > {self.const()}"
            self.features.add("boolop")
        return cond

    # ---- statements ------------------------------------------------------------------------------

    def emit(self, indent: int, text: str):
        self.lines.append("    " * indent + text)

    def reassign(self, env: dict, indent: int, extra: dict | None = None):
        """``v = <same-shape expression>`` for a live variable ``v`` (reads may also use ``extra``)."""
        name = self.pick(sorted(env))
        scope = {**env, **(extra or {})}
        expr, _ = self.elementwise(scope, env[name])
        self.emit(indent, f"{name} = {expr}")

    def item_writes(self, env: dict, indent: int, in_a_loop: bool):
        """A new copy of an array, then writes into some of its items: ``v[0] = ...``, ``v[1:] += ...``;
        ``in_a_loop``: each iteration of a ``for`` writes an item from another one (``v[i % n] = ...
        v[(i + 1) % n]``), the writes the pullback undoes iteration by iteration."""
        arrays = sorted(n for n, s in env.items() if len(s) >= 1)
        if not arrays:
            return
        a = self.pick(arrays)
        shape = tuple(env[a])
        name = self.fresh()
        self.emit(indent, f"{name} = " + self.pick([f"{a}.copy()", f"np.zeros_like({a})", f"1.0 * {a}"]))
        if in_a_loop:
            self.features.add("setitem loop")
            counter = self.fresh("i")
            n = shape[0]
            before = self.pick(["item", "view", "whole", "alias", "nothing"])
            if before == "item":  # an item read before the loop writes over it (NumPy's view)
                early = self.fresh()
                self.emit(indent, f"{early} = " + self.pick(UNARY).format(a=f"{name}[-1]"))
                env[early] = shape[1:]
            elif before == "view":  # a view the loop's writes change, read after it
                view, view_shape = self.view_of(name, shape, indent)
                env[view] = view_shape
            elif before == "whole":  # the whole array read before the loop writes into it
                self.features.add("read before a loop that writes")
                early = self.fresh()
                self.emit(indent, f"{early} = np.sum(" + self.pick(UNARY).format(a=name) + ")")
                env[early] = ()
            elif before == "alias":
                alias = self.alias_of(name, env, indent)
                env[alias] = shape
            value, _ = self.operand(env, shape[1:])
            total = self.fresh() if self.draw(st.booleans()) else None
            if total is not None:  # the whole array read after each iteration's write (its content then)
                self.emit(indent, f"{total} = 0.0")
            self.emit(indent, f"for {counter} in range({self.draw(st.integers(0, 4))}):")
            read = self.pick(UNARY).format(a=f"{name}[({counter} + 1) % {n}]")
            self.emit(indent + 1, f"{name}[{counter} % {n}] = 0.5 * {read} + {value}")
            if total is not None:
                self.emit(indent + 1, f"{total} = {total} + np.sum(" + self.pick(UNARY).format(a=name) + ")")
                env[total] = ()
        else:
            self.features.add("setitem")
            indices = _indices(shape)
            view = self.view_of(name, shape, indent) if self.draw(st.booleans()) else None
            alias = self.alias_of(name, env, indent) if self.draw(st.integers(0, 3)) == 0 else None
            for _ in range(self.draw(st.integers(1, 2))):
                if view is not None and self.draw(st.integers(0, 3)) == 0:  # the whole array, in place
                    value, _ = self.operand(env, shape)
                    self.emit(indent, f"{name} {self.pick(['+=', '*='])} " + self.pick(UNARY).format(a=value))
                    continue
                index, part = self.pick(indices)
                value, _ = self.operand(env, part)
                self.emit(indent, f"{name}[{index}] {self.pick(['=', '+=', '*='])} "
                                  + self.pick(UNARY).format(a=value))
            if view is not None:
                env[view[0]] = view[1]  # read after the writes, which it shows (NumPy's view)
            if alias is not None:
                env[alias] = shape  # read after the writes, which it shows where it holds the array
        env[name] = shape
        self.owned.add(name)

    def write_into_an_earlier_array(self, env: dict, indent: int):
        """``v[index] = ...`` (or ``+=``, ``*=``) into an array made earlier by item_writes, here maybe on
        one branch of an ``if`` or in a loop, after statements that read it; or written on one branch of
        an ``if`` of its own and read on the other (``else: v = np.sin(v)``)."""
        arrays = sorted(n for n in self.owned if n in env and len(env[n]) >= 1)
        if not arrays:
            return
        self.features.add("write into an earlier array")
        name = self.pick(arrays)
        index, part = self.pick(_indices(tuple(env[name])))
        value, _ = self.operand(env, part)
        write = f"{name}[{index}] {self.pick(['=', '+=', '*='])} " + self.pick(UNARY).format(a=value)
        if self.draw(st.integers(0, 2)) > 0:
            self.emit(indent, write)
            return
        self.features.add("write on one branch, read on the other")
        self.emit(indent, f"if {self.condition(env)}:")
        self.emit(indent + 1, write)
        self.emit(indent, "else:")
        self.emit(indent + 1, f"{name} = " + self.pick(UNARY).format(a=name))

    def alias_of(self, name: str, env: dict, indent: int) -> str:
        """A new name for the array ``name`` (read after writes into it): bound to it outright, or only
        on one path (``w = 0.5 * name``, then ``if ...: w = name``, or a loop that may run no iteration)."""
        self.features.add("alias")
        alias = self.fresh()
        how = self.pick(["plain", "if", "loop"])
        if how == "plain":
            self.emit(indent, f"{alias} = {name}")
            return alias
        self.features.add("alias on one path")
        self.emit(indent, f"{alias} = 0.5 * {name}")
        if how == "if":
            self.emit(indent, f"if {self.condition(env)}:")
        else:
            self.emit(indent, f"for {self.fresh('k')} in range({self.draw(st.integers(0, 2))}):")
        self.emit(indent + 1, f"{alias} = {name}")
        return alias

    def view_of(self, name: str, shape: tuple, indent: int) -> tuple[str, tuple]:
        """``w = <a view of name>`` (a row, a slice, a reversal, a column, ``.T``, ``.reshape(-1)``) before
        writes into ``name``: the new variable and its shape."""
        self.features.add("view written through")
        options = [(f"{name}[0]", shape[1:]), (f"{name}[::-1]", shape)]
        if shape[0] >= 2:
            options.append((f"{name}[1:]", (shape[0] - 1,) + shape[1:]))
        if len(shape) == 2:
            options += [(f"{name}[:, -1]", shape[:1]), (f"{name}.T", shape[::-1]),
                        (f"{name}.reshape(-1)", (shape[0] * shape[1],))]
        text, view_shape = self.pick(options)
        view = self.fresh()
        self.emit(indent, f"{view} = {text}")
        return view, view_shape

    def block(self, env: dict, indent: int, depth: int, n: int, in_loop: bool = False,
              returns: str | None = None):
        """``n`` statements: new variables join ``env`` (the caller decides whether they outlive the block)."""
        for _ in range(n):
            kinds = ["assign", "assign", "assign", "reassign", "setitem", "write"]
            if depth < 2:
                kinds += ["if", "for", "while", "forrows"]
            if in_loop:
                kinds += ["break", "continue"]
            if returns is not None:
                kinds.append("return")
            kind = self.pick(kinds)
            if kind == "assign":
                expr, shape = self.expression(env)
                if isinstance(shape, list):  # `a, b = helper(...)`
                    names = [self.fresh() for _ in shape]
                    self.emit(indent, f"{', '.join(names)} = {expr}")
                    env.update(zip(names, shape))
                    continue
                name = self.fresh()
                self.emit(indent, f"{name} = {expr}")
                env[name] = shape
            elif kind == "reassign":
                self.reassign(env, indent)
            elif kind == "setitem":
                self.item_writes(env, indent, in_a_loop=depth < 2 and self.draw(st.booleans()))
            elif kind == "write":
                self.write_into_an_earlier_array(env, indent)
            elif kind == "if":
                self.features.add("if")
                self.emit(indent, f"if {self.condition(env)}:")
                self.block(dict(env), indent + 1, depth + 1, self.draw(st.integers(1, 2)), in_loop, returns)
                self.reassign(env, indent + 1)
                if self.draw(st.booleans()):
                    self.emit(indent, "else:")
                    self.reassign(env, indent + 1)
            elif kind == "for":
                self.features.add("for")
                counter = self.fresh("i")
                self.emit(indent, f"for {counter} in range({self.draw(st.integers(FOR_MIN_ITERATIONS, 3))}):")
                self.block(dict(env), indent + 1, depth + 1, self.draw(st.integers(0, 1)), True, returns)
                self.reassign(env, indent + 1, {counter: ()})
            elif kind == "forrows":
                arrays = sorted(n for n, s in env.items() if len(s) >= 1)
                if not arrays:
                    continue
                if not ROWS_LOOPS or self.returned and not ROWS_AFTER_EARLY_RETURN:
                    continue
                seq = self.pick(arrays)
                targets = {n: s for n, s in env.items() if n != seq or ROWS_MAY_REBIND_SEQUENCE}
                if not targets:
                    continue
                self.features.add("forrows")
                row = self.fresh("row")
                self.emit(indent, f"for {row} in {seq}:")
                self.reassign(targets, indent + 1, {row: env[seq][1:]})
                env.update(targets)
            elif kind == "while":
                self.features.add("while")
                counter = self.fresh("k")
                self.emit(indent, f"{counter} = 0")
                self.emit(indent, f"while {counter} < {self.draw(st.integers(0, 3))}:")
                self.emit(indent + 1, f"{counter} = {counter} + 1")  # before any `continue`
                self.block(dict(env), indent + 1, depth + 1, self.draw(st.integers(0, 1)), True, returns)
                self.reassign(env, indent + 1)
            elif kind in ("break", "continue"):
                self.features.add(kind)
                self.emit(indent, f"if {self.condition(env)}:")
                self.emit(indent + 1, kind)
            elif kind == "return":
                self.features.add("early return")
                self.returned = True
                self.emit(indent, f"if {self.condition(env)}:")
                self.emit(indent + 1, f"return {returns.format(a=self.pick(sorted(env)))}")


def _indices(shape: tuple) -> list[tuple[str, tuple]]:
    """Indices to write into an array of ``shape`` (its first axis has at least one entry): each with the
    shape of the block it selects."""
    indices = [("0", shape[1:]), ("-1", shape[1:]), ("::2", ((shape[0] + 1) // 2,) + shape[1:])]
    if shape[0] >= 2:
        indices.append(("1:", (shape[0] - 1,) + shape[1:]))
    if len(shape) == 2:
        indices.append((":, 0", shape[:1]))
    return indices


@st.composite
def helpers(draw, count: int, features: set) -> tuple[list[str], list[Helper]]:
    """Elementwise helper functions (shape-polymorphic), later ones may call earlier ones."""
    lines: list[str] = []
    made: list[Helper] = []
    for h in range(count):
        n_params = draw(st.integers(1, 2))
        params = [f"u{i}" for i in range(n_params)]
        deps = {p: frozenset([i]) for i, p in enumerate(params)}
        body: list[str] = []
        names = list(params)
        for k in range(draw(st.integers(1, 3))):
            a = draw(st.sampled_from(names))
            if made and draw(st.integers(0, 3)) == 0:
                callee = draw(st.sampled_from(made))
                args = [draw(st.sampled_from(names)) for _ in range(callee.n_params)]
                features.add("nested helper")
                outs = [f"t{k}_{j}" for j in range(len(callee.outputs))]
                for out, out_deps in zip(outs, callee.outputs):
                    deps[out] = frozenset().union(*(deps[args[i]] for i in out_deps))
                body.append(f"    {', '.join(outs)} = {callee.name}({', '.join(args)})")
                names += outs
                continue
            elif draw(st.booleans()):
                expr, dep = draw(st.sampled_from(UNARY)).format(a=a), deps[a]
            else:
                b = draw(st.sampled_from(names))
                expr, dep = draw(st.sampled_from(BINARY)).format(a=a, b=b), deps[a] | deps[b]
            name = f"t{k}"
            body.append(f"    {name} = {expr}")
            names.append(name)
            deps[name] = dep
        if draw(st.integers(0, 2)) == 0:  # a branch, same shape on both arms
            last = names[-1]
            body += [f"    if np.sum({params[0]}) > 0.0:", f"        {last} = np.tanh({last}) * 2.0",
                     "    else:", f"        {last} = {last} - 0.5"]
            features.add("helper if")
        n_out = draw(st.integers(1, 2))
        outs = [names[-1]] + ([draw(st.sampled_from(names))] if n_out == 2 else [])
        name = f"helper{h}"
        decorated = draw(st.integers(0, 2)) == 0
        if decorated:
            features.add("@δ helper")
        lines += [""] + (["@δ"] if decorated else []) + [f"def {name}({', '.join(params)}):"] + body
        lines.append(f"    return {', '.join(outs)}")
        made.append(Helper(name, n_params, [deps[o] for o in outs]))
    return lines, made


@st.composite
def programs(draw, max_statements: int = 6) -> Program:
    """A module with helpers and an entry function ``f``, arguments, and a differentiation mask."""
    features: set = set()
    helper_lines, made = draw(helpers(draw(st.integers(0, 2)), features))
    n_params = draw(st.integers(1, 3))
    shapes = [draw(st.sampled_from(SHAPES)) for _ in range(n_params)]
    params = [f"x{i}" for i in range(n_params)]
    env = dict(zip(params, shapes))
    writer = _Writer(draw, made, features)
    scalar_output = draw(st.integers(0, 3)) > 0
    returns = "np.sum(np.sin({a}))" if scalar_output else None
    writer.block(env, 1, 0, draw(st.integers(1, max_statements)), returns=returns)
    live = sorted(env)
    if scalar_output:
        a = draw(st.sampled_from(live))
        ret = draw(st.sampled_from(["np.sum({a})", "np.sum({a} * {a})", "np.mean(np.tanh({a}))"])).format(a=a)
    else:
        outs = draw(st.lists(st.sampled_from(live), min_size=1, max_size=2))
        ret = ", ".join(outs)
        features.add("several outputs" if len(outs) > 1 else "array output")
    writer.emit(1, f"return {ret}")
    decorator = ["@δ"]
    source = (HEADER + "\n".join(helper_lines) + "\n\n" + "\n".join(decorator)
              + f"\ndef f({', '.join(params)}):\n" + "\n".join(writer.lines) + "\n")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    args = [float(rng.uniform(-1.5, 1.5)) if s == () else rng.uniform(-1.5, 1.5, size=s) for s in shapes]
    mask = tuple(draw(st.lists(st.booleans(), min_size=n_params, max_size=n_params)))
    if not any(mask):
        mask = (True,) + mask[1:]
    if sum(not m for m in mask) > (2 if n_params >= 3 else 1):  # δ binds up to two constant arguments
        mask = (True,) * n_params
    return Program(source, "f", args, mask, frozenset(features))
