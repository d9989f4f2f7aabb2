"""A fake of the Lambda Runtime API and Extensions API, served on 127.0.0.1 for tests.

It follows "Using the Lambda runtime API for custom runtimes"
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) and "Using the Lambda
Extensions API to create extensions"
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html). Where the docs
name a status code but not its body, it answers as the Runtime Interface Emulator does
(github.com/aws/aws-lambda-runtime-interface-emulator, lambda/rapi): JSON
``{"errorMessage": ..., "errorType": ...}``, 403 for a refused extension call.

Sequencing, as the docs state it:

* Registration closes when the runtime first calls Next: internal extensions register in
  "Runtime init", and "The Init phase completes after the runtime and each registered
  extension indicate completion by sending a Next API request".
* An invocation starts once the previous one is complete. It then answers the runtime's
  Next and gives an INVOKE event to each extension registered for INVOKE ("Lambda sends an
  Invoke event to the runtime and to each extension that is registered for the Invoke event").
* It is complete when the runtime has posted a response or error and the runtime and every
  INVOKE extension have called Next again ("The Invoke phase ends after the runtime and all
  extensions signal that they are done by sending a Next API request").
* "Internal extensions are started and stopped by the runtime process, so they are not
  permitted to register for the Shutdown event." An extension counts as external only when
  its name is in ``external_extensions`` (Lambda knows them as files in /opt/extensions).

Not modelled: freezing, deadlines enforced as timeouts, resets, SIGTERM, the Telemetry API.
Blocking calls wait for as long as the real API would; close() answers them 500 ("Container
error"), so every thread ends. Times are ``time.monotonic()`` values.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, NamedTuple, cast

__all__ = [
    "ErrorReport",
    "ExtensionNextCall",
    "Invocation",
    "InvocationResult",
    "LambdaAPI",
    "ReceivedRequest",
    "Registration",
]

# "You can register up to 10 extensions for a function."
MAX_EXTENSIONS = 10
# Lambda quotas: invocation payload (request and response), 6 MB for synchronous invocations.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
EVENT_TYPES = ("INVOKE", "SHUTDOWN")
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
EXTENSION_ERROR_TYPE_HEADER = "Lambda-Extension-Function-Error-Type"


class ReceivedRequest(NamedTuple):
    """One request as it arrived, before it was answered."""

    at: float
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Registration(NamedTuple):
    at: float
    name: str
    events: tuple[str, ...]
    identifier: str
    external: bool


class ExtensionNextCall(NamedTuple):
    at: float
    identifier: str
    name: str


class InvocationResult(NamedTuple):
    kind: Literal["response", "error"]
    body: bytes
    received_at: float


class ErrorReport(NamedTuple):
    """A POST to /runtime/init/error, /extension/init/error or /extension/exit/error."""

    at: float
    path: str
    source: str  # "runtime" or the extension's name
    error_type: str | None
    body: bytes


@dataclass
class Invocation:
    """One invocation's life; ``LambdaAPI.invocation()`` returns copies."""

    request_id: str
    event: bytes
    trace_id: str
    function_arn: str
    deadline_ms: int | None
    client_context: str | None
    cognito_identity: str | None
    enqueued_at: float
    started_at: float | None = None
    result: InvocationResult | None = None
    error_type: str | None = None
    completed_at: float | None = None


@dataclass
class _Extension:
    identifier: str
    name: str
    events: frozenset[str]
    waiting: bool = False  # blocked in Next: ready for the next event
    failed: bool = False  # "After Lambda receives the error, no further API calls succeed."
    inbox: deque[dict[str, Any]] = field(default_factory=deque)


class _Reply(NamedTuple):
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False


def _json(status: int, payload: object, *headers: tuple[str, str]) -> _Reply:
    return _Reply(status, json.dumps(payload).encode(), headers)


def _refuse(status: int, error_type: str, message: str) -> _Reply:
    return _json(status, {"errorMessage": message, "errorType": error_type})


_ACCEPTED = _json(202, {"status": "OK"})
_CONTAINER_ERROR = _Reply(
    500,
    json.dumps(
        {"errorMessage": "Internal Server Error", "errorType": "InternalServerError"}
    ).encode(),
    close=True,
)


class LambdaAPI:
    """``with LambdaAPI() as api:`` serves both APIs at ``api.address`` until the block ends."""

    def __init__(
        self,
        *,
        function_name: str = "test-function",
        function_version: str = "$LATEST",
        handler: str = "app.handler",
        account_id: str = "123456789012",
        region: str = "us-east-1",
        function_timeout: float = 3.0,
        external_extensions: Iterable[str] = (),
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.handler = handler
        self.account_id = account_id
        self.function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self.function_timeout = function_timeout
        self._external = frozenset(external_extensions)
        self._cond = threading.Condition()
        self._requests: list[ReceivedRequest] = []
        self._registrations: list[Registration] = []
        self._next_calls: list[ExtensionNextCall] = []
        self._runtime_next_calls: list[float] = []
        self._errors: list[ErrorReport] = []
        self._extensions: dict[str, _Extension] = {}
        self._invocations: dict[str, Invocation] = {}
        self._pending: deque[Invocation] = deque()
        self._current: Invocation | None = None
        self._for_runtime: Invocation | None = None
        self._runtime_waiting = False
        self._registration_open = True
        self._init_done = False
        self._init_failed = False
        self._busy = 0  # requests read but not yet answered
        self._closed = False
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> LambdaAPI:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-lambda-api"
        )
        self._thread.start()

    @property
    def address(self) -> str:
        """``host:port``, the value Lambda puts in AWS_LAMBDA_RUNTIME_API."""
        assert self._server is not None, "LambdaAPI is not started"
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def close(self, timeout: float = 2.0) -> None:
        """Answer blocked calls 500, drop open connections and join every thread."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
            # Let blocked Next calls answer 500 before their sockets are shut.
            self._cond.wait_for(lambda: self._busy == 0, timeout)
            connections = list(self._connections)
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            for sock in connections:
                _shut(sock)
            self._server.server_close()  # joins the handler threads
            self._thread.join(timeout)

    # -- the test's side -----------------------------------------------------------------

    def invoke(
        self,
        event: object,
        request_id: str | None = None,
        trace_id: str | None = None,
        deadline_ms: int | None = None,
        *,
        client_context: str | None = None,
        cognito_identity: str | None = None,
    ) -> str:
        """Queue an invocation; it starts when the previous one is complete. Returns its id."""
        invocation = Invocation(
            request_id=request_id or str(uuid.uuid4()),
            event=event if isinstance(event, bytes) else json.dumps(event).encode(),
            trace_id=trace_id or _new_trace_id(),
            function_arn=self.function_arn,
            deadline_ms=deadline_ms,
            client_context=client_context,
            cognito_identity=cognito_identity,
            enqueued_at=time.monotonic(),
        )
        with self._cond:
            if invocation.request_id in self._invocations:
                raise ValueError(f"Expected a new request id, got {invocation.request_id!r} again")
            self._invocations[invocation.request_id] = invocation
            self._pending.append(invocation)
            self._advance()
        return invocation.request_id

    def wait_response(self, request_id: str, timeout: float) -> InvocationResult:
        """The response or error the runtime posted for ``request_id``: (kind, body, at)."""
        self.wait_until(lambda: self._invocations[request_id].result is not None, timeout)
        result = self._invocations[request_id].result
        assert result is not None
        return result

    def wait_complete(self, request_id: str, timeout: float) -> float:
        """When the invocation completed: result posted, runtime and extensions back at Next."""
        self.wait_until(lambda: self._invocations[request_id].completed_at is not None, timeout)
        completed_at = self._invocations[request_id].completed_at
        assert completed_at is not None
        return completed_at

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> None:
        """Wait, holding the fake's lock between checks, until ``condition()`` is true."""
        with self._cond:
            if not self._cond.wait_for(condition, timeout):
                raise TimeoutError(f"Expected the fake Lambda API to reach it within {timeout}s")

    def shutdown_extensions(
        self, reason: str = "spindown", deadline_ms: int | None = None
    ) -> list[str]:
        """Send SHUTDOWN to the extensions registered for it; returns their names."""
        deadline = deadline_ms if deadline_ms is not None else _epoch_ms() + 2000
        event = {"eventType": "SHUTDOWN", "shutdownReason": reason, "deadlineMs": deadline}
        with self._cond:
            told = [e for e in self._extensions.values() if "SHUTDOWN" in e.events and not e.failed]
            for extension in told:
                extension.inbox.append(event)
                extension.waiting = False
            self._cond.notify_all()
            return [e.name for e in told]

    def send_extension_event(self, name: str, event: dict[str, Any]) -> None:
        """Hand ``event`` to the named extension's Next, whatever it registered for.

        Lambda never does this; it is for testing how a client copes with the unexpected.
        """
        with self._cond:
            (extension,) = [e for e in self._extensions.values() if e.name == name]
            extension.inbox.append(event)
            extension.waiting = False
            self._cond.notify_all()

    def invocation(self, request_id: str) -> Invocation:
        with self._cond:
            return replace(self._invocations[request_id])

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._cond:
            return list(self._requests)

    @property
    def registrations(self) -> list[Registration]:
        with self._cond:
            return list(self._registrations)

    @property
    def extension_next_calls(self) -> list[ExtensionNextCall]:
        with self._cond:
            return list(self._next_calls)

    @property
    def runtime_next_calls(self) -> list[float]:
        with self._cond:
            return list(self._runtime_next_calls)

    @property
    def errors(self) -> list[ErrorReport]:
        with self._cond:
            return list(self._errors)

    # -- the state machine (always called with the lock held) ----------------------------

    def _advance(self) -> None:
        self._cond.notify_all()  # waiters re-check whatever changed
        live = [e for e in self._extensions.values() if not e.failed]
        subscribers = [e for e in live if "INVOKE" in e.events]
        now = time.monotonic()
        current = self._current
        if current is not None:
            if not (
                current.result is not None
                and self._runtime_waiting
                and all(e.waiting for e in subscribers)
            ):
                return
            current.completed_at = now
            self._current = None
        if not self._init_done:
            if not (self._runtime_waiting and all(e.waiting for e in live)):
                return
            self._init_done = True
        if self._pending and self._runtime_waiting and all(e.waiting for e in subscribers):
            invocation = self._pending.popleft()
            invocation.started_at = now
            if invocation.deadline_ms is None:
                invocation.deadline_ms = _epoch_ms() + int(self.function_timeout * 1000)
            invoke_event = {
                "eventType": "INVOKE",
                "deadlineMs": invocation.deadline_ms,
                "requestId": invocation.request_id,
                "invokedFunctionArn": invocation.function_arn,
                "tracing": {"type": "X-Amzn-Trace-Id", "value": invocation.trace_id},
            }
            for extension in subscribers:
                extension.inbox.append(invoke_event)
                extension.waiting = False
            self._runtime_waiting = False
            self._for_runtime = self._current = invocation

    def _block_until(self, condition: Callable[[], bool]) -> bool:
        """Wait like the real API (no timeout) until ``condition`` or close; False if closed."""
        self._cond.wait_for(lambda: condition() or self._closed)
        return condition()

    # -- request handling ------------------------------------------------------------------

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        with self._cond:
            self._busy += 1
            self._requests.append(ReceivedRequest(time.monotonic(), method, path, headers, body))
            if self._closed:
                return _CONTAINER_ERROR
            for route_method, pattern, name in _ROUTES:
                match = pattern.fullmatch(path)
                if match is None:
                    continue
                if route_method != method:
                    return _refuse(405, "MethodNotAllowed", f"Expected {route_method} {path}")
                handle = cast(Callable[..., _Reply], getattr(self, name))
                try:
                    return handle(headers, body, **match.groupdict())
                finally:
                    self._cond.notify_all()  # what it recorded may be what a test awaits
            return _refuse(404, "NotFound", f"No such path: {path}")

    def _runtime_next(self, headers: dict[str, str], body: bytes) -> _Reply:
        invoking = self._current is not None and self._current.result is None
        if self._init_failed or invoking or self._runtime_waiting:
            state = "InitError" if self._init_failed else "Invoke" if invoking else "Ready"
            return _refuse(
                403,
                "InvalidStateTransition",
                f"State transition from {state} to Ready failed for runtime.",
            )
        self._runtime_next_calls.append(time.monotonic())
        self._registration_open = False
        self._runtime_waiting = True
        self._advance()
        if not self._block_until(lambda: self._for_runtime is not None):
            return _CONTAINER_ERROR
        invocation, self._for_runtime = self._for_runtime, None
        assert invocation is not None
        reply_headers = [
            ("Lambda-Runtime-Aws-Request-Id", invocation.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(invocation.deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", invocation.function_arn),
            ("Lambda-Runtime-Trace-Id", invocation.trace_id),
        ]
        if invocation.client_context is not None:
            reply_headers.append(("Lambda-Runtime-Client-Context", invocation.client_context))
        if invocation.cognito_identity is not None:
            reply_headers.append(("Lambda-Runtime-Cognito-Identity", invocation.cognito_identity))
        return _Reply(200, invocation.event, tuple(reply_headers))

    def _runtime_response(self, headers: dict[str, str], body: bytes, request_id: str) -> _Reply:
        return self._runtime_result("response", headers, body, request_id)

    def _runtime_error(self, headers: dict[str, str], body: bytes, request_id: str) -> _Reply:
        return self._runtime_result("error", headers, body, request_id)

    def _runtime_result(
        self,
        kind: Literal["response", "error"],
        headers: dict[str, str],
        body: bytes,
        request_id: str,
    ) -> _Reply:
        current = self._current
        if current is None or current.request_id != request_id:
            return _refuse(400, "InvalidRequestID", "Invalid request ID")
        if current.result is not None:
            return _refuse(
                403,
                "InvalidStateTransition",
                "State transition from ResponseSent to InvocationResponse failed for runtime.",
            )
        now = time.monotonic()
        reply = _ACCEPTED
        if kind == "response" and len(body) > MAX_RESPONSE_BYTES:
            reply = _refuse(
                413,
                "RequestEntityTooLarge",
                f"Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
            )
            kind, body = "error", reply.body
        current.result = InvocationResult(kind, body, now)
        current.error_type = _header(headers, ERROR_TYPE_HEADER) if kind == "error" else None
        self._advance()
        return reply

    def _runtime_init_error(self, headers: dict[str, str], body: bytes) -> _Reply:
        if not self._registration_open or self._init_failed:
            return _refuse(
                403,
                "InvalidStateTransition",
                "State transition from Ready to InitError failed for runtime.",
            )
        self._init_failed = True
        error_type = _header(headers, ERROR_TYPE_HEADER)
        self._errors.append(
            ErrorReport(time.monotonic(), f"{_RUNTIME}/init/error", "runtime", error_type, body)
        )
        return _ACCEPTED

    def _extension_register(self, headers: dict[str, str], body: bytes) -> _Reply:
        name = _header(headers, "Lambda-Extension-Name")
        if not name:
            return _refuse(403, "Extension.InvalidExtensionName", "Empty extension name")
        try:
            request = json.loads(body or b"{}")
            events = request.get("events") or []
            if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
                raise ValueError(f"Expected events to be a list of strings, got {events!r}")
        except (ValueError, AttributeError) as exc:
            return _refuse(403, "InvalidRequestFormat", str(exc))
        external = name in self._external
        for event in events:
            if event not in EVENT_TYPES:
                return _refuse(403, "Extension.InvalidEventType", f"{event}: ErrorInvalidEventType")
            if event == "SHUTDOWN" and not external:
                return _refuse(
                    403,
                    "Extension.InvalidEventType",
                    "SHUTDOWN: ShutdownEventNotSupportedForInternalExtension",
                )
        if not self._registration_open:
            return _refuse(
                403, "Extension.RegistrationClosed", "Extension registration closed already"
            )
        if len(self._extensions) >= MAX_EXTENSIONS:
            return _refuse(
                403, "Extension.TooManyExtensions", f"Extension limit ({MAX_EXTENSIONS}) reached"
            )
        if any(e.name == name for e in self._extensions.values()):
            return _refuse(
                403,
                "Extension.InvalidExtensionState",
                "Extension with this name already registered",
            )
        identifier = str(uuid.uuid4())
        self._extensions[identifier] = _Extension(identifier, name, frozenset(events))
        self._registrations.append(
            Registration(time.monotonic(), name, tuple(events), identifier, external)
        )
        answer = {
            "functionName": self.function_name,
            "functionVersion": self.function_version,
            "handler": self.handler,
        }
        if "accountId" in _header(headers, "Lambda-Extension-Accept-Feature").split(","):
            answer["accountId"] = self.account_id
        return _json(200, answer, ("Lambda-Extension-Identifier", identifier))

    def _extension_next(self, headers: dict[str, str], body: bytes) -> _Reply:
        extension = self._extension_for(headers)
        if isinstance(extension, _Reply):
            return extension
        if extension.waiting:
            return _refuse(
                403,
                "Extension.InvalidExtensionState",
                f"Extension {extension.identifier} is already waiting in Next.",
            )
        self._next_calls.append(
            ExtensionNextCall(time.monotonic(), extension.identifier, extension.name)
        )
        extension.waiting = True
        self._advance()
        if not self._block_until(lambda: bool(extension.inbox)):
            return _CONTAINER_ERROR
        return _json(
            200,
            extension.inbox.popleft(),
            ("Lambda-Extension-Identifier", extension.identifier),
            ("Lambda-Extension-Event-Identifier", str(uuid.uuid4())),
        )

    def _extension_init_error(self, headers: dict[str, str], body: bytes) -> _Reply:
        return self._extension_error(f"{_EXTENSION}/init/error", headers, body)

    def _extension_exit_error(self, headers: dict[str, str], body: bytes) -> _Reply:
        return self._extension_error(f"{_EXTENSION}/exit/error", headers, body)

    def _extension_error(self, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        extension = self._extension_for(headers)
        if isinstance(extension, _Reply):
            return extension
        error_type = _header(headers, EXTENSION_ERROR_TYPE_HEADER)
        if not error_type:
            return _refuse(
                403, "Extension.MissingHeader", f"{EXTENSION_ERROR_TYPE_HEADER} not found"
            )
        self._errors.append(ErrorReport(time.monotonic(), path, extension.name, error_type, body))
        extension.failed = True
        self._advance()
        return _ACCEPTED

    def _extension_for(self, headers: dict[str, str]) -> _Extension | _Reply:
        identifier = _header(headers, "Lambda-Extension-Identifier")
        if not identifier:
            return _refuse(
                403,
                "Extension.MissingExtensionIdentifier",
                "Missing Lambda-Extension-Identifier header",
            )
        try:
            uuid.UUID(identifier)
        except ValueError:
            return _refuse(
                403, "Extension.InvalidExtensionIdentifier", "Invalid Lambda-Extension-Identifier"
            )
        extension = self._extensions.get(identifier)
        if extension is None:
            return _refuse(
                403, "Extension.UnknownExtensionIdentifier", f"Unknown extension {identifier}"
            )
        if extension.failed:
            return _refuse(
                403,
                "Extension.InvalidExtensionState",
                f"Extension {identifier} reported an error; no further API calls succeed.",
            )
        return extension

    def _answered(self) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()

    def _track(self, sock: socket.socket) -> None:
        with self._cond:
            self._connections.add(sock)
            closed = self._closed
        if closed:
            _shut(sock)

    def _untrack(self, sock: socket.socket) -> None:
        with self._cond:
            self._connections.discard(sock)


_RUNTIME = "/2018-06-01/runtime"
_EXTENSION = "/2020-01-01/extension"
_ROUTES = (
    ("GET", re.compile(f"{_RUNTIME}/invocation/next"), "_runtime_next"),
    (
        "POST",
        re.compile(f"{_RUNTIME}/invocation/(?P<request_id>[^/]+)/response"),
        "_runtime_response",
    ),
    ("POST", re.compile(f"{_RUNTIME}/invocation/(?P<request_id>[^/]+)/error"), "_runtime_error"),
    ("POST", re.compile(f"{_RUNTIME}/init/error"), "_runtime_init_error"),
    ("POST", re.compile(f"{_EXTENSION}/register"), "_extension_register"),
    ("GET", re.compile(f"{_EXTENSION}/event/next"), "_extension_next"),
    ("POST", re.compile(f"{_EXTENSION}/init/error"), "_extension_init_error"),
    ("POST", re.compile(f"{_EXTENSION}/exit/error"), "_extension_exit_error"),
)


class _Server(ThreadingHTTPServer):
    # Handler threads are joined by server_close(), so close() leaves none behind.
    daemon_threads = False
    block_on_close = True
    api: LambdaAPI

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away mid-answer is normal here; say nothing."""


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open between calls, as the runtime clients expect.
    protocol_version = "HTTP/1.1"
    # Buffered, so head and body leave in one segment (no Nagle/delayed-ACK stall).
    wbufsize = -1

    @property
    def api(self) -> LambdaAPI:
        return cast(_Server, self.server).api

    def setup(self) -> None:
        super().setup()
        self.api._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.api._untrack(self.connection)

    def handle_expect_100(self) -> bool:
        """Send "100 Continue" now (curl waits for it before a large body), not when buffered."""
        accepted = super().handle_expect_100()
        self.wfile.flush()
        return accepted

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the fake records requests instead of printing them."""

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        headers = dict(self.headers.items())
        reply = self.api._handle(self.command, self.path.split("?")[0], headers, body)
        try:
            self._write(reply)
        finally:
            self.api._answered()

    def _write(self, reply: _Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            if reply.close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()  # on the wire before close() may shut the socket
        except OSError:
            self.close_connection = True

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
            while self.rfile.readline(1024).strip():
                pass  # trailers, then the blank line that ends the body
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        sock.shutdown(socket.SHUT_RDWR)


def _epoch_ms() -> int:
    return int(time.time() * 1000)


def _new_trace_id() -> str:
    """An X-Ray trace header, as in Lambda-Runtime-Trace-Id, sampled out."""
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled=0"
