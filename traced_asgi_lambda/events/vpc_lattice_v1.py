"""Amazon VPC Lattice, Lambda target event structure version 1.

"Lambda functions as targets", VPC Lattice user guide,
https://docs.aws.amazon.com/vpc-lattice/latest/ug/lambda-functions.html
Version 1 uses snake_case keys and one value per header and query parameter.
"""

from __future__ import annotations

from typing import Any

from traced_asgi_lambda.events._codec import (
    decode_body,
    encode_query,
    first_forwarded_for,
    forwarded,
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

name = "vpc-lattice-v1"

FIELDS = (
    Field(("method",), str),
    Field(("raw_path",), str),
    Field(("headers",), dict, required=False, items=str),
    Field(("query_string_parameters",), dict, required=False, items=str),
    Field(("body",), str, required=False),
)


def matches(event: dict[str, Any]) -> bool:
    return "raw_path" in event and "method" in event


@translating(name, FIELDS)
def to_request(event: LambdaEvent, context: LambdaContext, config: TranslatorConfig) -> Request:
    headers = headers_from_single(event.get("headers"))
    fwd = forwarded(headers)
    scheme = fwd.proto or "https"
    # raw_path carries the query string too when the client sent one.
    raw, _, raw_query = event["raw_path"].partition("?")
    path, raw_path = split_path(raw)
    params = event.get("query_string_parameters")
    scope = make_scope(
        event,
        context,
        method=event["method"].upper(),
        scheme=scheme,
        path=path,
        raw_path=raw_path,
        root_path="",
        query_string=raw_query.encode() if raw_query else encode_query(params, "query"),
        headers=headers,
        client=first_forwarded_for(fwd.for_),
        server=server_address(fwd.host, fwd.port, scheme),
    )
    body = decode_body(event.get("body"), bool(event.get("is_base64_encoded")), name, "body")
    return Request(scope, body)


def to_response(response: Response, event: LambdaEvent, config: TranslatorConfig) -> LambdaResponse:
    """The response shape both Lattice event versions expect: one value per header."""
    grouped = group_headers(response.headers, config.exclude_headers)
    body, is_base64 = encode_body(response.body, grouped, config)
    return {
        "statusCode": response.status,
        "statusDescription": status_line(response.status),
        "headers": single_valued(grouped),
        "body": body,
        "isBase64Encoded": is_base64,
    }
