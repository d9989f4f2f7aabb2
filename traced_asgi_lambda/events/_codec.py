"""Pieces every source shares to build a request: scope, headers, paths and bodies.

Pure functions over plain data, so each source module stays a short list of what is
particular to its payload format.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple
from urllib.parse import quote, unquote, urlencode

from traced_asgi_lambda.events._fields import FieldProblem, describe
from traced_asgi_lambda.exceptions import MalformedEventError
from traced_asgi_lambda.http import forbidden_header, holds_cr_lf_nul
from traced_asgi_lambda.types import Headers, HTTPScope, LambdaContext, LambdaEvent

__all__ = [
    "check_header_values",
    "decode_body",
    "encode_query",
    "first_forwarded_for",
    "fold_header",
    "forwarded",
    "http_version",
    "make_scope",
    "headers_from_multi",
    "headers_from_single",
    "mount",
    "server_address",
    "split_path",
    "stage_prefix",
]


def make_scope(
    event: LambdaEvent,
    context: LambdaContext,
    *,
    method: str,
    scheme: str,
    path: str,
    raw_path: bytes,
    root_path: str,
    query_string: bytes,
    headers: Headers,
    client: str | None,
    server: tuple[str, int | None] | None,
    version: str = "1.1",
) -> HTTPScope:
    """The ASGI HTTP connection scope (ASGI www spec 2.3), one shape for every source.

    The few checks here catch what plain reads cannot: an empty method, a client address
    of the wrong type, and control characters in the query string (which would let a
    server behind the app see a second request line).
    """
    if not method:
        raise FieldProblem("method", "a non-empty string", "an empty string")
    if client is not None and not isinstance(client, str):
        raise TypeError("the client address is not a string")  # the field check names it
    if holds_cr_lf_nul(query_string):
        raise FieldProblem("query string", "no CR, LF or NUL", "a control character")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": version,
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": raw_path,
        "root_path": root_path,
        "query_string": query_string,
        "headers": headers,
        "client": (client, 0) if client else None,
        "server": server,
        "aws.event": event,
        "aws.context": context,
    }


# RFC 6265 section 5.4: the user agent sends all cookies in one Cookie header, joined
# with "; ". Every other repeated request header may be folded with ", " (RFC 9110
# section 5.3), which is also how API Gateway folds them into its single-value map.
_COOKIE = "cookie"


def check_header_values(headers: Headers) -> Headers:
    """Refuse header values with CR, LF or NUL, which no HTTP front door passes on.

    A value holding one could split into a second header in a server or proxy behind the
    app (RFC 9110 section 5.5), so such an event is malformed rather than sanitised. One
    scan over all values keeps the valid case cheap (see forbidden_header).
    """
    name = forbidden_header(headers)
    if name is not None:
        raise FieldProblem(
            f"headers.{name.decode('latin-1')}",
            "a value without CR, LF or NUL",
            "a value containing one",
        )
    return headers


def encode_query(params: Mapping[str, Any] | None, where: str) -> bytes:
    """A query string from decoded values (one string or a list of strings per name).

    ``urlencode`` would quietly write ``a=None`` for a null or spell a string out letter
    by letter, so every value's type is checked first.
    """
    if not params:
        return b""
    for name, value in params.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str) for item in values):
            raise FieldProblem(f"{where}.{name}", "a string or a list of strings", describe(value))
    return urlencode(params, doseq=True).encode()


def headers_from_single(headers: Mapping[str, str] | None) -> Headers:
    """ASGI headers from a one-value-per-name map, names lower-cased."""
    if not headers:
        return []
    return check_header_values(
        [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    )


def headers_from_multi(headers: Mapping[str, Iterable[str]] | None) -> Headers:
    """ASGI headers from a name-to-values map, each name folded into one header."""
    if not headers:
        return []
    out: Headers = []
    for name, values in headers.items():
        if not isinstance(values, list):  # a bare string would be joined letter by letter
            raise TypeError(f"header {name!r} has no list of values")
        out.append(fold_header(name, values))
    return check_header_values(out)


def fold_header(name: str, values: Iterable[str]) -> tuple[bytes, bytes]:
    """One ASGI header from a name's values: Cookie joined with "; ", others with ", "."""
    lower = name.lower()
    return lower.encode(), ("; " if lower == _COOKIE else ", ").join(values).encode()


class Forwarded(NamedTuple):
    """The request headers that describe the connection rather than the request."""

    host: str | None = None
    proto: str | None = None
    port: str | None = None
    for_: str | None = None


def forwarded(headers: Headers) -> Forwarded:
    """Host, X-Forwarded-Proto, -Port and -For from ASGI headers, in one pass."""
    host = proto = port = for_ = None
    for name, value in headers:
        if name == b"host":
            host = value.decode("latin-1")
        elif name == b"x-forwarded-proto":
            proto = value.decode("latin-1")
        elif name == b"x-forwarded-port":
            port = value.decode("latin-1")
        elif name == b"x-forwarded-for":
            for_ = value.decode("latin-1")
    return Forwarded(host, proto, port, for_)


def http_version(protocol: str | None) -> str:
    """ASGI ``http_version`` ("1.0", "1.1" or "2") from a ``protocol`` like "HTTP/1.1"."""
    if protocol and protocol.upper().startswith("HTTP/"):
        version = protocol[5:]
        if version in ("1.0", "1.1"):
            return version
        if version in ("2", "2.0"):
            return "2"
    return "1.1"


_PATH_SAFE = "/:@!$&'()*+,;=-._~"
# RFC 3986 pchar without "%": a path made only of these reads the same encoded or decoded.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9/:@!$&'()*+,;=._~-]*")


def split_path(event_path: str) -> tuple[str, bytes]:
    """ASGI ``path`` (percent-decoded) and ``raw_path`` (as on the wire) from an event path.

    Sources differ in whether they hand over the path decoded; either way the ASGI
    spec wants ``path`` decoded and ``raw_path`` percent-encoded bytes.
    """
    if event_path == "":
        return "/", b"/"
    if _PLAIN_PATH.fullmatch(event_path):
        return event_path, event_path.encode()  # the common case: nothing to decode or encode
    if "%" in event_path:
        # Kept as sent, except what may not stand in a path: "?" (it would start a query),
        # controls, spaces and non-ASCII (RFC 3986 section 3.3) are percent-encoded.
        return unquote(event_path), quote(event_path, safe=_PATH_SAFE + "%").encode()
    # Already decoded (HTTP API hands over decoded paths): encode what must be encoded.
    return event_path, quote(event_path, safe=_PATH_SAFE).encode()


def mount(path: str, *prefixes: str) -> str:
    """The ``root_path`` for a request whose path starts with the given mount prefixes.

    Prefixes apply in order, each one only when the remaining path starts with it on a
    segment boundary. ``path`` itself is left whole: frameworks strip ``root_path`` from
    it when routing, and ``request.url`` then keeps the prefix (Mangum issue 318).
    """
    root = ""
    for prefix in prefixes:
        if not prefix or prefix == "/":
            continue
        candidate = root + (prefix if prefix.startswith("/") else "/" + prefix).rstrip("/")
        if path == candidate or path.startswith(candidate + "/"):
            root = candidate
    return root


def stage_prefix(request_context: Mapping[str, Any]) -> str:
    """The mount prefix an HTTP API stage puts before the path: ``"/prod"``, or ``""``.

    With a named stage the path starts with it ("/prod/items"); the ``$default`` stage
    (also what an absent or empty stage means) adds nothing.
    """
    stage = request_context.get("stage") or "$default"
    return "" if stage == "$default" else "/" + stage


def server_address(
    host: str | None, forwarded_port: str | None, scheme: str
) -> tuple[str, int | None] | None:
    """ASGI ``server`` from the Host header and X-Forwarded-Port.

    Without a Host header there is no honest answer, so ``None`` (the ASGI default)
    rather than a made-up name. A port in Host wins; then X-Forwarded-Port; then the
    scheme's default. An unparseable port is treated as absent: it is client input.
    """
    if not host:
        return None
    name, port_text = host, forwarded_port
    if host.startswith("["):  # an IPv6 literal, RFC 3986 section 3.2.2
        end = host.find("]")
        name = host[1:end] if end > 0 else host
        if end > 0 and host[end + 1 : end + 2] == ":":
            port_text = host[end + 2 :]
    elif ":" in host:
        name, _, port_text = host.rpartition(":")
    if port_text and port_text.isdigit() and len(port_text) <= 5:
        return name, int(port_text)
    return name, (443 if scheme == "https" else 80)


def first_forwarded_for(value: str | None) -> str | None:
    """The client address: the left-most entry of X-Forwarded-For.

    Each proxy appends the address it received the request from, so the first entry is
    the original client (as that client claimed it, when it sent its own header).
    """
    if not value:
        return None
    return value.split(",", 1)[0].strip() or None


def decode_body(body: str | None, is_base64: bool, source: str, field: str) -> bytes:
    """The raw request body from an event's body string."""
    if not body:
        return b""
    if is_base64:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedEventError(
                source,
                field,
                "valid base64 (the event says it is base64-encoded)",
                f"{len(body)} characters that do not decode",
            ) from None
    return body.encode()
