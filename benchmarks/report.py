"""Markdown tables from the collected results (printed, and written into RESULTS.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cases import REVERSE, TASK_SHORT, TASK_TITLES, TASKS, format_size
from machine_info import summary

BEGIN = "<!-- BEGIN GENERATED RESULTS (benchmarks/run.py --markdown) -->"
END = "<!-- END GENERATED RESULTS -->"


def format_time(seconds: float) -> str:
    """Three significant digits in s, ms or us."""
    unit, scale = next(
        ((u, f) for u, f in (("s", 1.0), ("ms", 1e-3)) if seconds >= f), ("us", 1e-6)
    )
    value = seconds / scale
    return f"{value:.3g} {unit}" if value >= 100 else f"{value:#.3g} {unit}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def median(record: dict[str, Any] | None) -> float | None:
    """The record's median time, or None if it failed, mismatched, or was not run."""
    if not record or "timing" not in record or not record.get("check", {}).get("ok"):
        return None
    return float(record["timing"]["median"])


def cell(record: dict[str, Any] | None) -> str:
    if record is None:
        return "-"
    if "error" in record:
        return record["error"].split(":")[0]
    text = format_time(record["timing"]["median"])
    return text if record["check"]["ok"] else f"MISMATCH ({text})"


def ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None:
        return "-"
    value = numerator / denominator
    return f"{value:.2f}" if 0.1 <= value < 100 else f"{value:.3g}"


def grouped(records: list[dict[str, Any]], task: str) -> tuple[list[str], dict[tuple, dict]]:
    """The task's implementation names (first-seen order), and (size, dtype) -> name -> record."""
    names: list[str] = []
    cells: dict[tuple, dict] = {}
    for r in records:
        if r["task"] != task:
            continue
        if r["impl"] not in names:
            names.append(r["impl"])
        cells.setdefault((tuple(r["size"]), r["dtype"]), {})[r["impl"]] = r
    return names, dict(sorted(cells.items(), key=lambda item: (volume(item[0][0]), item[0][1])))


def volume(size: Sequence[int]) -> int:
    b, n, m = size
    return b * n * m


def project_name(records: list[dict[str, Any]], task: str) -> str | None:
    return next((r["impl"] for r in records if r["task"] == task and r["is_project"]), None)


def fastest_of(names: Iterable[str], by_name: dict[str, dict]) -> tuple[str | None, float | None]:
    timed = [(t, n) for n in names if (t := median(by_name.get(n))) is not None]
    seconds, name = min(timed, default=(None, None))
    return name, seconds


def reverse_table(records: list[dict[str, Any]]) -> str:
    """Each gradient's time; for each of the project's, its ratio to the fastest peer and to the
    limit: the three products alone with the fastest BLAS in the run."""
    names, cells = grouped(records, REVERSE)
    own = [n for n in names if any(r["impl"] == n and r["is_project"] for r in records)]
    limits = {r["impl"] for r in records if r.get("is_limit")}
    peers = [n for n in names if n not in own and n not in limits]
    rows = []
    for (size, dtype), by_name in cells.items():
        fastest, fastest_time = fastest_of(peers, by_name)
        _, limit_time = fastest_of(limits, by_name)
        ratios = []
        for name in own:
            seconds = median(by_name.get(name))
            ratios += [ratio(seconds, fastest_time), ratio(seconds, limit_time)]
        rows.append(
            [format_size(size), dtype]
            + [cell(by_name.get(n)) for n in names]
            + [fastest or "-", *ratios]
        )
    header = ["B x N x M", "dtype", *names, "fastest peer"]
    header += [f"{n} / {of}" for n in own for of in ("fastest", "limit")]
    return table(header, rows)


def comparison_table(records: list[dict[str, Any]], task: str) -> str:
    """The project's implementation of ``task`` against each other one."""
    names, cells = grouped(records, task)
    project = project_name(records, task)
    others = [n for n in names if n != project]
    rows = []
    for (size, dtype), by_name in cells.items():
        own = median(by_name.get(project)) if project else None
        rows.append(
            [format_size(size), dtype]
            + [cell(by_name.get(n)) for n in names]
            + [ratio(own, median(by_name.get(n))) for n in others]
        )
    return table(["B x N x M", "dtype", *names, *(f"{project} / {n}" for n in others)], rows)


def scaling_table(records: list[dict[str, Any]], dtype: str) -> str:
    names: list[str] = []
    by_point: dict[tuple[int, str], dict[str, str]] = {}
    for r in records:
        if r["dtype"] != dtype:
            continue
        name = r["impl"] if r["task"] == REVERSE else f"{r['impl']} ({TASK_SHORT[r['task']]})"
        names += [name] if name not in names else []
        by_point.setdefault((volume(r["size"]), format_size(r["size"])), {})[name] = cell(r)
    rows = [
        [f"{bnm:.3g}", label, *(row.get(n, "") for n in names)]
        for (bnm, label), row in sorted(by_point.items())
    ]
    return table(["B*N*M", "B x N x M", *names], rows)


def peers_table(peers: dict[str, dict[str, Any]]) -> str:
    rows = []
    for name, data in peers.items():
        if "unavailable" in data:
            rows.append([name, "not available", "", data["unavailable"]])
            continue
        info = dict(data.get("info", {}))
        version = str(info.pop("version", "?"))
        details = "; ".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in info.items())
        rows.append([name, version, load_cell(data.get("foreign_load")), details.replace("|", "/")])
    return table(["peer", "version", "other processes' CPU use during the run", "details"], rows)


def load_cell(fraction: float | None) -> str:
    if fraction is None:
        return "unknown"
    return f"{fraction:.0%}" + (" (BUSY: timings unreliable)" if fraction > 0.05 else "")


def memory_table(memory: list[dict[str, Any]]) -> str:
    rows = []
    for m in memory:
        if "error" in m:
            rows.append([m["peer"], "-", "-", "-", m["error"]])
            continue
        note = "" if m["peak_reset"] else "high-water mark not reset: lower bound"
        rows.append(
            [
                m["impl"],
                f"{m['delta_mib']:.1f}",
                f"{m['rss_before_kib'] / 1024:.0f}",
                f"{m['rss_peak_kib'] / 1024:.0f}",
                note,
            ]
        )
    return table(
        [
            "implementation",
            "call peak above inputs (MiB)",
            "RSS before (MiB)",
            "peak RSS (MiB)",
            "note",
        ],
        rows,
    )


def environment(env: dict[str, str]) -> str:
    if not env:
        return "no BLAS or thread-pool variables set"
    text = ", ".join(f"{k}={v}" for k, v in env.items())
    if {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"} & env.keys():
        text += " (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed for the NumPy subprocess)"
    return text


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    records = results["records"]
    parts = [
        f"Date: {machine['date']}  ",
        f"Command: `{results['command']}`  ",
        f"Machine: {summary(machine)}  ",
        f"Project: commit {machine.get('project_commit', 'unknown')}, extension built "
        f"{results['peers'].get('project', {}).get('info', {}).get('built', 'unknown')}  ",
        f"Environment: {environment(machine['env'])}",
        "",
        "Median wall time of one call, inputs already in the library's own arrays; each peer ran",
        "in its own subprocess with its default thread count unless --threads was given. Ratios",
        "are project time / other time: above 1 the project is slower.",
        "",
        "### Peers",
        "",
        peers_table(results["peers"]),
    ]
    for task in TASKS:
        if any(r["task"] == task for r in records):
            body = reverse_table(records) if task == REVERSE else comparison_table(records, task)
            parts += ["", f"### {TASK_TITLES[task]}", "", body]
    if results.get("memory"):
        m = next((m for m in results["memory"] if "size" in m), None)
        where = f"{format_size(m['size'])} {m['dtype']} {m['task']}" if m else ""
        parts += [
            "",
            f"### Peak memory of one call ({where}; fresh subprocess, ru_maxrss)",
            "",
            memory_table(results["memory"]),
            "",
            "The call peak includes the returned gradients; for JIT peers it also includes "
            "compiling for the shape.",
        ]
    for dtype in sorted({r["dtype"] for r in records}):
        parts += ["", f"### Scaling, {dtype}: time vs B*N*M", "", scaling_table(records, dtype)]
    if results.get("plot"):
        parts += ["", f"![time vs B*N*M]({results['plot']})"]
    errors = [
        f"- {r['impl']} {format_size(r['size'])} {r['dtype']}: {r['error']}"
        for r in records
        if "error" in r
    ]
    if errors:
        parts += ["", "Cells that raised instead of returning:", "", *errors]
    mismatches = results.get("mismatches") or []
    if mismatches:
        parts += ["", "**GRADIENT MISMATCHES:** " + "; ".join(mismatches)]
    return "\n".join(parts) + "\n"


def refresh_markdown(path: Path, body: str) -> None:
    """Replace the generated section of ``path`` (or append one, or create the file)."""
    block = f"{BEGIN}\n\n{body}\n{END}\n"
    if not path.exists():
        path.write_text(f"# Benchmark results\n\n{block}")
        return
    text = path.read_text()
    start, end = text.find(BEGIN), text.find(END)
    if start >= 0 and end > start:
        text = text[:start] + block + text[end + len(END) :].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text)
