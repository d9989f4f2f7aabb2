"""Statistics, the targets of issue 8, and the tables (plain text and Markdown)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.coldstart import TIME, ColdStart, ImportEntry
from bench.events import SOURCE_LABELS
from bench.report_sections import import_tables, process_import_table, profile_tables
from bench.results import Row, Target
from bench.stacks import STACKS
from bench.table import Table

__all__ = ["Report"]

TARGET_APP, TARGET_SOURCE = "starlette", "http-api"
MIB = 1024


@dataclass
class Report:
    """Everything one run measured, and the tables made from it."""

    rows: list[Row] = field(default_factory=list)
    cold: list[ColdStart] = field(default_factory=list)
    cold_app: str = TARGET_APP
    cold_source: str = TARGET_SOURCE
    imports: list[ImportEntry] = field(default_factory=list)
    import_module: str = "traced_asgi_lambda"
    # Every import of a whole cold-start process (less the interpreter's start-up), by stack.
    process_imports: dict[str, list[ImportEntry]] = field(default_factory=dict)
    profile: dict[str, Any] | None = None

    def add_cells(self, cells: list[dict[str, Any]]) -> None:
        rows = [Row(**cell) for cell in cells]
        for row in rows:
            row.reference = next(
                (
                    r
                    for r in rows
                    if r.stack == "mangum" and (r.group, r.app, r.source) == _cell_of(row)
                ),
                None,
            )
        self.rows += rows

    # -- targets ------------------------------------------------------------------------

    def targets(self) -> list[Target]:
        def target(name: str, stack: str, measure: str, limit: float) -> Target:
            row = self._row(stack, TARGET_APP, TARGET_SOURCE)
            if row is None or row.reference is None:
                return Target(name, None, limit, "x")
            low, high = row.ratio_spread(measure)
            mine, theirs = getattr(row, measure), getattr(row.reference, measure)
            detail = f"{mine:.0f} vs {theirs:.0f} µs (rounds {low:.2f}-{high:.2f})"
            cpu = row.ratio(f"{measure}_cpu")
            return Target(name, row.ratio(measure), limit, "x", detail, cpu)

        targets = [
            target("Response latency, after-response export", "ours-after", "response", 1.0),
            target("Response latency, sync export", "ours-sync", "response", 1.5),
            target("Total work, sync export", "ours-sync", "total", 1.5),
            target("Total work, after-response export", "ours-after", "total", 1.5),
            target("Telemetry off", "ours-off", "response", 0.5),
        ]
        cold = {c.stack: c for c in self.cold}
        ours, mangum = cold.get("ours-sync"), cold.get("mangum")
        if ours is not None and mangum is not None:
            low, high = ours.ratio_spread(mangum)
            cpu = ours.ratio(mangum, "cpu_ms")
            times = f"{ours.median_ms:.0f} vs {mangum.median_ms:.0f} ms (runs {low:.2f}-{high:.2f})"
            rss = f"{ours.median_rss_mib:.1f} vs {mangum.median_rss_mib:.1f} MiB"
            targets.append(
                Target("Cold start, process time", ours.ratio(mangum), 1.2, "x", times, cpu)
            )
            targets.append(
                Target(
                    "Cold start, peak RSS over Mangum's",
                    ours.median_rss_mib - mangum.median_rss_mib,
                    8.0,
                    "MiB",
                    rss,
                )
            )
        else:
            targets.append(Target("Cold start, process time", None, 1.2, "x"))
            targets.append(Target("Cold start, peak RSS over Mangum's", None, 8.0, "MiB"))
        return targets

    def _row(self, stack: str, app: str, source: str) -> Row | None:
        return next(
            (r for r in self.rows if (r.stack, r.app, r.source) == (stack, app, source)), None
        )

    # -- tables -------------------------------------------------------------------------

    def tables(self) -> list[Table]:
        tables = [self.target_table()]
        if self.rows:
            tables += [self.detail_table(), self.matrix_table(), self.reference_table()]
        if self.cold:
            tables.append(self.cold_table())
        if self.imports:
            tables += import_tables(self.imports, self.import_module)
        if self.process_imports:
            tables.append(process_import_table(self.process_imports))
        if self.profile:
            tables += profile_tables(self.profile)
        return tables

    def target_table(self) -> Table:
        rows = []
        targets = self.targets()
        for t in targets:
            measured = "—" if t.measured is None else _with_unit(t.measured, t.unit)
            cpu = "" if t.cpu is None else _with_unit(t.cpu, t.unit) + ("*" if t.disturbed else "")
            limit = ("+" if t.unit == "MiB" else "") + _with_unit(t.limit, t.unit)
            rows.append([t.name, measured, cpu, f"≤ {limit}", t.verdict, t.detail])
        note = (
            "measured: wall time, which the verdict uses. CPU: the same ratio in CPU time "
            "(every thread of the process), which other processes do not inflate."
        )
        if any(t.disturbed for t in targets):
            note += (
                " *: wall and CPU differ by over 10%: either the machine was busy during "
                "the run (see the load average and the Mangum table; rerun) or the stack "
                "waits for a thread to be scheduled (a real cost that CPU time misses)."
            )
        return Table(
            "Targets (full telemetry, Starlette app, HTTP API v2; ratios to bare Mangum)",
            [
                "target",
                "measured",
                "CPU",
                "limit",
                "verdict",
                "medians (per-round ratio quartiles)",
            ],
            rows,
            numeric=[False, True, True, True],
            note=note,
        )

    def detail_table(self) -> Table:
        cells = sorted({(r.app, r.source) for r in self.rows}, key=_cell_order)
        app, source = cells[0]  # the targets' cell when it was measured
        rows = []
        for row in self._ordered(app, source):
            rows.append(
                [
                    row.stack,
                    row.group,
                    f"{row.response:.1f}",
                    _ratio_text(row, "response"),
                    f"{row.total:.1f}",
                    _ratio_text(row, "total"),
                    _ratio_text(row, "response_cpu"),
                    _ratio_text(row, "total_cpu"),
                    f"{row.posted:.1f}",
                    _fmt(row.spans_per_call, 1),
                    _fmt(row.otlp_bytes_per_call, 0),
                    f"{row.stdout_lines_per_call:.0f} / {row.stdout_bytes_per_call:.0f}",
                ]
            )
        return Table(
            f"In-process: {app} app, {SOURCE_LABELS[source]} (medians over rounds, µs per call)",
            [
                "stack",
                "process",
                "response µs",
                "x Mangum",
                "total µs",
                "x Mangum",
                "CPU x, response",
                "CPU x, total",
                "posted µs",
                "spans/call",
                "OTLP B/call",
                "stdout lines / B",
            ],
            rows,
            numeric=[False, False, *[True] * 10],
            note=(
                "response: until the handler returns. total: the invocation's own work, "
                "export included. posted: until the runtime would have serialised the "
                "response. x Mangum: the median over rounds of the stack's time over bare "
                "Mangum's in the same round and process. CPU x: the same ratios in process "
                "CPU time. OTLP B: encoded span bytes; stdout: "
                "log and EMF lines and characters written per call."
            ),
        )

    def matrix_table(self) -> Table:
        cells = sorted({(r.app, r.source) for r in self.rows}, key=_cell_order)
        headers = ["stack", *[f"{app} / {SOURCE_LABELS[source]}" for app, source in cells]]
        rows = []
        for stack in STACKS:
            found = [self._row(stack, app, source) for app, source in cells]
            if not any(found):
                continue
            rows.append(
                [stack]
                + [
                    "—"
                    if r is None or r.reference is None
                    else f"{r.ratio('response'):.2f} / {r.ratio('total'):.2f}"
                    for r in found
                ]
            )
        return Table(
            "Every app and event: response / total, x bare Mangum in the same process",
            headers,
            rows,
            numeric=[False, *[True] * len(cells)],
        )

    def reference_table(self) -> Table:
        cells = sorted({(r.app, r.source) for r in self.rows}, key=_cell_order)
        groups = list(dict.fromkeys(r.group for r in self.rows))
        rows = []
        for group in groups:
            line = [group]
            for app, source in cells:
                ref = next(
                    (
                        r
                        for r in self.rows
                        if (r.group, r.app, r.source, r.stack) == (group, app, source, "mangum")
                    ),
                    None,
                )
                line.append("—" if ref is None else f"{ref.response:.1f}")
            rows.append(line)
        return Table(
            "Bare Mangum in each process (response µs): what the ratios divide by",
            ["process", *[f"{app} / {SOURCE_LABELS[source]}" for app, source in cells]],
            rows,
            numeric=[False, *[True] * len(cells)],
            note="Absolute times compare across processes only as far as these agree.",
        )

    def cold_table(self) -> Table:
        mangum = next((c for c in self.cold if c.stack == "mangum"), None)
        rows = []
        for c in self.cold:
            ratio = "—" if mangum is None else f"{c.ratio(mangum):.2f}"
            cpu_ratio = "—" if mangum is None else f"{c.ratio(mangum, 'cpu_ms'):.2f}"
            delta = "—" if mangum is None else f"{c.median_rss_mib - mangum.median_rss_mib:+.1f}"
            rows.append(
                [
                    c.stack,
                    f"{c.median_ms:.1f}",
                    ratio,
                    f"{min(c.times_ms):.0f}-{max(c.times_ms):.0f}",
                    f"{c.median_cpu_ms:.1f}",
                    cpu_ratio,
                    f"{c.median_rss_mib:.1f}",
                    delta,
                ]
            )
        runs = len(self.cold[0].times_ms)
        return Table(
            f"Cold start: one process per run, {self.cold_app} app, "
            f"{SOURCE_LABELS[self.cold_source]}, median of {runs} runs",
            [
                "stack",
                "process ms",
                "x Mangum",
                "range ms",
                "CPU ms",
                "x Mangum",
                "peak RSS MiB",
                "Δ RSS MiB",
            ],
            rows,
            numeric=[False, *[True] * 7],
            note="process: wall clock from spawn to exit. CPU: the child's user + system "
            "time. x Mangum: the median over rounds of the ratio to bare Mangum's run in "
            "the same round."
            + (
                ""
                if TIME is not None
                else " GNU time (/usr/bin/time) was not found: each peak RSS is at least "
                "the bench process's own, so RSS differences are understated "
                "(apt-get install time)."
            ),
        )

    def text(self) -> str:
        return "\n\n".join(t.text() for t in self.tables())

    def markdown(self) -> str:
        return "\n\n".join(t.markdown() for t in self.tables()) + "\n"

    def _ordered(self, app: str, source: str) -> list[Row]:
        order = list(STACKS)
        rows = [r for r in self.rows if (r.app, r.source) == (app, source)]
        # Each process's Mangum row: keep core's, the others are in the reference table.
        rows = [r for r in rows if r.stack != "mangum" or r.group == "core"] or rows
        return sorted(rows, key=lambda r: (order.index(r.stack), r.group))


def _cell_of(row: Row) -> tuple[str, str, str]:
    return row.group, row.app, row.source


def _cell_order(cell: tuple[str, str]) -> tuple[int, int]:
    app, source = cell
    return (0 if app == TARGET_APP else 1), list(SOURCE_LABELS).index(source)


def _with_unit(value: float, unit: str) -> str:
    return f"{value:.2f}x" if unit == "x" else f"{value:.1f} MiB"


def _ratio_text(row: Row, measure: str) -> str:
    return "—" if row.reference is None else f"{row.ratio(measure):.2f}"


def _fmt(value: float, digits: int) -> str:
    return "—" if not value else f"{value:.{digits}f}"
