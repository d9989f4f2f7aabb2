"""Choosing and building the TracerProvider an adapter uses.

Order: a provider passed in is used as given; else the global provider if the app set
one; else one built from the standard ``OTEL_*`` variables; else no tracing. Nothing here
runs at import, and the global provider is never set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from traced_asgi_lambda.exceptions import ConfigurationError
from traced_asgi_lambda.telemetry.resource import LambdaResource, lambda_resource_attributes

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.sdk.trace.id_generator import IdGenerator
    from opentelemetry.sdk.trace.sampling import Sampler
    from opentelemetry.trace import TracerProvider as APITracerProvider

    from traced_asgi_lambda.telemetry.tracer_provider import LambdaTracerProvider

__all__ = [
    "function_resource",
    "lambda_resource",
    "lambda_tracer_provider",
    "resolve_tracer_provider",
]


def lambda_resource(environ: Mapping[str, str], service: str | None = None) -> Resource:
    """The Resource of this function, from the Lambda runtime's environment variables.

    The SDK's ``Resource``; :func:`lambda_tracer_provider` uses the same attributes
    without building one (see ``telemetry.resource``).
    """
    resource = function_resource(environ, service)
    return resource.to_sdk() if isinstance(resource, LambdaResource) else resource


def function_resource(
    environ: Mapping[str, str], service: str | None = None
) -> LambdaResource | Resource:
    """This function's resource: ours, or the SDK's when resource detector plugins are on.

    Keys from the FaaS resource conventions for AWS Lambda
    (https://opentelemetry.io/docs/specs/semconv/resource/faas/ and .../cloud-provider/aws/lambda/);
    variables from "Defined runtime environment variables" in the Lambda developer guide.
    """
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
    if environ.get("OTEL_EXPERIMENTAL_RESOURCE_DETECTORS", "").strip():
        from opentelemetry.sdk.resources import Resource

        # Detector plugins run only through the SDK (which reads os.environ itself).
        return Resource.create(attributes)
    # What Resource.create merges in from the variables, under ours.
    return LambdaResource(lambda_resource_attributes(attributes, environ))


def lambda_tracer_provider(
    exporter: SpanExporter,
    *,
    resource: Resource | None = None,
    service: str | None = None,
    sampler: Sampler | None = None,
    id_generator: IdGenerator | None = None,
    environ: Mapping[str, str] | None = None,
) -> LambdaTracerProvider:
    """The recommended TracerProvider for Lambda.

    It carries the function's resource, X-Ray-compatible ids, and a span processor with no
    timer that exports when the adapter flushes at the end of each invocation: in-line
    for an exporter that bounds its own time (ours), else on a worker thread it waits for
    at most the budget (see processor.InvocationSpanProcessor). It builds the SDK's
    TracerProvider only if something asks it for a tracer (see ``tracer_provider``).
    """
    import os

    from traced_asgi_lambda.telemetry.processor import InvocationSpanProcessor
    from traced_asgi_lambda.telemetry.tracer_provider import LambdaTracerProvider
    from traced_asgi_lambda.telemetry.xray import XRayIdGenerator

    env = os.environ if environ is None else environ
    provider = LambdaTracerProvider(
        resource or function_resource(env, service),
        id_generator or XRayIdGenerator(),
        sampler=sampler,
        environ=env,
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
