"""Span attributes, triggers, trace headers and redaction: pure functions over payloads."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import load_event
from traced_asgi_lambda.events import BUILTIN_TRANSLATORS, TranslatorConfig, select
from traced_asgi_lambda.local import LocalContext
from traced_asgi_lambda.telemetry.attributes import (
    faas_attributes,
    function_arn,
    request_attributes,
    route_of,
    span_name,
)
from traced_asgi_lambda.telemetry.redaction import DEFAULT_REDACTED_QUERY, redact_query
from traced_asgi_lambda.telemetry.triggers import message_trace_headers, trace_headers, trigger_of


@pytest.mark.parametrize(
    ("name", "trigger"),
    [
        pytest.param("api_gateway_rest/get_basic", "http", id="rest"),
        pytest.param("http_api_v2/get_basic", "http", id="http-v2"),
        pytest.param("function_url/get_basic", "http", id="url"),
        pytest.param("alb/get_basic", "http", id="alb"),
        pytest.param("lambda_edge/get_basic", "http", id="edge"),
        pytest.param("vpc_lattice_v1/get_basic", "http", id="lattice-v1"),
        pytest.param("vpc_lattice_v2/get_basic", "http", id="lattice-v2"),
        pytest.param("unsupported/sqs", "pubsub", id="sqs"),
        pytest.param("unsupported/sns", "pubsub", id="sns"),
        pytest.param("unsupported/kinesis", "pubsub", id="kinesis"),
        pytest.param("unsupported/s3_put", "datasource", id="s3"),
        pytest.param("unsupported/dynamodb_stream", "datasource", id="dynamodb"),
        pytest.param("unsupported/eventbridge_scheduled", "timer", id="schedule"),
        pytest.param("unsupported/direct_invoke", "other", id="direct"),
        pytest.param("unsupported/empty", "other", id="empty"),
        pytest.param("unsupported/cloudwatch_logs", "other", id="logs"),
    ],
)
def test_trigger_of(name: str, trigger: str) -> None:
    """Each event source maps to its faas.trigger value."""
    assert trigger_of(load_event(name)) == trigger


def test_trigger_of_odd_events() -> None:
    """Non-object events and unknown records are 'other'."""
    assert trigger_of([1]) == "other"
    assert trigger_of({"Records": [{"eventSource": "aws:mq"}]}) == "other"


def test_message_trace_headers() -> None:
    """SQS X-Ray headers and W3C message attributes (SQS and SNS) are all found."""
    event: dict[str, Any] = {
        "Records": [
            {"attributes": {"AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793"}},
            {"messageAttributes": {"traceparent": {"stringValue": "00-ab-cd-01"}}},
            {"Sns": {"MessageAttributes": {"traceparent": {"Type": "String", "Value": "00-x"}}}},
            "not-a-record",
            {"messageAttributes": {"traceparent": "bad"}},
        ]
    }
    assert list(message_trace_headers(event)) == [
        ("xray", "Root=1-5759e988-bd862e3fe1be46a994272793"),
        ("w3c", "00-ab-cd-01"),
        ("w3c", "00-x"),
    ]
    assert list(message_trace_headers({"Records": "x"})) == []
    assert list(message_trace_headers(None)) == []


@pytest.mark.parametrize(
    "name",
    [
        "api_gateway_rest/get_basic",
        "alb_multi_value/get_basic",
        "http_api_v2/get_basic",
        "lambda_edge/get_basic",
        "vpc_lattice_v2/get_basic",
    ],
)
def test_trace_headers_found_in_every_shape(name: str) -> None:
    """The X-Ray header is found in single-value, multi-value, CloudFront and list maps."""
    headers = trace_headers(load_event(name))
    assert "Root=1-" in headers["x-amzn-trace-id"]
    assert trace_headers("nope") == {}


def test_faas_attributes() -> None:
    """FaaS attributes come from the context; the resource id drops the alias."""
    context = LocalContext("orders")
    context.invoked_function_arn += ":live"
    attributes = faas_attributes(context, "http", cold_start=True)
    assert attributes == {
        "faas.trigger": "http",
        "faas.invocation_id": context.aws_request_id,
        "faas.coldstart": True,
        "cloud.resource_id": "arn:aws:lambda:us-east-1:123456789012:function:orders",
        "aws.lambda.invoked_arn": "arn:aws:lambda:us-east-1:123456789012:function:orders:live",
        "cloud.account.id": "123456789012",
    }
    assert function_arn("not-an-arn") == "not-an-arn"


def test_request_attributes_follow_http_semconv() -> None:
    """The stable HTTP server attributes are set, with the query redacted."""
    event = load_event("http_api_v2/get_basic")
    event["rawQueryString"] = "q=hello&token=s3cret"
    scope = (
        select(event, BUILTIN_TRANSLATORS)
        .to_request(event, LocalContext(), TranslatorConfig())
        .scope
    )
    assert request_attributes(scope, DEFAULT_REDACTED_QUERY) == {
        "http.request.method": "GET",
        "url.path": "/items/42",
        "url.scheme": "https",
        "url.query": "q=hello&token=REDACTED",
        "network.protocol.version": "1.1",
        "server.address": "r8t4yz1m2n.execute-api.us-east-1.amazonaws.com",
        "client.address": "203.0.113.42",
        "user_agent.original": "curl/8.5.0",
    }


class FakeRoute:
    path = "/items/{item_id}"


@pytest.mark.parametrize(
    ("scope", "route"),
    [
        pytest.param({"route": FakeRoute()}, "/items/{item_id}", id="starlette"),
        pytest.param(
            {"path_template": "/items/{item_id:int}"}, "/items/{item_id:int}", id="litestar"
        ),
        pytest.param({"aws.event": {"resource": "/items/{id}"}}, "/items/{id}", id="rest-resource"),
        pytest.param({"aws.event": {"resource": "/{proxy+}"}}, None, id="rest-proxy"),
        pytest.param({"aws.event": {"routeKey": "GET /items/{id}"}}, "/items/{id}", id="route-key"),
        pytest.param({"aws.event": {"routeKey": "$default"}}, None, id="default-route"),
        pytest.param({"aws.event": {"routeKey": "ANY /{proxy+}"}}, None, id="proxy-route"),
        pytest.param({}, None, id="nothing"),
    ],
)
def test_route_of(scope: dict[str, Any], route: str | None) -> None:
    """The route template comes from the framework, else from API Gateway, else nowhere."""
    assert route_of(scope) == route


def test_span_name_never_uses_the_raw_path() -> None:
    """Span names are '{method} {route}' or the method alone."""
    assert span_name("GET", "/items/{id}") == "GET /items/{id}"
    assert span_name("GET", None) == "GET"


@pytest.mark.parametrize(
    ("query", "redacted"),
    [
        pytest.param("a=1&token=x", "a=1&token=REDACTED", id="token"),
        pytest.param("Password=x&b=2", "Password=REDACTED&b=2", id="case-insensitive"),
        pytest.param("%74oken=x", "%74oken=REDACTED", id="encoded-name"),
        pytest.param("access+token=x", "access+token=x", id="plus-decoded-name-not-listed"),
        pytest.param("code", "code", id="no-value"),
        pytest.param("a=1&b=2", "a=1&b=2", id="nothing-secret"),
        pytest.param("", "", id="empty"),
    ],
)
def test_redact_query(query: str, redacted: str) -> None:
    """Sensitive query values are replaced and everything else is kept as sent."""
    assert redact_query(query, DEFAULT_REDACTED_QUERY) == redacted
    assert redact_query(query, frozenset()) == query
