"""SciPy's frozen distributions inside differentiated functions (frontend/frozen.py): ``stats.norm(mu, s)
.logpdf(x)``, ``d = stats.norm(mu, s); d.logpdf(x)`` and a module's ``prior = stats.norm(0, 1)`` are the
distribution's methods with the frozen parameters, differentiable in them too. Values are SciPy's frozen
calls to the bit; partials agree with central differences. What cannot be differentiated (a frozen
distribution passed in, or held and used otherwise than by calling its methods) is refused by name; before,
such a method call was taken for a constant and its gradient was silently zero."""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest
from scipy import stats

from autodiffsource import MissingRuleError, hessian, source, value_and_grad, δ
from finite_differences import numeric_partial

PRIOR = stats.norm(0.5, 2.0)
SHAPED_PRIOR = stats.gamma(2.5, scale=1.5)


def inline_norm(x, mu, s):
    return np.sum(stats.norm(mu, s).logpdf(x) + stats.norm(mu, scale=s).cdf(x))


def held_norm(x, mu, s):
    d = stats.norm(mu, scale=s)
    return np.sum(d.logpdf(x) * 2.0 + d.sf(x) + d.pdf(x))


def held_gamma_and_t(x, mu, s):
    g = stats.gamma(3.0, loc=mu - 2.0, scale=s)
    t = stats.t(4.0, mu, s)
    return np.sum(g.logpdf(x) + t.logcdf(x) + t.logpdf(x))


def module_priors(x, mu, s):
    return np.sum(PRIOR.logpdf(x) + SHAPED_PRIOR.logpdf(x + 2.0)) + PRIOR.logpdf(mu) + s * PRIOR.cdf(s)


def held_in_a_loop(x, mu, s):
    total = 0.0
    for k in range(3):
        d = stats.laplace(mu * k, s)
        total = total + np.sum(d.logpdf(x))
    return total


FUNCTIONS = [inline_norm, held_norm, held_gamma_and_t, module_priors, held_in_a_loop]


def _inputs():
    return np.array([0.3, 1.1, 2.4]), 0.4, 1.7


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_values_are_scipys_frozen_calls_and_partials_agree_with_central_differences(fn):
    x, mu, s = _inputs()
    value, partials = value_and_grad(fn, argnums=(0, 1, 2))(x, mu, s)
    assert value == fn(x, mu, s)  # (the function run as written: SciPy's frozen distributions)
    for num, partial in enumerate(partials):
        np.testing.assert_allclose(partial, numeric_partial(fn, [x, mu, s], num, [1.0]), rtol=1e-6, atol=1e-9)


def test_the_generated_code_is_the_distributions_rule_on_the_frozen_parameters():
    text = source(δ(held_norm))
    assert "standardized(x, mu, s)" in text  # norm's rule (rules/scipy_stats.py), inlined on mu and s
    assert "d.logpdf(x)" in text  # (the user's line, as a comment)


def test_second_order_in_a_frozen_parameter():
    def f(v):
        return np.sum(stats.norm(v[0], v[1]).logpdf(np.array([0.3, 1.1, 2.4])))

    v = np.array([0.4, 1.7])
    h = hessian(f)(v)
    for i in range(2):
        row = numeric_partial(lambda u: value_and_grad(f)(u)[1][i], [v], 0, [1.0])
        np.testing.assert_allclose(h[i], row, rtol=1e-6, atol=1e-8)


def test_a_frozen_multivariate_normal_inline_and_held():
    def inline(x, mean, cov):
        return np.sum(stats.multivariate_normal(mean, cov).logpdf(x))

    def held(x, mean, cov):
        d = stats.multivariate_normal(mean, cov)
        return np.sum(d.logpdf(x) + d.pdf(x))

    x = np.array([[0.3, -0.2], [1.0, 0.5], [-0.4, 0.9]])
    mean, cov = np.array([0.1, 0.2]), np.array([[1.5, 0.3], [0.3, 0.8]])
    for fn in (inline, held):
        value, partials = value_and_grad(fn, argnums=(0, 1, 2))(x, mean, cov)
        assert value == fn(x, mean, cov)
        for num in (0, 1):
            np.testing.assert_allclose(partials[num], numeric_partial(fn, [x, mean, cov], num, [1.0]), rtol=1e-6)
        # cov is read through its lower triangle (rules/scipy_stats.py): the symmetric direction's derivative
        direction = np.array([[1.0, 0.5], [0.5, -1.0]])
        numeric = numeric_partial(lambda t: fn(x, mean, cov + t * direction), [0.0], 0, [1.0])
        assert np.sum(partials[2] * direction) == pytest.approx(numeric, rel=1e-6)


def test_a_frozen_distribution_passed_in_is_refused_by_name():
    def f(x, d):
        return np.sum(d.logpdf(x))

    with pytest.raises(MissingRuleError, match=r"rv_continuous_frozen\.logpdf") as raised:
        value_and_grad(f)(np.array([0.3, 1.1]), stats.norm(0.0, 1.0))
    assert "stats.norm.logpdf(x, mu, s)" in raised.value.hint


def test_a_frozen_distribution_of_differentiated_parameters_held_as_an_object_is_refused_at_its_line():
    def f(x, mu):
        d = stats.norm(mu, 2.0)
        noise = d.rvs(size=2, random_state=0)  # (not one of the methods rewritten: `d` stays an object)
        return np.sum(d.logpdf(x) * noise)

    with pytest.raises(MissingRuleError, match=r"frozen distribution `stats.norm\(\.\.\.\)`") as raised:
        value_and_grad(f, argnums=(0, 1))(np.array([0.3, 1.1]), 0.4)
    assert raised.value.loc.line == f.__code__.co_firstlineno + 1


def test_a_frozen_distribution_of_constants_held_and_used_otherwise_still_differentiates_its_methods_args():
    # `d` stays the frozen object (it is used by rvs too); its logpdf of a differentiated x is then a method
    # of a constant object, which has no rule: refused by name, never a silent zero.
    def f(x):
        d = stats.norm(0.0, 2.0)
        noise = d.rvs(size=2, random_state=0)
        return np.sum(d.logpdf(x) * noise)

    with pytest.raises(MissingRuleError, match=r"rv_continuous_frozen\.logpdf"):
        value_and_grad(f)(np.array([0.3, 1.1]))


def test_the_rule_of_a_frozen_distributions_own_copy_is_found():
    # A frozen distribution's `.dist` is a new `norm_gen` made with `stats.norm`'s parameters.
    def f(x):
        return np.sum(PRIOR.dist.logpdf(x, 0.5, 2.0))

    x = np.array([0.3, 1.1])
    value, dx = value_and_grad(f)(x)
    np.testing.assert_allclose(dx, numeric_partial(f, [x], 0, [1.0]), rtol=1e-6)
