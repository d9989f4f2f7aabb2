"""Malformed events: the error names the field by its path, never a bare KeyError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import load_event
from traced_asgi_lambda.events import BUILTIN_TRANSLATORS, TranslatorConfig, select
from traced_asgi_lambda.events._fields import Field, describe, find_problem
from traced_asgi_lambda.exceptions import MalformedEventError
from traced_asgi_lambda.local import LocalContext

Edit = Callable[[dict[str, Any]], None]


def drop(*path: str | int) -> Edit:
    def edit(event: dict[str, Any]) -> None:
        node: Any = event
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return edit


def put(value: object, *path: str | int) -> Edit:
    def edit(event: dict[str, Any]) -> None:
        node: Any = event
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return edit


CF = ("Records", 0, "cf", "request")

CASES = [
    pytest.param(
        "api_gateway_rest/get_basic", drop("httpMethod"), "httpMethod", "nothing", id="rest-method"
    ),
    pytest.param(
        "api_gateway_rest/get_basic", put(7, "path"), "path", "a number", id="rest-path-type"
    ),
    pytest.param(
        "api_gateway_rest/get_basic", put(None, "path"), "path", "null", id="rest-path-null"
    ),
    pytest.param(
        "api_gateway_rest/get_basic",
        lambda e: (drop("multiValueHeaders")(e), put(["x"], "headers")(e)),
        "headers",
        "a list",
        id="rest-headers",
    ),
    pytest.param(
        "api_gateway_rest/get_basic",
        put({"x": 1}, "multiValueHeaders"),
        "multiValueHeaders.x",
        "a number",
        id="rest-multi-value-item",
    ),
    pytest.param(
        "api_gateway_rest/get_basic",
        put("1.2.3.4", "requestContext", "identity"),
        "requestContext.identity",
        "a string of 7 characters",
        id="rest-identity",
    ),
    pytest.param(
        "api_gateway_rest/post_json", put(True, "body"), "body", "a boolean", id="rest-body"
    ),
    pytest.param(
        "http_api_v1/get_basic",
        put(5, "requestContext", "stage"),
        "requestContext.stage",
        "a number",
        id="v1-stage",
    ),
    pytest.param(
        "http_api_v2/get_basic",
        drop("requestContext", "http", "method"),
        "requestContext.http.method",
        "nothing",
        id="v2-method",
    ),
    pytest.param("http_api_v2/get_basic", drop("rawPath"), "rawPath", "nothing", id="v2-raw-path"),
    pytest.param(
        "http_api_v2/cookies", put(["a=1", 2], "cookies"), "cookies[1]", "a number", id="v2-cookie"
    ),
    pytest.param(
        "function_url/get_basic",
        put("GET", "requestContext", "http"),
        "requestContext.http",
        "a string of 3 characters",
        id="url-http",
    ),
    pytest.param("alb/get_basic", drop("path"), "path", "nothing", id="alb-path"),
    pytest.param(
        "alb/get_basic",
        put({"q": ["x"]}, "queryStringParameters"),
        "queryStringParameters.q",
        "a list",
        id="alb-query",
    ),
    pytest.param(
        "lambda_edge/get_basic",
        drop(*CF, "uri"),
        "Records[0].cf.request.uri",
        "nothing",
        id="edge-uri",
    ),
    pytest.param(
        "lambda_edge/get_basic",
        put({"host": "x"}, *CF, "headers"),
        "Records[0].cf.request.headers.host",
        "a string of 1 characters",
        id="edge-header",
    ),
    pytest.param(
        "lambda_edge/get_basic", put(None, *CF), "Records[0].cf.request", "null", id="edge-request"
    ),
    pytest.param(
        "vpc_lattice_v1/get_basic", put(1, "raw_path"), "raw_path", "a number", id="lattice-v1"
    ),
    pytest.param(
        "vpc_lattice_v2/get_basic",
        put({"a": "b"}, "headers"),
        "headers.a",
        "a string of 1 characters",
        id="lattice-v2",
    ),
]


@pytest.mark.parametrize(("name", "edit", "path", "got"), CASES)
def test_malformed_event_names_the_field(name: str, edit: Edit, path: str, got: str) -> None:
    """A recognised event with a missing or mistyped field raises naming that field."""
    event = load_event(name)
    edit(event)
    translator = select(event, BUILTIN_TRANSLATORS)
    with pytest.raises(MalformedEventError) as caught:
        translator.to_request(event, LocalContext(), TranslatorConfig())
    assert caught.value.path == path
    assert caught.value.source == translator.name
    assert f"expected {path} to be" in str(caught.value)
    assert f"got {got}" in str(caught.value)
    assert "Fix:" in str(caught.value)
    assert isinstance(caught.value.__cause__, (KeyError, TypeError, AttributeError, IndexError))


@pytest.mark.parametrize(
    ("name", "edit", "field"),
    [
        pytest.param("api_gateway_rest/put_binary", put("@@@", "body"), "body", id="rest"),
        pytest.param(
            "lambda_edge/put_binary",
            put("not base64!", *CF, "body", "data"),
            "Records[0].cf.request.body.data",
            id="edge",
        ),
    ],
)
def test_bad_base64_body_is_malformed(name: str, edit: Edit, field: str) -> None:
    """A body flagged as base64 that does not decode names the body field."""
    event = load_event(name)
    edit(event)
    with pytest.raises(MalformedEventError, match="valid base64") as caught:
        select(event, BUILTIN_TRANSLATORS).to_request(event, LocalContext(), TranslatorConfig())
    assert caught.value.path == field


def test_unreadable_event_without_a_declared_culprit() -> None:
    """A failure no declared field explains still raises MalformedEventError, not KeyError."""
    event = load_event("http_api_v2/get_basic")
    event["headers"] = {"x-bad": "\udc80"}  # a lone surrogate cannot be encoded
    with pytest.raises(MalformedEventError, match="a payload of the documented shape"):
        select(event, BUILTIN_TRANSLATORS).to_request(event, LocalContext(), TranslatorConfig())


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(None, "null", id="null"),
        pytest.param("Bearer s3cr3t", "a string of 13 characters", id="string-never-echoed"),
        pytest.param({}, "an object", id="object"),
        pytest.param(1.5, "float", id="float"),
        pytest.param(False, "a boolean", id="bool"),
    ],
)
def test_describe(value: object, text: str) -> None:
    """Error messages describe what arrived without echoing its content."""
    assert describe(value) == text


def test_find_problem_checks_list_positions_and_items() -> None:
    """Paths through lists are checked by position, and item types are checked too."""
    fields = (Field(("a", 0), dict), Field(("b",), list, required=False, items=str))
    assert find_problem("s", {"a": []}, fields).path == "a[0]"
    assert find_problem("s", {"a": "x"}, fields).path == "a[0]"
    assert find_problem("s", {"a": [{}], "b": ["x", 1]}, fields).path == "b[1]"
    assert find_problem("s", {"a": [{}], "b": None}, fields).path == "the event"
    typed = (Field(("n",), int),)
    assert find_problem("s", {"n": True}, typed).path == "n"
    assert "a number" in str(find_problem("s", {"n": True}, typed))


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        pytest.param(
            "api_gateway_rest/get_basic", put("a\r\nSet-Cookie: x=1", "headers", "X-A"), id="rest"
        ),
        pytest.param(
            "alb_multi_value/get_basic",
            put(["ok", "b\nc"], "multiValueHeaders", "x-a"),
            id="alb-multi",
        ),
        pytest.param("http_api_v2/get_basic", put(["a=1\r\nx: y"], "cookies"), id="v2-cookies"),
        pytest.param(
            "lambda_edge/get_basic",
            put([{"key": "X-A", "value": "nul\x00here"}], *CF, "headers", "x-a"),
            id="edge",
        ),
    ],
)
def test_control_characters_in_request_headers_are_refused(name: str, edit: Edit) -> None:
    """A request header value with CR, LF or NUL makes the event malformed, naming the header."""
    event = load_event(name)
    if name.startswith("api_gateway_rest"):
        del event["multiValueHeaders"]
    edit(event)
    with pytest.raises(MalformedEventError, match="without CR, LF or NUL") as caught:
        select(event, BUILTIN_TRANSLATORS).to_request(event, LocalContext(), TranslatorConfig())
    assert caught.value.path.startswith("headers.")


@pytest.mark.parametrize(
    ("name", "edit", "path"),
    [
        pytest.param(
            "api_gateway_rest/get_basic", put("", "httpMethod"), "method", id="empty-method"
        ),
        pytest.param(
            "http_api_v2/get_basic",
            put(5, "requestContext", "http", "sourceIp"),
            "requestContext.http.sourceIp",
            id="client-not-a-string",
        ),
        pytest.param(
            "http_api_v2/get_basic",
            put("a=1\r\nb", "rawQueryString"),
            "query string",
            id="query-crlf",
        ),
        pytest.param(
            "api_gateway_rest/get_basic",
            put({"a": [None]}, "multiValueQueryStringParameters"),
            "queryStringParameters.a",
            id="query-value-null",
        ),
        pytest.param(
            "alb_multi_value/get_basic",
            put({"a": "xyz"}, "multiValueQueryStringParameters"),
            "multiValueQueryStringParameters.a",
            id="alb-query-not-a-list",
        ),
    ],
)
def test_values_plain_reads_would_accept_are_refused(name: str, edit: Edit, path: str) -> None:
    """Empty methods, odd client types, control characters and mistyped queries are malformed."""
    event = load_event(name)
    edit(event)
    with pytest.raises(MalformedEventError) as caught:
        select(event, BUILTIN_TRANSLATORS).to_request(event, LocalContext(), TranslatorConfig())
    assert caught.value.path == path
