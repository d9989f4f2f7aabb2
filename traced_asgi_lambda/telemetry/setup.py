"""Deciding, once per adapter, whether and how invocations are traced."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from traced_asgi_lambda.exceptions import ConfigurationError

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

    from traced_asgi_lambda.telemetry.tracing import Tracing

__all__ = ["ExportMode", "tracing_for"]

ExportMode = Literal["sync", "after-response"]

_EXPORT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
)


def tracing_for(
    tracer_provider: TracerProvider | None,
    environ: Mapping[str, str],
    flush_timeout: float,
    export: ExportMode,
    log: logging.Logger,
) -> Tracing | None:
    """The Tracing for an adapter, or None when there is nothing to trace with.

    OpenTelemetry is imported only when a provider exists: one passed in, one the app
    set globally (which it can only have done if it imported opentelemetry.trace), or
    one the OTEL_* variables ask for.
    """
    if export not in ("sync", "after-response"):
        raise ConfigurationError(
            f"Expected export to be 'sync' or 'after-response', but got {export!r}."
        )
    app_uses_otel = "opentelemetry.trace" in sys.modules
    wants_export = any(
        environ.get(k)
        for k in (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_TRACES_EXPORTER",
        )
    )
    if tracer_provider is None and not app_uses_otel and not wants_export:
        return None
    from traced_asgi_lambda.telemetry.provider import resolve_tracer_provider

    provider = resolve_tracer_provider(tracer_provider, environ)
    if provider is None:
        return None
    from traced_asgi_lambda.telemetry.tracing import Tracing

    tracing = Tracing(provider, environ=environ, flush_timeout=flush_timeout, log=log)
    if export == "after-response":
        runtime_api = environ.get("AWS_LAMBDA_RUNTIME_API")
        if runtime_api:
            from traced_asgi_lambda.telemetry.extension import AfterResponseFlusher

            flusher = AfterResponseFlusher(tracing.flush_pending, runtime_api=runtime_api)
            if flusher.start():  # False when registration failed: flush in-line instead
                tracing.after_response = flusher
        else:
            log.debug("export='after-response' needs the Lambda runtime; flushing in-line")
    return tracing
