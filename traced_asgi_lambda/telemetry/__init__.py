"""OpenTelemetry tracing, logs and metrics for the adapter; imported only when telemetry is on.

The names below load on first use (PEP 562), so ``import traced_asgi_lambda`` and the
adapter's own use of the OpenTelemetry-free submodules (null, setup, triggers) never
import the OpenTelemetry SDK.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from traced_asgi_lambda.telemetry.decorator import traced_handler
    from traced_asgi_lambda.telemetry.otlp_http import OtlpHttpSpanExporter
    from traced_asgi_lambda.telemetry.processor import InvocationSpanProcessor
    from traced_asgi_lambda.telemetry.provider import lambda_resource, lambda_tracer_provider
    from traced_asgi_lambda.telemetry.tracer_provider import LambdaTracerProvider
    from traced_asgi_lambda.telemetry.xray import XRayIdGenerator

__all__ = [
    "InvocationSpanProcessor",
    "LambdaTracerProvider",
    "OtlpHttpSpanExporter",
    "XRayIdGenerator",
    "lambda_resource",
    "lambda_tracer_provider",
    "traced_handler",
]

_HOMES = {
    "InvocationSpanProcessor": "processor",
    "LambdaTracerProvider": "tracer_provider",
    "OtlpHttpSpanExporter": "otlp_http",
    "XRayIdGenerator": "xray",
    "lambda_resource": "provider",
    "lambda_tracer_provider": "provider",
    "traced_handler": "decorator",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
