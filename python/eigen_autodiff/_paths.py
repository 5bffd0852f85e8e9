"""Where the installed package keeps its C++ headers and CMake package, for C++ users.

As with pybind11, a C++ project can build against the pip-installed library::

    cmake -S . -B build -Deigen_autodiff_DIR="$(python -m eigen_autodiff --cmake-dir)"

or pass ``-I$(python -m eigen_autodiff --include)`` (and Eigen's) to a compiler by hand.
"""

from __future__ import annotations

from pathlib import Path

from ._native import _core

__all__ = ["get_cmake_dir", "get_include"]

_PACKAGE = Path(__file__).resolve().parent
_HEADER = Path("eigen_autodiff", "eigen_autodiff.hpp")
_CONFIG = "eigen_autodiffConfig.cmake"


def _install_dirs() -> list[Path]:
    """Folders that may hold the files CMake installed into the package, most likely first.

    A wheel puts them beside this file. An editable install imports the Python files from the
    source tree and the compiled module, with everything else CMake installed, from
    site-packages: the folder of ``_core`` is the one to look in.
    """
    folders = [_PACKAGE]
    compiled = Path(_core.__file__).resolve().parent
    if compiled != _PACKAGE:
        folders.append(compiled)
    return folders


def _not_installed(what: str, looked_in: list[Path]) -> FileNotFoundError:
    places = ", ".join(str(folder) for folder in looked_in)
    return FileNotFoundError(
        f"eigen_autodiff's {what} is not installed with this copy of the package (looked in "
        f"{places}); reinstall it with pip (pip install eigen-autodiff), which ships it"
    )


def get_include() -> str:
    """The folder holding the C++ headers, to add to a compiler's include path.

    ``#include "eigen_autodiff/eigen_autodiff.hpp"`` then finds the library; Eigen 3.4 is
    needed too (``pip install "eigen-autodiff[cpp]"`` installs it as cmeel-eigen). In a source
    tree with an editable install made before the headers were shipped, this is the tree's
    ``cpp/include``.

    Example:
        >>> from pathlib import Path
        >>> import eigen_autodiff as ead
        >>> (Path(ead.get_include()) / "eigen_autodiff" / "eigen_autodiff.hpp").is_file()
        True

    """
    folders = [folder / "include" for folder in _install_dirs()]
    # A source tree: python/eigen_autodiff beside cpp/include.
    folders.append(_PACKAGE.parent.parent / "cpp" / "include")
    for folder in folders:
        if (folder / _HEADER).is_file():
            return str(folder)
    raise _not_installed("C++ headers folder", folders)


def get_cmake_dir() -> str:
    """The folder holding ``eigen_autodiffConfig.cmake``, for CMake's ``find_package``.

    Pass it as ``-Deigen_autodiff_DIR=...`` (or add it to ``CMAKE_PREFIX_PATH``), then
    ``find_package(eigen_autodiff CONFIG REQUIRED)`` and link ``eigen_autodiff::eigen_autodiff``.
    The config finds Eigen 3.4 in the cmeel-eigen package installed beside this one
    (``pip install "eigen-autodiff[cpp]"``), otherwise as the project's build does.

    Example:
        >>> from pathlib import Path
        >>> import eigen_autodiff as ead
        >>> (Path(ead.get_cmake_dir()) / "eigen_autodiffConfig.cmake").is_file()
        True

    """
    folders = [folder / "share" / "cmake" / "eigen_autodiff" for folder in _install_dirs()]
    for folder in folders:
        if (folder / _CONFIG).is_file():
            return str(folder)
    raise _not_installed("CMake package", folders)
