"""The seed's autoencoder: check the gradient, then train it with plain gradient descent in float32.

`autoencoder` and `sigmoid` are ordinary functions, differentiated through their source because
`autoencoderError` calls them. `δautoencoderError_const6` treats the input as a constant, so only the
five weight partials are computed; float32 weights get float32 partials.
"""

import numpy as np

from autodiffsource import checkdiff, δ


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


rng = np.random.default_rng(42)
assert checkdiff(autoencoderError, δautoencoderError,
                 rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.random((3, 3)),
                 rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3))

# Train on 8-dimensional inputs in (0, 1) squeezed through a 3-unit code.
n_in, n_hidden, n_code = 8, 6, 3
data = rng.random((200, n_in)).astype(np.float32) * 0.8 + 0.1
weights = [
    (rng.standard_normal((n_hidden, n_in)) * 0.5).astype(np.float32),
    (rng.standard_normal((n_code, n_hidden)) * 0.5).astype(np.float32),
    (rng.standard_normal((n_in, n_code)) * 0.5).astype(np.float32),
    np.zeros(n_hidden, np.float32),
    np.zeros(n_code, np.float32),
]


def mean_error(weights):
    return float(np.mean([autoencoderError(*weights, sample) for sample in data]))


before = mean_error(weights)
learning_rate = np.float32(0.5)
for epoch in range(15):
    for sample in data:
        _, back = δautoencoderError_const6(*weights, sample)
        partials = back()
        assert all(p.dtype == np.float32 and p.shape == w.shape for p, w in zip(partials, weights))
        weights = [w - learning_rate * p for w, p in zip(weights, partials)]
after = mean_error(weights)
assert all(w.dtype == np.float32 for w in weights)
assert after < 0.7 * before, (before, after)
print(f"autoencoder: mean reconstruction error {before:.4f} -> {after:.4f} after 15 epochs (float32)")
