"""Logs, metrics and traces of whole invocations through the adapter, read back together."""

from __future__ import annotations

import io
import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import structlog
from fastapi import FastAPI
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, Sum
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.apps.starlette_app import app as starlette_app
from tests.emf_schema import validate_emf_line
from traced_asgi_lambda import LambdaAdapter, MalformedEventError
from traced_asgi_lambda.local import SOURCES, HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry.options import TelemetryOptions
from traced_asgi_lambda.telemetry.provider import lambda_tracer_provider
from traced_asgi_lambda.telemetry.setup import telemetry_for
from traced_asgi_lambda.telemetry.tracer_provider import LambdaTracerProvider


@dataclass
class Captured:
    """Everything one adapter wrote: log lines, EMF blobs, spans, OTel metrics."""

    stream: io.StringIO
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader
    provider: LambdaTracerProvider

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def logs(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if "_aws" not in line]

    def emf(self) -> list[dict[str, Any]]:
        return [
            validate_emf_line(line)
            for line in self.stream.getvalue().splitlines()
            if line.startswith('{"_aws"')
        ]

    def metric(self, name: str, **dimensions: str) -> list[float]:
        """Every value of ``name`` in blobs whose dimensions include ``dimensions``."""
        values: list[float] = []
        for blob in self.emf():
            if name in blob and all(blob.get(k) == v for k, v in dimensions.items()):
                values.extend(blob[name])
        return values


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[Captured]:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "shop")
    exporter = InMemorySpanExporter()
    provider = lambda_tracer_provider(exporter, environ={})
    reader = InMemoryMetricReader()
    yield Captured(io.StringIO(), exporter, reader, provider)
    provider.shutdown()


def adapter(captured: Captured, app: Any = starlette_app, **options: Any) -> LambdaAdapter:
    telemetry = TelemetryOptions(
        stream=captured.stream,
        log_json=True,
        meter_provider=MeterProvider(metric_readers=[captured.reader]),
        **options,
    )
    return LambdaAdapter(app, tracer_provider=captured.provider, telemetry=telemetry)


def call(handler: LambdaAdapter, path: str, source: str = "http-api") -> dict[str, Any]:
    return handler(build_event(source, HttpRequest("GET", path)), LocalContext("orders"))


@pytest.mark.parametrize(
    ("path", "status", "requests", "client_errors", "server_errors"),
    [
        pytest.param("/items/1", 200, 1, 0, 0, id="ok"),
        pytest.param("/nowhere", 404, 1, 1, 0, id="404"),
        pytest.param("/raise", 500, 1, 0, 1, id="app-exception"),
    ],
)
def test_exact_metrics_cold_then_warm(
    captured: Captured,
    path: str,
    status: int,
    requests: int,
    client_errors: int,
    server_errors: int,
) -> None:
    """A cold and a warm call emit the documented EMF metrics with exact values."""
    with adapter(captured) as handler:
        assert call(handler, path)["statusCode"] == status
        assert captured.metric("ColdStart", function_name="orders", service="shop") == [1.0]
        first_stages = {b["stage"] for b in captured.emf() if "stage" in b}
        assert first_stages == {"parse", "lifespan", "app", "encode"}
        captured.stream.truncate(0)
        captured.stream.seek(0)
        assert call(handler, path)["statusCode"] == status
    assert captured.metric("ColdStart") == []
    assert captured.metric("Requests", service="shop") == [requests]
    assert captured.metric("ClientErrors", service="shop") == [client_errors]
    assert captured.metric("ServerErrors", service="shop") == [server_errors]
    (latency,) = captured.metric("Latency", service="shop")
    assert latency > 0
    assert {b["stage"] for b in captured.emf() if "stage" in b} == {"parse", "app", "encode"}
    assert all(
        blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "TracedAsgiLambda"
        for blob in captured.emf()
    )


def test_malformed_event_is_measured_and_logged(captured: Captured) -> None:
    """A malformed event still counts: a request, a server error, one structured error line."""
    with adapter(captured) as handler, pytest.raises(MalformedEventError):
        handler({"version": "2.0", "routeKey": "$default"}, LocalContext("orders"))
    assert captured.metric("Requests") == [1.0]
    assert captured.metric("ServerErrors") == [1.0]
    assert captured.metric("ColdStart") == [1.0]
    errors = [line for line in captured.logs() if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert "MalformedEventError" in errors[0]["message"]
    assert errors[0]["exception"]


def test_logs_carry_the_trace_of_the_spans(captured: Captured) -> None:
    """Every log line of an invocation carries the trace and span ids of its root span."""
    with adapter(captured) as handler:
        call(handler, "/items/7")
        call(handler, "/raise")
    roots = {
        span.context.trace_id: span
        for span in captured.spans.get_finished_spans()
        if span.parent is None
    }
    access = [line for line in captured.logs() if line["level"] == "INFO"]
    assert len(access) == 2
    for line in captured.logs():
        root = roots[int(line["trace_id"], 16)]
        assert line["span_id"] == f"{root.context.span_id:016x}"
        assert line["function_name"] == "orders"
        assert line["service"] == "shop"
    assert access[0]["route"] == "/items/{item_id:int}"
    assert access[0]["status"] == 200
    assert access[1]["status"] == 500
    assert access[1]["error_type"] == "RuntimeError"


def test_otel_metrics_are_recorded_and_flushed(captured: Captured) -> None:
    """With a MeterProvider, the FaaS and HTTP server instruments are recorded each call."""
    with adapter(captured) as handler:
        call(handler, "/items/1")
        call(handler, "/items/2")
    data = captured.reader.get_metrics_data()
    assert data is not None
    names = {
        metric.name: metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert {"http.server.request.duration", "faas.invoke_duration", "faas.coldstarts"} <= set(names)
    coldstarts = names["faas.coldstarts"].data
    assert isinstance(coldstarts, Sum)
    assert [point.value for point in coldstarts.data_points] == [1]


SECRETS = {
    "authorization": "Bearer SECRET-BEARER",
    "x-api-key": "SECRET-APIKEY",
    "cookie": "session=SECRET-COOKIE",
}
QUERY = {"token": "SECRET-TOKEN", "password": "SECRET-PASSWORD", "code": "SECRET-CODE"}


@pytest.mark.parametrize("source", list(SOURCES))
def test_no_secret_in_logs_spans_or_metrics(captured: Captured, source: str) -> None:
    """Credentials in headers and the query appear in no log line, span or metric."""
    request = HttpRequest(
        "GET",
        "/items/3",
        query=[("q", "visible"), *QUERY.items()],
        headers=[("user-agent", "curl/8.5.0"), *SECRETS.items()],
    )
    with adapter(captured, log_level="DEBUG") as handler:
        handler(build_event(source, request), LocalContext("orders"))
        handler(
            build_event(source, HttpRequest("GET", "/raise", query=list(QUERY.items()))),
            LocalContext("orders"),
        )
    written = captured.stream.getvalue()
    spans = json.dumps(
        [
            {
                "attributes": dict(s.attributes or {}),
                "events": [dict(e.attributes or {}) for e in s.events],
            }
            for s in captured.spans.get_finished_spans()
        ],
        default=str,
    )
    metrics = captured.reader.get_metrics_data()
    text = written + spans + (metrics.to_json() if metrics is not None else "")
    assert "visible" in text  # the harmless parameter is kept
    for secret in [*SECRETS.values(), *QUERY.values()]:
        assert secret.split(" ")[-1].split("=")[-1] not in text, f"{secret} leaked ({source})"


def test_an_app_with_its_own_logging_keeps_it(
    captured: Captured, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app's own structlog and stdlib lines go where the app sends them, once, with ids."""
    app_stream = io.StringIO()
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(app_stream),
        cache_logger_on_first_use=False,
    )
    stdlib_stream = io.StringIO()
    handler = logging.StreamHandler(stdlib_stream)
    handler.setFormatter(logging.Formatter("%(message)s %(function_request_id)s %(trace_id)s"))
    app_logger = logging.getLogger("the_app")
    app_logger.addHandler(handler)
    app_logger.setLevel(logging.INFO)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        structlog.get_logger().info("from structlog")
        app_logger.info("from stdlib")
        return {"ok": "yes"}

    try:
        context = LocalContext("orders")
        with adapter(captured, app) as lambda_handler:
            lambda_handler(build_event("http-api", HttpRequest("GET", "/hello")), context)
        (structlog_line,) = [json.loads(line) for line in app_stream.getvalue().splitlines()]
        (stdlib_line,) = stdlib_stream.getvalue().splitlines()
    finally:
        structlog.reset_defaults()
        app_logger.removeHandler(handler)
    (access,) = [line for line in captured.logs() if line["level"] == "INFO"]
    assert structlog_line["event"] == "from structlog"
    assert structlog_line["function_request_id"] == context.aws_request_id
    assert structlog_line["trace_id"] == access["trace_id"]
    assert stdlib_line == f"from stdlib {context.aws_request_id} {access['trace_id']}"
    # Nothing of the app's went through our chain, and nothing of ours through theirs.
    assert "from structlog" not in captured.stream.getvalue()
    assert "from stdlib" not in captured.stream.getvalue()
    assert "GET /hello" not in app_stream.getvalue() + stdlib_stream.getvalue()


class BufferedStream(io.StringIO):
    """A stream that, like a piped stdout, only delivers what has been flushed."""

    def __init__(self) -> None:
        super().__init__()
        self.delivered = 0

    def flush(self) -> None:
        self.delivered = len(self.getvalue())


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="logs-on"),
        pytest.param({"logs": False}, id="logs-off"),
        pytest.param({"log_level": "WARNING"}, id="logs-above-info"),
    ],
)
def test_every_line_of_a_call_is_flushed_when_it_returns(
    options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """EMF lines are not left in a buffered stream: the access line's flush or their own."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")
    for name in ("TRACED_ASGI_LAMBDA_LOGS", "TRACED_ASGI_LAMBDA_METRICS", "AWS_LAMBDA_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    stream = BufferedStream()
    telemetry = TelemetryOptions(stream=stream, **options)
    with LambdaAdapter(starlette_app, telemetry=telemetry) as handler:
        handler(build_event("http-api", HttpRequest("GET", "/route-info/3")), LocalContext("f"))
        written = stream.getvalue()
        assert '"_aws"' in written  # the EMF lines were written
        assert stream.delivered == len(written)


class FailingFlushProvider(TracerProvider):
    """A provider whose flush raises, as a broken exporter chain might."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        raise RuntimeError("exporter chain broke")


def test_a_telemetry_failure_is_logged_even_with_logs_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With our logs off, the adapter's own warning goes to the stdlib logger, not nowhere."""
    telemetry = TelemetryOptions(logs=False, metrics=False, stream=io.StringIO())
    provider = FailingFlushProvider()
    adapter = LambdaAdapter(starlette_app, tracer_provider=provider, telemetry=telemetry)
    with caplog.at_level(logging.WARNING, logger="traced_asgi_lambda"), adapter as handler:
        event = build_event("http-api", HttpRequest("GET", "/route-info/3"))
        assert handler(event, LocalContext("f"))["statusCode"] == 200
    assert [r.getMessage() for r in caplog.records if r.name == "traced_asgi_lambda"] == [
        "telemetry failed: RuntimeError: exporter chain broke",
        "telemetry shutdown: RuntimeError: exporter chain broke",  # close() did not raise
    ]


class CountingEnviron(dict[str, str]):
    """An environment mapping that counts how often each variable is read."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.reads: Counter[str] = Counter()

    def get(self, key: str, default: Any = None) -> Any:
        self.reads[key] += 1
        return super().get(key, default)


def test_the_lambda_trace_header_is_read_once_for_spans_and_logs(captured: Captured) -> None:
    """_X_AMZN_TRACE_ID is read once per call; the root span and the log line share it."""
    root_id = "1-5759e988-bd862e3fe1be46a994272793"
    environ = CountingEnviron(
        {
            "AWS_LAMBDA_FUNCTION_NAME": "orders",
            "_X_AMZN_TRACE_ID": f"Root={root_id};Parent=53995c3f42cd8ad8;Sampled=1",
        }
    )
    options = TelemetryOptions(stream=captured.stream, log_json=True, metrics=False)
    telemetry = telemetry_for(options, captured.provider, environ)
    assert telemetry is not None
    environ.reads.clear()  # construction reads what it needs once; count the calls only
    for _ in range(2):
        with telemetry.invocation({}, LocalContext("orders"), trigger="http"):
            pass
    telemetry.shutdown()
    assert environ.reads["_X_AMZN_TRACE_ID"] == 2
    roots = [s for s in captured.spans.get_finished_spans() if s.name == "orders"]
    assert len(roots) == 2
    for root, line in zip(roots, captured.logs(), strict=True):
        assert root.context.trace_id == int(root_id.replace("-", "")[1:], 16)
        assert line["xray_trace_id"] == root_id


def test_the_lambda_trace_header_is_not_read_when_nothing_uses_it() -> None:
    """With tracing and logs off (metrics only), _X_AMZN_TRACE_ID is never read."""
    environ = CountingEnviron({"AWS_LAMBDA_FUNCTION_NAME": "orders", "_X_AMZN_TRACE_ID": "x"})
    options = TelemetryOptions(stream=io.StringIO(), logs=False, metrics=True)
    telemetry = telemetry_for(options, None, environ)
    assert telemetry is not None
    with telemetry.invocation({}, LocalContext("orders"), trigger="http"):
        pass
    telemetry.shutdown()
    assert environ.reads["_X_AMZN_TRACE_ID"] == 0
