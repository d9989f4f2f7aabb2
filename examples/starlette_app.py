"""An example Starlette app. Its Lambda handler is the last line."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from traced_asgi_lambda import LambdaAdapter


async def read_item(request: Request) -> JSONResponse:
    item_id: int = request.path_params["item_id"]
    return JSONResponse({"item_id": item_id, "framework": "starlette"})


app = Starlette(routes=[Route("/items/{item_id:int}", read_item, methods=["GET"])])

handler = LambdaAdapter(app)
