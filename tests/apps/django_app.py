"""Django implementation of the test-app contract (see ``contract``).

Django has no ASGI lifespan support (its ASGI handler raises ``ValueError`` for
``lifespan`` scopes), so ``LIFESPAN_EVENTS`` always stays at zero and
``/state`` always answers ``{"started": null}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

# ``unused-ignore`` keeps these ignores valid whether or not django-stubs is
# installed.  None of these imports touches settings at import time.
import django  # type: ignore[import-untyped, unused-ignore]
from django.conf import settings  # type: ignore[import-untyped, unused-ignore]
from django.core.asgi import get_asgi_application  # type: ignore[import-untyped, unused-ignore]
from django.http import (  # type: ignore[import-untyped, unused-ignore]
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.urls import path  # type: ignore[import-untyped, unused-ignore]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped, unused-ignore]
from django.views.decorators.http import require_http_methods  # type: ignore[import-untyped, unused-ignore]

from .contract import BINARY_PAYLOAD, STREAM_CHUNKS

if not settings.configured:
    settings.configure(
        DEBUG=False,
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["*"],
        SECRET_KEY="traced-asgi-lambda-tests-only",
        DATABASES={},
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        USE_TZ=True,
    )
django.setup()

LIFESPAN_EVENTS: dict[str, int] = {"startup": 0, "shutdown": 0}

# Same serialisation as Starlette/FastAPI/Litestar: compact separators, raw UTF-8.
_JSON_DUMPS_PARAMS: dict[str, Any] = {"ensure_ascii": False, "separators": (",", ":")}


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params=_JSON_DUMPS_PARAMS)


async def get_item(request: HttpRequest, item_id: int) -> HttpResponse:
    return _json({"item_id": item_id, "q": request.GET.get("q")})


async def create_item(request: HttpRequest) -> HttpResponse:
    return _json({"received": json.loads(request.body)}, status=201)


async def form(request: HttpRequest) -> HttpResponse:
    return _json({"name": request.POST.get("name"), "city": request.POST.get("city")})


async def cookies(request: HttpRequest) -> HttpResponse:
    return _json({"cookies": dict(request.COOKIES)})


async def set_cookies(request: HttpRequest) -> HttpResponse:
    response = _json({"ok": True})
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response


async def download(request: HttpRequest) -> HttpResponse:
    return HttpResponse(BINARY_PAYLOAD, content_type="application/octet-stream")


async def _chunks() -> AsyncIterator[str]:
    for chunk in STREAM_CHUNKS:
        yield chunk


async def stream(request: HttpRequest) -> StreamingHttpResponse:
    # An async iterator: under ASGI a sync one triggers a Django warning.
    return StreamingHttpResponse(_chunks(), content_type="text/plain; charset=utf-8")


async def state(request: HttpRequest) -> HttpResponse:
    return _json({"started": None})


async def raise_error(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


async def upload(request: HttpRequest) -> HttpResponse:
    body: bytes = request.body
    return _json({"length": len(body), "sha256": hashlib.sha256(body).hexdigest()})


async def unicode_name(request: HttpRequest, name: str) -> HttpResponse:
    return _json({"name": name})


async def query(request: HttpRequest) -> HttpResponse:
    return _json({"params": dict(request.GET.lists())})


async def headers(request: HttpRequest) -> HttpResponse:
    # Django joins repeated request headers into one comma-separated string.
    return _json(
        {
            "x_multi": request.headers.get("X-Multi"),
            "user_agent": request.headers.get("User-Agent"),
        }
    )


async def route_info(request: HttpRequest, item_id: str) -> HttpResponse:
    return _json({"ok": True})


def _only(method: str, view: Any) -> Any:
    """Restrict ``view`` to one HTTP method (405 otherwise) and exempt it from CSRF."""
    return csrf_exempt(require_http_methods([method])(view))


urlpatterns = [
    path("items/<int:item_id>", _only("GET", get_item)),
    path("items", _only("POST", create_item)),
    path("form", _only("POST", form)),
    path("cookies", _only("GET", cookies)),
    path("set-cookies", _only("GET", set_cookies)),
    path("download", _only("GET", download)),
    path("stream", _only("GET", stream)),
    path("state", _only("GET", state)),
    path("raise", _only("GET", raise_error)),
    path("upload", _only("PUT", upload)),
    path("unicode/<str:name>", _only("GET", unicode_name)),
    path("query", _only("GET", query)),
    path("headers", _only("GET", headers)),
    path("route-info/<str:item_id>", _only("GET", route_info)),
]

app = get_asgi_application()
