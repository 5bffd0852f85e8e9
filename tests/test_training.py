"""``python -m eigen_autodiff train``: the digits network trains, and says what it needs."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from eigen_autodiff._cli import main
from eigen_autodiff._training import Network, softmax_cross_entropy, train

needs_examples = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("sklearn", "tqdm")),
    reason="needs the examples extra: pip install scikit-learn tqdm",
)


@pytest.mark.parametrize(
    ("hidden", "argv", "expected"),
    [
        (("sklearn", "tqdm"), [], "pip install scikit-learn tqdm"),
        (("tqdm",), [], "pip install tqdm"),
        (("matplotlib",), ["--plot", "never.png"], "pip install matplotlib"),
    ],
)
def test_missing_requirements_are_named_with_the_pip_command(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    hidden: tuple[str, ...],
    argv: list[str],
    expected: str,
) -> None:
    # find_spec reports a module missing when sys.modules holds None for it, and present when
    # it holds a module with a spec: the outcome does not depend on what is installed here.
    for name in ("sklearn", "tqdm", "matplotlib"):
        if name in hidden:
            monkeypatch.setitem(sys.modules, name, None)
        elif name not in sys.modules:
            present = types.ModuleType(name)
            present.__spec__ = importlib.machinery.ModuleSpec(name, None)
            monkeypatch.setitem(sys.modules, name, present)
    assert main(["train", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().endswith(expected)
    assert "Traceback" not in err


def test_backpropagation_through_the_layers_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    network = Network.glorot(6, 5, 3, rng)
    for name in ("w1", "b1", "w2", "b2"):  # float64, and nonzero biases
        setattr(network, name, getattr(network, name).astype(np.float64) + 0.1)
    x = rng.standard_normal((7, 6))
    labels = rng.integers(0, 3, 7)
    _, _, gradients = network.gradients(x, labels)
    directions = [rng.standard_normal(p.shape) for p in network.parameters()]

    def loss_along(t: float) -> float:
        shifted = Network(*(p + t * d for p, d in zip(network.parameters(), directions)))
        return softmax_cross_entropy(shifted.logits(x), labels)[0]

    step = 1e-5
    numerical = (loss_along(step) - loss_along(-step)) / (2 * step)
    analytic = sum(float(np.sum(g * d)) for g, d in zip(gradients, directions))
    assert analytic == pytest.approx(numerical, rel=1e-7)


@needs_examples
def test_short_training_lowers_the_loss_and_reports_the_accuracy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, history = train(epochs=3, seed=1, progress=False)
    assert history.train_loss[2] < history.train_loss[1] < history.train_loss[0]
    assert history.test_accuracy[-1] > 0.8

    assert main(["train", "--epochs", "2", "--seed", "1"]) == 0
    out, err = capsys.readouterr()
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(r"test accuracy [01]\.\d\d", last), last
    assert "epoch 2/2" in err  # the progress bar
    assert "test_acc=" in err


@needs_examples
def test_plot_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "training.png"
    assert main(["train", "--epochs", "2", "--plot", str(path)]) == 0
    assert path.read_bytes().startswith(b"\x89PNG")
    assert f"plot written to {path}" in capsys.readouterr().out


@needs_examples
def test_defaults_reach_95_percent_within_a_minute() -> None:
    _, history = train(progress=False)
    assert history.test_accuracy[-1] >= 0.95
    assert history.seconds < 60


README = Path(__file__).resolve().parent.parent / "README.md"


@needs_examples
def test_the_readme_training_command_prints_what_the_readme_shows(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    text = README.read_text(encoding="utf-8")
    command = re.search(r"&& (python -m eigen_autodiff train[^\n`]*)", text)
    assert command, "the README shows no training command"
    shown = re.search(r"```text\n(epoch 1/.*?)```", text, re.DOTALL)
    assert shown, "the README shows no training output"
    args = command.group(1).split()
    result = subprocess.run(
        [sys.executable, *args[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    shown_lines = shown.group(1).strip().splitlines()
    # The same lines, bar the measured numbers (time; a different CPU may round apart).

    def shape(line: str) -> str:
        return re.sub(r"\d+\.\d+", "#", line)

    assert [shape(line) for line in lines] == [
        shape(line) for line in shown_lines if not line.startswith(("epoch", "..."))
    ]
    assert re.fullmatch(r"test accuracy (0\.9[5-9]|1\.00)", lines[-1]), lines[-1]
    assert (tmp_path / "training.png").read_bytes().startswith(b"\x89PNG")
