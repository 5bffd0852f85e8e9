"""Loads the compiled extension: the copy built for the best instruction set this CPU runs.

The C++ module is compiled once per instruction set (``_core_baseline``, ``_core_avx2``,
``_core_avx512``; a build for the building machine alone has ``_core_native``). The first of
:data:`PREFERENCE` that was built and that the CPU runs is imported as ``eigen_autodiff._core``;
the environment variable ``EIGEN_AUTODIFF_ISA`` names another. The choice depends only on the CPU
and the variable, never on a timing, so it is the same on every run.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import TYPE_CHECKING

__all__ = ["_core", "show_config"]

#: The instruction sets, best first. AVX-512 comes before AVX2+FMA because it measured faster on
#: the machines measured (benchmarks/RESULTS.md): the layer's gradient 1.3-1.5x on an Intel Xeon
#: and 1.5-1.8x on an AMD EPYC (Zen 5). A build for the building machine alone (``native``) has
#: only its own.
PREFERENCE = ("native", "avx512", "avx2", "baseline")

_VARIABLE = "EIGEN_AUTODIFF_ISA"


def _built() -> tuple[str, ...]:
    return tuple(
        name for name in PREFERENCE if importlib.util.find_spec(f"{__package__}._core_{name}")
    )


def _supported() -> tuple[str, ...]:
    from ._instruction_sets import supported

    return supported()


def choose_instruction_set(
    built: tuple[str, ...], supported: tuple[str, ...], requested: str | None
) -> str:
    """The instruction set whose copy of the module to load.

    ``requested`` (the value of ``EIGEN_AUTODIFF_ISA``, or None) must be one that was built
    and that the CPU runs; without it, the first of :data:`PREFERENCE` that is both. A copy
    built for the building machine alone (``native``) is taken to run on it, where it belongs.

    Example:
        >>> from eigen_autodiff._native import choose_instruction_set
        >>> choose_instruction_set(("baseline", "avx2", "avx512"), ("baseline", "avx2"), None)
        'avx2'
        >>> choose_instruction_set(("baseline", "avx2", "avx512"), ("baseline", "avx2"), "baseline")
        'baseline'

    """
    runs = (*supported, "native")
    usable = [name for name in PREFERENCE if name in built and name in runs]
    if requested is None or not requested.strip():
        if not usable:
            raise ImportError(
                "this CPU runs none of the instruction sets eigen_autodiff was compiled for "
                f"(compiled: {', '.join(built) or 'none'}; this CPU runs: "
                f"{', '.join(supported)}); build it from source on this machine "
                "(pip install --no-binary eigen-autodiff eigen-autodiff)"
            )
        return usable[0]
    name = requested.strip().lower()
    if name not in built:
        raise ImportError(
            f"{_VARIABLE}={requested!r} names no instruction set this build of eigen_autodiff "
            f"has; it has: {', '.join(built) or 'none'} (unset {_VARIABLE} to choose the best)"
        )
    if name not in runs:
        raise ImportError(
            f"{_VARIABLE}={requested!r}: this CPU cannot run that instruction set (it runs: "
            f"{', '.join(s for s in supported if s in built)}); unset {_VARIABLE} to choose "
            "the best"
        )
    return name


def _load() -> object:
    built = _built()
    if not built:
        raise ImportError(
            "eigen_autodiff._core, the compiled C++ part of eigen-autodiff, is missing. Did you "
            "build it? Install the package with `pip install .` from the repository (or `pip "
            "install --no-build-isolation -Cbuild-dir=build -ve .` while developing)."
        )
    chosen = choose_instruction_set(built, _supported(), os.environ.get(_VARIABLE))
    module = importlib.import_module(f"{__package__}._core_{chosen}")
    # One name for whichever copy was chosen: `from eigen_autodiff import _core`, and the module
    # that pickled TracedPrograms name.
    sys.modules[f"{__package__}._core"] = module
    return module


if TYPE_CHECKING:
    from . import _core
else:
    _core = _load()


def show_config() -> None:
    """Prints the version, the instruction sets compiled, those this CPU runs, and the one chosen.

    Example:
        >>> import eigen_autodiff as ead
        >>> ead.show_config()  # doctest: +ELLIPSIS
        eigen-autodiff ...
        instruction sets compiled: ...
        chosen: ...

    """
    built = _built()
    requested = os.environ.get(_VARIABLE, "").strip()
    reason = (
        f"as {_VARIABLE}={requested} asks"
        if requested
        else f"the first of {' > '.join(built)} this CPU runs; {_VARIABLE} overrides"
    )
    print(f"eigen-autodiff {_core.__version__}")
    print(f"instruction sets compiled: {', '.join(built)}")
    print(f"this CPU runs: {', '.join(_supported())}")
    print(f"chosen: {_core.instruction_set} ({reason})")
    print(f"its vector instructions: {_core.vector_instructions}")
    print(f"threads: {_core.get_num_threads()}")
