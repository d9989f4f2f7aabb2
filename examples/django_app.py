"""An example Django app, in one file. Its Lambda handler is the last line.

Django has no ASGI lifespan; the adapter's default (``lifespan="auto"``) notices that on
the first call and carries on without it.
"""

from __future__ import annotations

# ``unused-ignore`` keeps the ignores valid whether or not django-stubs is installed.
from django.conf import settings  # type: ignore[import-untyped, unused-ignore]
from django.core.asgi import get_asgi_application  # type: ignore[import-untyped, unused-ignore]
from django.http import HttpRequest, JsonResponse  # type: ignore[import-untyped, unused-ignore]
from django.urls import path  # type: ignore[import-untyped, unused-ignore]

from traced_asgi_lambda import LambdaAdapter

if not settings.configured:
    settings.configure(
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["*"],
        SECRET_KEY="example-only-set-your-own",  # read it from the environment in real code
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
    )


async def read_item(request: HttpRequest, item_id: int) -> JsonResponse:
    return JsonResponse({"item_id": item_id, "framework": "django"})


urlpatterns = [path("items/<int:item_id>", read_item)]

app = get_asgi_application()

handler = LambdaAdapter(app)
