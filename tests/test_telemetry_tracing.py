"""The span tree of every invocation, for every source and every error path."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tests.apps.starlette_app import app as starlette_app
from traced_asgi_lambda import LambdaAdapter, MalformedEventError, UnsupportedEventError
from traced_asgi_lambda.local import SOURCES, HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry.provider import lambda_tracer_provider
from traced_asgi_lambda.telemetry.tracer_provider import LambdaTracerProvider
from traced_asgi_lambda.types import ASGIReceive, ASGISend

Scope = MutableMapping[str, Any]


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[LambdaTracerProvider]:
    provider = lambda_tracer_provider(exporter, environ={"AWS_REGION": "eu-west-1"})
    yield provider
    provider.shutdown()


def tree(exporter: InMemorySpanExporter) -> tuple[ReadableSpan, dict[str, ReadableSpan]]:
    """The root span and its children by stage, checking they form one trace."""
    spans = exporter.get_finished_spans()
    roots = [s for s in spans if s.kind in (SpanKind.SERVER, SpanKind.CONSUMER)]
    assert len(roots) == 1, [s.name for s in spans]
    root = roots[0]
    children: dict[str, ReadableSpan] = {}
    for span in spans:
        if span is root:
            continue
        assert span.parent is not None
        assert span.parent.span_id == root.context.span_id
        assert span.context.trace_id == root.context.trace_id
        assert span.kind is SpanKind.INTERNAL
        children[str((span.attributes or {})["traced_asgi_lambda.stage"])] = span
    return root, children


@pytest.mark.parametrize("source", list(SOURCES))
def test_span_tree_on_every_source(
    source: str, provider: LambdaTracerProvider, exporter: InMemorySpanExporter
) -> None:
    """One SERVER root named by method and route, one child per stage, FaaS attributes."""
    context = LocalContext("orders")
    with LambdaAdapter(starlette_app, tracer_provider=provider) as handler:
        handler(build_event(source, HttpRequest("GET", "/route-info/7")), context)
        root, children = tree(exporter)
        assert root.name == "GET /route-info/{item_id}"
        assert root.kind is SpanKind.SERVER
        assert set(children) == {"parse", "lifespan", "app", "encode"}
        attributes = dict(root.attributes or {})
        assert attributes["http.route"] == "/route-info/{item_id}"
        assert attributes["http.response.status_code"] == 200
        assert attributes["http.request.method"] == "GET"
        assert attributes["url.path"] == "/route-info/7"
        assert attributes["faas.trigger"] == "http"
        assert attributes["faas.coldstart"] is True
        assert attributes["faas.invocation_id"] == context.aws_request_id
        assert attributes["cloud.account.id"] == "123456789012"
        assert root.status.status_code is StatusCode.UNSET
        assert children["parse"].attributes is not None
        assert children["parse"].attributes["traced_asgi_lambda.source"]
        assert [e.name for e in children["app"].events] == ["http.response.start"]
        encode = dict(children["encode"].attributes or {})
        assert encode["traced_asgi_lambda.response.base64"] is False
        assert encode["traced_asgi_lambda.response.body_size"] == len(b'{"ok":true}')
        # Warm: no lifespan stage, no cold start.
        exporter.clear()
        handler(build_event(source, HttpRequest("GET", "/route-info/8")), LocalContext("orders"))
        root, children = tree(exporter)
        assert set(children) == {"parse", "app", "encode"}
        assert (root.attributes or {})["faas.coldstart"] is False


def test_resource_names_the_function(
    provider: LambdaTracerProvider, exporter: InMemorySpanExporter
) -> None:
    """Spans carry the Lambda resource: provider, platform and region."""
    with LambdaAdapter(starlette_app, tracer_provider=provider) as handler:
        handler(build_event("http-api", HttpRequest("GET", "/items/1")), LocalContext())
    root, _ = tree(exporter)
    resource = dict(root.resource.attributes)
    assert resource["cloud.provider"] == "aws"
    assert resource["cloud.platform"] == "aws_lambda"
    assert resource["cloud.region"] == "eu-west-1"


@pytest.mark.parametrize(
    ("path", "status", "code", "error_type"),
    [
        pytest.param("/nowhere", 404, StatusCode.UNSET, None, id="404-unset"),
        pytest.param("/raise", 500, StatusCode.ERROR, "RuntimeError", id="app-raises"),
    ],
)
def test_http_outcome_sets_status(
    path: str,
    status: int,
    code: StatusCode,
    error_type: str | None,
    provider: LambdaTracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    """4xx leaves the SERVER span UNSET; an app exception is ERROR with error.type."""
    with LambdaAdapter(starlette_app, tracer_provider=provider) as handler:
        handler(build_event("http-api", HttpRequest("GET", path)), LocalContext())
    root, children = tree(exporter)
    assert (root.attributes or {})["http.response.status_code"] == status
    assert root.status.status_code is code
    assert (root.attributes or {}).get("error.type") == error_type
    if error_type:
        events = children["app"].events
        assert events[-1].name == "exception"
        assert "boom" in str((events[-1].attributes or {})["exception.message"])
        assert "Traceback" in str((events[-1].attributes or {})["exception.stacktrace"])


async def silent(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    await receive()


def test_app_without_response_is_a_500_error(
    provider: LambdaTracerProvider, exporter: InMemorySpanExporter
) -> None:
    """An app that never answers gives an ERROR root with error.type '500'."""
    with LambdaAdapter(silent, tracer_provider=provider, lifespan="off") as handler:
        handler(build_event("alb", HttpRequest()), LocalContext())
    root, _ = tree(exporter)
    assert root.status.status_code is StatusCode.ERROR
    assert (root.attributes or {})["error.type"] == "500"


@pytest.mark.parametrize(
    ("event", "error"),
    [
        pytest.param(
            {"Records": [{"eventSource": "aws:sqs"}]}, UnsupportedEventError, id="unsupported"
        ),
        pytest.param(
            {"version": "2.0", "routeKey": "$default"}, MalformedEventError, id="malformed"
        ),
    ],
)
def test_bad_events_still_produce_a_trace(
    event: dict[str, Any],
    error: type[Exception],
    provider: LambdaTracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    """An unsupported or malformed event raises, and its root and parse spans record why."""
    with (
        LambdaAdapter(starlette_app, tracer_provider=provider) as handler,
        pytest.raises(error),
    ):
        handler(event, LocalContext("orders"))
    root, children = tree(exporter)
    assert root.name == "orders"
    assert root.status.status_code is StatusCode.ERROR
    assert (root.attributes or {})["error.type"] == error.__qualname__
    assert children["parse"].status.status_code is StatusCode.ERROR
    assert children["parse"].events[0].name == "exception"


def test_w3c_parent_is_used_and_xray_becomes_a_link(
    provider: LambdaTracerProvider, exporter: InMemorySpanExporter
) -> None:
    """A traceparent header parents the root span; the X-Ray header becomes a link."""
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    xray = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    request = HttpRequest(
        "GET", "/items/1", headers=[("traceparent", traceparent), ("x-amzn-trace-id", xray)]
    )
    with LambdaAdapter(starlette_app, tracer_provider=provider) as handler:
        handler(build_event("http-api", request), LocalContext())
    root, _ = tree(exporter)
    assert root.context.trace_id == 0x4BF92F3577B34DA6A3CE929D0E0E4736
    assert root.parent is not None
    assert root.parent.span_id == 0x00F067AA0BA902B7
    assert [link.context.trace_id for link in root.links] == [0x5759E988BD862E3FE1BE46A994272793]


def test_xray_trace_ids_are_time_prefixed(
    provider: LambdaTracerProvider, exporter: InMemorySpanExporter
) -> None:
    """New traces get X-Ray-compatible ids: the first 32 bits are the epoch seconds."""
    import time

    with LambdaAdapter(starlette_app, tracer_provider=provider) as handler:
        handler(build_event("http-api", HttpRequest("GET", "/items/1")), LocalContext())
    root, _ = tree(exporter)
    assert abs((root.context.trace_id >> 96) - time.time()) < 5


def test_telemetry_off_without_provider() -> None:
    """With no provider, no global one and no OTEL_* export variables, nothing is traced."""
    with LambdaAdapter(starlette_app) as handler:
        assert handler.telemetry is None or handler.telemetry.tracing is None


def test_bad_propagators_fail_at_construction(
    provider: LambdaTracerProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown OTEL_PROPAGATORS name is a ConfigurationError naming it, before any call."""
    from traced_asgi_lambda import ConfigurationError

    monkeypatch.setenv("OTEL_PROPAGATORS", "tracecontext,zipkin-ish")
    with pytest.raises(ConfigurationError, match="zipkin-ish"):
        LambdaAdapter(starlette_app, tracer_provider=provider)


@pytest.mark.parametrize(
    ("sampled", "is_parent"),
    [pytest.param("1", True, id="active-tracing-on"), pytest.param("0", False, id="off")],
)
def test_lambda_trace_env_var(
    sampled: str,
    is_parent: bool,
    provider: LambdaTracerProvider,
    exporter: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """_X_AMZN_TRACE_ID parents the root when sampled; with Sampled=0 it is only a link."""
    monkeypatch.setenv(
        "_X_AMZN_TRACE_ID",
        f"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled={sampled}",
    )
    with LambdaAdapter(starlette_app, tracer_provider=provider) as handler:
        handler(build_event("url", HttpRequest("GET", "/items/1")), LocalContext())
    root, _ = tree(exporter)
    trace_id = 0x5759E988BD862E3FE1BE46A994272793
    if is_parent:
        assert root.context.trace_id == trace_id
        assert root.links == ()
    else:
        assert root.context.trace_id != trace_id
        assert [link.context.trace_id for link in root.links] == [trace_id]


def test_provisioned_concurrency_is_never_cold(
    provider: LambdaTracerProvider, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under provisioned concurrency the first invocation is not a cold start."""
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    with LambdaAdapter(starlette_app, tracer_provider=provider) as handler:
        handler(build_event("http-api", HttpRequest("GET", "/items/1")), LocalContext())
    root, _ = tree(exporter)
    assert (root.attributes or {})["faas.coldstart"] is False


def test_binary_response_is_marked_base64(
    provider: LambdaTracerProvider, exporter: InMemorySpanExporter
) -> None:
    """The encode span says when the body went out as base64."""
    with LambdaAdapter(starlette_app, tracer_provider=provider) as handler:
        handler(build_event("edge", HttpRequest("GET", "/download")), LocalContext())
    _, children = tree(exporter)
    encode = dict(children["encode"].attributes or {})
    assert encode["traced_asgi_lambda.response.base64"] is True
    assert encode["traced_asgi_lambda.response.body_size"] == 256


def test_telemetry_names_load_lazily() -> None:
    """traced_asgi_lambda.telemetry exports its public names on first use."""
    import traced_asgi_lambda.telemetry as telemetry

    assert callable(telemetry.lambda_tracer_provider)
    assert telemetry.XRayIdGenerator.__name__ == "XRayIdGenerator"
    with pytest.raises(AttributeError, match="nothing_here"):
        telemetry.nothing_here  # noqa: B018


class DelegatingProvider(trace.TracerProvider):
    """An API provider that is neither ours nor the SDK's: the adapter uses its tracer."""

    def __init__(self, inner: TracerProvider) -> None:
        self.inner = inner
        self.asked: list[str] = []

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Any = None,
    ) -> trace.Tracer:
        self.asked.append(instrumenting_module_name)
        return self.inner.get_tracer(instrumenting_module_name, instrumenting_library_version)


def test_any_other_provider_traces_through_its_own_tracer(exporter: InMemorySpanExporter) -> None:
    inner = TracerProvider()
    inner.add_span_processor(SimpleSpanProcessor(exporter))
    provider = DelegatingProvider(inner)
    with LambdaAdapter(starlette_app, tracer_provider=provider) as handler:
        handler(build_event("http-api", HttpRequest("GET", "/route-info/7")), LocalContext())
    assert provider.asked == ["traced_asgi_lambda"]  # one tracer, asked for once
    root, children = tree(exporter)
    assert root.name == "GET /route-info/{item_id}"
    assert set(children) == {"parse", "app", "encode", "lifespan"}
    inner.shutdown()
