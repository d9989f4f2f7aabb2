"""Types shared by every layer: ASGI scopes and messages, Lambda payloads and context.

ASGI messages follow the ASGI HTTP and lifespan specifications
(https://asgi.readthedocs.io/en/latest/specs/www.html and .../specs/lifespan.html).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal, NamedTuple, NotRequired, Protocol, TypedDict

__all__ = [
    "ASGIApp",
    "ASGIReceive",
    "ASGISend",
    "ASGIVersions",
    "HTTPDisconnectEvent",
    "HTTPRequestEvent",
    "HTTPResponseBodyEvent",
    "HTTPResponseStartEvent",
    "HTTPScope",
    "Headers",
    "LambdaContext",
    "LambdaEvent",
    "LambdaResponse",
    "LifespanMode",
    "LifespanScope",
    "Message",
    "OnError",
    "Response",
]

LambdaEvent = dict[str, Any]
"""A Lambda event as the runtime decodes it from JSON."""

LambdaResponse = dict[str, Any]
"""The JSON-serialisable value a Lambda handler returns."""

Headers = list[tuple[bytes, bytes]]
"""ASGI headers: lower-cased names and raw values, in order, repeats allowed."""

LifespanMode = Literal["auto", "on", "off"]
OnError = Literal["respond", "raise"]


class LambdaContext(Protocol):
    """The parts of the Lambda context object the adapter reads.

    See https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
    Read-only properties, so plain attributes of any compatible type satisfy it (the
    runtime's ``memory_limit_in_mb`` is a string in some runtime versions).
    """

    @property
    def function_name(self) -> str: ...
    @property
    def function_version(self) -> str: ...
    @property
    def invoked_function_arn(self) -> str: ...
    @property
    def memory_limit_in_mb(self) -> int | str: ...
    @property
    def aws_request_id(self) -> str: ...
    @property
    def log_group_name(self) -> str: ...
    @property
    def log_stream_name(self) -> str: ...

    def get_remaining_time_in_millis(self) -> int: ...


class ASGIVersions(TypedDict):
    version: Literal["3.0"]
    spec_version: str


# The functional form is needed for Mangum's dotted extension keys, which are kept so
# apps that read ``scope["aws.event"]`` or ``scope["aws.context"]`` migrate unchanged.
HTTPScope = TypedDict(
    "HTTPScope",
    {
        "type": Literal["http"],
        "asgi": ASGIVersions,
        "http_version": str,
        "method": str,
        "scheme": str,
        "path": str,
        "raw_path": bytes,
        "root_path": str,
        "query_string": bytes,
        "headers": Headers,
        "client": "tuple[str, int] | None",
        "server": "tuple[str, int | None] | None",
        "state": NotRequired[dict[str, Any]],
        "aws.event": LambdaEvent,
        "aws.context": LambdaContext,
    },
)


class LifespanScope(TypedDict):
    type: Literal["lifespan"]
    asgi: ASGIVersions
    state: dict[str, Any]


class HTTPRequestEvent(TypedDict):
    type: Literal["http.request"]
    body: bytes
    more_body: bool


class HTTPDisconnectEvent(TypedDict):
    type: Literal["http.disconnect"]


class HTTPResponseStartEvent(TypedDict):
    type: Literal["http.response.start"]
    status: int
    headers: NotRequired[Headers]
    trailers: NotRequired[bool]


class HTTPResponseBodyEvent(TypedDict):
    type: Literal["http.response.body"]
    body: NotRequired[bytes]
    more_body: NotRequired[bool]


Message = MutableMapping[str, Any]
"""Any ASGI message; the typed events above are the ones the adapter builds."""

ASGIReceive = Callable[[], Awaitable[Message]]
ASGISend = Callable[[Message], Awaitable[None]]
# Loose on purpose: frameworks type their __call__ with their own scope, receive and send
# aliases (Litestar, Quart), which are not assignable to ours under strict checking.
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class Response(NamedTuple):
    """A complete HTTP response collected from the app, before a source encodes it."""

    status: int
    headers: Headers
    body: bytes
