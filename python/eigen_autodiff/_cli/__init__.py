"""The command line, ``python -m eigen_autodiff``: the article's walkthrough and diagnose."""

from .command_line import build_parser, main

__all__ = ["build_parser", "main"]
