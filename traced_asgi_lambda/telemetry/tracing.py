"""The OpenTelemetry side of an invocation: the root span, stage spans, and span export.

:class:`~traced_asgi_lambda.telemetry.invocation.Telemetry` drives it, for ``LambdaAdapter``
and ``@traced_handler`` alike, so there is one implementation of propagation, error
recording and flushing.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from traced_asgi_lambda.exceptions import ConfigurationError
from traced_asgi_lambda.telemetry.attributes import (
    faas_attributes,
    function_attributes,
    request_attributes,
    span_name,
)
from traced_asgi_lambda.telemetry.propagation import (
    extract_parent,
    link_from_header,
    parse_propagators,
)
from traced_asgi_lambda.telemetry.recorded_spans import DeferredSpan, RecordedSpan
from traced_asgi_lambda.telemetry.recorder import recorder_for
from traced_asgi_lambda.telemetry.redaction import DEFAULT_REDACTED_QUERY
from traced_asgi_lambda.telemetry.triggers import message_trace_headers

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context

    from traced_asgi_lambda.telemetry.outcome import Outcome
    from traced_asgi_lambda.types import LambdaContext

__all__ = ["STAGE_NAMES", "Tracing", "record_error"]

STAGE_NAMES = {
    "parse": "parse event",
    "lifespan": "lifespan startup",
    "app": "asgi app",
    "encode": "encode response",
}


class Tracing:
    """The tracing state of one adapter or decorated handler: spans, propagation, export."""

    def __init__(
        self,
        provider: trace.TracerProvider,
        *,
        environ: Mapping[str, str],
        redacted_query: frozenset[str] = DEFAULT_REDACTED_QUERY,
    ) -> None:
        self.provider = provider
        # Our provider or an SDK one gets cheap recorded spans; any other its own tracer's.
        self.recorder = recorder_for(provider)
        self.redacted_query = redacted_query
        try:
            self.propagation = parse_propagators(environ.get("OTEL_PROPAGATORS"))
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        self._function: tuple[str | None, dict[str, Any]] = (None, {})  # see start_root

    @cached_property
    def tracer(self) -> trace.Tracer:
        """The provider's tracer, asked for only when spans are not recorded: asking a
        LambdaTracerProvider for one builds the SDK's provider."""
        from traced_asgi_lambda import __version__

        return self.provider.get_tracer("traced_asgi_lambda", __version__)

    def start_root(
        self,
        event: object,
        context: LambdaContext,
        trigger: str,
        headers: Mapping[str, str],
        cold_start: bool,
        pending: list[Any],
        env_trace_header: str | None,
    ) -> tuple[trace.Span, Token[Context]]:
        """The root span, made current. A recorded one ends into ``pending``, for report().

        ``env_trace_header`` is Lambda's ``_X_AMZN_TRACE_ID`` for this invocation.
        """
        parent = extract_parent(headers, env_trace_header, self.propagation)
        links = parent.links  # a list of its own, made by extract_parent for this call
        if trigger != "http":
            links.extend(_message_links(event))
        kind = SpanKind.CONSUMER if trigger == "pubsub" else SpanKind.SERVER
        invoked_arn = context.invoked_function_arn
        if self._function[0] != invoked_arn:  # parsed once per function alias
            self._function = (invoked_arn, function_attributes(invoked_arn))
        attributes = faas_attributes(context, trigger, cold_start, self._function[1])
        if self.recorder is not None:
            span = self.recorder.start_root(
                context.function_name, parent.context, kind, attributes, links, pending
            )
        else:
            span = self.tracer.start_span(
                context.function_name,
                context=parent.context,
                kind=kind,
                attributes=attributes,
                links=links,
            )
        token = context_api.attach(trace.set_span_in_context(span, parent.context))
        return span, token

    def end_root(self, span: trace.Span | None, token: Token[Context] | None) -> None:
        if span is not None:
            span.end()
        if token is not None:
            context_api.detach(token)

    def context_of(self, root: trace.Span | None) -> Context | None:
        # Only SDK-tracer stage spans need a parent context; recorded ones hold the root.
        if root is None or self.recorder is not None:
            return None
        return trace.set_span_in_context(root)

    def stage_span(
        self,
        root: trace.Span | None,
        parent: Context | None,
        stage: str,
        pending: list[DeferredSpan],
    ) -> Any:
        """An INTERNAL child span for one stage; recorded ones end into ``pending``."""
        name = STAGE_NAMES.get(stage, stage)
        attributes = {"traced_asgi_lambda.stage": stage}
        if self.recorder is not None and root is not None:
            return DeferredSpan(root, name, attributes, pending)
        return self.tracer.start_span(
            name, context=parent, kind=SpanKind.INTERNAL, attributes=attributes
        )

    def set_request(self, root: trace.Span | None, scope: Mapping[str, Any]) -> None:
        """Name the root span by the method and set the HTTP request attributes."""
        if root is None:
            return
        root.update_name(scope["method"])
        if isinstance(root, RecordedSpan):
            # Computed when the span is reported: after the response in after-response mode.
            root.set_attributes_later(partial(request_attributes, scope, self.redacted_query))
        else:
            root.set_attributes(request_attributes(scope, self.redacted_query))

    def set_response(self, root: trace.Span | None, method: str, outcome: Outcome) -> None:
        """Name the root span by its route and set the outcome."""
        if root is None or outcome.status is None:
            return
        status = outcome.status
        self.set_route(root, method, outcome.route)
        root.set_attribute("http.response.status_code", status)
        # HTTP span status: 5xx is an error of this server; 4xx is the client's, so the
        # SERVER span stays UNSET (semconv "Status" for HTTP server spans).
        if status >= 500:
            root.set_attribute("error.type", outcome.error_type or str(status))
            root.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))

    def set_route(self, root: trace.Span | None, method: str, route: str | None) -> None:
        """Name the root span ``{method} {route}`` and record the route, when known."""
        if root is None:
            return
        root.update_name(span_name(method, route))
        if route:
            root.set_attribute("http.route", route)

    def time_out(self, root: trace.Span | None, open_span: Any) -> None:
        """End the open stage span and the root span as timed out (``error.type=timeout``)."""
        for span in (open_span, root):
            if span is not None and span.is_recording():
                span.set_attribute("error.type", "timeout")
                span.set_status(Status(StatusCode.ERROR, "the Lambda deadline is near"))
                span.end()

    @staticmethod
    def record_error(span: Any, exc: BaseException) -> None:
        if span is not None:
            record_error(span, exc)

    def report(self, pending: list[Any]) -> None:
        """Hand the invocation's ended recorded spans (root and stages) to the processors."""
        if self.recorder is not None and pending:
            self.recorder.report(pending)

    def flush(self, budget: float) -> None:
        sole = self.recorder.sole_processor() if self.recorder is not None else None
        if sole is not None:
            # What force_flush below comes down to, without the SDK's loop over processors
            # (and its early return at 0 ms: our processor counts what it cannot export).
            sole.flush(budget)
            return
        force_flush = getattr(self.provider, "force_flush", None)
        if force_flush is not None:
            # At least 1 ms: the SDK returns at once for 0 without asking any processor, and
            # the spans would stay buffered, uncounted, to be lost when Lambda stops.
            force_flush(max(1, int(budget * 1000)))

    def shutdown(self) -> None:
        """Final flush when the environment shuts down (SIGTERM or exit)."""
        self.flush(0.2)
        shutdown = getattr(self.provider, "shutdown", None)
        if shutdown is not None:
            shutdown()


def record_error(span: Any, exc: BaseException) -> None:
    span.record_exception(exc)
    span.set_attribute("error.type", type(exc).__qualname__)
    span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))


def _message_links(event: object) -> list[trace.Link]:
    links: list[trace.Link] = []
    for kind, header in message_trace_headers(event):
        link = link_from_header(kind, header)
        if link is not None:
            links.append(link)
    return links
