"""@traced_handler: the adapter's tracing around any Lambda handler."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mangum import Mangum as RealMangum
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tests.apps.starlette_app import app as starlette_app
from tests.conftest import load_event
from traced_asgi_lambda import traced_handler
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry.provider import lambda_tracer_provider
from traced_asgi_lambda.telemetry.tracer_provider import LambdaTracerProvider


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[LambdaTracerProvider]:
    provider = lambda_tracer_provider(exporter, environ={})
    yield provider
    provider.shutdown()


@pytest.mark.parametrize(
    ("name", "trigger", "kind"),
    [
        pytest.param("unsupported/sqs", "pubsub", SpanKind.CONSUMER, id="sqs"),
        pytest.param("unsupported/sns", "pubsub", SpanKind.CONSUMER, id="sns"),
        pytest.param("unsupported/s3_put", "datasource", SpanKind.SERVER, id="s3"),
        pytest.param("unsupported/dynamodb_stream", "datasource", SpanKind.SERVER, id="dynamodb"),
        pytest.param("unsupported/eventbridge_scheduled", "timer", SpanKind.SERVER, id="timer"),
        pytest.param("unsupported/direct_invoke", "other", SpanKind.SERVER, id="other"),
    ],
)
def test_plain_handlers_get_a_root_span_per_trigger(
    name: str,
    trigger: str,
    kind: SpanKind,
    provider: LambdaTracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    """Any handler gets one root span with its trigger, cold start and FaaS attributes."""

    @traced_handler(tracer_provider=provider)
    def handler(event: dict[str, Any], context: Any) -> str:
        return "done"

    assert handler(load_event(name), LocalContext("jobs")) == "done"
    assert handler(load_event(name), LocalContext("jobs")) == "done"
    first, second = exporter.get_finished_spans()
    assert first.name == "jobs"
    assert first.kind is kind
    assert (first.attributes or {})["faas.trigger"] == trigger
    assert (first.attributes or {})["faas.coldstart"] is True
    assert (second.attributes or {})["faas.coldstart"] is False


def test_sqs_messages_become_links(
    provider: LambdaTracerProvider, exporter: InMemorySpanExporter
) -> None:
    """Each SQS message's trace header becomes a link on the consumer span."""
    event = load_event("unsupported/sqs")
    trace_ids = []
    for index, record in enumerate(event["Records"]):
        random_part = f"{index:024x}"
        record.setdefault("attributes", {})["AWSTraceHeader"] = (
            f"Root=1-5759e988-{random_part};Parent=53995c3f42cd8ad8;Sampled=1"
        )
        trace_ids.append(int(f"5759e988{random_part}", 16))

    @traced_handler(tracer_provider=provider)
    def handler(event: dict[str, Any], context: Any) -> None:
        return None

    handler(event, LocalContext())
    (root,) = exporter.get_finished_spans()
    assert [link.context.trace_id for link in root.links] == trace_ids


def test_a_mangum_handler_gets_http_attributes(
    provider: LambdaTracerProvider, exporter: InMemorySpanExporter
) -> None:
    """Wrapping Mangum gives the HTTP root span: method, route, status."""
    handler = traced_handler(tracer_provider=provider)(RealMangum(starlette_app, lifespan="off"))
    response = handler(build_event("http-api", HttpRequest("GET", "/raise")), LocalContext())
    assert response["statusCode"] == 500
    (root,) = exporter.get_finished_spans()
    attributes = dict(root.attributes or {})
    assert attributes["faas.trigger"] == "http"
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.response.status_code"] == 500
    assert root.status.status_code is StatusCode.ERROR


def test_handler_exceptions_are_recorded_and_reraised(
    provider: LambdaTracerProvider, exporter: InMemorySpanExporter
) -> None:
    """An exception from the handler is recorded on the root span and re-raised."""

    @traced_handler(tracer_provider=provider)
    def handler(event: dict[str, Any], context: Any) -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        handler({}, LocalContext())
    (root,) = exporter.get_finished_spans()
    assert root.status.status_code is StatusCode.ERROR
    assert (root.attributes or {})["error.type"] == "ValueError"
    assert root.events[0].name == "exception"


def test_bare_decorator_without_telemetry_returns_the_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With every signal off and nothing to trace, @traced_handler leaves the handler as is."""
    monkeypatch.setenv("TRACED_ASGI_LAMBDA_LOGS", "off")
    monkeypatch.setenv("TRACED_ASGI_LAMBDA_METRICS", "off")

    def handler(event: dict[str, Any], context: Any) -> int:
        return 1

    assert traced_handler(handler) is handler
