"""``autodiffsource demo``: the seed's autoencoder, trained through its generated gradient.

The model and loss below are the seed's (AutoDiffSource.jl's README), written in Python: three sigmoid
layers, and the squared reconstruction error ``autoencoderError``. ``@δ`` generates
``δautoencoderError_const6`` (the sixth argument, the input batch, is a constant), whose pullback gives
the five weight partials. The demo first checks that pullback against finite differences (``checkdiff``)
on the seed's 3x3 instance, then trains on the 8x8 handwritten digits that ship inside scikit-learn (no
download) with minibatch Adam (or plain SGD) written in NumPy, and saves originals beside their
reconstructions and the loss curve to a PNG.

Contract: :func:`run` returns a :class:`DemoResult` (losses per epoch, wall time, the PNG path) and prints
progress unless ``quiet``; nothing here is imported by the library itself.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from .api import δ
from .check import checkdiff


# ---- the seed's model, as the seed wrote it ------------------------------------------------------------

def sigmoid(x):
    """The logistic function, elementwise.

    >>> float(sigmoid(0.0))
    0.5
    """
    return 1 / (1 + np.exp(-x))


def autoencoder(We1, We2, Wd, b1, b2, input):
    """Encode ``input`` (features x samples) to a small code and decode it back, all sigmoid layers.

    >>> x = np.zeros((4, 2))
    >>> autoencoder(np.zeros((3, 4)), np.zeros((2, 3)), np.zeros((4, 2)), np.zeros((3, 1)),
    ...             np.zeros((2, 1)), x).shape
    (4, 2)
    """
    firstLayer = sigmoid(We1 @ input + b1)
    encodedInput = sigmoid(We2 @ firstLayer + b2)
    reconstructedInput = sigmoid(Wd @ encodedInput)
    return reconstructedInput


@δ
def autoencoderError(We1, We2, Wd, b1, b2, input):
    """Squared reconstruction error summed over every pixel of every sample.

    ``@δ`` binds ``δautoencoderError`` and ``δautoencoderError_const6`` (input constant) beside it.

    >>> x = np.full((4, 1), 0.5)
    >>> float(autoencoderError(np.zeros((3, 4)), np.zeros((2, 3)), np.zeros((4, 2)), np.zeros((3, 1)),
    ...                        np.zeros((2, 1)), x))
    0.0
    """
    reconstructedInput = autoencoder(We1, We2, Wd, b1, b2, input)
    return np.sum((input - reconstructedInput) ** 2)


# ---- training -----------------------------------------------------------------------------------------

@dataclasses.dataclass
class DemoResult:
    """What one run of the demo measured."""

    train_loss: list[float]  # mean squared error per digit, averaged over each epoch's minibatches
    test_loss: list[float]  # the same on held-out digits, after each epoch
    seconds: float  # wall time of the training loop alone
    steps: int
    output: str | None


def load_digits_columns(dtype=np.float64, seed: int = 0, n_test: int = 297, labels: bool = False):
    """scikit-learn's 1797 handwritten 8x8 digits scaled to [0, 1], one digit per column.

    Returns ``(train, test)``, or ``(train, test, test_labels)`` when ``labels``.

    >>> train, test = load_digits_columns()
    >>> train.shape, test.shape, float(train.max()) <= 1.0
    ((64, 1500), (64, 297), True)
    """
    data, target = _digits()
    order = np.random.default_rng(seed).permutation(len(data))
    images = data[order].astype(dtype) / dtype(16.0)
    split = (np.ascontiguousarray(images[n_test:].T), np.ascontiguousarray(images[:n_test].T))
    return (*split, target[order][:n_test]) if labels else split


def _digits():
    """``(data, target)`` of ``sklearn.datasets.load_digits()``.

    Read straight from the CSV that ships inside scikit-learn when it is where scikit-learn keeps it:
    importing ``sklearn.datasets`` costs seconds, more than the whole training on a busy machine.
    """
    import importlib.util
    import os

    spec = importlib.util.find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "datasets", "data", "digits.csv.gz")
        if os.path.isfile(path):
            table = np.loadtxt(path, delimiter=",")
            return table[:, :-1], table[:, -1].astype(int)
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data, digits.target


def init_weights(sizes: tuple[int, int], n_inputs: int = 64, dtype=np.float64, seed: int = 0):
    """Small random weights ``(We1, We2, Wd, b1, b2)`` for hidden sizes ``sizes``, scaled by fan-in.

    >>> [w.shape for w in init_weights((32, 16))]
    [(32, 64), (16, 32), (64, 16), (32, 1), (16, 1)]
    """
    rng = np.random.default_rng(seed)
    h1, h2 = sizes

    def layer(rows, cols):
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(dtype)

    return [layer(h1, n_inputs), layer(h2, h1), layer(n_inputs, h2),
            np.zeros((h1, 1), dtype), np.zeros((h2, 1), dtype)]


class Adam:
    """Adam (Kingma & Ba, 2015) over a list of arrays, updated in place.

    >>> w = [np.array([1.0])]
    >>> opt = Adam(w, lr=0.1)
    >>> opt.step([np.array([2.0])]); w[0].round(6).tolist()
    [0.9]
    """

    def __init__(self, params, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params, self.lr, self.beta1, self.beta2, self.eps = params, lr, beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads) -> None:
        """Move every parameter against its gradient."""
        self.t += 1
        # Bias corrections folded into the step size, as in the paper's efficient version.
        scale = self.lr * np.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= (scale * m / (np.sqrt(v) + self.eps)).astype(p.dtype, copy=False)


class SGD:
    """Plain stochastic gradient descent, in place.

    >>> w = [np.array([1.0])]
    >>> SGD(w, lr=0.1).step([np.array([2.0])]); w[0].tolist()
    [0.8]
    """

    def __init__(self, params, lr=0.1):
        self.params, self.lr = params, lr

    def step(self, grads) -> None:
        """Move every parameter against its gradient."""
        for p, g in zip(self.params, grads, strict=True):
            p -= self.lr * g


def check_gradient(seed: int = 0) -> bool:
    """The seed's ``checkdiff`` on its 3x3 instance, then the batch layout the training loop uses.

    >>> check_gradient()
    True
    """
    rng = np.random.default_rng(seed)
    r = rng.standard_normal
    assert checkdiff(autoencoderError, δautoencoderError,  # noqa: F821 (bound by @δ)
                     r((3, 3)), r((3, 3)), rng.random((3, 3)), r(3), r(3), r(3))
    weights = init_weights((4, 3), n_inputs=5, seed=seed)
    weights[3] += r((4, 1))
    weights[4] += r((3, 1))
    assert checkdiff(autoencoderError, δautoencoderError_const6,  # noqa: F821 (bound by @δ)
                     *weights, rng.random((5, 7)))
    return True


def _progress(quiet: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(quiet=quiet, highlight=False)
    progress = Progress(TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("loss {task.fields[loss]}"), TimeElapsedColumn(),
                        console=console, transient=True, disable=quiet or not console.is_terminal)
    return console, progress


def train(epochs: int = 60, hidden: tuple[int, int] = (64, 32), batch_size: int = 32, lr: float | None = None,
          optimizer: str = "adam", dtype=np.float64, seed: int = 0, quiet: bool = False):
    """Train the autoencoder on the digits; returns ``(weights, train_loss, test_loss, seconds, steps)``.

    Each step calls ``δautoencoderError_const6`` once: the loss and a pullback whose call gives the five
    weight partials.

    >>> _, train_loss, test_loss, _, steps = train(epochs=2, hidden=(8, 4), quiet=True)
    >>> steps, train_loss[1] < train_loss[0]
    (94, True)
    """
    train_x, test_x = load_digits_columns(dtype, seed)
    weights = init_weights(hidden, train_x.shape[0], dtype, seed)
    if optimizer == "adam":
        opt = Adam(weights, lr=0.01 if lr is None else lr)
    elif optimizer == "sgd":
        opt = SGD(weights, lr=1.0 if lr is None else lr)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose 'adam' or 'sgd'")
    rng = np.random.default_rng(seed + 1)
    n = train_x.shape[1]
    batches = [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
    console, progress = _progress(quiet)
    train_loss, test_loss, steps = [], [], 0
    start = time.perf_counter()
    with progress:  # transient: each epoch's bar is replaced by its summary line
        for epoch in range(1, epochs + 1):
            shuffled = train_x[:, rng.permutation(n)]
            task = progress.add_task("", total=len(batches), epoch=f"{epoch}/{epochs}", loss="-")
            total = 0.0
            for batch in batches:
                x = shuffled[:, batch]
                loss, pullback = δautoencoderError_const6(*weights, x)  # noqa: F821 (bound by @δ)
                grads = pullback()
                opt.step([g / x.shape[1] for g in grads])  # mean over the batch: lr independent of size
                total += float(loss)
                steps += 1
                progress.update(task, advance=1, loss=f"{float(loss) / x.shape[1]:.3f}")
            progress.remove_task(task)
            train_loss.append(total / n)
            test_loss.append(float(autoencoderError(*weights, test_x)) / test_x.shape[1])
            console.print(f"epoch {epoch:>3}/{epochs}  train loss {train_loss[-1]:8.4f}  "
                          f"test loss {test_loss[-1]:8.4f}  ({time.perf_counter() - start:5.1f} s)")
    seconds = time.perf_counter() - start
    return weights, train_loss, test_loss, seconds, steps


def save_figure(path: str, weights, train_loss, test_loss, dtype=np.float64, seed: int = 0, n: int = 10) -> str:
    """Held-out digits above their reconstructions, and the loss curves below; returns ``path``.

    >>> import os, tempfile
    >>> out = os.path.join(tempfile.mkdtemp(), "ae.png")
    >>> path = save_figure(out, init_weights((8, 4)), [3.0, 2.0], [3.1, 2.2])
    >>> os.path.getsize(path) > 0
    True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, test_x, test_labels = load_digits_columns(dtype, seed, labels=True)
    # One held-out digit of each class 0-9 (the first n columns would repeat classes).
    picks = [int(np.flatnonzero(test_labels == d)[0]) for d in range(10) if np.any(test_labels == d)][:n]
    n = len(picks)
    originals = test_x[:, picks]
    rebuilt = autoencoder(*weights, originals)
    fig = plt.figure(figsize=(n * 0.8, 5.6))
    grid = fig.add_gridspec(3, n, height_ratios=(1, 1, 2.6), hspace=0.12)
    for row, (images, label) in enumerate(((originals, "original"), (rebuilt, "reconstructed"))):
        for col in range(n):
            ax = fig.add_subplot(grid[row, col])
            ax.imshow(images[:, col].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(label, fontsize=8)
    ax = fig.add_subplot(grid[2, :])
    epochs = np.arange(1, len(train_loss) + 1)
    ax.plot(epochs, train_loss, marker="o", markersize=3, label="train")
    ax.plot(epochs, test_loss, marker="s", markersize=3, label="held-out")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("squared error per digit")
    ax.set_title("autoencoderError trained through δautoencoderError_const6", fontsize=10)
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def run(epochs: int = 60, hidden: tuple[int, int] = (64, 32), batch_size: int = 32, lr: float | None = None,
        optimizer: str = "adam", float32: bool = False, output: str | None = "autoencoder.png", seed: int = 0,
        quiet: bool = False) -> DemoResult:
    """The whole demo: gradient check, training, figure. Prints progress unless ``quiet``.

    >>> result = run(epochs=2, hidden=(8, 4), output=None, quiet=True)
    >>> result.steps, result.train_loss[-1] < result.train_loss[0]
    (94, True)
    """
    from rich.console import Console

    console = Console(quiet=quiet, highlight=False)
    dtype = np.float32 if float32 else np.float64
    console.print("[bold]autodiffsource demo[/bold]: the seed's autoencoder on scikit-learn's 8x8 digits")
    check_gradient(seed)
    console.print("checkdiff: δautoencoderError matches finite differences")
    console.print(f"training 64 -> {hidden[0]} -> {hidden[1]} -> 64 sigmoid layers, {optimizer}, "
                  f"batch {batch_size}, {'float32' if float32 else 'float64'}, {epochs} epochs")
    weights, train_loss, test_loss, seconds, steps = train(
        epochs, hidden, batch_size, lr, optimizer, dtype, seed, quiet)
    if output:
        save_figure(output, weights, train_loss, test_loss, dtype, seed)
    return DemoResult(train_loss, test_loss, seconds, steps, output)
