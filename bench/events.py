"""The one request every stack answers, as each event source sends it.

Events are built by ``traced_asgi_lambda.local.build_event``, so each carries what its
source really sends (REST's multi-value maps, HTTP API's raw query string, ALB's
percent-encoded query). The request carries no trace header: every stack starts a new
trace, so none pays for propagation the others skip.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PATH", "QUERY", "REQUEST_HEADERS", "SOURCES", "event_for", "floor_scope"]

SOURCES = ("http-api", "rest", "alb")
SOURCE_LABELS = {"http-api": "HTTP API v2", "rest": "REST v1", "alb": "ALB"}
PATH = "/items/42"
QUERY = (("verbose", "1"),)
REQUEST_HEADERS = (
    ("accept", "application/json"),
    ("accept-encoding", "gzip, deflate, br"),
    ("user-agent", "bench/1.0 (+https://example.com)"),
)
_REQUEST_ID = "d7f1e0a2-4b5c-4d6e-8f90-123456789abc"


def event_for(source: str) -> dict[str, Any]:
    """The Lambda event ``source`` sends for ``GET /items/42?verbose=1``."""
    from traced_asgi_lambda.local import HttpRequest, build_event

    if source not in SOURCES:
        raise ValueError(f"Expected an event source in {SOURCES}, but got {source!r}.")
    request = HttpRequest(
        method="GET",
        path=PATH,
        query=QUERY,
        headers=REQUEST_HEADERS,
        request_id=_REQUEST_ID,
    )
    return build_event(source, request)


def floor_scope() -> dict[str, Any]:
    """The ASGI scope an adapter would build for the request, built once, ahead of time."""
    headers = [(b"host", b"f6g7h8i9j0.execute-api.us-east-1.amazonaws.com")]
    headers += [(name.encode(), value.encode()) for name, value in REQUEST_HEADERS]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": PATH,
        "raw_path": PATH.encode(),
        "root_path": "",
        "query_string": b"verbose=1",
        "headers": headers,
        "server": ("f6g7h8i9j0.execute-api.us-east-1.amazonaws.com", 443),
        "client": ("203.0.113.10", 0),
    }
