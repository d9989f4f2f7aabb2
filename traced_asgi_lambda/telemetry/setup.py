"""Deciding, once per adapter or decorated handler, what is traced, logged and measured."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from traced_asgi_lambda.exceptions import ConfigurationError
from traced_asgi_lambda.telemetry.options import TelemetryOptions

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

    from traced_asgi_lambda.telemetry.invocation import Telemetry
    from traced_asgi_lambda.telemetry.tracing import Tracing

__all__ = ["resolve_service", "service_name", "telemetry_for", "tracing_for"]

_EXPORT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
)


def service_name(options: TelemetryOptions, environ: Mapping[str, str]) -> str:
    """The service every signal is labelled with, in the order Powertools users expect."""
    return resolve_service(options.service, environ, "service_undefined")  # Powertools'


def resolve_service(given: str | None, environ: Mapping[str, str], default: str) -> str:
    """``given``, else OTEL_SERVICE_NAME, POWERTOOLS_SERVICE_NAME, the function's name."""
    return (
        given
        or environ.get("OTEL_SERVICE_NAME")
        or environ.get("POWERTOOLS_SERVICE_NAME")
        or environ.get("AWS_LAMBDA_FUNCTION_NAME")
        or default
    )


def _metrics_enabled(environ: Mapping[str, str]) -> bool:
    from traced_asgi_lambda.telemetry.emf import metrics_enabled

    return metrics_enabled(environ)


def telemetry_for(
    options: TelemetryOptions,
    tracer_provider: TracerProvider | None,
    environ: Mapping[str, str],
) -> Telemetry | None:
    """The Telemetry for one adapter, or None when every signal is off."""
    # Each signal's module is imported only when that signal may be on: with every signal
    # off, constructing the adapter imports no telemetry module at all.
    ConfigurationError.check_choice("export", options.export, ("sync", "after-response"))
    service = service_name(options, environ)
    log: Any = None
    if options.logs is not False:
        from traced_asgi_lambda.telemetry.log_settings import logs_enabled
        from traced_asgi_lambda.telemetry.logs import InvocationLogger

        if logs_enabled(environ, options.logs):
            log = InvocationLogger(
                service=service,
                environ=environ,
                stream=options.stream,
                level=options.log_level,
                json=options.log_json,
                sample_rate=options.log_sample_rate,
                buffer_debug=options.log_buffer_debug,
                redact_headers=options.redact_headers,
                redact_query=options.redact_query,
                redaction=options.redaction,
                configure_globally=options.configure_logging_globally,
            )
    internal = log if log is not None else logging.getLogger("traced_asgi_lambda")
    tracing = tracing_for(tracer_provider, environ, options, service)
    emf = meters = None
    if options.metrics is not False and (options.metrics or _metrics_enabled(environ)):
        from traced_asgi_lambda.telemetry.emf import EmfMetrics

        emf = EmfMetrics(
            namespace=options.namespace,
            service=service,
            function_name=environ.get("AWS_LAMBDA_FUNCTION_NAME") or service,
            environ=environ,
            route_dimensions=options.route_dimensions,
            max_routes=options.max_routes,
            stream=options.stream,
            log=internal.warning,
        )
        from traced_asgi_lambda.telemetry.otel_metrics import resolve_meter_provider

        meter_provider = resolve_meter_provider(options.meter_provider)
        if meter_provider is not None:
            from traced_asgi_lambda.telemetry.otel_metrics import OtelMetrics

            meters = OtelMetrics(meter_provider, environ=environ, log=internal.warning)
    if log is None and tracing is None and emf is None:
        return None
    from traced_asgi_lambda.telemetry.invocation import Telemetry
    from traced_asgi_lambda.telemetry.null import NullLogger

    writer: Any = log if log is not None else NullLogger()  # the same methods, no output

    telemetry = Telemetry(
        tracing=tracing,
        log=writer,
        emf=emf,
        meters=meters,
        environ=environ,
        flush_timeout=options.flush_timeout,
        flush_margin=options.flush_margin,
        internal=internal,
        timeout_margin=options.timeout_margin,
    )
    if options.export == "after-response":
        # Logs and metrics move after the response too, so this holds with tracing off.
        runtime_api = environ.get("AWS_LAMBDA_RUNTIME_API")
        if runtime_api:
            from traced_asgi_lambda.telemetry.extension import AfterResponseFlusher

            flusher = AfterResponseFlusher(telemetry.flush_pending, runtime_api=runtime_api)
            if flusher.start():  # False when registration failed: flush in-line instead
                telemetry.after_response = flusher
        else:
            internal.debug("export='after-response' needs the Lambda runtime; flushing in-line")
    return telemetry


def tracing_for(
    tracer_provider: TracerProvider | None,
    environ: Mapping[str, str],
    options: TelemetryOptions,
    service: str,
) -> Tracing | None:
    """The Tracing, or None when there is nothing to trace with.

    OpenTelemetry is imported only when a provider exists: one passed in, one the app
    set globally (which it can only have done if it imported opentelemetry.trace), or
    one the OTEL_* variables ask for.
    """
    app_uses_otel = "opentelemetry.trace" in sys.modules
    wants_export = any(environ.get(k) for k in _EXPORT_VARIABLES)
    if tracer_provider is None and not app_uses_otel and not wants_export:
        return None
    from traced_asgi_lambda.telemetry.provider import resolve_tracer_provider

    # The name logs and metrics carry, so a provider made here labels spans the same way.
    provider = resolve_tracer_provider(tracer_provider, environ, service)
    if provider is None:
        return None
    from traced_asgi_lambda.telemetry.redaction import redaction_set
    from traced_asgi_lambda.telemetry.tracing import Tracing

    redacted = redaction_set(options.redact_query) if options.redaction else frozenset()
    return Tracing(provider, environ=environ, redacted_query=redacted)
