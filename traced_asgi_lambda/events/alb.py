"""Application Load Balancer, with and without multi-value headers.

"Lambda functions as targets", Elastic Load Balancing user guide,
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
"""

from __future__ import annotations

from typing import Any

from traced_asgi_lambda.events._codec import (
    decode_body,
    first_forwarded_for,
    forwarded,
    headers_from_multi,
    headers_from_single,
    make_scope,
    server_address,
    split_path,
)
from traced_asgi_lambda.events._encode import encode_body, group_headers, single_valued, status_line
from traced_asgi_lambda.events._fields import Field, translating
from traced_asgi_lambda.events.base import Request, TranslatorConfig
from traced_asgi_lambda.types import LambdaContext, LambdaEvent, LambdaResponse, Response

__all__ = ["matches", "name", "to_request", "to_response"]

name = "alb"

FIELDS = (
    Field(("httpMethod",), str),
    Field(("path",), str),
    Field(("requestContext", "elb"), dict),
    Field(("headers",), dict, required=False, items=str),
    Field(("multiValueHeaders",), dict, required=False, items=list),
    Field(("queryStringParameters",), dict, required=False, items=str),
    Field(("multiValueQueryStringParameters",), dict, required=False, items=list),
    Field(("body",), str, required=False),
)


def matches(event: dict[str, Any]) -> bool:
    request_context = event.get("requestContext")
    return isinstance(request_context, dict) and "elb" in request_context


def _query_string(event: LambdaEvent) -> bytes:
    # The load balancer does not decode query parameters: "If the query parameters are
    # URL-encoded, the load balancer does not decode them." They are joined as sent,
    # never encoded a second time.
    multi = event.get("multiValueQueryStringParameters")
    if multi:
        for key, values in multi.items():
            if not isinstance(values, list):  # a string would be spelled out letter by letter
                raise TypeError(f"query parameter {key!r} has no list of values")
        pairs = [key + "=" + value for key, values in multi.items() for value in values]
    else:
        single = event.get("queryStringParameters") or {}
        pairs = [key + "=" + value for key, value in single.items()]
    return "&".join(pairs).encode()


@translating(name, FIELDS)
def to_request(event: LambdaEvent, context: LambdaContext, config: TranslatorConfig) -> Request:
    multi = event.get("multiValueHeaders")
    headers = headers_from_multi(multi) if multi else headers_from_single(event.get("headers"))
    fwd = forwarded(headers)
    scheme = fwd.proto or "https"
    path, raw_path = split_path(event["path"])
    scope = make_scope(
        event,
        context,
        method=event["httpMethod"].upper(),
        scheme=scheme,
        path=path,
        raw_path=raw_path,
        root_path="",
        query_string=_query_string(event),
        headers=headers,
        client=first_forwarded_for(fwd.for_),
        server=server_address(fwd.host, fwd.port, scheme),
    )
    body = decode_body(event.get("body"), bool(event.get("isBase64Encoded")), name, "body")
    return Request(scope, body)


def to_response(response: Response, event: LambdaEvent, config: TranslatorConfig) -> LambdaResponse:
    grouped = group_headers(response.headers, config.exclude_headers)
    body, is_base64 = encode_body(response.body, grouped, config)
    out: LambdaResponse = {
        "statusCode": response.status,
        "statusDescription": status_line(response.status),
        "body": body,
        "isBase64Encoded": is_base64,
    }
    # "If you enable multi-value headers, you must use the multiValueHeaders property";
    # otherwise only "headers" is read, so repeats are spread over distinct casings.
    if "multiValueHeaders" in event:
        out["multiValueHeaders"] = grouped
    else:
        out["headers"] = single_valued(grouped)
    return out
