"""The scaling plot: median time vs B*N*M per implementation, one panel per dtype."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cases import REVERSE


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
    for ax, dtype in zip(axes[0], dtypes):
        series: dict[tuple[str, str], list[tuple[int, float]]] = {}
        for r in timed:
            if r["dtype"] == dtype:
                b, n, m = r["size"]
                series.setdefault((r["impl"], r["task"]), []).append((b * n * m, r["timing"]["median"]))
        for (impl, task), points in series.items():
            points.sort()
            style = "-" if task == REVERSE else "--"
            label = impl if task == REVERSE else f"{impl} (forward, dW)"
            width = 2.5 if impl.startswith("project") else 1.2
            ax.plot(*zip(*points), style, marker="o", linewidth=width, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("B*N*M")
        ax.set_ylabel("median time per call (s)")
        ax.set_title(f"loss gradient of sum(sin(X W)^2), {dtype}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None
