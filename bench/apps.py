"""The two apps under test, and the floor: an app called directly on a reused event loop.

Both apps answer ``GET /items/42`` with the same small JSON body. The raw app implements
lifespan (a real app does, and Mangum's ``lifespan="auto"`` then runs startup and shutdown
on every call, as it would for Starlette); it does not read the request body, as a GET
handler would not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["APPS", "BODY", "ROUTE", "Floor", "build_app", "raw_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

APPS = ("starlette", "raw")
ROUTE = "/items/{item_id:int}"
BODY = b'{"id":42,"name":"widget"}'  # what both apps answer (Starlette's JSONResponse too)
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The least an ASGI app can be: lifespan, and one fixed JSON answer to any request."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def starlette_app() -> ASGIApp:
    """A Starlette app with one routed JSON endpoint."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def item(request: Request) -> JSONResponse:
        return JSONResponse({"id": request.path_params["item_id"], "name": "widget"})

    app: ASGIApp = Starlette(routes=[Route(ROUTE, item)])
    return app


def build_app(name: str) -> ASGIApp:
    """A fresh instance of the app called ``name`` (one per stack: no shared state)."""
    if name == "raw":
        return raw_app
    if name == "starlette":
        return starlette_app()
    raise ValueError(f"Expected an app name in {APPS}, but got {name!r}.")


class Floor:
    """The app called directly with a prebuilt scope, on one event loop for every call.

    This is the cost of the app itself plus the least an adapter must do (run a
    coroutine, collect the messages); no adapter can be faster.
    """

    def __init__(self, app: ASGIApp, scope: Scope) -> None:
        self.app = app
        self.scope = scope
        self.loop = asyncio.new_event_loop()

    def __call__(self, event: object, context: object) -> dict[str, Any]:
        messages: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            messages.append(message)

        # A copy: Starlette writes its routing results into the scope.
        self.loop.run_until_complete(self.app(dict(self.scope), receive, send))
        return {"statusCode": messages[0]["status"], "body": messages[1]["body"].decode()}

    def close(self) -> None:
        self.loop.close()
