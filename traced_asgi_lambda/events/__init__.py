"""Event sources: one module per Lambda payload format, each an EventTranslator.

Every module holds pure functions (``matches``, ``to_request``, ``to_response``) and a
``name``. Order matters only where payloads overlap: function URLs before the HTTP API
(same payload, different domain).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from traced_asgi_lambda.events import (
    alb,
    function_url,
    http_api_v1,
    http_api_v2,
    lambda_edge,
    rest_api,
    vpc_lattice_v1,
    vpc_lattice_v2,
)
from traced_asgi_lambda.events.base import (
    DEFAULT_TEXT_MIME_TYPES,
    EventTranslator,
    Request,
    TranslatorConfig,
)
from traced_asgi_lambda.exceptions import ConfigurationError, UnsupportedEventError

__all__ = [
    "BUILTIN_TRANSLATORS",
    "DEFAULT_TEXT_MIME_TYPES",
    "EventTranslator",
    "Request",
    "TranslatorConfig",
    "select",
    "translators_with",
]

BUILTIN_TRANSLATORS: tuple[EventTranslator, ...] = (
    rest_api,
    http_api_v1,
    function_url,
    http_api_v2,
    alb,
    lambda_edge,
    vpc_lattice_v2,
    vpc_lattice_v1,
)


def translators_with(
    custom: Iterable[EventTranslator] | None,
) -> tuple[EventTranslator, ...]:
    """Custom translators, checked, ahead of the built-in ones."""
    custom = tuple(custom or ())
    for translator in custom:
        if not all(
            callable(getattr(translator, f, None)) for f in ("matches", "to_request", "to_response")
        ):
            raise ConfigurationError(
                "Expected each custom handler to be an EventTranslator with matches(), "
                f"to_request() and to_response(), but got {translator!r}. "
                "Fix: implement traced_asgi_lambda.EventTranslator."
            )
    return (*custom, *BUILTIN_TRANSLATORS)


def select(event: object, translators: Iterable[EventTranslator]) -> EventTranslator:
    """The first translator whose ``matches`` accepts the event."""
    if isinstance(event, dict):
        for translator in translators:
            if translator.matches(event):
                return translator
        raise UnsupportedEventError(event.keys(), (t.name for t in translators), _hint(event))
    raise UnsupportedEventError(
        (), (t.name for t in translators), f"not a JSON object but {type(event).__name__}"
    )


# Non-HTTP sources people send to an HTTP handler by mistake, and how to tell them apart.
# "Using AWS Lambda with other services", https://docs.aws.amazon.com/lambda/latest/dg/lambda-services.html
_RECORD_SOURCES = {
    "aws:sqs": "looks like SQS",
    "aws:sns": "looks like SNS",
    "aws:s3": "looks like S3",
    "aws:dynamodb": "looks like a DynamoDB stream",
    "aws:kinesis": "looks like Kinesis",
}


def _hint(event: dict[str, Any]) -> str:
    if not event:
        return "an empty object, as from a test invoke with no payload"
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        record = records[0]
        source = record.get("eventSource") or record.get("EventSource")
        if isinstance(source, str) and source in _RECORD_SOURCES:
            return f"{_RECORD_SOURCES[source]}: Records[0].eventSource is {source!r}"
        if isinstance(record.get("cf"), dict):
            return "looks like a Lambda@Edge response trigger, which has no request to answer"
    if event.get("source") == "aws.events" or "detail-type" in event:
        return "looks like EventBridge: it has detail-type"
    if "awslogs" in event:
        return "looks like a CloudWatch Logs subscription"
    request_context = event.get("requestContext")
    if isinstance(request_context, dict) and "connectionId" in request_context:
        return "looks like an API Gateway WebSocket event: requestContext.connectionId"
    return "not an HTTP event of any known source"
