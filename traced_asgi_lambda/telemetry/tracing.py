"""One trace per invocation: the root span, a span per stage, and the flush at the end.

Both ``LambdaAdapter`` and ``@traced_handler`` run invocations through :class:`Tracing`, so
there is one implementation of cold starts, propagation, error recording and flushing.
Telemetry failures are caught here and nowhere else: a broken exporter or a bad trace
header never changes the response.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from traced_asgi_lambda.exceptions import ConfigurationError
from traced_asgi_lambda.telemetry.attributes import (
    faas_attributes,
    request_attributes,
    route_of,
    span_name,
)
from traced_asgi_lambda.telemetry.propagation import extract_parent, parse_propagators
from traced_asgi_lambda.telemetry.redaction import DEFAULT_REDACTED_QUERY
from traced_asgi_lambda.telemetry.triggers import message_trace_headers

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context

    from traced_asgi_lambda.telemetry.extension import AfterResponseFlusher
    from traced_asgi_lambda.types import LambdaContext

__all__ = ["Invocation", "Tracing"]

STAGE_NAMES = {
    "parse": "parse event",
    "lifespan": "lifespan startup",
    "app": "asgi app",
    "encode": "encode response",
}


class Tracing:
    """The tracing state of one adapter or decorated handler: tracer, cold start, flush."""

    def __init__(
        self,
        provider: trace.TracerProvider,
        *,
        environ: Mapping[str, str],
        flush_timeout: float = 2.0,
        flush_margin: float = 0.2,
        redacted_query: frozenset[str] = DEFAULT_REDACTED_QUERY,
        log: logging.Logger | None = None,
    ) -> None:
        from traced_asgi_lambda import __version__

        self.provider = provider
        self.tracer = provider.get_tracer("traced_asgi_lambda", __version__)
        self.flush_timeout = flush_timeout
        self.flush_margin = flush_margin
        self.redacted_query = redacted_query
        try:
            self.propagation = parse_propagators(environ.get("OTEL_PROPAGATORS"))
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        self.log = log or logging.getLogger("traced_asgi_lambda")
        # Provisioned concurrency initialises ahead of traffic, so no request waits for
        # it: the FaaS conventions then call the first invocation warm.
        self.cold_start = environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "provisioned-concurrency"
        self.after_response: AfterResponseFlusher | None = None  # in after-response mode
        self.pending_budget = 0.0  # the budget the after-response flush may use

    @contextmanager
    def invocation(
        self,
        event: object,
        context: LambdaContext,
        *,
        trigger: str,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[Invocation]:
        cold_start, self.cold_start = self.cold_start, False
        span, token = self._start_root(event, context, trigger, headers or {}, cold_start)
        invocation = Invocation(self, span)
        try:
            yield invocation
        except BaseException as exc:
            _record_error(span, exc)
            raise
        finally:
            span.end()
            context_api.detach(token)
            self.finish(context)

    def _start_root(
        self,
        event: object,
        context: LambdaContext,
        trigger: str,
        headers: Mapping[str, str],
        cold_start: bool,
    ) -> tuple[trace.Span, Token[Context]]:
        parent = extract_parent(headers, os.environ.get("_X_AMZN_TRACE_ID"), self.propagation)
        links = list(parent.links)
        if trigger != "http":
            links.extend(_message_links(event))
        span = self.tracer.start_span(
            context.function_name,
            context=parent.context,
            kind=SpanKind.CONSUMER if trigger == "pubsub" else SpanKind.SERVER,
            attributes=faas_attributes(context, trigger, cold_start),
            links=links,
        )
        token = context_api.attach(trace.set_span_in_context(span))
        return span, token

    def flush_budget(self, remaining_ms: int) -> float:
        """Seconds the flush may take: never past the deadline minus the safety margin."""
        return max(0.0, min(self.flush_timeout, remaining_ms / 1000 - self.flush_margin))

    def finish(self, context: LambdaContext) -> None:
        """Hand the invocation's spans to the exporter, within the budget; never raises."""
        try:
            budget = self.flush_budget(context.get_remaining_time_in_millis())
            if self.after_response is not None:
                self.pending_budget = budget
                self.after_response.invocation_finished(request_id=context.aws_request_id)
            else:
                self.flush(budget)
        except Exception as exc:  # telemetry must never fail the invocation
            self.log.warning("flushing telemetry failed: %s: %s", type(exc).__name__, exc)

    def flush_pending(self) -> None:
        """The after-response flush, run by the extension thread once the response is out."""
        self.flush(self.pending_budget)

    def flush(self, budget: float) -> None:
        force_flush = getattr(self.provider, "force_flush", None)
        if force_flush is not None:
            force_flush(int(budget * 1000))

    def shutdown(self) -> None:
        """Final flush when the environment shuts down (SIGTERM or exit)."""
        if self.after_response is not None:
            self.after_response.stop()
        self.flush(0.2)
        shutdown = getattr(self.provider, "shutdown", None)
        if shutdown is not None:
            shutdown()


class Invocation:
    """The running invocation: child spans for stages, and attributes as they become known."""

    __slots__ = ("_context", "root", "tracing")

    def __init__(self, tracing: Tracing, root: trace.Span) -> None:
        self.tracing = tracing
        self.root = root
        self._context = trace.set_span_in_context(root)

    @contextmanager
    def stage(self, stage: str, **attributes: Any) -> Iterator[trace.Span]:
        """A child span for one stage; an exception leaving it is recorded, then re-raised."""
        span = self.tracing.tracer.start_span(
            STAGE_NAMES.get(stage, stage),
            context=self._context,
            kind=SpanKind.INTERNAL,
            attributes={"traced_asgi_lambda.stage": stage, **attributes},
        )
        try:
            yield span
        except BaseException as exc:
            _record_error(span, exc)
            raise
        finally:
            span.end()

    def request(self, scope: Mapping[str, Any]) -> None:
        """Name the root span and set the HTTP request attributes."""
        self.root.update_name(scope["method"])
        self.root.set_attributes(request_attributes(scope, self.tracing.redacted_query))

    def response(
        self, scope: MutableMapping[str, Any], status: int, error: BaseException | None
    ) -> None:
        """Set the route (known once the app has routed) and the outcome on the root span."""
        route = route_of(scope)
        self.root.update_name(span_name(scope["method"], route))
        if route:
            self.root.set_attribute("http.route", route)
        self.root.set_attribute("http.response.status_code", status)
        # HTTP span status: 5xx is an error of this server; 4xx is the client's, so the
        # SERVER span stays UNSET (semconv "Status" for HTTP server spans).
        if status >= 500:
            error_type = type(error).__qualname__ if error is not None else str(status)
            self.root.set_attribute("error.type", error_type)
            self.root.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))

    def encoded(self, span: trace.Span, body_size: int, out: Mapping[str, Any]) -> None:
        """Describe the encoded response on the encode span: body size and base64 or not."""
        span.set_attribute("traced_asgi_lambda.response.body_size", body_size)
        base64 = out.get("isBase64Encoded") is True or out.get("bodyEncoding") == "base64"
        span.set_attribute("traced_asgi_lambda.response.base64", base64)

    def response_started(self, span: trace.Span, at_ns: int | None) -> None:
        """Mark time to first byte on the app span as an event at the moment it happened."""
        if at_ns is not None:
            span.add_event("http.response.start", timestamp=at_ns)


def _record_error(span: trace.Span, exc: BaseException) -> None:
    span.record_exception(exc)
    span.set_attribute("error.type", type(exc).__qualname__)
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))


def _message_links(event: object) -> list[trace.Link]:
    from traced_asgi_lambda.telemetry.propagation import link_from_header

    links: list[trace.Link] = []
    for kind, header in message_trace_headers(event):
        link = link_from_header(kind, header)
        if link is not None:
            links.append(link)
    return links
