"""What a front door sends to the client for a Lambda response, for local runs and tests.

The inverse of the translators' ``to_response``: one function reads any source's
response shape back into a status, a header list and the body bytes, the way API
Gateway, an ALB, CloudFront or VPC Lattice would put it on the wire.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

__all__ = ["HttpResponse", "to_http"]


@dataclass(frozen=True)
class HttpResponse:
    """An HTTP response as the client receives it: header names lower-cased."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]


def to_http(response: dict[str, Any]) -> HttpResponse:
    """Read a Lambda response of any supported source back into an HTTP response."""
    headers: list[tuple[str, str]] = []
    if "status" in response:  # CloudFront's shape, from Lambda@Edge
        for entries in response.get("headers", {}).values():
            headers.extend((e["key"].lower(), e["value"]) for e in entries)
        is_base64 = response.get("bodyEncoding") == "base64"
        status = int(response["status"])
    else:
        # API Gateway merges "headers" with "multiValueHeaders"; header names that differ
        # only in case (the single-value workaround) are distinct headers on the wire.
        multi = response.get("multiValueHeaders") or {}
        for name, value in (response.get("headers") or {}).items():
            if name not in multi:
                headers.append((name.lower(), value))
        for name, values in multi.items():
            headers.extend((name.lower(), v) for v in values)
        headers.extend(("set-cookie", c) for c in response.get("cookies") or ())
        is_base64 = bool(response.get("isBase64Encoded"))
        status = int(response["statusCode"])
    body = response.get("body") or ""
    return HttpResponse(status, headers, base64.b64decode(body) if is_base64 else body.encode())
