"""Command line: the article's walkthrough, and ``diagnose EXPR --at X``.

``python -m eigen_autodiff [--seed N] [--dtype float32|float64]`` walks through the article;
``python -m eigen_autodiff diagnose "1/exp(x)" --at 100 [--dtype ...] [--plot FILE.png]``
finds where an activation's AD derivative is wrong and why.
"""

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
            "derivative breaks. With the command 'diagnose', find where any activation's "
            "derivative goes wrong."
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
    commands = parser.add_subparsers(dest="command", metavar="command")
    from ._primitives import __all__ as functions

    diagnose = commands.add_parser(
        "diagnose",
        help="find the points where an activation's AD derivative is wrong, and why",
        description=(
            "Evaluate the activation EXPR (an expression in x: + - * / **, numbers, pi, e, and "
            f"{' '.join(functions)}; or the name of a built-in activation) with its AD "
            "derivative at the given points, compare with finite differences, and name the "
            "operation that went wrong. Exit status 1 if any point fails."
        ),
    )
    diagnose.add_argument("expression", metavar="EXPR", help='e.g. "1/exp(x)" or inv_exp')
    diagnose.add_argument(
        "--at", type=float, nargs="+", required=True, metavar="X", help="the points to check"
    )
    diagnose.add_argument(
        "--dtype",
        dest="diagnose_dtype",
        choices=("float32", "float64", "both"),
        default="both",
        help="floating-point type(s) to evaluate in (default: both)",
    )
    diagnose.add_argument(
        "--plot",
        metavar="FILE.png",
        help="also draw value, AD and finite-difference derivatives around the points "
        "(needs matplotlib: pip install 'eigen-autodiff[plot]')",
    )
    from eigen_autodiff._training import add_train_parser

    add_train_parser(commands)
    return parser


def _diagnose_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ._activations import ACTIVATIONS
    from ._diagnose import diagnose
    from ._expression import ExpressionError, parse_activation

    text = args.expression.strip()
    try:
        activation = text if text in ACTIVATIONS else parse_activation(text)
    except ExpressionError as error:
        parser.error(str(error))
    dtypes = ("float32", "float64") if args.diagnose_dtype == "both" else (args.diagnose_dtype,)
    report = diagnose(activation, args.at, dtypes=dtypes)
    print(repr(report))
    if args.plot:
        from ._plot import plot_diagnosis

        low, high = min(args.at), max(args.at)
        margin = max(1.0, 0.25 * (high - low))
        path = plot_diagnosis(activation, low - margin, high + margin, args.plot, dtypes[0])
        print(f"plot written to {path}")
    return 0 if report.passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "diagnose":
        return _diagnose_command(args, parser)
    if args.command == "train":
        from eigen_autodiff._training import train_command

        return train_command(args)
    print(walkthrough(seed=args.seed, dtype=args.dtype))
    return 0
