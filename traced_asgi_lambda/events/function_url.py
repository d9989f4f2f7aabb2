"""Lambda function URLs.

Function URLs send the API Gateway payload 2.0 shape on a ``*.lambda-url.*`` domain,
with ``routeKey`` ``$default`` and no stage. "Invoking Lambda function URLs",
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
"""

from __future__ import annotations

from typing import Any

from traced_asgi_lambda.events import http_api_v2
from traced_asgi_lambda.events._fields import translating
from traced_asgi_lambda.events.base import Request, TranslatorConfig
from traced_asgi_lambda.types import LambdaContext, LambdaEvent

__all__ = ["matches", "name", "to_request", "to_response"]

name = "function-url"

to_response = http_api_v2.to_response


def matches(event: dict[str, Any]) -> bool:
    request_context = event.get("requestContext")
    return (
        event.get("version") == "2.0"
        and isinstance(request_context, dict)
        and ".lambda-url." in str(request_context.get("domainName", ""))
    )


@translating(name, http_api_v2.FIELDS)
def to_request(event: LambdaEvent, context: LambdaContext, config: TranslatorConfig) -> Request:
    # A function URL has no stage and no base path mapping: nothing is mounted.
    return http_api_v2.build_request(event, context, name)
