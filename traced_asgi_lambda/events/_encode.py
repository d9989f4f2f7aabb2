"""Pieces every source shares to encode a response: headers, bodies and status lines.

Pure functions over plain data; the request side is in _codec.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from traced_asgi_lambda.events.base import TranslatorConfig
from traced_asgi_lambda.types import Headers

__all__ = [
    "body_is_base64",
    "encode_body",
    "group_headers",
    "reason_phrase",
    "single_valued",
    "status_line",
]

# Built once: looking a code up through HTTPStatus(status) costs an enum call (and an
# exception for an unknown code) on every response that carries a status line.
_PHRASES: dict[int, str] = {status.value: status.phrase for status in HTTPStatus}


def group_headers(headers: Headers, exclude: frozenset[str]) -> dict[str, list[str]]:
    """Response headers grouped by lower-case name, in order, minus excluded names.

    Values are decoded as UTF-8 where they are valid UTF-8, else as Latin-1 (RFC 9110
    section 5.5), so no byte sequence can make encoding fail.
    """
    grouped: dict[str, list[str]] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        if name in exclude:
            continue
        try:
            value = raw_value.decode()
        except UnicodeDecodeError:
            value = raw_value.decode("latin-1")
        if name in grouped:
            grouped[name].append(value)
        else:
            grouped[name] = [value]
    return grouped


def _is_text(content_type: str, text_mime_types: tuple[str, ...]) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type.endswith(("+json", "+xml")):
        return True
    return media_type.startswith(text_mime_types)


def encode_body(
    body: bytes, headers: Mapping[str, list[str]], config: TranslatorConfig
) -> tuple[str, bool]:
    """The response body as a string, and whether it is base64.

    Base64 whenever the bytes are not plain text: a non-text content type, any content
    coding (a gzip body is binary whatever its type), or bytes that are not UTF-8.
    """
    if not body:
        return "", False
    content_type = headers.get("content-type")
    coding = headers.get("content-encoding")
    if (
        content_type
        and not (coding and coding[0].lower() != "identity")
        and _is_text(content_type[0], config.text_mime_types)
    ):
        try:
            return body.decode(), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def body_is_base64(out: Mapping[str, Any]) -> bool:
    """Whether an encoded Lambda response carries its body base64-encoded.

    ``isBase64Encoded`` in every source's payload but Lambda@Edge's, which says
    ``bodyEncoding: "base64"``.
    """
    return out.get("isBase64Encoded") is True or out.get("bodyEncoding") == "base64"


def reason_phrase(status: int) -> str:
    """The reason phrase from RFC 9110 (``"OK"``), or ``""`` for a code without one."""
    return _PHRASES.get(status, "")


def status_line(status: int) -> str:
    """``"200 OK"``, the reason phrase from RFC 9110, or just the code when it has none."""
    phrase = _PHRASES.get(status)
    return str(status) if phrase is None else f"{status} {phrase}"


def single_valued(grouped: Mapping[str, list[str]]) -> dict[str, str]:
    """A one-value-per-name header map that still carries every value.

    For sources whose response has only a single-value map (ALB without multi-value
    headers, VPC Lattice), repeated headers such as Set-Cookie are sent under names
    that differ only in letter case. HTTP names are case-insensitive, so the client
    receives each value as its own header.
    """
    out: dict[str, str] = {}
    for name, values in grouped.items():
        out[name] = values[0]
        if len(values) > 1:
            last = name
            spellings = iter(_casings(name))
            for value in values[1:]:
                variant = next(spellings, None)
                if variant is None:
                    # Out of spellings (a name with few letters): fold rather than drop.
                    out[last] += ", " + value
                else:
                    out[variant] = value
                    last = variant
    return out


def _casings(name: str) -> Iterable[str]:
    """Distinct spellings of ``name`` other than all-lower-case, in a stable order."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    for mask in range(1, 2 ** len(letters)):
        chars = list(name)
        for bit, index in enumerate(letters):
            if mask >> bit & 1:
                chars[index] = chars[index].upper()
        yield "".join(chars)
