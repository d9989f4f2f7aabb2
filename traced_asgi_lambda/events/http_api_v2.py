"""API Gateway HTTP API with payload format version 2.0.

"Working with AWS Lambda proxy integrations for HTTP APIs", payload format 2.0,
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
Function URLs use the same payload; see function_url.
"""

from __future__ import annotations

from typing import Any

from traced_asgi_lambda.events._codec import (
    check_header_values,
    decode_body,
    forwarded,
    headers_from_single,
    http_version,
    make_scope,
    mount,
    server_address,
    split_path,
    stage_prefix,
)
from traced_asgi_lambda.events._encode import encode_body, group_headers
from traced_asgi_lambda.events._fields import Field, translating
from traced_asgi_lambda.events.base import Request, TranslatorConfig
from traced_asgi_lambda.types import LambdaContext, LambdaEvent, LambdaResponse, Response

__all__ = ["FIELDS", "build_request", "matches", "name", "to_request", "to_response"]

name = "api-gateway-http-v2"

FIELDS = (
    Field(("rawPath",), str),
    Field(("requestContext",), dict),
    Field(("requestContext", "http"), dict),
    Field(("requestContext", "http", "method"), str),
    Field(("requestContext", "http", "sourceIp"), str, required=False),
    Field(("requestContext", "http", "protocol"), str, required=False),
    Field(("requestContext", "domainName"), str, required=False),
    Field(("requestContext", "stage"), str, required=False),
    Field(("rawQueryString",), str, required=False),
    Field(("headers",), dict, required=False, items=str),
    Field(("cookies",), list, required=False, items=str),
    Field(("body",), str, required=False),
)


def matches(event: dict[str, Any]) -> bool:
    return event.get("version") == "2.0" and "routeKey" in event


def build_request(event: LambdaEvent, context: LambdaContext, source: str, *mounts: str) -> Request:
    """The request for any payload-2.0 event; ``mounts`` are the prefixes to strip."""
    headers = headers_from_single(event.get("headers"))
    cookies = event.get("cookies")
    if cookies:
        # Payload 2.0 moves the Cookie header into a list; RFC 6265 joins it with "; ".
        headers.append((b"cookie", "; ".join(cookies).encode()))
        check_header_values(headers[-1:])
    fwd = forwarded(headers)
    scheme = fwd.proto or "https"
    http = event["requestContext"]["http"]
    path, raw_path = split_path(event["rawPath"])
    scope = make_scope(
        event,
        context,
        method=http["method"].upper(),
        scheme=scheme,
        path=path,
        raw_path=raw_path,
        root_path=mount(path, *mounts),
        # Kept exactly as the client sent it, so nothing is decoded and re-encoded.
        query_string=(event.get("rawQueryString") or "").encode(),
        headers=headers,
        client=http.get("sourceIp"),
        server=server_address(
            fwd.host or event["requestContext"].get("domainName"), fwd.port, scheme
        ),
        version=http_version(http.get("protocol")),
    )
    body = decode_body(event.get("body"), bool(event.get("isBase64Encoded")), source, "body")
    return Request(scope, body)


@translating(name, FIELDS)
def to_request(event: LambdaEvent, context: LambdaContext, config: TranslatorConfig) -> Request:
    # With a named stage, rawPath starts with it ("/prod/items"); a custom domain's
    # base path mapping comes after any stage.
    prefix = stage_prefix(event["requestContext"])
    return build_request(event, context, name, prefix, config.api_gateway_base_path)


def to_response(response: Response, event: LambdaEvent, config: TranslatorConfig) -> LambdaResponse:
    grouped = group_headers(response.headers, config.exclude_headers)
    body, is_base64 = encode_body(response.body, grouped, config)
    cookies = grouped.pop("set-cookie", None)
    # Payload 2.0 has no multi-value map: cookies get their own list, and other repeated
    # headers are folded with commas (RFC 9110 section 5.3).
    out: LambdaResponse = {
        "statusCode": response.status,
        "headers": {k: ",".join(v) for k, v in grouped.items()},
        "body": body,
        "isBase64Encoded": is_base64,
    }
    if cookies:
        out["cookies"] = cookies
    return out
