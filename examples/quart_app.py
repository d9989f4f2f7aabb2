"""An example Quart app. Its Lambda handler is the last line."""

from __future__ import annotations

from quart import Quart

from traced_asgi_lambda import LambdaAdapter

app = Quart(__name__)


@app.get("/items/<int:item_id>")
async def read_item(item_id: int) -> dict[str, int | str]:
    return {"item_id": item_id, "framework": "quart"}


handler = LambdaAdapter(app)  # see docs/quickstart.md, "Types"
