"""One local Lambda environment: an adapter whose spans, logs and metrics are kept in memory.

:class:`LocalRunner` wraps an app in a ``LambdaAdapter`` the way a deployed function does,
with a tracer provider whose exporter collects spans in memory and telemetry written as
JSON (as in Lambda) to a capture. Each :meth:`LocalRunner.run` is one invocation: the
first is the cold start, and the ones after it are warm, as in one execution environment.
Its :class:`Invocation` holds the response (or the error Lambda would report), the spans,
the log lines, the EMF metrics and anything else the app printed.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Mapping
from contextlib import nullcontext, redirect_stdout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

    from traced_asgi_lambda.types import ASGIApp

__all__ = ["Invocation", "LocalRunner", "SpanRecord", "service_for"]


@dataclass(frozen=True)
class SpanRecord:
    """A finished span as plain data: ids in hex, times in nanoseconds since the epoch."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str | None
    kind: str
    status: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    events: list[dict[str, Any]]

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6

    @classmethod
    def of(cls, span: ReadableSpan) -> SpanRecord:
        context = span.get_span_context()
        start = span.start_time or 0
        return cls(
            name=span.name,
            trace_id=f"{context.trace_id:032x}" if context else "",
            span_id=f"{context.span_id:016x}" if context else "",
            parent_id=f"{span.parent.span_id:016x}" if span.parent else None,
            kind=span.kind.name,
            status=span.status.status_code.name,
            start_ns=start,
            end_ns=span.end_time or start,
            attributes=dict(span.attributes or {}),
            events=[
                {
                    "name": event.name,
                    "at_ms": round((event.timestamp - start) / 1e6, 3),
                    "attributes": dict(event.attributes or {}),
                }
                for event in span.events
            ],
        )


@dataclass
class Invocation:
    """What one invocation did, as Lambda and CloudWatch would have seen it."""

    event: dict[str, Any]
    response: dict[str, Any] | None
    error: BaseException | None
    duration_ms: float
    spans: list[SpanRecord] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    output: list[str] = field(default_factory=list)

    @property
    def error_response(self) -> dict[str, str] | None:
        """The error document the Lambda Invoke API returns for a handler that raised."""
        if self.error is None:
            return None
        return {"errorMessage": str(self.error), "errorType": type(self.error).__name__}

    def source(self) -> str | None:
        """The translator that claimed the event, from the parse span."""
        for span in self.spans:
            if "traced_asgi_lambda.source" in span.attributes:
                return str(span.attributes["traced_asgi_lambda.source"])
        return None


def service_for(given: str | None, function_name: str, environ: Mapping[str, str]) -> str:
    """The service name, in the adapter's order, with the function name last (as in Lambda)."""
    return (
        given
        or environ.get("OTEL_SERVICE_NAME")
        or environ.get("POWERTOOLS_SERVICE_NAME")
        or function_name
    )


class LocalRunner:
    """An app behind a ``LambdaAdapter``, with its telemetry collected for display.

    ``adapter_options`` go to the adapter as they are (``lifespan``, ``on_error``, ...).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        function_name: str = "local-function",
        service: str | None = None,
        log_level: str | None = None,
        capture_stdout: bool = False,
        **adapter_options: Any,
    ) -> None:
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
            InMemorySpanExporter,
        )

        from traced_asgi_lambda.adapter import LambdaAdapter
        from traced_asgi_lambda.cli import CommandError
        from traced_asgi_lambda.exceptions import ConfigurationError
        from traced_asgi_lambda.telemetry.options import TelemetryOptions
        from traced_asgi_lambda.telemetry.provider import lambda_tracer_provider

        self.function_name = function_name
        self.service = service_for(service, function_name, os.environ)
        self.capture_stdout = capture_stdout
        self._capture = io.StringIO()
        self._exporter = InMemorySpanExporter()
        self.provider = lambda_tracer_provider(
            self._exporter,
            service=self.service,
            environ={"AWS_LAMBDA_FUNCTION_NAME": function_name, "AWS_REGION": "us-east-1"},
        )
        options = TelemetryOptions(
            service=self.service, log_json=True, log_level=log_level, stream=self._capture
        )
        try:
            self.handler = LambdaAdapter(
                app, tracer_provider=self.provider, telemetry=options, **adapter_options
            )
        except ConfigurationError as exc:  # such as an OTEL_* variable it cannot use
            self.provider.shutdown()
            raise CommandError(str(exc)) from None

    def run(self, event: dict[str, Any]) -> Invocation:
        """Invoke the handler once with ``event`` and a fresh context."""
        from traced_asgi_lambda.local import LocalContext

        self._capture.seek(0)
        self._capture.truncate()
        context = LocalContext(self.function_name)
        response: dict[str, Any] | None = None
        error: Exception | None = None
        started = time.perf_counter()
        # In Lambda whatever the app prints lands in the same log stream as our lines.
        with redirect_stdout(self._capture) if self.capture_stdout else nullcontext():
            try:
                response = self.handler(event, context)
            except Exception as exc:  # what Lambda would report as the invocation's error
                error = exc
        took = (time.perf_counter() - started) * 1000
        spans = sorted(self._exporter.get_finished_spans(), key=lambda s: s.start_time or 0)
        self._exporter.clear()
        invocation = Invocation(event, response, error, took, [SpanRecord.of(s) for s in spans])
        for line in self._capture.getvalue().splitlines():
            _sort_line(line, invocation)
        return invocation

    def close(self) -> None:
        """Shut the environment down: lifespan shutdown, final flush, loop closed."""
        with redirect_stdout(io.StringIO()) if self.capture_stdout else nullcontext():
            self.handler.close()
        self.provider.shutdown()

    def __enter__(self) -> LocalRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _sort_line(line: str, invocation: Invocation) -> None:
    """An EMF blob (it has ``_aws``), one of our JSON log lines, or the app's own output."""
    if not line.strip():
        return
    try:
        document = json.loads(line)
    except ValueError:
        document = None
    if isinstance(document, dict) and "_aws" in document:
        invocation.metrics.append(document)
    elif isinstance(document, dict) and "level" in document and "message" in document:
        invocation.logs.append(document)
    else:
        invocation.output.append(line)
