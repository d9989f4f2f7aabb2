"""SpanData: the recorder hands its spans over without ReadableSpans only where that is safe."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler

from tests.apps.starlette_app import app as starlette_app
from traced_asgi_lambda import LambdaAdapter
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry.options import TelemetryOptions
from traced_asgi_lambda.telemetry.otlp_encode import encode_spans
from traced_asgi_lambda.telemetry.provider import lambda_tracer_provider
from traced_asgi_lambda.telemetry.span_data import SpanData

ENVIRON = {"AWS_LAMBDA_FUNCTION_NAME": "orders", "AWS_REGION": "eu-central-1"}


class CapturingExporter(SpanExporter):
    """Encodes each batch as the OTLP exporter would; says whether it takes SpanData."""

    def __init__(self, accepts_span_data: bool) -> None:
        self.accepts_span_data = accepts_span_data
        self.kinds: list[str] = []
        self.bodies: list[bytes] = []

    def export(self, spans: Sequence[ReadableSpan | SpanData]) -> SpanExportResult:
        self.kinds += [
            "SpanData" if isinstance(span, SpanData) else type(span).__name__ for span in spans
        ]
        self.bodies.append(encode_spans(spans))
        return SpanExportResult.SUCCESS

    def export_within(self, spans: Sequence[ReadableSpan | SpanData], seconds: float) -> bool:
        return self.export(spans) is SpanExportResult.SUCCESS


def invoke(exporter: CapturingExporter, sampler: Sampler = ALWAYS_ON, **provider: Any) -> Any:
    tracer_provider = lambda_tracer_provider(exporter, environ=ENVIRON, sampler=sampler)
    for processor in provider.get("extra_processors", ()):
        tracer_provider.add_span_processor(processor)
    options = TelemetryOptions(stream=io.StringIO())
    with LambdaAdapter(starlette_app, tracer_provider=tracer_provider, telemetry=options) as h:
        for number, path in enumerate(("/route-info/3", "/missing")):
            context = LocalContext("orders", aws_request_id=f"request-{number}")
            h(build_event("http-api", HttpRequest("GET", path)), context)
    return exporter


def spans_of(bodies: list[bytes]) -> list[Any]:
    spans = []
    for body in bodies:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans += list(scope_spans.spans)
    return spans


def without_ids_and_times(span: Any) -> Any:
    copy = type(span)()
    copy.CopyFrom(span)
    for field in ("trace_id", "span_id", "parent_span_id"):
        copy.ClearField(field)
    for field in ("start_time_unix_nano", "end_time_unix_nano"):
        copy.ClearField(field)
    for event in copy.events:
        event.ClearField("time_unix_nano")
    return copy.SerializeToString(deterministic=True)


def test_spans_handed_over_as_span_data_encode_as_readable_spans_do() -> None:
    """The same invocations, with and without the SpanData hand-over: the same message."""
    direct = invoke(CapturingExporter(accepts_span_data=True))
    readable = invoke(CapturingExporter(accepts_span_data=False))
    assert set(direct.kinds) == {"SpanData"}
    assert set(readable.kinds) == {"ReadableSpan"}
    fast, slow = spans_of(direct.bodies), spans_of(readable.bodies)
    assert [s.name for s in fast] == [s.name for s in slow]
    assert len(fast) == 9  # two invocations: root, parse, lifespan (first only), app, encode
    assert [without_ids_and_times(s) for s in fast] == [without_ids_and_times(s) for s in slow]


def test_stage_spans_handed_over_as_span_data_are_children_of_the_root() -> None:
    spans = spans_of(invoke(CapturingExporter(accepts_span_data=True)).bodies)
    roots = [s for s in spans if not s.parent_span_id]
    assert len(roots) == 2
    for span in spans:
        if span.parent_span_id:
            (root,) = [r for r in roots if r.span_id == span.parent_span_id]
            assert span.trace_id == root.trace_id
    assert len({s.span_id for s in spans}) == len(spans)


def test_another_processor_gets_readable_spans_and_turns_the_hand_over_off() -> None:
    """A processor added to the provider sees every span, as ReadableSpan."""
    memory = InMemorySpanExporter()
    exporter = invoke(
        CapturingExporter(accepts_span_data=True), extra_processors=[SimpleSpanProcessor(memory)]
    )
    assert set(exporter.kinds) == {"ReadableSpan"}
    names = sorted(span.name for span in memory.get_finished_spans())
    assert names == sorted(s.name for s in spans_of(exporter.bodies))
    assert "parse event" in names


@pytest.mark.parametrize(
    "accepts", [pytest.param(True, id="span-data"), pytest.param(False, id="readable")]
)
def test_an_unsampled_invocation_exports_nothing_either_way(accepts: bool) -> None:
    exporter = invoke(CapturingExporter(accepts_span_data=accepts), sampler=ALWAYS_OFF)
    assert exporter.kinds == []


def test_span_data_of_an_sdk_span_reads_what_its_properties_return() -> None:
    """The field read of the SDK's own class agrees with the public properties."""
    memory = InMemorySpanExporter()
    invoke(
        CapturingExporter(accepts_span_data=False), extra_processors=[SimpleSpanProcessor(memory)]
    )
    for span in memory.get_finished_spans():
        data = SpanData.of(span)
        assert (data.trace_id, data.span_id) == (span.context.trace_id, span.context.span_id)
        assert data.parent_id == (span.parent.span_id if span.parent else None)
        assert (data.name, data.kind, data.start_time, data.end_time) == (
            span.name,
            span.kind,
            span.start_time,
            span.end_time,
        )
        assert dict(data.attributes or {}) == dict(span.attributes or {})
        assert list(data.events) == list(span.events)
        assert data.status is span.status
        assert data.resource is span.resource
        assert data.scope is span.instrumentation_scope
        assert (data.dropped_attributes, data.dropped_events, data.dropped_links) == (
            span.dropped_attributes,
            span.dropped_events,
            span.dropped_links,
        )
