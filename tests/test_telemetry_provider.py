"""Which provider an adapter traces with, and the Lambda resource it describes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from traced_asgi_lambda import ConfigurationError
from traced_asgi_lambda.telemetry.processor import InvocationSpanProcessor
from traced_asgi_lambda.telemetry.provider import (
    lambda_resource,
    lambda_tracer_provider,
    resolve_tracer_provider,
)
from traced_asgi_lambda.telemetry.tracer_provider import LambdaTracerProvider
from traced_asgi_lambda.telemetry.xray import XRayIdGenerator

ROOT = Path(__file__).parent.parent


def processors(provider: object) -> list[object]:
    return list(provider._active_span_processor._span_processors)  # type: ignore[attr-defined]


def test_a_given_provider_is_used_as_given() -> None:
    """A provider passed in wins over every variable."""
    given = TracerProvider()
    assert resolve_tracer_provider(given, {"OTEL_TRACES_EXPORTER": "console"}) is given


@pytest.mark.parametrize(
    ("environ", "exporter"),
    [
        pytest.param(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
            "OtlpHttpSpanExporter",
            id="endpoint",
        ),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"},
            "OtlpHttpSpanExporter",
            id="traces-endpoint",
        ),
        pytest.param({"OTEL_TRACES_EXPORTER": "console"}, "ConsoleSpanExporter", id="console"),
        pytest.param(
            {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
            "OtlpHttpSpanExporter",
            id="otlp-explicit",
        ),
    ],
)
def test_variables_build_a_lambda_provider(environ: dict[str, str], exporter: str) -> None:
    """The OTEL_* variables pick the exporter of a provider built for Lambda."""
    provider = resolve_tracer_provider(None, environ)
    assert isinstance(provider, LambdaTracerProvider)
    (processor,) = processors(provider)
    assert isinstance(processor, InvocationSpanProcessor)
    assert type(processor.exporter).__name__ == exporter
    assert isinstance(provider.id_generator, XRayIdGenerator)
    provider.shutdown()


@pytest.mark.parametrize(
    "environ",
    [
        pytest.param({}, id="nothing-set"),
        pytest.param({"OTEL_TRACES_EXPORTER": "none"}, id="none"),
        pytest.param(
            {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}, id="disabled"
        ),
    ],
)
def test_no_provider_means_no_tracing(environ: dict[str, str]) -> None:
    """Without an exporter to send to, there is no provider and tracing is off."""
    assert resolve_tracer_provider(None, environ) is None


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param({"OTEL_TRACES_EXPORTER": "zipkin"}, "'zipkin'", id="exporter"),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "'grpc'",
            id="protocol",
        ),
    ],
)
def test_unsupported_variables_are_configuration_errors(
    environ: dict[str, str], message: str
) -> None:
    """An exporter or protocol we do not offer is refused with the value and the fix."""
    with pytest.raises(ConfigurationError, match=message) as caught:
        resolve_tracer_provider(None, environ)
    assert "Fix:" in str(caught.value)


def test_global_provider_is_used_when_the_app_set_one() -> None:
    """An app that set the global provider gets its spans there (checked in a fresh process)."""
    code = (
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "provider = TracerProvider()\n"
        "trace.set_tracer_provider(provider)\n"
        "from traced_asgi_lambda import LambdaAdapter\n"
        "async def app(scope, receive, send): pass\n"
        "with LambdaAdapter(app, lifespan='off') as handler:\n"
        "    print(handler.telemetry.tracing.provider is provider)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"


def test_lambda_resource_from_runtime_variables() -> None:
    """The resource reads the runtime's variables; service.name falls back in order."""
    environ = {
        "AWS_LAMBDA_FUNCTION_NAME": "orders",
        "AWS_LAMBDA_FUNCTION_VERSION": "7",
        "AWS_REGION": "us-west-2",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/24/[7]abc",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/orders",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    }
    attributes = dict(lambda_resource(environ).attributes)
    # The SDK adds its own telemetry.sdk.* keys and a random service.instance.id.
    ours = {k: v for k, v in attributes.items() if not k.startswith(("telemetry.", "service.i"))}
    assert ours == {
        "service.name": "orders",
        "cloud.provider": "aws",
        "cloud.platform": "aws_lambda",
        "cloud.region": "us-west-2",
        "faas.name": "orders",
        "faas.version": "7",
        "faas.instance": "2026/11/24/[7]abc",
        "faas.max_memory": 1024 * 1024 * 1024,
        "aws.log.group.names": ("/aws/lambda/orders",),
    }
    powertools = lambda_resource({**environ, "POWERTOOLS_SERVICE_NAME": "shop"})
    assert powertools.attributes["service.name"] == "shop"
    otel = lambda_resource({**environ, "POWERTOOLS_SERVICE_NAME": "shop", "OTEL_SERVICE_NAME": "o"})
    assert otel.attributes["service.name"] == "o"
    assert lambda_resource(environ, service="given").attributes["service.name"] == "given"


def test_lambda_tracer_provider_defaults() -> None:
    """The recommended provider: Lambda resource, X-Ray ids, the invocation processor."""
    provider = lambda_tracer_provider(InMemorySpanExporter(), service="svc", environ={})
    assert provider.resource.attributes["service.name"] == "svc"
    assert isinstance(provider.id_generator, XRayIdGenerator)
    assert [type(p) for p in processors(provider)] == [InvocationSpanProcessor]
    console = lambda_tracer_provider(ConsoleSpanExporter(), environ={})
    assert console.resource.attributes["service.name"] == "unknown_service"
