"""Quart implementation of the test-app contract (see ``contract``)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

from quart import Quart, Response, request
from quart.json.provider import DefaultJSONProvider
from quart.typing import ResponseReturnValue
from werkzeug.sansio.response import Response as SansIOResponse

from .contract import BINARY_PAYLOAD, STATE_KEY, STATE_VALUE, STREAM_CHUNKS

LIFESPAN_EVENTS: dict[str, int] = {"startup": 0, "shutdown": 0}

# Quart does not read or write the ASGI lifespan scope's ``state`` dict; the
# value set by the ``before_serving`` hook is kept in ``app.extensions``.
_EXTENSION_KEY = "contract_lifespan_state"


class ContractJSONProvider(DefaultJSONProvider):
    """Serialise JSON exactly like the other apps' frameworks do.

    Flask/Quart's default provider sorts keys, escapes non-ASCII characters and
    appends a trailing newline; the contract wants insertion-ordered keys, raw
    UTF-8 and compact separators with no trailing newline.
    """

    ensure_ascii = False
    sort_keys = False
    compact = True

    def response(self, *args: Any, **kwargs: Any) -> SansIOResponse:
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(
            self.dumps(obj, separators=(",", ":")), mimetype=self.mimetype
        )


app = Quart(__name__, static_folder=None)
app.json = ContractJSONProvider(app)


@app.before_serving
async def _startup() -> None:
    LIFESPAN_EVENTS["startup"] += 1
    app.extensions[_EXTENSION_KEY] = {STATE_KEY: STATE_VALUE}


@app.after_serving
async def _shutdown() -> None:
    LIFESPAN_EVENTS["shutdown"] += 1


@app.get("/items/<int:item_id>")
async def get_item(item_id: int) -> dict[str, Any]:
    return {"item_id": item_id, "q": request.args.get("q")}


@app.post("/items")
async def create_item() -> tuple[dict[str, Any], int]:
    return {"received": await request.get_json()}, 201


@app.post("/form")
async def form() -> dict[str, Any]:
    data = await request.form
    return {"name": data.get("name"), "city": data.get("city")}


@app.get("/cookies")
async def cookies() -> dict[str, Any]:
    return {"cookies": request.cookies.to_dict()}


@app.get("/set-cookies")
async def set_cookies() -> ResponseReturnValue:
    response = await app.make_response({"ok": True})
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response


@app.get("/download")
async def download() -> Response:
    return Response(BINARY_PAYLOAD, mimetype="application/octet-stream")


async def _chunks() -> AsyncIterator[bytes]:
    for chunk in STREAM_CHUNKS:
        yield chunk.encode()


@app.get("/stream")
async def stream() -> Response:
    return Response(_chunks(), mimetype="text/plain")


@app.get("/state")
async def state() -> dict[str, Any]:
    lifespan_state: dict[str, Any] = app.extensions.get(_EXTENSION_KEY, {})
    return {"started": lifespan_state.get(STATE_KEY)}


@app.get("/raise")
async def raise_error() -> Response:
    raise RuntimeError("boom")


@app.put("/upload")
async def upload() -> dict[str, Any]:
    body = await request.get_data(cache=True, as_text=False, parse_form_data=False)
    return {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}


@app.get("/unicode/<name>")
async def unicode_name(name: str) -> dict[str, Any]:
    return {"name": name}


@app.get("/query")
async def query() -> dict[str, Any]:
    return {"params": dict(request.args.lists())}


@app.get("/headers")
async def headers() -> dict[str, Any]:
    return {
        "x_multi": request.headers.getlist("X-Multi"),
        "user_agent": request.headers.get("User-Agent"),
    }


@app.get("/route-info/<item_id>")
async def route_info(item_id: str) -> dict[str, Any]:
    return {"ok": True}
