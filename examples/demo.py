"""``make demo``: an example FastAPI app through the real adapter, telemetry on the console.

Part 1 answers one request from every event source, each built as that source's real
payload, and prints the Lambda responses. Part 2 runs a cold call, a warm call, a 404, an
app error and a binary download with every signal on: the access log and stage timings,
the EMF metrics lines, and the spans of each trace.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from examples.fastapi_app import app
from traced_asgi_lambda import LambdaAdapter, TelemetryOptions
from traced_asgi_lambda.local import SOURCES, HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry import lambda_tracer_provider


class SpanTree(SpanExporter):
    """Prints each exported trace as an indented tree with durations."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        by_parent: dict[int | None, list[ReadableSpan]] = {}
        for span in spans:
            parent = span.parent.span_id if span.parent else None
            by_parent.setdefault(parent, []).append(span)
        ids = {span.context.span_id for span in spans}
        roots = [s for s in spans if s.parent is None or s.parent.span_id not in ids]
        for root in roots:
            self._print(root, by_parent, 0)
        return SpanExportResult.SUCCESS

    def _print(
        self, span: ReadableSpan, by_parent: dict[int | None, list[ReadableSpan]], depth: int
    ) -> None:
        took = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
        status = span.status.status_code.name
        print(f"  {'  ' * depth}└─ {span.name}  {took:.2f} ms  [{status}]")
        children = sorted(by_parent.get(span.context.span_id, []), key=lambda s: s.start_time or 0)
        for child in children:
            self._print(child, by_parent, depth + 1)


def every_source() -> None:
    print("== Part 1: one request from every event source (telemetry off)\n")
    quiet = TelemetryOptions(logs=False, metrics=False)
    with LambdaAdapter(app, telemetry=quiet) as handler:
        for source in SOURCES:
            request = HttpRequest("GET", "/items/42", query=[("q", "hello world")])
            response = handler(build_event(source, request), LocalContext("demo"))
            status = response.get("statusCode", response.get("status"))
            print(f"  {source:<12} -> {status}  {json.dumps(response)[:110]}")


def full_telemetry() -> None:
    print("\n== Part 2: full telemetry on the HTTP API source\n")
    provider = lambda_tracer_provider(SpanTree(), service="demo-api", environ={})
    options = TelemetryOptions(service="demo-api", log_level="DEBUG")
    requests = [
        ("cold start", HttpRequest("GET", "/items/1", query=[("q", "first"), ("token", "hidden")])),
        ("warm call", HttpRequest("GET", "/items/2", headers=[("authorization", "Bearer hidden")])),
        ("not found", HttpRequest("GET", "/missing")),
        ("app error", HttpRequest("GET", "/boom")),
        ("binary download", HttpRequest("GET", "/logo.png")),
    ]
    with LambdaAdapter(app, tracer_provider=provider, telemetry=options) as handler:
        for title, request in requests:
            print(f"-- {title}: {request.method} {request.path}", flush=True)
            response = handler(build_event("http-api", request), LocalContext("demo"))
            print(f"  response: {json.dumps(response)[:140]}\n", flush=True)
    provider.shutdown()


def main() -> None:
    every_source()
    full_telemetry()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
