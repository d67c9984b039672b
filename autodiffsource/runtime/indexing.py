"""Indexing in the backward pass: adding a cotangent into a buffer at an index (repeats add up),
reading the cotangent of ``y[index]`` and of what an in-place write overwrote, lists' cotangents, and
in-place updates of buffers the generated code owns.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import CotangentError
from .common import _CONTAINERS, _device, _PY_SCALARS, _ndarray, _xp, is_foreign_array
from .cotangents import add_cotangents, zeros_like


def _is_basic_index(index) -> bool:
    parts = index if type(index) is tuple else (index,)
    for p in parts:
        if p is None or p is Ellipsis or type(p) is slice or isinstance(p, numbers.Integral):
            continue
        return False
    return True


def index_add(buffer, index, g):
    """``buffer[index] += g`` with repeated integer indices adding up; returns ``buffer``.

    ``buffer`` must be owned by the generated code (a fresh zero array), never a user's array.
    """
    if type(buffer) is _ndarray:
        if type(index) is slice or _is_basic_index(index):
            buffer[index] += g
        else:
            np.add.at(buffer, index, g)
        return buffer
    if type(buffer) in _PY_SCALARS:
        raise CotangentError("cannot index into a scalar cotangent")
    if type(buffer) is list or type(buffer) is dict:
        if type(index) is slice:
            for i, part in zip(range(*index.indices(len(buffer))), g):
                buffer[i] = add_cotangents(buffer[i], part)
        else:
            buffer[index] = add_cotangents(buffer[index], g)
        return buffer
    from ..backend import backend_of, scatter_add

    backend = backend_of(buffer)
    if not backend.mutable:
        padded = _padded_into(buffer, index, g)
        if padded is not None:
            return buffer + padded
        return buffer.at[index].add(g)  # JAX: functional update, traceable under jit
    if _is_basic_index(index):
        # A basic index selects each element at most once: plain read-add-write is exact.
        if backend.lazy and _has_newaxis(index):
            # Dask's __setitem__ refuses None: drop the new axes from the index and from g alike.
            index = tuple(p for p in index if p is not None) if type(index) is tuple else ()
            g = _xp(buffer).reshape(g, tuple(buffer[index].shape))
        buffer[index] = buffer[index] + g
        return buffer
    return scatter_add(_xp(buffer), buffer, index, g)


def _padded_into(buffer, index, g):
    """``g`` zero-padded to ``buffer``'s shape at ``index`` (slices of step 1 only), else None.

    For immutable arrays (JAX): ``buffer + pad(g)`` is what JAX's own gradient of a slice compiles
    to, and XLA fuses it with the sum; ``buffer.at[index].add(g)`` compiles to a scatter, slower on
    large arrays (issue 6: W1 at n=10^6 under jax.jit).
    """
    parts = index if type(index) is tuple else (index,)
    shape = tuple(buffer.shape)
    if any(p is Ellipsis for p in parts):  # x[..., 1:]: full slices in the Ellipsis' place
        at = [i for i, p in enumerate(parts) if p is Ellipsis]
        if len(at) > 1:
            return None
        parts = parts[:at[0]] + (slice(None),) * (len(shape) - len(parts) + 1) + parts[at[0] + 1:]
    if len(parts) > len(shape) or any(type(p) is not slice or p.step not in (None, 1) for p in parts):
        return None
    xp = _xp(buffer)
    pad = getattr(xp, "pad", None)
    if pad is None:
        return None
    widths, sliced = [], []
    for axis, n in enumerate(shape):
        start, stop, _ = parts[axis].indices(n) if axis < len(parts) else (0, n, 1)
        if stop <= start:
            return None
        widths.append((start, n - stop))
        sliced.append(stop - start)
    if type(g) in _PY_SCALARS:
        g = xp.asarray(g, dtype=buffer.dtype)
    elif g.dtype != buffer.dtype:
        g = xp.astype(g, buffer.dtype)  # as .at[].add would: the buffer's dtype wins
    return pad(xp.broadcast_to(g, tuple(sliced)), widths)


def _has_newaxis(index) -> bool:
    return index is None or type(index) is tuple and any(p is None for p in index)


def take_any(x, indices, axis=None):
    """``np.take(x, indices, axis)`` on any array library (``axis=None`` takes from ``x`` flattened)."""
    if not is_foreign_array(x):
        return np.take(x, indices, axis=axis)
    xp = _xp(x)
    if axis is None:
        return xp.take(xp.reshape(x, (-1,)), indices, axis=0)
    return xp.take(x, indices, axis=axis)


def take_partial_any(dy, x, indices, axis):
    """The partial of ``xp.take(x, indices, axis=axis)`` on any array library: repeated indices add up.

    ``axis=None`` (NumPy's flattened take) takes positions in ``x`` flattened.
    """
    from ..backend import take_add

    xp = _xp(x)
    buffer = zeros_like(x)
    if axis is None:
        flat = take_add(xp, xp.reshape(buffer, (-1,)), indices, 0, dy)
        return xp.reshape(flat, tuple(x.shape))
    return take_add(xp, buffer, indices, axis % len(x.shape), dy)


def take_cotangent(d, index):
    """The cotangent of ``y[index]`` given the cotangent ``d`` of the whole ``y`` (a scalar stays itself).

    For ``y[index] = v`` with an index that repeats a position, NumPy keeps the last write only, so only
    the last occurrence receives the cotangent of that position.
    """
    if type(d) in _PY_SCALARS:
        return d
    part = d[index]
    if type(d) in _CONTAINERS or _is_basic_index(index):  # (a list's or a dict's item: one position)
        return part
    if type(d) is _ndarray or _on_the_host(index):
        # (the index's positions in NumPy, whatever d's library: a host index is NumPy's to read)
        positions = np.arange(int(np.prod(d.shape))).reshape(tuple(d.shape))[index].ravel()
        if len(np.unique(positions)) != positions.size:
            last = np.zeros(positions.size, dtype=bool)
            _, first_from_end = np.unique(positions[::-1], return_index=True)
            last[positions.size - 1 - first_from_end] = True
            last = last.reshape(tuple(part.shape))  # positions has one entry per element of part
            if type(d) is not _ndarray:
                xp = _xp(d)
                last = xp.asarray(last, device=_device(d))
            part = part * last
        return part
    xp = _xp(d)
    if not hasattr(xp, "argsort"):  # (Dask's: no sort to find repeats with)
        return part
    # An index of d's own library (on its device, maybe traced): the last occurrence of each position,
    # found by a stable sort, so that it runs there too (under jax.jit as well).
    size = int(np.prod(tuple(d.shape)))
    positions = xp.reshape(xp.reshape(xp.arange(size, device=_device(d)), tuple(d.shape))[index], (-1,))
    order = xp.argsort(positions, stable=True)
    ordered = xp.take(positions, order)
    last_of_run = xp.concat([ordered[1:] != ordered[:-1], xp.ones((1,), dtype=xp.bool, device=_device(d))])
    last = xp.take(last_of_run, xp.argsort(order, stable=True))
    return part * xp.astype(xp.reshape(last, tuple(part.shape)), part.dtype)


def _on_the_host(index) -> bool:
    """Whether every part of an index is Python's or NumPy's (ints, slices, lists, NumPy arrays)."""
    parts = index if type(index) is tuple else (index,)
    return all(p is None or p is Ellipsis or type(p) in (slice, list, bool)
               or isinstance(p, (numbers.Integral, _ndarray)) for p in parts)


def without_index(d, index):
    """A copy of the cotangent ``d`` with ``d[index]`` zeroed: what flows to the value ``y`` had before
    ``y[index] = v`` overwrote that part."""
    if type(d) is _ndarray:
        d = d.copy()
        d[index] = 0
        return d
    if type(d) in _PY_SCALARS:
        raise CotangentError("a scalar cotangent for an array that was assigned into")
    if isinstance(d, list):
        d = list(d)
        d[index] = None  # zero
        return d
    if isinstance(d, dict):
        d = dict(d)
        d[index] = zeros_like(d[index])
        return d
    import array_api_compat

    if array_api_compat.is_jax_array(d):
        return d.at[index].set(0)
    if array_api_compat.is_torch_array(d):
        d = d.clone()
        d[index] = 0
        return d
    xp = _xp(d)
    d = xp.asarray(d, copy=True)
    d[index] = 0
    return d


def augmented_result(result, old):
    """What ``a op= e`` leaves in ``a``, given ``result = a op e``, where the generated code rebinds ``a``
    rather than writing into its array (no other name holds it, and the pullback may read the old one).

    For a NumPy array ``old`` that is what NumPy's in-place operator leaves: ``result`` cast back to
    ``old``'s dtype under ``same_kind`` (a float32 array stays float32), and NumPy's own errors where it
    refuses: a float into an int or bool array (UFuncTypeError), a result broadcast beyond ``old``'s shape
    or a read-only ``old`` (ValueError). Numbers, and other libraries' arrays: ``result`` itself."""
    if type(old) is not _ndarray:
        return result
    if type(result) is _ndarray and result.dtype == old.dtype and result.shape == old.shape and old.flags.writeable:
        return result  # (the common case: nothing to cast, nothing to refuse)
    if not old.flags.writeable:
        raise ValueError("output array is read-only")
    if np.result_type(result) == old.dtype and np.shape(result) != old.shape:  # (positive has no bool loop)
        raise ValueError(f"non-broadcastable output operand with shape {old.shape} doesn't match the broadcast "
                         f"shape {np.shape(result)}")
    out = np.empty_like(old)
    # NumPy's casting error, then its shape error, in the order `a += e` raises them.
    np.positive(result, out=out, casting="same_kind")
    return out


def update_in_place(old, new):
    """What ``a += e`` leaves in ``a``: the same array, changed in place (so every name holding it sees
    the change; NumPy's errors where its in-place operator refuses, see augmented_result), or, for numbers
    and immutable arrays, the new value."""
    if type(old) is _ndarray:
        old[...] = augmented_result(new, old)
        return old
    if hasattr(old, "__setitem__") and type(old) not in _CONTAINERS and type(old) is not _ndarray \
            and tuple(getattr(new, "shape", ())) == tuple(getattr(old, "shape", ())):
        from ..backend import backend_of

        if backend_of(old).mutable:
            old[...] = new
            return old
    return new


def list_item_cotangent(length: int, index, dy):
    """The cotangent of a list of ``length`` entries read only at ``index``: None (zero) elsewhere."""
    d = [None] * length
    if type(index) is slice:
        for i, part in zip(range(*index.indices(length)), dy):
            d[i] = part
    else:
        d[index] = dy
    return d


_multiply = np.multiply
_IN_PLACE_MIN = 8192  # elements: below this a new array costs less than the checks


def scale_owned(a, b, c=1):
    """``a * b * c`` for an ``a`` the generated code made and reads no more: on a large NumPy float array
    computed into ``a`` itself while a factor changes neither its shape nor its dtype (no new array, no
    page faults); otherwise, and on every other array library, exactly as written."""
    if type(a) is _ndarray and a.size >= _IN_PLACE_MIN and a.dtype.kind == "f" and a.flags.writeable:
        if _keeps_shape_and_dtype(a, b):
            _multiply(a, b, a)  # (out given by position: the keyword costs a dict per call)
            if type(c) is int and c == 1:
                return a
            if _keeps_shape_and_dtype(a, c):
                return _multiply(a, c, a)
            return a * c
    return a * b if type(c) is int and c == 1 else a * b * c


def zeros_with(like, index, a, b=1):
    """``index_add(zeros_like(like), index, a * b)``: a new zero cotangent with ``a * b`` at ``index``,
    the first contribution to a cotangent that is only ever read through subscripts (``x[1:]``,
    ``u[:, :-1]``).

    On a large NumPy float array and an index of step-1 slices (one per leading axis) the product is
    computed straight into that block of an uninitialised buffer and only the rest is zeroed: one pass
    over the memory instead of three (zero fill, the product's temporary, the read-add-write). On a small
    one, zeros and one write, without the two helpers' dispatch (a microsecond of W1 at n=1,000). Everywhere
    else, and whenever the product would change the buffer's dtype, exactly ``index_add(zeros_like(like),
    index, a * b)``.
    """
    unit = type(b) is int and b == 1
    if type(like) is _ndarray and like.size < _IN_PLACE_MIN and like.dtype.kind == "f" and type(index) is slice:
        # Small: the zeros and one write into them, without index_add's and zeros_like's dispatch; a value of
        # the buffer's own dtype is copied in (what adding it to zeros gives), any other added (casting rules).
        buffer = np.zeros(like.shape, like.dtype)
        value = a if unit else a * b
        if type(value) is _ndarray and value.dtype is like.dtype and value.ndim <= like.ndim:
            buffer[index] = value
        else:
            buffer[index] += value
        return buffer
    if type(like) is _ndarray and like.dtype.kind == "f":
        ranges = _block_ranges(like.shape, index)
        if ranges is not None and (np.result_type(a) if unit else np.result_type(a, b)) == like.dtype:
            buffer = np.empty_like(like)
            block = buffer[tuple(slice(start, stop) for start, stop in ranges)]
            if unit:
                block[...] = a
            else:
                np.multiply(a, b, out=block)  # broadcasting into the block, as `+=` would
            for axis, (start, stop) in enumerate(ranges):  # the rest: slabs outside the block, axis by axis
                inside = tuple(slice(s, e) for s, e in ranges[:axis])
                buffer[inside + (slice(0, start),)] = 0
                buffer[inside + (slice(stop, None),)] = 0
            return buffer
    return index_add(zeros_like(like), index, a if unit else a * b)


def _block_ranges(shape: tuple, index) -> list[tuple[int, int]] | None:
    """``[(start, stop)]`` per leading axis when ``index`` is step-1 slices selecting a non-empty block."""
    parts = index if type(index) is tuple else (index,)
    if len(parts) > len(shape):
        return None
    ranges = []
    for part, n in zip(parts, shape):
        if type(part) is not slice:
            return None
        start, stop, step = part.indices(n)
        if step != 1 or start >= stop:
            return None
        ranges.append((start, stop))
    return ranges


def _keeps_shape_and_dtype(a, f) -> bool:
    tf = type(f)
    return tf is float or tf is int or tf is _ndarray \
        and (f.dtype is a.dtype or np.promote_types(a.dtype, f.dtype) == a.dtype) \
        and (f.shape == a.shape or np.broadcast_shapes(a.shape, f.shape) == a.shape)



def writes_into(value, array, index=Ellipsis, exact: bool = False) -> bool:
    """Whether writing ``array[index]`` changes ``value`` (a list or tuple: one of its items): a view
    sharing memory with the written block (NumPy's slices, transposes and reshapes, torch's, CuPy's).
    A NumPy scalar, a copy, a JAX or Dask array never does. Bounds are compared (a view whose memory
    interleaves with the block's may be taken for one that shares it) unless ``exact``."""
    if type(value) is _ndarray:
        if type(array) is not _ndarray:
            return False
        block = array[_block_index(index)] if _is_basic_index(index) else array
        return bool(np.shares_memory(value, block) if exact else np.may_share_memory(value, block))
    if type(value) in _PY_SCALARS or value is None or isinstance(value, np.generic):
        return False
    if type(value) in (list, tuple):
        return any(writes_into(item, array, index, exact) for item in value)
    import array_api_compat

    if array_api_compat.is_torch_array(value):
        if not array_api_compat.is_torch_array(array):
            return False
        block = array[_block_index(index)] if _is_basic_index(index) else array
        return _torch_spans_meet(value, block)
    if array_api_compat.is_cupy_array(value):
        import cupy

        block = array[_block_index(index)] if _is_basic_index(index) else array
        return array_api_compat.is_cupy_array(array) and bool(cupy.may_share_memory(value, block))
    # array-api-strict's arrays wrap NumPy arrays, and its views share them as NumPy's do.
    inner, inner_array = getattr(value, "_array", None), getattr(array, "_array", None)
    return type(inner) is _ndarray and type(inner_array) is _ndarray and writes_into(inner, inner_array, index, exact)


def _block_index(index):
    """``index`` with each integer ``i`` made ``i:i+1``: the written block as a view, even where
    ``array[index]`` would be a NumPy scalar."""
    parts = index if type(index) is tuple else (index,)
    block = tuple(slice(p, p + 1 or None) if isinstance(p, numbers.Integral) else p for p in parts)
    return block if type(index) is tuple else block[0]


def _torch_spans_meet(a, b) -> bool:
    """Whether two torch tensors' memory spans (in one storage) meet."""
    if a.numel() == 0 or b.numel() == 0 or a.untyped_storage().data_ptr() != b.untyped_storage().data_ptr():
        return False

    def span(t):
        start = t.storage_offset()
        return start, start + sum((n - 1) * abs(step) for n, step in zip(t.shape, t.stride()))

    (a0, a1), (b0, b1) = span(a), span(b)
    return a0 <= b1 and b0 <= a1


def refuse_update_through_view(view, array, where: tuple, name: str, array_name: str, statement: str) -> None:
    """The run-time refusal of ``statement`` (``name += e``, a write into ``name``) where ``view`` (what
    ``name`` holds) shares memory with ``array`` (what ``array_name`` holds: read later, or an argument):
    NumPy would write into ``array`` through the view, which the generated code does not follow.
    ``where``: the statement's place, as SourceLoc's fields."""
    if writes_into(array, view, exact=True):
        from ..errors import ADError, SourceLoc

        raise ADError(
            f"`{statement}` writes into `{array_name}` through `{name}`, a view of it (`{array_name}` is read "
            f"later, or is the caller's array): autodiffsource does not follow writes through a view",
            SourceLoc(*where), hint=f"Write the update into `{array_name}` itself (`{array_name}[...] += ...`, "
                                    f"what NumPy does here), or `{name} = {name} + ...` to leave `{array_name}` "
                                    f"as it is.")


def refuse_changed_view(value, array, index, where: tuple, name: str, array_name: str, made_by: str) -> None:
    """The run-time refusal of a view made by a call autodiffsource cannot repeat (another δ function,
    a call on constants...) of an array the function then wrote into: raises where the write
    ``array[index] = ...`` changed ``value`` (its derivative would miss the write), else does nothing.
    ``where``: the write's place in the user's file, as SourceLoc's fields."""
    if writes_into(value, array, index, exact=True):
        from ..errors import ADError, SourceLoc

        raise ADError(
            f"`{name}` is a view of `{array_name}` ({made_by}), and this line writes into its memory while "
            f"`{name}` is read later: its derivative would miss the write",
            SourceLoc(*where), hint=f"Copy it where it is made (`{name} = ....copy()`), or read it again after "
                                    f"the write.")
