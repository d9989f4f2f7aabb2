"""EMF metrics: exact metric sets per outcome, routes, limits, and never failing an invocation."""

from __future__ import annotations

import io
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.emf_schema import MAX_LINE_BYTES, validate_emf_line
from traced_asgi_lambda.exceptions import ConfigurationError
from traced_asgi_lambda.telemetry import emf
from traced_asgi_lambda.telemetry.emf import EmfMetrics, metrics_enabled
from traced_asgi_lambda.telemetry.metric_names import ALL_METRICS, DEFAULT_NAMESPACE
from traced_asgi_lambda.telemetry.outcome import STAGES, Outcome

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "Orders"

# A blob, flattened for exact comparison: namespace, dimension sets, the dimension values
# they reference, and metric name -> (unit, values).
Blob = tuple[str, list[list[str]], dict[str, str], dict[str, tuple[str, Any]]]


def outcome(**fields: Any) -> Outcome:
    """A warm, successful GET with three stages, changed by ``fields``."""
    defaults: dict[str, Any] = {
        "function_name": "orders-fn",
        "request_id": "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
        "cold_start": False,
        "method": "GET",
        "path": "/items/7",
        "route": "/items/{id}",
        "status": 200,
        "duration_ms": 4.5,
        "stages": {"parse": 0.25, "app": 3.75, "encode": 0.125},
    }
    return Outcome(**{**defaults, **fields})


def make(**kwargs: Any) -> tuple[EmfMetrics, io.StringIO]:
    stream = io.StringIO()
    settings: dict[str, Any] = {
        "namespace": NAMESPACE,
        "service": "orders",
        "function_name": "orders-fn",
        "environ": {},
        "stream": stream,
    }
    return EmfMetrics(**{**settings, **kwargs}), stream


def blobs(text: str) -> list[Blob]:
    """Every line validated against the EMF spec, then flattened."""
    assert text.endswith("\n")
    flat: list[Blob] = []
    for line in text.splitlines():
        document = validate_emf_line(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            keys = sorted({key for names in directive["Dimensions"] for key in names})
            metrics = {
                m["Name"]: (m.get("Unit", "None"), document[m["Name"]])
                for m in directive["Metrics"]
            }
            values = {key: document[key] for key in keys}
            flat.append((directive["Namespace"], directive["Dimensions"], values, metrics))
    return flat


def cold_blob(function_name: str = "orders-fn") -> Blob:
    return (
        NAMESPACE,
        [["function_name", "service"]],
        {"function_name": function_name, "service": "orders"},
        {"ColdStart": ("Count", [1.0])},
    )


def request_blob(latency: float, client: float, server: float) -> Blob:
    return (
        NAMESPACE,
        [["service"]],
        {"service": "orders"},
        {
            "Latency": ("Milliseconds", [latency]),
            "Requests": ("Count", [1.0]),
            "ClientErrors": ("Count", [client]),
            "ServerErrors": ("Count", [server]),
        },
    )


def stage_blob(stage: str, milliseconds: float) -> Blob:
    return (
        NAMESPACE,
        [["service", "stage"]],
        {"service": "orders", "stage": stage},
        {"StageLatency": ("Milliseconds", [milliseconds])},
    )


WARM_STAGES = [stage_blob("parse", 0.25), stage_blob("app", 3.75), stage_blob("encode", 0.125)]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param(
            outcome(
                cold_start=True,
                duration_ms=312.5,
                init_duration_ms=850.0,
                stages={"parse": 0.5, "lifespan": 300.0, "app": 11.75, "encode": 0.25},
            ),
            [
                cold_blob(),
                request_blob(312.5, 0.0, 0.0),
                stage_blob("parse", 0.5),
                stage_blob("lifespan", 300.0),
                stage_blob("app", 11.75),
                stage_blob("encode", 0.25),
            ],
            id="cold",
        ),
        pytest.param(outcome(), [request_blob(4.5, 0.0, 0.0), *WARM_STAGES], id="warm"),
        pytest.param(
            outcome(route=None, status=404),
            [request_blob(4.5, 1.0, 0.0), *WARM_STAGES],
            id="404",
        ),
        pytest.param(
            outcome(status=500, error_type="500"),
            [request_blob(4.5, 0.0, 1.0), *WARM_STAGES],
            id="500",
        ),
        pytest.param(
            outcome(status=500, error_type="ValueError"),
            [request_blob(4.5, 0.0, 1.0), *WARM_STAGES],
            id="app-exception",
        ),
        pytest.param(
            outcome(
                method=None,
                path=None,
                route=None,
                status=None,
                error_type="MalformedEventError",
                duration_ms=0.75,
                stages={"parse": 0.5},
            ),
            [request_blob(0.75, 0.0, 1.0), stage_blob("parse", 0.5)],
            id="malformed-event",
        ),
        pytest.param(
            outcome(
                cold_start=True,
                method=None,
                route=None,
                status=None,
                error_type="UnsupportedEventError",
                duration_ms=0.75,
                stages={"parse": 0.5},
            ),
            [cold_blob(), request_blob(0.75, 0.0, 1.0), stage_blob("parse", 0.5)],
            id="cold-and-failing",
        ),
    ],
)
def test_exact_metrics_per_outcome(case: Outcome, expected: list[Blob]) -> None:
    """Each outcome yields exactly these metrics, values, dimensions and namespace."""
    emitter, stream = make()
    emitter.emit(case)
    assert blobs(stream.getvalue()) == expected
    assert emitter.failures == 0


def test_non_http_invocation_has_no_request_counts() -> None:
    """A queue-triggered invocation reports its latency and stages, not HTTP request counts."""
    emitter, stream = make()
    emitter.emit(outcome(trigger="pubsub", method=None, route=None, status=None))
    latency = (
        NAMESPACE,
        [["service"]],
        {"service": "orders"},
        {"Latency": ("Milliseconds", [4.5])},
    )
    assert blobs(stream.getvalue()) == [latency, *WARM_STAGES]


def test_every_invocation_is_one_write() -> None:
    """All blobs of an invocation, ColdStart included, leave in a single write call."""

    class CountingStream(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            self.writes += 1
            return super().write(text)

    stream = CountingStream()
    emitter, _ = make(stream=stream)
    emitter.emit(outcome(cold_start=True))
    assert stream.writes == 1
    assert len(stream.getvalue().splitlines()) == 5


def test_stdout_is_looked_up_when_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a stream, the lines go to whatever sys.stdout is at emit time."""
    emitter, _ = make(stream=None)
    later = io.StringIO()
    monkeypatch.setattr(sys, "stdout", later)
    emitter.emit(outcome())
    assert blobs(later.getvalue()) == [request_blob(4.5, 0.0, 0.0), *WARM_STAGES]


@pytest.mark.parametrize(
    ("namespace", "environ", "expected"),
    [
        pytest.param("Given", {"POWERTOOLS_METRICS_NAMESPACE": "Env"}, "Given", id="argument"),
        pytest.param(None, {"POWERTOOLS_METRICS_NAMESPACE": "Env"}, "Env", id="powertools-env"),
        pytest.param(None, {}, DEFAULT_NAMESPACE, id="default"),
    ],
)
def test_namespace_resolution(
    namespace: str | None, environ: dict[str, str], expected: str
) -> None:
    """The namespace is the argument, else POWERTOOLS_METRICS_NAMESPACE, else the default."""
    emitter, stream = make(namespace=namespace, environ=environ)
    emitter.emit(outcome())
    assert {blob[0] for blob in blobs(stream.getvalue())} == {expected}


def test_powertools_function_name_variable_names_the_cold_start() -> None:
    """POWERTOOLS_METRICS_FUNCTION_NAME sets ColdStart's function_name, as in Powertools."""
    emitter, stream = make(environ={"POWERTOOLS_METRICS_FUNCTION_NAME": "orders-prod"})
    emitter.emit(outcome(cold_start=True))
    assert blobs(stream.getvalue())[0] == cold_blob("orders-prod")


def test_app_powertools_metrics_do_not_leak_into_ours() -> None:
    """Values the app adds to Powertools' class-shared Metrics never appear in our lines."""
    from aws_lambda_powertools import Metrics

    app_metrics = Metrics(namespace="App", service="app")
    app_metrics.add_metric(name="BookingConfirmed", unit="Count", value=1)
    try:
        emitter, stream = make()
        emitter.emit(outcome())
        assert blobs(stream.getvalue()) == [request_blob(4.5, 0.0, 0.0), *WARM_STAGES]
    finally:
        app_metrics.clear_metrics()


# Routes ------------------------------------------------------------------------------------


def route_blob(route: str, latency: float = 4.5) -> Blob:
    return (
        NAMESPACE,
        [["service"], ["service", "route"]],
        {"service": "orders", "route": route},
        {
            "Latency": ("Milliseconds", [latency]),
            "Requests": ("Count", [1.0]),
            "ClientErrors": ("Count", [0.0]),
            "ServerErrors": ("Count", [0.0]),
        },
    )


def test_route_dimension_is_off_by_default() -> None:
    """By default no line carries a route, so the metric count does not grow with routes."""
    emitter, stream = make()
    emitter.emit(outcome())
    assert "route" not in stream.getvalue()


def test_route_dimension_adds_a_per_route_set() -> None:
    """With routes on, request metrics go under [service] and [service, route]; stages don't."""
    emitter, stream = make(route_dimensions=True)
    emitter.emit(outcome())
    assert blobs(stream.getvalue()) == [route_blob("/items/{id}"), *WARM_STAGES]


def test_routes_are_capped_per_environment() -> None:
    """Past max_routes distinct templates, new routes are 'other'; known ones keep their name."""
    emitter, stream = make(route_dimensions=True, max_routes=2)
    routes = ["/a", None, "/b", "/c", "/a", "/café", "/b"]
    for route in routes:
        emitter.emit(outcome(route=route, stages={}))
    reported = [blob[2]["route"] for blob in blobs(stream.getvalue())]
    assert reported == ["/a", "unmatched", "/b", "other", "/a", "other", "/b"]


def test_invalid_route_is_other_even_under_the_cap() -> None:
    """A route that is not a valid CloudWatch dimension value is reported as 'other'."""
    emitter, stream = make(route_dimensions=True)
    emitter.emit(outcome(route="/x" * 600, stages={}))
    assert blobs(stream.getvalue()) == [route_blob("other")]


# Limits ------------------------------------------------------------------------------------


def merged(lines: list[str]) -> dict[str, list[float]]:
    """Metric name -> all its values across the lines, each line validated."""
    values: dict[str, list[float]] = {}
    for line in lines:
        document = validate_emf_line(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                values.setdefault(metric["Name"], []).extend(document[metric["Name"]])
    return values


def test_more_than_100_metrics_split_across_lines() -> None:
    """101 metrics become a line of 100 and a line of 1, none lost."""
    emitter, _ = make()
    metrics = {f"M{i}": ("Count", [float(i)]) for i in range(101)}
    lines = emitter.encode({"service": "orders"}, metrics)
    assert [len(json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Metrics"]) for line in lines] == [
        100,
        1,
    ]
    assert merged(lines) == {name: values for name, (_, values) in metrics.items()}


def test_more_than_100_values_split_across_lines() -> None:
    """250 values of one metric become lines of 100, 100 and 50, in order."""
    emitter, _ = make()
    values = [float(i) for i in range(250)]
    lines = emitter.encode({"service": "orders"}, {"Latency": ("Milliseconds", values)})
    assert [len(json.loads(line)["Latency"]) for line in lines] == [100, 100, 50]
    assert merged(lines) == {"Latency": values}


def test_lines_over_256_kb_are_split() -> None:
    """A set within the count limits but over 256 KB is halved until every line fits."""
    emitter, _ = make()
    metrics = {
        f"{i:03d}".ljust(255, "m"): (
            "Milliseconds",
            [1.2345678901234567e100 + j * 1e84 for j in range(100)],
        )
        for i in range(100)
    }
    assert len(json.dumps(metrics)) > MAX_LINE_BYTES  # one line would be too big
    lines = emitter.encode({"service": "orders"}, metrics)
    assert len(lines) > 1
    assert all(len(line.encode()) <= MAX_LINE_BYTES for line in lines)
    assert merged(lines) == {name: values for name, (_, values) in metrics.items()}


def test_a_value_that_cannot_fit_is_an_error_not_a_silent_drop() -> None:
    """When even one value is over 256 KB (absurd dimensions), encode says so."""
    emitter, _ = make()
    with pytest.raises(ValueError, match="fit in 262144 bytes"):
        emitter.encode({"service": "s" * MAX_LINE_BYTES}, {"Latency": ("Milliseconds", [1.0])})


def test_non_finite_values_are_left_out() -> None:
    """NaN and infinities cannot be JSON numbers; the finite values still go out."""
    emitter, _ = make()
    values = [1.0, math.nan, math.inf, -math.inf, 2.0]
    lines = emitter.encode({"service": "orders"}, {"Latency": ("Milliseconds", values)})
    assert merged(lines) == {"Latency": [1.0, 2.0]}
    assert emitter.encode({"service": "orders"}, {"Latency": ("Milliseconds", [math.nan])}) == []


# Failures ----------------------------------------------------------------------------------


class BrokenStream(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError("stdout is closed")


def test_broken_stream_never_raises_and_logs_once() -> None:
    """A stream that raises costs the metrics of that call only, logged once, counted always."""
    messages: list[str] = []
    emitter, _ = make(stream=BrokenStream(), log=messages.append)
    emitter.emit(outcome(cold_start=True))
    emitter.emit(outcome())
    assert emitter.failures == 2
    assert len(messages) == 1
    assert "OSError: stdout is closed" in messages[0]


def test_a_raising_log_does_not_raise_either() -> None:
    """Even the failure report failing leaves the invocation alone."""

    def log(message: str) -> None:
        raise RuntimeError("logging is broken too")

    emitter, _ = make(stream=BrokenStream(), log=log)
    emitter.emit(outcome())
    assert emitter.failures == 1


# Configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "enabled"),
    [
        pytest.param({}, True, id="default-on"),
        pytest.param({"TRACED_ASGI_LAMBDA_METRICS": "off"}, False, id="off"),
        pytest.param({"TRACED_ASGI_LAMBDA_METRICS": "FALSE"}, False, id="false"),
        pytest.param({"TRACED_ASGI_LAMBDA_METRICS": "0"}, False, id="zero"),
        pytest.param({"TRACED_ASGI_LAMBDA_METRICS": "on"}, True, id="on"),
        pytest.param({"POWERTOOLS_METRICS_DISABLED": "true"}, False, id="powertools-disabled"),
        pytest.param({"POWERTOOLS_METRICS_DISABLED": "false"}, True, id="powertools-enabled"),
        pytest.param({"POWERTOOLS_DEV": "true"}, False, id="powertools-dev"),
        pytest.param(
            {"POWERTOOLS_DEV": "true", "POWERTOOLS_METRICS_DISABLED": "false"},
            True,
            id="dev-but-not-disabled",
        ),
        pytest.param(
            {"TRACED_ASGI_LAMBDA_METRICS": "on", "POWERTOOLS_METRICS_DISABLED": "true"},
            True,
            id="ours-wins",
        ),
    ],
)
def test_metrics_enabled(environ: dict[str, str], enabled: bool) -> None:
    """Our variable decides when set; otherwise Powertools' own rule does."""
    assert metrics_enabled(environ) is enabled


def test_metrics_enabled_rejects_unknown_values() -> None:
    """A typo in the switch is a configuration error naming the variable, not a silent on."""
    with pytest.raises(ConfigurationError, match=r"TRACED_ASGI_LAMBDA_METRICS.*'of'"):
        metrics_enabled({"TRACED_ASGI_LAMBDA_METRICS": "of"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"service": ""}, "Expected service", id="empty-service"),
        pytest.param({"service": "caf\u00e9"}, "Expected service", id="non-ascii-service"),
        pytest.param({"function_name": " "}, "Expected function_name", id="blank-function"),
        pytest.param({"namespace": ":bad"}, "namespace", id="namespace-colon"),
        pytest.param({"namespace": "n" * 256}, "namespace", id="namespace-long"),
        pytest.param({"max_routes": -1}, "max_routes", id="negative-cap"),
    ],
)
def test_bad_configuration_fails_at_construction(kwargs: dict[str, Any], message: str) -> None:
    """Values CloudWatch would reject fail when the emitter is built, not on every call."""
    with pytest.raises(ConfigurationError, match=message):
        make(**kwargs)


def test_metric_names_cover_every_emitted_metric() -> None:
    """Every metric and unit in the output is declared in metric_names, and vice versa."""
    emitter, stream = make(route_dimensions=True)
    emitter.emit(outcome(cold_start=True, stages=dict.fromkeys(STAGES, 1.0), timed_out=True))
    emitted = {
        (name, unit) for blob in blobs(stream.getvalue()) for name, (unit, _) in blob[3].items()
    }
    assert emitted == {(spec.name, spec.unit) for spec in ALL_METRICS}


@pytest.mark.parametrize(
    "route_dimensions", [pytest.param(False, id="plain"), pytest.param(True, id="routes")]
)
def test_metric_names_declare_every_emitted_dimension_set(route_dimensions: bool) -> None:
    """The dimension sets a metric is published under are those metric_names declares.

    The dashboards read MetricSpec.dimensions and per_route; EMF writes its sets itself.
    """
    emitter, stream = make(route_dimensions=route_dimensions)
    emitter.emit(outcome(cold_start=True, stages=dict.fromkeys(STAGES, 1.0), timed_out=True))
    specs = {spec.name: spec for spec in ALL_METRICS}
    emitted: dict[str, set[tuple[str, ...]]] = {}
    for _, dimension_sets, _, metrics in blobs(stream.getvalue()):
        for name in metrics:
            emitted.setdefault(name, set()).update(tuple(sorted(d)) for d in dimension_sets)
    for name, sets in emitted.items():
        spec = specs[name]
        declared = {tuple(sorted(spec.dimensions))}
        if route_dimensions and spec.per_route:
            declared.add(tuple(sorted((*spec.dimensions, "route"))))
        assert sets == declared, name


def test_importing_the_metrics_modules_loads_no_telemetry_sdk() -> None:
    """emf, otel_metrics and metric_names import neither Powertools nor OpenTelemetry."""
    probe = (
        "import sys\n"
        "import traced_asgi_lambda.telemetry.emf, traced_asgi_lambda.telemetry.otel_metrics\n"
        "import traced_asgi_lambda.telemetry.metric_names\n"
        "print(sorted(m for m in sys.modules\n"
        "             if m.startswith(('aws_lambda_powertools', 'opentelemetry'))))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# The validator itself ----------------------------------------------------------------------


def line(document: dict[str, Any]) -> str:
    return json.dumps(document)


def good() -> dict[str, Any]:
    """A valid document: the spec's own example shape, with a current timestamp."""
    import time

    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": "lambda-function-metrics",
                    "Dimensions": [["functionVersion"]],
                    "Metrics": [{"Name": "time", "Unit": "Milliseconds"}],
                }
            ],
        },
        "functionVersion": "$LATEST",
        "time": 100,
        "requestId": "989ffbf8-9ace-4817-a57c-e4dd734019ee",
    }


def changed(path: str, value: Any) -> str:
    """The good document with the member at a dotted path (list indexes as digits) replaced."""
    document = good()
    *parents, last = path.split(".")
    target: Any = document
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return line(document)


_DELETE = object()
DIRECTIVE = "_aws.CloudWatchMetrics.0"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{not json", "to be JSON", id="not-json"),
        pytest.param(line(good()).replace('"time": 100', '"time": NaN'), "no NaN", id="nan"),
        pytest.param(changed("_aws", _DELETE), "'_aws' is a required property", id="no-aws"),
        pytest.param(changed("_aws.Timestamp", 1.5), "not of type 'integer'", id="float-time"),
        pytest.param(changed("_aws.Timestamp", 1_700_000_000), "within 14 days", id="seconds"),
        pytest.param(changed("_aws.LogGroupName", "x"), "Additional properties", id="extra"),
        pytest.param(changed(f"{DIRECTIVE}.Namespace", ""), "should be non-empty", id="no-ns"),
        pytest.param(
            changed(f"{DIRECTIVE}.Dimensions", [[f"d{i}" for i in range(31)]]),
            "is too long",
            id="31-dimensions",
        ),
        pytest.param(
            changed(f"{DIRECTIVE}.Metrics", [{"Name": f"m{i}"} for i in range(101)]),
            "is too long",
            id="101-metrics",
        ),
        pytest.param(changed(f"{DIRECTIVE}.Metrics.0.Unit", "ms"), "is not one of", id="unit"),
        pytest.param(
            changed(f"{DIRECTIVE}.Metrics.0.StorageResolution", 30), "is not one of", id="res"
        ),
        pytest.param(changed("functionVersion", _DELETE), "member of the root", id="no-dim"),
        pytest.param(changed("functionVersion", 7), "string value", id="numeric-dim"),
        pytest.param(changed("functionVersion", "caf\u00e9"), "ASCII", id="non-ascii-dim"),
        pytest.param(changed("time", _DELETE), "member of the root", id="no-metric"),
        pytest.param(changed("time", "100"), "number or an array", id="string-metric"),
        pytest.param(changed("time", True), "number or an array", id="bool-metric"),
        pytest.param(changed("time", list(range(101))), "1 to 100 values", id="101-values"),
        pytest.param(changed("time", []), "1 to 100 values", id="no-values"),
        pytest.param(changed("time", 1e-200), r"2\^-360", id="too-small"),
        pytest.param(changed("time", [1, 1e200]), r"2\^-360", id="too-large"),
        pytest.param(
            changed(f"{DIRECTIVE}.Metrics", [{"Name": "time"}, {"Name": "time"}]),
            "twice",
            id="duplicate-metric",
        ),
        pytest.param(changed("pad", "x" * MAX_LINE_BYTES), "at most 262144 bytes", id="size"),
        pytest.param(line(good()) + "\n" + line(good()), "one EMF document", id="two-lines"),
    ],
)
def test_validator_rejects_what_the_spec_forbids(text: str, message: str) -> None:
    """The schema catches each kind of invalid document, so passing it means something."""
    with pytest.raises(AssertionError, match=message):
        validate_emf_line(text)


def test_validator_accepts_the_spec_example() -> None:
    """The spec's own example (with a current timestamp) is valid."""
    assert validate_emf_line(line(good()))["functionVersion"] == "$LATEST"


@pytest.mark.parametrize(
    "route_dimensions", [pytest.param(False, id="plain"), pytest.param(True, id="routes")]
)
def test_cached_lines_are_what_powertools_writes(route_dimensions: bool) -> None:
    """The fast path's lines equal Powertools' own serialisation, timestamp aside."""
    emitter, _ = make(route_dimensions=route_dimensions)
    case = outcome(cold_start=True, stages=dict.fromkeys(STAGES, 2.5), route="/items/{id}")
    for _ in range(3):  # the first call builds the templates, later ones use them
        fast = emitter.render(case).splitlines()
    slow: list[str] = []
    for line in fast:
        blob = json.loads(line)
        dimensions = {
            name: blob[name] for name in blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"][-1]
        }
        metrics = {
            m["Name"]: (m["Unit"], tuple(blob[m["Name"]]))
            for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        }
        extra = [tuple(s) for s in blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"][:-1]]
        chunk_lines: list[str] = []
        for chunk in emf._chunks(metrics):
            emitter._fit(dimensions, extra, chunk, chunk_lines)
        slow += chunk_lines

    def without_time(line: str) -> dict[str, Any]:
        blob: dict[str, Any] = json.loads(line)
        del blob["_aws"]["Timestamp"]
        return blob

    assert [without_time(line) for line in fast] == [without_time(line) for line in slow]


@pytest.mark.parametrize(
    "route",
    [
        pytest.param("/n/1.5e-300", id="value-marker-in-route"),
        pytest.param("/t/4102444800123", id="timestamp-marker-in-route"),
    ],
)
def test_a_marker_inside_a_dimension_value_takes_the_general_path(route: str) -> None:
    """A route that contains a template marker must not be cut there: values stay right."""
    emitter, _ = make(route_dimensions=True)
    case = outcome(route=route, duration_ms=4.5)
    for _ in range(2):
        text = emitter.render(case)
    blobs(text)  # valid EMF
    parsed = [json.loads(line) for line in text.splitlines()]
    main = next(blob for blob in parsed if "Latency" in blob)
    assert main["route"] == route
    assert main["Latency"] == [4.5]
    assert [blob["StageLatency"] for blob in parsed if "StageLatency" in blob] == [
        [0.25],
        [3.75],
        [0.125],
    ]
    assert all(blob["_aws"]["Timestamp"] != 4102444800123 for blob in parsed)


@pytest.mark.parametrize(
    ("text", "markers"),
    [
        pytest.param("", ["1.5e-300"], id="empty"),
        pytest.param("no markers here", ["1.5e-300", "3e-300"], id="none"),
        pytest.param('{"a":1.5e-300,"b":3e-300}', ["1.5e-300", "3e-300"], id="two"),
        pytest.param("3e-3003e-300", ["3e-300"], id="adjacent-repeats"),
        pytest.param(
            '{"T":4102444800123,"v":[1.5e-300]}\n{"T":4102444800123}',
            ["4102444800123", "1.5e-300"],
            id="timestamps-on-two-lines",
        ),
        pytest.param("1.5e-300", ["1.5e-300"], id="whole-text"),
    ],
)
def test_cut_at_splits_as_re_split_with_a_group_does(text: str, markers: list[str]) -> None:
    expected = re.split("(" + "|".join(map(re.escape, markers)) + ")", text)
    assert emf._cut_at(text, markers) == expected
