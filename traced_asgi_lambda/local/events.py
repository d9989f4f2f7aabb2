"""Realistic Lambda events from a plain HTTP request, for local runs and tests.

Each builder writes the payload a source would send for the request, in that source's
own conventions (which values arrive decoded, how repeated headers and cookies travel,
when the body is base64), so a request runs through the same translator it would in AWS.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from traced_asgi_lambda.events.base import DEFAULT_TEXT_MIME_TYPES

__all__ = ["SOURCES", "HttpRequest", "build_event"]

ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass(frozen=True)
class HttpRequest:
    """An HTTP request as a client sends it: path and query as on the wire."""

    method: str = "GET"
    path: str = "/"
    query: Sequence[tuple[str, str]] = ()
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    source_ip: str = "203.0.113.10"
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def header_map(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for name, value in self.headers:
            grouped.setdefault(name.lower(), []).append(value)
        return grouped

    def raw_query(self) -> str:
        return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in self.query)

    def query_map(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for name, value in self.query:
            grouped.setdefault(name, []).append(value)
        return grouped

    def body_fields(self) -> tuple[str | None, bool]:
        """The body as the gateways send it: text as is, anything else base64."""
        if not self.body:
            return None, False
        content_type = self.header_map().get("content-type", [""])[0].split(";")[0]
        if content_type.startswith(DEFAULT_TEXT_MIME_TYPES) or content_type.endswith("+json"):
            try:
                return self.body.decode(), False
            except UnicodeDecodeError:
                pass
        return base64.b64encode(self.body).decode(), True


def _with_host(request: HttpRequest, host: str) -> dict[str, list[str]]:
    headers = {"host": [host], "x-forwarded-proto": ["https"], "x-forwarded-port": ["443"]}
    headers["x-forwarded-for"] = [request.source_ip]
    headers.update(request.header_map())
    return headers


def _single(headers: dict[str, list[str]]) -> dict[str, str]:
    return {k: ",".join(v) for k, v in headers.items()}


def _payload_v1(request: HttpRequest, host: str, stage: str) -> dict[str, Any]:
    headers = _with_host(request, host)
    query = request.query_map()
    body, is_base64 = request.body_fields()
    return {
        "resource": "/{proxy+}",
        "path": unquote(request.path),
        "httpMethod": request.method,
        "headers": {k: v[-1] for k, v in headers.items()},
        "multiValueHeaders": headers,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": unquote(request.path).lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": host.split(".")[0],
            "domainName": host,
            "httpMethod": request.method,
            "identity": {"sourceIp": request.source_ip, "userAgent": None},
            "path": f"/{stage}{unquote(request.path)}",
            "protocol": "HTTP/1.1",
            "requestId": request.request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "resourcePath": "/{proxy+}",
            "stage": stage,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def rest(request: HttpRequest) -> dict[str, Any]:
    return _payload_v1(request, "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", "prod")


def http_api_v1(request: HttpRequest) -> dict[str, Any]:
    event = _payload_v1(request, "f6g7h8i9j0.execute-api.us-east-1.amazonaws.com", "$default")
    event["version"] = "1.0"
    return event


def _payload_v2(request: HttpRequest, host: str) -> dict[str, Any]:
    headers = _with_host(request, host)
    cookies = headers.pop("cookie", None)
    body, is_base64 = request.body_fields()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path,
        "rawQueryString": request.raw_query(),
        "headers": _single(headers),
        "queryStringParameters": {k: ",".join(v) for k, v in request.query_map().items()},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": host.split(".")[0],
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": request.method,
                "path": unquote(request.path),
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", [""])[0],
            },
            "requestId": request.request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = [c.strip() for value in cookies for c in value.split(";")]
    if body is not None:
        event["body"] = body
    return event


def http_api(request: HttpRequest) -> dict[str, Any]:
    return _payload_v2(request, "f6g7h8i9j0.execute-api.us-east-1.amazonaws.com")


def function_url(request: HttpRequest) -> dict[str, Any]:
    return _payload_v2(request, "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws")


def _alb(request: HttpRequest, multi: bool) -> dict[str, Any]:
    headers = _with_host(request, "internal-my-alb-1234567890.us-east-1.elb.amazonaws.com")
    # ALB passes query parameters as the client sent them, still percent-encoded.
    query: dict[str, list[str]] = {}
    for name, value in request.query:
        query.setdefault(quote(name, safe=""), []).append(quote(value, safe=""))
    body, is_base64 = request.body_fields()
    event: dict[str, Any] = {
        "requestContext": {
            "elb": {
                "targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:"
                "targetgroup/my-targets/73e2d6bc24d8a067"
            }
        },
        "httpMethod": request.method,
        "path": request.path,
        "body": body or "",
        "isBase64Encoded": is_base64,
    }
    if multi:
        event["multiValueHeaders"] = headers
        event["multiValueQueryStringParameters"] = query
    else:
        event["headers"] = {k: v[-1] for k, v in headers.items()}
        event["queryStringParameters"] = {k: v[-1] for k, v in query.items()}
    return event


def alb(request: HttpRequest) -> dict[str, Any]:
    return _alb(request, multi=False)


def alb_multi(request: HttpRequest) -> dict[str, Any]:
    return _alb(request, multi=True)


def edge(request: HttpRequest) -> dict[str, Any]:
    host = "d111111abcdef8.cloudfront.net"
    headers = {"host": [host]}
    headers.update(request.header_map())
    cf_request: dict[str, Any] = {
        "clientIp": request.source_ip,
        "headers": {
            name: [{"key": name.title(), "value": value} for value in values]
            for name, values in headers.items()
        },
        "method": request.method,
        "querystring": request.raw_query(),
        "uri": request.path,
    }
    if request.body:
        cf_request["body"] = {
            "inputTruncated": False,
            "action": "read-only",
            "encoding": "base64",
            "data": base64.b64encode(request.body).decode(),
        }
    return {
        "Records": [
            {
                "cf": {
                    "config": {
                        "distributionDomainName": host,
                        "distributionId": "EDFDVBD6EXAMPLE",
                        "eventType": "viewer-request",
                        "requestId": request.request_id,
                    },
                    "request": cf_request,
                }
            }
        ]
    }


_LATTICE_HOST = "my-service-0a1b2c3d4e5f6a7b8.7d67968.vpc-lattice-svcs.us-east-1.on.aws"


def lattice_v1(request: HttpRequest) -> dict[str, Any]:
    headers = _with_host(request, _LATTICE_HOST)
    body, is_base64 = request.body_fields()
    raw_query = request.raw_query()
    return {
        "raw_path": request.path + (f"?{raw_query}" if raw_query else ""),
        "method": request.method,
        "headers": _single(headers),
        "query_string_parameters": {k: v[-1] for k, v in request.query_map().items()},
        "body": body or "",
        "is_base64_encoded": is_base64,
    }


def lattice(request: HttpRequest) -> dict[str, Any]:
    headers = _with_host(request, _LATTICE_HOST)
    body, is_base64 = request.body_fields()
    return {
        "version": "2.0",
        "path": request.path,
        "method": request.method,
        "headers": headers,
        "queryStringParameters": request.query_map(),
        "body": body or "",
        "isBase64Encoded": is_base64,
        "requestContext": {
            "serviceNetworkArn": f"arn:aws:vpc-lattice:{REGION}:{ACCOUNT}:"
            "servicenetwork/sn-0bf3f2882e9cc805a",
            "serviceArn": f"arn:aws:vpc-lattice:{REGION}:{ACCOUNT}:service/svc-0a40eebed65f8d69c",
            "targetGroupArn": f"arn:aws:vpc-lattice:{REGION}:{ACCOUNT}:"
            "targetgroup/tg-6d0ecf831eec9f09",
            "identity": {
                "sourceVpcArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0b8276c84697e7339"
            },
            "region": REGION,
            "timeEpoch": str(time.time_ns() // 1000),
        },
    }


SOURCES: dict[str, Callable[[HttpRequest], dict[str, Any]]] = {
    "rest": rest,
    "http-api-v1": http_api_v1,
    "http-api": http_api,
    "url": function_url,
    "alb": alb,
    "alb-multi": alb_multi,
    "edge": edge,
    "lattice-v1": lattice_v1,
    "lattice": lattice,
}
"""Builders by the short names the CLI uses."""


def build_event(source: str, request: HttpRequest) -> dict[str, Any]:
    """The event ``source`` would send for ``request``."""
    try:
        builder = SOURCES[source]
    except KeyError:
        raise ValueError(
            f"Unknown source {source!r}: expected one of {', '.join(SOURCES)}."
        ) from None
    return builder(request)
