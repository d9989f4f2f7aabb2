"""The example Starlette app behind ``LambdaAdapter``, imported by the real runtime client.

``python -m awslambdaric tests.runtime_handlers.starlette_handler.handler`` imports this
module in the init phase, as Lambda does. The test configures it through the environment:

* ``OTEL_EXPORTER_OTLP_ENDPOINT``: read by the adapter itself (the collector to export to);
* ``RUNTIME_TEST_EXPORT``: the adapter's ``export`` ("sync" or "after-response");
* ``RUNTIME_TEST_ON_ERROR``: the adapter's ``on_error`` ("respond" or "raise");
* ``RUNTIME_TEST_MARKERS``: a file that gets one line per lifespan event.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from starlette.applications import Starlette

from tests.apps.contract import STATE_KEY, STATE_VALUE
from tests.apps.starlette_app import app as example_app
from tests.runtime_handlers import SHUTDOWN_SPAN
from traced_asgi_lambda import LambdaAdapter
from traced_asgi_lambda.telemetry.options import ExportMode, TelemetryOptions
from traced_asgi_lambda.types import OnError


def _mark(event: str) -> None:
    with Path(os.environ["RUNTIME_TEST_MARKERS"]).open("a") as markers:
        markers.write(f"{event}\n")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    _mark("startup")
    try:
        yield {STATE_KEY: STATE_VALUE}
    finally:
        _mark("shutdown")
        tracing = handler.telemetry.tracing if handler.telemetry is not None else None
        if tracing is not None:
            tracing.provider.get_tracer(__name__).start_span(SHUTDOWN_SPAN).end()


app = Starlette(routes=example_app.routes, lifespan=lifespan)

handler = LambdaAdapter(
    app,
    on_error=cast(OnError, os.environ.get("RUNTIME_TEST_ON_ERROR", "respond")),
    telemetry=TelemetryOptions(
        export=cast(ExportMode, os.environ.get("RUNTIME_TEST_EXPORT", "sync"))
    ),
)
