"""Preview: the dashboard's metric widgets drawn from captured EMF lines, with no AWS account.

``preview(spec, read_emf("emf.jsonl"), "dashboard.png")`` (or ``.html``; the ``preview``
extra). :func:`parse_emf` is lenient: EMF JSON lines as the adapter writes them, lines with the
JSON after a prefix (exports to S3, ``aws logs tail``, Lambda's text log format), JSON whose
``message`` holds it (``filter-log-events``, Lambda's JSON log format), ``invoke --json``
output; other records are counted and skipped. ``evaluate`` makes each metric widget a chart,
drawn with matplotlib's object API (``Figure``, ``FigureCanvasAgg``; never ``pyplot``, so no
global backend is chosen) on the dashboard's grid; a widget reading only AWS metrics is a grey
panel saying so. A PNG carries its widgets (titles, point counts, plot boxes) in a text chunk.
"""

from __future__ import annotations

import gzip
import html
import io
import itertools
import json
import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from traced_asgi_lambda.dashboard.evaluate import Chart, Key, auto_period, charts, span
from traced_asgi_lambda.exceptions import TracedAsgiLambdaError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from traced_asgi_lambda.dashboard.spec import DashboardSpec

__all__ = [
    "FORMATS",
    "METADATA_KEY",
    "NOT_LOCAL",
    "Capture",
    "PreviewError",
    "image_size",
    "parse_emf",
    "preview",
    "read_emf",
]

FORMATS = (".png", ".html")
NOT_LOCAL = "AWS metric: not in captured EMF"
INSTALL = "pip install 'traced-asgi-lambda[preview]'"
METADATA_KEY = "traced-asgi-lambda"  # the PNG text chunk holding the widgets, as JSON
DPI, WIDTH_PX, UNIT_PX, HEADER_PX = 100, 1800, 70, 60  # UNIT_PX: one row of the 24-column grid
# Lines without a colour of their own take these in turn; alarm thresholds are red, half alpha.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_RED, _GREY, _DECODER, _NONSPACE = "#d62728", "#545b64", json.JSONDecoder(), re.compile(r"\S")
_LEGEND: dict[str, Any] = {"loc": "upper left", "bbox_to_anchor": (0, 0), "fontsize": 7, "ncols": 3}
_THRESHOLD: dict[str, Any] = {"color": _RED, "ls": "--", "alpha": 0.5, "label": "alarm threshold"}
_PAD = (64, 60, 34, 150)  # pixels around each plot area in its cell: left, right, top, bottom
_NO_RDF = dict.fromkeys(("Creator", "Date", "Format", "Type"))  # the SVG names no URL


class PreviewError(TracedAsgiLambdaError):
    """No preview: no EMF values, a bad output path or period, or matplotlib is missing."""


@dataclass
class Capture:
    """EMF values by metric, and what the input held: records, EMF documents, the rest."""

    samples: dict[Key, list[tuple[float, float]]] = field(default_factory=dict)
    records: int = 0  # lines, or log events of AWS CLI output
    documents: int = 0  # EMF documents (one record holds at most one)
    skipped: int = 0  # records without EMF
    invalid: int = 0  # EMF documents breaking the spec, from which CloudWatch extracts nothing

    def take(self, value: object, when: float | None = None) -> None:
        """Add one decoded record: an EMF document, a log event, or AWS CLI output."""
        if isinstance(value, list):
            for item in value:
                self.take(item, when)
        elif isinstance(value, dict) and "_aws" not in value and "message" in value:
            stamp, message = value.get("timestamp"), value["message"]  # a log event
            message = _embedded(message) if isinstance(message, str) else message
            self.take(message, stamp / 1000 if _number(stamp) else when)
        elif isinstance(value, dict) and isinstance(value.get("events"), list):
            self.take(value["events"], when)  # filter-log-events or get-log-events output
        elif isinstance(value, dict) and isinstance(value.get("metrics"), list):
            self.take(value["metrics"], when)  # traced-asgi-lambda invoke --json
        elif isinstance(value, dict) and "_aws" in value:
            self.records, self.documents = self.records + 1, self.documents + 1
            found = _extract(value, when)
            self.invalid += found is None
            for key, seconds, values in found or ():
                self.samples.setdefault(key, []).extend((seconds, v) for v in values)
        else:
            self.records, self.skipped = self.records + 1, self.skipped + 1


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _extract(doc: dict[str, Any], when: float | None) -> list[tuple[Key, float, list[Any]]] | None:
    """The document's values, or None: CloudWatch extracts all of a document or nothing."""
    found: list[tuple[Key, float, list[Any]]] = []
    try:
        stamp = doc["_aws"].get("Timestamp")
        seconds = stamp / 1000 if _number(stamp) else when  # the spec's Timestamp is in ms
        if seconds is None:
            return None
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            space, sets = directive["Namespace"], directive["Dimensions"] or [[]]
            for name in (metric["Name"] for metric in directive["Metrics"]):
                values = [doc[name]] if _number(doc[name]) else list(doc[name])
                keys = [(space, name, tuple(sorted((n, doc[n]) for n in names))) for names in sets]
                found += [(key, seconds, values) for key in keys]
    except (KeyError, TypeError, AttributeError):
        return None
    texts = [t for (space, name, dims), _, _ in found for t in (space, name, *sum(dims, ()))]
    numbers = [v for _, _, values in found for v in values or [None]]
    if not (all(isinstance(t, str) for t in texts) and all(map(_number, numbers))):
        return None
    return [(key, seconds, [float(v) for v in values]) for key, seconds, values in found]


def _embedded(text: str) -> object:
    """The JSON value starting at one of the first ``{`` of ``text`` (after a prefix), or None."""
    for brace in itertools.islice(re.finditer(r"\{", text), 8):
        try:
            return _DECODER.raw_decode(text, brace.start())[0]
        except (ValueError, RecursionError):
            continue
    return None


def parse_emf(text: str) -> Capture:
    """The EMF in ``text``: read as JSON documents when it is only that, else line by line."""
    capture, values, at = Capture(), [], 0
    while start := _NONSPACE.search(text, at):
        try:
            value, at = _DECODER.raw_decode(text, start.start())
        except (ValueError, RecursionError):
            for line in filter(str.strip, text.splitlines()):
                capture.take(_embedded(line))
            return capture
        values.append(value)
    capture.take(values)
    return capture


def read_emf(path: str | Path) -> Capture:
    """:func:`parse_emf` of a file, plain or gzip-compressed (as exports to S3 are)."""
    raw = Path(path).read_bytes()
    raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    return parse_emf(raw.decode("utf-8", errors="replace"))


def preview(
    spec: DashboardSpec, capture: Capture, out: str | Path, *, period: int | None = None
) -> tuple[Chart, ...]:
    """Draw ``spec``'s metric widgets from ``capture`` into a ``.png`` or ``.html`` file."""
    from traced_asgi_lambda.dashboard.body import build
    from traced_asgi_lambda.dashboard.render import resolve

    path, times = Path(out), span(capture.samples)
    period = auto_period(capture.samples) if period is None else period  # seconds
    if path.suffix.lower() not in FORMATS:
        raise PreviewError(f"Expected the output to end in .png or .html, but got {str(out)!r}.")
    if period < 1:
        raise PreviewError(f"Expected a period of 1 second or more, but got {period!r}.")
    if times is None:
        raise PreviewError(f"Expected EMF values, but {capture.records} records held none.")
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        raise PreviewError(
            f"preview needs matplotlib, which is not installed. Fix: {INSTALL}"
        ) from None
    dashboard = build(spec)
    found = tuple(charts(resolve(dashboard.body, dashboard.params), capture.samples, period))
    title = f"{spec.name}: dashboard preview from {capture.documents} EMF documents"
    window = (times[0] // period * period - period / 2, times[1] // period * period + period / 2)
    figure, widgets = _draw(found, title, period, window)
    if path.suffix.lower() == ".png":
        summary = json.dumps({"period": period, "widgets": widgets})
        figure.savefig(path, dpi=DPI, metadata={"Title": title, METADATA_KEY: summary})
    else:
        path.write_text(_html(figure, title, found), encoding="utf-8")
    return found


def image_size(found: Sequence[Chart]) -> tuple[int, int]:
    """The image's width and height in pixels: rows as tall as on the dashboard."""
    rows = {chart.place[1]: chart.place[3] for chart in found}
    return WIDTH_PX, HEADER_PX + UNIT_PX * sum(rows.values())


def _draw(
    found: Sequence[Chart], title: str, period: int, window: tuple[float, float]
) -> tuple[Figure, list[dict[str, Any]]]:
    """The figure, laid out by hand: each plot area is known to the pixel, for the metadata."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    (width, height), rows, top = image_size(found), {}, HEADER_PX
    for y, rows_high in sorted({c.place[1]: c.place[3] for c in found}.items()):
        rows[y], top = top, top + rows_high * UNIT_PX
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.text(10 / width, 1 - 20 / height, title, fontsize=13, fontweight="bold", va="top")
    widgets = []
    for chart in found:
        x, y, columns, rows_high = chart.place
        left, right = x * width / 24 + _PAD[0], (x + columns) * width / 24 - _PAD[1]
        top, bottom = rows[y] + _PAD[2], rows[y] + rows_high * UNIT_PX - _PAD[3]
        area = (left / width, 1 - bottom / height, (right - left) / width, (bottom - top) / height)
        colours = _panel(figure.add_axes(area), chart, period, window)
        widgets.append({"title": chart.title, "points": chart.points, "colours": colours})
        box = [round(left), round(top), round(right), round(bottom)]  # from the top left
        widgets[-1].update(box=box, not_drawn=[*chart.not_local, *chart.unsupported])
    return figure, widgets


def _panel(axes: Axes, chart: Chart, period: int, window: tuple[float, float]) -> list[str]:
    """Draw one widget; the colours of its lines that have points."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator
    from matplotlib.transforms import ScaledTranslation

    axes.set_title(chart.title, loc="left", fontsize=10, fontweight="bold")
    if chart.aws_only:
        axes.set(facecolor="#f2f3f3", xticks=[], yticks=[])
        text = "\n".join([NOT_LOCAL, *textwrap.wrap(", ".join(chart.not_local), 60)])
        axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color=_GREY)
        return []
    sides = {"left": axes}
    if chart.axis_labels[1] or any(series.axis == "right" for series in chart.series):
        sides["right"] = axes.twinx()
    values: dict[str, list[float]] = {"left": [], "right": []}
    base: dict[int, float] = {}  # the stack's top so far, by period
    palette, drawn = iter(PALETTE * 8), []
    for series in chart.series:
        side = series.axis if series.axis in sides else "left"
        colour = series.color or next(palette, _GREY)
        starts, ys = [s for s, _ in series.points], [v for _, v in series.points]
        if chart.stacked:  # stacked areas, as CloudWatch draws "stacked": true
            lows = [base.get(start, 0.0) for start in starts]
            ys = [low + y for low, y in zip(lows, ys, strict=True)]
            base.update(zip(starts, ys, strict=True))
            sides[side].fill_between(starts, lows, ys, color=colour, alpha=0.25, linewidth=0)
        label = series.label if starts else f"{series.label} (no data)"
        sides[side].plot(starts, ys, color=colour, marker="o", ms=4, lw=1.8, label=label)
        values[side] += ys
        drawn += [colour] if starts else []
    notes = [f"time (UTC), {period} s periods"]
    for value, side in chart.thresholds:
        if side in sides and 0 < value <= 1.5 * max(values[side], default=0.0):
            sides[side].axhline(value, **_THRESHOLD)
            values[side].append(value)
        else:
            notes.append(f"alarm threshold {value:g} ({side} axis) is off the scale")
    for side, target in sides.items():
        top = max(values[side], default=0.0) * 1.15 or 1.0
        target.set_ylim(min(min(values[side], default=0.0) * 1.15, -0.03 * top), top)
        target.set_ylabel(chart.axis_labels[side == "right"], fontsize=9)
    if chart.not_local:
        notes += textwrap.wrap(f"{NOT_LOCAL}: {', '.join(chart.not_local)}", 90)
    notes += [f"unsupported: {text}" for text in chart.unsupported]
    axes.set_xlabel("\n".join(notes), fontsize=8, color=_GREY)
    ticks = MaxNLocator(6, integer=True, min_n_ticks=1, steps=[1, 2, 3, 5, 6, 10])  # whole s
    clock = FuncFormatter(lambda x, _: f"{datetime.fromtimestamp(x, UTC):%H:%M:%S}")
    axes.xaxis.set(major_locator=ticks, major_formatter=clock)
    axes.set_xlim(*window)
    axes.grid(color="#e4e4e4", linewidth=0.6)
    handles = [h for target in sides.values() for h in target.get_legend_handles_labels()[0]]
    # Below the tick labels and the notes, so that the plot area holds only the lines.
    shift = ScaledTranslation(0, -(24 + 10 * len(notes)) / 72, axes.figure.dpi_scale_trans)
    axes.legend(handles=handles, bbox_transform=axes.transAxes + shift, frameon=False, **_LEGEND)
    return drawn


def _html(figure: Figure, title: str, found: Sequence[Chart]) -> str:
    """One self-contained page: the figure as inline SVG, and a table of what it shows."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata=_NO_RDF)
    svg, name = buffer.getvalue(), html.escape(title)
    rows = "".join(
        f"<tr><td>{html.escape(c.title)}</td><td>{c.points}</td><td>"
        + html.escape(", ".join(f"{s.label} ({len(s.points)})" for s in c.series))
        + f"</td><td>{html.escape('; '.join([*c.not_local, *c.unsupported]))}</td></tr>\n"
        for c in found
    )
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{name}</title>\n'
        "<style>body{font-family:sans-serif}svg{max-width:100%;height:auto}td,th{padding:2px 8px;"
        f"text-align:left}}</style></head><body><h1>{name}</h1>\n{svg[svg.index('<svg') :]}\n"
        "<table><tr><th>widget</th><th>points</th><th>lines (points)</th><th>not drawn</th></tr>\n"
        f"{rows}</table></body></html>\n"
    )
