"""Real FastAPI, Starlette, Django, Litestar and Quart apps on every event source.

Each request is built as the real payload of its source, run through the adapter, and
the Lambda response is read back the way the front door would send it to the client.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.apps.contract import BINARY_PAYLOAD
from traced_asgi_lambda import LambdaAdapter
from traced_asgi_lambda.local import (
    SOURCES,
    HttpRequest,
    HttpResponse,
    LocalContext,
    build_event,
    to_http,
)

FRAMEWORKS = ["fastapi", "starlette", "django", "litestar", "quart"]
HAS_LIFESPAN = {"fastapi", "starlette", "litestar", "quart"}


def app_module(framework: str) -> Any:
    return importlib.import_module(f"tests.apps.{framework}_app")


@pytest.fixture(scope="module", params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def handler(framework: str) -> Iterator[LambdaAdapter]:
    with LambdaAdapter(app_module(framework).app) as adapter:
        yield adapter


def call(handler: LambdaAdapter, source: str, request: HttpRequest) -> HttpResponse:
    return to_http(handler(build_event(source, request), LocalContext()))


def as_json(response: HttpResponse) -> Any:
    return json.loads(response.body)


Check = Callable[[HttpResponse, str], None]


def get_item(response: HttpResponse, framework: str) -> None:
    assert response.status == 200
    assert as_json(response) == {"item_id": 42, "q": "hello world"}


def post_json(response: HttpResponse, framework: str) -> None:
    assert response.status == 201
    assert as_json(response) == {"received": {"name": "widget", "price": 9.5}}


def post_form(response: HttpResponse, framework: str) -> None:
    assert response.status == 200
    assert as_json(response) == {"name": "J\u00fcrgen M", "city": "K\u00f6ln"}


def cookies_in(response: HttpResponse, framework: str) -> None:
    assert as_json(response) == {"cookies": {"session": "abc123", "theme": "dark"}}


def cookies_out(response: HttpResponse, framework: str) -> None:
    assert response.status == 200
    cookies = sorted(v.split(";")[0] for v in response.header_values("set-cookie"))
    assert cookies == ["a=1", "b=2"]


def download(response: HttpResponse, framework: str) -> None:
    assert response.status == 200
    assert response.header("content-type") == "application/octet-stream"
    assert response.body == BINARY_PAYLOAD


def stream(response: HttpResponse, framework: str) -> None:
    assert response.status == 200
    assert response.body == b"chunk0\nchunk1\nchunk2\n"


def upload(response: HttpResponse, framework: str) -> None:
    assert as_json(response) == {
        "length": 256,
        "sha256": hashlib.sha256(BINARY_PAYLOAD).hexdigest(),
    }


def unicode_path(response: HttpResponse, framework: str) -> None:
    assert as_json(response) == {"name": "caf\u00e9"}


def query(response: HttpResponse, framework: str) -> None:
    assert as_json(response) == {"params": {"a": ["1", "2"], "b": ["hello world"], "c": ["&="]}}


def lifespan_state(response: HttpResponse, framework: str) -> None:
    expected = "yes" if framework in HAS_LIFESPAN else None
    assert as_json(response) == {"started": expected}


def not_found(response: HttpResponse, framework: str) -> None:
    assert response.status == 404


def server_error(response: HttpResponse, framework: str) -> None:
    assert response.status == 500
    assert b"boom" not in response.body


JSON = [("content-type", "application/json")]
FORM = [("content-type", "application/x-www-form-urlencoded")]
OCTETS = [("content-type", "application/octet-stream")]

ROUTES = [
    pytest.param(
        HttpRequest("GET", "/items/42", query=[("q", "hello world")]), get_item, id="path-and-query"
    ),
    pytest.param(
        HttpRequest("POST", "/items", headers=JSON, body=b'{"name": "widget", "price": 9.5}'),
        post_json,
        id="json-body",
    ),
    pytest.param(
        HttpRequest("POST", "/form", headers=FORM, body=b"name=J%C3%BCrgen+M&city=K%C3%B6ln"),
        post_form,
        id="form-body",
    ),
    pytest.param(
        HttpRequest("GET", "/cookies", headers=[("cookie", "session=abc123; theme=dark")]),
        cookies_in,
        id="cookies-in",
    ),
    pytest.param(HttpRequest("GET", "/set-cookies"), cookies_out, id="cookies-out"),
    pytest.param(HttpRequest("GET", "/download"), download, id="binary-download"),
    pytest.param(HttpRequest("GET", "/stream"), stream, id="streaming"),
    pytest.param(
        HttpRequest("PUT", "/upload", headers=OCTETS, body=BINARY_PAYLOAD),
        upload,
        id="binary-upload",
    ),
    pytest.param(HttpRequest("GET", "/unicode/caf%C3%A9"), unicode_path, id="unicode-path"),
    pytest.param(
        HttpRequest(
            "GET", "/query", query=[("a", "1"), ("a", "2"), ("b", "hello world"), ("c", "&=")]
        ),
        query,
        id="multi-query",
    ),
    pytest.param(HttpRequest("GET", "/state"), lifespan_state, id="lifespan-state"),
    pytest.param(HttpRequest("GET", "/nowhere"), not_found, id="not-found"),
    pytest.param(HttpRequest("GET", "/raise"), server_error, id="app-raises"),
]

# Single-value ALB and Lattice v1 carry one value per query key: the multi-query row
# checks what they can carry instead.
SINGLE_VALUE_QUERY = {"alb", "lattice-v1"}


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize(("request_", "check"), ROUTES)
def test_route_on_every_source(
    handler: LambdaAdapter, framework: str, source: str, request_: HttpRequest, check: Check
) -> None:
    """Every route of every framework answers the same on every event source."""
    response = call(handler, source, request_)
    if check is query and source in SINGLE_VALUE_QUERY:
        params = as_json(response)["params"]
        assert params["b"] == ["hello world"]
        assert params["c"] == ["&="]
        return
    check(response, framework)
