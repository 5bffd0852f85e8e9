"""Command line: ``python -m eigen_autodiff [--seed N] [--dtype float32|float64]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ._walkthrough import walkthrough


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m eigen_autodiff``."""
    parser = argparse.ArgumentParser(
        prog="python -m eigen_autodiff",
        description=(
            "Walk through the article 'Automatic differentiation in Python and C++ for deep "
            "learning': the sigmoid at 2, the custom layer Y = sin(X @ W) with the loss "
            "sum(Y**2) and its gradients computed in C++ by Eigen's AutoDiff (each shown beside "
            "an independent NumPy reference), and 1/exp(x) at x = 100, where the naive "
            "derivative breaks."
        ),
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the random kernel W, drawn like Keras' default initializer (default: 0)",
    )
    parser.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default="float32",
        help="floating-point type of the layer, as TensorFlow's default float32 (default: float32)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    print(walkthrough(seed=args.seed, dtype=args.dtype))
    return 0
