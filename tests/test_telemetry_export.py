"""Export: spans reach a real collector (rotel), and a broken exporter never hurts a response."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tests.apps.starlette_app import app as starlette_app
from tests.collector import Collector, refused_endpoint
from traced_asgi_lambda import LambdaAdapter
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry.options import TelemetryOptions
from traced_asgi_lambda.telemetry.processor import InvocationSpanProcessor
from traced_asgi_lambda.telemetry.provider import lambda_tracer_provider


@pytest.fixture
def otlp_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "orders")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
    return monkeypatch


def test_spans_reach_a_real_collector(collector: Collector, otlp_env: pytest.MonkeyPatch) -> None:
    """With OTEL_EXPORTER_OTLP_ENDPOINT set, every span arrives at the collector before return."""
    otlp_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
    with LambdaAdapter(starlette_app) as handler:
        response = handler(
            build_event("http-api", HttpRequest("GET", "/route-info/3", query=[("token", "x")])),
            LocalContext("orders"),
        )
        assert response["statusCode"] == 200
        # The flush is synchronous: the spans are at the collector when the handler returns.
        spans = collector.wait_for_spans(5, timeout=5)
    names = sorted(s["name"] for s in spans)
    assert names == [
        "GET /route-info/{item_id}",
        "asgi app",
        "encode response",
        "lifespan startup",
        "parse event",
    ]
    root = collector.span("GET /route-info/{item_id}")
    assert root["kind"] == "SERVER"
    assert root["attributes"]["http.route"] == "/route-info/{item_id}"
    assert root["attributes"]["http.response.status_code"] == 200
    assert root["attributes"]["url.query"] == "token=REDACTED"
    assert root["attributes"]["faas.coldstart"] is True
    assert root["resource"]["service.name"] == "orders"
    assert root["resource"]["cloud.region"] == "eu-central-1"
    assert root["resource"]["faas.max_memory"] == 512 * 1024 * 1024
    for span in spans:
        assert span["trace_id"] == root["trace_id"]


class RaisingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        raise ConnectionResetError("collector went away")


class HangingExporter(SpanExporter):
    def __init__(self) -> None:
        self.release = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.release.wait(30)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.release.set()


def _refused_exporter() -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=refused_endpoint() + "/v1/traces", timeout=1)


FLUSH_TIMEOUT = 0.3


@pytest.mark.parametrize(
    "make_exporter",
    [
        pytest.param(RaisingExporter, id="exporter-raises"),
        pytest.param(HangingExporter, id="exporter-hangs"),
        pytest.param(_refused_exporter, id="port-refused"),
    ],
)
def test_broken_export_never_breaks_or_delays_the_response(
    make_exporter: type[SpanExporter], caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever the exporter does, the response is right and arrives within the budget."""
    processor = InvocationSpanProcessor(make_exporter())
    provider = TracerProvider()
    provider.add_span_processor(processor)
    options = TelemetryOptions(flush_timeout=FLUSH_TIMEOUT)
    with LambdaAdapter(starlette_app, tracer_provider=provider, telemetry=options) as h:
        for _ in range(3):
            started = time.perf_counter()
            response = h(build_event("alb", HttpRequest("GET", "/items/5")), LocalContext())
            elapsed = time.perf_counter() - started
            assert response["statusCode"] == 200
            assert response["body"] == '{"item_id":5,"q":null}'
            assert elapsed < FLUSH_TIMEOUT + 0.5
    assert processor.dropped_spans > 0
    assert sum("dropped" in r.getMessage() for r in caplog.records) == 1
    provider.shutdown()


def test_budget_never_passes_the_deadline() -> None:
    """With little time left, the flush gets the remaining time minus the margin, not more."""
    exporter = HangingExporter()
    provider = lambda_tracer_provider(exporter, environ={})
    options = TelemetryOptions(flush_timeout=5.0)
    with LambdaAdapter(starlette_app, tracer_provider=provider, telemetry=options) as handler:
        context = LocalContext(timeout_ms=400)
        started = time.perf_counter()
        response = handler(build_event("http-api", HttpRequest("GET", "/items/1")), context)
        elapsed = time.perf_counter() - started
    assert response["statusCode"] == 200
    assert elapsed < 0.4
    provider.shutdown()


class RecordingExporter(SpanExporter):
    """Keeps exported spans and the moment each export happened."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []
        self.exported_at: list[float] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exported_at.append(time.monotonic())
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def test_after_response_mode_exports_once_the_handler_has_returned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In after-response mode the handler returns first; the extension exports before /next."""

    from tests.lambda_api import LambdaAPI
    from tests.test_telemetry_extension import FakeRuntime

    exporter = RecordingExporter()
    provider = lambda_tracer_provider(exporter, environ={})
    returned_at: list[float] = []
    with LambdaAPI() as api:
        monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", api.address)
        out = io.StringIO()
        adapter = LambdaAdapter(
            starlette_app,
            tracer_provider=provider,
            telemetry=TelemetryOptions(export="after-response", stream=out, log_json=True),
        )
        assert adapter.telemetry is not None
        assert adapter.telemetry.tracing is not None
        assert adapter.telemetry.after_response is not None
        assert [(r.name, r.events) for r in api.registrations] == [
            ("traced-asgi-lambda", ("INVOKE",))
        ]

        def handler(request_id: str, event: bytes) -> bytes:
            context = LocalContext("orders", aws_request_id=request_id)
            response = adapter(json.loads(event), context)
            returned_at.append(time.monotonic())
            return json.dumps(response).encode()

        runtime = FakeRuntime(api, handler)
        try:
            for path in ("/items/1", "/items/2"):
                request_id = api.invoke(build_event("http-api", HttpRequest("GET", path)))
                result = api.wait_response(request_id, timeout=5)
                assert json.loads(result.body)["statusCode"] == 200
                api.wait_complete(request_id, timeout=5)
        finally:
            runtime.stop()
            adapter.close()
    # The access lines and EMF were written after the response, with the request's ids.
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    access = [line for line in lines if line.get("level") == "INFO"]
    assert [line["path"] for line in access] == ["/items/1", "/items/2"]
    assert all(line["function_request_id"] for line in access)
    assert sum(1 for line in lines if "_aws" in line) >= 2
    # Two invocations, two exports, each after its handler had returned.
    assert len(exporter.exported_at) == 2
    assert all(e >= r for e, r in zip(exporter.exported_at, returned_at, strict=True))
    assert sorted(s.name for s in exporter.spans[:5]) == [
        "GET /items/{item_id:int}",
        "asgi app",
        "encode response",
        "lifespan startup",
        "parse event",
    ]
    provider.shutdown()


def test_after_response_mode_holds_without_tracing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Logs and metrics alone also move after the response: the extension is registered."""
    from tests.lambda_api import LambdaAPI

    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER"):
        monkeypatch.delenv(name, raising=False)
    with LambdaAPI() as api:
        monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", api.address)
        options = TelemetryOptions(export="after-response", stream=io.StringIO())
        adapter = LambdaAdapter(starlette_app, telemetry=options)
        try:
            assert adapter.telemetry is not None
            assert adapter.telemetry.tracing is None
            assert adapter.telemetry.after_response is not None
            assert [(r.name, r.events) for r in api.registrations] == [
                ("traced-asgi-lambda", ("INVOKE",))
            ]
        finally:
            adapter.close()


def test_sigterm_flushes_what_is_left() -> None:
    """On SIGTERM the adapter flushes spans still buffered, then the process ends by it."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "-m", "tests.scripts.sigterm_flush"],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = result.stdout.splitlines()
    assert lines[-2:] == ["returned", "span late work"], result.stderr
    assert sorted(lines[:-2]) == [
        "span GET /items/{item_id:int}",
        "span asgi app",
        "span encode response",
        "span lifespan startup",
        "span parse event",
    ]
    assert result.returncode == -signal.SIGTERM
