"""The seed's README (AutoDiffSource.jl), translated to Python and run as written.

Julia -> Python: `@δ f(x) = ...` is `@δ def f(x): return ...`, `x^2` is `x ** 2`, `W * x` on matrices is
`W @ x`, `.`-broadcasting is NumPy broadcasting, and Julia's 1-based slices become Python's.
Each section asserts what the README promises; the script exits 0 when all of it holds.
"""

import numpy as np

from autodiffsource import checkdiff, δ

rng = np.random.default_rng(0)


# ---- Differentiate a function with the decorator -----------------------------------------------------

@δ
def f(x, y):
    return (x + 2 * y) * y ** 2


# That generates both the regular function f and the δf function:
z, back = δf(3, 2)
dx, dy = back()
assert z == 28 and (dx, dy) == (4.0, 36.0)
assert f(3, 2) == 28  # f itself is unchanged


# ---- Functions can be nested; δ functions are found by convention; several return values -------------

@δ
def f2(x, y):
    q = f(x * y, y) * x
    return q + y, q - x


x, y = 0.5, -1.5
z, t, back2 = δf2(x, y)
dz, dt = 1.0, 0.25
dx, dy = back2(dz, dt)  # the gradient, later, once the output partials are known
assert checkdiff(f2, δf2, x, y)


# ---- Your own derivative rule, used as a building block ----------------------------------------------

def div(x, y):
    return x / y


def δdiv(x, y):
    return x / y, lambda z: (z / y, -z * x / y ** 2)


@δ
def f3(x, y):
    return div(x, y) + y


z, back3 = δf3(3.0, 2.0)
assert z == 3.5 and back3() == (0.5, 0.25)
assert checkdiff(f3, δf3, 3.0, 2.0)


# ---- Simple array indexing ------------------------------------------------------------------------------

def rosenbrock(x, y):
    return np.sum(100 * (y - x ** 2) ** 2 + (1 - x) ** 2)


@δ
def rosenbrock_vector(x):
    return rosenbrock(x[0:len(x) - 1], x[1:len(x)])


# verify correctness
assert checkdiff(rosenbrock_vector, δrosenbrock_vector, rng.standard_normal(3))

# A function written without autodiffsource in mind is differentiated by a plain call:
δ(rosenbrock)
value, back_r = δrosenbrock(np.array([0.5, 1.0]), np.array([0.2, 0.7]))
assert checkdiff(rosenbrock, δrosenbrock, rng.standard_normal(4), rng.standard_normal(4))


# ---- Arguments you do not need to differentiate -----------------------------------------------------------

@δ
def f4(x, c):
    return np.sum(c * x)


x, c = rng.standard_normal(5), rng.standard_normal(5)
z, back4 = δf4_const2(x, c)  # argument #2 is constant
dx = back4()  # the derivative of c is not calculated
assert np.allclose(dx, c)


# ---- Training an autoencoder ----------------------------------------------------------------------------------

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def autoencoder(We1, We2, Wd, b1, b2, input):
    firstLayer = sigmoid(We1 @ input + b1)
    encodedInput = sigmoid(We2 @ firstLayer + b2)
    reconstructedInput = sigmoid(Wd @ encodedInput)
    return reconstructedInput


@δ
def autoencoderError(We1, We2, Wd, b1, b2, input):
    reconstructedInput = autoencoder(We1, We2, Wd, b1, b2, input)
    return np.sum((input - reconstructedInput) ** 2)


assert checkdiff(autoencoderError, δautoencoderError,
                 rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.random((3, 3)),
                 rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3))

We1, We2, Wd = rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.random((3, 3))
b1, b2, input = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)
value, back_ae = δautoencoderError_const6(We1, We2, Wd, b1, b2, input)
dWe1, dWe2, dWd, db1, db2 = back_ae()
assert dWe1.shape == (3, 3) and db2.shape == (3,)

print("readme_tour: every README example ran and checked out")
