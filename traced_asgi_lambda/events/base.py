"""The contract every event source follows, built-in or custom."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from traced_asgi_lambda.types import HTTPScope, LambdaContext, LambdaEvent, LambdaResponse, Response

__all__ = [
    "DEFAULT_TEXT_MIME_TYPES",
    "SYNC_RESPONSE_LIMIT",
    "EventTranslator",
    "Request",
    "TranslatorConfig",
]

# "Lambda quotas": 6 MB for a synchronous invocation's response payload.
SYNC_RESPONSE_LIMIT = 6 * 1024 * 1024

# Content types sent as plain text rather than base64. A prefix match on the media type;
# structured-syntax suffixes (RFC 6839: ``+json``, ``+xml``) count as text too.
DEFAULT_TEXT_MIME_TYPES: tuple[str, ...] = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/vnd.api+json",
    "application/vnd.oai.openapi",
)


class Request(NamedTuple):
    """An ASGI request: the connection scope and the whole request body."""

    scope: HTTPScope
    body: bytes


@dataclass(frozen=True, slots=True)
class TranslatorConfig:
    """The adapter options a translator needs; built once per adapter."""

    api_gateway_base_path: str = "/"
    text_mime_types: tuple[str, ...] = DEFAULT_TEXT_MIME_TYPES
    exclude_headers: frozenset[str] = frozenset()
    max_response_bytes: int = SYNC_RESPONSE_LIMIT

    @classmethod
    def build(
        cls,
        api_gateway_base_path: str | None,
        text_mime_types: Iterable[str] | None,
        exclude_headers: Iterable[str] | None,
        max_response_bytes: int = SYNC_RESPONSE_LIMIT,
    ) -> TranslatorConfig:
        """The config from the adapter's Mangum-compatible arguments."""
        return cls(
            api_gateway_base_path=api_gateway_base_path or "/",
            text_mime_types=tuple(text_mime_types or DEFAULT_TEXT_MIME_TYPES),
            exclude_headers=frozenset(h.lower() for h in exclude_headers or ()),
            max_response_bytes=max_response_bytes,
        )


class EventTranslator(Protocol):
    """Turns one kind of Lambda event into an ASGI request, and a response back.

    Built-in sources are modules that satisfy this Protocol with plain functions; a
    custom source can be a module, a class instance or anything with these members.
    Implementations must be pure: no I/O, logging, clocks or environment reads.

    Optionally, ``response_limit(event, configured) -> int`` gives the largest response
    this source accepts for the event (Lambda@Edge's is lower than Lambda's); without
    it the adapter's configured limit applies. It is not a Protocol member, so existing
    translators stay valid.
    """

    @property
    def name(self) -> str:
        """A short, stable name for the source, such as ``"alb"``."""
        ...

    def matches(self, event: dict[str, Any]) -> bool:
        """Cheaply tell whether this event belongs to this source. Must never raise."""
        ...

    def to_request(
        self, event: LambdaEvent, context: LambdaContext, config: TranslatorConfig
    ) -> Request:
        """Build the ASGI scope and body; raise MalformedEventError for a bad event."""
        ...

    def to_response(
        self, response: Response, event: LambdaEvent, config: TranslatorConfig
    ) -> LambdaResponse:
        """Encode the app's response in the shape this source expects."""
        ...
