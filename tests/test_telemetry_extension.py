"""The after-response flusher against a fake Lambda API, and the fake's own fidelity."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from tests.lambda_api import LambdaAPI
from traced_asgi_lambda.telemetry.extension import AfterResponseFlusher

NEXT = "/2018-06-01/runtime/invocation/next"
REGISTER = "/2020-01-01/extension/register"
EVENT_NEXT = "/2020-01-01/extension/event/next"
TIMEOUT = 5.0  # every wait in this file gives up after this long

Reply = tuple[int, dict[str, str], bytes]


def call(api: LambdaAPI, method: str, path: str, body: object = None, **headers: str) -> Reply:
    """One request on its own connection: (status, lower-cased headers, body)."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    connection = http.client.HTTPConnection(api.address, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=data, headers=_http_headers(headers))
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _http_headers(headers: dict[str, str]) -> dict[str, str]:
    return {name.replace("_", "-"): value for name, value in headers.items()}


class EventLog:
    """What happened, in order, with time.monotonic() stamps comparable with the fake's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: list[tuple[str, float]] = []

    def add(self, what: str) -> None:
        with self._lock:
            self.entries.append((what, time.monotonic()))

    def times(self, what: str) -> list[float]:
        with self._lock:
            return [at for name, at in self.entries if name == what]


class FakeRuntime:
    """The runtime's side as plain HTTP calls: Next, run ``handler``, POST its response."""

    def __init__(self, api: LambdaAPI, handler: Callable[[str, bytes], bytes]) -> None:
        self.api = api
        self.handler = handler
        self._lock = threading.Lock()
        self._stopping = False
        self._connection = http.client.HTTPConnection(api.address, timeout=TIMEOUT)
        self._thread = threading.Thread(target=self._loop, name="fake-runtime")
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            sock = self._connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(TIMEOUT)
        assert not self._thread.is_alive()

    def _loop(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._stopping:
                        return
                    if self._connection.sock is None:
                        self._connection.connect()
                self._connection.request("GET", NEXT)
                response = self._connection.getresponse()
                event = response.read()
                if response.status != 200:
                    return
                request_id = response.getheader("Lambda-Runtime-Aws-Request-Id") or ""
                answer = self.handler(request_id, event)
                path = f"/2018-06-01/runtime/invocation/{request_id}/response"
                self._connection.request("POST", path, body=answer)
                self._connection.getresponse().read()
        except (OSError, http.client.HTTPException):
            return  # stopped, or the fake closed
        finally:
            self._connection.close()


@pytest.fixture
def api() -> Iterator[LambdaAPI]:
    with LambdaAPI() as api:
        yield api


@pytest.fixture
def start_flusher(api: LambdaAPI) -> Iterator[Callable[[Callable[[], None]], AfterResponseFlusher]]:
    flushers: list[AfterResponseFlusher] = []

    def start(flush: Callable[[], None]) -> AfterResponseFlusher:
        flusher = AfterResponseFlusher(flush, runtime_api=api.address)
        flushers.append(flusher)
        assert flusher.start()
        return flusher

    yield start
    for flusher in flushers:
        flusher.stop(TIMEOUT)


@pytest.fixture
def start_runtime(api: LambdaAPI) -> Iterator[Callable[[Callable[[str, bytes], bytes]], None]]:
    runtimes: list[FakeRuntime] = []
    yield lambda handler: runtimes.append(FakeRuntime(api, handler))
    for runtime in runtimes:
        runtime.stop()


@pytest.fixture
def background(api: LambdaAPI) -> Iterator[ThreadPoolExecutor]:
    """Runs blocking calls; closing the fake first releases any still blocked."""
    executor = ThreadPoolExecutor(max_workers=4)
    yield executor
    api.close()
    executor.shutdown(wait=True)


def returning_handler(
    log: EventLog, flusher: Callable[[], AfterResponseFlusher]
) -> Callable[[str, bytes], bytes]:
    """A handler that, like the adapter, signals the flusher just before it returns."""

    def handler(request_id: str, event: bytes) -> bytes:
        log.add("handler returns")
        flusher().invocation_finished(request_id=request_id)
        return b'{"statusCode": 200}'

    return handler


# -- the flusher ---------------------------------------------------------------------------


def test_registers_as_internal_extension_for_invoke_only(
    api: LambdaAPI, start_flusher: Callable[[Callable[[], None]], AfterResponseFlusher]
) -> None:
    """start() registers by name for INVOKE alone, then waits in Next (ending its init)."""
    flusher = start_flusher(lambda: None)
    api.wait_until(lambda: len(api.extension_next_calls) == 1, TIMEOUT)

    (registration,) = api.registrations
    assert (registration.name, registration.events, registration.external) == (
        "traced-asgi-lambda",
        ("INVOKE",),
        False,
    )
    assert flusher.identifier == registration.identifier
    (request,) = [r for r in api.requests if r.path == REGISTER]
    assert request.method == "POST"
    assert request.headers["Lambda-Extension-Name"] == "traced-asgi-lambda"
    assert json.loads(request.body) == {"events": ["INVOKE"]}
    (next_request,) = [r for r in api.requests if r.path == EVENT_NEXT]
    assert next_request.headers["Lambda-Extension-Identifier"] == registration.identifier
    assert api.shutdown_extensions() == []  # internal extensions never get SHUTDOWN


def test_flush_runs_after_the_handler_returns_and_before_the_invocation_completes(
    api: LambdaAPI,
    start_flusher: Callable[[Callable[[], None]], AfterResponseFlusher],
    start_runtime: Callable[[Callable[[str, bytes], bytes]], None],
) -> None:
    """The response goes out while flush() runs; Next follows the flush; then it completes."""
    log = EventLog()
    request_ids: list[str] = []
    complete_during_flush: list[bool] = []

    def flush() -> None:
        log.add("flush starts")
        time.sleep(0.2)  # an export in flight
        complete_during_flush.append(api.invocation(request_ids[0]).completed_at is not None)
        log.add("flush ends")

    flusher = start_flusher(flush)
    start_runtime(returning_handler(log, lambda: flusher))
    request_ids.append(api.invoke({"path": "/"}))
    completed_at = api.wait_complete(request_ids[0], TIMEOUT)

    (returned,) = log.times("handler returns")
    (flush_start,) = log.times("flush starts")
    (flush_end,) = log.times("flush ends")
    kind, _, responded_at = api.wait_response(request_ids[0], TIMEOUT)
    first_next, second_next = (c.at for c in api.extension_next_calls)
    assert kind == "response"
    assert first_next < returned < flush_start
    assert responded_at < flush_end  # the caller did not wait for the export
    assert flush_end < second_next <= completed_at
    assert complete_during_flush == [False]


@pytest.mark.parametrize("count", [pytest.param(1, id="one"), pytest.param(5, id="five")])
def test_every_invocation_is_flushed_before_the_next_starts(
    api: LambdaAPI,
    start_flusher: Callable[[Callable[[], None]], AfterResponseFlusher],
    start_runtime: Callable[[Callable[[str, bytes], bytes]], None],
    count: int,
) -> None:
    """Each invocation gets one flush, finished before its Next and before the next invocation."""
    log = EventLog()
    flusher = start_flusher(lambda: log.add("flush ends"))
    start_runtime(returning_handler(log, lambda: flusher))

    request_ids = [api.invoke({"n": n}) for n in range(count)]
    completions = [api.wait_complete(request_id, TIMEOUT) for request_id in request_ids]

    flushes = log.times("flush ends")
    returns = log.times("handler returns")
    nexts = [c.at for c in api.extension_next_calls]
    starts = [api.invocation(request_id).started_at or 0.0 for request_id in request_ids]
    assert len(flushes) == len(returns) == count
    for n in range(count):
        assert starts[n] < returns[n] < flushes[n] < nexts[n + 1] <= completions[n]
        if n + 1 < count:
            assert completions[n] <= starts[n + 1]


def test_a_failing_flush_is_logged_and_the_next_invocation_still_works(
    api: LambdaAPI,
    start_flusher: Callable[[Callable[[], None]], AfterResponseFlusher],
    start_runtime: Callable[[Callable[[str, bytes], bytes]], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """flush() raising is logged once with its traceback; the thread carries on."""
    log = EventLog()
    calls: list[int] = []

    def flush() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise ConnectionError("collector unreachable")

    flusher = start_flusher(flush)
    start_runtime(returning_handler(log, lambda: flusher))
    first, second = api.invoke({}), api.invoke({})
    api.wait_complete(first, TIMEOUT)
    api.wait_complete(second, TIMEOUT)

    assert calls == [0, 1]
    (record,) = [r for r in caplog.records if r.name == "traced_asgi_lambda"]
    assert record.levelno == logging.ERROR
    assert "flush() raised" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ConnectionError)


def test_a_stale_signal_from_another_invocation_is_ignored(
    api: LambdaAPI,
    start_flusher: Callable[[Callable[[], None]], AfterResponseFlusher],
    start_runtime: Callable[[Callable[[str, bytes], bytes]], None],
) -> None:
    """A signal naming another request id does not start this invocation's flush."""
    log = EventLog()
    flusher = start_flusher(lambda: log.add("flush starts"))

    def handler(request_id: str, event: bytes) -> bytes:
        flusher.invocation_finished(request_id="an-earlier-request")
        time.sleep(0.1)
        log.add("handler returns")
        flusher.invocation_finished(request_id=request_id)
        return b"{}"

    start_runtime(handler)
    api.wait_complete(api.invoke({}), TIMEOUT)

    (returned,) = log.times("handler returns")
    (flush_start,) = log.times("flush starts")
    assert returned < flush_start


def test_a_handler_that_never_signals_is_flushed_before_the_deadline(
    api: LambdaAPI,
    start_flusher: Callable[[Callable[[], None]], AfterResponseFlusher],
    start_runtime: Callable[[Callable[[str, bytes], bytes]], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without invocation_finished(), it flushes and calls Next just before deadlineMs."""
    flushed_ms: list[float] = []
    start_flusher(lambda: flushed_ms.append(time.time() * 1000))
    start_runtime(lambda request_id, event: b"{}")
    deadline_ms = int(time.time() * 1000) + 400
    api.wait_complete(api.invoke({}, deadline_ms=deadline_ms), TIMEOUT)

    (flushed,) = flushed_ms
    assert deadline_ms - 150 < flushed < deadline_ms
    assert "did not call invocation_finished()" in caplog.text


@pytest.mark.parametrize(
    ("event", "flushes", "ends", "logged"),
    [
        pytest.param(
            {"eventType": "SHUTDOWN", "shutdownReason": "spindown", "deadlineMs": 0},
            1,
            True,
            "",
            id="shutdown",
        ),
        pytest.param({"eventType": "RESTORE"}, 0, False, "'RESTORE'", id="unknown-type"),
    ],
)
def test_events_lambda_does_not_send_to_internal_extensions_are_survived(
    api: LambdaAPI,
    caplog: pytest.LogCaptureFixture,
    event: dict[str, Any],
    flushes: int,
    ends: bool,
    logged: str,
) -> None:
    """SHUTDOWN flushes and ends the thread; an unknown event is logged and Next called again."""
    flushed: list[None] = []
    flusher = AfterResponseFlusher(lambda: flushed.append(None), runtime_api=api.address)
    assert flusher.start()
    api.wait_until(lambda: len(api.extension_next_calls) == 1, TIMEOUT)
    (thread,) = [t for t in threading.enumerate() if t.name == flusher.name]

    api.send_extension_event("traced-asgi-lambda", event)
    if ends:
        thread.join(TIMEOUT)
    else:
        api.wait_until(lambda: len(api.extension_next_calls) == 2, TIMEOUT)

    assert thread.is_alive() is not ends
    assert len(flushed) == flushes
    assert logged in caplog.text
    flusher.stop(TIMEOUT)


@pytest.mark.parametrize(
    "invoke",
    [
        pytest.param(False, id="idle-in-next"),
        pytest.param(True, id="waiting-for-the-handler"),
    ],
)
def test_stop_ends_the_thread_quietly(
    api: LambdaAPI,
    background: ThreadPoolExecutor,
    caplog: pytest.LogCaptureFixture,
    invoke: bool,
) -> None:
    """stop() ends the thread whether it waits in Next or for a handler, without flushing."""
    flushes: list[None] = []
    flusher = AfterResponseFlusher(lambda: flushes.append(None), runtime_api=api.address)
    assert flusher.start()
    if invoke:
        api.invoke({})
        next_call: Future[Reply] = background.submit(call, api, "GET", NEXT)
        assert next_call.result(TIMEOUT)[0] == 200  # the handler is now "running"
    api.wait_until(lambda: len(api.extension_next_calls) == 1, TIMEOUT)

    started = time.monotonic()
    flusher.stop(TIMEOUT)

    assert time.monotonic() - started < 1.0
    assert flushes == []
    assert not [r for r in caplog.records if r.name == "traced_asgi_lambda"]


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        pytest.param("after-runtime-next", "Extension.RegistrationClosed", id="too-late"),
        pytest.param("nothing-listening", "ConnectionRefusedError", id="no-api"),
    ],
)
def test_a_failed_registration_is_logged_and_start_returns_false(
    api: LambdaAPI,
    background: ThreadPoolExecutor,
    caplog: pytest.LogCaptureFixture,
    when: str,
    expected: str,
) -> None:
    """start() never raises: it logs why, and the caller flushes in-line instead."""
    runtime_api = api.address
    if when == "after-runtime-next":
        background.submit(call, api, "GET", NEXT)
        api.wait_until(lambda: len(api.runtime_next_calls) == 1, TIMEOUT)
    else:
        api.close()
    flusher = AfterResponseFlusher(lambda: None, runtime_api=runtime_api)

    assert flusher.start() is False
    (record,) = [r for r in caplog.records if r.name == "traced_asgi_lambda"]
    assert record.levelno == logging.ERROR
    assert expected in record.getMessage()
    flusher.stop()


def test_the_api_failing_under_next_is_logged_once_and_ends_the_thread(
    api: LambdaAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """A 500 from Next ("Container error") is logged and the thread exits, as the docs ask."""
    flusher = AfterResponseFlusher(lambda: None, runtime_api=api.address)
    assert flusher.start()
    api.wait_until(lambda: len(api.extension_next_calls) == 1, TIMEOUT)
    api.close()
    flusher.stop(TIMEOUT)

    (record,) = [r for r in caplog.records if r.name == "traced_asgi_lambda"]
    assert "got 500" in record.getMessage()


# -- the fake Lambda API -------------------------------------------------------------------


def test_runtime_next_response_and_error_follow_the_runtime_api(
    api: LambdaAPI, background: ThreadPoolExecutor
) -> None:
    """Next hands out invocations in order; results are checked against the current id."""
    first = api.invoke({"n": 1}, request_id="req-1")
    second = api.invoke({"n": 2}, request_id="req-2")

    status, headers, body = call(api, "GET", NEXT)
    assert (status, headers["lambda-runtime-aws-request-id"], json.loads(body)) == (
        200,
        first,
        {"n": 1},
    )
    assert call(api, "POST", f"/2018-06-01/runtime/invocation/{second}/response", b"x")[0] == 400
    accepted = call(api, "POST", f"/2018-06-01/runtime/invocation/{first}/response", b'"ok"')
    assert (accepted[0], json.loads(accepted[2])) == (202, {"status": "OK"})
    assert call(api, "POST", f"/2018-06-01/runtime/invocation/{first}/error", b"{}")[0] == 403
    assert api.wait_response(first, TIMEOUT)[:2] == ("response", b'"ok"')

    next_call = background.submit(call, api, "GET", NEXT)
    api.wait_complete(first, TIMEOUT)
    assert next_call.result(TIMEOUT)[1]["lambda-runtime-aws-request-id"] == second
    error = {"errorMessage": "boom", "errorType": "ValueError"}
    failed = call(
        api,
        "POST",
        f"/2018-06-01/runtime/invocation/{second}/error",
        error,
        Lambda_Runtime_Function_Error_Type="Unhandled",
    )
    assert failed[0] == 202
    kind, body, _ = api.wait_response(second, TIMEOUT)
    assert (kind, json.loads(body), api.invocation(second).error_type) == (
        "error",
        error,
        "Unhandled",
    )


def test_next_blocks_until_an_invocation_is_queued(
    api: LambdaAPI, background: ThreadPoolExecutor
) -> None:
    """The runtime's Next waits for an invocation, then returns it at once."""
    next_call = background.submit(call, api, "GET", NEXT)
    api.wait_until(lambda: len(api.runtime_next_calls) == 1, TIMEOUT)
    assert not next_call.done()

    request_id = api.invoke({"queued": True})
    status, headers, body = next_call.result(TIMEOUT)
    assert (status, headers["lambda-runtime-aws-request-id"], body) == (
        200,
        request_id,
        b'{"queued": true}',
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(
            {"deadline_ms": 1542409706888, "trace_id": "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700"},
            {
                "lambda-runtime-deadline-ms": "1542409706888",
                "lambda-runtime-trace-id": "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700",
            },
            id="given",
        ),
        pytest.param(
            {"client_context": '{"client": {}}', "cognito_identity": '{"cognitoIdentityId": "x"}'},
            {
                "lambda-runtime-client-context": '{"client": {}}',
                "lambda-runtime-cognito-identity": '{"cognitoIdentityId": "x"}',
            },
            id="mobile-sdk",
        ),
    ],
)
def test_next_carries_the_invocation_headers(
    api: LambdaAPI, given: dict[str, Any], expected: dict[str, str]
) -> None:
    """Deadline, trace id, ARN and the optional mobile headers come back as sent."""
    api.invoke({}, **given)
    _, headers, _ = call(api, "GET", NEXT)

    assert {k: headers[k] for k in expected} == expected
    assert headers["lambda-runtime-invoked-function-arn"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    )


def test_next_defaults_deadline_and_trace_id_like_lambda(api: LambdaAPI) -> None:
    """Without them, the deadline is start + the function timeout and the trace id is X-Ray's."""
    api.invoke({})
    before = time.time() * 1000
    _, headers, _ = call(api, "GET", NEXT)

    assert before - 100 <= int(headers["lambda-runtime-deadline-ms"]) - 3000 <= before + 1000
    assert re.fullmatch(
        r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0",
        headers["lambda-runtime-trace-id"],
    )
    assert "lambda-runtime-client-context" not in headers


def test_init_error_is_accepted_only_during_init(api: LambdaAPI) -> None:
    """/runtime/init/error is recorded before the first Next; Next then refuses the runtime."""
    error = {"errorMessage": "Failed to load function.", "errorType": "InvalidFunctionException"}
    status, _, _ = call(
        api, "POST", "/2018-06-01/runtime/init/error", error,
        Lambda_Runtime_Function_Error_Type="Runtime.ImportModuleError",
    )  # fmt: skip

    assert status == 202
    (report,) = api.errors
    assert (report.source, report.error_type, json.loads(report.body)) == (
        "runtime",
        "Runtime.ImportModuleError",
        error,
    )
    assert call(api, "GET", NEXT)[0] == 403


def test_the_invocation_waits_for_every_invoke_extension(
    api: LambdaAPI, background: ThreadPoolExecutor
) -> None:
    """Extensions get INVOKE when it starts; it completes only once they call Next again."""
    _, headers, _ = call(api, "POST", REGISTER, {"events": ["INVOKE"]}, Lambda_Extension_Name="x")
    identifier = headers["lambda-extension-identifier"]
    event_call = background.submit(
        call, api, "GET", EVENT_NEXT, Lambda_Extension_Identifier=identifier
    )
    request_id = api.invoke({}, trace_id="Root=1-5f35ae12-0c0fec141ab77a00bc047aa2")
    call(api, "GET", NEXT)
    status, event_headers, event = event_call.result(TIMEOUT)
    assert status == 200
    assert "lambda-extension-event-identifier" in event_headers
    assert json.loads(event) == {
        "eventType": "INVOKE",
        "deadlineMs": api.invocation(request_id).deadline_ms,
        "requestId": request_id,
        "invokedFunctionArn": api.function_arn,
        "tracing": {"type": "X-Amzn-Trace-Id", "value": "Root=1-5f35ae12-0c0fec141ab77a00bc047aa2"},
    }

    call(api, "POST", f"/2018-06-01/runtime/invocation/{request_id}/response", b"{}")
    background.submit(call, api, "GET", NEXT)
    api.wait_until(lambda: len(api.runtime_next_calls) == 2, TIMEOUT)
    with pytest.raises(TimeoutError):
        api.wait_complete(request_id, 0.2)  # the extension is still working
    background.submit(call, api, "GET", EVENT_NEXT, Lambda_Extension_Identifier=identifier)
    api.wait_complete(request_id, TIMEOUT)


@pytest.mark.parametrize(
    ("headers", "body", "error_type", "message"),
    [
        pytest.param(
            {"Lambda_Extension_Name": "x"},
            {"events": ["INVOKE", "SHUTDOWN"]},
            "Extension.InvalidEventType",
            "SHUTDOWN: ShutdownEventNotSupportedForInternalExtension",
            id="internal-shutdown",
        ),
        pytest.param(
            {"Lambda_Extension_Name": "x"},
            {"events": ["RESTORE"]},
            "Extension.InvalidEventType",
            "RESTORE: ErrorInvalidEventType",
            id="unknown-event",
        ),
        pytest.param(
            {}, {"events": ["INVOKE"]}, "Extension.InvalidExtensionName", "Empty extension name",
            id="no-name",
        ),
        pytest.param(
            {"Lambda_Extension_Name": "x"}, b"{not json", "InvalidRequestFormat", "Expecting",
            id="bad-json",
        ),
    ],
)  # fmt: skip
def test_forbidden_registrations_are_refused_like_lambda(
    api: LambdaAPI, headers: dict[str, str], body: object, error_type: str, message: str
) -> None:
    """A registration the Extensions API forbids gets 403 with errorType and errorMessage."""
    status, _, answer = call(api, "POST", REGISTER, body, **headers)

    refusal = json.loads(answer)
    assert (status, refusal["errorType"]) == (403, error_type)
    assert refusal["errorMessage"].startswith(message)
    assert api.registrations == []


def test_registration_closes_and_names_are_unique(
    api: LambdaAPI, background: ThreadPoolExecutor
) -> None:
    """A second extension of one name, or any after the runtime's first Next, is refused."""
    assert call(api, "POST", REGISTER, {"events": []}, Lambda_Extension_Name="x")[0] == 200
    again = call(api, "POST", REGISTER, {"events": []}, Lambda_Extension_Name="x")
    assert json.loads(again[2])["errorType"] == "Extension.InvalidExtensionState"

    background.submit(call, api, "GET", NEXT)
    api.wait_until(lambda: len(api.runtime_next_calls) == 1, TIMEOUT)
    late = call(api, "POST", REGISTER, {"events": []}, Lambda_Extension_Name="y")
    assert (late[0], json.loads(late[2])["errorType"]) == (403, "Extension.RegistrationClosed")


def test_external_extensions_register_for_and_receive_shutdown(
    background: ThreadPoolExecutor,
) -> None:
    """An extension Lambda knows as external may take SHUTDOWN, sent with reason and deadline."""
    with LambdaAPI(external_extensions=["collector"]) as api:
        _, headers, body = call(
            api,
            "POST",
            REGISTER,
            {"events": ["INVOKE", "SHUTDOWN"]},
            Lambda_Extension_Name="collector",
            Lambda_Extension_Accept_Feature="accountId",
        )
        assert json.loads(body) == {
            "functionName": "test-function",
            "functionVersion": "$LATEST",
            "handler": "app.handler",
            "accountId": "123456789012",
        }
        identifier = headers["lambda-extension-identifier"]
        event_call = background.submit(
            call, api, "GET", EVENT_NEXT, Lambda_Extension_Identifier=identifier
        )
        api.wait_until(lambda: len(api.extension_next_calls) == 1, TIMEOUT)

        assert api.shutdown_extensions(deadline_ms=1700000000000) == ["collector"]
        assert json.loads(event_call.result(TIMEOUT)[2]) == {
            "eventType": "SHUTDOWN",
            "shutdownReason": "spindown",
            "deadlineMs": 1700000000000,
        }


@pytest.mark.parametrize(
    ("identifier", "error_type"),
    [
        pytest.param(None, "Extension.MissingExtensionIdentifier", id="missing"),
        pytest.param("not-a-uuid", "Extension.InvalidExtensionIdentifier", id="invalid"),
        pytest.param(
            "3da1f2dc-3222-475e-9205-e2e6c6318895",
            "Extension.UnknownExtensionIdentifier",
            id="unknown",
        ),
    ],
)
def test_extension_calls_need_a_known_identifier(
    api: LambdaAPI, identifier: str | None, error_type: str
) -> None:
    """Next, init/error and exit/error refuse a missing, malformed or unknown identifier."""
    headers = {} if identifier is None else {"Lambda_Extension_Identifier": identifier}
    for method, path in [
        ("GET", EVENT_NEXT),
        ("POST", "/2020-01-01/extension/init/error"),
        ("POST", "/2020-01-01/extension/exit/error"),
    ]:
        status, _, body = call(api, method, path, b"{}", **headers)
        assert (status, json.loads(body)["errorType"]) == (403, error_type)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/2020-01-01/extension/init/error", id="init-error"),
        pytest.param("/2020-01-01/extension/exit/error", id="exit-error"),
    ],
)
def test_after_an_extension_error_no_further_call_succeeds(api: LambdaAPI, path: str) -> None:
    """The error is recorded (202) and the extension's later calls are refused."""
    _, headers, _ = call(api, "POST", REGISTER, {"events": []}, Lambda_Extension_Name="x")
    identifier = headers["lambda-extension-identifier"]
    error_type = {"Lambda_Extension_Function_Error_Type": "Extension.ConfigInvalid"}

    accepted = call(api, "POST", path, b"{}", Lambda_Extension_Identifier=identifier, **error_type)
    refused = call(api, "GET", EVENT_NEXT, Lambda_Extension_Identifier=identifier)

    assert accepted[0] == 202
    assert [(e.path, e.source, e.error_type) for e in api.errors] == [
        (path, "x", "Extension.ConfigInvalid")
    ]
    assert (refused[0], json.loads(refused[2])["errorType"]) == (
        403,
        "Extension.InvalidExtensionState",
    )
