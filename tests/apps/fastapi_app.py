"""FastAPI implementation of the test-app contract (see ``contract``)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Body, FastAPI, Form, Request, Response
from fastapi.responses import StreamingResponse

from .contract import BINARY_PAYLOAD, STATE_KEY, STATE_VALUE, STREAM_CHUNKS

LIFESPAN_EVENTS: dict[str, int] = {"startup": 0, "shutdown": 0}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    LIFESPAN_EVENTS["startup"] += 1
    try:
        yield {STATE_KEY: STATE_VALUE}
    finally:
        LIFESPAN_EVENTS["shutdown"] += 1


# The interactive docs / OpenAPI routes are disabled so that every path outside
# the contract gets the framework's default 404.
app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/items/{item_id}")
async def get_item(item_id: int, q: str | None = None) -> dict[str, Any]:
    return {"item_id": item_id, "q": q}


@app.post("/items", status_code=201)
async def create_item(payload: Annotated[Any, Body()]) -> dict[str, Any]:
    return {"received": payload}


@app.post("/form")
async def form(
    name: Annotated[str | None, Form()] = None,
    city: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    return {"name": name, "city": city}


@app.get("/cookies")
async def cookies(request: Request) -> dict[str, Any]:
    return {"cookies": dict(request.cookies)}


@app.get("/set-cookies")
async def set_cookies(response: Response) -> dict[str, Any]:
    response.set_cookie("a", "1", samesite=None)
    response.set_cookie("b", "2", samesite=None)
    return {"ok": True}


@app.get("/download", response_class=Response)
async def download() -> Response:
    return Response(BINARY_PAYLOAD, media_type="application/octet-stream")


async def _chunks() -> AsyncIterator[str]:
    for chunk in STREAM_CHUNKS:
        yield chunk


@app.get("/stream", response_class=StreamingResponse)
async def stream() -> StreamingResponse:
    return StreamingResponse(_chunks(), media_type="text/plain")


@app.get("/state")
async def state(request: Request) -> dict[str, Any]:
    return {"started": getattr(request.state, STATE_KEY, None)}


@app.get("/raise")
async def raise_error() -> None:
    raise RuntimeError("boom")


@app.put("/upload")
async def upload(request: Request) -> dict[str, Any]:
    body = await request.body()
    return {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}


@app.get("/unicode/{name}")
async def unicode_name(name: str) -> dict[str, Any]:
    return {"name": name}


@app.get("/query")
async def query(request: Request) -> dict[str, Any]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return {"params": params}


@app.get("/headers")
async def headers(request: Request) -> dict[str, Any]:
    return {
        "x_multi": request.headers.getlist("x-multi"),
        "user_agent": request.headers.get("user-agent"),
    }


@app.get("/route-info/{item_id}")
async def route_info(item_id: str) -> dict[str, Any]:
    return {"ok": True}
