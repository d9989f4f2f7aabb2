"""Run any ASGI app on AWS Lambda: ``handler = LambdaAdapter(app)``.

Importing this package has no side effects: it configures no logging, sets no global
providers, reads no environment variables and imports no exporters.
"""

from __future__ import annotations

from traced_asgi_lambda.adapter import LambdaAdapter, Mangum
from traced_asgi_lambda.events.base import EventTranslator, Request, TranslatorConfig
from traced_asgi_lambda.exceptions import (
    ASGIProtocolError,
    ConfigurationError,
    EventError,
    LifespanError,
    MalformedEventError,
    ResponseTooLargeError,
    TracedAsgiLambdaError,
    UnsupportedEventError,
)
from traced_asgi_lambda.telemetry.decorator import traced_handler
from traced_asgi_lambda.telemetry.options import TelemetryOptions
from traced_asgi_lambda.types import LambdaContext, Response

__version__ = "0.1.0"

__all__ = [
    "ASGIProtocolError",
    "ConfigurationError",
    "EventError",
    "EventTranslator",
    "LambdaAdapter",
    "LambdaContext",
    "LifespanError",
    "MalformedEventError",
    "Mangum",
    "Request",
    "Response",
    "ResponseTooLargeError",
    "TelemetryOptions",
    "TracedAsgiLambdaError",
    "TranslatorConfig",
    "UnsupportedEventError",
    "traced_handler",
]
