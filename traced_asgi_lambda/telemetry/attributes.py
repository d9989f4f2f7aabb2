"""Span attributes from an invocation, by the OpenTelemetry semantic conventions.

Pure functions over the scope, the response and the Lambda context; the names follow
the stable HTTP conventions (https://opentelemetry.io/docs/specs/semconv/http/http-spans/)
and the FaaS conventions for AWS Lambda
(https://opentelemetry.io/docs/specs/semconv/faas/aws-lambda/).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from traced_asgi_lambda.telemetry.redaction import redact_query
from traced_asgi_lambda.types import LambdaContext

__all__ = [
    "faas_attributes",
    "function_attributes",
    "request_attributes",
    "route_of",
    "span_name",
]

AttributeMap = dict[str, Any]


def function_arn(invoked_arn: str) -> str:
    """The function's ARN without a version or alias qualifier (``cloud.resource_id``)."""
    parts = invoked_arn.split(":")
    # arn:aws:lambda:region:account:function:name[:qualifier]
    return ":".join(parts[:7]) if len(parts) > 7 else invoked_arn


def faas_attributes(
    context: LambdaContext,
    trigger: str,
    cold_start: bool,
    function: AttributeMap | None = None,
) -> AttributeMap:
    """The FaaS attributes of the invocation's root span.

    ``function`` is :func:`function_attributes` of the context's ARN, for a caller that
    keeps it between invocations (the ARN is the same for every call of a function alias).
    """
    attributes: AttributeMap = {
        "faas.trigger": trigger,
        "faas.invocation_id": context.aws_request_id,
        "faas.coldstart": cold_start,
    }
    if function is None:
        function = function_attributes(context.invoked_function_arn)
    attributes.update(function)
    return attributes


def function_attributes(invoked_arn: str) -> AttributeMap:
    """The attributes read from the invoked ARN: resource id, the ARN, the account."""
    attributes: AttributeMap = {
        "cloud.resource_id": function_arn(invoked_arn),
        "aws.lambda.invoked_arn": invoked_arn,
    }
    parts = invoked_arn.split(":")
    if len(parts) > 4 and parts[4]:
        attributes["cloud.account.id"] = parts[4]
    return attributes


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def request_attributes(scope: Mapping[str, Any], redacted: frozenset[str]) -> AttributeMap:
    """HTTP server attributes known before the app runs."""
    attributes: AttributeMap = {
        "http.request.method": scope["method"],
        "url.path": scope["path"],
        "url.scheme": scope["scheme"],
        "network.protocol.version": scope["http_version"],
    }
    query = scope["query_string"]
    if query:
        attributes["url.query"] = redact_query(query.decode("latin-1"), redacted)
    server = scope.get("server")
    if server:
        attributes["server.address"] = server[0]  # the host only; the port has its own key
    client = scope.get("client")
    if client:
        attributes["client.address"] = client[0]
    user_agent = _header(scope["headers"], b"user-agent")
    if user_agent:
        attributes["user_agent.original"] = user_agent
    return attributes


def route_of(scope: MutableMapping[str, Any]) -> str | None:
    """The route template the framework matched, read after the app has run.

    Starlette and FastAPI put the matched route in ``scope["route"]``; Litestar puts the
    template in ``scope["path_template"]``. API Gateway's own template (``resource`` in
    payload 1.0, ``routeKey`` in 2.0) is the fallback; ``$default`` and proxy catch-alls
    name no route.
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    if isinstance(template, str):
        return template
    template = scope.get("path_template")
    if isinstance(template, str):
        return template
    event = scope.get("aws.event")
    if isinstance(event, dict):
        resource = event.get("resource")
        if isinstance(resource, str) and "{proxy+}" not in resource:
            return resource
        route_key = event.get("routeKey")
        if isinstance(route_key, str) and " " in route_key and "{proxy+}" not in route_key:
            return route_key.split(" ", 1)[1]
    return None


def span_name(method: str, route: str | None) -> str:
    """``{method} {route}``, or the method alone when no route template is known.

    The raw path is never used: it would make span names unbounded in cardinality.
    """
    return f"{method} {route}" if route else method
