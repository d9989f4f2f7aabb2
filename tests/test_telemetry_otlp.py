"""otlp_encode and otlp_http: stock-equal OTLP messages, a real collector, and faults."""

from __future__ import annotations

import contextlib
import gzip
import http.server
import math
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as stock_encode
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)
from opentelemetry.util.types import AttributeValue

from tests.collector import Collector, refused_endpoint
from traced_asgi_lambda.exceptions import ConfigurationError
from traced_asgi_lambda.telemetry.otlp_encode import EncodeCache, encode_spans
from traced_asgi_lambda.telemetry.otlp_http import OtlpHttpSpanExporter
from traced_asgi_lambda.telemetry.recorded_spans import DeferredSpan
from traced_asgi_lambda.telemetry.recorder import SpanRecorder

RESOURCE = Resource.create({"service.name": "orders", "faas.max_memory": 512 * 1024 * 1024})
SCOPE = InstrumentationScope("traced_asgi_lambda", "0.1.0")
TRACE_ID = 0x5B8EFFF798038103D269B633813FC60C
MARGIN = 0.1  # seconds a deadline may be overrun by scheduling on a busy test machine

# Every kind of attribute value the stock _encode_value handles, and two it refuses.
ALL_VALUES: dict[str, Any] = {
    "str": "text",
    "empty": "",
    "unicode": "ünïcødé ✓ 😀",
    "long": "x" * 300,  # multi-byte length prefixes
    "k" * 200: "long key",
    "true": True,
    "false": False,
    "zero": 0,
    "small": 7,
    "big": 2**40,
    "negative": -1,
    "int64-min": -(2**63),
    "int64-max": 2**63 - 1,
    "float": 2.5,
    "float-zero": 0.0,
    "float-negative": -1e-300,
    "inf": math.inf,
    "bytes": b"\x00\xff",
    "empty-bytes": b"",
    "strs": ["a", "", "ü"],
    "bools": [True, False],
    "ints": [0, -5, 2**62],
    "floats": [1.5, -0.0],
    "bytes-list": [b"x", b""],
    "tuple": ("a", "b"),
    "empty-list": [],
    "nested": [["a"], [1, 2]],
    "mixed": ["a", 1, None],
    "mapping": {"a": 1, 2: ["x"], "c": {"d": None}},
    "none": None,
    "too-big": 2**64,  # int64 overflow: both encoders leave the pair out
    "object": object(),  # no AnyValue member: left out too
}


def context(span_id: int, *, remote: bool = False, state: TraceState | None = None) -> SpanContext:
    return SpanContext(TRACE_ID, span_id, remote, TraceFlags(TraceFlags.SAMPLED), state)


def span(
    name: str = "op",
    span_id: int = 0x1000,
    *,
    parent: SpanContext | None = None,
    attributes: dict[str, Any] | None = None,
    resource: Resource = RESOURCE,
    scope: InstrumentationScope | None = SCOPE,
    **kwargs: Any,
) -> ReadableSpan:
    kwargs.setdefault("start_time", 1_700_000_000_000_000_000)
    kwargs.setdefault("end_time", 1_700_000_000_123_456_789)
    return ReadableSpan(
        name,
        context=kwargs.pop("context", None) or context(span_id),
        parent=parent,
        resource=resource,
        attributes=attributes,
        instrumentation_scope=scope,
        **kwargs,
    )


def sdk_spans(limits: SpanLimits | None = None) -> tuple[ReadableSpan, ...]:
    """A root, two children, an event, an exception and a link, from the real SDK tracer."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE, span_limits=limits)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.otlp", "1.2.3", attributes={"scope.attr": "x"})
    attributes: dict[str, AttributeValue] = {
        "http.request.method": "GET",
        "http.route": "/orders/{id}",
        "n": 3,
        "ok": True,
    }
    with tracer.start_as_current_span("GET /orders/{id}", kind=SpanKind.SERVER) as root:
        root.set_attributes(attributes)
        with tracer.start_as_current_span("db", kind=SpanKind.CLIENT) as child:
            child.add_event("first")  # with limits of one, the oldest event and link go
            child.add_event("retry", {"attempt": 1, "delays": [0.1, 0.2]})
            child.add_link(context(0x78))
            child.add_link(context(0x77, remote=True), {"link.kind": "cause", "n": -3})
        with contextlib.suppress(KeyError), tracer.start_as_current_span("lookup"):
            raise KeyError("missing")
    provider.shutdown()
    return exporter.get_finished_spans()


def recorder_spans() -> list[ReadableSpan]:
    """The adapter's own spans: recorded as plain data, handed over as ReadableSpans."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    recorder = SpanRecorder(provider)
    parent = context(0xABC, remote=True, state=TraceState([("rojo", "00f067aa0ba902b7")]))
    remote = set_span_in_context(NonRecordingSpan(parent), Context())
    pending: list[Any] = []
    attributes = {"faas.coldstart": True}
    root = recorder.start_root("POST /items", remote, SpanKind.SERVER, attributes, (), pending)
    child = DeferredSpan(root, "traced_asgi_lambda.app", {"stage": "app", "ms": 12}, pending)
    child.record_exception(ValueError("bad input"))
    child.set_status(Status(StatusCode.ERROR, "bad input"))
    child.end()
    root.set_attribute("http.response.status_code", 500)
    root.end()
    recorder.report(pending)
    processor.shutdown()
    return list(exporter.get_finished_spans())


def interleaved_groups() -> list[ReadableSpan]:
    """Two resources (one also as an equal copy) and four scopes, spans interleaved."""
    other = Resource.create({"service.name": "billing"}, schema_url="https://opentelemetry.io/s/1")
    copy = Resource.create({"service.name": "orders", "faas.max_memory": 512 * 1024 * 1024})
    scoped = InstrumentationScope("lib", "2.0", "https://schema/1", {"a": 1})
    return [
        span("a", 1),
        span("b", 2, resource=other),
        span("c", 3, scope=scoped),
        span("d", 4, resource=copy),
        span("e", 5, scope=None),
        span("f", 6, resource=other, scope=InstrumentationScope("lib")),
        span("g", 7, scope=InstrumentationScope("lib", "2.0", "https://schema/1", {"a": 2})),
    ]


CASES = [
    pytest.param([], id="empty-batch"),
    pytest.param(list(sdk_spans()), id="sdk-root-children-event-exception-link"),
    pytest.param(
        list(
            sdk_spans(
                SpanLimits(
                    max_attributes=1,
                    max_events=1,
                    max_links=1,
                    max_event_attributes=1,
                    max_link_attributes=1,
                )
            )
        ),
        id="sdk-dropped-counts",
    ),
    pytest.param(recorder_spans(), id="recorder-remote-parent-error"),
    pytest.param([span(attributes=ALL_VALUES)], id="all-value-types"),
    pytest.param([span(kind=kind, span_id=kind.value + 1) for kind in SpanKind], id="kinds"),
    pytest.param(
        [
            span(
                context=context(9, state=TraceState([("vendor", "v1"), ("other", "x-y")])),
                parent=context(8, remote=True),
            ),
            span(parent=context(8)),
        ],
        id="trace-state-remote-and-local-parent",
    ),
    pytest.param(
        [
            span(status=Status(StatusCode.ERROR, "upstream down ✗")),
            span(status=Status(StatusCode.ERROR)),
            span(status=Status(StatusCode.OK)),
        ],
        id="statuses",
    ),
    pytest.param(
        [
            span(
                events=[
                    Event("plain", timestamp=5),
                    Event("exception", {"exception.type": "ValueError", "escaped": "False"}, 6),
                    Event("", {"list": [1, 2]}, 0),
                ],
                links=[
                    Link(context(0x10, remote=True), {"a": "b", "n": [1.5]}),
                    Link(context(0x11, state=TraceState([("k", "v")]))),
                ],
            )
        ],
        id="events-and-links",
    ),
    pytest.param([span(attributes={f"attr.{i}": "v" * i for i in range(200)})], id="large-span"),
    pytest.param([span(name="", start_time=None, end_time=None)], id="unset-name-and-times"),
    pytest.param(interleaved_groups(), id="resources-and-scopes"),
    pytest.param(
        [span(resource=Resource({"n": 1})), span(resource=Resource({"n": 1.0}))],
        id="resources-equal-but-hashed-apart",
    ),
]


@pytest.mark.parametrize("spans", CASES)
def test_encoding_equals_the_stock_encoder(spans: Sequence[ReadableSpan]) -> None:
    """Our bytes parse to the very message the stock protobuf encoder builds."""
    assert ExportTraceServiceRequest.FromString(encode_spans(spans)) == stock_encode(spans)


@pytest.mark.parametrize("spans", CASES)
def test_cached_encoding_equals_the_stock_encoder(spans: Sequence[ReadableSpan]) -> None:
    """With a cache, the first batch fills it and the second reads it: both are stock's."""
    cache = EncodeCache()
    first, second = encode_spans(spans, cache), encode_spans(spans, cache)
    assert first == second == encode_spans(spans)
    assert ExportTraceServiceRequest.FromString(second) == stock_encode(spans)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(True, 1, id="bool-and-int"),
        pytest.param(False, 0, id="false-and-zero"),
        pytest.param("1", 1, id="str-and-int"),
    ],
)
def test_cached_pairs_keep_equal_values_of_other_types_apart(a: object, b: object) -> None:
    """1 == True, so a cache keyed by value alone would write one where the other belongs."""
    cache = EncodeCache()
    for value in (a, b, a):
        spans = [span(attributes={"k": value})]
        assert encode_spans(spans, cache) == encode_spans(spans)


def test_the_pair_cache_is_bounded() -> None:
    """Per-request values cannot grow the cache past its bound; it restarts when full."""
    cache = EncodeCache(max_pairs=8)
    for index in range(50):
        spans = [span(attributes={"request.id": f"r{index}", "n": index})]
        assert encode_spans(spans, cache) == encode_spans(spans)
        assert len(cache.pairs) <= 8 + 2


class RenamedSpan(ReadableSpan):
    """A ReadableSpan subclass whose properties differ from its fields."""

    @property
    def name(self) -> str:
        return "renamed"

    @property
    def attributes(self) -> Any:
        return {"from": "property"}


def test_a_readable_span_subclass_is_read_through_its_properties() -> None:
    """Only the SDK's own class is read from its fields; a subclass keeps its overrides."""
    original = span(attributes={"from": "field"})
    renamed = RenamedSpan(
        original.name,
        context=original.context,
        resource=original.resource,
        attributes=dict(original.attributes or {}),
        instrumentation_scope=original.instrumentation_scope,
        start_time=original.start_time,
        end_time=original.end_time,
    )
    decoded = ExportTraceServiceRequest.FromString(encode_spans([renamed]))
    (written,) = decoded.resource_spans[0].scope_spans[0].spans
    assert written.name == "renamed"
    assert [(a.key, a.value.string_value) for a in written.attributes] == [("from", "property")]
    assert decoded == stock_encode([renamed])


def test_negative_int_is_a_ten_byte_varint() -> None:
    """int64 -1 is written as two's complement: ten bytes, as protobuf writes it."""
    encoded = encode_spans([span(attributes={"n": -1})])
    assert b"\x18" + b"\xff" * 9 + b"\x01" in encoded


# --- the exporter, against a real collector -------------------------------------------------


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_spans_reach_a_real_collector(collector: Collector, compression: str) -> None:
    """Spans exported twice over one connection arrive at rotel with typed attributes."""
    exporter = OtlpHttpSpanExporter(collector.traces_endpoint, compression=compression, environ={})
    try:
        assert exporter.export_within(sdk_spans(), 5.0) is True
        assert exporter.export(recorder_spans()) is SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    collector.wait_for_spans(5)
    root = collector.span("GET /orders/{id}")
    assert root["kind"] == "SERVER"
    assert root["attributes"] == {
        "http.request.method": "GET",
        "http.route": "/orders/{id}",
        "n": 3,
        "ok": True,
    }
    assert type(root["attributes"]["n"]) is int
    assert root["resource"]["service.name"] == "orders"
    child = collector.span("traced_asgi_lambda.app")
    assert (child["status_code"], child["status_message"]) == ("ERROR", "bad input")
    assert child["events"][0]["attributes"]["exception.type"] == "ValueError"


# --- small HTTP servers for the faults -------------------------------------------------------


class _Server(http.server.ThreadingHTTPServer):
    """Answers each POST with the next status in ``statuses``, recording what arrived."""

    def __init__(self, statuses: list[int], close_after_each: bool, tls: ssl.SSLContext | None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.statuses = statuses
        self.close_after_each = close_after_each
        self.received: list[tuple[dict[str, str], bytes, int]] = []  # headers, body, port
        self.scheme = "https" if tls else "http"
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/v1/traces"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive
    timeout = 5  # a keep-alive connection left open by a failed test still ends

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.received.append((headers, body, self.client_address[1]))
        status = self.server.statuses.pop(0) if len(self.server.statuses) > 1 else 200
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "30")
        elif status == 503:  # an HTTP date: the exporter ignores it and backs off as usual
            self.send_header("Retry-After", "Fri, 01 Jan 2100 00:00:00 GMT")
        self.send_header("Content-Length", "0")
        self.end_headers()
        # Closing without "Connection: close": the client learns it on its next request.
        self.close_connection = self.server.close_after_each

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextlib.contextmanager
def serving(
    statuses: list[int], *, close_after_each: bool = False, tls: ssl.SSLContext | None = None
) -> Iterator[_Server]:
    """A server thread answering ``statuses`` in turn, then 200; stopped and joined after."""
    server = _Server([*statuses, 200], close_after_each, tls)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    """A port that completes TCP handshakes (the kernel's backlog) but never reads or answers."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


@contextlib.contextmanager
def trickling_port() -> Iterator[int]:
    """A server that answers one header byte every 20 ms, forever (until the client leaves)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(5)
        done = threading.Event()

        def trickle() -> None:
            with contextlib.suppress(OSError), listener.accept()[0] as conn:
                conn.recv(65536)
                line = b"HTTP/1.1 200 OK\r\n"
                while not done.wait(0.02):
                    conn.sendall(line)
                    line = b"X-A: b\r\n"

        thread = threading.Thread(target=trickle)
        thread.start()
        try:
            yield listener.getsockname()[1]
        finally:
            done.set()
            thread.join()


def exporter_for(endpoint: str, **kwargs: Any) -> OtlpHttpSpanExporter:
    return OtlpHttpSpanExporter(endpoint, environ=kwargs.pop("environ", {}), **kwargs)


def timed(call: Callable[[], bool]) -> tuple[bool, float]:
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


# --- faults ----------------------------------------------------------------------------------


def test_refused_port_fails_fast() -> None:
    """Nothing listening: False at once, with the reason kept, and no exception."""
    exporter = exporter_for(refused_endpoint() + "/v1/traces")
    ok, elapsed = timed(lambda: exporter.export_within([span()], 5.0))
    assert ok is False
    assert elapsed < 0.5
    assert exporter.last_error is not None
    assert "ConnectionRefusedError" in exporter.last_error
    assert exporter.export([span()]) is SpanExportResult.FAILURE
    exporter.shutdown()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_silent_server_costs_only_the_budget(scheme: str) -> None:
    """A server that accepts but never answers (nor finishes a TLS handshake) costs the budget."""
    with silent_port() as port:
        exporter = exporter_for(f"{scheme}://127.0.0.1:{port}/v1/traces")
        ok, elapsed = timed(lambda: exporter.export_within([span()], 0.2))
        exporter.shutdown()
    assert ok is False
    assert 0.15 <= elapsed <= 0.2 + MARGIN
    assert exporter.last_error is not None
    assert "TimeoutError" in exporter.last_error


def test_trickling_server_cannot_stretch_the_deadline() -> None:
    """A server that sends a byte at a time still gets no more than the budget in total."""
    with trickling_port() as port:
        exporter = exporter_for(f"http://127.0.0.1:{port}/v1/traces")
        ok, elapsed = timed(lambda: exporter.export_within([span()], 0.3))
        exporter.shutdown()
    assert ok is False
    assert elapsed <= 0.3 + MARGIN


def test_a_concurrent_export_cannot_stretch_the_deadline() -> None:
    """While another thread's export holds the connection, ours gives up by its deadline."""
    with silent_port() as port:
        exporter = exporter_for(f"http://127.0.0.1:{port}/v1/traces")
        other = threading.Thread(target=exporter.export_within, args=([span()], 0.5))
        other.start()
        time.sleep(0.05)
        ok, elapsed = timed(lambda: exporter.export_within([span()], 0.1))
        other.join()
        exporter.shutdown()
    assert ok is False
    assert elapsed <= 0.1 + MARGIN
    assert exporter.last_error is not None


def test_retryable_status_is_retried_while_time_allows() -> None:
    """503 then 200: retried after a short backoff, and the export succeeds."""
    with serving([503, 503]) as server:
        exporter = exporter_for(server.endpoint)
        assert exporter.export_within([span()], 2.0) is True
        exporter.shutdown()
    assert len(server.received) == 3
    assert exporter.last_error is None


@pytest.mark.parametrize(
    ("status", "budget", "requests"),
    [
        pytest.param(400, 2.0, 1, id="400-is-final"),
        pytest.param(429, 2.0, 1, id="retry-after-beyond-the-deadline"),
        pytest.param(503, 0.3, None, id="503-until-the-deadline"),
    ],
)
def test_failing_status_gives_up_by_the_deadline(
    status: int, budget: float, requests: int | None
) -> None:
    """Non-retryable answers are final; retryable ones are retried only within the budget."""
    with serving([status] * 50) as server:
        exporter = exporter_for(server.endpoint)
        ok, elapsed = timed(lambda: exporter.export_within([span()], budget))
        exporter.shutdown()
    assert ok is False
    assert elapsed <= budget + MARGIN
    assert exporter.last_error == f"the collector answered HTTP {status}"
    if requests is not None:
        assert len(server.received) == requests
    else:
        assert 2 <= len(server.received) < 10


def test_connection_is_kept_alive_across_exports() -> None:
    """Three exports travel over one TCP connection."""
    with serving([]) as server:
        exporter = exporter_for(server.endpoint)
        assert all(exporter.export_within([span()], 2.0) for _ in range(3))
        exporter.shutdown()
    assert len({port for _, _, port in server.received}) == 1


def test_closed_keep_alive_connection_is_replaced_once() -> None:
    """A server that closed the idle connection: the export reconnects and succeeds."""
    with serving([], close_after_each=True) as server:
        exporter = exporter_for(server.endpoint)
        assert exporter.export_within([span()], 2.0) is True
        time.sleep(0.05)  # the server's FIN arrives while the connection is idle
        assert exporter.export_within([span()], 2.0) is True
        exporter.shutdown()
    assert len(server.received) == 2
    assert len({port for _, _, port in server.received}) == 2


def test_gzip_body_round_trips() -> None:
    """With gzip, the body is a gzip stream of the protobuf request, flagged as such."""
    spans = list(sdk_spans())
    with serving([]) as server:
        exporter = exporter_for(server.endpoint, compression="gzip")
        assert exporter.export_within(spans, 2.0) is True
        exporter.shutdown()
    headers, body, _ = server.received[0]
    assert headers["content-encoding"] == "gzip"
    assert ExportTraceServiceRequest.FromString(gzip.decompress(body)) == stock_encode(spans)


def test_headers_and_endpoint_come_from_the_environment() -> None:
    """Percent-decoded OTEL_EXPORTER_OTLP_TRACES_HEADERS win over the general ones."""
    with serving([]) as server:
        environ = {
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": server.endpoint,
            "OTEL_EXPORTER_OTLP_HEADERS": "ignored=1",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "Api-Key=s3cr%3Dt%2C1, x-tenant = acme ,",
        }
        exporter = OtlpHttpSpanExporter(environ=environ)
        assert exporter.export_within([span()], 2.0) is True
        exporter.shutdown()
    headers, body, _ = server.received[0]
    assert headers["api-key"] == "s3cr=t,1"
    assert headers["x-tenant"] == "acme"
    assert "ignored" not in headers
    assert headers["content-type"] == "application/x-protobuf"
    assert headers["user-agent"].startswith("traced-asgi-lambda/")
    assert body == encode_spans([span()])


def test_tls_endpoint_exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An https endpoint with a trusted certificate: the TLS socket keeps the deadline too."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # read by ssl.create_default_context()
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    with serving([503], tls=tls) as server:
        exporter = exporter_for(server.endpoint)
        assert exporter.export_within([span()], 5.0) is True, exporter.last_error
        assert exporter.export_within([span()], 5.0) is True, exporter.last_error
        exporter.shutdown()
    assert len(server.received) == 3
    assert len({port for _, _, port in server.received}) == 1


def test_lifecycle() -> None:
    """Empty batches need no network; after shutdown exports fail; broken input never raises."""
    exporter = exporter_for(refused_endpoint() + "/v1/traces")
    assert exporter.export([]) is SpanExportResult.SUCCESS
    assert exporter.force_flush() is True
    assert exporter.export_within(cast("list[ReadableSpan]", [object()]), 1.0) is False
    assert str(exporter.last_error).startswith("the spans could not be encoded: AttributeError")
    assert exporter.export_within([span()], 0) is False
    exporter.shutdown()
    assert exporter.export([span()]) is SpanExportResult.FAILURE
    assert exporter.last_error == "the exporter is shut down"


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "endpoint"),
    [
        pytest.param({}, "http://localhost:4318/v1/traces", id="default"),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}, "http://c:4318/v1/traces", id="base"
        ),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c/p"}, "https://c/p/v1/traces", id="base-path"
        ),
        pytest.param(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://base:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/custom",
            },
            "http://c:4318/custom",
            id="signal-url-as-is",
        ),
    ],
)
def test_endpoint_from_environment(environ: dict[str, str], endpoint: str) -> None:
    """The traces URL is used as is; the base URL gets /v1/traces appended."""
    assert OtlpHttpSpanExporter(environ=environ).endpoint == endpoint


@pytest.mark.parametrize(
    ("environ", "timeout"),
    [
        pytest.param({}, 10.0, id="default-10000ms"),
        pytest.param({"OTEL_EXPORTER_OTLP_TIMEOUT": "2500"}, 2.5, id="general"),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_TIMEOUT": "2500", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "300"},
            0.3,
            id="signal-wins",
        ),
    ],
)
def test_timeout_from_environment_is_in_milliseconds(
    environ: dict[str, str], timeout: float
) -> None:
    """OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT is read in milliseconds, as the spec says."""
    assert OtlpHttpSpanExporter(environ=environ).timeout == timeout


def test_arguments_win_over_the_environment() -> None:
    """Arguments given are used; the variables only fill in what is left out."""
    environ = {"OTEL_EXPORTER_OTLP_TIMEOUT": "1", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"}
    exporter = OtlpHttpSpanExporter("http://h/x", timeout=3, compression="none", environ=environ)
    assert (exporter.endpoint, exporter.timeout, exporter.compression) == ("http://h/x", 3, "none")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({"OTEL_EXPORTER_OTLP_TIMEOUT": "soon"}, "milliseconds", id="timeout"),
        pytest.param({"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}, "'gzip', 'none'", id="zip"),
        pytest.param({"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://c"}, "http://", id="scheme"),
        pytest.param({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:99999"}, "http://", id="port"),
        pytest.param({"OTEL_EXPORTER_OTLP_HEADERS": "a=1,secret-token"}, "entry 2", id="pair"),
    ],
)
def test_bad_settings_fail_loudly(environ: dict[str, str], expected: str) -> None:
    """A bad variable raises ConfigurationError naming what was expected, never a secret."""
    with pytest.raises(ConfigurationError, match=expected) as error:
        OtlpHttpSpanExporter(environ=environ)
    assert "secret-token" not in str(error.value)


def test_import_pulls_in_no_protobuf_or_requests() -> None:
    """Importing the encoder and exporter loads neither protobuf, googleapis nor requests."""
    probe = (
        "import sys\n"
        "import traced_asgi_lambda.telemetry.otlp_encode\n"
        "import traced_asgi_lambda.telemetry.otlp_http\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('google', 'requests', 'urllib3')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_cached_resource_encodes_the_same() -> None:
    """With a resource cache, repeated batches encode exactly as without one."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext, TraceFlags

    resource = Resource.create({"service.name": "orders", "cloud.region": "eu-west-1"})
    context = SpanContext(1, 2, is_remote=False, trace_flags=TraceFlags(1))
    spans = [ReadableSpan("a", context, resource=resource, start_time=1, end_time=2)]
    cache = EncodeCache()
    first = encode_spans(spans, cache)
    assert list(cache.resources) == [id(resource)]
    assert encode_spans(spans, cache) == first == encode_spans(spans)
