"""LambdaTracerProvider: an SDK TracerProvider's behaviour, with the SDK built only on demand."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import SpanProcessor, SynchronousMultiSpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from traced_asgi_lambda import LambdaAdapter
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry.options import TelemetryOptions
from traced_asgi_lambda.telemetry.otlp_http import OtlpHttpSpanExporter
from traced_asgi_lambda.telemetry.processor import InvocationSpanProcessor
from traced_asgi_lambda.telemetry.provider import lambda_tracer_provider
from traced_asgi_lambda.telemetry.recorder import SpanRecorder
from traced_asgi_lambda.telemetry.resource import LambdaResource
from traced_asgi_lambda.telemetry.tracer_provider import LambdaTracerProvider, SpanProcessors
from traced_asgi_lambda.telemetry.xray import XRayIdGenerator

ROOT = Path(__file__).parent.parent
ENVIRON = {"AWS_LAMBDA_FUNCTION_NAME": "orders", "AWS_REGION": "eu-west-1"}


class CountingProcessor(SimpleSpanProcessor):
    """The SDK's simple processor, counting its shutdowns."""

    def __init__(self, exporter: SpanExporter) -> None:
        super().__init__(exporter)
        self.shutdowns = 0

    def shutdown(self) -> None:
        self.shutdowns += 1
        super().shutdown()


def built(provider: LambdaTracerProvider) -> TracerProvider | None:
    """The SDK provider, if it has been built (read without building it)."""
    return provider._sdk


def _methods(cls: type) -> set[str]:
    return {
        name
        for klass in cls.__mro__
        if klass.__module__.startswith("opentelemetry")
        for name, value in vars(klass).items()
        if callable(value) and (not name.startswith("__") or name == "__init__")
    } - {"__init__"}


@pytest.mark.parametrize(
    ("ours", "sdk"),
    [
        pytest.param(InvocationSpanProcessor, SpanProcessor, id="span-processor"),
        pytest.param(OtlpHttpSpanExporter, SpanExporter, id="span-exporter"),
        pytest.param(XRayIdGenerator, IdGenerator, id="id-generator"),
        pytest.param(SpanProcessors, SynchronousMultiSpanProcessor, id="multi-span-processor"),
    ],
)
def test_our_types_define_every_method_of_the_sdk_type_they_stand_for(
    ours: type, sdk: type
) -> None:
    """They stand in for SDK types without subclassing them (the SDK calls, never checks):
    a method a newer SDK adds and calls must fail here first."""
    missing = sorted(name for name in _methods(sdk) if not callable(getattr(ours, name, None)))
    assert missing == []


def test_nothing_of_the_sdk_is_built_until_a_tracer_is_asked_for() -> None:
    exporter = InMemorySpanExporter()
    provider = lambda_tracer_provider(exporter, service="svc", environ=ENVIRON)
    assert built(provider) is None
    assert isinstance(provider.span_resource, LambdaResource)
    tracer = provider.get_tracer("app", "1.0")
    sdk = built(provider)
    assert isinstance(sdk, TracerProvider)
    # One resource object, id generator and processor list for both.
    assert len({id(sdk.resource), id(provider.resource), id(provider.span_resource)}) == 1
    assert sdk.id_generator is provider.id_generator
    shared: object = provider._active_span_processor
    assert sdk._active_span_processor is shared
    assert provider.get_tracer("other") is not tracer
    assert built(provider) is sdk
    provider.shutdown()


def test_sdk_spans_reach_processors_added_before_and_after_the_sdk_is_built() -> None:
    before, after = InMemorySpanExporter(), InMemorySpanExporter()
    provider = lambda_tracer_provider(InMemorySpanExporter(), environ=ENVIRON)
    provider.add_span_processor(SimpleSpanProcessor(before))
    with provider.get_tracer("app").start_as_current_span("first"):
        pass
    provider.add_span_processor(SimpleSpanProcessor(after))
    with provider.get_tracer("app").start_as_current_span("second"):
        pass
    assert [s.name for s in before.get_finished_spans()] == ["first", "second"]
    assert [s.name for s in after.get_finished_spans()] == ["second"]
    assert before.get_finished_spans()[0].resource.attributes["faas.name"] == "orders"
    assert provider.force_flush(1000) is True
    provider.shutdown()


@pytest.mark.parametrize(
    "build_sdk",
    [pytest.param(False, id="sdk-never-built"), pytest.param(True, id="sdk-built")],
)
def test_shutdown_shuts_each_processor_down_once(build_sdk: bool) -> None:
    provider = lambda_tracer_provider(InMemorySpanExporter(), environ=ENVIRON)
    counting = CountingProcessor(InMemorySpanExporter())
    provider.add_span_processor(counting)
    if build_sdk:
        provider.get_tracer("app")
    provider.shutdown()
    provider.shutdown()
    assert counting.shutdowns == 1
    sdk = built(provider)
    if build_sdk:
        # The SDK provider registers no exit handler of its own: ours shuts both down.
        assert sdk is not None
        assert sdk._atexit_handler is None
    else:
        assert sdk is None


@pytest.mark.parametrize(
    ("environ", "sampler", "default"),
    [
        pytest.param({}, None, True, id="unset"),
        pytest.param({"OTEL_TRACES_SAMPLER": "parentbased_always_on"}, None, True, id="named"),
        pytest.param({"OTEL_TRACES_SAMPLER": "always_off"}, None, False, id="variable"),
        pytest.param({}, TraceIdRatioBased(0.5), False, id="given"),
    ],
)
def test_the_default_sampler_is_decided_without_the_sdk(
    environ: dict[str, str], sampler: Any, default: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    provider = lambda_tracer_provider(InMemorySpanExporter(), sampler=sampler, environ=environ)
    assert provider.uses_default_sampler is default
    assert (SpanRecorder(provider).sampler is None) is default
    if sampler is not None:
        assert provider.sampler is sampler
    elif default:
        chosen = provider.sampler
        assert isinstance(chosen, ParentBased)
        assert chosen._root is ALWAYS_ON
    provider.shutdown()


def _parent(flags: int, remote: bool, state: TraceState | None) -> Context:
    context = SpanContext(0xABC, 0xDEF, remote, TraceFlags(flags), state)
    return set_span_in_context(NonRecordingSpan(context), Context())


@pytest.mark.parametrize(
    "parent",
    [
        pytest.param(lambda: Context(), id="no-parent"),
        pytest.param(lambda: _parent(1, True, TraceState([("a", "1")])), id="remote-sampled"),
        pytest.param(lambda: _parent(0, True, TraceState([("b", "2")])), id="remote-unsampled"),
        pytest.param(lambda: _parent(1, False, None), id="local-sampled"),
        pytest.param(lambda: _parent(0, False, None), id="local-unsampled"),
    ],
)
def test_default_sampling_decides_as_the_sdks_parent_based_always_on(
    parent: Callable[[], Context],
) -> None:
    """Our recorder's own decision equals the SDK sampler's, span for span."""
    ours = lambda_tracer_provider(InMemorySpanExporter(), environ={})
    sdk = TracerProvider(sampler=ParentBased(ALWAYS_ON), id_generator=XRayIdGenerator())
    sdk.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    decided = []
    for provider in (ours, sdk):
        span = SpanRecorder(provider).start_root("root", parent(), SpanKind.SERVER, {}, (), [])
        context = span.get_span_context()
        decided.append(
            (span.is_recording(), context.trace_flags, context.trace_state, context.is_remote)
        )
        if parent() is not None and trace.get_current_span(parent()).get_span_context().is_valid:
            assert context.trace_id == 0xABC
    assert decided[0] == decided[1]
    ours.shutdown()
    sdk.shutdown()


def test_one_resource_for_adapter_and_app_spans_once_the_app_asks_for_a_tracer() -> None:
    """The app builds the SDK side mid-invocation; the batch still has one resource."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    bodies: list[bytes] = []

    class Capture(InMemorySpanExporter):
        accepts_span_data = True

        def export_within(self, spans: Any, seconds: float) -> bool:
            from traced_asgi_lambda.telemetry.otlp_encode import encode_spans

            bodies.append(encode_spans(spans))
            return True

    provider = lambda_tracer_provider(Capture(), environ=ENVIRON)

    async def handler(request: Any) -> JSONResponse:
        with provider.get_tracer("app").start_as_current_span("app-work"):
            return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/work", handler)])
    options = TelemetryOptions(stream=io.StringIO())
    with LambdaAdapter(app, tracer_provider=provider, telemetry=options) as adapter:
        response = adapter(build_event("http-api", HttpRequest("GET", "/work")), LocalContext())
    assert response["statusCode"] == 200
    (body,) = bodies
    request = ExportTraceServiceRequest.FromString(body)
    (resource_spans,) = request.resource_spans
    names = {span.name for scope in resource_spans.scope_spans for span in scope.spans}
    assert "app-work" in names
    assert len(names) >= 4


COLD_PROBE = """
import sys
import traced_asgi_lambda
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry.otlp_encode import encode_spans
from traced_asgi_lambda.telemetry.provider import lambda_tracer_provider

class Sink:
    accepts_span_data = True
    def __init__(self):
        self.sizes = []
    def export_within(self, spans, seconds):
        self.sizes.append(len(encode_spans(spans)))
        return True
    def shutdown(self):
        pass

async def app(scope, receive, send):
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

sink = Sink()
provider = lambda_tracer_provider(sink, environ={"AWS_LAMBDA_FUNCTION_NAME": "f"})
handler = traced_asgi_lambda.LambdaAdapter(app, lifespan="off", tracer_provider=provider)
response = handler(build_event("http-api", HttpRequest("GET", "/")), LocalContext())
print(response["statusCode"], len(sink.sizes), sink.sizes[0] > 0)
print(sorted(m for m in sys.modules if m.startswith(
    ("opentelemetry.sdk.trace", "opentelemetry.sdk.resources", "opentelemetry.metrics"))))
"""


def test_a_traced_invocation_imports_no_sdk_tracing() -> None:
    """Tracing, exporting and answering an invocation import neither the SDK's tracing,
    its resources nor the metrics API: about 25 ms of a cold start (docs/performance.md)."""
    result = subprocess.run(
        [sys.executable, "-c", COLD_PROBE], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    *telemetry, answered, imported = result.stdout.splitlines()  # logs and EMF go first
    assert any('"_aws"' in line for line in telemetry)
    assert answered == "200 1 True"
    assert imported == "[]"
