"""The after-response flush: an internal Lambda extension that flushes between response and freeze.

Why this works ("Using the Lambda Extensions API to create extensions",
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html, and "Lambda
execution environment lifecycle",
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html):

* "After receiving the function response from the runtime, Lambda returns the response to
  the client, even if extensions are still running." So a flush done by an extension is off
  the caller's path.
* "The Invoke phase ends after the runtime and all extensions signal that they are done by
  sending a Next API request", and "Lambda freezes the execution environment when the runtime
  and each extension have completed and there are no pending events". So the environment stays
  thawed until this thread calls Next, which it does only once the flush has finished.
* The cost moves, it does not vanish: "the Invoke phase continues until all extensions signal
  that they are completed", counts against the function's timeout, and is reported as
  PostRuntimeExtensionsDuration.

An internal extension "runs as a separate thread in the runtime process", and must register
during the Init phase, before the runtime's first Next closes registration: hence ``start()``
at adapter construction. It may register for INVOKE only: "Internal extensions are started
and stopped by the runtime process, so they are not permitted to register for the Shutdown
event." So there is no SHUTDOWN to flush on: the last flush belongs to the runtime's SIGTERM
handler (``traced_asgi_lambda.shutdown``), which should call ``stop()`` and then flush.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["AfterResponseFlusher"]

_API = "/2020-01-01/extension"
# The Extensions API is on the same host; a call that is not meant to block and takes this
# long means the environment is broken.
_CALL_TIMEOUT = 2.0
# Called Next this long before the deadline even if the handler never said it finished, so a
# missed signal costs a late flush rather than a timed-out invocation.
_DEADLINE_MARGIN = 0.1
# Lambda always sends deadlineMs; without one, wait at most the longest function timeout.
_MAX_INVOCATION = 900.0


class AfterResponseFlusher:
    """Runs ``flush`` after each invocation's handler has returned, before Lambda freezes.

    ``start()`` registers and starts the thread; the handler calls ``invocation_finished()``
    just before it returns; ``stop()`` ends the thread. Errors are logged, never raised.
    """

    def __init__(
        self, flush: Callable[[], None], *, runtime_api: str, name: str = "traced-asgi-lambda"
    ) -> None:
        self.flush = flush
        self.runtime_api = runtime_api
        self.name = name
        self.log = logging.getLogger("traced_asgi_lambda")
        self.identifier: str | None = None
        self._finished = threading.Event()
        self._finished_request_id: str | None = None
        self._stopping = False
        self._lock = threading.Lock()  # guards _stopping and _connection between threads
        self._connection: http.client.HTTPConnection | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Register for INVOKE and start the thread; False (and logged) if registration failed.

        Call it during the Init phase, before the runtime's first Next request: "The Init
        phase completes after the runtime and each registered extension indicate completion
        by sending a Next API request", and no extension can register after that.
        """
        if self._thread is not None:
            return True
        try:
            status, headers, body = self._call(
                "POST",
                "/register",
                {"Lambda-Extension-Name": self.name, "Content-Type": "application/json"},
                json.dumps({"events": ["INVOKE"]}).encode(),
            )
        except (OSError, http.client.HTTPException) as exc:
            self.log.error(
                "after-response flush off: registering with the Lambda Extensions API at %s "
                "failed: %s: %s; telemetry is flushed before the response instead",
                self.runtime_api,
                type(exc).__name__,
                exc,
            )
            return False
        self.identifier = headers.get("lambda-extension-identifier")
        if status != 200 or not self.identifier:
            self.log.error(
                "after-response flush off: expected POST %s/register to answer 200 with a "
                "Lambda-Extension-Identifier header, but got %s: %s. Fix: construct the adapter "
                "at module level, so it registers before the runtime's first Next request",
                _API,
                status,
                body[:500].decode(errors="replace"),
            )
            return False
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return True

    def invocation_finished(self, *, request_id: str | None = None) -> None:
        """Tell the thread the handler is returning; never blocks.

        ``request_id`` (the context's ``aws_request_id``) lets a late signal from an earlier
        invocation be told apart from this one's.
        """
        self._finished_request_id = request_id
        self._finished.set()

    def stop(self, timeout: float = 0.2) -> None:
        """End the thread, waiting at most ``timeout`` seconds for a flush in progress.

        For shutdown only: an extension that stops calling Next holds every later invocation
        open until it times out.
        """
        with self._lock:
            self._stopping = True
            sock = self._connection.sock if self._connection is not None else None
        self._finished.set()
        if sock is not None:
            # Next has no timeout, so the way to end a blocked call is to shut its socket.
            with contextlib.suppress(OSError):  # the call ended meanwhile
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout)

    # -- the extension's thread --------------------------------------------------------

    def _run(self) -> None:
        try:
            while (event := self._next_event()) is not None:
                event_type = event.get("eventType")
                if event_type == "INVOKE":
                    self._await_handler(event)
                    if self._stopping:
                        return  # whoever stopped the thread flushes for itself
                    self._flush()
                elif event_type == "SHUTDOWN":
                    # Not expected (internal extensions cannot register for it); if Lambda
                    # ever sends it, the environment is going away: flush and stop.
                    self._flush()
                    return
                else:
                    self.log.warning(
                        "after-response flush: expected an INVOKE or SHUTDOWN event from %s"
                        "/event/next, but got %r; waiting for the next event",
                        _API,
                        event,
                    )
        finally:
            with self._lock:
                connection, self._connection = self._connection, None
            if connection is not None:
                connection.close()

    def _next_event(self) -> dict[str, Any] | None:
        """The next event, or None when the thread must end (stopped, or the API failed)."""
        # A signal that arrives before this Next belongs to an invocation already flushed:
        # Lambda starts the next invocation only after this extension has called Next.
        self._finished.clear()
        try:
            status, body = self._get_next()
        except (OSError, http.client.HTTPException) as exc:
            if not self._stopping:
                self.log.error(
                    "after-response flush stopped: GET %s/event/next at %s failed: %s: %s",
                    _API,
                    self.runtime_api,
                    type(exc).__name__,
                    exc,
                )
            return None
        if self._stopping:
            return None
        if status != 200:
            # 403: Lambda does not know this extension. 500: "Container error.
            # Non-recoverable state. Extension should exit promptly."
            self.log.error(
                "after-response flush stopped: expected GET %s/event/next to answer 200 with "
                "an event, but got %s: %s",
                _API,
                status,
                body[:500].decode(errors="replace"),
            )
            return None
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        return event if isinstance(event, dict) else {"unreadable": body[:200]}

    def _get_next(self) -> tuple[int, bytes]:
        with self._lock:
            if self._stopping:
                raise ConnectionAbortedError("stopped")
            if self._connection is None:
                # No timeout: "Do not set a timeout on the GET call, as the extension can be
                # suspended for a period of time until there is an event to return."
                self._connection = http.client.HTTPConnection(self.runtime_api)
            connection = self._connection
            if connection.sock is None:
                # Connected under the lock, so stop() either sees the socket or stops us here.
                connection.connect()
        identifier = {"Lambda-Extension-Identifier": self.identifier or ""}
        connection.request("GET", f"{_API}/event/next", headers=identifier)
        response = connection.getresponse()
        return response.status, response.read()

    def _await_handler(self, event: dict[str, Any]) -> None:
        """Wait until the handler of ``event``'s invocation says it is returning."""
        request_id = event.get("requestId")
        deadline_ms = event.get("deadlineMs")
        deadline = (
            deadline_ms / 1000 - _DEADLINE_MARGIN
            if isinstance(deadline_ms, int | float)
            else time.time() + _MAX_INVOCATION
        )
        while not self._stopping:
            if not self._finished.wait(max(0.0, deadline - time.time())):
                self.log.warning(
                    "after-response flush: the handler of request %s did not call "
                    "invocation_finished() before the deadline; flushing now",
                    request_id,
                )
                return
            self._finished.clear()
            signalled = self._finished_request_id
            if signalled is None or signalled == request_id or self._stopping:
                return

    def _flush(self) -> None:
        try:
            self.flush()
        except Exception:  # telemetry must never fail the function
            self.log.exception("after-response flush: flush() raised; the spans may be lost")

    def _call(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(self.runtime_api, timeout=_CALL_TIMEOUT)
        try:
            connection.request(method, f"{_API}{path}", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, answer
        finally:
            connection.close()
