"""Lifespan and mounting with the real frameworks, one adapter at a time.

Kept apart from test_frameworks, whose module-scoped adapters would otherwise run a
second lifespan on the same app object at the same time, which no Lambda environment does.
"""

from __future__ import annotations

import pytest

from tests.test_frameworks import HAS_LIFESPAN, app_module, as_json, call
from traced_asgi_lambda import LambdaAdapter
from traced_asgi_lambda.local import SOURCES, HttpRequest


@pytest.fixture(params=["fastapi", "starlette", "django", "litestar", "quart"])
def framework(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_lifespan_started_once_per_environment(framework: str) -> None:
    """Over many invocations on many sources, the app's lifespan starts once."""
    module = app_module(framework)
    before = dict(module.LIFESPAN_EVENTS)
    with LambdaAdapter(module.app) as adapter:
        for source in SOURCES:
            for _ in range(3):
                call(adapter, source, HttpRequest("GET", "/state"))
        started = module.LIFESPAN_EVENTS["startup"] - before["startup"]
        assert started == (1 if framework in HAS_LIFESPAN else 0)
    stopped = module.LIFESPAN_EVENTS["shutdown"] - before["shutdown"]
    assert stopped == (1 if framework in HAS_LIFESPAN else 0)


@pytest.mark.parametrize("source", ["rest", "http-api-v1"])
def test_base_path_is_mounted(framework: str, source: str) -> None:
    """Behind a base path mapping, routes still match and the app knows its mount point."""
    with LambdaAdapter(app_module(framework).app, api_gateway_base_path="/api") as adapter:
        response = call(adapter, source, HttpRequest("GET", "/api/items/42", query=[("q", "x")]))
    assert response.status == 200
    assert as_json(response) == {"item_id": 42, "q": "x"}
