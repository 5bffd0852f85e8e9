"""The scaling plot: median time vs B*N*M per implementation, one panel per dtype.

Reverse mode solid, forward mode dashed, the Jacobian dotted; one colour per library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cases import FORWARD_W, JACOBIAN_W, REVERSE, TASK_SHORT
from peers import BASELINE_LABEL

LINES = {REVERSE: "-", FORWARD_W: "--", JACOBIAN_W: ":"}


def plot(records: list[dict[str, Any]], path: Path) -> str | None:
    """Write the PNG; return None, or the reason it was skipped."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install matplotlib); no plot written"
    timed = [r for r in records if "timing" in r and r.get("check", {}).get("ok")]
    dtypes = sorted({r["dtype"] for r in timed})
    if not dtypes:
        return "nothing was timed; no plot written"
    figure, axes = plt.subplots(1, len(dtypes), figsize=(6 * len(dtypes), 4.5), squeeze=False)
    colors: dict[str, str] = {}  # one colour per library, shared by its implementations
    for ax, dtype in zip(axes[0], dtypes):
        series: dict[tuple[str, str], list[tuple[int, float]]] = {}
        for r in timed:
            if r["dtype"] == dtype:
                b, n, m = r["size"]
                series.setdefault((r["impl"], r["task"]), []).append(
                    (b * n * m, r["timing"]["median"])
                )
        for (impl, task), points in series.items():
            points.sort()
            ours = impl.startswith("project") or impl == BASELINE_LABEL
            label = impl if task == REVERSE else f"{impl} ({TASK_SHORT[task]})"
            ax.plot(
                *zip(*points),
                LINES[task],
                color=colors.setdefault(
                    "project" if ours else impl.split("-")[0], f"C{len(colors)}"
                ),
                marker="s" if impl == BASELINE_LABEL else "o",
                markerfacecolor="none" if impl == BASELINE_LABEL else None,
                linewidth=2.5 if ours else 1.2,
                label=label,
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("B*N*M")
        ax.set_ylabel("median time per call (s)")
        ax.set_title(f"Y = sin(X W), L = sum(Y^2): {dtype}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None
