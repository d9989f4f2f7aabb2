"""Every source's ``to_request``: the ASGI scope and body built from real payloads."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest

from tests.conftest import SOURCE_DIRS, all_http_fixtures, load_event
from traced_asgi_lambda.events import BUILTIN_TRANSLATORS, Request, TranslatorConfig, select
from traced_asgi_lambda.local import LocalContext

CONFIG = TranslatorConfig()

# What each shared case asks for, whichever source carries it (tests/events/README.md).
CASES: dict[str, dict[str, Any]] = {
    "get_basic": {"method": "GET", "path": "/items/42", "body": b""},
    "viewer_request": {"method": "GET", "path": "/items/42", "body": b""},
    "origin_request": {"method": "GET", "path": "/items/42", "body": b""},
    "post_json": {"method": "POST", "path": "/items", "body": b'{"name": "widget", "price": 9.5}'},
    "post_form": {
        "method": "POST",
        "path": "/form",
        "body": b"name=J%C3%BCrgen+M&city=K%C3%B6ln",
    },
    "put_binary": {"method": "PUT", "path": "/upload", "body": bytes(range(256))},
    "unicode_path": {"method": "GET", "path": "/unicode/caf\u00e9", "body": b""},
    "encoded_query": {"method": "GET", "path": "/query", "body": b""},
    "cookies": {"method": "GET", "path": "/cookies", "body": b""},
    "empty_body_post": {"method": "POST", "path": "/items", "body": b""},
    "multi_value_headers": {"method": "GET", "path": "/headers", "body": b""},
    "base_path": {"method": "GET", "path": "/api/items/42", "body": b""},
    "named_stage": {"method": "GET", "path": "/prod/items/42", "body": b""},
}

HOSTS = {
    "api_gateway_rest": "k3x9q2w7ab.execute-api.us-east-1.amazonaws.com",
    "http_api_v1": "r8t4yz1m2n.execute-api.us-east-1.amazonaws.com",
    "http_api_v2": "r8t4yz1m2n.execute-api.us-east-1.amazonaws.com",
    "function_url": "a6z3vq4w5kfm2xg7pkr3o2bnrm0ydhxe.lambda-url.us-east-1.on.aws",
    "alb": "asgi-app-alb-1873452610.us-east-1.elb.amazonaws.com",
    "alb_multi_value": "asgi-app-alb-1873452610.us-east-1.elb.amazonaws.com",
    "lambda_edge": "d3k8r2m5x7q9wz.cloudfront.net",
    "vpc_lattice_v1": "items-svc-07c3e9a1b5d2f4086.7d67968.vpc-lattice-svcs.us-east-1.on.aws",
    "vpc_lattice_v2": "items-svc-07c3e9a1b5d2f4086.7d67968.vpc-lattice-svcs.us-east-1.on.aws",
}


def translate(name: str, config: TranslatorConfig = CONFIG) -> Request:
    event = load_event(name)
    return select(event, BUILTIN_TRANSLATORS).to_request(event, LocalContext(), config)


@pytest.mark.parametrize("name", all_http_fixtures())
def test_scope_is_complete_and_well_typed(name: str) -> None:
    """Every fixture becomes an ASGI 3 HTTP scope with the request's method, path and body."""
    directory, case = name.split("/")
    request = translate(name)
    scope = request.scope
    expected = CASES[case]
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.3"}
    assert scope["method"] == expected["method"]
    assert scope["path"] == expected["path"]
    assert request.body == expected["body"]
    assert scope["scheme"] == "https"
    assert scope["http_version"] == "1.1"
    assert isinstance(scope["query_string"], bytes)
    assert all(k == k.lower() and isinstance(v, bytes) for k, v in scope["headers"])
    assert scope["aws.event"] is not None
    assert scope["aws.context"] is not None
    host = "shop.example.com" if case == "base_path" else HOSTS[directory]
    assert scope["server"] == (host, 443)
    assert scope["client"] is not None
    assert scope["client"][0] in {"203.0.113.42", "10.0.12.34"}
    assert SOURCE_DIRS[directory] == select(load_event(name), BUILTIN_TRANSLATORS).name


@pytest.mark.parametrize(
    ("name", "query_string"),
    [
        # Sources that hand over the query as sent keep it byte for byte.
        pytest.param("http_api_v2/encoded_query", b"a=1&a=2&b=hello%20world&c=%26%3D", id="v2"),
        pytest.param("function_url/encoded_query", b"a=1&a=2&b=hello%20world&c=%26%3D", id="url"),
        pytest.param(
            "alb_multi_value/encoded_query", b"a=1&a=2&b=hello%20world&c=%26%3D", id="alb-multi"
        ),
        # ALB's single-value map keeps the last value, still encoded: never encoded twice.
        pytest.param("alb/encoded_query", b"a=2&b=hello%20world&c=%26%3D", id="alb"),
        pytest.param("lambda_edge/encoded_query", b"a=1&a=2&b=hello%20world&c=%26%3D", id="edge"),
        # Sources that hand over decoded values get them encoded once.
        pytest.param(
            "api_gateway_rest/encoded_query", b"a=1&a=2&b=hello+world&c=%26%3D", id="rest"
        ),
        pytest.param("http_api_v1/encoded_query", b"a=1&a=2&b=hello+world&c=%26%3D", id="http-v1"),
        pytest.param(
            "vpc_lattice_v2/encoded_query", b"a=1&a=2&b=hello+world&c=%26%3D", id="lattice-v2"
        ),
        pytest.param("vpc_lattice_v1/encoded_query", b"a=1%2C2&b=hello+world&c=%26%3D", id="v1"),
        pytest.param("api_gateway_rest/get_basic", b"q=hello", id="rest-basic"),
        pytest.param("http_api_v2/cookies", b"", id="v2-none"),
        pytest.param("alb/cookies", b"", id="alb-none"),
    ],
)
def test_query_string_bytes(name: str, query_string: bytes) -> None:
    """The query string reaches the app encoded exactly once, whatever the source did."""
    assert translate(name).scope["query_string"] == query_string


@pytest.mark.parametrize("name", [n for n in all_http_fixtures() if n.endswith("encoded_query")])
def test_query_decodes_to_the_same_pairs(name: str) -> None:
    """Decoded, every source's query means the same parameters (where the source keeps them)."""
    pairs = parse_qsl(translate(name).scope["query_string"].decode(), keep_blank_values=True)
    if name.startswith("alb/"):
        assert pairs == [("a", "2"), ("b", "hello world"), ("c", "&=")]
    elif name.startswith("vpc_lattice_v1/"):
        assert pairs == [("a", "1,2"), ("b", "hello world"), ("c", "&=")]
    else:
        assert pairs == [("a", "1"), ("a", "2"), ("b", "hello world"), ("c", "&=")]


@pytest.mark.parametrize("name", [n for n in all_http_fixtures() if n.endswith("/cookies")])
def test_cookies_arrive_as_one_cookie_header(name: str) -> None:
    """Cookies reach the app as one Cookie header joined with '; ' (RFC 6265 section 5.4)."""
    headers = translate(name).scope["headers"]
    assert [v for k, v in headers if k == b"cookie"] == [b"session=abc123; theme=dark"]


@pytest.mark.parametrize(
    "name", [n for n in all_http_fixtures() if n.endswith("multi_value_headers")]
)
def test_repeated_headers_are_folded(name: str) -> None:
    """Repeated request headers become one comma-joined header, in order (RFC 9110 5.3)."""
    headers = dict(translate(name).scope["headers"])
    assert headers[b"x-multi"] == b"a, b"
    assert headers[b"accept-language"] == b"en-US, de-DE;q=0.8"


@pytest.mark.parametrize("name", [n for n in all_http_fixtures() if n.endswith("unicode_path")])
def test_unicode_path_is_decoded_and_raw_path_encoded(name: str) -> None:
    """``path`` is decoded text and ``raw_path`` the percent-encoded bytes, for every source."""
    scope = translate(name).scope
    assert scope["path"] == "/unicode/caf\u00e9"
    assert scope["raw_path"] == b"/unicode/caf%C3%A9"


@pytest.mark.parametrize(
    ("name", "base_path", "root_path"),
    [
        pytest.param("api_gateway_rest/base_path", "/api", "/api", id="rest-base"),
        pytest.param("api_gateway_rest/base_path", "api", "/api", id="rest-base-no-slash"),
        pytest.param("api_gateway_rest/base_path", "/api/", "/api", id="rest-base-slash"),
        pytest.param("api_gateway_rest/base_path", "/", "", id="rest-root"),
        pytest.param("api_gateway_rest/base_path", "/ap", "", id="rest-partial-segment"),
        pytest.param("api_gateway_rest/get_basic", "/api", "", id="rest-not-mounted"),
        pytest.param("http_api_v1/base_path", "/api", "/api", id="http-v1-base"),
        pytest.param("http_api_v2/base_path", "/api", "/api", id="http-v2-base"),
        pytest.param("http_api_v2/named_stage", "/", "/prod", id="http-v2-stage"),
        pytest.param("http_api_v2/named_stage", "/items", "/prod/items", id="stage-then-base"),
        pytest.param("function_url/get_basic", "/items", "", id="url-never-mounted"),
    ],
)
def test_base_path_and_stage_become_root_path(name: str, base_path: str, root_path: str) -> None:
    """A base path or named stage becomes ``root_path``; ``path`` keeps it (Mangum issue 318)."""
    scope = translate(name, TranslatorConfig(api_gateway_base_path=base_path)).scope
    assert scope["root_path"] == root_path
    assert scope["path"].startswith(root_path)


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        pytest.param(
            "http_api_v1/get_basic",
            {"path": "/prod/items/42", "requestContext": {"stage": "prod"}},
            "/prod",
            id="http-v1-named-stage",
        ),
        pytest.param(
            "http_api_v1/get_basic",
            {"requestContext": {"stage": None}},
            "",
            id="http-v1-no-stage",
        ),
    ],
)
def test_http_api_v1_stage(name: str, change: dict[str, Any], expected: str) -> None:
    """HTTP API payload 1.0 puts a named stage in the path, which becomes ``root_path``."""
    event = load_event(name)
    event["requestContext"].update(change.pop("requestContext"))
    event.update(change)
    request = select(event, BUILTIN_TRANSLATORS).to_request(event, LocalContext(), CONFIG)
    assert request.scope["root_path"] == expected


def _edit(name: str, **changes: Any) -> dict[str, Any]:
    event = load_event(name)
    event.update(changes)
    return event


@pytest.mark.parametrize(
    ("event", "key", "expected"),
    [
        pytest.param(
            _edit("http_api_v2/get_basic", headers={"x-forwarded-proto": "http"}),
            "scheme",
            "http",
            id="forwarded-proto",
        ),
        pytest.param(
            _edit("http_api_v2/get_basic", headers={}),
            "server",
            ("r8t4yz1m2n.execute-api.us-east-1.amazonaws.com", 443),
            id="v2-host-from-domain-name",
        ),
        pytest.param(
            _edit("alb/get_basic", headers={}), "server", None, id="no-host-no-made-up-name"
        ),
        pytest.param(_edit("alb/get_basic", headers={}), "client", None, id="no-forwarded-for"),
        pytest.param(
            _edit("alb/get_basic", headers={"x-forwarded-for": "198.51.100.7, 10.0.0.1"}),
            "client",
            ("198.51.100.7", 0),
            id="alb-first-hop",
        ),
        pytest.param(
            _edit("api_gateway_rest/get_basic", multiValueHeaders=None),
            "server",
            ("k3x9q2w7ab.execute-api.us-east-1.amazonaws.com", 443),
            id="rest-single-value-headers",
        ),
        pytest.param(_edit("api_gateway_rest/get_basic", path=""), "path", "/", id="empty-path"),
        pytest.param(
            _edit("api_gateway_rest/get_basic", httpMethod="post"), "method", "POST", id="upper"
        ),
        pytest.param(
            _edit("alb/get_basic", queryStringParameters=None), "query_string", b"", id="alb-no-q"
        ),
        pytest.param(
            _edit("vpc_lattice_v1/get_basic", raw_path="/items/42?x=%20y"),
            "query_string",
            b"x=%20y",
            id="lattice-v1-query-in-raw-path",
        ),
        pytest.param(
            _edit("vpc_lattice_v2/get_basic", queryStringParameters=None),
            "query_string",
            b"",
            id="lattice-v2-no-query",
        ),
    ],
)
def test_scope_details(event: dict[str, Any], key: str, expected: object) -> None:
    """Scheme, server, client, path and method follow the headers and the payload."""
    request = select(event, BUILTIN_TRANSLATORS).to_request(event, LocalContext(), CONFIG)
    assert request.scope[key] == expected  # type: ignore[literal-required]


def test_edge_scheme_and_text_body() -> None:
    """Lambda@Edge reads CloudFront-Forwarded-Proto and a text-encoded body."""
    event = load_event("lambda_edge/post_json")
    cf_request = event["Records"][0]["cf"]["request"]
    cf_request["headers"]["cloudfront-forwarded-proto"] = [
        {"key": "CloudFront-Forwarded-Proto", "value": "http"}
    ]
    cf_request["body"] = {"action": "read-only", "encoding": "text", "data": "plain"}
    request = select(event, BUILTIN_TRANSLATORS).to_request(event, LocalContext(), CONFIG)
    assert request.scope["scheme"] == "http"
    assert request.scope["server"] == ("d3k8r2m5x7q9wz.cloudfront.net", 80)
    assert request.body == b"plain"
    del cf_request["headers"]["host"]
    del cf_request["body"]
    request = select(event, BUILTIN_TRANSLATORS).to_request(event, LocalContext(), CONFIG)
    assert request.scope["server"] is None
    assert request.body == b""


def test_scope_carries_the_event_and_context() -> None:
    """``aws.event`` and ``aws.context`` are the very objects the handler received."""
    event = load_event("alb/get_basic")
    context = LocalContext()
    scope = select(event, BUILTIN_TRANSLATORS).to_request(event, context, CONFIG).scope
    assert scope["aws.event"] is event
    assert scope["aws.context"] is context
