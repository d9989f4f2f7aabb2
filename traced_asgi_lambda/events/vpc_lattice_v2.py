"""Amazon VPC Lattice, Lambda target event structure version 2.0.

"Lambda functions as targets", VPC Lattice user guide,
https://docs.aws.amazon.com/vpc-lattice/latest/ug/lambda-functions.html
Version 2.0 uses camelCase keys, lists for header and query values, and a
requestContext naming the service network, service and caller identity.
"""

from __future__ import annotations

from typing import Any

from traced_asgi_lambda.events import vpc_lattice_v1
from traced_asgi_lambda.events._codec import (
    decode_body,
    encode_query,
    first_forwarded_for,
    forwarded,
    headers_from_multi,
    make_scope,
    server_address,
    split_path,
)
from traced_asgi_lambda.events._fields import Field, translating
from traced_asgi_lambda.events.base import Request, TranslatorConfig
from traced_asgi_lambda.types import LambdaContext, LambdaEvent

__all__ = ["matches", "name", "to_request", "to_response"]

name = "vpc-lattice-v2"

FIELDS = (
    Field(("method",), str),
    Field(("path",), str),
    Field(("headers",), dict, required=False, items=list),
    Field(("queryStringParameters",), dict, required=False, items=list),
    Field(("body",), str, required=False),
    Field(("requestContext",), dict, required=False),
)

# The response shape is the same in both event versions.
to_response = vpc_lattice_v1.to_response


def matches(event: dict[str, Any]) -> bool:
    # API Gateway's 2.0 payload has "routeKey" and no top-level "method".
    return event.get("version") == "2.0" and "method" in event and "routeKey" not in event


@translating(name, FIELDS)
def to_request(event: LambdaEvent, context: LambdaContext, config: TranslatorConfig) -> Request:
    headers = headers_from_multi(event.get("headers"))
    fwd = forwarded(headers)
    scheme = fwd.proto or "https"
    path, raw_path = split_path(event["path"])
    params = event.get("queryStringParameters")
    scope = make_scope(
        event,
        context,
        method=event["method"].upper(),
        scheme=scheme,
        path=path,
        raw_path=raw_path,
        root_path="",
        query_string=encode_query(params, "queryStringParameters"),
        headers=headers,
        client=first_forwarded_for(fwd.for_),
        server=server_address(fwd.host, fwd.port, scheme),
    )
    body = decode_body(event.get("body"), bool(event.get("isBase64Encoded")), name, "body")
    return Request(scope, body)
