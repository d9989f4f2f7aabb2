"""``dashboard preview``: EMF from the real adapter, read in every shape, drawn as PNG and HTML.

The lines come from ``LambdaAdapter`` itself (a cold start, a warm call, a 404 and a 500,
with per-route dimensions). The PNG is checked twice: its text chunk names every metric
widget of the rendered dashboard with its point count, and its pixels show each panel with
data drawing its lines' colours inside its plot area, while AWS-only panels draw none.
"""

from __future__ import annotations

import gzip
import html
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageColor

from tests.apps.starlette_app import app
from traced_asgi_lambda import LambdaAdapter, TelemetryOptions
from traced_asgi_lambda.cli import main
from traced_asgi_lambda.dashboard import DashboardSpec, FrontDoor, build
from traced_asgi_lambda.dashboard.evaluate import Chart, auto_period, charts
from traced_asgi_lambda.dashboard.preview import (
    METADATA_KEY,
    NOT_LOCAL,
    PALETTE,
    PreviewError,
    image_size,
    parse_emf,
    preview,
    read_emf,
)
from traced_asgi_lambda.dashboard.render import resolve
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry.metric_names import DEFAULT_NAMESPACE

# (path, status): a cold start, a warm call, an unmatched route and a failing app.
CALLS = [("/items/1", 200), ("/items/2", 200), ("/nope", 404), ("/raise", 500)]
SERVICE = "orders"  # outside Lambda, ColdStart's function_name dimension is the service
SPEC = DashboardSpec(
    function_name=SERVICE,
    region="eu-west-1",
    front_door=FrontDoor("http-api", api_id="a1b2c3d4e5"),
    service=SERVICE,
    route_dimensions=True,
)
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, in ms
STREAM = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
REQUEST_ID = "8f5e7b3a-1c2d-4e5f-9a0b-1c2d3e4f5a6b"


@pytest.fixture(scope="module")
def written() -> str:
    """Everything the adapter wrote for the four calls: log lines and EMF lines."""
    stream = io.StringIO()
    options = TelemetryOptions(stream=stream, service=SERVICE, log_json=True, route_dimensions=True)
    with LambdaAdapter(app, telemetry=options) as handler:
        for path, status in CALLS:
            event = build_event("http-api", HttpRequest(path=path))
            assert handler(event, LocalContext("orders-fn"))["statusCode"] == status
    return stream.getvalue()


def emf_lines(written: str, at: list[int] | None = None) -> list[str]:
    """The EMF lines alone, each re-stamped at ``at[call]`` ms when given (the same shape)."""
    lines, call = [], -1
    for line in written.splitlines():
        document = json.loads(line)
        if "_aws" not in document:
            call += "duration_ms" in document  # each call's access log comes before its EMF
            continue
        if at is not None:
            document["_aws"]["Timestamp"] = at[call]
        lines.append(json.dumps(document, separators=(",", ":")))
    return lines


def body() -> dict[str, Any]:
    dashboard = build(SPEC)
    resolved: dict[str, Any] = resolve(dashboard.body, dashboard.params)
    return resolved


def metric_widgets() -> list[dict[str, Any]]:
    return [w["properties"] for w in body()["widgets"] if w["type"] == "metric"]


def reads_ours(properties: dict[str, Any]) -> bool:
    return DEFAULT_NAMESPACE in json.dumps(properties["metrics"])


@pytest.fixture(scope="module")
def png(written: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[Chart, ...]]:
    """The PNG of the real capture, and the charts drawn in it."""
    path = tmp_path_factory.mktemp("preview") / "dashboard.png"
    return path, preview(SPEC, parse_emf(written), path)


def widgets_of(path: Path) -> list[dict[str, Any]]:
    with Image.open(path) as image:
        summary: dict[str, Any] = json.loads(image.info[METADATA_KEY])
    widgets: list[dict[str, Any]] = summary["widgets"]
    return widgets


def test_png_names_every_metric_widget_with_its_points(
    png: tuple[Path, tuple[Chart, ...]],
) -> None:
    """The text chunk lists the dashboard's metric widgets in order; ours have points."""
    path, found = png
    widgets = widgets_of(path)
    assert [w["title"] for w in widgets] == [p["title"] for p in metric_widgets()]
    assert [w["points"] for w in widgets] == [chart.points for chart in found]
    for widget, properties in zip(widgets, metric_widgets(), strict=True):
        if reads_ours(properties):
            assert widget["points"] > 0, widget["title"]
            assert widget["colours"], widget["title"]
        else:
            assert widget["points"] == 0
            assert widget["not_drawn"], widget["title"]


def colour_pixels(image: Image.Image, box: list[int], colours: list[str]) -> int:
    """Pixels inside ``box`` (less its frame) within a small distance of one of ``colours``."""
    left, top, right, bottom = box
    wanted = [ImageColor.getrgb(colour)[:3] for colour in colours]
    total = 0
    inside = image.crop((left + 3, top + 3, right - 3, bottom - 3))
    for count, pixel in inside.getcolors(1 << 22) or []:
        assert isinstance(pixel, tuple)
        near = (max(abs(a - b) for a, b in zip(pixel, rgb, strict=True)) <= 8 for rgb in wanted)
        total += count if any(near) else 0
    return total


def test_png_pixels_show_the_series_inside_each_plot_area(
    png: tuple[Path, tuple[Chart, ...]],
) -> None:
    """Panels with data draw their lines' colours in their plot area; AWS-only ones none."""
    path, found = png
    widgets = widgets_of(path)
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    assert image.size == image_size(found) == (1800, 60 + 70 * 24)
    boxes = [w["box"] for w in widgets]
    for left, top, right, bottom in boxes:
        assert 0 <= left < left + 300 < right <= image.width
        assert 0 <= top < top + 150 < bottom <= image.height
    for a, b in ((a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :]):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    every_colour = [*PALETTE, "#d62728"]
    for widget in widgets:
        if widget["points"]:
            assert colour_pixels(image, widget["box"], widget["colours"]) >= 12, widget["title"]
        else:
            assert colour_pixels(image, widget["box"], every_colour) == 0, widget["title"]
            left, top, right, bottom = widget["box"]
            shades = image.crop((left + 3, top + 3, right - 3, bottom - 3)).getcolors(1 << 22)
            assert len(shades or ()) > 1  # the panel's note is written in it


def test_values_are_what_cloudwatch_would_compute(written: str) -> None:
    """One period holding all four calls: sums, rates, percentiles and SEARCH per route."""
    capture = parse_emf("\n".join(emf_lines(written, [T0 + 100] * len(CALLS))))
    latencies = sorted(
        value
        for (_, name, dims), values in capture.samples.items()
        if name == "Latency" and dims == (("service", SERVICE),)
        for _, value in values
    )
    found = {
        c.title: {s.label: dict(s.points) for s in c.series}
        for c in charts(body(), capture.samples, 1)
    }
    start = T0 // 1000
    assert found["Error rate (%)"]["server errors (%)"] == {start: 25.0}
    assert found["Error rate (%)"]["client errors (%)"] == {start: 25.0}
    assert found["Error rate (%)"]["timeouts (count)"] == {}
    assert found["Cold starts"] == {
        "cold starts": {start: 1.0},
        "cold-start rate (%)": {start: 25.0},
    }
    latency = found["Latency (ms): handler and front door"]
    assert latency["handler p50"] == {start: latencies[1]}  # nearest rank: 2nd of 4
    assert latency["handler p99"] == {start: latencies[3]}
    routes = found["Server errors by route"]
    assert routes == {
        "/items/{item_id:int}": {start: 0.0},
        "/raise": {start: 1.0},
        "unmatched": {start: 0.0},
    }
    stages = found["Stage latency (ms, average, stacked)"]
    assert set(stages) == {"parse", "lifespan", "app", "encode"}


@pytest.mark.parametrize(
    ("gap_ms", "period"),
    [
        pytest.param(2_000, 1, id="local-run-seconds"),
        pytest.param(600_000, 1, id="ten-minutes-seconds"),
        pytest.param(700_000, 60, id="longer-minutes"),
    ],
)
def test_period_follows_the_span(written: str, gap_ms: int, period: int) -> None:
    """One-second periods for a local run, one-minute ones past ten minutes of data."""
    stamps = [T0, T0 + gap_ms // 3, T0 + 2 * gap_ms // 3, T0 + gap_ms]
    capture = parse_emf("\n".join(emf_lines(written, stamps)))
    assert auto_period(capture.samples) == period
    requests = next(c for c in charts(body(), capture.samples, period) if c.title == "Cold starts")
    starts = [start for start, _ in requests.series[1].points]
    assert all(start % period == 0 for start in starts)


def test_unsupported_math_is_listed_and_the_rest_drawn(written: str) -> None:
    """Expressions and statistics outside the supported set are named, not fatal."""
    ours = [DEFAULT_NAMESPACE, "Requests", "service", SERVICE]
    metrics = [
        [*ours, {"id": "r", "stat": "Sum", "label": "requests"}],
        [DEFAULT_NAMESPACE, "Latency", "service", SERVICE, {"id": "t", "stat": "tm99"}],
        [{"expression": "METRICS()", "id": "all"}],
        [{"expression": "FILL(r, REPEAT)", "id": "filled"}],
        [{"expression": "r / t", "id": "ratio"}],
        [{"expression": "r ** 2", "id": "square"}],
        [{"expression": "SEARCH('{AWS/Lambda,FunctionName} Errors', 'Sum')", "id": "s"}],
        [{"expression": "-r + 2 * (r - r) / FILL(r, 0)", "id": "math", "label": "math"}],
    ]
    widget = {"type": "metric", "x": 0, "y": 0, "width": 24, "height": 6}
    widget["properties"] = {"title": "custom", "metrics": metrics}
    capture = parse_emf("\n".join(emf_lines(written, [T0] * len(CALLS))))
    (chart,) = charts({"widgets": [widget]}, capture.samples, 1)
    assert [s.label for s in chart.series] == ["requests", "math"]
    assert dict(chart.series[1].points) == {T0 // 1000: -4.0}
    assert [text.split(":")[0] for text in chart.unsupported] == [
        "Latency",
        "all",
        "filled",
        "ratio",
        "square",
        "s",
    ]
    assert "statistic 'tm99'" in chart.unsupported[0]


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def lambda_log(lines: list[str]) -> list[str]:
    """The lines as a function's log stream holds them, with Lambda's own lines around."""
    return [
        f"START RequestId: {REQUEST_ID} Version: $LATEST",
        *lines,
        f"END RequestId: {REQUEST_ID}",
        f"REPORT RequestId: {REQUEST_ID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 512 MB\tMax Memory Used: 80 MB\tInit Duration: 456.78 ms",
    ]


def shapes(lines: list[str]) -> dict[str, bytes]:
    """The same log events in each shape they are downloaded in."""
    events = lambda_log(lines)
    filtered = {
        "events": [
            {
                "logStreamName": STREAM,
                "timestamp": T0 + index,
                "message": message + "\n",
                "ingestionTime": T0 + index + 250,
                "eventId": f"{38_000_000 + index:056d}",
            }
            for index, message in enumerate(events)
        ],
        "searchedLogStreams": [],
    }
    json_format = [
        json.dumps({"timestamp": iso(T0), "level": "INFO", "requestId": REQUEST_ID, "message": e})
        for e in events
    ]
    return {
        "plain": "\n".join(lines).encode(),
        "lambda-text-log": "\n".join(events).encode(),
        "s3-export-gzip": gzip.compress("".join(f"{iso(T0)} {e}\n" for e in events).encode()),
        "logs-tail": "".join(f"{iso(T0)} {STREAM} {e}\n" for e in events).encode(),
        "filter-log-events": json.dumps(filtered, indent=4).encode(),
        "lambda-json-log": "\n".join(json_format).encode(),
    }


@pytest.mark.parametrize(
    ("shape", "skipped"),
    [
        pytest.param("plain", 0, id="plain"),
        pytest.param("lambda-text-log", 3, id="lambda-text-log"),
        pytest.param("s3-export-gzip", 3, id="s3-export-gzip"),
        pytest.param("logs-tail", 3, id="logs-tail"),
        pytest.param("filter-log-events", 3, id="filter-log-events"),
        pytest.param("lambda-json-log", 3, id="lambda-json-log"),
    ],
)
def test_every_download_shape_reads_the_same_values(
    written: str, tmp_path: Path, shape: str, skipped: int
) -> None:
    """Exports, ``aws logs`` output and Lambda's log formats give the plain file's values."""
    lines = emf_lines(written)
    path = tmp_path / "events"
    path.write_bytes(shapes(lines)[shape])
    capture = read_emf(path)
    assert capture.samples == parse_emf("\n".join(lines)).samples
    assert (capture.documents, capture.skipped, capture.invalid) == (len(lines), skipped, 0)
    assert capture.records == len(lines) + skipped


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        pytest.param({}, True, id="valid"),
        pytest.param({"Timestamp": None}, False, id="no-timestamp"),
        pytest.param({"Requests": "1"}, False, id="value-not-a-number"),
        pytest.param({"Requests": []}, False, id="no-values"),
        pytest.param({"service": 7}, False, id="dimension-not-a-string"),
        pytest.param({"Namespace": None}, False, id="no-namespace"),
    ],
)
def test_a_document_breaking_the_spec_is_counted_not_read(
    change: dict[str, Any], valid: bool
) -> None:
    """CloudWatch extracts nothing from an invalid EMF document; neither does the preview."""
    directive = {
        "Namespace": change.get("Namespace", DEFAULT_NAMESPACE),
        "Dimensions": [["service"]],
        "Metrics": [{"Name": "Requests", "Unit": "Count"}],
    }
    meta = {"Timestamp": change.get("Timestamp", T0), "CloudWatchMetrics": [directive]}
    document = {"_aws": meta, "service": SERVICE, "Requests": [1.0]}
    document.update((key, change[key]) for key in ("service", "Requests") if key in change)
    capture = parse_emf(json.dumps(document) + "\nnot json at all\n")
    assert (capture.records, capture.documents, capture.skipped) == (2, 1, 1)
    assert (capture.invalid, bool(capture.samples)) == (int(not valid), valid)


def test_invoke_json_output_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``invoke --json`` documents, appended to one file, are previewed like EMF lines."""
    documents = []
    for path, _ in CALLS:
        argv = ["invoke", "tests.apps.starlette_app:app", "--path", path, "--service", SERVICE]
        assert main([*argv, "--json"]) == 0
        documents.append(capsys.readouterr().out)
    emf = tmp_path / "invocations.json"
    emf.write_text("".join(documents), encoding="utf-8")
    capture = read_emf(emf)
    assert capture.documents == sum(len(json.loads(d)["metrics"]) for d in documents)
    assert (capture.skipped, capture.invalid) == (0, 0)
    found = preview(SPEC, capture, tmp_path / "x.png")
    cold = next(chart for chart in found if chart.title == "Cold starts")
    assert sum(value for _, value in cold.series[0].points) == len(CALLS)  # one run each


def test_html_is_one_self_contained_page(written: str, tmp_path: Path) -> None:
    """The page inlines its SVG, names no URL but XML namespaces, and tabulates the widgets."""
    path = tmp_path / "dashboard.html"
    found = preview(SPEC, parse_emf(written), path)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 1
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\((?!#)|(src|href)=\"(?!#)", page)
    assert not re.search(r"https?://", re.sub(r'xmlns(:\w+)?="[^"]*"', "", page))
    for chart in found:  # the table: title, points, lines, and what was not drawn
        assert f"<tr><td>{html.escape(chart.title)}</td><td>{chart.points}</td>" in page
        assert f"<td>{html.escape('; '.join(chart.not_local))}</td></tr>" in page
    # matplotlib's SVG keeps each text as a comment by its glyphs: the empty panels' label.
    assert page.count(f"<!-- {NOT_LOCAL} -->") >= sum(chart.aws_only for chart in found) == 4


def test_cli_fills_the_spec_from_the_emf(
    written: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without spec flags, service, function and route widgets come from the EMF itself."""
    emf, out = tmp_path / "emf.jsonl", tmp_path / "preview.png"
    emf.write_text(written, encoding="utf-8")
    logs = sum('"_aws"' not in line for line in written.splitlines())  # our JSON log lines
    assert main(["dashboard", "preview", "--emf", str(emf), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert printed.out == (
        f"wrote {out}: 10 metric widgets, 6 with data, from "
        f"{len(emf_lines(written))} EMF documents ({logs} other records)\n"
    )
    assert printed.err == ""
    assert [w["title"] for w in widgets_of(out)] == [p["title"] for p in metric_widgets()]


@pytest.mark.parametrize(
    ("flags", "content", "message"),
    [
        pytest.param(
            ["--out", "x.pdf"], None, "Expected --out to end in .png or .html", id="format"
        ),
        pytest.param([], b"", "found none in 0 records", id="empty"),
        pytest.param([], b"START RequestId: x\nhello\n", "found none in 2 records", id="no-emf"),
        pytest.param([], b"\x1f\x8b\x08\x00", "Could not read the EMF file", id="bad-gzip"),
        pytest.param(["--period", "0"], None, "a period of 1 second or more", id="period"),
        pytest.param(["--front-door", "rest", "--api-id", "x"], None, "--api-id", id="flag"),
    ],
)
def test_cli_errors_are_one_line(
    written: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    content: bytes | None,
    message: str,
) -> None:
    """Each bad input is one line on stderr, with exit status 2."""
    emf = tmp_path / "emf.jsonl"
    emf.write_bytes(written.encode() if content is None else content)
    argv = ["dashboard", "preview", "--emf", str(emf), "--out", str(tmp_path / "x.png"), *flags]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert message in err


def test_cli_names_the_extra_when_matplotlib_is_missing(
    written: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without matplotlib the command says which extra to install, in one line."""
    emf = tmp_path / "emf.jsonl"
    emf.write_text(written, encoding="utf-8")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["dashboard", "preview", "--emf", str(emf), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "pip install 'traced-asgi-lambda[preview]'" in err


def test_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not there is reported by name."""
    missing = tmp_path / "missing.jsonl"
    assert main(["dashboard", "preview", "--emf", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"traced-asgi-lambda dashboard: error: Could not read the EMF file {str(missing)!r}: "
        "No such file or directory.\n"
    )


def test_import_and_drawing_leave_matplotlib_global_state_alone(
    written: str, tmp_path: Path
) -> None:
    """Importing loads no matplotlib; drawing never imports pyplot, which holds its globals."""
    emf = tmp_path / "emf.jsonl"
    emf.write_text(written, encoding="utf-8")
    script = (
        "import sys\n"
        "import traced_asgi_lambda.dashboard.preview as p\n"
        "assert 'matplotlib' not in sys.modules\n"
        "from traced_asgi_lambda.cli import main\n"
        f"assert main(['dashboard', 'preview', '--emf', {str(emf)!r}, "
        f"'--out', {str(tmp_path / 'x.png')!r}]) == 0\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    run = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr


def test_preview_refuses_a_capture_without_values(tmp_path: Path) -> None:
    """Nothing to draw is an error that says what was read."""
    with pytest.raises(PreviewError, match="Expected EMF values, but 1 records held none"):
        preview(SPEC, parse_emf("START RequestId: x\n"), tmp_path / "x.png")
