"""An example Litestar app. Its Lambda handler is the last line."""

from __future__ import annotations

from litestar import Litestar, get

from traced_asgi_lambda import LambdaAdapter


@get("/items/{item_id:int}")
async def read_item(item_id: int) -> dict[str, int | str]:
    return {"item_id": item_id, "framework": "litestar"}


# logging_config=None: Litestar would otherwise configure the root logger at startup.
app = Litestar(route_handlers=[read_item], logging_config=None)

handler = LambdaAdapter(app)  # see docs/quickstart.md, "Types"
