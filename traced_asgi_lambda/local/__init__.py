"""Running handlers outside Lambda: realistic events, a context, and responses read back."""

from __future__ import annotations

from traced_asgi_lambda.local.context import LocalContext
from traced_asgi_lambda.local.events import SOURCES, HttpRequest, build_event
from traced_asgi_lambda.local.responses import HttpResponse, to_http

__all__ = ["SOURCES", "HttpRequest", "HttpResponse", "LocalContext", "build_event", "to_http"]
