"""An invocation's log context: the keys its lines carry, and where they are read from.

``InvocationLogger.bind_invocation`` fills an :class:`InvocationToken`; the chain's
Shaper (``log_processors``) reads its ``head`` and ``tail`` keys for every line written
during the invocation, and the record factory its ``record`` keys for the app's stdlib
records.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from contextvars import Token
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections import deque

    from traced_asgi_lambda.telemetry.log_processors import StreamSink

__all__ = ["InvocationToken", "bind_contextvars", "correlation_id_of", "xray_root"]


def correlation_id_of(event: object) -> str | None:
    """The event's own request id, read where Powertools' ``correlation_paths`` read it."""
    if not isinstance(event, Mapping):
        return None
    context = event.get("requestContext")  # API Gateway REST and HTTP, function URLs
    if isinstance(context, Mapping) and isinstance(context.get("requestId"), str):
        return str(context["requestId"])
    records = event.get("Records")  # Lambda@Edge
    if isinstance(records, list) and records and isinstance(records[0], Mapping):
        config = (records[0].get("cf") or {}).get("config") or {}
        return config.get("requestId") if isinstance(config.get("requestId"), str) else None
    headers = event.get("headers") or event.get("multiValueHeaders")  # ALB, VPC Lattice
    for name, value in headers.items() if isinstance(headers, Mapping) else ():
        if isinstance(name, str) and name.lower() == "x-amzn-trace-id":
            value = value[0] if isinstance(value, list) and value else value
            return value if isinstance(value, str) else None
    return None


def xray_root(header: str | None) -> str | None:
    """``1-5759e988-bd862e3fe1be46a994272793`` from ``Root=...;Parent=...;Sampled=1``."""
    for part in (header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "Root" and value:
            return value
    return None


class InvocationToken:
    """Returned by ``bind_invocation`` for ``end_invocation``; opaque to callers."""

    __slots__ = (
        "buffer",
        "buffered",
        "contextvars",
        "ended",
        "head",
        "min_level",
        "own_token",
        "record",
        "sink",
        "tail",
    )

    def __init__(self, head: dict[str, Any], tail: dict[str, Any]) -> None:
        self.head, self.tail = head, tail
        self.record: dict[str, Any] = {}
        self.buffer: deque[str] | None = None
        self.buffered = 0
        self.contextvars: list[Mapping[str, Token[Any]]] = []
        self.own_token: Token[InvocationToken | None] | None = None
        self.sink: StreamSink | None = None  # where this invocation's lines go
        self.min_level = logging.INFO
        self.ended = False


def bind_contextvars(**keys: Any) -> Mapping[str, Token[Any]] | None:
    """structlog's ``bind_contextvars(**keys)`` if the process has imported structlog, else None.

    Checked on each invocation, so an app that imports structlog late gets the keys from
    its next invocation on.
    """
    module = sys.modules.get("structlog.contextvars")
    if module is None:
        return None
    tokens: Mapping[str, Token[Any]] = module.bind_contextvars(**keys)
    return tokens
