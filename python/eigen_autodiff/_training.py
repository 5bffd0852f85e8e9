"""``python -m eigen_autodiff train``: a two-layer network fitted to handwritten digits.

The network is two of the library's layers, ``tanh(x @ W1 + b1)`` then ``h @ W2 + b2``,
trained on the 8x8 digits that ship inside scikit-learn (no download) with a softmax
cross-entropy and Adam. Every layer's forward pass is ``ead.forward`` and its backward pass
``ead.vjp``, so the gradients come from the C++ core; the loss and the optimizer are the few
lines of NumPy below. Needs scikit-learn and tqdm (and matplotlib for ``--plot``):
``pip install "eigen-autodiff[examples]"``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._layer import forward, vjp

Array = NDArray[np.float32]

# Module name -> the name pip installs it by.
REQUIREMENTS = {"sklearn": "scikit-learn", "tqdm": "tqdm"}
PLOT_REQUIREMENTS = {"matplotlib": "matplotlib"}
# The test set is the same for every --seed: 20% of the digits, drawn once by this seed.
SPLIT_SEED = 0


@dataclass
class History:
    """Per-epoch training loss and accuracy and test accuracy; the training time in seconds."""

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Network:
    """``logits = tanh(x @ w1 + b1) @ w2 + b2``, float32 parameters."""

    w1: Array
    b1: Array
    w2: Array
    b2: Array

    @classmethod
    def glorot(cls, inputs: int, hidden: int, classes: int, rng: np.random.Generator) -> Network:
        """Kernels drawn Glorot-uniform and zero biases, as Keras' Dense starts."""

        def kernel(n: int, m: int) -> Array:
            limit = np.sqrt(6.0 / (n + m))
            return rng.uniform(-limit, limit, (n, m)).astype(np.float32)

        return cls(
            kernel(inputs, hidden),
            np.zeros(hidden, np.float32),
            kernel(hidden, classes),
            np.zeros(classes, np.float32),
        )

    def parameters(self) -> list[Array]:
        """The parameters in the order of ``gradients``' result."""
        return [self.w1, self.b1, self.w2, self.b2]

    def logits(self, x: Array) -> Array:
        """The class scores for the images ``x`` (one row each)."""
        hidden = forward(x, self.w1, "tanh", self.b1)
        return forward(hidden, self.w2, "identity", self.b2)

    def gradients(self, x: Array, labels: NDArray[np.intp]) -> tuple[float, float, list[Array]]:
        """Mean cross-entropy, accuracy and the loss's gradients by the layers' VJPs."""
        hidden = forward(x, self.w1, "tanh", self.b1)
        logits = forward(hidden, self.w2, "identity", self.b2)
        loss, probabilities = softmax_cross_entropy(logits, labels)
        # d(mean cross-entropy)/d(logits): softmax minus the one-hot labels, over the batch.
        d_logits = probabilities
        d_logits[np.arange(len(labels)), labels] -= 1.0
        d_logits /= len(labels)
        d_hidden, d_w2, d_b2 = vjp(
            hidden, self.w2, "identity", d_logits, bias=self.b2, wrt=("x", "w", "b")
        )
        d_w1, d_b1 = vjp(x, self.w1, "tanh", d_hidden, bias=self.b1, wrt=("w", "b"))
        accuracy = float(np.mean(np.argmax(logits, axis=1) == labels))
        return loss, accuracy, [d_w1, d_b1, d_w2, d_b2]


def softmax_cross_entropy(
    logits: Array, labels: NDArray[np.intp]
) -> tuple[float, NDArray[np.float32]]:
    """The mean cross-entropy of ``labels`` under ``softmax(logits)``, and the softmax."""
    shifted = logits - logits.max(axis=1, keepdims=True)  # exp cannot overflow
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -float(np.mean(log_probabilities[np.arange(len(labels)), labels]))
    return loss, np.exp(log_probabilities).astype(np.float32)


class Adam:
    """Adam (Kingma and Ba), updating the arrays it was given in place."""

    def __init__(self, parameters: list[Array], lr: float = 0.01) -> None:
        self.parameters, self.lr, self.step = parameters, lr, 0
        self.beta1, self.beta2, self.eps = 0.9, 0.999, 1e-8
        self.m = [np.zeros_like(p) for p in parameters]
        self.v = [np.zeros_like(p) for p in parameters]

    def update(self, gradients: Sequence[Array]) -> None:
        """One step against ``gradients`` (same order and shapes as the parameters)."""
        self.step += 1
        for p, g, m, v in zip(self.parameters, gradients, self.m, self.v):
            m += (1 - self.beta1) * (g - m)
            v += (1 - self.beta2) * (g * g - v)
            m_hat = m / (1 - self.beta1**self.step)
            v_hat = v / (1 - self.beta2**self.step)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def load_digits_split() -> tuple[Array, NDArray[np.intp], Array, NDArray[np.intp]]:
    """scikit-learn's 1797 digits, pixels scaled to [0, 1], split 80/20 stratified."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    labels = digits.target.astype(np.intp)
    x_train, x_test, y_train, y_test = train_test_split(
        x, labels, test_size=0.2, random_state=SPLIT_SEED, stratify=labels
    )
    return x_train, y_train, x_test, y_test


def batches(size: int, batch_size: int, rng: np.random.Generator) -> Iterator[NDArray[np.intp]]:
    """The indices of one epoch, shuffled, in batches of ``batch_size`` (the last may be short)."""
    order = rng.permutation(size)
    for start in range(0, size, batch_size):
        yield order[start : start + batch_size]


def train(
    epochs: int = 30,
    seed: int = 0,
    hidden: int = 64,
    batch_size: int = 32,
    lr: float = 0.005,
    progress: bool = True,
) -> tuple[Network, History]:
    """Fits the network to the training digits; the history holds every epoch's metrics.

    Example:
        >>> from eigen_autodiff._training import train
        >>> network, history = train(epochs=2, progress=False)
        >>> history.train_loss[1] < history.train_loss[0], history.test_accuracy[-1] > 0.8
        (True, True)

    """
    from tqdm import tqdm

    x_train, y_train, x_test, y_test = load_digits_split()
    rng = np.random.default_rng(seed)
    network = Network.glorot(x_train.shape[1], hidden, int(y_train.max()) + 1, rng)
    optimizer = Adam(network.parameters(), lr=lr)
    history = History()
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        losses, accuracies, counts = [], [], []
        epoch_batches = list(batches(len(x_train), batch_size, rng))
        with tqdm(
            total=len(epoch_batches),
            desc=f"epoch {epoch}/{epochs}",
            disable=not progress,
            file=sys.stderr,
        ) as bar:
            for index in epoch_batches:
                loss, accuracy, gradients = network.gradients(x_train[index], y_train[index])
                optimizer.update(gradients)
                losses.append(loss)
                accuracies.append(accuracy)
                counts.append(len(index))
                # Redrawn at tqdm's pace, not per batch: a log file gets a few lines per epoch.
                bar.set_postfix(
                    loss=f"{np.average(losses, weights=counts):.4f}",
                    acc=f"{np.average(accuracies, weights=counts):.3f}",
                    refresh=False,
                )
                bar.update()
            test_loss, _ = softmax_cross_entropy(network.logits(x_test), y_test)
            history.train_loss.append(float(np.average(losses, weights=counts)))
            history.train_accuracy.append(float(np.average(accuracies, weights=counts)))
            history.test_loss.append(test_loss)
            history.test_accuracy.append(accuracy_of(network, x_test, y_test))
            bar.set_postfix(
                loss=f"{history.train_loss[-1]:.4f}",
                acc=f"{history.train_accuracy[-1]:.3f}",
                test_acc=f"{history.test_accuracy[-1]:.3f}",
            )
    history.seconds = time.perf_counter() - started
    return network, history


def accuracy_of(network: Network, x: Array, labels: NDArray[np.intp]) -> float:
    """The fraction of ``x`` the network classifies as ``labels``."""
    return float(np.mean(np.argmax(network.logits(x), axis=1) == labels))


def plot_history(history: History, path: str | Path) -> Path:
    """Loss and accuracy per epoch, training and test, saved as a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history.train_loss) + 1)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(epochs, history.train_loss, label="training")
    left.plot(epochs, history.test_loss, label="test")
    left.set_xlabel("epoch")
    left.set_ylabel("cross-entropy")
    left.set_yscale("log")
    left.legend()
    right.plot(epochs, history.train_accuracy, label="training")
    right.plot(epochs, history.test_accuracy, label="test")
    right.set_xlabel("epoch")
    right.set_ylabel("accuracy")
    right.legend()
    figure.suptitle("Digits, two eigen_autodiff layers, gradients by ead.vjp")
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path


def missing_requirements(plot: bool) -> list[str]:
    """The pip names of the packages the command needs and cannot import."""
    needed = {**REQUIREMENTS, **(PLOT_REQUIREMENTS if plot else {})}
    return [pip for module, pip in needed.items() if importlib.util.find_spec(module) is None]


def add_train_parser(commands: Any) -> None:
    """Adds the ``train`` command to the subparsers ``commands``."""
    parser = commands.add_parser(
        "train",
        help="train a two-layer network of the library's layers on handwritten digits",
        description=(
            "Fit tanh(x @ W1 + b1) @ W2 + b2 to scikit-learn's 8x8 handwritten digits (80/20 "
            "split, no download) with a softmax cross-entropy and Adam; every gradient is "
            "ead.vjp, computed in C++. Needs scikit-learn and tqdm (and matplotlib for --plot): "
            "pip install 'eigen-autodiff[examples]'."
        ),
    )
    parser.add_argument(
        "--epochs", dest="train_epochs", type=int, default=30, help="passes over the data (30)"
    )
    parser.add_argument(
        "--seed",
        dest="train_seed",
        type=int,
        default=0,
        help="seed of the initial weights and the batch order (default: 0)",
    )
    parser.add_argument(
        "--plot", dest="train_plot", metavar="FILE.png", help="draw loss and accuracy per epoch"
    )


def train_command(args: argparse.Namespace) -> int:
    """Runs ``train``: 0 after training, 2 when a requirement is missing or an option is bad."""
    missing = missing_requirements(plot=args.train_plot is not None)
    if missing:
        print(
            f"python -m eigen_autodiff train needs {' and '.join(missing)}: "
            f"pip install {' '.join(missing)}",
            file=sys.stderr,
        )
        return 2
    if args.train_epochs < 1:
        print("python -m eigen_autodiff train: --epochs must be at least 1", file=sys.stderr)
        return 2
    _, history = train(epochs=args.train_epochs, seed=args.train_seed)
    print(
        f"{args.train_epochs} epochs in {history.seconds:.1f} s: training loss "
        f"{history.train_loss[-1]:.4f}, accuracy {history.train_accuracy[-1]:.4f}"
    )
    if args.train_plot:
        print(f"plot written to {plot_history(history, args.train_plot)}")
    print(f"test accuracy {history.test_accuracy[-1]:.2f}")
    return 0
