"""An example FastAPI app and its Lambda handler (one line)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse

from traced_asgi_lambda import LambdaAdapter


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    # Runs once per Lambda execution environment: open pools and clients here.
    yield {"greeting": "hello from lifespan"}


app = FastAPI(lifespan=lifespan)


@app.get("/items/{item_id}")
async def read_item(item_id: int, request: Request, q: str | None = None) -> dict[str, Any]:
    return {"item_id": item_id, "q": q, "greeting": request.state.greeting}


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("this route always fails")


@app.get("/logo.png")
async def logo() -> Response:
    # The 8-byte PNG signature: binary content, so the adapter answers in base64.
    return Response(b"\x89PNG\r\n\x1a\n", media_type="image/png")


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def chunks() -> AsyncIterator[str]:
        for i in range(3):
            yield f"chunk {i}\n"

    return StreamingResponse(chunks(), media_type="text/plain")


handler = LambdaAdapter(app)
