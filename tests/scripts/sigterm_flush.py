"""Trace one invocation, end one more span outside it, then SIGTERM this process.

Span names go to stdout as they are exported, so the test sees which flush sent what.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from opentelemetry.sdk.trace.export import ConsoleSpanExporter

from tests.apps.starlette_app import app
from traced_asgi_lambda import LambdaAdapter
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry import lambda_tracer_provider
from traced_asgi_lambda.telemetry.options import TelemetryOptions


def main() -> None:
    exporter = ConsoleSpanExporter(out=sys.stdout, formatter=lambda span: f"span {span.name}\n")
    provider = lambda_tracer_provider(exporter, environ={})
    quiet = TelemetryOptions(logs=False, metrics=False)  # stdout carries only span names
    handler = LambdaAdapter(app, tracer_provider=provider, telemetry=quiet)
    handler(build_event("http-api", HttpRequest("GET", "/items/1")), LocalContext())
    print("returned", flush=True)
    # A span that ends after the invocation (a background job, say) waits for the next
    # flush; SIGTERM must not lose it.
    provider.get_tracer("background").start_span("late work").end()
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
    print("still alive", flush=True)


if __name__ == "__main__":
    main()
