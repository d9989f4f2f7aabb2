"""Litestar implementation of the test-app contract (see ``contract``)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get, post, put
from litestar.datastructures import Cookie, State
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Stream

from .contract import BINARY_PAYLOAD, STATE_KEY, STATE_VALUE, STREAM_CHUNKS

LIFESPAN_EVENTS: dict[str, int] = {"startup": 0, "shutdown": 0}


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    # Litestar does not expose the ASGI lifespan scope's ``state`` dict, so the
    # value is stored on the application state (``app.state``), which handlers
    # receive through the reserved ``state`` parameter.
    LIFESPAN_EVENTS["startup"] += 1
    app.state[STATE_KEY] = STATE_VALUE
    try:
        yield
    finally:
        LIFESPAN_EVENTS["shutdown"] += 1


@get("/items/{item_id:int}")
async def get_item(item_id: FromPath[int], q: FromQuery[str | None] = None) -> dict[str, Any]:
    return {"item_id": item_id, "q": q}


@post("/items")  # Litestar's default status code for POST is 201.
async def create_item(data: JSONBody[Any]) -> dict[str, Any]:
    return {"received": data}


@post("/form", status_code=200)
async def form(data: URLEncodedBody[dict[str, str]]) -> dict[str, Any]:
    return {"name": data.get("name"), "city": data.get("city")}


@get("/cookies")
async def cookies(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {"cookies": dict(request.cookies)}


@get("/set-cookies")
async def set_cookies() -> Response[dict[str, Any]]:
    return Response(
        {"ok": True},
        cookies=[Cookie(key="a", value="1"), Cookie(key="b", value="2")],
    )


@get("/download", media_type="application/octet-stream")
async def download() -> bytes:
    return BINARY_PAYLOAD


async def _chunks() -> AsyncIterator[str]:
    for chunk in STREAM_CHUNKS:
        yield chunk


@get("/stream")
async def stream() -> Stream:
    return Stream(_chunks(), media_type=MediaType.TEXT)


@get("/state")
async def state_view(state: State) -> dict[str, Any]:
    return {"started": state.get(STATE_KEY)}


@get("/raise")
async def raise_error() -> None:
    raise RuntimeError("boom")


@put("/upload")
async def upload(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await request.body()
    return {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}


@get("/unicode/{name:str}")
async def unicode_name(name: FromPath[str]) -> dict[str, Any]:
    return {"name": name}


@get("/query")
async def query(request: Request[Any, Any, Any]) -> dict[str, Any]:
    params: dict[str, list[str]] = {}
    # ``MultiDict.items()`` yields every pair in request order (``multi_items()``
    # iterates over a set of keys, so its key order is not stable).
    for key, value in request.query_params.items():
        params.setdefault(key, []).append(value)
    return {"params": params}


@get("/headers")
async def headers(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {
        "x_multi": request.headers.getall("x-multi", []),
        "user_agent": request.headers.get("user-agent"),
    }


@get("/route-info/{item_id:str}")
async def route_info(item_id: FromPath[str]) -> dict[str, Any]:
    return {"ok": True}


# OpenAPI is disabled so that every path outside the contract gets the
# framework's default 404 (the default config would serve ``/schema``), and the
# default logging config is disabled because it configures the root logger.
app = Litestar(
    route_handlers=[
        get_item,
        create_item,
        form,
        cookies,
        set_cookies,
        download,
        stream,
        state_view,
        raise_error,
        upload,
        unicode_name,
        query,
        headers,
        route_info,
    ],
    lifespan=[lifespan],
    openapi_config=None,
    logging_config=None,
)
