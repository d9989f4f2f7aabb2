"""The HTTP cycle: one request in, one whole response out, and 500 on any failure."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import pytest

from tests.conftest import load_event
from traced_asgi_lambda.events import BUILTIN_TRANSLATORS, TranslatorConfig, select
from traced_asgi_lambda.exceptions import ASGIProtocolError
from traced_asgi_lambda.http import (
    CycleState,
    HTTPCycle,
    forbidden_header,
    holds_cr_lf_nul,
    internal_error,
)
from traced_asgi_lambda.limits import too_large_response
from traced_asgi_lambda.local import LocalContext
from traced_asgi_lambda.types import ASGIReceive, ASGISend, Message, Response

Scope = MutableMapping[str, Any]
START: Message = {"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]}


def run(app: Any, body: bytes = b"payload") -> tuple[HTTPCycle, Response]:
    event = load_event("http_api_v2/post_json")
    request = select(event, BUILTIN_TRANSLATORS).to_request(
        event, LocalContext(), TranslatorConfig()
    )
    cycle = HTTPCycle(request.scope, body)
    loop = asyncio.new_event_loop()
    try:
        response = loop.run_until_complete(cycle.run(app))
    finally:
        loop.close()
    return cycle, response


async def chunked(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    message = await receive()
    await send(START)
    await send({"type": "http.response.body", "body": message["body"], "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": True})
    await send({"type": "http.response.body", "body": b"-end"})


async def echo_then_disconnect(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    first = await receive()
    await send(START)
    await send({"type": "http.response.body", "body": first["body"]})
    second = await receive()
    assert second == {"type": "http.disconnect"}


async def listens_for_disconnect(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    # The shape of Starlette's StreamingResponse: stream while a task waits for disconnect.
    await receive()
    disconnected = asyncio.Event()

    async def listen() -> None:
        message = await receive()
        assert message["type"] == "http.disconnect"
        disconnected.set()

    task = asyncio.ensure_future(listen())
    await send(START)
    for part in (b"a", b"b"):
        await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": b"c", "more_body": False})
    await task
    assert disconnected.is_set()


@pytest.mark.parametrize(
    ("app", "body"),
    [
        pytest.param(chunked, b"payload-end", id="more-body-chunks"),
        pytest.param(echo_then_disconnect, b"payload", id="disconnect-after-completion"),
        pytest.param(listens_for_disconnect, b"abc", id="streaming-with-disconnect-listener"),
    ],
)
def test_response_is_assembled(app: Any, body: bytes) -> None:
    """The body arrives as one http.request; chunks are joined; disconnect comes after."""
    cycle, response = run(app)
    assert response == Response(200, [(b"x-a", b"1")], body)
    assert cycle.state is CycleState.COMPLETE
    assert cycle.problem is None
    assert cycle.error is None


async def raises_before_start(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    raise ValueError("before")


async def raises_mid_body(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    await send(START)
    await send({"type": "http.response.body", "body": b"SECRET-PARTIAL", "more_body": True})
    raise ValueError("mid-body")


async def returns_nothing(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    await receive()


async def body_before_start(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    await send({"type": "http.response.body", "body": b"x"})


async def starts_twice(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    await send(START)
    await send(START)


async def bad_status(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    await send({"type": "http.response.start", "status": "200"})


async def sends_after_completion(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    await send(START)
    await send({"type": "http.response.body", "body": b"done"})
    await send({"type": "http.response.body", "body": b"again"})


@pytest.mark.parametrize(
    ("app", "error", "problem"),
    [
        pytest.param(raises_before_start, ValueError, "before completing", id="raise-before-start"),
        pytest.param(raises_mid_body, ValueError, "before completing", id="raise-mid-body"),
        pytest.param(returns_nothing, None, "returned without sending", id="no-response"),
        pytest.param(
            body_before_start, ASGIProtocolError, "before completing", id="body-before-start"
        ),
        pytest.param(starts_twice, ASGIProtocolError, "before completing", id="second-start"),
        pytest.param(bad_status, ASGIProtocolError, "before completing", id="bad-status"),
    ],
)
def test_failures_become_a_clean_500(app: Any, error: type[Exception] | None, problem: str) -> None:
    """Any failure before completion answers 500; a partial body is never sent."""
    cycle, response = run(app)
    assert response.status == 500
    assert response.body == b"Internal Server Error"
    assert b"SECRET" not in response.body
    assert cycle.problem is not None
    assert problem in cycle.problem
    if error is None:
        assert cycle.error is None
    else:
        assert isinstance(cycle.error, error)


def test_message_after_completion_is_a_protocol_error() -> None:
    """A message after the last body chunk is refused, and the completed response stands."""
    cycle, response = run(sends_after_completion)
    assert response.body == b"done"
    assert isinstance(cycle.error, ASGIProtocolError)
    assert "Expected no ASGI message after the response completed" in str(cycle.error)
    assert cycle.problem == "the app raised ASGIProtocolError after its response completed"


@pytest.mark.parametrize(
    ("app", "message"),
    [
        pytest.param(
            body_before_start,
            "Expected ASGI message 'http.response.start', but got 'http.response.body'",
            id="body-first",
        ),
        pytest.param(
            starts_twice,
            "Expected ASGI message 'http.response.body', but got 'http.response.start'",
            id="start-twice",
        ),
        pytest.param(bad_status, "Expected an integer HTTP status", id="status"),
    ],
)
def test_protocol_errors_say_expected_and_got(app: Any, message: str) -> None:
    """Protocol errors name the message expected and the one that arrived."""
    cycle, _ = run(app)
    assert message in str(cycle.error)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param((b"location", b"/next\r\nSet-Cookie: stolen=1"), id="crlf-in-value"),
        pytest.param((b"x-a", b"nul\x00"), id="nul-in-value"),
        pytest.param((b"x-a\nx-b", b"v"), id="lf-in-name"),
    ],
)
def test_response_headers_with_control_characters_are_refused(
    header: tuple[bytes, bytes],
) -> None:
    """A response header carrying CR, LF or NUL is a protocol error and the answer is 500."""

    async def app(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        await send({"type": "http.response.start", "status": 302, "headers": [header]})
        await send({"type": "http.response.body", "body": b""})

    cycle, response = run(app)
    assert response.status == 500
    assert all(b"stolen" not in value for _, value in response.headers)
    assert isinstance(cycle.error, ASGIProtocolError)
    assert "without CR, LF or NUL" in str(cycle.error)


def test_replacement_500s_are_plain_text() -> None:
    """The app-failure and too-large 500s share one shape: text/plain UTF-8, a short reason."""
    plain = [(b"content-type", b"text/plain; charset=utf-8")]
    assert internal_error() == Response(500, plain, b"Internal Server Error")
    assert too_large_response(7, 5) == Response(
        500,
        plain,
        b"Response Too Large: 7 bytes exceeds the 5-byte limit of this Lambda event source",
    )


@pytest.mark.parametrize(
    ("data", "holds"),
    [
        pytest.param(b"", False, id="empty"),
        pytest.param(b"text/html; charset=utf-8", False, id="plain"),
        pytest.param(b"a\tb\x7f\x01\xff", False, id="other-controls-and-high-bytes"),
        pytest.param(b"\rstart", True, id="cr-first"),
        pytest.param(b"mid\ndle", True, id="lf-inside"),
        pytest.param(b"end\x00", True, id="nul-last"),
        pytest.param(b"v\r\nX-Injected: 1", True, id="crlf-injection"),
    ],
)
def test_holds_cr_lf_nul(data: bytes, holds: bool) -> None:
    """Only CR, LF and NUL count, wherever they stand; other bytes never do."""
    assert holds_cr_lf_nul(data) is holds


@pytest.mark.parametrize(
    ("headers", "culprit"),
    [
        pytest.param([], None, id="none"),
        pytest.param([(b"a", b"1"), (b"b", b"2")], None, id="clean"),
        pytest.param([(b"a", b"1"), (b"b", b"2\r\nc: 3")], b"b", id="value"),
        pytest.param([(b"a\n", b"1"), (b"b", b"\x00")], b"a\n", id="first-of-two"),
    ],
)
def test_forbidden_header_names_the_first_culprit(
    headers: list[tuple[bytes, bytes]], culprit: bytes | None
) -> None:
    """The first header whose name or value holds CR, LF or NUL is named; else None."""
    assert forbidden_header(headers) == culprit
