"""An example FastAPI app. Its Lambda handler is the last line.

``make demo`` runs it through ``traced-asgi-lambda invoke``, and examples/template.yaml
deploys it. Its routes cover what the demo shows: JSON, a 404 (any other path), a route
that raises (a 500), two cookies set at once, and a binary download.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response

from traced_asgi_lambda import LambdaAdapter

# A 1x1 PNG: a binary body, so the adapter answers in base64.
LOGO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGPQqr/yHwAE0QJ9PWShagAAAABJRU5ErkJggg=="
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    # Runs once per Lambda execution environment: open pools and clients here.
    yield {"greeting": "hello from lifespan"}


app = FastAPI(title="Example shop", lifespan=lifespan)


@app.get("/items/{item_id}")
async def read_item(item_id: int, request: Request, q: str | None = None) -> dict[str, Any]:
    return {"item_id": item_id, "q": q, "greeting": request.state.greeting}


@app.post("/items", status_code=201)
async def create_item(request: Request) -> dict[str, Any]:
    return {"created": await request.json()}


@app.get("/login")
async def login(response: Response) -> dict[str, bool]:
    response.set_cookie("session", "3f2a9c", httponly=True)
    response.set_cookie("theme", "dark")
    return {"ok": True}


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("this route always fails")


@app.get("/logo.png")
async def logo() -> Response:
    return Response(LOGO, media_type="image/png")


handler = LambdaAdapter(app)
