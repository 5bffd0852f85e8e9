"""A picture of a diagnosis, with the failing points marked.

Value, AD derivative and finite-difference derivative over a range; needs matplotlib
(``pip install "eigen-autodiff[plot]"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ._activations import derivative
from ._diagnose import diagnose, finite_difference_estimate


def plot_diagnosis(
    activation: Any, start: float, stop: float, path: str | Path, dtype: str = "float64"
) -> Path:
    """Draws ``activation`` over ``[start, stop]`` in ``dtype`` and saves a PNG at ``path``.

    Example:
        >>> from eigen_autodiff._plot import plot_diagnosis  # doctest: +SKIP
        >>> plot_diagnosis("inv_exp", 80, 110, "inv_exp.png", "float32")  # doctest: +SKIP

    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            'plotting needs matplotlib: pip install "eigen-autodiff[plot]"'
        ) from error
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
    out = Path(path)
    figure.savefig(out, dpi=100)
    plt.close(figure)
    return out
