"""Payload limits: an oversized response becomes a 500 that says why, for every source."""

from __future__ import annotations

import io
import json
from collections.abc import MutableMapping
from typing import Any

import pytest

from traced_asgi_lambda import (
    LambdaAdapter,
    LambdaContext,
    Request,
    ResponseTooLargeError,
    TelemetryOptions,
    TranslatorConfig,
)
from traced_asgi_lambda.events import lambda_edge
from traced_asgi_lambda.events._codec import make_scope
from traced_asgi_lambda.local import SOURCES, HttpRequest, LocalContext, build_event, to_http
from traced_asgi_lambda.types import ASGIReceive, ASGISend, Response

Scope = MutableMapping[str, Any]


def app_sending(size: int, content_type: bytes) -> Any:
    async def app(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", content_type)],
            }
        )
        await send({"type": "http.response.body", "body": b"x" * size})

    return app


@pytest.mark.parametrize("source", [s for s in SOURCES if s != "edge"])
def test_response_over_six_megabytes_is_a_clear_500(source: str) -> None:
    """A response over Lambda's 6 MB limit is replaced by a 500 naming the sizes."""
    out = io.StringIO()
    options = TelemetryOptions(stream=out, log_json=True, metrics=False)
    app = app_sending(7 * 1024 * 1024, b"text/plain")
    with LambdaAdapter(app, lifespan="off", telemetry=options) as handler:
        response = to_http(handler(build_event(source, HttpRequest()), LocalContext()))
    assert response.status == 500
    assert response.body.startswith(b"Response Too Large: ")
    assert b"exceeds the 6291456-byte limit" in response.body
    errors = [json.loads(line) for line in out.getvalue().splitlines() if '"ERROR"' in line]
    assert len(errors) == 1
    assert "Expected a response of at most 6291456 bytes" in errors[0]["message"]
    access = [json.loads(line) for line in out.getvalue().splitlines() if '"INFO"' in line]
    assert access[0]["status"] == 500
    assert access[0]["error_type"] == "ResponseTooLargeError"


@pytest.mark.parametrize(
    ("event_type", "size", "status"),
    [
        pytest.param("viewer-request", 39 * 1024, 200, id="viewer-under-40k"),
        pytest.param("viewer-request", 41 * 1024, 500, id="viewer-over-40k"),
        pytest.param("origin-request", 900 * 1024, 200, id="origin-under-1m"),
        pytest.param("origin-request", 1100 * 1024, 500, id="origin-over-1m"),
    ],
)
def test_lambda_edge_limits_are_lower(event_type: str, size: int, status: int) -> None:
    """Lambda@Edge generated responses are held to CloudFront's 40 KB and 1 MB limits."""
    event = build_event("edge", HttpRequest())
    event["Records"][0]["cf"]["config"]["eventType"] = event_type
    quiet = TelemetryOptions(logs=False, metrics=False)
    app = app_sending(size - 512, b"text/plain")
    with LambdaAdapter(app, lifespan="off", telemetry=quiet) as handler:
        assert to_http(handler(event, LocalContext())).status == status


def test_a_lower_configured_limit_applies() -> None:
    """``max_response_bytes`` lowers the limit; binary bodies count in their base64 size."""
    quiet = TelemetryOptions(logs=False, metrics=False)
    app = app_sending(80_000, b"application/octet-stream")  # ~107 KB once base64-encoded
    with LambdaAdapter(app, lifespan="off", telemetry=quiet, max_response_bytes=100_000) as h:
        assert to_http(h(build_event("alb", HttpRequest()), LocalContext())).status == 500
    with LambdaAdapter(app, lifespan="off", telemetry=quiet, max_response_bytes=120_000) as h:
        assert to_http(h(build_event("alb", HttpRequest()), LocalContext())).status == 200


def test_error_message_names_the_fix() -> None:
    """The error says what was expected, what arrived, and what to do instead."""
    message = str(ResponseTooLargeError(7_000_000, 6_291_456))
    assert "at most 6291456 bytes" in message
    assert "it was 7000000" in message
    assert "S3" in message


@pytest.mark.parametrize(
    ("config", "limit"),
    [
        pytest.param({"eventType": "viewer-request"}, 40 * 1024, id="viewer"),
        pytest.param({"eventType": "origin-request"}, 1024 * 1024, id="origin"),
        pytest.param({}, 1024 * 1024, id="no-event-type"),
        pytest.param(None, 1024 * 1024, id="no-config"),
        pytest.param({"eventType": "viewer-response"}, 6_000_000, id="other-trigger"),
        pytest.param({"eventType": ["viewer-request"]}, 6_000_000, id="not-a-name"),
        pytest.param("viewer-request", 6_000_000, id="config-not-an-object"),
    ],
)
def test_lambda_edge_knows_its_limit(config: object, limit: int) -> None:
    """The Edge translator names CloudFront's limit per trigger, never above the configured."""
    event = build_event("edge", HttpRequest())
    event["Records"][0]["cf"]["config"] = config
    assert lambda_edge.response_limit(event, 6_000_000) == limit
    assert lambda_edge.response_limit(event, 10_000) == 10_000


class RecordsTranslator:
    """A custom source whose events carry Records, as SQS and S3 events do."""

    name = "records"

    def matches(self, event: dict[str, Any]) -> bool:
        return "Records" in event

    def to_request(
        self, event: dict[str, Any], context: LambdaContext, config: TranslatorConfig
    ) -> Request:
        scope = make_scope(
            event,
            context,
            method="POST",
            scheme="https",
            path="/",
            raw_path=b"/",
            root_path="",
            query_string=b"",
            headers=[],
            client=None,
            server=None,
        )
        return Request(scope, b"")

    def to_response(
        self, response: Response, event: dict[str, Any], config: TranslatorConfig
    ) -> dict[str, Any]:
        return {"status": response.status, "body": response.body.decode()}


def test_a_custom_translator_keeps_the_configured_limit() -> None:
    """Only the Edge translator lowers the limit: a custom Records source gets the 6 MB."""
    quiet = TelemetryOptions(logs=False, metrics=False)
    app = app_sending(2 * 1024 * 1024, b"text/plain")
    event = {"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}
    with LambdaAdapter(
        app, lifespan="off", telemetry=quiet, custom_handlers=[RecordsTranslator()]
    ) as handler:
        assert handler(event, LocalContext())["status"] == 200


class SmallRecordsTranslator(RecordsTranslator):
    """The same source, naming a lower limit of its own."""

    def response_limit(self, event: dict[str, Any], configured: int) -> int:
        return min(configured, 100_000)


def test_a_custom_translator_may_name_a_lower_limit() -> None:
    """A translator's own ``response_limit`` is asked, as the Edge one is."""
    quiet = TelemetryOptions(logs=False, metrics=False)
    app = app_sending(200_000, b"text/plain")
    event = {"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}
    with LambdaAdapter(
        app, lifespan="off", telemetry=quiet, custom_handlers=[SmallRecordsTranslator()]
    ) as handler:
        out = handler(event, LocalContext())
    assert out["status"] == 500
    assert "exceeds the 100000-byte limit" in out["body"]
