"""Starlette implementation of the test-app contract (see ``contract``)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .contract import BINARY_PAYLOAD, STATE_KEY, STATE_VALUE, STREAM_CHUNKS

LIFESPAN_EVENTS: dict[str, int] = {"startup": 0, "shutdown": 0}


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    LIFESPAN_EVENTS["startup"] += 1
    try:
        yield {STATE_KEY: STATE_VALUE}
    finally:
        LIFESPAN_EVENTS["shutdown"] += 1


async def get_item(request: Request) -> Response:
    item_id: int = request.path_params["item_id"]
    return JSONResponse({"item_id": item_id, "q": request.query_params.get("q")})


async def create_item(request: Request) -> Response:
    return JSONResponse({"received": await request.json()}, status_code=201)


async def form(request: Request) -> Response:
    async with request.form() as data:
        name = data.get("name")
        city = data.get("city")
    return JSONResponse(
        {
            "name": name if isinstance(name, str) else None,
            "city": city if isinstance(city, str) else None,
        }
    )


async def cookies(request: Request) -> Response:
    return JSONResponse({"cookies": dict(request.cookies)})


async def set_cookies(request: Request) -> Response:
    response = JSONResponse({"ok": True})
    response.set_cookie("a", "1", samesite=None)
    response.set_cookie("b", "2", samesite=None)
    return response


async def download(request: Request) -> Response:
    return Response(BINARY_PAYLOAD, media_type="application/octet-stream")


async def _chunks() -> AsyncIterator[str]:
    for chunk in STREAM_CHUNKS:
        yield chunk


async def stream(request: Request) -> Response:
    return StreamingResponse(_chunks(), media_type="text/plain")


async def state(request: Request) -> Response:
    return JSONResponse({"started": getattr(request.state, STATE_KEY, None)})


async def raise_error(request: Request) -> Response:
    raise RuntimeError("boom")


async def upload(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"length": len(body), "sha256": hashlib.sha256(body).hexdigest()})


async def unicode_name(request: Request) -> Response:
    name: str = request.path_params["name"]
    return JSONResponse({"name": name})


async def query(request: Request) -> Response:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return JSONResponse({"params": params})


async def headers(request: Request) -> Response:
    return JSONResponse(
        {
            "x_multi": request.headers.getlist("x-multi"),
            "user_agent": request.headers.get("user-agent"),
        }
    )


async def route_info(request: Request) -> Response:
    return JSONResponse({"ok": True})


app = Starlette(
    routes=[
        Route("/items/{item_id:int}", get_item, methods=["GET"]),
        Route("/items", create_item, methods=["POST"]),
        Route("/form", form, methods=["POST"]),
        Route("/cookies", cookies, methods=["GET"]),
        Route("/set-cookies", set_cookies, methods=["GET"]),
        Route("/download", download, methods=["GET"]),
        Route("/stream", stream, methods=["GET"]),
        Route("/state", state, methods=["GET"]),
        Route("/raise", raise_error, methods=["GET"]),
        Route("/upload", upload, methods=["PUT"]),
        Route("/unicode/{name}", unicode_name, methods=["GET"]),
        Route("/query", query, methods=["GET"]),
        Route("/headers", headers, methods=["GET"]),
        Route("/route-info/{item_id}", route_info, methods=["GET"]),
    ],
    lifespan=lifespan,
)
