"""Running handlers outside Lambda: realistic events and a context object."""

from __future__ import annotations

from traced_asgi_lambda.local.context import LocalContext
from traced_asgi_lambda.local.events import SOURCES, HttpRequest, build_event

__all__ = ["SOURCES", "HttpRequest", "LocalContext", "build_event"]
