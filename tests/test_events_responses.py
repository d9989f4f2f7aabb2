"""Every source's ``to_response``: the shape each AWS front door accepts."""

from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Any

import pytest

from tests.conftest import load_event
from traced_asgi_lambda.events import (
    TranslatorConfig,
    alb,
    function_url,
    http_api_v1,
    http_api_v2,
    lambda_edge,
    rest_api,
    vpc_lattice_v1,
    vpc_lattice_v2,
)
from traced_asgi_lambda.types import Headers, Response

CONFIG = TranslatorConfig()

HEADERS: Headers = [
    (b"content-type", b"application/json"),
    (b"set-cookie", b"a=1; Path=/"),
    (b"set-cookie", b"b=2; Path=/"),
    (b"vary", b"accept"),
    (b"vary", b"origin"),
    (b"x-single", b"one"),
]
JSON_RESPONSE = Response(201, HEADERS, b'{"ok":true}')


def test_rest_and_http_v1_split_single_and_repeated_headers() -> None:
    """Payload 1.0: single values in ``headers``, repeated ones in ``multiValueHeaders``."""
    event = load_event("api_gateway_rest/get_basic")
    for module in (rest_api, http_api_v1):
        assert module.to_response(JSON_RESPONSE, event, CONFIG) == {
            "statusCode": 201,
            "headers": {"content-type": "application/json", "x-single": "one"},
            "multiValueHeaders": {
                "set-cookie": ["a=1; Path=/", "b=2; Path=/"],
                "vary": ["accept", "origin"],
            },
            "body": '{"ok":true}',
            "isBase64Encoded": False,
        }


def test_http_v2_and_function_url_use_cookies_list() -> None:
    """Payload 2.0: Set-Cookie travels in ``cookies``; other repeats are comma-folded."""
    event = load_event("http_api_v2/get_basic")
    for module in (http_api_v2, function_url):
        assert module.to_response(JSON_RESPONSE, event, CONFIG) == {
            "statusCode": 201,
            "headers": {
                "content-type": "application/json",
                "vary": "accept,origin",
                "x-single": "one",
            },
            "cookies": ["a=1; Path=/", "b=2; Path=/"],
            "body": '{"ok":true}',
            "isBase64Encoded": False,
        }
    no_cookies = Response(204, [], b"")
    assert http_api_v2.to_response(no_cookies, event, CONFIG) == {
        "statusCode": 204,
        "headers": {},
        "body": "",
        "isBase64Encoded": False,
    }


def test_alb_multi_value_mode_answers_in_kind() -> None:
    """An ALB with multi-value headers on gets every header as a list, plus a status line."""
    out = alb.to_response(JSON_RESPONSE, load_event("alb_multi_value/get_basic"), CONFIG)
    assert out == {
        "statusCode": 201,
        "statusDescription": "201 Created",
        "multiValueHeaders": {
            "content-type": ["application/json"],
            "set-cookie": ["a=1; Path=/", "b=2; Path=/"],
            "vary": ["accept", "origin"],
            "x-single": ["one"],
        },
        "body": '{"ok":true}',
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    "module",
    [
        pytest.param(alb, id="alb"),
        pytest.param(vpc_lattice_v1, id="lattice-v1"),
        pytest.param(vpc_lattice_v2, id="lattice-v2"),
    ],
)
def test_single_value_maps_keep_every_repeat_under_case_variants(module: Any) -> None:
    """Single-value header maps keep every Set-Cookie under names differing only in case."""
    event = load_event("alb/get_basic")
    out = module.to_response(JSON_RESPONSE, event, CONFIG)
    headers = out["headers"]
    assert out["statusDescription"] == "201 Created"
    cookies = sorted(v for k, v in headers.items() if k.lower() == "set-cookie")
    assert cookies == ["a=1; Path=/", "b=2; Path=/"]
    assert sorted(v for k, v in headers.items() if k.lower() == "vary") == ["accept", "origin"]
    assert len({k.lower() for k in headers}) == 4


def test_many_repeats_get_distinct_casings() -> None:
    """Even 20 cookies each get their own distinct header name."""
    headers: Headers = [(b"set-cookie", f"c{i}=1".encode()) for i in range(20)]
    out = alb.to_response(Response(200, headers, b""), load_event("alb/get_basic"), CONFIG)
    assert len(out["headers"]) == 20
    assert sorted(out["headers"].values()) == sorted(f"c{i}=1" for i in range(20))


def test_lambda_edge_uses_cloudfront_shape() -> None:
    """Lambda@Edge answers with a string status, {key, value} lists and bodyEncoding."""
    headers: Headers = [
        *HEADERS,
        (b"content-length", b"11"),
        (b"connection", b"keep-alive"),
        (b"x-amz-cf-id", b"abc"),
        (b"transfer-encoding", b"chunked"),
    ]
    out = lambda_edge.to_response(
        Response(201, headers, b'{"ok":true}'), load_event("lambda_edge/get_basic"), CONFIG
    )
    assert out == {
        "status": "201",
        "statusDescription": "Created",
        "headers": {
            "content-type": [{"key": "Content-Type", "value": "application/json"}],
            "set-cookie": [
                {"key": "Set-Cookie", "value": "a=1; Path=/"},
                {"key": "Set-Cookie", "value": "b=2; Path=/"},
            ],
            "vary": [{"key": "Vary", "value": "accept"}, {"key": "Vary", "value": "origin"}],
            "x-single": [{"key": "X-Single", "value": "one"}],
        },
        "body": '{"ok":true}',
        "bodyEncoding": "text",
    }


def test_lambda_edge_binary_body() -> None:
    """A binary body goes to CloudFront as base64 with bodyEncoding 'base64'."""
    response = Response(200, [(b"content-type", b"image/png")], b"\x89PNG")
    out = lambda_edge.to_response(response, load_event("lambda_edge/get_basic"), CONFIG)
    assert out["bodyEncoding"] == "base64"
    assert base64.b64decode(out["body"]) == b"\x89PNG"


@pytest.mark.parametrize(
    ("headers", "body", "is_base64"),
    [
        pytest.param(
            [(b"content-type", b"text/html; charset=utf-8")], b"<p>hi</p>", False, id="html"
        ),
        pytest.param([(b"content-type", b"application/json")], b"{}", False, id="json"),
        pytest.param([(b"content-type", b"application/problem+json")], b"{}", False, id="+json"),
        pytest.param([(b"content-type", b"application/atom+xml")], b"<a/>", False, id="+xml"),
        pytest.param([(b"content-type", b"Text/Plain")], b"x", False, id="case-insensitive"),
        pytest.param([(b"content-type", b"image/png")], b"\x89PNG", True, id="binary-type"),
        pytest.param([(b"content-type", b"application/octet-stream")], b"ab", True, id="octets"),
        pytest.param([], b"no type", True, id="no-content-type"),
        pytest.param(
            [(b"content-type", b"text/plain"), (b"content-encoding", b"gzip")],
            b"\x1f\x8b",
            True,
            id="gzip",
        ),
        pytest.param(
            [(b"content-type", b"text/plain"), (b"content-encoding", b"identity")],
            b"x",
            False,
            id="identity-coding",
        ),
        pytest.param([(b"content-type", b"text/plain")], b"\xff\xfe", True, id="not-utf8"),
        pytest.param([(b"content-type", b"image/png")], b"", False, id="empty"),
    ],
)
def test_base64_only_when_the_body_is_not_text(
    headers: Headers, body: bytes, is_base64: bool
) -> None:
    """Base64 for non-text types, any content coding, or bytes that are not UTF-8."""
    out = http_api_v2.to_response(Response(200, headers, body), {}, CONFIG)
    assert out["isBase64Encoded"] is is_base64
    decoded = base64.b64decode(out["body"]) if is_base64 else out["body"].encode()
    assert decoded == body


def test_custom_text_mime_types() -> None:
    """``text_mime_types`` replaces the list of media types sent as text."""
    config = TranslatorConfig(text_mime_types=("application/x-custom",))
    text = Response(200, [(b"content-type", b"application/x-custom")], b"hi")
    html = Response(200, [(b"content-type", b"text/html")], b"hi")
    assert http_api_v2.to_response(text, {}, config)["isBase64Encoded"] is False
    assert http_api_v2.to_response(html, {}, config)["isBase64Encoded"] is True


@pytest.mark.parametrize(
    ("module", "event_name"),
    [
        pytest.param(rest_api, "api_gateway_rest/get_basic", id="rest"),
        pytest.param(http_api_v1, "http_api_v1/get_basic", id="http-v1"),
        pytest.param(http_api_v2, "http_api_v2/get_basic", id="http-v2"),
        pytest.param(function_url, "function_url/get_basic", id="url"),
        pytest.param(alb, "alb/get_basic", id="alb"),
        pytest.param(alb, "alb_multi_value/get_basic", id="alb-multi"),
        pytest.param(lambda_edge, "lambda_edge/get_basic", id="edge"),
        pytest.param(vpc_lattice_v1, "vpc_lattice_v1/get_basic", id="lattice-v1"),
        pytest.param(vpc_lattice_v2, "vpc_lattice_v2/get_basic", id="lattice-v2"),
    ],
)
def test_exclude_headers_applies_to_every_source(module: Any, event_name: str) -> None:
    """``exclude_headers`` removes the named headers (any case) from every source's response."""
    config = TranslatorConfig(exclude_headers=frozenset({"set-cookie", "x-single"}))
    out = module.to_response(JSON_RESPONSE, load_event(event_name), config)
    text = repr(out).lower()
    assert "set-cookie" not in text
    assert "x-single" not in text
    assert "a=1" not in text
    assert "content-type" in text


def test_header_values_that_are_not_utf8_survive() -> None:
    """A header value that is not UTF-8 is read as Latin-1 rather than failing."""
    response = Response(200, [(b"X-Name", b"caf\xe9"), (b"x-utf8", "café".encode())], b"")
    out = http_api_v2.to_response(response, {}, CONFIG)
    assert out["headers"] == {"x-name": "caf\u00e9", "x-utf8": "caf\u00e9"}


def test_status_without_reason_phrase() -> None:
    """A status code with no registered reason phrase is sent as the bare number."""
    out = alb.to_response(Response(599, [], b""), {}, CONFIG)
    assert out["statusDescription"] == "599"
    edge = lambda_edge.to_response(Response(599, [], b""), {}, CONFIG)
    assert (edge["status"], edge["statusDescription"]) == ("599", "")


def test_reason_phrases_are_the_standard_librarys() -> None:
    """Every valid status gets HTTPStatus's phrase: "<code> <phrase>", or the bare code."""
    for status in range(100, 1000):
        try:
            expected = HTTPStatus(status).phrase
        except ValueError:
            expected = None
        line = str(status) if expected is None else f"{status} {expected}"
        assert alb.to_response(Response(status, [], b""), {}, CONFIG)["statusDescription"] == line
        edge = lambda_edge.to_response(Response(status, [], b""), {}, CONFIG)
        assert edge["statusDescription"] == (expected or "")
