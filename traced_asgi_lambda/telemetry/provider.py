"""Choosing and building the TracerProvider an adapter uses.

Order: a provider passed in is used as given; else the global provider if the app set
one; else one built from the standard ``OTEL_*`` variables; else no tracing. Nothing here
runs at import, and the global provider is never set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from traced_asgi_lambda.exceptions import ConfigurationError

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.sdk.trace.id_generator import IdGenerator
    from opentelemetry.sdk.trace.sampling import Sampler
    from opentelemetry.trace import TracerProvider as APITracerProvider

__all__ = ["lambda_resource", "lambda_tracer_provider", "resolve_tracer_provider"]


def lambda_resource(environ: Mapping[str, str], service: str | None = None) -> Resource:
    """The Resource of this function, from the Lambda runtime's environment variables.

    Keys from the FaaS resource conventions for AWS Lambda
    (https://opentelemetry.io/docs/specs/semconv/resource/faas/ and .../cloud-provider/aws/lambda/);
    variables from "Defined runtime environment variables" in the Lambda developer guide.
    """
    from opentelemetry.sdk.resources import Resource

    from traced_asgi_lambda.telemetry.setup import resolve_service

    function = environ.get("AWS_LAMBDA_FUNCTION_NAME")
    attributes: dict[str, Any] = {
        # "unknown_service" is the SDK's own default (resource semantic conventions).
        "service.name": resolve_service(service, environ, "unknown_service"),
        "cloud.provider": "aws",
        "cloud.platform": "aws_lambda",
    }
    optional = {
        "cloud.region": environ.get("AWS_REGION"),
        "faas.name": function,
        "faas.version": environ.get("AWS_LAMBDA_FUNCTION_VERSION"),
        "faas.instance": environ.get("AWS_LAMBDA_LOG_STREAM_NAME"),
    }
    attributes.update({k: v for k, v in optional.items() if v})
    memory = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
    if memory.isdigit():
        attributes["faas.max_memory"] = int(memory) * 1024 * 1024  # the convention wants bytes
    log_group = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
    if log_group:
        attributes["aws.log.group.names"] = [log_group]
    # Resource.create also merges OTEL_RESOURCE_ATTRIBUTES; ours win on conflicts.
    return Resource.create(attributes)


def lambda_tracer_provider(
    exporter: SpanExporter,
    *,
    resource: Resource | None = None,
    service: str | None = None,
    sampler: Sampler | None = None,
    id_generator: IdGenerator | None = None,
    environ: Mapping[str, str] | None = None,
) -> TracerProvider:
    """The recommended TracerProvider for Lambda.

    It carries the function's resource, X-Ray-compatible ids, and a span processor with no
    timer that exports when the adapter flushes at the end of each invocation: in-line
    for an exporter that bounds its own time (ours), else on a worker thread it waits for
    at most the budget (see processor.InvocationSpanProcessor).
    """
    import os

    from opentelemetry.sdk.trace import TracerProvider

    from traced_asgi_lambda.telemetry.processor import InvocationSpanProcessor
    from traced_asgi_lambda.telemetry.xray import XRayIdGenerator

    env = os.environ if environ is None else environ
    provider = TracerProvider(
        resource=resource or lambda_resource(env, service),
        sampler=sampler,
        id_generator=id_generator or XRayIdGenerator(),
    )
    provider.add_span_processor(InvocationSpanProcessor(exporter))
    return provider


def _exporter_from_env(environ: Mapping[str, str]) -> SpanExporter | None:
    """The span exporter the standard variables ask for, or None.

    OTEL_TRACES_EXPORTER and OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT per the SDK environment
    variable spec (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/).
    Only OTLP over HTTP/protobuf is offered: it needs no gRPC runtime, which keeps cold
    starts short, and it is what the Lambda collector extension listens on (port 4318).
    The exporter is telemetry.otlp_http's, which imports neither protobuf nor requests.
    """
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    names = [n.strip() for n in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if not names:
        names = ["otlp"] if endpoint else []
    for name in names:
        if name == "none":
            return None
        if name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            return ConsoleSpanExporter()
        if name != "otlp":
            raise ConfigurationError(
                f"Expected OTEL_TRACES_EXPORTER to be 'otlp', 'console' or 'none', but got "
                f"{name!r}. Fix: set one of those, or pass tracer_provider= to the adapter."
            )
    if not names:
        return None
    protocol = environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
    )
    if protocol and protocol != "http/protobuf":
        raise ConfigurationError(
            f"Expected OTEL_EXPORTER_OTLP_PROTOCOL to be 'http/protobuf', but got {protocol!r}. "
            "Fix: point the exporter at the collector's OTLP/HTTP port (4318)."
        )
    from traced_asgi_lambda.telemetry.otlp_http import OtlpHttpSpanExporter

    # Our own exporter: it encodes without protobuf's message objects and exports on the
    # flushing thread within the budget; it reads the same OTEL_EXPORTER_OTLP_* variables.
    return OtlpHttpSpanExporter(environ=environ)


def resolve_tracer_provider(
    given: APITracerProvider | None, environ: Mapping[str, str], service: str | None = None
) -> APITracerProvider | None:
    """The provider to trace with, or None when tracing is off."""
    if given is not None:
        return given
    from opentelemetry import trace

    current = trace.get_tracer_provider()
    if not isinstance(current, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return current
    exporter = _exporter_from_env(environ)
    if exporter is None:
        return None
    return lambda_tracer_provider(exporter, service=service, environ=environ)
