"""A picture of a diagnosis, with the failing points marked.

Value, AD derivative and finite-difference derivative over a range; needs matplotlib
(``pip install matplotlib``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._derivative import derivative
from .diagnose import diagnose, finite_difference_estimate


class PlotPathError(ValueError):
    """The plot cannot be written where asked, or matplotlib is missing."""


def _supported_formats() -> list[str]:
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        # The project's [plot] extra would fetch the project itself from the index.
        raise PlotPathError("plotting needs matplotlib: pip install matplotlib") from None
    return sorted(FigureCanvasBase.get_supported_filetypes())


def checked_plot_path(path: str | Path) -> Path:
    """The file a plot for ``path`` will be written to, checked before any work is done.

    matplotlib adds ``.png`` to a name without an extension; that name is returned. Raises
    :class:`PlotPathError` when the path is a folder, its folder does not exist, matplotlib is
    missing, or the extension is not a format matplotlib writes (checked in that order).

    Example:
        >>> from eigen_autodiff._diagnostics.plot import checked_plot_path
        >>> checked_plot_path("diagnosis")  # doctest: +SKIP
        PosixPath('diagnosis.png')

    """
    out = Path(path)
    if out.is_dir():
        raise PlotPathError(
            f"--plot {str(path)!r} is a folder: give a file such as {out / 'plot.png'}"
        )
    folder = out.parent
    if not folder.is_dir():
        raise PlotPathError(f"--plot {str(path)!r}: the folder {str(folder)!r} does not exist")
    # The folder is checked first: a wrong path is the user's to mend, with or without matplotlib.
    formats = _supported_formats()
    extension = out.suffix[1:].lower()
    if not extension:
        return out.with_name(out.name + ".png")
    if extension not in formats:
        raise PlotPathError(
            f"--plot {str(path)!r}: matplotlib cannot write .{extension} files; use one of "
            f"{', '.join('.' + name for name in formats)}"
        )
    return out


def plot_diagnosis(
    activation: Any, start: float, stop: float, path: str | Path, dtype: str = "float64"
) -> Path:
    """Draws ``activation`` over ``[start, stop]`` in ``dtype``; returns the file written.

    The path is checked first (see :func:`checked_plot_path`); without an extension the plot is
    a PNG at ``path`` + ``.png``.

    Example:
        >>> from eigen_autodiff._diagnostics.plot import plot_diagnosis  # doctest: +SKIP
        >>> plot_diagnosis("inv_exp", 80, 110, "inv_exp.png", "float32")  # doctest: +SKIP
        PosixPath('inv_exp.png')

    """
    out = checked_plot_path(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with np.errstate(all="ignore"):
        x = np.linspace(start, stop, 401).astype(dtype)
        value, slope = derivative(activation, x)
        estimate = finite_difference_estimate(activation, x.astype(np.float64))
    report = diagnose(activation, x, dtypes=(dtype,))
    label = report.activation
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 6))
    top.plot(x, value, label=f"{label} ({dtype})")
    top.set_ylabel("value")
    top.legend()
    bottom.plot(x, estimate, label="finite differences (float64)", linewidth=3, alpha=0.4)
    bottom.plot(x, slope, "--", label=f"AD derivative ({dtype})")
    failing = [f.x for f in report.failures]
    if failing:
        at = np.asarray(failing)
        shown = np.nan_to_num(np.interp(at, x.astype(np.float64), estimate), nan=0.0)
        bottom.plot(at, shown, "rx", label=f"AD wrong ({len(failing)} points)")
    # Derivatives that vanish or explode span many decades: a log scale away from zero.
    scale = float(np.nanmax(np.abs(estimate[np.isfinite(estimate)]), initial=1.0))
    bottom.set_yscale("symlog", linthresh=max(scale * 1e-12, float(np.finfo(np.float64).tiny)))
    bottom.set_xlabel("x")
    bottom.set_ylabel("derivative")
    bottom.legend()
    top.set_title(f"diagnose({label!r}): {'passed' if report.passed else 'failures marked'}")
    figure.tight_layout()
    try:
        figure.savefig(out, dpi=100)
    finally:
        plt.close(figure)
    return out
