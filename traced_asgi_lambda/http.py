"""The ASGI HTTP cycle of one invocation: one request in, one whole response out.

Lambda's buffered invoke returns a single payload, so the response is collected in full
before anything is returned; a response that fails half-way is replaced by a 500 and
the partial body is never sent. ASGI HTTP spec: https://asgi.readthedocs.io/en/latest/specs/www.html
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

from traced_asgi_lambda.exceptions import ASGIProtocolError
from traced_asgi_lambda.types import (
    ASGIApp,
    Headers,
    HTTPDisconnectEvent,
    HTTPRequestEvent,
    HTTPScope,
    Message,
    Response,
)

__all__ = [
    "CycleState",
    "HTTPCycle",
    "forbidden_header",
    "holds_cr_lf_nul",
    "internal_error",
    "plain_500",
]


# CR and LF end a header line and NUL is refused by HTTP parsers (RFC 9110 section 5.5):
# a header carrying one could smuggle a second header or a second response.
_CR_LF_NUL = b"\r\n\x00"


def holds_cr_lf_nul(data: bytes) -> bool:
    """Whether ``data`` holds a CR, LF or NUL byte."""
    # One pass in C that drops those bytes, compared by length. Not ``b"\r" in data``:
    # on CPython 3.11, ``in`` on bytes first tries its operand as an integer and raises
    # and clears a formatted TypeError every time; three such scans cost 1.3 us where
    # this costs 0.2 to 0.5 us, and an invocation makes three checks (request headers,
    # query string, response headers).
    return len(data.translate(None, _CR_LF_NUL)) != len(data)


def forbidden_header(headers: Sequence[tuple[bytes, bytes]]) -> bytes | None:
    """The name of the first header whose name or value holds CR, LF or NUL, else None.

    One scan over every name and value joined keeps the valid case cheap; only then is
    the culprit looked for. Shared by requests (a malformed event) and responses (an
    ASGI protocol error), which each raise their own error.
    """
    if not holds_cr_lf_nul(b"".join(chain.from_iterable(headers))):
        return None
    return next(name for name, value in headers if holds_cr_lf_nul(name) or holds_cr_lf_nul(value))


def _checked_headers(headers: Iterable[tuple[bytes, bytes]]) -> Headers:
    # From the app, so it is passed on only when no header could split the response.
    checked: Headers = [(name, value) for name, value in headers]
    name = forbidden_header(checked)
    if name is not None:
        raise ASGIProtocolError(
            f"Expected response header {bytes(name)[:40]!r} without CR, LF or NUL, but "
            "its name or value contains one. Fix: never copy request input into "
            "response headers unchecked."
        )
    return checked


def plain_500(body: bytes) -> Response:
    """A 500 with a plain-text body: what is sent when the app's own response cannot be."""
    # A new header list each time, so no caller can change another's response.
    return Response(500, [(b"content-type", b"text/plain; charset=utf-8")], body)


def internal_error() -> Response:
    """The 500 sent when the app fails before it has completed a response."""
    return plain_500(b"Internal Server Error")


class CycleState(enum.Enum):
    """Where the app is in its response."""

    REQUEST = enum.auto()  # nothing sent yet; 'http.response.start' must come first
    RESPONSE = enum.auto()  # started; 'http.response.body' chunks are arriving
    COMPLETE = enum.auto()  # the last chunk (more_body false) has arrived


class HTTPCycle:
    """Runs the app once for one request and collects its response.

    After :meth:`run`, ``error`` holds the exception the app raised, if any, and
    ``problem`` says in words why the response is not the app's own (or is None).
    """

    __slots__ = (
        "_body",
        "_chunks",
        "_completed",
        "_request_sent",
        "error",
        "headers",
        "problem",
        "scope",
        "started_ns",
        "state",
        "status",
    )

    def __init__(self, scope: HTTPScope, body: bytes) -> None:
        self.scope = scope
        self.state = CycleState.REQUEST
        self.status = 500
        self.headers: Headers = []
        self.error: Exception | None = None
        self.problem: str | None = None
        self.started_ns: int | None = None  # wall clock at 'http.response.start' (TTFB)
        self._body = body
        self._chunks: list[bytes] = []
        self._request_sent = False
        self._completed: asyncio.Event | None = None

    async def run(self, app: ASGIApp) -> Response:
        try:
            await app(self.scope, self.receive, self.send)
        except Exception as exc:
            self.error = exc
            if self.state is not CycleState.COMPLETE:
                self.problem = f"the app raised {type(exc).__name__} before completing its response"
                return internal_error()
            self.problem = f"the app raised {type(exc).__name__} after its response completed"
        if self.state is not CycleState.COMPLETE:
            self.problem = (
                "the app returned without sending a complete response: expected "
                "'http.response.start' then 'http.response.body' with more_body false, "
                f"but the cycle ended in state {self.state.name}"
            )
            return internal_error()
        return Response(self.status, self.headers, b"".join(self._chunks))

    def report(self, log: Any, on_error: str) -> Exception | None:
        """Log once why the response is not the app's own; re-raise if asked to.

        Returns the app's exception (already logged), so it is not logged again.
        """
        scope = self.scope
        log.error(
            "%s %s answered %s: %s",
            scope["method"],
            scope["path"],
            self.status if self.state is CycleState.COMPLETE else 500,
            self.problem,
            exc_info=self.error,
        )
        if on_error == "raise" and (error := self.error_to_raise()) is not None:
            raise error
        return self.error

    def error_to_raise(self) -> Exception | None:
        """The app's exception, if it should reach Lambda under ``on_error="raise"``.

        Frameworks such as Starlette answer 500 and then re-raise: that is raised. A
        success that completed before the app raised (in a background task, say) is
        still the right answer, so it is returned instead.
        """
        if self.error is not None and (self.state is not CycleState.COMPLETE or self.status >= 500):
            return self.error
        return None

    async def receive(self) -> Message:
        if not self._request_sent:
            self._request_sent = True
            request: HTTPRequestEvent = {
                "type": "http.request",
                "body": self._body,
                "more_body": False,
            }
            return request  # type: ignore[return-value]
        # After the body, 'receive' blocks until the client goes away. On Lambda the
        # client is gone once the response is complete, so that is when it returns.
        if self.state is not CycleState.COMPLETE:
            if self._completed is None:
                self._completed = asyncio.Event()
            await self._completed.wait()
        disconnect: HTTPDisconnectEvent = {"type": "http.disconnect"}
        return disconnect  # type: ignore[return-value]

    async def send(self, message: Message) -> None:
        kind = message.get("type")
        if self.state is CycleState.REQUEST:
            if kind != "http.response.start":
                raise ASGIProtocolError(
                    f"Expected ASGI message 'http.response.start', but got {kind!r}. "
                    "Fix: the app must start the response before sending its body."
                )
            status = message.get("status")
            if type(status) is not int or not 100 <= status <= 999:
                raise ASGIProtocolError(
                    f"Expected an integer HTTP status in 'http.response.start', but got {status!r}."
                )
            self.status = status
            self.headers = _checked_headers(message.get("headers") or ())
            self.state = CycleState.RESPONSE
            self.started_ns = time.time_ns()
        elif self.state is CycleState.RESPONSE:
            if kind != "http.response.body":
                raise ASGIProtocolError(
                    f"Expected ASGI message 'http.response.body', but got {kind!r}. "
                    "Fix: send 'http.response.start' only once per response."
                )
            chunk = message.get("body", b"")
            if chunk:
                self._chunks.append(bytes(chunk))
            if not message.get("more_body", False):
                self.state = CycleState.COMPLETE
                if self._completed is not None:
                    self._completed.set()
        else:
            raise ASGIProtocolError(
                f"Expected no ASGI message after the response completed, but got {kind!r}. "
                "Fix: set more_body true on every body chunk except the last."
            )
