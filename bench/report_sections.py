"""The tables of the import-time and profile sections."""

from __future__ import annotations

from typing import Any

from bench.coldstart import ImportEntry
from bench.table import Table

__all__ = ["import_tables", "process_import_table", "profile_tables"]


def import_tables(imports: list[ImportEntry], module: str) -> list[Table]:
    """``-X importtime`` of ``import module``: top modules, and time by package."""
    entries = _subtree(imports, module)
    total = next((e.cumulative_ms for e in entries if e.module == module), 0.0)
    by_module = sorted(entries, key=lambda e: -e.self_ms)[:10]
    by_package = sorted(_by_package(entries).items(), key=lambda item: -item[1])[:10]
    return [
        Table(
            f"python -X importtime -c 'import {module}': "
            f"{total:.1f} ms, top ten modules by own time",
            ["module", "self ms", "cumulative ms"],
            [[e.module, f"{e.self_ms:.2f}", f"{e.cumulative_ms:.2f}"] for e in by_module],
            numeric=[False, True, True],
        ),
        Table(
            "Same import, own time summed by top-level package (top ten)",
            ["package", "ms", "share"],
            [[p, f"{ms:.2f}", f"{ms / total:.0%}" if total else "—"] for p, ms in by_package],
            numeric=[False, True, True],
        ),
    ]


def process_import_table(process_imports: dict[str, list[ImportEntry]]) -> Table:
    """Whole cold-start processes' import time by package, one column per stack."""
    stacks = list(process_imports)
    sums = {stack: _by_package(entries) for stack, entries in process_imports.items()}
    last = stacks[-1]
    packages = sorted(sums[last], key=lambda p: -sums[last][p])[:12]
    rows = [
        [package, *[f"{sums[stack].get(package, 0.0):.1f}" for stack in stacks]]
        for package in packages
    ]
    rows.append(["all imports", *[f"{sum(sums[stack].values()):.1f}" for stack in stacks]])
    return Table(
        "Cold-start processes: import time (ms) by top-level package, interpreter "
        "start-up excluded, largest first for " + last,
        ["package", *stacks],
        rows,
        numeric=[False, *[True] * len(stacks)],
        note="From -X importtime of the same process the cold-start rows time "
        "(bench's own modules included: under 1 ms).",
    )


def profile_tables(p: dict[str, Any]) -> list[Table]:
    """The hotspots ``bench.profile`` found."""
    summary = (
        f"ours-sync, Starlette, HTTP API v2, {p['calls']} calls: {p['per_call_us']:.0f} µs "
        f"per call unprofiled, of which Tracing.flush {p['flush_us']:.0f} µs, of which "
        f"encoding {p['encode_us']:.0f} µs ({p['spans_per_batch']} spans); the other "
        f"{p['flush_us'] - p['encode_us']:.0f} µs is the processor's own work and any "
        "hand-over to a worker thread."
    )

    def table(key: str, title: str, note: str = "") -> Table:
        return Table(
            title,
            ["function", "share"],
            [[label, f"{share:.1%}"] for label, share in p[key]],
            numeric=[False, True],
            note=note,
        )

    wait = f"{p['wait_share']:.0%} of the main thread's samples wait on another thread."
    return [
        table(
            "self",
            "Profile, main thread: self time, as a share of the time not spent waiting",
            f"{summary} {wait}",
        ),
        table(
            "inclusive_ours",
            "Profile, main thread: this library's functions, inclusive, share of all",
        ),
        table(
            "inclusive_libraries",
            "Profile, main thread: the libraries' functions, inclusive, share of all",
        ),
        table("export_self", "Profile, the export's encoding: self time"),
    ]


def _by_package(entries: list[ImportEntry]) -> dict[str, float]:
    """Own import time summed by top-level package (``_ssl`` counts as ``ssl``)."""
    packages: dict[str, float] = {}
    for e in entries:
        top = e.module.split(".")[0].lstrip("_")
        packages[top] = packages.get(top, 0.0) + e.self_ms
    return packages


def _subtree(entries: list[ImportEntry], module: str) -> list[ImportEntry]:
    """The entries ``import module`` itself caused, not the interpreter's start-up."""
    end = next((i for i, e in enumerate(entries) if e.module == module and e.depth == 0), None)
    if end is None:
        return entries
    start = end
    while start > 0 and entries[start - 1].depth > 0:
        start -= 1
    return entries[start : end + 1]
