"""Differential test: the same AWS events through Mangum 0.22.0 and through LambdaAdapter.

Every fixture of every HTTP source Mangum supports (all of tests/events/ except
vpc_lattice_* and unsupported/) goes through ``mangum.Mangum(app, lifespan="off")`` and
``LambdaAdapter(app, lifespan="off")`` with the same raw ASGI app. The app echoes the scope
it received (minus aws.event and aws.context) and the request body as JSON, and answers
with two Set-Cookie headers and a repeated header. The scopes are compared key by key, and
so are the Lambda responses. They must be equal except where a named ``Difference`` in
DIFFERENCES explains a key: there the test asserts what Mangum gives AND what we give, so
it fails when either side changes. Variants of the fixtures (an adapter option, a header
removed, another answer from the app) bring out differences the plain fixtures hide.

docs/events.md, "Differences from Mangum", lists the same names and the reasons.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import gzip
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

import mangum
import pytest
from mangum.types import LambdaCognitoIdentity, LambdaMobileClientContext

from traced_asgi_lambda import LambdaAdapter
from traced_asgi_lambda.local import LocalContext

Message = MutableMapping[str, Any]
Values = dict[str, object]
"""Expected values by key (a scope key or a top-level response key); ABSENT if missing."""

EVENTS: Final = Path(__file__).parent / "events"

# Every fixture folder whose source Mangum also handles.
SOURCES: Final = (
    "api_gateway_rest",
    "http_api_v1",
    "http_api_v2",
    "function_url",
    "alb",
    "alb_multi_value",
    "lambda_edge",
)
API_GATEWAY_V1: Final = ("api_gateway_rest", "http_api_v1")
PAYLOAD_V2: Final = ("http_api_v2", "function_url")
ALB: Final = ("alb", "alb_multi_value")
EDGE: Final = "lambda_edge"

# The Host header of each source's fixtures (base_path.json aside), from tests/events/README.md.
HOSTS: Final = {
    "api_gateway_rest": "k3x9q2w7ab.execute-api.us-east-1.amazonaws.com",
    "http_api_v1": "r8t4yz1m2n.execute-api.us-east-1.amazonaws.com",
    "http_api_v2": "r8t4yz1m2n.execute-api.us-east-1.amazonaws.com",
    "function_url": "a6z3vq4w5kfm2xg7pkr3o2bnrm0ydhxe.lambda-url.us-east-1.on.aws",
    "alb": "asgi-app-alb-1873452610.us-east-1.elb.amazonaws.com",
    "alb_multi_value": "asgi-app-alb-1873452610.us-east-1.elb.amazonaws.com",
    "lambda_edge": "d3k8r2m5x7q9wz.cloudfront.net",
}

# The path each fixture requests, percent-encoded as on the wire (tests/events/README.md).
WIRE_PATHS: Final = {
    "base_path": "/api/items/42",
    "cookies": "/cookies",
    "empty_body_post": "/items",
    "encoded_query": "/query",
    "get_basic": "/items/42",
    "multi_value_headers": "/headers",
    "named_stage": "/prod/items/42",
    "origin_request": "/items/42",
    "post_form": "/form",
    "post_json": "/items",
    "put_binary": "/upload",
    "unicode_path": "/unicode/caf%C3%A9",
    "viewer_request": "/items/42",
}


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Final = _Absent()
"""Stands for a key that is not there at all."""


# --- what the app answers -------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """The app's response. ``body=None`` means the JSON echo of the scope and request body."""

    name: str
    status: int = 200
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes | None = None
    # Whether (Mangum, we) send the body base64-encoded, outside HTTP API 2.0 quirks.
    base64: tuple[bool, bool] = (False, False)


ECHO: Final = Reply(
    "echo",
    headers=(
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        (b"x-repeat", b"one"),
        (b"set-cookie", b"session=abc123; Path=/; HttpOnly"),
        (b"x-repeat", b"two"),
        (b"set-cookie", b"theme=dark; Path=/"),
    ),
)
NO_CONTENT_TYPE: Final = Reply("no_content_type", body=b'{"ok": true}', base64=(True, True))
EMPTY_204: Final = Reply("empty_204", status=204, body=b"")
PROBLEM_JSON: Final = Reply(
    "problem_json",
    status=404,
    headers=((b"content-type", b"application/problem+json"),),
    body=b'{"title": "Not Found", "status": 404}',
    base64=(True, False),
)
SVG: Final = Reply(
    "svg",
    headers=((b"content-type", b"image/svg+xml"),),
    body=b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    base64=(True, False),
)
GZIP: Final = Reply(
    "gzip",
    headers=((b"content-type", b"text/plain; charset=utf-8"), (b"content-encoding", b"gzip")),
    body=gzip.compress(b"hello, gzip", mtime=0),
    base64=(True, True),
)
BINARY: Final = Reply(
    "binary",
    headers=((b"content-type", b"application/octet-stream"), (b"content-length", b"256")),
    body=bytes(range(256)),
    base64=(True, True),
)
EXCLUDED: Final = Reply(
    "exclude_headers",
    headers=(
        (b"content-type", b"text/plain"),
        (b"x-drop", b"1"),
        (b"set-cookie", b"a=1"),
        (b"x-keep", b"yes"),
        (b"x-drop", b"2"),
        (b"set-cookie", b"b=2"),
    ),
    body=b"ok",
)
NON_UTF8_HEADER: Final = Reply(
    "non_utf8_header",
    headers=((b"content-type", b"text/plain"), (b"x-name", "café".encode("latin-1"))),
    body=b"ok",
)
RESPONSE_REPLIES: Final = (NO_CONTENT_TYPE, EMPTY_204, PROBLEM_JSON, SVG, GZIP, BINARY, EXCLUDED)


def tagged(value: object) -> object:
    """A JSON-able copy of a scope value that keeps bytes apart from str and None."""
    if isinstance(value, bytes):
        return {"$bytes": value.decode("latin-1")}
    if isinstance(value, list | tuple):
        return [tagged(item) for item in value]
    if isinstance(value, dict):
        return {key: tagged(item) for key, item in value.items()}
    return value


def b(text: str) -> dict[str, str]:
    """How ``tagged`` writes the bytes ``text.encode()``."""
    return {"$bytes": text.encode().decode("latin-1")}


class ReplyApp:
    """A raw ASGI app: reads the request, then sends the reply (by default, the echo)."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply

    async def __call__(
        self,
        scope: Message,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        assert scope["type"] == "http"
        request = await receive()
        body = self.reply.body
        if body is None:
            seen = {k: v for k, v in scope.items() if k not in ("aws.event", "aws.context")}
            echoed = {"scope": tagged(seen), "body": base64.b64encode(request["body"]).decode()}
            body = json.dumps(echoed).encode()
        headers = [list(pair) for pair in self.reply.headers]
        await send({"type": "http.response.start", "status": self.reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# --- the cases ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One event, the adapter options and the app's reply, run through both adapters."""

    source: str
    fixture: str
    event: dict[str, Any] = field(repr=False)
    wire_path: str
    variant: str = ""
    reply: Reply = ECHO
    base_path: str = "/"
    exclude: tuple[str, ...] = ()
    root: str = ""  # the root_path we are expected to set
    bug: str = ""  # a suspected bug in our adapter makes this row fail; it is xfail(strict)

    @property
    def id(self) -> str:
        return f"{self.source}/{self.fixture}" + (f"+{self.variant}" if self.variant else "")

    def param(self) -> Any:
        marks = [pytest.mark.xfail(strict=True, reason=self.bug)] if self.bug else []
        return pytest.param(self, id=self.id, marks=marks)


def load(source: str, fixture: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / source / f"{fixture}.json").read_text())
    return event


def fixture_case(source: str, fixture: str) -> Case:
    root = "/prod" if fixture == "named_stage" else ""
    return Case(source, fixture, load(source, fixture), WIRE_PATHS[fixture], root=root)


FIXTURE_CASES: Final = tuple(
    fixture_case(source, path.stem)
    for source in SOURCES
    for path in sorted((EVENTS / source).glob("*.json"))
)

Edit = Callable[[dict[str, Any]], None]


def variant(source: str, fixture: str, name: str, edit: Edit | None = None, **changes: Any) -> Case:
    """A fixture changed by ``edit`` and run with the given Case fields changed."""
    case = fixture_case(source, fixture)
    event = copy.deepcopy(case.event)
    if edit is not None:
        edit(event)
    return replace(case, event=event, variant=name, **changes)


def header_maps(event: dict[str, Any]) -> list[dict[str, Any]]:
    if "Records" in event:
        return [event["Records"][0]["cf"]["request"]["headers"]]
    return [m for m in (event.get("headers"), event.get("multiValueHeaders")) if m]


def drop_header(name: str) -> Edit:
    def edit(event: dict[str, Any]) -> None:
        for headers in header_maps(event):
            for key in [k for k in headers if k.lower() == name]:
                del headers[key]

    return edit


def forwarded_for(value: str) -> Edit:
    def edit(event: dict[str, Any]) -> None:
        if "multiValueHeaders" in event:
            event["multiValueHeaders"]["x-forwarded-for"] = [value]
        else:
            event["headers"]["x-forwarded-for"] = value

    return edit


def split_cookie(event: dict[str, Any]) -> None:
    """Two Cookie header lines, as HTTP/2 clients may send (RFC 9113 section 8.2.3)."""
    crumbs = ["session=abc123", "theme=dark"]
    if "Records" in event:
        headers = event["Records"][0]["cf"]["request"]["headers"]
        headers["cookie"] = [{"key": "Cookie", "value": crumb} for crumb in crumbs]
        return
    for key in [k for k in event["multiValueHeaders"] if k.lower() == "cookie"]:
        event["multiValueHeaders"][key] = crumbs
    for key in [k for k in event.get("headers") or {} if k.lower() == "cookie"]:
        event["headers"][key] = crumbs[-1]


def http2(event: dict[str, Any]) -> None:
    context = event["requestContext"]
    context.get("http", context)["protocol"] = "HTTP/2.0"


def no_source_ip(event: dict[str, Any]) -> None:
    del event["requestContext"]["identity"]["sourceIp"]


def named_stage_v1(event: dict[str, Any]) -> None:
    event["path"] = event["requestContext"]["path"] = "/prod/items/42"
    event["requestContext"]["stage"] = "prod"


def apiary(event: dict[str, Any]) -> None:
    event["path"] = "/apiary/items/42"


def decoded_space(event: dict[str, Any]) -> None:
    # GET /files/my%20report.pdf; HTTP API hands the path over decoded (README, doubt 1).
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/files/my report.pdf"


REQUEST_VARIANTS: Final = (
    *(
        variant(s, "base_path", "api_gateway_base_path", base_path="/api", root="/api")
        for s in (*API_GATEWAY_V1, "http_api_v2")
    ),
    variant("http_api_v2", "named_stage", "api_gateway_base_path", base_path="/prod"),
    variant(
        "api_gateway_rest",
        "base_path",
        "prefix_inside_segment",
        apiary,
        base_path="/api",
        wire_path="/apiary/items/42",
    ),
    variant(
        "http_api_v1",
        "get_basic",
        "named_stage",
        named_stage_v1,
        wire_path="/prod/items/42",
        root="/prod",
    ),
    *(variant(s, "get_basic", "no_host", drop_header("host")) for s in SOURCES),
    *(
        variant(s, "get_basic", "no_forwarded_port", drop_header("x-forwarded-port"))
        for s in ("api_gateway_rest", "alb")
    ),
    *(variant(s, "get_basic", "http2", http2) for s in (*API_GATEWAY_V1, *PAYLOAD_V2)),
    *(
        variant(s, "get_basic", "proxy_chain", forwarded_for("198.51.100.7, 203.0.113.42"))
        for s in ALB
    ),
    *(variant(s, "get_basic", "no_forwarded_for", drop_header("x-forwarded-for")) for s in ALB),
    variant("api_gateway_rest", "get_basic", "no_source_ip", no_source_ip),
    *(
        variant(s, "cookies", "split_cookie", split_cookie)
        for s in (*API_GATEWAY_V1, "alb_multi_value", EDGE)
    ),
    variant(
        "http_api_v2",
        "get_basic",
        "space_in_decoded_path",
        decoded_space,
        wire_path="/files/my%20report.pdf",
    ),
)

RESPONSE_VARIANTS: Final = tuple(
    variant(
        s,
        "get_basic",
        reply.name,
        reply=reply,
        exclude=("X-Drop", "Set-Cookie") if reply is EXCLUDED else (),
    )
    for s in SOURCES
    for reply in RESPONSE_REPLIES
)

SCOPE_CASES: Final = (*FIXTURE_CASES, *REQUEST_VARIANTS)
RESPONSE_CASES: Final = (*FIXTURE_CASES, *RESPONSE_VARIANTS)


# --- running both adapters ------------------------------------------------------------


class MangumContext(LocalContext):
    """LocalContext plus the two attributes Mangum's context type names (None in practice)."""

    identity: LambdaCognitoIdentity | None = None
    client_context: LambdaMobileClientContext | None = None


def run_mangum(case: Case) -> dict[str, Any]:
    # Mangum 0.22 runs on the thread's current event loop; this one is closed afterwards.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        handler = mangum.Mangum(
            ReplyApp(case.reply),
            lifespan="off",
            api_gateway_base_path=case.base_path,
            exclude_headers=list(case.exclude),
        )
        return handler(copy.deepcopy(case.event), MangumContext())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def run_ours(case: Case) -> dict[str, Any]:
    with LambdaAdapter(
        ReplyApp(case.reply),
        lifespan="off",
        api_gateway_base_path=case.base_path,
        exclude_headers=case.exclude,
    ) as adapter:
        return adapter(copy.deepcopy(case.event), LocalContext())


def body_bytes(response: dict[str, Any]) -> bytes:
    body: str = response["body"]
    encoded = response.get("isBase64Encoded") is True or response.get("bodyEncoding") == "base64"
    return base64.b64decode(body) if encoded else body.encode()


def echoed(response: dict[str, Any]) -> dict[str, Any]:
    """The scope and request body the app echoed in its response."""
    echo: dict[str, Any] = json.loads(body_bytes(response))
    return echo


def response_view(case: Case, response: dict[str, Any]) -> dict[str, Any]:
    """The response to compare. An echo's body differs wherever the scopes differ, which
    the scope test covers, so it is replaced by the request body it echoes."""
    if case.reply.body is not None:
        return response
    return {**response, "body": {"echoed request body": echoed(response)["body"]}}


def observe(aspect: str, case: Case) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Mangum's, ours) scope or response for the case."""
    theirs, ours = run_mangum(case), run_ours(case)
    if aspect == "scope":
        return echoed(theirs)["scope"], echoed(ours)["scope"]
    return response_view(case, theirs), response_view(case, ours)


# --- the named differences ------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A known, intentional difference: where it shows, what Mangum gives, what we give."""

    name: str
    aspect: str  # "scope" or "response"
    applies: Callable[[Case], bool]
    mangum: Callable[[Case], Values]
    ours: Callable[[Case], Values]


def everywhere(case: Case) -> bool:
    return True


def event_headers(case: Case) -> list[tuple[str, list[str]]]:
    """The request headers as the event lists them: lower-case name, every value."""
    if case.source == EDGE:
        cf_headers = case.event["Records"][0]["cf"]["request"]["headers"]
        return [(k.lower(), [e["value"] for e in v]) for k, v in cf_headers.items()]
    return [(k.lower(), list(v)) for k, v in case.event["multiValueHeaders"].items()]


def has_repeats(case: Case, name: str | None = None) -> bool:
    return any(len(vs) > 1 and name in (None, n) for n, vs in event_headers(case))


def asgi_headers(pairs: Iterable[tuple[str, str]]) -> list[object]:
    return [[b(name), b(value)] for name, value in pairs]


def folded_headers(case: Case) -> list[object]:
    """Ours: one header per name; Cookie joined with "; " (RFC 6265), others with ", "."""
    return asgi_headers(
        (n, ("; " if n == "cookie" else ", ").join(vs)) for n, vs in event_headers(case)
    )


def sent_base64(case: Case) -> tuple[bool, bool]:
    return case.reply.base64


def kept_headers(case: Case) -> list[tuple[str, str]]:
    excluded = {name.lower() for name in case.exclude}
    return [(n.decode(), v.decode()) for n, v in case.reply.headers if n.decode() not in excluded]


def edge_headers_mangum(case: Case) -> object:
    """Mangum: lower-case keys, and only the last value of each name survives."""
    out: dict[str, object] = {}
    for name, value in kept_headers(case):
        out[name] = [{"key": name, "value": value}]
    return out


def edge_headers_ours(case: Case) -> object:
    """Ours: every value, keys in canonical case, CloudFront-disallowed names removed."""
    out: dict[str, list[dict[str, str]]] = {}
    for name, value in kept_headers(case):
        if name == "content-length":  # read-only / disallowed in a generated response
            continue
        canonical = "-".join(part.capitalize() for part in name.split("-"))
        out.setdefault(name, []).append({"key": canonical, "value": value})
    return out


def alb_query(case: Case, *, raw: bool) -> Values:
    first = "a=1&" if case.source == "alb_multi_value" else ""
    value = "hello%20world" if raw else "hello+world"
    return {"query_string": b(f"{first}a=2&b={value}&c=%26%3D")}


def stripped(case: Case) -> str:
    """Mangum's path with api_gateway_base_path: the prefix cut off as text."""
    return unquote(case.wire_path)[len(case.base_path) :]


def v2_body(case: Case, *, as_base64: bool) -> Values:
    body = case.reply.body or b""
    if not body:
        return {}
    text = base64.b64encode(body).decode() if as_base64 else body.decode()
    return {"body": text, "isBase64Encoded": as_base64}


def suffix_body(case: Case, *, as_base64: bool) -> Values:
    body = case.reply.body or b""
    values: Values = {"body": base64.b64encode(body).decode() if as_base64 else body.decode()}
    if case.source != EDGE:  # Lambda@Edge's flag is edge-body-encoding's
        values["isBase64Encoded"] = as_base64
    return values


def excluded_http_api(case: Case, *, applied: bool) -> Values:
    """The EXCLUDED reply's headers from an HTTP API, with exclude_headers applied or not."""
    if case.source == "http_api_v1":  # single values in "headers" are the same either way
        return {
            "multiValueHeaders": {}
            if applied
            else {"x-drop": ["1", "2"], "set-cookie": ["a=1", "b=2"]}
        }
    if applied:
        return {"headers": {"content-type": "text/plain", "x-keep": "yes"}, "cookies": ABSENT}
    return {
        "headers": {"content-type": "text/plain", "x-drop": "1,2", "x-keep": "yes"},
        "cookies": ["a=1", "b=2"],
    }


DIFFERENCES: Final = (
    # --- scope -------------------------------------------------------------------------
    Difference(
        "asgi-spec-version",
        "scope",
        everywhere,
        lambda c: {"asgi": {"version": "3.0", "spec_version": "2.0"}},
        lambda c: {"asgi": {"version": "3.0", "spec_version": "2.3"}},
    ),
    Difference(
        "raw-path",
        "scope",
        everywhere,
        lambda c: {"raw_path": None},
        lambda c: {"raw_path": b(c.wire_path)},
    ),
    Difference(
        "root-path-stage",
        "scope",
        lambda c: bool(c.root) and c.base_path == "/",
        lambda c: {"root_path": ""},
        lambda c: {"root_path": c.root},
    ),
    Difference(
        "root-path-base-path",
        "scope",
        lambda c: c.base_path != "/" and bool(c.root),
        lambda c: {"path": stripped(c), "root_path": ""},
        lambda c: {"path": unquote(c.wire_path), "root_path": c.root},
    ),
    Difference(
        "base-path-segment-boundary",
        "scope",
        lambda c: c.variant == "prefix_inside_segment",
        lambda c: {"path": stripped(c)},
        lambda c: {"path": unquote(c.wire_path)},
    ),
    Difference(
        "server-without-host",
        "scope",
        lambda c: c.variant == "no_host",
        lambda c: {"server": ["mangum", 80 if c.source == EDGE else 443]},
        lambda c: {"server": [HOSTS[c.source], 443] if c.source in PAYLOAD_V2 else None},
    ),
    Difference(
        "server-default-port",
        "scope",
        lambda c: (c.source == EDGE and c.variant != "no_host") or c.variant == "no_forwarded_port",
        lambda c: {"server": [HOSTS[c.source], 80]},
        lambda c: {"server": [HOSTS[c.source], 443]},
    ),
    Difference(
        "http-version",
        "scope",
        lambda c: c.variant == "http2",
        lambda c: {"http_version": "1.1"},
        lambda c: {"http_version": "2"},
    ),
    Difference(
        "alb-client-first-hop",
        "scope",
        lambda c: c.variant == "proxy_chain",
        lambda c: {"client": ["198.51.100.7, 203.0.113.42", 0]},
        lambda c: {"client": ["198.51.100.7", 0]},
    ),
    Difference(
        "client-unknown",
        "scope",
        lambda c: c.variant in ("no_forwarded_for", "no_source_ip"),
        lambda c: {"client": [None if c.variant == "no_source_ip" else "", 0]},
        lambda c: {"client": None},
    ),
    Difference(
        "alb-query-string-raw",
        "scope",
        lambda c: c.source in ALB and c.fixture == "encoded_query",
        lambda c: alb_query(c, raw=False),
        lambda c: alb_query(c, raw=True),
    ),
    Difference(
        "edge-path-decoded",
        "scope",
        lambda c: c.source == EDGE and "%" in c.wire_path,
        lambda c: {"path": c.wire_path},
        lambda c: {"path": unquote(c.wire_path)},
    ),
    Difference(
        "alb-repeated-request-headers",
        "scope",
        lambda c: c.source == "alb_multi_value" and has_repeats(c),
        lambda c: {"headers": asgi_headers((n, v) for n, vs in event_headers(c) for v in vs)},
        lambda c: {"headers": folded_headers(c)},
    ),
    Difference(
        "edge-repeated-request-headers",
        "scope",
        lambda c: c.source == EDGE and has_repeats(c),
        lambda c: {"headers": asgi_headers((n, vs[0]) for n, vs in event_headers(c))},
        lambda c: {"headers": folded_headers(c)},
    ),
    Difference(
        "cookie-header-join",
        "scope",
        lambda c: c.source in API_GATEWAY_V1 and has_repeats(c, "cookie"),
        lambda c: {"headers": asgi_headers((n, ", ".join(vs)) for n, vs in event_headers(c))},
        lambda c: {"headers": folded_headers(c)},
    ),
    # --- response ----------------------------------------------------------------------
    Difference(
        "alb-status-description",
        "response",
        lambda c: c.source in ALB,
        lambda c: {"statusDescription": ABSENT},
        lambda c: {"statusDescription": f"{c.reply.status} {HTTPStatus(c.reply.status).phrase}"},
    ),
    Difference(
        "edge-status",
        "response",
        lambda c: c.source == EDGE,
        lambda c: {"status": c.reply.status, "statusDescription": ABSENT},
        lambda c: {
            "status": str(c.reply.status),
            "statusDescription": HTTPStatus(c.reply.status).phrase,
        },
    ),
    Difference(
        "edge-body-encoding",
        "response",
        lambda c: c.source == EDGE,
        lambda c: {"isBase64Encoded": sent_base64(c)[0], "bodyEncoding": ABSENT},
        lambda c: {
            "isBase64Encoded": ABSENT,
            "bodyEncoding": "base64" if sent_base64(c)[1] else "text",
        },
    ),
    Difference(
        "edge-response-headers",
        "response",
        lambda c: c.source == EDGE and bool(kept_headers(c)),
        lambda c: {"headers": edge_headers_mangum(c)},
        lambda c: {"headers": edge_headers_ours(c)},
    ),
    Difference(
        "v2-default-content-type",
        "response",
        lambda c: (
            c.source in PAYLOAD_V2 and not any(n == b"content-type" for n, _ in c.reply.headers)
        ),
        lambda c: {"headers": {"content-type": "application/json"}, **v2_body(c, as_base64=False)},
        lambda c: {"headers": {}, **v2_body(c, as_base64=True)},
    ),
    Difference(
        "text-structured-suffix",
        "response",
        lambda c: c.reply in (PROBLEM_JSON, SVG),
        lambda c: suffix_body(c, as_base64=True),
        lambda c: suffix_body(c, as_base64=False),
    ),
    Difference(
        "exclude-headers-http-api",
        "response",
        lambda c: c.source in ("http_api_v1", *PAYLOAD_V2) and c.reply is EXCLUDED,
        lambda c: excluded_http_api(c, applied=False),
        lambda c: excluded_http_api(c, applied=True),
    ),
    Difference(
        "exclude-headers-alb-casings",
        "response",
        lambda c: c.source == "alb" and c.reply is EXCLUDED,
        lambda c: {
            "headers": {
                "content-type": "text/plain",
                "x-keep": "yes",
                "X-drop": "2",
                "Set-cookie": "b=2",
            }
        },
        lambda c: {"headers": {"content-type": "text/plain", "x-keep": "yes"}},
    ),
)


def assert_same_except_named(
    case: Case, aspect: str, theirs: dict[str, Any], ours: dict[str, Any]
) -> None:
    """Equal key by key, except keys a named difference explains: those must match it."""
    explained: dict[str, str] = {}
    for difference in DIFFERENCES:
        if difference.aspect != aspect or not difference.applies(case):
            continue
        expected_theirs, expected_ours = difference.mangum(case), difference.ours(case)
        assert expected_theirs.keys() == expected_ours.keys(), difference.name
        for key, value in expected_theirs.items():
            assert key not in explained, f"{key!r}: both {explained.get(key)} and {difference.name}"
            explained[key] = difference.name
            assert value != expected_ours[key], f"{difference.name} expects no difference in {key}"
            assert theirs.get(key, ABSENT) == value, f"{difference.name}: Mangum's {key}"
            assert ours.get(key, ABSENT) == expected_ours[key], f"{difference.name}: our {key}"
    for key in sorted((theirs.keys() | ours.keys()) - explained.keys()):
        assert theirs.get(key, ABSENT) == ours.get(key, ABSENT), f"{key!r} differs, unexplained"


# --- the tests ------------------------------------------------------------------------


@pytest.mark.parametrize("case", [c.param() for c in SCOPE_CASES])
def test_scope_matches_mangum(case: Case) -> None:
    """The app gets the same scope and body from both adapters, but for named differences."""
    theirs, ours = run_mangum(case), run_ours(case)
    assert echoed(theirs)["body"] == echoed(ours)["body"]
    assert "state" not in echoed(ours)["scope"]  # lifespan="off": neither adds ASGI state
    assert_same_except_named(case, "scope", echoed(theirs)["scope"], echoed(ours)["scope"])


@pytest.mark.parametrize("case", [c.param() for c in RESPONSE_CASES])
def test_response_matches_mangum(case: Case) -> None:
    """Both adapters return the same Lambda response, but for named differences."""
    theirs, ours = observe("response", case)
    assert_same_except_named(case, "response", theirs, ours)


@pytest.mark.parametrize("difference", [pytest.param(d, id=d.name) for d in DIFFERENCES])
def test_named_difference_is_real(difference: Difference) -> None:
    """Each named difference shows in some case, where Mangum and we give what it states."""
    cases = SCOPE_CASES if difference.aspect == "scope" else RESPONSE_CASES
    case = next((c for c in cases if difference.applies(c)), None)
    assert case is not None, f"no case exercises {difference.name}"
    theirs, ours = observe(difference.aspect, case)
    for key, value in difference.mangum(case).items():
        assert theirs.get(key, ABSENT) == value
    for key, value in difference.ours(case).items():
        assert ours.get(key, ABSENT) == value


def response_header(response: dict[str, Any], name: str) -> list[str]:
    """Every value of a response header, whatever the source's response shape."""
    values: list[str] = []
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name:
            items = value if isinstance(value, list) else [value]
            values += [item["value"] if isinstance(item, dict) else item for item in items]
    for key, items in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name:
            values += items
    return values


@pytest.mark.parametrize("source", SOURCES)
def test_response_header_not_utf8(source: str) -> None:
    """A non-UTF-8 response header value crashes Mangum; we send it decoded as Latin-1."""
    case = variant(source, "get_basic", NON_UTF8_HEADER.name, reply=NON_UTF8_HEADER)
    with pytest.raises(UnicodeDecodeError):
        run_mangum(case)
    assert response_header(run_ours(case), "x-name") == ["café"]
