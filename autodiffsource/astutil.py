"""Small, fast ``ast`` helpers shared by the pipeline stages.

``copy.deepcopy`` and ``ast.NodeTransformer`` dominated the transform time (a memo dictionary and a
generic visit per node); these walk the tree directly. Contract: inputs are never modified; the result
shares only immutable leaves (strings, numbers, ``ast.Load()``-style contexts) with the input.
"""

from __future__ import annotations

import ast

_CONTEXTS = (ast.Load, ast.Store, ast.Del)
_AST = ast.AST


def copy_node(node, child):
    """A new node of ``node``'s class: its fields through ``child``, its location attributes as they are.

    Only ``_fields`` are followed: tools such as ``executing`` (used by IPython's tracebacks) add a
    ``parent`` attribute to nodes, and following it would recurse forever."""
    cls = node.__class__
    new = cls.__new__(cls)
    d, source = new.__dict__, node.__dict__
    for key in cls._fields:
        value = source.get(key)
        d[key] = child(value) if value.__class__ is list or isinstance(value, _AST) else value
    for key in cls._attributes:
        if key in source:
            d[key] = source[key]
    return new


def clone(node):
    """A deep copy of an AST node or list of nodes (contexts shared, as the parser shares them).

    :func:`copy_node` with ``clone`` as the child function, written out: a class's fields and location
    attributes are looked up once per class, and values that are neither lists nor nodes are copied
    without a call (a third of the calls a copy of generated code made)."""
    cls = node.__class__
    if cls is list:
        return [clone(n) for n in node]
    how = _CLONING.get(cls)
    if how is None:
        how = _cloning(cls)
    if how is False:  # not a node, or a context
        return node
    fields, attributes = how
    new = cls.__new__(cls)
    d, source = new.__dict__, node.__dict__
    for key in fields:
        value = source.get(key)
        if value.__class__ in PLAIN_VALUES:
            d[key] = value
        else:
            d[key] = clone(value)  # (returns anything that is neither a list nor a node as it is)
    for key in attributes:
        if key in source:
            d[key] = source[key]
    return new


_CLONING: dict[type, tuple | bool] = {}
# Values clone keeps as they are without a call: immutable leaves, and the contexts (shared, as above).
PLAIN_VALUES = frozenset({str, int, float, bool, type(None), bytes, complex, ast.Load, ast.Store, ast.Del})


def _cloning(cls: type):
    """How :func:`clone` copies an object of class ``cls``: False to keep it, else its (fields, attributes)."""
    how = (cls._fields, cls._attributes) if issubclass(cls, ast.AST) and not issubclass(cls, _CONTEXTS) else False
    _CLONING[cls] = how
    return how


def cloning(cls: type):
    """How :func:`clone` copies an object of class ``cls`` (False: kept as it is, else its (fields,
    attributes), worked out once per class), for copies that do more on the way (a rewrite, a count);
    values of the classes in ``PLAIN_VALUES`` they keep as they are without a call, as clone does."""
    how = _CLONING.get(cls)
    return _cloning(cls) if how is None else how


def substitute_names(node, replace):
    """A copy of ``node`` where each ``ast.Name`` is replaced by ``replace(name_node)`` (None: keep)."""
    if isinstance(node, list):
        return [substitute_names(n, replace) for n in node]
    if isinstance(node, ast.Name):
        new = replace(node)
        return clone(node) if new is None else new
    if not isinstance(node, ast.AST) or isinstance(node, _CONTEXTS):
        return node
    return copy_node(node, lambda child: substitute_names(child, replace))


def walk(node) -> list:
    """The nodes :func:`ast.walk` yields, in the same (breadth-first) order, as a list.

    About three times faster than ``ast.walk`` (no generator per node for its children): the lowering
    and naming stages walk every statement several times. Being a list, it is a snapshot: use it where
    the loop changes no node's children (attributes such as ``id`` or ``lineno`` may change).
    """
    return _breadth_first([node], _ALL_FIELDS, _all_fields)


def fix_missing_locations(node):
    """:func:`ast.fix_missing_locations`, without its self-calling closure (a reference cycle per call,
    left to the garbage collector): the same locations, filled in the same order."""
    _fix_locations(node, 1, 0, 1, 0)
    return node


def _fix_locations(node, lineno, col_offset, end_lineno, end_col_offset):
    if "lineno" in node._attributes:
        if not hasattr(node, "lineno"):
            node.lineno = lineno
        else:
            lineno = node.lineno
        if "end_lineno" in node._attributes:
            if getattr(node, "end_lineno", None) is None:
                node.end_lineno = end_lineno
            else:
                end_lineno = node.end_lineno
        if "col_offset" in node._attributes:
            if not hasattr(node, "col_offset"):
                node.col_offset = col_offset
            else:
                col_offset = node.col_offset
        if "end_col_offset" in node._attributes:
            if getattr(node, "end_col_offset", None) is None:
                node.end_col_offset = end_col_offset
            else:
                end_col_offset = node.end_col_offset
    for child in ast.iter_child_nodes(node):
        _fix_locations(child, lineno, col_offset, end_lineno, end_col_offset)


# Fields that hold only operators and contexts (leaves nothing here looks for): not walked.
_LEAF_FIELDS = frozenset({"ctx", "op", "ops"})
_CHILD_FIELDS: dict[type, tuple] = {}


def child_fields(cls) -> tuple:
    """The fields of node class ``cls`` that can hold nodes other than operators and contexts."""
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _CHILD_FIELDS[cls] = () if cls in (ast.Name, ast.Constant) else \
            tuple(f for f in cls._fields if f not in _LEAF_FIELDS)
    return fields


def nodes(tree) -> list:
    """The nodes of ``tree`` in :func:`ast.walk`'s (breadth-first) order without operators and
    contexts (``ctx``, ``op``, ``ops``: leaves no pass looks for), as a list: like :func:`walk`, a
    snapshot, and faster still (the generated code's passes walk every statement several times)."""
    return _breadth_first([tree], _CHILD_FIELDS, child_fields)


def name_ids(trees) -> set[str]:
    """The ids of every ``Name`` in ``trees`` (a list of nodes), by the walk of :func:`nodes`."""
    return {n.id for n in _breadth_first(list(trees), _CHILD_FIELDS, child_fields) if n.__class__ is ast.Name}


_ALL_FIELDS: dict[type, tuple] = {}


def _all_fields(cls) -> tuple:
    fields = _ALL_FIELDS[cls] = cls._fields
    return fields


def _breadth_first(todo: list, known_fields: dict, fields_of) -> list:
    """``todo`` followed by every node below it, breadth first, descending into the fields
    ``known_fields[cls]`` (or ``fields_of(cls)``, which records them there) of each node's class."""
    append = todo.append
    known = known_fields.get
    for node in todo:  # appending while iterating visits every node appended
        fields = known(node.__class__)
        for field in fields_of(node.__class__) if fields is None else fields:
            value = getattr(node, field, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        append(item)
            elif isinstance(value, ast.AST):
                append(value)
    return todo


class Transformer(ast.NodeTransformer):
    """``ast.NodeTransformer`` that does not descend into operators and contexts and finds each
    class's ``visit_`` method once: the same rewrites (for transformers that define no visitor for
    operators, contexts or the deprecated constant classes), about twice as fast on generated code."""

    _methods: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._methods = {}  # node class -> the method visiting it, per transformer class

    def visit(self, node):
        method = self._methods.get(node.__class__)
        if method is None:
            method = getattr(self.__class__, "visit_" + node.__class__.__name__, Transformer.generic_visit)
            if method is ast.NodeVisitor.visit_Constant:  # (dispatches to visit_Num & co., none defined)
                method = Transformer.generic_visit
            self._methods[node.__class__] = method
        return method(self, node)

    def generic_visit(self, node):
        for field in child_fields(node.__class__):
            old = getattr(node, field, None)
            if old.__class__ is list:
                new_values = []
                for value in old:
                    if isinstance(value, ast.AST):
                        value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, ast.AST):
                            new_values.extend(value)
                            continue
                    new_values.append(value)
                old[:] = new_values
            elif isinstance(old, ast.AST):
                new_node = self.visit(old)
                if new_node is None:
                    delattr(node, field)
                else:
                    setattr(node, field, new_node)
        return node
