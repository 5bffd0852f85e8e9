"""Command line: the article's walkthrough, and ``diagnose EXPR --at X``.

``python -m eigen_autodiff [--seed N] [--dtype float32|float64]`` walks through the article;
``python -m eigen_autodiff diagnose "1/exp(x)" --at 100 [--dtype ...] [--plot FILE.png]``
finds where an activation's AD derivative is wrong and why;
``python -m eigen_autodiff --cmake-dir`` and ``--include`` print where the C++ library is;
``--version`` prints the version and the instruction sets compiled and chosen.

Exit status: 0 when the diagnosis passed (notes on documented conventions do not count), 1 when
it found failures, 2 for bad input (an expression, a point or a plot path that cannot be used),
with a one-line error after the command's usage and no traceback.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from .walkthrough import walkthrough


def _point(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text.strip()!r} is not a number (numbers such as -1e5, nan, inf, -inf are)"
        ) from None


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(f"{text.strip()!r} is not a non-negative integer")
    return seed


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
        type=_seed,
        default=0,
        help="seed of the random kernel W, drawn like Keras' default initializer (default: 0)",
    )
    parser.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default="float32",
        help="floating-point type of the layer, as TensorFlow's default float32 (default: float32)",
    )
    # For C++ users of the pip package, as pybind11's: -Deigen_autodiff_DIR=$(... --cmake-dir).
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--cmake-dir",
        action="store_true",
        help="print the folder of eigen_autodiffConfig.cmake (for -Deigen_autodiff_DIR=) and exit",
    )
    where.add_argument(
        "--version",
        action="store_true",
        help="print the version, the instruction sets compiled and the one chosen, and exit",
    )
    where.add_argument(
        "--include",
        action="store_true",
        help="print the folder of the C++ headers (for -I) and exit",
    )
    commands = parser.add_subparsers(dest="command", metavar="command")
    from .._tracing.primitives import __all__ as functions

    diagnose = commands.add_parser(
        "diagnose",
        help="find the points where an activation's AD derivative is wrong, and why",
        description=(
            "Evaluate the activation EXPR (an expression in x: + - * / **, numbers, pi, e, and "
            f"{' '.join(functions)}; or the name of a built-in activation) with its AD "
            "derivative at the given points, compare with finite differences, and name the "
            "operation that went wrong. Points where a documented convention applies "
            "(relu'(0) = 0, abs'(0) = 1, sqrt'(0) = +inf) are listed as notes. Exit status: 0 "
            "if every point passed, 1 if any failed, 2 for bad input."
        ),
    )
    diagnose.add_argument("expression", metavar="EXPR", help='e.g. "1/exp(x)" or inv_exp')
    diagnose.add_argument(
        "--at",
        type=_point,
        nargs="+",
        required=True,
        metavar="X",
        help="the points to check (negative numbers, nan, inf and -inf included)",
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
        "(needs matplotlib: pip install matplotlib); without an extension, .png is added",
    )
    diagnose.set_defaults(diagnose_parser=diagnose)
    from .._training import add_train_parser

    add_train_parser(commands)
    return parser


def _looks_like_an_option(token: str) -> bool:
    # The program's options are all long, besides -h.
    return token.startswith("--") or token == "-h"


def _negative_values_as_values(argv: Sequence[str]) -> list[str]:
    # argparse takes "-1e5", "-inf" and an expression such as "-x" for options. A leading space
    # makes a token a value to argparse; float(), int() and the expression parser ignore it.
    return [
        f" {token}" if token.startswith("-") and not _looks_like_an_option(token) else token
        for token in argv
    ]


def _diagnose_command(args: argparse.Namespace) -> int:
    from .._diagnostics.diagnose import diagnose
    from .._diagnostics.plot import PlotPathError, checked_plot_path, plot_diagnosis
    from .._tracing.activation_spec import ACTIVATIONS
    from .._tracing.expression import ExpressionError, parse_activation

    parser: argparse.ArgumentParser = args.diagnose_parser
    text = args.expression.strip()
    try:
        activation = text if text in ACTIVATIONS else parse_activation(text)
    except ExpressionError as error:
        parser.error(str(error))
    path: Path | None = None
    if args.plot is not None:
        # Checked before the diagnosis, so that a bad path costs no work and no lost report.
        try:
            path = checked_plot_path(args.plot)
        except PlotPathError as error:
            parser.error(str(error))
    dtypes = ("float32", "float64") if args.diagnose_dtype == "both" else (args.diagnose_dtype,)
    report = diagnose(activation, args.at, dtypes=dtypes)
    print(repr(report))
    if path is not None:
        # The range drawn: around the finite points (nan and inf have no place on an axis).
        finite = [point for point in args.at if math.isfinite(point)] or [0.0]
        low, high = min(finite), max(finite)
        margin = min(max(1.0, 0.25 * (high - low)), 1e300)
        try:
            written = plot_diagnosis(activation, low - margin, high + margin, path, dtypes[0])
        except (OSError, ValueError) as error:
            print(f"{parser.prog}: error: cannot draw the plot: {error}", file=sys.stderr)
            return 2
        print(f"plot written to {written}")
    return 0 if report.passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status (0 passed, 1 failures found, 2 bad input).

    Example:
        >>> from eigen_autodiff._cli import main
        >>> main(["diagnose", "tanh(x) * 2", "--at", "-1e5", "0", "nan", "--dtype", "float64"])
        Diagnosis(tanh(x) * 2: 3 points x float64: passed)
        0

    """
    parser = build_parser()
    args = parser.parse_args(_negative_values_as_values(sys.argv[1:] if argv is None else argv))
    if args.version:
        from .._native import show_config

        show_config()
        return 0
    if args.cmake_dir or args.include:
        from .. import _paths

        try:
            print(_paths.get_cmake_dir() if args.cmake_dir else _paths.get_include())
        except FileNotFoundError as error:
            print(f"{parser.prog}: error: {error}", file=sys.stderr)
            return 2
        return 0
    if args.command == "diagnose":
        return _diagnose_command(args)
    if args.command == "train":
        from .._training import train_command

        return train_command(args)
    print(walkthrough(seed=args.seed, dtype=args.dtype))
    return 0
