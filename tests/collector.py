"""A real OpenTelemetry collector (rotel) on loopback, and a way to read back what it received.

``rotel`` (the PyPI package ships the Rust binary ``rotel/rotel-agent``) listens for OTLP on
127.0.0.1 and forwards every trace export, unbatched, over OTLP/HTTP to a small receiver in this
process; the receiver decodes each request with the ``opentelemetry-proto`` classes, so span
attributes come back with their exact OTLP types.

Tests ask for the ``collector`` fixture (function-scoped: one fresh rotel per test). Make it
visible either with ``pytest_plugins = ["tests.collector"]`` in tests/conftest.py, or per module
with ``from tests.collector import collector_fixture  # noqa: F401`` (the function has another
name than the fixture so that a test's ``collector`` parameter does not trip ruff's F811).
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import importlib.util
import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, TypeAlias, TypedDict

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

HOST = "127.0.0.1"
TRACES_PATH = "/v1/traces"
PROBE_SPAN_NAME = "tests.collector readiness probe"
START_TIMEOUT = 10.0  # seconds for rotel to listen and forward the probe span
STOP_TIMEOUT = 5.0  # seconds for rotel to exit on SIGTERM before it is killed
PROBE_TIMEOUT = 2.0  # seconds for rotel to answer the probe export
START_ATTEMPTS = 3  # a port picked free can be taken before rotel binds it: retry with new ones

AttributeValue: TypeAlias = (
    "str | bool | int | float | bytes | list[AttributeValue] | dict[str, AttributeValue] | None"
)
Attributes: TypeAlias = dict[str, AttributeValue]


class EventDict(TypedDict):
    name: str
    time_unix_nano: int
    attributes: Attributes


class LinkDict(TypedDict):
    trace_id: str
    span_id: str
    attributes: Attributes


class SpanDict(TypedDict):
    """One received span; ``kind`` and ``status_code`` are member names of
    ``opentelemetry.trace.SpanKind`` and ``StatusCode`` ("SERVER", "ERROR", ...)."""

    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    status_code: str
    status_message: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    attributes: Attributes
    events: list[EventDict]
    links: list[LinkDict]
    resource: Attributes
    scope: str


_SpansPredicate: TypeAlias = Callable[[list[SpanDict]], bool]


class CollectorError(RuntimeError):
    """rotel would not start, or the receiver got something it could not decode."""


def free_ports(count: int = 1) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that nothing listens on right now."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def refused_endpoint() -> str:
    """An ``http://127.0.0.1:PORT`` where nothing listens, so a connection is refused at once."""
    return f"http://{HOST}:{free_ports()[0]}"


# --- OTLP protobuf -> plain python ---------------------------------------------------------------


def any_value(value: AnyValue) -> AttributeValue:
    """The python value of an OTLP ``AnyValue`` (arrays become lists, kvlists dicts)."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return attributes(value.kvlist_value.values)
    result: AttributeValue = getattr(value, which)
    return result


def attributes(pairs: Iterable[KeyValue]) -> Attributes:
    """OTLP ``repeated KeyValue`` as a dict."""
    return {pair.key: any_value(pair.value) for pair in pairs}


def span_dicts(request: ExportTraceServiceRequest) -> list[SpanDict]:
    """Every span of one OTLP export request, flattened, in the order it holds them."""
    spans: list[SpanDict] = []
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    SpanDict(
                        name=span.name,
                        kind=Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex() or None,
                        status_code=Status.StatusCode.Name(span.status.code).removeprefix(
                            "STATUS_CODE_"
                        ),
                        status_message=span.status.message,
                        start_time_unix_nano=span.start_time_unix_nano,
                        end_time_unix_nano=span.end_time_unix_nano,
                        attributes=attributes(span.attributes),
                        events=[
                            EventDict(
                                name=event.name,
                                time_unix_nano=event.time_unix_nano,
                                attributes=attributes(event.attributes),
                            )
                            for event in span.events
                        ],
                        links=[
                            LinkDict(
                                trace_id=link.trace_id.hex(),
                                span_id=link.span_id.hex(),
                                attributes=attributes(link.attributes),
                            )
                            for link in span.links
                        ],
                        resource=resource,
                        scope=scope_spans.scope.name,
                    )
                )
    return spans


# --- the receiver rotel exports to ---------------------------------------------------------------


class _Receiver(ThreadingHTTPServer):
    """OTLP/HTTP (protobuf) trace receiver on 127.0.0.1:<free port>, storing decoded spans."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((HOST, 0), _ReceiverHandler)
        self.condition = threading.Condition()
        self.received: list[SpanDict] = []
        self.requests = 0
        self.errors: list[str] = []
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="otlp-receiver"
        )

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self.shutdown()
            self._thread.join(timeout=STOP_TIMEOUT)
        self.server_close()

    def record(self, spans: list[SpanDict]) -> None:
        with self.condition:
            self.requests += 1
            self.received.extend(spans)
            self.condition.notify_all()

    def record_error(self, error: str) -> None:
        with self.condition:
            self.errors.append(error)
            self.condition.notify_all()


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        body = self._read_body()
        if self.path != TRACES_PATH:
            self.server.record_error(f"POST to unexpected path {self.path!r}")
            self._reply(404, b"")
            return
        try:
            if self.headers.get("Content-Encoding", "").lower() == "gzip":
                body = gzip.decompress(body)
            spans = span_dicts(ExportTraceServiceRequest.FromString(body))
        except Exception as exc:  # any undecodable body is a failure the test must see
            self.server.record_error(f"undecodable export: {exc!r}")
            self._reply(400, b"")
            return
        self.server.record(spans)
        self._reply(200, ExportTraceServiceResponse().SerializeToString())

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: http.server would print every request to stderr."""


# --- rotel ----------------------------------------------------------------------------------------


def rotel_binary() -> Path:
    """The collector binary that the ``rotel`` wheel ships inside its package."""
    spec = importlib.util.find_spec("rotel")
    if spec is None or spec.origin is None:
        raise CollectorError("the rotel package is not installed (pip install rotel)")
    return Path(spec.origin).parent / "rotel-agent"


def rotel_command(http_port: int, grpc_port: int, export_port: int, pid_file: Path) -> list[str]:
    """The rotel command line: OTLP in on 127.0.0.1, every batch out at once to the receiver."""
    return [
        str(rotel_binary()),
        "start",
        "--log-format=json",
        f"--pid-file={pid_file}",
        f"--log-file={pid_file.with_suffix('.log')}",
        f"--otlp-http-endpoint={HOST}:{http_port}",
        f"--otlp-grpc-endpoint={HOST}:{grpc_port}",
        "--disable-batching",
        "--exporter=otlp",
        "--otlp-exporter-protocol=http",
        f"--otlp-exporter-endpoint=http://{HOST}:{export_port}",
        "--otlp-exporter-request-timeout=2s",
        "--otlp-exporter-retry-initial-backoff=50ms",
        "--otlp-exporter-retry-max-backoff=200ms",
        "--otlp-exporter-retry-max-elapsed-time=2s",
    ]


def _probe_request() -> bytes:
    span = Span(
        trace_id=os.urandom(16),
        span_id=os.urandom(8),
        name=PROBE_SPAN_NAME,
        kind=Span.SpanKind.SPAN_KIND_INTERNAL,
        start_time_unix_nano=time.time_ns(),
        end_time_unix_nano=time.time_ns(),
    )
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])]
    )
    data: bytes = request.SerializeToString()
    return data


class Collector:
    """rotel on 127.0.0.1, with what it exported readable through :meth:`spans`.

    ``endpoint`` is the OTLP/HTTP base URL (append ``/v1/traces`` for a span exporter);
    ``grpc_endpoint`` is rotel's OTLP/gRPC ``host:port``.
    """

    def __init__(self) -> None:
        self.http_port = 0
        self.grpc_port = 0
        self._receiver: _Receiver | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    @property
    def grpc_endpoint(self) -> str:
        return f"{HOST}:{self.grpc_port}"

    @property
    def traces_endpoint(self) -> str:
        return self.endpoint + TRACES_PATH

    # lifecycle

    def start(self) -> Collector:
        """Start the receiver and rotel; return once a probe span went all the way through."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Collector:
        self._tmp = tempfile.TemporaryDirectory(prefix="rotel-")
        self._receiver = _Receiver()
        self._receiver.start()
        failures: list[str] = []
        for attempt in range(START_ATTEMPTS):
            self.http_port, self.grpc_port = free_ports(2)
            log_path = Path(self._tmp.name) / f"rotel-{attempt}.out"
            self._log = log_path.open("wb")
            self._process = subprocess.Popen(
                rotel_command(
                    self.http_port,
                    self.grpc_port,
                    self._receiver.port,
                    Path(self._tmp.name) / f"rotel-{attempt}.pid",
                ),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env={k: v for k, v in os.environ.items() if not k.startswith("ROTEL_")},
            )
            try:
                self._await_ready(time.monotonic() + START_TIMEOUT)
            except CollectorError as exc:
                failures.append(f"attempt {attempt + 1}: {exc}\n{self.log()}")
                self._stop_process()
                continue
            self.clear()
            return self
        raise CollectorError("rotel did not start:\n" + "\n".join(failures))

    def _await_ready(self, deadline: float) -> None:
        """Poll until rotel accepts a connection, then push a probe span through to the receiver."""
        while True:
            self._check_alive()
            if self._connectable():
                break
            if time.monotonic() > deadline:
                raise CollectorError(f"nothing listens on {self.endpoint} after {START_TIMEOUT}s")
            time.sleep(0.005)
        # Something else could have taken the port rotel was told to use (rotel then exits at
        # once): only rotel's OTLP receiver answers the probe, and only rotel forwards it.
        conn = http.client.HTTPConnection(HOST, self.http_port, timeout=PROBE_TIMEOUT)
        try:
            conn.request(
                "POST",
                TRACES_PATH,
                body=_probe_request(),
                headers={"Content-Type": "application/x-protobuf"},
            )
            response = conn.getresponse()
            response.read()
        except OSError as exc:
            self._check_alive()
            raise CollectorError(f"probe export to rotel failed: {exc!r}") from exc
        finally:
            conn.close()
        if response.status != 200:
            raise CollectorError(f"rotel answered the probe export with HTTP {response.status}")
        self._wait(lambda spans: any(s["name"] == PROBE_SPAN_NAME for s in spans), deadline)

    def _connectable(self) -> bool:
        try:
            socket.create_connection((HOST, self.http_port), timeout=0.5).close()
        except OSError:
            return False
        return True

    def _check_alive(self) -> None:
        assert self._process is not None
        if self._process.poll() is not None:
            raise CollectorError(f"rotel exited with code {self._process.returncode}")

    def stop(self) -> None:
        """Stop rotel (SIGTERM, then SIGKILL), then the receiver; safe to call more than once."""
        try:
            self._stop_process()
        finally:
            if self._receiver is not None:
                self._receiver.stop()
                self._receiver = None
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    def _stop_process(self) -> None:
        process, self._process = self._process, None
        try:
            if process is not None:
                if process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(timeout=STOP_TIMEOUT)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait(timeout=STOP_TIMEOUT)
                else:
                    process.wait()
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None

    def __enter__(self) -> Collector:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # reading back

    def spans(self) -> list[SpanDict]:
        """Every span received so far, in arrival order; fails if an export was undecodable."""
        receiver = self._running_receiver()
        with receiver.condition:
            if receiver.errors:
                raise CollectorError("; ".join(receiver.errors))
            return list(receiver.received)

    def wait_for_spans(self, count: int, timeout: float = 5.0) -> list[SpanDict]:
        """Block until at least ``count`` spans arrived (at most ``timeout`` s); return them all."""
        return self._wait(lambda spans: len(spans) >= count, time.monotonic() + timeout)

    def span(self, name: str) -> SpanDict:
        """The one received span called ``name`` (fails if there are none or several)."""
        matching = [s for s in self.spans() if s["name"] == name]
        assert len(matching) == 1, f"{len(matching)} spans named {name!r} in {self.names()}"
        return matching[0]

    def names(self) -> list[str]:
        """The names of the spans received so far, in arrival order."""
        return [s["name"] for s in self.spans()]

    def clear(self) -> None:
        """Forget every span received so far."""
        receiver = self._running_receiver()
        with receiver.condition:
            receiver.received.clear()
            receiver.requests = 0

    @property
    def export_requests(self) -> int:
        """How many export requests rotel has sent to the receiver since the last clear()."""
        receiver = self._running_receiver()
        with receiver.condition:
            return receiver.requests

    def log(self) -> str:
        """rotel's own output (JSON lines), for failure messages."""
        if self._log is None:
            return ""
        return Path(self._log.name).read_text(errors="replace")

    def _running_receiver(self) -> _Receiver:
        if self._receiver is None:
            raise CollectorError("the collector is not running")
        return self._receiver

    def _wait(self, done: _SpansPredicate, deadline: float) -> list[SpanDict]:
        receiver = self._running_receiver()
        with receiver.condition:
            while not (receiver.errors or done(receiver.received)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    names = [s["name"] for s in receiver.received]
                    raise AssertionError(
                        f"timed out waiting for spans; got {len(names)}: {names}\n"
                        f"rotel output:\n{self.log()}"
                    )
                receiver.condition.wait(min(remaining, 0.1))
                if self._process is None or self._process.poll() is not None:
                    raise CollectorError(f"rotel is not running:\n{self.log()}")
        return self.spans()


@pytest.fixture(name="collector")
def collector_fixture() -> Iterator[Collector]:
    """A fresh rotel collector for one test, stopped (killed if need be) when the test ends."""
    instance = Collector()
    try:
        yield instance.start()
    finally:
        instance.stop()
