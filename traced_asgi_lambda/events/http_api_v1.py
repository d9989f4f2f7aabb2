"""API Gateway HTTP API with payload format version 1.0.

The payload is the REST API's (see rest_api) plus ``"version": "1.0"``, and for a named
stage the path starts with the stage. "Working with AWS Lambda proxy integrations for
HTTP APIs", https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
"""

from __future__ import annotations

from typing import Any

from traced_asgi_lambda.events import rest_api
from traced_asgi_lambda.events._codec import stage_prefix
from traced_asgi_lambda.events._fields import Field, translating
from traced_asgi_lambda.events.base import Request, TranslatorConfig
from traced_asgi_lambda.types import LambdaContext, LambdaEvent

__all__ = ["matches", "name", "to_request", "to_response"]

name = "api-gateway-http-v1"

FIELDS = (*rest_api.FIELDS, Field(("requestContext", "stage"), str, required=False))

to_response = rest_api.to_response


def matches(event: dict[str, Any]) -> bool:
    return event.get("version") == "1.0" and "requestContext" in event


@translating(name, FIELDS)
def to_request(event: LambdaEvent, context: LambdaContext, config: TranslatorConfig) -> Request:
    prefix = stage_prefix(event["requestContext"])
    return rest_api.build_request(event, context, name, prefix, config.api_gateway_base_path)
