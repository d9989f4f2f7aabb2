"""The fault matrix: one parametrised test, one cell per fault, every cell checked the same way.

Each cell runs one invocation with the fault in place, then a plain one, on the same
adapter, and asserts:

1. the caller gets a correct Lambda response, or the documented exception;
2. the call returns within the app's own time plus the flush budget plus ``SLACK``;
3. no telemetry is lost: every span that ended was exported, unless the budget forced a
   drop, and then the drop was counted (``dropped_spans``) and logged exactly once; one
   access line and one EMF ``Requests`` per invocation; the trace, the access line and
   ``ServerErrors`` agree on the error type;
4. the next invocation is served correctly, and after each one there is no leftover
   asyncio task (the parked lifespan task aside), no bound log context and no current span.

docs/reliability.md has the table of what the caller, the logs, the trace and the metrics
see for each cell, derived from this module.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import json
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from tests.collector import refused_endpoint
from tests.emf_schema import validate_emf_line
from traced_asgi_lambda import (
    LambdaAdapter,
    LifespanError,
    MalformedEventError,
    TelemetryOptions,
    UnsupportedEventError,
)
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event, to_http
from traced_asgi_lambda.telemetry.otlp_http import OtlpHttpSpanExporter
from traced_asgi_lambda.telemetry.processor import InvocationSpanProcessor
from traced_asgi_lambda.telemetry.provider import lambda_resource
from traced_asgi_lambda.types import ASGIReceive, ASGISend, LifespanMode

Scope = MutableMapping[str, Any]
EVENTS = Path(__file__).parent / "events"

SLACK = 0.35  # seconds on top of every time bound: loaded CI machines stall
FLUSH_MARGIN = 0.2  # TelemetryOptions.flush_margin's default
BROKEN_BUDGET = 0.3  # flush_timeout for the cells whose exporter misbehaves
SHUTDOWN_TIMEOUT = 0.25  # LambdaAdapter's default shutdown_timeout
SYNC_LIMIT = 6 * 1024 * 1024  # Lambda's synchronous response payload limit
FAULT_REQUEST_ID = "fault-invocation"
TEN_MB = bytes(range(256)) * (10 * 1024 * 1024 // 256)

# --- the app ------------------------------------------------------------------------------------


class FaultApp:
    """A raw ASGI app whose path picks the fault; lifespan behaviour is set per cell.

    ``startup``: ``complete``, ``raise-once`` / ``failed-once`` (fail the first startup,
    complete the next), ``raise`` (always), ``slow`` (the first takes 0.7 s).
    ``shutdown``: ``complete``, ``hang`` (until cancelled), ``stubborn`` (keeps working
    for two seconds after being cancelled).
    """

    def __init__(self, startup: str = "complete", shutdown: str = "complete") -> None:
        self.startup = startup
        self.shutdown = shutdown
        self.startups = 0
        self.checkpoint: Callable[[], None] = lambda: None  # run by /sleep and /block on waking

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        route = scope["path"].strip("/").replace("-", "_") or "ok"
        scope["route"] = SimpleNamespace(path=scope["path"])  # as a router would set it
        await getattr(self, route)(scope, receive, send)

    async def lifespan(self, receive: ASGIReceive, send: ASGISend) -> None:
        await receive()
        self.startups += 1
        once = self.startups == 1
        if self.startup == "raise" or (self.startup == "raise-once" and once):
            raise RuntimeError("the database is unreachable")
        if self.startup == "failed-once" and once:
            await send({"type": "lifespan.startup.failed", "message": "bad configuration"})
            return
        if self.startup == "slow" and once:
            await asyncio.sleep(0.7)  # a cold dependency, past a short deadline
        await send({"type": "lifespan.startup.complete"})
        await receive()
        if self.shutdown == "hang":
            await asyncio.sleep(3600)
        elif self.shutdown == "stubborn":
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                await asyncio.sleep(2.0)  # a pool that will not close: cleanup ignores cancel
                raise
        await send({"type": "lifespan.shutdown.complete"})

    @staticmethod
    async def reply(
        send: ASGISend,
        body: bytes,
        status: int = 200,
        content_type: bytes = b"text/plain; charset=utf-8",
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> None:
        head = [(b"content-type", content_type), *headers]
        await send({"type": "http.response.start", "status": status, "headers": head})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def body(receive: ASGIReceive) -> bytes:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)

    async def ok(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        await self.reply(send, b"ok")

    async def raise_before(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        await receive()
        raise RuntimeError("failed before the response started")

    async def raise_mid(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("failed half-way through the body")

    async def nothing(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        await receive()

    async def body_first(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        await send({"type": "http.response.body", "body": b"too early"})

    async def start_twice(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.start", "status": 201, "headers": []})

    async def upload(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        body = await self.body(receive)
        digest = {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        await self.reply(send, json.dumps(digest).encode(), content_type=b"application/json")

    async def echo(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        await self.reply(send, await self.body(receive), content_type=b"application/octet-stream")

    async def big_headers(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        headers = [(b"x-big-%d" % i, b"h" * 10_000) for i in range(10)]
        await self.reply(send, b"ok", headers=headers)

    async def wide_text(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        await self.reply(send, "\u4e2d".encode() * 2_100_000)  # 6.3 MB of UTF-8, 2.1M characters

    async def sleep(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        await asyncio.sleep(float(scope["query_string"].decode().partition("=")[2]))
        self.checkpoint()
        await self.reply(send, b"late")

    async def block(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        time.sleep(float(scope["query_string"].decode().partition("=")[2]))  # blocks the loop
        self.checkpoint()
        await self.reply(send, b"late")


# --- exporters and collectors -------------------------------------------------------------------


class RaisingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        raise ConnectionResetError("the collector went away")


class HangingExporter(SpanExporter):
    """Never answers until shut down (a black-holed port)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.release.wait(30)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.release.set()


class SlowCollector(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver on 127.0.0.1 that takes ``delay`` seconds per request."""

    daemon_threads = True

    def __init__(self, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _SlowHandler)
        self.delay = delay
        self.spans = 0
        self.inflight = 0
        self.condition = threading.Condition()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/traces"

    def exporter(self, kind: str) -> SpanExporter:
        return otlp_exporter(kind, self.endpoint, timeout=5)

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: an exporter that gave up at its deadline has closed its end already."""

    def wait_idle(self) -> None:
        """Let answers in progress finish, so no exporter socket is cut half-way."""
        with self.condition:
            self.condition.wait_for(lambda: self.inflight == 0, timeout=self.delay * 3)

    def stop(self) -> None:
        self.wait_idle()
        self.shutdown()
        self.thread.join(timeout=5)
        self.server_close()


class _SlowHandler(BaseHTTPRequestHandler):
    server: SlowCollector

    def do_POST(self) -> None:
        with self.server.condition:
            self.server.inflight += 1
        try:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            time.sleep(self.server.delay)
            request = ExportTraceServiceRequest.FromString(body)
            with self.server.condition:  # counted before the answer: the exporter then knows
                self.server.spans += sum(
                    len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans
                )
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        finally:
            with self.server.condition:
                self.server.inflight -= 1
                self.server.condition.notify_all()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def otlp_exporter(kind: str, endpoint: str, timeout: float) -> SpanExporter:
    """The library's own OTLP/HTTP exporter (what OTEL_EXPORTER_OTLP_ENDPOINT configures),
    or the OpenTelemetry SDK's, which users may pass in their own provider."""
    if kind == "own":
        return OtlpHttpSpanExporter(endpoint, timeout=timeout, environ={})
    return OTLPSpanExporter(endpoint=endpoint, timeout=int(timeout))


def refused_exporter(kind: str) -> Callable[[], SpanExporter]:
    return lambda: otlp_exporter(kind, refused_endpoint() + "/v1/traces", timeout=1)


# --- the rig: one adapter under test with everything it writes ----------------------------------


@dataclass
class Rig:
    adapter: LambdaAdapter
    app: FaultApp
    stream: io.StringIO
    processor: InvocationSpanProcessor
    witness: InMemorySpanExporter  # every span that ended, whatever the exporter did

    def lines(self, text: str | None = None) -> list[dict[str, Any]]:
        text = self.stream.getvalue() if text is None else text
        return [json.loads(line) for line in text.splitlines()]

    def cut(self) -> str:
        """What was written since the last cut."""
        text = self.stream.getvalue()
        self.stream.seek(0)
        self.stream.truncate()
        return text


@dataclass(frozen=True)
class Seen:
    """What one invocation produced, for a cell's own checks."""

    rig: Rig
    response: dict[str, Any] | None
    error: BaseException | None
    written: str
    spans: list[ReadableSpan]
    checkpoint: dict[str, Any]

    @property
    def logs(self) -> list[dict[str, Any]]:
        return [line for line in self.rig.lines(self.written) if "_aws" not in line]

    @property
    def emf(self) -> list[dict[str, Any]]:
        lines = self.written.splitlines()
        return [validate_emf_line(line) for line in lines if line.startswith('{"_aws"')]

    def metric(self, name: str) -> list[float]:
        return [value for blob in self.emf if name in blob for value in blob[name]]

    @property
    def root(self) -> ReadableSpan:
        (root,) = [span for span in self.spans if span.parent is None]
        return root


@dataclass(frozen=True)
class Cell:
    """One fault: how to provoke it and what the caller must get."""

    event: Callable[[], Any]
    expect: int | type[BaseException]  # the status code, or the exception Lambda receives
    error_type: str | None = None  # on the trace, the access line and ServerErrors
    body: bytes | None = None
    app: Callable[[], FaultApp] = FaultApp
    lifespan: LifespanMode = "off"
    exporter: Callable[[], SpanExporter] = InMemorySpanExporter
    collector_delay: float | None = None  # run a SlowCollector and export to it
    collector_exporter: str = "own"  # which OTLP exporter talks to it: "own" or "sdk"
    flush_timeout: float = 2.0
    timeout_ms: int = 30_000
    work: float = 0.0  # seconds the app and the adapter's own work may take
    # True: the budget forces a drop. None: no time at all is left, so the spans are either
    # dropped (counted, logged once) or, as today, kept for the next invocation's export
    # (see test_a_zero_budget_counts_the_spans_it_cannot_export).
    drops: bool | None = False
    check: Callable[[Seen], None] = lambda seen: None
    close_within: float | None = None  # close() must return within this (plus SLACK)
    warm: bool = False  # run a plain invocation first, so the fault one is a warm call


@contextmanager
def rig_for(cell: Cell) -> Iterator[tuple[Rig, SlowCollector | None]]:
    collector = None if cell.collector_delay is None else SlowCollector(cell.collector_delay)
    exporter = collector.exporter(cell.collector_exporter) if collector else cell.exporter()
    processor = InvocationSpanProcessor(exporter)
    witness = InMemorySpanExporter()
    provider = TracerProvider(resource=lambda_resource({}, "faults"))
    provider.add_span_processor(processor)
    provider.add_span_processor(SimpleSpanProcessor(witness))
    stream = io.StringIO()
    options = TelemetryOptions(
        stream=stream, log_json=True, flush_timeout=cell.flush_timeout, service="faults"
    )
    app = cell.app()
    adapter = LambdaAdapter(
        app, lifespan=cell.lifespan, tracer_provider=provider, telemetry=options
    )
    try:
        yield Rig(adapter, app, stream, processor, witness), collector
    finally:
        if collector is not None:
            collector.wait_idle()
        adapter.close()  # idempotent: a cell may have closed it already
        if collector is not None:
            collector.stop()


# --- the assertions every cell shares ------------------------------------------------------------


def assert_no_leftovers(adapter: LambdaAdapter) -> None:
    """No task but the parked lifespan one, no bound log context, no current span."""
    tasks = asyncio.all_tasks(adapter.loop)
    strays = [t for t in tasks if getattr(t.get_coro(), "__qualname__", "") != "Lifespan._main"]
    assert strays == []
    assert structlog.contextvars.get_contextvars() == {}
    assert not trace.get_current_span().get_span_context().is_valid


def invoke(rig: Rig, event: Any, context: LocalContext) -> tuple[Any, BaseException | None, float]:
    started = time.perf_counter()
    try:
        response = rig.adapter(event, context)
    except Exception as exc:
        return None, exc, time.perf_counter() - started
    return response, None, time.perf_counter() - started


def drop_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]


def run_cell(cell: Cell, caplog: pytest.LogCaptureFixture) -> None:
    structlog.contextvars.clear_contextvars()
    with rig_for(cell) as (rig, collector):
        checkpoint: dict[str, Any] = {}

        def snapshot() -> None:
            checkpoint["written"] = rig.stream.getvalue()
            checkpoint["spans"] = list(rig.witness.get_finished_spans())[warm_spans:]
            checkpoint["exported"] = rig.processor.exported_spans
            checkpoint["dropped"] = rig.processor.dropped_spans
            checkpoint["at"] = time.monotonic()

        rig.app.checkpoint = snapshot
        if cell.warm:
            assert rig.adapter(build_event("http-api", HttpRequest()), LocalContext())
            rig.cut()
        warm_spans = len(rig.witness.get_finished_spans())
        context = LocalContext(
            "faults", timeout_ms=cell.timeout_ms, aws_request_id=FAULT_REQUEST_ID
        )
        deadline = time.monotonic() + cell.timeout_ms / 1000
        response, error, elapsed = invoke(rig, cell.event(), context)
        checkpoint["deadline"] = deadline
        seen = Seen(
            rig,
            response,
            error,
            rig.cut(),
            list(rig.witness.get_finished_spans())[warm_spans:],
            checkpoint,
        )

        # 1. The caller's answer.
        if isinstance(cell.expect, int):
            assert error is None, repr(error)
            assert to_http(response).status == cell.expect
            assert len(json.dumps(response, ensure_ascii=False).encode()) <= SYNC_LIMIT
            if cell.body is not None:
                assert to_http(response).body == cell.body
        else:
            assert isinstance(error, cell.expect), repr(error)

        # 2. The time it took.
        budget = max(0.0, min(cell.flush_timeout, cell.timeout_ms / 1000 - FLUSH_MARGIN))
        assert elapsed <= cell.work + budget + SLACK, f"{elapsed:.3f}s"

        # 3. Its telemetry: one access line, one Requests, and the same error everywhere.
        access = [line for line in seen.logs if line["level"] == "INFO"]
        assert len(access) == 1, access
        assert access[0].get("error_type") == cell.error_type
        assert seen.metric("Requests") == [1.0]
        assert seen.metric("ServerErrors") == [1.0 if cell.error_type else 0.0]
        errors = [line for line in seen.logs if line["level"] == "ERROR"]
        assert len(errors) == (1 if cell.error_type else 0), errors
        root = seen.root
        if cell.error_type is None:
            assert root.status.status_code is StatusCode.UNSET
        else:
            assert root.status.status_code is StatusCode.ERROR
            assert (root.attributes or {}).get("error.type") == cell.error_type
        cell.check(seen)
        assert_no_leftovers(rig.adapter)

        # 4. The next invocation, on the same adapter.
        plain = build_event("http-api", HttpRequest("GET", "/ok", request_id="next"))
        next_context = LocalContext("faults", aws_request_id="next-invocation")
        after, after_error, _ = invoke(rig, plain, next_context)
        assert after_error is None, repr(after_error)
        assert to_http(after).status == 200
        assert to_http(after).body == b"ok"
        (line,) = [line for line in rig.lines(rig.cut()) if line.get("level") == "INFO"]
        assert line["function_request_id"] == "next-invocation"
        assert line.get("error_type") is None
        assert "Timeouts" not in json.dumps(line)
        assert_no_leftovers(rig.adapter)

        # Every span that ended was exported, or counted as dropped and logged once.
        ended = len(rig.witness.get_finished_spans())
        processor = rig.processor
        accounted = processor.exported_spans + processor.dropped_spans + processor.buffered
        if cell.drops or (cell.drops is None and processor.dropped_spans):
            assert processor.dropped_spans > 0
            assert accounted >= ended  # a slow exporter may deliver a dropped batch later
            assert len(drop_warnings(caplog)) == 1, drop_warnings(caplog)
        else:
            assert processor.dropped_spans == 0
            assert accounted == ended
            assert drop_warnings(caplog) == []
        if collector is not None and not cell.drops:
            assert collector.spans == processor.exported_spans == ended

        if cell.close_within is not None:
            started = time.perf_counter()
            rig.adapter.close()
            assert time.perf_counter() - started <= cell.close_within + SLACK
            warnings = [line for line in rig.lines() if line.get("level") == "WARN"]
            assert len(warnings) == 1, warnings
            assert "lifespan shutdown did not finish" in warnings[0]["message"]


# --- the cells -----------------------------------------------------------------------------------


def http(path: str, source: str = "http-api", **request: Any) -> Callable[[], dict[str, Any]]:
    return lambda: build_event(source, HttpRequest(path=path, request_id="fault", **request))


def broken(source: str, change: Callable[[dict[str, Any]], None]) -> Callable[[], Any]:
    def event() -> dict[str, Any]:
        built = build_event(source, HttpRequest("GET", "/ok", request_id="fault"))
        change(built)
        return built

    return event


def fixture(name: str) -> Callable[[], Any]:
    return lambda: json.loads((EVENTS / "unsupported" / f"{name}.json").read_text())


def deleting(*path: str | int) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        node: Any = event
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return change


def setting(*path_and_value: Any) -> Callable[[dict[str, Any]], None]:
    *path, value = path_and_value

    def change(event: dict[str, Any]) -> None:
        node: Any = event
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


def edge_viewer(path: str) -> Callable[[], dict[str, Any]]:
    return http(path, "edge")  # build_event's edge events are viewer requests: 40 KB limit


def app_with(startup: str = "complete", shutdown: str = "complete") -> Callable[[], FaultApp]:
    return lambda: FaultApp(startup, shutdown)


def no_partial_body(seen: Seen) -> None:
    assert seen.response is not None
    assert b"partial" not in to_http(seen.response).body


def exception_on_app_span(seen: Seen) -> None:
    (app_span,) = [span for span in seen.spans if span.name == "asgi app"]
    assert [event.name for event in app_span.events if event.name == "exception"] == ["exception"]


def says_too_large(seen: Seen) -> None:
    assert seen.response is not None
    assert to_http(seen.response).body.startswith(b"Response Too Large: ")
    (error,) = [line for line in seen.logs if line["level"] == "ERROR"]
    assert "Expected a response of at most" in error["message"]


def parse_span_failed(seen: Seen) -> None:
    (parse,) = [span for span in seen.spans if span.name == "parse event"]
    assert parse.status.status_code is StatusCode.ERROR
    assert [span.name for span in seen.spans if span.name in ("asgi app", "encode response")] == []


def upload_digest(seen: Seen) -> None:
    assert seen.response is not None
    assert json.loads(to_http(seen.response).body) == {
        "length": len(TEN_MB),
        "sha256": hashlib.sha256(TEN_MB).hexdigest(),
    }


def reported_before_the_deadline(seen: Seen) -> None:
    """The timeout line, the Timeouts metric and the ended spans exist by the deadline."""
    checkpoint = seen.checkpoint
    assert checkpoint["at"] >= checkpoint["deadline"], "the app woke before the deadline"
    lines = [json.loads(line) for line in checkpoint["written"].splitlines()]
    (timeout,) = [line for line in lines if "time out" in line.get("message", "")]
    assert timeout["level"] == "ERROR"
    assert timeout["function_request_id"] == FAULT_REQUEST_ID
    assert timeout["path"] in ("/sleep", "/block")
    blobs = [validate_emf_line(json.dumps(line)) for line in lines if "_aws" in line]
    assert [blob["Timeouts"] for blob in blobs if "Timeouts" in blob] == [[1.0]]
    ended = {span.name: span for span in checkpoint["spans"]}
    root = next(span for span in checkpoint["spans"] if span.parent is None)
    assert (root.attributes or {})["error.type"] == "timeout"
    assert (ended["asgi app"].attributes or {})["error.type"] == "timeout"


def exported_before_the_deadline(seen: Seen) -> None:
    """With time left for a flush, the timed-out spans are at the exporter by the deadline."""
    reported_before_the_deadline(seen)
    assert seen.checkpoint["dropped"] == 0
    assert seen.checkpoint["exported"] >= 2  # the root and the app span


def timed_out_in(seen: Seen, stage: str) -> None:
    (line,) = [line for line in seen.logs if "time out" in line["message"]]
    assert f"still in stage {stage}" in line["message"]
    assert seen.metric("Timeouts") == [1.0]


MALFORMED = [
    ("rest", deleting("httpMethod")),
    ("http-api-v1", deleting("path")),
    ("http-api", deleting("requestContext", "http", "method")),
    ("url", deleting("requestContext", "http", "method")),
    ("alb", setting("path", 5)),
    ("alb-multi", setting("multiValueHeaders", "host", "one")),
    ("edge", deleting("Records", 0, "cf", "request", "uri")),
    ("lattice-v1", setting("method", None)),
    ("lattice", setting("body", {"not": "a string"})),
]
UNKNOWN = ["sqs", "s3_put", "eventbridge_scheduled", "empty", "websocket_connect"]
UNKNOWN += ["lambda_edge_origin_response", "direct_invoke"]


CELLS = [
    # Exporters and collectors.
    pytest.param(
        Cell(http("/ok"), 200, exporter=RaisingExporter, drops=True), id="exporter-raises"
    ),
    pytest.param(
        Cell(
            http("/ok"),
            200,
            exporter=HangingExporter,
            flush_timeout=BROKEN_BUDGET,
            drops=True,
        ),
        id="exporter-hangs",
    ),
    *(
        pytest.param(
            Cell(
                http("/ok"),
                200,
                exporter=refused_exporter(kind),
                flush_timeout=BROKEN_BUDGET,
                drops=True,
            ),
            id=f"collector-port-refused-{kind}-exporter",
        )
        for kind in ("own", "sdk")
    ),
    *(
        pytest.param(
            Cell(http("/ok"), 200, collector_delay=1.0, collector_exporter=kind),
            id=f"collector-slow-within-budget-{kind}-exporter",
        )
        for kind in ("own", "sdk")
    ),
    *(
        pytest.param(
            Cell(
                http("/ok"),
                200,
                collector_delay=1.0,
                collector_exporter=kind,
                flush_timeout=BROKEN_BUDGET,
                drops=True,
            ),
            id=f"collector-slow-over-budget-{kind}-exporter",
        )
        for kind in ("own", "sdk")
    ),
    # The app.
    pytest.param(
        Cell(http("/raise-before"), 500, "RuntimeError", check=exception_on_app_span),
        id="app-raises-before-start",
    ),
    pytest.param(
        Cell(
            http("/raise-mid"), 500, "RuntimeError", b"Internal Server Error", check=no_partial_body
        ),
        id="app-raises-mid-body",
    ),
    pytest.param(
        Cell(http("/nothing"), 500, "500", b"Internal Server Error"), id="app-returns-nothing"
    ),
    pytest.param(Cell(http("/body-first"), 500, "ASGIProtocolError"), id="app-body-before-start"),
    pytest.param(Cell(http("/start-twice"), 500, "ASGIProtocolError"), id="app-starts-twice"),
    # Lifespan.
    pytest.param(
        Cell(
            http("/ok"), LifespanError, "LifespanError", app=app_with("raise-once"), lifespan="on"
        ),
        id="lifespan-startup-raises-on",
    ),
    pytest.param(
        Cell(
            http("/ok"), LifespanError, "LifespanError", app=app_with("failed-once"), lifespan="on"
        ),
        id="lifespan-startup-failed-on",
    ),
    pytest.param(
        Cell(http("/ok"), 200, body=b"ok", app=app_with("raise"), lifespan="auto"),
        id="lifespan-startup-raises-auto",
    ),
    pytest.param(
        Cell(
            http("/ok"),
            LifespanError,
            "LifespanError",
            app=app_with("failed-once"),
            lifespan="auto",
        ),
        id="lifespan-startup-failed-auto",
    ),
    pytest.param(
        Cell(
            http("/ok"),
            200,
            app=app_with(shutdown="hang"),
            lifespan="on",
            close_within=SHUTDOWN_TIMEOUT,
        ),
        id="lifespan-shutdown-hangs",
    ),
    pytest.param(
        Cell(
            http("/ok"),
            200,
            app=app_with(shutdown="stubborn"),
            lifespan="on",
            close_within=SHUTDOWN_TIMEOUT,
        ),
        id="lifespan-shutdown-ignores-cancel",
    ),
    pytest.param(
        Cell(
            http("/ok"),
            200,
            "timeout",
            app=app_with("slow"),
            lifespan="on",
            timeout_ms=600,
            work=0.7,
            check=lambda seen: timed_out_in(seen, "lifespan"),
        ),
        id="lifespan-startup-past-the-deadline",
    ),
    # Events.
    *(
        pytest.param(
            Cell(
                broken(source, change),
                MalformedEventError,
                "MalformedEventError",
                check=parse_span_failed,
            ),
            id=f"malformed-{source}",
        )
        for source, change in MALFORMED
    ),
    pytest.param(
        Cell(
            broken("http-api", lambda e: e.update(body="!!not base64!!", isBase64Encoded=True)),
            MalformedEventError,
            "MalformedEventError",
        ),
        id="malformed-base64-body",
    ),
    pytest.param(
        Cell(
            broken("alb", setting("headers", "x-smuggle", "a\r\nInjected: 1")),
            MalformedEventError,
            "MalformedEventError",
        ),
        id="malformed-crlf-in-a-header",
    ),
    *(
        pytest.param(
            Cell(
                fixture(name),
                UnsupportedEventError,
                "UnsupportedEventError",
                check=parse_span_failed,
            ),
            id=f"unknown-{name.replace('_', '-')}",
        )
        for name in UNKNOWN
    ),
    pytest.param(
        Cell(lambda: ["not", "an", "object"], UnsupportedEventError, "UnsupportedEventError"),
        id="unknown-json-array",
    ),
    pytest.param(
        Cell(lambda: None, UnsupportedEventError, "UnsupportedEventError"), id="unknown-null"
    ),
    # Sizes.
    pytest.param(
        Cell(
            http(
                "/upload",
                "http-api",
                method="PUT",
                body=TEN_MB,
                headers=[("Content-Type", "application/octet-stream")],
            ),
            200,
            work=1.5,
            check=upload_digest,
        ),
        id="request-body-10mb-base64",
    ),
    pytest.param(
        Cell(
            http(
                "/echo",
                "alb",
                method="PUT",
                body=TEN_MB,
                headers=[("Content-Type", "application/octet-stream")],
            ),
            500,
            "ResponseTooLargeError",
            work=2.0,
            check=says_too_large,
        ),
        id="response-body-10mb",
    ),
    pytest.param(
        Cell(http("/wide-text"), 500, "ResponseTooLargeError", work=1.0, check=says_too_large),
        id="response-6mb-of-non-ascii-text",
    ),
    pytest.param(
        Cell(
            http(
                "/ok",
                headers=[(f"X-Big-{i}", "v" * 10_000) for i in range(9)]
                + [("User-Agent", "u" * 10_000)],
            ),
            200,
            body=b"ok",
        ),
        id="request-headers-100kb",
    ),
    pytest.param(Cell(http("/big-headers"), 200, body=b"ok"), id="response-headers-100kb"),
    pytest.param(
        Cell(edge_viewer("/big-headers"), 500, "ResponseTooLargeError", check=says_too_large),
        id="response-headers-100kb-edge-viewer",
    ),
    # Deadlines.
    pytest.param(
        Cell(http("/ok"), 200, body=b"ok", timeout_ms=50, drops=True, warm=True), id="50ms-left"
    ),
    pytest.param(
        Cell(
            http("/sleep", query=[("s", "0.2")]),
            200,
            "timeout",
            timeout_ms=50,
            work=0.2,
            drops=True,
            check=reported_before_the_deadline,
        ),
        id="50ms-left-app-sleeps",
    ),
    pytest.param(
        Cell(
            http("/block", query=[("s", "0.2")]),
            200,
            "timeout",
            timeout_ms=50,
            work=0.2,
            drops=True,
            check=reported_before_the_deadline,
        ),
        id="50ms-left-app-blocks",
    ),
    pytest.param(
        Cell(
            http("/sleep", query=[("s", "0.7")]),
            200,
            "timeout",
            timeout_ms=600,
            work=0.7,
            check=exported_before_the_deadline,
        ),
        id="600ms-left-app-sleeps",
    ),
]


@pytest.mark.parametrize("cell", CELLS)
def test_fault(cell: Cell, caplog: pytest.LogCaptureFixture) -> None:
    """Under this fault the caller, the logs, the trace and the metrics are right, in time."""
    run_cell(cell, caplog)


def test_a_zero_budget_counts_the_spans_it_cannot_export(caplog: pytest.LogCaptureFixture) -> None:
    """With no time left to export, the spans are counted as dropped and logged, not kept."""
    cell = Cell(http("/ok"), 200)
    with rig_for(cell) as (rig, _):
        rig.adapter(build_event("http-api", HttpRequest()), LocalContext())  # warm
        ended_before = len(rig.witness.get_finished_spans())
        rig.adapter(build_event("http-api", HttpRequest()), LocalContext(timeout_ms=50))
        ended = len(rig.witness.get_finished_spans()) - ended_before
        # On Lambda the environment may be frozen or stopped now: nothing may wait in memory.
        assert rig.processor.buffered == 0
        assert rig.processor.dropped_spans == ended
        assert len(drop_warnings(caplog)) == 1


def test_the_timeout_line_names_the_route(caplog: pytest.LogCaptureFixture) -> None:
    """The timeout line names the route the app was serving, as issue 7 asks."""
    cell = Cell(http("/sleep", query=[("s", "0.2")]), 200, "timeout", timeout_ms=50)
    with rig_for(cell) as (rig, _):
        rig.adapter(cell.event(), LocalContext(timeout_ms=50))
        (line,) = [line for line in rig.lines() if "time out" in line.get("message", "")]
    assert line.get("route") == "/sleep"  # FaultApp sets scope["route"] as a router would
