"""The adapter under the real runtime interface client (awslambdaric), against the fake Lambda API.

Each test starts ``python -m awslambdaric tests.runtime_handlers.<module>.<handler>`` the way
the Lambda Python runtime does: working directory and LAMBDA_TASK_ROOT at the code, the
runtime's environment variables, AWS_LAMBDA_RUNTIME_API at :class:`tests.lambda_api.LambdaAPI`
on 127.0.0.1. The handler exports OTLP to a real collector (rotel, the ``collector`` fixture),
sometimes through :class:`Relay`, which stamps and can hold each export on its way there.

Every wait has a timeout and every runtime process is killed and reaped when its test ends.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.collector import Collector, SpanDict, span_dicts
from tests.lambda_api import InvocationResult, LambdaAPI
from tests.runtime_handlers import SHUTDOWN_SPAN
from traced_asgi_lambda.local import HttpRequest, build_event

ROOT = Path(__file__).parent.parent
HANDLER = "tests.runtime_handlers.starlette_handler.handler"
FUNCTION = "orders"
REGION = "eu-central-1"
MEMORY_MB = 512
LOG_STREAM = "2024/05/01/[$LATEST]0123456789abcdef0123456789abcdef"
ROUTE = "GET /items/{item_id:int}"
TIMEOUT = 10.0  # the most any one wait in this file takes (a runtime's init included)
# Shorter than the 2 s flush_timeout a synchronous flush to a held collector would take.
HELD_RESPONSE_TIMEOUT = 1.0
EXIT_TIMEOUT = 2.0  # for a runtime to exit after an init error or SIGTERM

# --- the runtime process ------------------------------------------------------------------------


def execution_env(minor: int = sys.version_info.minor) -> str:
    """AWS_EXECUTION_ENV of the managed runtime; from python3.12 on, awslambdaric polls
    /next from a thread so that the main thread can run signal handlers."""
    return f"AWS_Lambda_python3.{minor}"


@dataclass
class Runtime:
    """One ``python -m awslambdaric`` process and the files it writes."""

    process: subprocess.Popen[bytes]
    log: Path
    markers: Path

    def output(self) -> str:
        """What the runtime printed (its log lines and tracebacks), for failure messages."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def lifespan_events(self) -> list[str]:
        """The lines the handler module's lifespan wrote: "startup", "shutdown"."""
        return self.markers.read_text().split() if self.markers.exists() else []

    def wait_exit(self, timeout: float = EXIT_TIMEOUT) -> int | None:
        """The exit status (negative: the signal that ended it), or None if still running."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(TIMEOUT)


StartRuntime = Callable[..., Runtime]


@pytest.fixture
def api() -> Iterator[LambdaAPI]:
    with LambdaAPI(function_name=FUNCTION, handler=HANDLER, region=REGION) as fake:
        yield fake


@pytest.fixture
def start_runtime(api: LambdaAPI, tmp_path: Path) -> Iterator[StartRuntime]:
    """Start awslambdaric on ``handler`` with Lambda's environment plus ``env``."""
    runtimes: list[Runtime] = []

    def start(handler: str = HANDLER, **env: str) -> Runtime:
        log = tmp_path / f"runtime-{len(runtimes)}.log"
        markers = tmp_path / f"lifespan-{len(runtimes)}.txt"
        environ = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            # "Defined runtime environment variables", Lambda developer guide.
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(ROOT),
            "AWS_EXECUTION_ENV": execution_env(),
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "AWS_LAMBDA_FUNCTION_NAME": api.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": api.function_version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{api.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": LOG_STREAM,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "RUNTIME_TEST_MARKERS": str(markers),
            **env,
        }
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "awslambdaric", handler],
                cwd=ROOT,
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        runtimes.append(Runtime(process, log, markers))
        return runtimes[-1]

    yield start
    for runtime in runtimes:
        runtime.stop()


def http_event(path: str) -> dict[str, Any]:
    return build_event("http-api", HttpRequest("GET", path))


def invoke(
    api: LambdaAPI, runtime: Runtime, path: str, trace_id: str | None = None
) -> tuple[str, InvocationResult]:
    """Invoke once and wait until the invocation is complete; (request id, what was posted)."""
    request_id = api.invoke(http_event(path), trace_id=trace_id)
    try:
        result = api.wait_response(request_id, TIMEOUT)
        api.wait_complete(request_id, TIMEOUT)
    except TimeoutError:
        pytest.fail(f"invocation of {path} did not complete; runtime output:\n{runtime.output()}")
    return request_id, result


def roots_by_request(spans: list[SpanDict]) -> dict[str, SpanDict]:
    """The root (SERVER) spans, keyed by the request id they carry."""
    return {
        str(s["attributes"]["faas.invocation_id"]): s
        for s in spans
        if s["kind"] == "SERVER" and "faas.invocation_id" in s["attributes"]
    }


def trace_of(spans: list[SpanDict], trace_id: str) -> list[SpanDict]:
    return [s for s in spans if s["trace_id"] == trace_id]


def xray_trace_id(header: str) -> str:
    """The OTel trace id in an X-Ray trace header: Root=1-5759e988-bd86... -> 5759e988bd86..."""
    root = dict(part.split("=", 1) for part in header.split(";"))["Root"]
    return root.removeprefix("1-").replace("-", "")


def next_call_after(api: LambdaAPI, at: float) -> float:
    """When the runtime next called GET /runtime/invocation/next after ``at``."""
    return min(t for t in api.runtime_next_calls if t > at)


# --- a relay in front of the collector -----------------------------------------------------------


@dataclass
class Export:
    """One OTLP export request as the relay saw it (``time.monotonic()`` values)."""

    arrived: float
    spans: list[SpanDict]
    acknowledged: float | None = None  # when the collector answered it


@dataclass
class _RelayState:
    upstream: str
    condition: threading.Condition = field(default_factory=threading.Condition)
    exports: list[Export] = field(default_factory=list)
    open: threading.Event = field(default_factory=threading.Event)
    connections: set[socket.socket] = field(default_factory=set)


class Relay(ThreadingHTTPServer):
    """OTLP/HTTP on 127.0.0.1 passed on to the collector, each request stamped on arrival and
    acknowledgement; ``hold()`` keeps requests from reaching the collector until ``release()``."""

    daemon_threads = False
    block_on_close = True  # server_close() joins the request threads

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _RelayHandler)
        self.state = _RelayState(upstream)
        self.state.open.set()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="relay")
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def hold(self) -> None:
        self.state.open.clear()

    def release(self) -> None:
        self.state.open.set()

    def exports(self) -> list[Export]:
        with self.state.condition:
            return list(self.state.exports)

    def wait_for(self, done: Callable[[list[Export]], bool]) -> list[Export]:
        with self.state.condition:
            if not self.state.condition.wait_for(lambda: done(self.state.exports), TIMEOUT):
                raise AssertionError(f"the relay saw {self.state.exports!r}")
            return list(self.state.exports)

    def clear(self) -> None:
        with self.state.condition:
            self.state.exports.clear()

    def stop(self) -> None:
        self.release()
        self.shutdown()
        with self.state.condition:
            connections = list(self.state.connections)
        for connection in connections:  # a keep-alive client still connected
            with contextlib.suppress(OSError):  # it hung up meanwhile
                connection.shutdown(socket.SHUT_RDWR)
        self.server_close()
        self._thread.join(TIMEOUT)


class _RelayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # the exporter keeps its connection open
    server: Relay

    def setup(self) -> None:
        super().setup()
        with self.server.state.condition:
            self.server.state.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.state.condition:
                self.server.state.connections.discard(self.connection)

    def do_POST(self) -> None:
        state = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        export = Export(time.monotonic(), span_dicts(ExportTraceServiceRequest.FromString(body)))
        with state.condition:
            state.exports.append(export)
            state.condition.notify_all()
        state.open.wait(TIMEOUT)
        upstream = http.client.HTTPConnection(state.upstream, timeout=TIMEOUT)
        try:
            content_type = self.headers.get("Content-Type") or "application/x-protobuf"
            upstream.request("POST", self.path, body, {"Content-Type": content_type})
            response = upstream.getresponse()
            answer = response.read()
        finally:
            upstream.close()
        with state.condition:
            export.acknowledged = time.monotonic()
            state.condition.notify_all()
        self.send_response(response.status)
        self.send_header("Content-Type", response.getheader("Content-Type") or content_type)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: http.server would print every request to stderr."""


@pytest.fixture
def relay(collector: Collector) -> Iterator[Relay]:
    server = Relay(collector.endpoint.removeprefix("http://"))
    try:
        yield server
    finally:
        server.stop()


# --- the scenarios --------------------------------------------------------------------------------


def test_cold_start_then_warm_invocations(
    api: LambdaAPI, start_runtime: StartRuntime, collector: Collector
) -> None:
    """The first invocation of the process is the cold start; later ones are warm."""
    runtime = start_runtime(OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint)
    request_ids = []
    for item in (1, 2, 3):
        request_id, result = invoke(api, runtime, f"/items/{item}")
        assert result.kind == "response"
        response = json.loads(result.body)
        assert (response["statusCode"], response["body"]) == (200, f'{{"item_id":{item},"q":null}}')
        request_ids.append(request_id)
    spans = collector.wait_for_spans(5 + 4 + 4, TIMEOUT)
    roots = roots_by_request(spans)
    assert [roots[r]["attributes"]["faas.coldstart"] for r in request_ids] == [True, False, False]
    assert [roots[r]["name"] for r in request_ids] == [ROUTE] * 3
    assert [
        sorted(s["name"] for s in trace_of(spans, roots[r]["trace_id"])) for r in request_ids
    ] == [
        [ROUTE, "asgi app", "encode response", "lifespan startup", "parse event"],
        [ROUTE, "asgi app", "encode response", "parse event"],
        [ROUTE, "asgi app", "encode response", "parse event"],
    ]
    assert runtime.lifespan_events() == ["startup"]
    # awslambdaric sets _X_AMZN_TRACE_ID afresh for each invocation, from its
    # Lambda-Runtime-Trace-Id; the fake's are Sampled=0, so each root links to its own.
    assert [roots[r]["links"][0]["trace_id"] for r in request_ids] == [
        xray_trace_id(api.invocation(r).trace_id) for r in request_ids
    ]
    # The real LambdaContext and the runtime's variables reach the span and its resource.
    root = roots[request_ids[0]]
    assert root["attributes"]["aws.lambda.invoked_arn"] == api.function_arn
    assert root["attributes"]["cloud.account.id"] == api.account_id
    assert {k: root["resource"].get(k) for k in ("service.name", "faas.name", "cloud.region")} == {
        "service.name": FUNCTION,
        "faas.name": FUNCTION,
        "cloud.region": REGION,
    }
    assert root["resource"]["faas.version"] == api.function_version
    assert root["resource"]["faas.instance"] == LOG_STREAM
    assert root["resource"]["faas.max_memory"] == MEMORY_MB * 1024 * 1024
    assert root["resource"]["aws.log.group.names"] == [f"/aws/lambda/{FUNCTION}"]


XRAY_ROOT = "1-5759e988-bd862e3fe1be46a994272793"
XRAY_PARENT = "53995c3f42cd8ad8"
XRAY_TRACE_ID = xray_trace_id(f"Root={XRAY_ROOT}")


@pytest.mark.parametrize(
    ("sampled", "is_parent"),
    [
        pytest.param("1", True, id="sampled-becomes-parent"),
        # Lambda sets Sampled=0 when active tracing is off: a link, never the parent.
        pytest.param("0", False, id="not-sampled-becomes-link"),
    ],
)
def test_trace_context_from_the_runtime_trace_id_header(
    api: LambdaAPI,
    start_runtime: StartRuntime,
    collector: Collector,
    sampled: str,
    is_parent: bool,
) -> None:
    """Lambda-Runtime-Trace-Id reaches the root span through _X_AMZN_TRACE_ID."""
    runtime = start_runtime(OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint)
    header = f"Root={XRAY_ROOT};Parent={XRAY_PARENT};Sampled={sampled}"
    request_id, _ = invoke(api, runtime, "/items/1", trace_id=header)
    spans = collector.wait_for_spans(5, TIMEOUT)
    root = roots_by_request(spans)[request_id]
    if is_parent:
        assert (root["trace_id"], root["parent_span_id"]) == (XRAY_TRACE_ID, XRAY_PARENT)
        assert root["links"] == []
    else:
        assert root["trace_id"] != XRAY_TRACE_ID
        assert root["parent_span_id"] is None
        assert root["links"] == [
            {
                "trace_id": XRAY_TRACE_ID,
                "span_id": XRAY_PARENT,
                "attributes": {"traced_asgi_lambda.link.source": "xray-env"},
            }
        ]
    assert {s["trace_id"] for s in spans} == {root["trace_id"]}


@pytest.mark.parametrize(
    ("handler", "env", "error_type", "message"),
    [
        pytest.param(
            "tests.runtime_handlers.broken_handler.handler",
            {},
            "RuntimeError",
            "the database URL is not set",
            id="module-raises",
        ),
        pytest.param(
            HANDLER,
            {"RUNTIME_TEST_EXPORT": "bogus"},
            "ConfigurationError",
            "Expected export to be one of 'sync', 'after-response', but got 'bogus'.",
            id="adapter-misconfigured",
        ),
        pytest.param(
            "tests.runtime_handlers.starlette_handler.missing",
            {},
            "Runtime.HandlerNotFound",
            "Handler 'missing' missing on module 'tests.runtime_handlers.starlette_handler'",
            id="handler-missing",
        ),
    ],
)
def test_init_failure_is_posted_to_init_error(
    api: LambdaAPI,
    start_runtime: StartRuntime,
    handler: str,
    env: dict[str, str],
    error_type: str,
    message: str,
) -> None:
    """An import that fails reaches /runtime/init/error with its type and message; no Next."""
    runtime = start_runtime(handler, **env)
    assert runtime.wait_exit() == 1, runtime.output()
    (report,) = api.errors
    body = json.loads(report.body)
    assert (report.path, report.source, report.error_type) == (
        "/2018-06-01/runtime/init/error",
        "runtime",
        error_type,
    )
    assert (body["errorType"], body["errorMessage"]) == (error_type, message)
    assert api.runtime_next_calls == []


@pytest.mark.parametrize(
    ("on_error", "kind", "spans"),
    [
        pytest.param(
            "respond",
            "response",
            ["GET /raise", "asgi app", "encode response", "lifespan startup", "parse event"],
            id="respond-500",
        ),
        # Raised before the response is encoded: there is no encode span.
        pytest.param(
            "raise",
            "error",
            ["GET /raise", "asgi app", "lifespan startup", "parse event"],
            id="raise-to-runtime",
        ),
    ],
)
def test_app_exception(
    api: LambdaAPI,
    start_runtime: StartRuntime,
    collector: Collector,
    on_error: str,
    kind: str,
    spans: list[str],
) -> None:
    """The app's exception is an ERROR root span; with on_error="raise" the runtime posts it."""
    runtime = start_runtime(
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint, RUNTIME_TEST_ON_ERROR=on_error
    )
    request_id, result = invoke(api, runtime, "/raise")
    assert result.kind == kind
    body = json.loads(result.body)
    if kind == "error":
        assert (body["errorType"], body["errorMessage"]) == ("RuntimeError", "boom")
        (posted,) = [r for r in api.requests if r.path.endswith(f"/{request_id}/error")]
        cause = json.loads(posted.headers["lambda-runtime-function-xray-error-cause"])
        assert cause["exceptions"][0]["type"] == "RuntimeError"
    else:
        assert (body["statusCode"], body["body"]) == (500, "Internal Server Error")
    # The runtime loop survives either way: the next invocation is served, warm.
    next_id, next_result = invoke(api, runtime, "/items/7")
    assert json.loads(next_result.body)["statusCode"] == 200
    received = collector.wait_for_spans(len(spans) + 4, TIMEOUT)
    roots = roots_by_request(received)
    failed = roots[request_id]
    assert (failed["name"], failed["status_code"]) == ("GET /raise", "ERROR")
    assert failed["attributes"]["error.type"] == "RuntimeError"
    assert failed["attributes"]["http.response.status_code"] == 500
    failed_trace = trace_of(received, failed["trace_id"])
    assert sorted(s["name"] for s in failed_trace) == spans
    (app_span,) = [s for s in failed_trace if s["name"] == "asgi app"]
    assert [e["name"] for e in app_span["events"]][-1] == "exception"
    assert (roots[next_id]["status_code"], roots[next_id]["attributes"]["faas.coldstart"]) == (
        "UNSET",
        False,
    )


def test_sync_flush_reaches_the_collector_before_the_next_next(
    api: LambdaAPI, start_runtime: StartRuntime, collector: Collector, relay: Relay
) -> None:
    """In sync mode the collector has acknowledged every span before the runtime calls Next."""
    runtime = start_runtime(OTEL_EXPORTER_OTLP_ENDPOINT=relay.endpoint)
    invocations = [invoke(api, runtime, f"/items/{item}") for item in (1, 2, 3)]
    spans = collector.wait_for_spans(5 + 4 + 4, TIMEOUT)
    roots = roots_by_request(spans)
    exports = relay.exports()
    for request_id, result in invocations:
        trace_id = roots[request_id]["trace_id"]
        next_call = next_call_after(api, result.received_at)
        acknowledged = {
            s["span_id"]
            for e in exports
            if e.acknowledged is not None and e.acknowledged < next_call
            for s in trace_of(e.spans, trace_id)
        }
        assert acknowledged == {s["span_id"] for s in trace_of(spans, trace_id)}


def test_after_response_flush_runs_between_response_and_next(
    api: LambdaAPI, start_runtime: StartRuntime, collector: Collector, relay: Relay
) -> None:
    """The internal extension flushes after the response is posted, before the invocation ends."""
    runtime = start_runtime(
        OTEL_EXPORTER_OTLP_ENDPOINT=relay.endpoint, RUNTIME_TEST_EXPORT="after-response"
    )
    api.wait_until(lambda: bool(api.runtime_next_calls), TIMEOUT)  # init is done
    # A cold invocation, then a warm one.
    for expected_spans, item in ((5, 1), (4, 2)):
        relay.hold()
        request_id = api.invoke(http_event(f"/items/{item}"))
        try:
            result = api.wait_response(request_id, HELD_RESPONSE_TIMEOUT)
        except TimeoutError:
            pytest.fail(f"no response while the collector was held:\n{runtime.output()}")
        assert json.loads(result.body)["statusCode"] == 200
        # The response is out, the export is waiting on the collector, and the invocation
        # stays open: the extension has not called Next yet.
        (export,) = relay.wait_for(lambda exports: len(exports) == 1)
        assert len(export.spans) == expected_spans
        assert api.invocation(request_id).completed_at is None
        relay.release()
        completed_at = api.wait_complete(request_id, TIMEOUT)
        (export,) = relay.wait_for(lambda exports: exports[0].acknowledged is not None)
        assert export.acknowledged is not None
        assert result.received_at < export.acknowledged < completed_at
        received = collector.wait_for_spans(expected_spans, TIMEOUT)
        assert {s["span_id"] for s in received} == {s["span_id"] for s in export.spans}
        collector.clear()
        relay.clear()
    (registration,) = api.registrations
    assert (registration.name, registration.events) == ("traced-asgi-lambda", ("INVOKE",))
    assert registration.at < api.runtime_next_calls[0]  # registered in the init phase


@pytest.mark.parametrize(
    "execution_environment",
    [
        pytest.param(execution_env(12), id="next-polled-from-a-thread"),
        # The Python 3.11 client blocks the main thread in C: the watcher thread acts.
        pytest.param(execution_env(11), id="next-blocks-the-main-thread"),
    ],
)
def test_sigterm_runs_lifespan_shutdown_and_a_final_flush(
    api: LambdaAPI, start_runtime: StartRuntime, collector: Collector, execution_environment: str
) -> None:
    """SIGTERM to an idle runtime runs lifespan shutdown once, flushes, and ends the process."""
    runtime = start_runtime(
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint,
        # The extension it registers is why Lambda sends SIGTERM rather than SIGKILL.
        RUNTIME_TEST_EXPORT="after-response",
        AWS_EXECUTION_ENV=execution_environment,
    )
    invoke(api, runtime, "/items/1")
    collector.wait_for_spans(5, TIMEOUT)
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait_exit() == -signal.SIGTERM, runtime.output()
    assert runtime.lifespan_events() == ["startup", "shutdown"]
    # Ended by lifespan shutdown, after the last invocation: only the final flush sends it.
    collector.wait_for_spans(6, TIMEOUT)
    assert collector.names().count(SHUTDOWN_SPAN) == 1
