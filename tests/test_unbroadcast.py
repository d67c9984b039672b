"""``unbroadcast`` and ``unbroadcast_to`` (runtime/broadcasting.py) on NumPy arrays, against the adjoint identity.

Summing a cotangent ``g`` down to the shape of ``x`` is the pullback of broadcasting ``x`` up to ``g``'s
shape, so for every ``v`` shaped like ``x``: ``<unbroadcast(g, x), v> == <g, broadcast_to(v, g.shape)>``.
The oracle is that identity with NumPy's own ``broadcast_to``, not the helper's reduction; the shapes are
every broadcast hypothesis draws (leading axes added, size-1 axes stretched, both), in float64 and float32.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autodiffsource.runtime import unbroadcast, unbroadcast_to


@st.composite
def broadcast_pairs(draw):
    """``(x_shape, g_shape)``: ``g_shape`` is the broadcast of ``x_shape`` with some other shape."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4))
    x_shape = shapes.input_shapes[0]
    return x_shape, np.broadcast_shapes(x_shape, shapes.input_shapes[1])


@settings(max_examples=300, deadline=None)
@given(broadcast_pairs(), st.sampled_from([np.float64, np.float32]), st.integers(0, 2 ** 32 - 1))
def test_unbroadcast_is_the_adjoint_of_broadcasting(pair, dtype, seed):
    x_shape, g_shape = pair
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    g = rng.standard_normal(g_shape).astype(dtype)
    v = rng.standard_normal(x_shape)
    for summed in (unbroadcast(g, x), unbroadcast_to(g, x_shape)):
        assert np.shape(summed) == x_shape and np.asarray(summed).dtype == dtype
        expected = np.sum(np.asarray(g, np.float64) * np.broadcast_to(v, g_shape))
        assert np.isclose(np.sum(np.asarray(summed, np.float64) * v), expected,
                          rtol=1e-5 if dtype is np.float32 else 1e-12, atol=1e-5 if dtype is np.float32 else 1e-12)


def test_a_cotangent_of_the_right_shape_is_handed_back_as_it_is():
    g = np.ones((3, 4))
    assert unbroadcast(g, np.zeros((3, 4))) is g and unbroadcast_to(g, (3, 4)) is g
