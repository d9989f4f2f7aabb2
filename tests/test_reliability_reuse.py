"""A thousand sequential invocations on one adapter leave nothing behind.

Lambda reuses an execution environment for as long as it lives, so anything an invocation
leaves behind (memory, a file descriptor, a task, a bound log key, a current span) adds up
over thousands of calls. One adapter, with lifespan, tracing, logs and EMF all on, serves
every source in turn, with successes, app failures, 404s, malformed and unsupported events
and watchdog timeouts mixed in; the cold start and the first use of every path happen in a
warm-up, and the rest is measured.
"""

from __future__ import annotations

import asyncio
import gc
import io
import os
import threading
import tracemalloc
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from traced_asgi_lambda import (
    LambdaAdapter,
    MalformedEventError,
    TelemetryOptions,
    UnsupportedEventError,
)
from traced_asgi_lambda.local import SOURCES, HttpRequest, LocalContext, build_event, to_http
from traced_asgi_lambda.telemetry.provider import lambda_tracer_provider
from traced_asgi_lambda.types import ASGIReceive, ASGISend

Scope = MutableMapping[str, Any]

INVOCATIONS = 1000
WARM_UP = 200  # every (source, behaviour) pair, the cold start and a timeout happen in here
SETTLE = 100  # measured invocations before the first snapshot: one-off buffers settle
TIMEOUT_EVERY = 97  # a watchdog timeout (50 ms left, the app sleeps 40 ms) this often
# Retained growth allowed between the two snapshots (700 invocations). Nothing should be
# kept per invocation. Measured: about 15 KB over 700 invocations and 23 KB over 3,000, so
# it is not proportional to the count: it is Python 3.11's traceback formatting (the
# ``ast`` work behind its caret anchors, when a span records an exception) filling caches
# that stop growing. A leak of the smallest thing an invocation creates, one span (~1 KB)
# or one event (~2 KB), would retain 700 KB or more. 64 KiB is 4x the noise and under
# 100 bytes per invocation.
MEMORY_TOLERANCE = 64 * 1024


async def app(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    """Lifespan with state; HTTP behaviour picked by the path."""
    if scope["type"] == "lifespan":
        await receive()
        scope["state"]["pool"] = object()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    await receive()
    path = scope["path"]
    if path == "/raise":
        raise RuntimeError("the app failed")
    if path == "/nothing":
        return
    if path == "/sleep":
        await asyncio.sleep(0.04)
    status = 404 if path == "/missing" else 200
    headers = [(b"content-type", b"text/plain"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"hello ", "more_body": True})
    await send({"type": "http.response.body", "body": path.encode()})


class Sink(io.StringIO):
    """A stream that counts what is written and keeps none of it."""

    def __init__(self) -> None:
        super().__init__()
        self.written = 0

    def write(self, text: str) -> int:
        self.written += len(text)
        return len(text)


class CountingExporter(SpanExporter):
    """Counts exported spans and keeps none of them."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


# Where each source's event carries its method: a number there makes the event malformed.
METHOD_FIELDS: dict[str, tuple[str | int, ...]] = {
    "rest": ("httpMethod",),
    "http-api-v1": ("httpMethod",),
    "http-api": ("requestContext", "http", "method"),
    "url": ("requestContext", "http", "method"),
    "alb": ("httpMethod",),
    "alb-multi": ("httpMethod",),
    "edge": ("Records", 0, "cf", "request", "method"),
    "lattice-v1": ("method",),
    "lattice": ("method",),
}


def _malformed(source: str) -> dict[str, Any]:
    event = build_event(source, HttpRequest("GET", "/ok"))
    *parents, last = METHOD_FIELDS[source]
    node: Any = event
    for part in parents:
        node = node[part]
    node[last] = 405
    return event


SQS_EVENT = {"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}
Behaviour = tuple[str, Callable[[str], Any], int | type[Exception]]
BEHAVIOURS: list[Behaviour] = [
    ("ok", lambda source: build_event(source, HttpRequest("GET", "/ok?q=1")), 200),
    ("raise", lambda source: build_event(source, HttpRequest("GET", "/raise")), 500),
    ("missing", lambda source: build_event(source, HttpRequest("GET", "/missing")), 404),
    ("nothing", lambda source: build_event(source, HttpRequest("POST", "/nothing")), 500),
    ("post", lambda source: build_event(source, HttpRequest("PUT", "/ok", body=b"\x00" * 99)), 200),
    ("malformed", _malformed, MalformedEventError),
    (
        "unsupported",
        lambda source: {"Records": [{"eventSource": "aws:sqs"}]},
        UnsupportedEventError,
    ),
]
SOURCE_NAMES = list(SOURCES)


def invoke(adapter: LambdaAdapter, index: int) -> None:
    """The index-th invocation of the mix, checked, and checked to leave nothing behind."""
    source = SOURCE_NAMES[index % len(SOURCE_NAMES)]
    name, event_for, expected = BEHAVIOURS[index % len(BEHAVIOURS)]
    context = LocalContext("reuse")
    if index % TIMEOUT_EVERY == TIMEOUT_EVERY - 1:
        name, expected = "timeout", 200
        context = LocalContext("reuse", timeout_ms=50)
        event: Any = build_event(source, HttpRequest("GET", "/sleep"))
    else:
        event = event_for(source)
    if isinstance(expected, int):
        response = to_http(adapter(event, context))
        assert response.status == expected, (index, source, name)
    else:
        try:
            adapter(event, context)
        except expected:
            pass
        else:
            raise AssertionError(f"{index} {source} {name}: expected {expected.__name__}")
    # Nothing of this invocation may outlive it: context, current span, tasks.
    assert structlog.contextvars.get_contextvars() == {}, (index, name)
    assert not trace.get_current_span().get_span_context().is_valid, (index, name)
    tasks = asyncio.all_tasks(adapter.loop)
    strays = [t for t in tasks if getattr(t.get_coro(), "__qualname__", "") != "Lifespan._main"]
    assert strays == [], (index, name, strays)
    assert len(tasks) == 1, "the parked lifespan task"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_thousand_invocations_leak_nothing() -> None:
    """Mixed sources, errors, timeouts, cold and warm: no growth in memory, fds, tasks, threads."""
    structlog.contextvars.clear_contextvars()
    sink = Sink()
    exporter = CountingExporter()
    provider = lambda_tracer_provider(exporter, environ={})
    options = TelemetryOptions(stream=sink, log_json=True, service="reuse")
    with LambdaAdapter(app, lifespan="on", tracer_provider=provider, telemetry=options) as adapter:
        for index in range(WARM_UP):
            invoke(adapter, index)
        gc.collect()
        fds, threads = open_fds(), threading.active_count()
        tracemalloc.start()
        try:
            for index in range(WARM_UP, WARM_UP + SETTLE):
                invoke(adapter, index)
            gc.collect()
            before = tracemalloc.take_snapshot()
            for index in range(WARM_UP + SETTLE, INVOCATIONS):
                invoke(adapter, index)
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        growth = after.compare_to(before, "lineno")
        retained = sum(stat.size_diff for stat in growth)
        top = "\n".join(str(stat) for stat in growth[:10])
        assert retained < MEMORY_TOLERANCE, f"{retained} bytes retained; top:\n{top}"
        assert open_fds() == fds
        assert threading.active_count() == threads
        written, exported = sink.written, exporter.spans
    assert written > INVOCATIONS * 500  # every invocation logged and measured
    assert exported >= INVOCATIONS * 3  # root, parse and at least one more stage per call
    provider.shutdown()


def test_the_timeout_path_is_in_the_mix() -> None:
    """The mix reaches every behaviour, every source and the watchdog's timeout path."""
    pairs = {(i % len(SOURCE_NAMES), i % len(BEHAVIOURS)) for i in range(WARM_UP)}
    assert len(pairs) == len(SOURCE_NAMES) * len(BEHAVIOURS)
    assert WARM_UP > TIMEOUT_EVERY
    assert set(METHOD_FIELDS) == set(SOURCE_NAMES)
