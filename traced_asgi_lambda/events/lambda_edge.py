"""Lambda@Edge viewer-request and origin-request triggers (CloudFront).

Event: "Lambda@Edge event structure"; response: "Generate HTTP responses in request
triggers", CloudFront developer guide,
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-generating-http-responses.html
"""

from __future__ import annotations

from typing import Any

from traced_asgi_lambda.events._codec import (
    check_header_values,
    decode_body,
    fold_header,
    make_scope,
    server_address,
    split_path,
)
from traced_asgi_lambda.events._encode import encode_body, group_headers, reason_phrase
from traced_asgi_lambda.events._fields import Field, translating
from traced_asgi_lambda.events.base import Request, TranslatorConfig
from traced_asgi_lambda.types import Headers, LambdaContext, LambdaEvent, LambdaResponse, Response

__all__ = ["matches", "name", "to_request", "to_response"]

name = "lambda-edge"

_REQUEST = ("Records", 0, "cf", "request")

FIELDS = (
    Field(("Records",), list),
    Field(("Records", 0), dict),
    Field(("Records", 0, "cf"), dict),
    Field(_REQUEST, dict),
    Field((*_REQUEST, "method"), str),
    Field((*_REQUEST, "uri"), str),
    Field((*_REQUEST, "querystring"), str, required=False),
    Field((*_REQUEST, "clientIp"), str, required=False),
    Field((*_REQUEST, "headers"), dict, required=False, items=list),
    Field((*_REQUEST, "body"), dict, required=False),
    Field((*_REQUEST, "body", "data"), str, required=False),
    Field((*_REQUEST, "body", "encoding"), str, required=False),
)

# Headers CloudFront refuses in a generated response: it answers 502 when a function
# adds one. "Restrictions on edge functions", HTTP headers: disallowed and read-only.
_DISALLOWED = frozenset(
    {
        "connection",
        "content-length",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
        "x-accel-buffering",
        "x-accel-charset",
        "x-accel-limit-rate",
        "x-accel-redirect",
        "x-cache",
        "x-forwarded-proto",
        "x-real-ip",
    }
)
_DISALLOWED_PREFIXES = ("x-amz-cf-", "x-amzn-", "x-edge-")


def matches(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        return False
    cf = records[0].get("cf")
    # Response triggers carry cf.response: there is no request for the app to answer.
    return isinstance(cf, dict) and "response" not in cf


def _headers(cf_headers: dict[str, list[dict[str, str]]]) -> Headers:
    return check_header_values(
        [fold_header(key, (e["value"] for e in entries)) for key, entries in cf_headers.items()]
    )


@translating(name, FIELDS)
def to_request(event: LambdaEvent, context: LambdaContext, config: TranslatorConfig) -> Request:
    request = event["Records"][0]["cf"]["request"]
    cf_headers = request.get("headers") or {}
    headers = _headers(cf_headers)
    # CloudFront sends the viewer's protocol only when the cache policy forwards
    # CloudFront-Forwarded-Proto; viewers reach CloudFront over HTTPS by default.
    proto = cf_headers.get("cloudfront-forwarded-proto")
    scheme = (proto[0]["value"] if proto else "") or "https"
    host = cf_headers.get("host")
    path, raw_path = split_path(request["uri"])
    scope = make_scope(
        event,
        context,
        method=request["method"].upper(),
        scheme=scheme,
        path=path,
        raw_path=raw_path,
        root_path="",
        query_string=(request.get("querystring") or "").encode(),
        headers=headers,
        client=request.get("clientIp"),
        server=server_address(host[0]["value"] if host else None, None, scheme),
    )
    # The body is present only with "include body"; CloudFront truncates it past its
    # limit and says so in inputTruncated, which the app can read from aws.event.
    body_info = request.get("body") or {}
    body = decode_body(
        body_info.get("data"),
        body_info.get("encoding") == "base64",
        name,
        "Records[0].cf.request.body.data",
    )
    return Request(scope, body)


def _canonical(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def to_response(response: Response, event: LambdaEvent, config: TranslatorConfig) -> LambdaResponse:
    grouped = group_headers(response.headers, config.exclude_headers)
    body, is_base64 = encode_body(response.body, grouped, config)
    # CloudFront's shape: lower-case keys, each a list of {key, value}, so every
    # Set-Cookie survives; the status is a string; the body names its encoding.
    headers = {
        name: [{"key": _canonical(name), "value": value} for value in values]
        for name, values in grouped.items()
        if name not in _DISALLOWED and not name.startswith(_DISALLOWED_PREFIXES)
    }
    return {
        "status": str(response.status),
        "statusDescription": reason_phrase(response.status),
        "headers": headers,
        "body": body,
        "bodyEncoding": "base64" if is_base64 else "text",
    }
