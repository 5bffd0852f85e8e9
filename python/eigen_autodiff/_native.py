"""Loads the compiled extension, with a hint when it is missing."""

try:
    from . import _core
except ImportError as error:  # pragma: no cover - only without a build
    raise ImportError(
        "eigen_autodiff._core, the compiled C++ part of eigen-autodiff, could not be imported. "
        "Did you build it? Install the package with `pip install .` from the repository "
        "(or `pip install --no-build-isolation -Cbuild-dir=build -ve .` while developing)."
    ) from error

__all__ = ["_core"]
