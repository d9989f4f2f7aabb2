"""Contract shared by the five test apps (``<framework>_app.app``, ASGI 3).

JSON bodies are byte-identical across apps (compact separators, raw UTF-8,
insertion-ordered keys), content type ``application/json``.

Routes
------
GET  /items/{item_id:int}?q=   200 {"item_id":42,"q":"hello"} (q null if absent)
POST /items (JSON)             201 {"received":<parsed body>}
POST /form (urlencoded)        200 {"name":...,"city":...} (null if missing)
GET  /cookies                  200 {"cookies":{name:value,...}}
GET  /set-cookies              200 {"ok":true} + two Set-Cookie headers (below)
GET  /download                 200 application/octet-stream, BINARY_PAYLOAD
GET  /stream                   200 "text/plain; charset=utf-8", STREAM_CHUNKS
                               streamed, one ASGI body message per chunk
GET  /state                    200 {"started":"yes"} after lifespan startup
                               (null without lifespan; Django: always null)
GET  /raise                    raises RuntimeError("boom") (see below)
PUT  /upload (binary)          200 {"length":N,"sha256":"<hex>"}
GET  /unicode/{name}           200 {"name":"café"} for /unicode/caf%C3%A9
GET  /query                    200 {"params":{key:[values...]}}, keys in order
                               of first appearance, blank values kept as ""
GET  /headers                  200 {"x_multi":...,"user_agent":...} (below)
GET  /route-info/{item_id}     200 {"ok":true}
anything else                  the framework's default 404

Every module defines ``LIFESPAN_EVENTS = {"startup": 0, "shutdown": 0}``,
incremented on lifespan startup / shutdown (always zero for Django).

Per-framework differences
-------------------------
Set-Cookie: "a=1; Path=/" and "b=2; Path=/" everywhere except Litestar, whose
``Cookie`` always emits SameSite: "a=1; Path=/; SameSite=lax",
"b=2; Path=/; SameSite=lax".

/raise (none installs an error handler):
- Starlette, FastAPI: ServerErrorMiddleware sends 500 "text/plain;
  charset=utf-8" "Internal Server Error", then re-raises to the server.
- Litestar: 500 {"status_code":500,"detail":"Internal Server Error"}, not
  re-raised, not logged (``logging_config=None``).
- Quart: 500 werkzeug HTML page, not re-raised; logs "Exception on request GET
  /raise" to the ``quart.app`` logger (stderr by default).
- Django: 500 HTML "<h1>Server Error (500)</h1>" page, not re-raised; logged
  to ``django.request`` (no output with DEBUG=False and no ADMINS).

/headers with ``X-Multi: 1`` and ``X-Multi: 2, 3``: a list of the header
lines, ``["1","2, 3"]`` (``[]`` if absent), except Django, which joins them
with a bare comma into one string, ``"1,2, 3"`` (``null`` if absent).

Lifespan state (/state):
- Starlette, FastAPI: lifespan yields {"started": "yes"}; the view reads
  ``request.state.started``, which the server must copy from the lifespan
  ``state`` into each http scope's ``scope["state"]``.
- Litestar: does not use the ASGI lifespan ``state``; the lifespan context
  manager sets ``app.state["started"]`` and the view reads it through the
  ``state: State`` parameter.
- Quart: does not use the ASGI lifespan ``state``; a ``before_serving`` hook
  stores it in ``app.extensions``.
- Django: no lifespan support; it raises ValueError("Django can only handle
  ASGI/HTTP connections, not lifespan.") on a lifespan scope.

Other differences, outside the contract:
- Litestar percent-decodes cookie values ("x%20y" -> "x y"); the others don't.
- Litestar's ``Stream`` waits for ``http.disconnect`` after its final body
  message; a server whose ``receive()`` blocks then never finishes the call.
- Non-int /items/abc: FastAPI 422 with a validation error body; the others 404.
- 404/405 bodies: Starlette plain text, FastAPI {"detail":...}, Litestar
  {"status_code":...,"detail":...}, Django and Quart HTML (Django's 405 is
  empty).
- HEAD on GET routes: accepted by Starlette and Quart; 405 on FastAPI,
  Litestar and Django.
- Route template for /route-info: Starlette, FastAPI
  ``scope["route"].path == "/route-info/{item_id}"``; Litestar
  ``scope["path_template"] == "/route-info/{item_id}"``; Django
  ``request.resolver_match.route == "route-info/<str:item_id>"``; Quart
  ``request.url_rule.rule == "/route-info/<item_id>"`` (nothing in the scope).
"""

BINARY_PAYLOAD: bytes = bytes(range(256))
STREAM_CHUNKS: tuple[str, ...] = ("chunk0\n", "chunk1\n", "chunk2\n")
STATE_KEY = "started"
STATE_VALUE = "yes"
