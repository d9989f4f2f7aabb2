"""Every error the adapter raises on purpose.

The tree::

    TracedAsgiLambdaError            catch this to catch everything below
    ├── ConfigurationError           a constructor argument is wrong
    ├── EventError                   the Lambda event cannot become an ASGI request
    │   ├── UnsupportedEventError    no translator recognises the event
    │   └── MalformedEventError      a translator recognised it, but a field is missing or bad
    ├── LifespanError                the app's lifespan startup failed
    ├── ASGIProtocolError            the app broke the ASGI message order
    └── ResponseTooLargeError        the encoded response is over the source's payload limit

Each message says what was expected, what arrived, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ASGIProtocolError",
    "ConfigurationError",
    "EventError",
    "LifespanError",
    "MalformedEventError",
    "ResponseTooLargeError",
    "TracedAsgiLambdaError",
    "UnsupportedEventError",
]


class TracedAsgiLambdaError(Exception):
    """Root of every error raised by traced-asgi-lambda."""


class ConfigurationError(TracedAsgiLambdaError, ValueError):
    """A constructor argument has a value the adapter cannot use."""

    @classmethod
    def check_choice(cls, name: str, value: object, choices: tuple[str, ...]) -> None:
        """Raise unless ``value`` is one of ``choices``."""
        if value not in choices:
            raise cls(
                f"Expected {name} to be one of {', '.join(map(repr, choices))}, but got {value!r}."
            )


class EventError(TracedAsgiLambdaError):
    """The Lambda event cannot be turned into an ASGI request."""


class UnsupportedEventError(EventError):
    """No translator recognised the event.

    ``keys`` holds the event's top-level keys (or the type name when the event is
    not a JSON object), ``supported`` the names of the translators that were tried.
    """

    def __init__(self, keys: Iterable[str], supported: Iterable[str], hint: str = "") -> None:
        self.keys = sorted(keys)
        self.supported = list(supported)
        seen = ", ".join(self.keys) if self.keys else "no keys"
        looks_like = f" ({hint})" if hint else ""
        super().__init__(
            f"Unsupported Lambda event: expected an HTTP event from one of "
            f"{', '.join(self.supported)}; got an event with {seen}{looks_like}. "
            "Fix: send only HTTP events to this handler, or pass "
            "custom_handlers=[...] with an EventTranslator for this event source."
        )


class MalformedEventError(EventError):
    """A recognised event is missing a field, or a field has the wrong type.

    ``source`` names the translator, ``path`` the field in dotted form, such as
    ``requestContext.http.method``.
    """

    def __init__(self, source: str, path: str, expected: str, got: str) -> None:
        self.source = source
        self.path = path
        super().__init__(
            f"Malformed {source} event: expected {path} to be {expected}, got {got}. "
            f"Fix: check the event's producer, or the test fixture, against the "
            f"{source} payload format."
        )


class LifespanError(TracedAsgiLambdaError):
    """The app's ASGI lifespan startup failed; the message carries the app's own."""


class ASGIProtocolError(TracedAsgiLambdaError, RuntimeError):
    """The app sent an ASGI message that is not allowed in the current state."""


class ResponseTooLargeError(TracedAsgiLambdaError):
    """The encoded response is over the event source's payload limit; the caller got a 500."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"Expected a response of at most {limit} bytes once encoded, but it was {size}. "
            "Fix: stream large files from S3 (a presigned URL) instead of through Lambda, "
            "or compress the response."
        )
