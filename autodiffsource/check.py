"""Finite-difference checks of derivatives: ``checkdiff`` (the seed's) and ``checkgrad``.

Both compare against central differences in float64 with a random, non-uniform cotangent, so a rule
that is wrong in any direction is caught; on a mismatch they raise an AssertionError naming the
argument, the element and both numbers.
"""

from __future__ import annotations

import numpy as np


def _as_float64(a):
    if isinstance(a, (int, float, np.generic)) and not isinstance(a, bool):
        return float(a)
    return np.array(a, dtype=np.float64)


def _perturbed(args, i, flat_index, step):
    new = list(args)
    a = args[i]
    if isinstance(a, float):
        new[i] = a + step
    else:
        b = a.copy()
        b.flat[flat_index] += step
        new[i] = b
    return new


def _size(a) -> int:
    return 1 if isinstance(a, float) else a.size


def _pairing(outputs, cotangents) -> float:
    total = 0.0
    for out, cot in zip(outputs, cotangents, strict=True):
        total += float(np.sum(np.asarray(out, dtype=np.float64) * cot))
    return total


def _compare(name, i, param, k, expected, got, rtol, atol, shape):
    if not np.isclose(got, expected, rtol=rtol, atol=atol):
        where = f" at index {tuple(int(j) for j in np.unravel_index(k, shape))}" if shape else ""
        raise AssertionError(
            f"{name}: the partial for argument {i + 1} (`{param}`){where} is {got!r}, "
            f"but central finite differences give {expected!r}")


def _param_names(f, n):
    import inspect

    try:
        names = [p.name for p in inspect.signature(f).parameters.values()]
    except (TypeError, ValueError):
        names = []
    return (names + [f"arg{j + 1}" for j in range(n)])[:n]


def checkdiff(f, δf, *args, rtol: float = 1e-5, atol: float = 1e-6, step: float = 1e-6, seed: int = 0) -> bool:
    """True when ``δf``'s pullback agrees with central differences of ``f`` at ``args``.

    ``δf`` may be a generated ``δf``/``δf_constK`` (constant arguments are skipped) or a hand-written rule
    in the seed's convention. Each output gets a random cotangent.

    >>> import numpy as np
    >>> def div(x, y):
    ...     return x / y
    >>> def δdiv(x, y):
    ...     return x / y, lambda z: (z / y, -z * x / y ** 2)
    >>> checkdiff(div, δdiv, 3.0, 2.0)
    True
    """
    rng = np.random.default_rng(seed)
    mask = getattr(δf, "__wrt__", (True,) * len(args))
    mask = tuple(mask) + (True,) * (len(args) - len(mask))  # extra positional (*args) are differentiated
    args = [_as_float64(a) if m else a for a, m in zip(args, mask)]  # constants stay as given (ints, objects)
    result = δf(*args)
    if not isinstance(result, tuple) or len(result) < 2:
        raise AssertionError(f"{getattr(δf, '__name__', δf)} must return (*outputs, pullback)")
    *outputs, pullback = result
    cotangents = [rng.uniform(0.5, 1.5, size=np.shape(o)) if np.shape(o) else float(rng.uniform(0.5, 1.5))
                  for o in outputs]
    partials = pullback(*cotangents)
    n_wrt = sum(mask)
    if n_wrt == 1 and not (isinstance(partials, tuple) and len(partials) == 1):
        partials = (partials,)
    if not isinstance(partials, tuple) or len(partials) != n_wrt:
        raise AssertionError(f"the pullback returned {partials!r}; expected {n_wrt} partials")

    def pairing(call_args):
        out = f(*call_args)
        out = out if isinstance(out, tuple) and len(outputs) > 1 else (out,)
        return _pairing(out, cotangents)

    names = _param_names(f, len(args))
    name = getattr(δf, "__name__", "δf")
    partial_iter = iter(partials)
    for i, a in enumerate(args):
        if not mask[i]:
            continue
        got = np.asarray(next(partial_iter), dtype=np.float64).reshape(-1) if _size(a) > 1 or not isinstance(a, float) \
            else np.asarray([next(partial_iter)], dtype=np.float64).reshape(-1)
        if got.size != _size(a):
            raise AssertionError(f"{name}: the partial for argument {i + 1} (`{names[i]}`) has {got.size} "
                                 f"elements, the argument {_size(a)}")
        for k in range(_size(a)):
            h = step * max(1.0, abs(float(a if isinstance(a, float) else a.flat[k])))
            expected = (pairing(_perturbed(args, i, k, h)) - pairing(_perturbed(args, i, k, -h))) / (2 * h)
            _compare(name, i, names[i], k, expected, float(got[k]), rtol, atol, np.shape(a))
    return True


def checkgrad(f, args, partials, rtol: float = 1e-5, atol: float = 1e-6, step: float = 1e-6) -> bool:
    """True when ``partials`` (one per argument of scalar-valued ``f``) match central differences.

    >>> checkgrad(lambda x, y: x * y, (3.0, 2.0), (2.0, 3.0))
    True
    """
    args = [_as_float64(a) for a in args]
    partials = tuple(partials)
    if len(partials) != len(args):
        raise AssertionError(f"{len(partials)} partials given for {len(args)} arguments")
    names = _param_names(f, len(args))
    for i, (a, p) in enumerate(zip(args, partials, strict=True)):
        got = np.asarray(p, dtype=np.float64).reshape(-1)
        if got.size != _size(a):
            raise AssertionError(f"the partial for argument {i + 1} (`{names[i]}`) has {got.size} elements, "
                                 f"the argument {_size(a)}")
        for k in range(_size(a)):
            h = step * max(1.0, abs(float(a if isinstance(a, float) else a.flat[k])))
            expected = (float(f(*_perturbed(args, i, k, h))) - float(f(*_perturbed(args, i, k, -h)))) / (2 * h)
            _compare("checkgrad", i, names[i], k, expected, float(got[k]), rtol, atol, np.shape(a))
    return True
