"""API Gateway REST API, Lambda proxy integration (payload format 1.0).

Event and response shapes: "Input format of a Lambda function for proxy integration"
and "Output format ..." in the API Gateway developer guide,
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
"""

from __future__ import annotations

from typing import Any

from traced_asgi_lambda.events._codec import (
    decode_body,
    encode_query,
    forwarded,
    headers_from_multi,
    headers_from_single,
    http_version,
    make_scope,
    mount,
    server_address,
    split_path,
)
from traced_asgi_lambda.events._encode import encode_body, group_headers
from traced_asgi_lambda.events._fields import Field, translating
from traced_asgi_lambda.events.base import Request, TranslatorConfig
from traced_asgi_lambda.types import LambdaContext, LambdaEvent, LambdaResponse, Response

__all__ = ["FIELDS", "build_request", "matches", "name", "to_request", "to_response"]

name = "api-gateway-rest"

FIELDS = (
    Field(("httpMethod",), str),
    Field(("path",), str),
    Field(("requestContext",), dict),
    Field(("headers",), dict, required=False, items=str),
    Field(("multiValueHeaders",), dict, required=False, items=list),
    Field(("queryStringParameters",), dict, required=False, items=str),
    Field(("multiValueQueryStringParameters",), dict, required=False, items=list),
    Field(("body",), str, required=False),
    Field(("requestContext", "identity"), dict, required=False),
    Field(("requestContext", "identity", "sourceIp"), str, required=False),
    Field(("requestContext", "protocol"), str, required=False),
)


def matches(event: dict[str, Any]) -> bool:
    # HTTP API payload 1.0 has the same keys plus "version"; see http_api_v1.
    return "resource" in event and "requestContext" in event and "version" not in event


def build_request(event: LambdaEvent, context: LambdaContext, source: str, *mounts: str) -> Request:
    """The request for any payload-1.0 event; ``mounts`` are the prefixes to strip."""
    multi = event.get("multiValueHeaders")
    headers = headers_from_multi(multi) if multi else headers_from_single(event.get("headers"))
    fwd = forwarded(headers)
    scheme = fwd.proto or "https"
    path, raw_path = split_path(event["path"])
    request_context = event["requestContext"]
    identity = request_context.get("identity") or {}
    params = event.get("multiValueQueryStringParameters") or event.get("queryStringParameters")
    scope = make_scope(
        event,
        context,
        method=event["httpMethod"].upper(),
        scheme=scheme,
        path=path,
        raw_path=raw_path,
        root_path=mount(path, *mounts),
        # The values arrive decoded, so they are encoded again (RFC 3986 / HTML form).
        query_string=encode_query(params, "queryStringParameters"),
        headers=headers,
        client=identity.get("sourceIp"),
        server=server_address(fwd.host, fwd.port, scheme),
        version=http_version(request_context.get("protocol")),
    )
    body = decode_body(event.get("body"), bool(event.get("isBase64Encoded")), source, "body")
    return Request(scope, body)


@translating(name, FIELDS)
def to_request(event: LambdaEvent, context: LambdaContext, config: TranslatorConfig) -> Request:
    # REST API events never include the stage in "path"; a custom domain's base path
    # mapping does appear there, so only that is mounted.
    return build_request(event, context, name, config.api_gateway_base_path)


def to_response(response: Response, event: LambdaEvent, config: TranslatorConfig) -> LambdaResponse:
    grouped = group_headers(response.headers, config.exclude_headers)
    body, is_base64 = encode_body(response.body, grouped, config)
    # Single values go in "headers", repeated ones (Set-Cookie) in "multiValueHeaders";
    # API Gateway merges the two maps.
    return {
        "statusCode": response.status,
        "headers": {k: v[0] for k, v in grouped.items() if len(v) == 1},
        "multiValueHeaders": {k: v for k, v in grouped.items() if len(v) > 1},
        "body": body,
        "isBase64Encoded": is_base64,
    }
