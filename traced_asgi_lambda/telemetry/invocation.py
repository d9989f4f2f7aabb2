"""One helper per invocation that opens the spans, binds the log context and times the stages.

``LambdaAdapter`` and ``@traced_handler`` both run each invocation inside
:meth:`Telemetry.invocation`; what it learns goes into one
:class:`~traced_asgi_lambda.telemetry.outcome.Outcome`, from which the access log line,
the EMF metrics and the OpenTelemetry metrics are written. Telemetry failures are caught
here and in the emitters, never in the adapter: a broken exporter, stream or trace
header never changes a response.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from functools import partial
from typing import TYPE_CHECKING, Any

from traced_asgi_lambda.events._encode import body_is_base64
from traced_asgi_lambda.telemetry.attributes import route_of
from traced_asgi_lambda.telemetry.clock import process_age_ms
from traced_asgi_lambda.telemetry.null import NullLogger, NullSpan
from traced_asgi_lambda.telemetry.outcome import Outcome
from traced_asgi_lambda.telemetry.triggers import trace_headers
from traced_asgi_lambda.telemetry.watchdog import Watchdog, fire_at

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from traced_asgi_lambda.telemetry.emf import EmfMetrics
    from traced_asgi_lambda.telemetry.extension import AfterResponseFlusher
    from traced_asgi_lambda.telemetry.logs import InvocationLogger
    from traced_asgi_lambda.telemetry.otel_metrics import OtelMetrics
    from traced_asgi_lambda.telemetry.tracing import Tracing
    from traced_asgi_lambda.types import LambdaContext

__all__ = ["Invocation", "Stage", "Telemetry"]

_NULL_SPAN = NullSpan()


def _ms_since(started_ns: int) -> float:
    """Milliseconds since ``started_ns`` (a ``perf_counter_ns`` reading).

    Timed in integer nanoseconds, so a duration is a whole number of nanoseconds: its
    shortest repr, which EMF and the logs write, has a few digits rather than the
    seventeen of a difference of two float seconds, and takes about 40% less time to
    produce (float formatting was 3% of a traced call's instructions).
    """
    return (time.perf_counter_ns() - started_ns) / 1e6


class Telemetry:
    """Everything one adapter (or decorated handler) records about its invocations."""

    def __init__(
        self,
        *,
        tracing: Tracing | None,
        log: InvocationLogger,
        emf: EmfMetrics | None,
        meters: OtelMetrics | None,
        environ: Mapping[str, str],
        flush_timeout: float,
        flush_margin: float,
        internal: Any = None,
        timeout_margin: float | None = 0.5,
    ) -> None:
        self.tracing = tracing
        self.log = log
        # Where the adapter's own warnings and errors go: our logger when logs are on, else
        # the stdlib "traced_asgi_lambda" logger (as the exporters' and EMF's already do),
        # so a failing telemetry step is never silent.
        self.internal: Any = internal if internal is not None else log
        # After-response mode (set by telemetry_for): the extension thread that writes the
        # logs and metrics and exports, once the handler has returned; see finish().
        self.after_response: AfterResponseFlusher | None = None
        self.pending_budget = 0.0  # the budget that flush may use
        self.pending_work: Callable[[], None] | None = None  # what it runs first
        self.timeout_margin = timeout_margin or 0.0
        self.watchdog = None if timeout_margin is None else Watchdog(self._on_timeout)
        self.emf = emf
        self.meters = meters
        self.flush_timeout = flush_timeout
        self.flush_margin = flush_margin
        # Provisioned concurrency initialises ahead of traffic, so no request waits for
        # it: the FaaS conventions then call the first invocation warm.
        self.cold_start = environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "provisioned-concurrency"
        self.environ = environ  # live (os.environ in Lambda): read per invocation
        # Who reads _X_AMZN_TRACE_ID: the root span's propagation and the logs' X-Ray id.
        # With neither, nobody pays for the read (an absent variable raises and catches
        # KeyError inside os.environ.get).
        self.reads_trace_env = tracing is not None or not isinstance(log, NullLogger)

    def invocation(
        self,
        event: object,
        context: LambdaContext,
        *,
        trigger: str,
    ) -> Invocation:
        """Start an invocation: the root span, the log context, the watchdog.

        Use the result as a context manager around the handler's work; leaving it ends the
        spans and writes the logs and metrics. (A class, not a ``@contextmanager``
        generator: this runs on every call, and the generator machinery cost more than
        the rest of this method.)
        """
        started = time.perf_counter_ns()
        cold_start, self.cold_start = self.cold_start, False
        outcome = Outcome(context.function_name, context.aws_request_id, cold_start, trigger)
        if cold_start:
            outcome.init_duration_ms = process_age_ms()
        span = token = None
        pending: list[Any] = []  # ended recorded spans, handed to the processors on report
        # The runtime sets it afresh for each invocation ("Defined runtime environment
        # variables"); read once here for the root span's parent and the logs' X-Ray id.
        env_trace_header = self.environ.get("_X_AMZN_TRACE_ID") if self.reads_trace_env else None
        if self.tracing is not None:
            headers = trace_headers(event) if trigger == "http" else {}
            span, token = self.tracing.start_root(
                event, context, trigger, headers, cold_start, pending, env_trace_header
            )
            span_context = span.get_span_context()
            outcome.trace_id = f"{span_context.trace_id:032x}"
            outcome.span_id = f"{span_context.span_id:016x}"
        binding = self.log.bind_invocation(
            context,
            cold_start=cold_start,
            event=event,
            trace_id=outcome.trace_id,
            span_id=outcome.span_id,
            env_trace_header=env_trace_header,
        )
        if binding is not None:
            outcome.correlation_id = binding.head.get("correlation_id")
        invocation = Invocation(self, span, outcome, context, started, pending)
        invocation.token, invocation.binding = token, binding
        if self.watchdog is not None:
            # The request's log context (and current span), for a timeout report made on
            # the watchdog thread: its lines carry the same keys as the request's own.
            invocation.log_context = contextvars.copy_context()
            remaining = context.get_remaining_time_in_millis() / 1000
            at = fire_at(time.monotonic(), remaining, self.timeout_margin)
            self.watchdog.arm(invocation, at)
        return invocation

    def _left(self, invocation: Invocation, exc: BaseException | None) -> None:
        """The end of an invocation (``Invocation.__exit__``): errors, spans, logs, metrics."""
        outcome, span = invocation.outcome, invocation.root
        try:
            if exc is not None:
                outcome.error_type = type(exc).__qualname__
                if self.tracing is not None:
                    self.tracing.record_error(span, exc)
                # It leaves for Lambda here: logged once, with a structured traceback,
                # unless the adapter already logged it where it handled it.
                if exc is not invocation.reported:
                    self.log.exception(f"invocation failed: {type(exc).__qualname__}", exc)
        finally:
            if self.watchdog is not None:
                self.watchdog.disarm(invocation)
            if invocation.claim():
                outcome.duration_ms = _ms_since(invocation.started)
                if self.tracing is not None:
                    self.tracing.end_root(span, invocation.token)
                self.finish(outcome, invocation.context, invocation.binding, invocation.pending)
            else:  # the watchdog reported it already; only this thread's context is left
                if self.tracing is not None:
                    self.tracing.end_root(None, invocation.token)
                self.log.end_invocation(invocation.binding, failed=True)

    def finish(
        self, outcome: Outcome, context: LambdaContext, binding: Any, pending: list[Any]
    ) -> None:
        """Log, measure, and export within the budget; never raises.

        In after-response mode all of it but resetting this thread's log context happens
        on the extension thread once the handler has returned, in a copy of this context
        (so the access line still carries the request's ids): the response waits for none
        of it.
        """
        log = self.log
        try:
            remaining = context.get_remaining_time_in_millis() / 1000
            budget = max(0.0, min(self.flush_timeout, remaining - self.flush_margin))
            tracing = self.tracing
            if self.after_response is not None:
                later = contextvars.copy_context()
                self.pending_budget = budget
                self.pending_work = partial(later.run, self._record, outcome, budget, pending)
                self.after_response.invocation_finished(request_id=context.aws_request_id)
                log.end_invocation(binding, failed=outcome.failed)
                return
            self._record(outcome, budget, pending)
            log.end_invocation(binding, failed=outcome.failed)
            if tracing is not None:
                tracing.flush(budget)
        except Exception as exc:  # telemetry must never fail the invocation
            self.internal.warning("telemetry failed: %s: %s", type(exc).__name__, exc)

    def flush_pending(self) -> None:
        """Run by the extension thread once the handler has returned: the work, the flush."""
        work, self.pending_work = self.pending_work, None
        try:
            if work is not None:
                work()
        finally:
            if self.tracing is not None:
                self.tracing.flush(self.pending_budget)

    def _record(self, outcome: Outcome, budget: float, pending: list[Any]) -> None:
        """The stage spans, access line, stage line, EMF and OpenTelemetry metrics of a call."""
        if self.tracing is not None:
            self.tracing.report(pending)
        if self.emf is not None:
            # Before the access line, whose write flushes the stream for both; EMF flushes
            # itself only when no log line will follow (logs off, or above INFO). A line
            # left in a buffered stdout would reach CloudWatch only with the next flush.
            self.emf.emit(outcome, flush=not self.log.enabled_for(logging.INFO))
        self.log.access(outcome)
        self.log.stages(outcome)
        if self.meters is not None:
            self.meters.record(outcome)
            self.meters.flush(budget)

    def _on_timeout(self, token: object) -> None:
        """Report a still-running invocation as a timeout: end its spans, log, measure, flush.

        Runs on the watchdog thread, in a copy of the request's context taken when it began.
        """
        invocation = token
        assert isinstance(invocation, Invocation)
        if not invocation.claim():
            return  # it finished on its own in the meantime
        assert invocation.log_context is not None, "armed with it (Telemetry.invocation)"
        invocation.log_context.run(self._report_timeout, invocation)

    def _report_timeout(self, invocation: Invocation) -> None:
        try:
            outcome = invocation.outcome
            outcome.timed_out = True
            outcome.error_type = "timeout"
            outcome.duration_ms = _ms_since(invocation.started)
            if invocation.scope is not None:
                # Frameworks route before the endpoint runs: the route is often known.
                outcome.route = route_of(invocation.scope)
            if self.tracing is not None:
                if outcome.method:
                    self.tracing.set_route(invocation.root, outcome.method, outcome.route)
                self.tracing.time_out(invocation.root, invocation.open_span)
            context = invocation.context
            self.log.error(
                "invocation about to time out: %d ms left, still in stage %s",
                context.get_remaining_time_in_millis(),
                invocation.open_stage or "-",
                method=outcome.method,
                path=outcome.path,
                route=outcome.route,
            )
            self.finish(outcome, context, None, invocation.pending)
        except Exception as exc:  # telemetry must never fail the invocation
            self.internal.warning("timeout report failed: %s: %s", type(exc).__name__, exc)

    def shutdown(self) -> None:
        """Final flush when the environment shuts down (SIGTERM or exit); never raises.

        It runs from close(), a signal handler or atexit: a broken exporter is reported,
        and every later step (the log record factory's removal included) still runs.
        """
        steps: list[Callable[[], object]] = []
        if self.watchdog is not None:
            steps.append(self.watchdog.stop)
        if self.after_response is not None:
            steps.append(self.after_response.stop)
        if self.tracing is not None:
            steps.append(self.tracing.shutdown)
        if self.meters is not None:
            steps.append(partial(self.meters.flush, 0.2))
        steps.append(self.log.close)
        for step in steps:
            try:
                step()
            except Exception as exc:  # telemetry must never fail the shutdown
                self.internal.warning("telemetry shutdown: %s: %s", type(exc).__name__, exc)


class Invocation:
    """The running invocation: stage spans and timings, and facts as they become known."""

    __slots__ = (
        "_claimed",
        "_context",
        "binding",
        "context",
        "log_context",
        "open_span",
        "open_stage",
        "outcome",
        "pending",
        "reported",
        "root",
        "scope",
        "started",
        "telemetry",
        "token",
    )

    def __init__(
        self,
        telemetry: Telemetry,
        root: Span | None,
        outcome: Outcome,
        context: LambdaContext,
        started: int,
        pending: list[Any],
    ) -> None:
        self.telemetry = telemetry
        self.root = root
        self.outcome = outcome
        self.context = context
        self.started = started
        self.open_stage: str | None = None  # the stage running now, for a timeout report
        self.open_span: Any = None
        self.pending = pending  # ended recorded spans, turned into spans on report
        self.scope: MutableMapping[str, Any] | None = None  # set once the request is known
        self._claimed = threading.Lock()
        self.reported: BaseException | None = None  # an error already logged by the adapter
        tracing = telemetry.tracing
        self._context = None if tracing is None else tracing.context_of(root)
        self.token: Any = None  # the OpenTelemetry context token of the root span
        self.binding: Any = None  # the log context's token
        self.log_context: contextvars.Context | None = None  # see Telemetry.invocation

    def __enter__(self) -> Invocation:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        self.telemetry._left(self, exc)

    def stage(self, stage: str) -> Stage:
        """Time a stage, in a child span when tracing; an exception is recorded, re-raised."""
        return Stage(self, stage)

    def claim(self) -> bool:
        """True for the one caller (the handler or the watchdog) that reports this call."""
        return self._claimed.acquire(blocking=False)

    def parsed(self, span: Any, source: str) -> None:
        """Note which translator claimed the event, on the parse span."""
        span.set_attribute("traced_asgi_lambda.source", source)

    def request(self, scope: Mapping[str, Any]) -> None:
        """Note the request; name the root span and set the HTTP request attributes."""
        self.scope = scope  # type: ignore[assignment]
        outcome = self.outcome
        outcome.method = scope["method"]
        outcome.scheme = scope["scheme"]
        outcome.path = scope["path"]
        client = scope.get("client")
        outcome.client_address = client[0] if client else None
        for name, value in scope["headers"]:
            if name == b"user-agent":
                outcome.user_agent = value.decode("latin-1")
                break
        tracing = self.telemetry.tracing
        if tracing is not None:
            tracing.set_request(self.root, scope)

    def response(
        self, scope: MutableMapping[str, Any], status: int, error: BaseException | None
    ) -> None:
        """The route (known once the app has routed) and the outcome."""
        outcome = self.outcome
        outcome.route = route_of(scope)
        outcome.status = status
        if error is not None:
            outcome.error_type = type(error).__qualname__
        elif status >= 500:
            outcome.error_type = str(status)
        tracing = self.telemetry.tracing
        if tracing is not None:
            tracing.set_response(self.root, scope["method"], outcome)

    def response_started(self, span: Any, at_ns: int | None) -> None:
        """Mark time to first byte on the app span as an event at the moment it happened."""
        if at_ns is not None and span is not _NULL_SPAN:
            span.add_event("http.response.start", timestamp=at_ns)

    def encoded(self, span: Any, body_size: int, out: Mapping[str, Any]) -> None:
        """Note the encoded response: body size, and base64 or not."""
        self.outcome.response_bytes = body_size
        span.set_attribute("traced_asgi_lambda.response.body_size", body_size)
        span.set_attribute("traced_asgi_lambda.response.base64", body_is_base64(out))


class Stage:
    """The context manager of one stage. A class, not a generator: it runs four times a call."""

    __slots__ = ("invocation", "name", "span", "started")

    def __init__(self, invocation: Invocation, name: str) -> None:
        self.invocation = invocation
        self.name = name
        self.span: Any = _NULL_SPAN
        self.started = 0

    def __enter__(self) -> Any:
        invocation = self.invocation
        tracing = invocation.telemetry.tracing
        if tracing is not None:
            self.span = tracing.stage_span(
                invocation.root, invocation._context, self.name, invocation.pending
            )
        invocation.open_stage, invocation.open_span = self.name, self.span
        self.started = time.perf_counter_ns()
        return self.span

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        invocation = self.invocation
        invocation.outcome.stages[self.name] = _ms_since(self.started)
        invocation.open_stage = invocation.open_span = None
        span = self.span
        if span is not _NULL_SPAN:
            if error is not None:
                invocation.telemetry.tracing.record_error(span, error)  # type: ignore[union-attr]
            if span.is_recording():
                span.end()  # unless a timeout report ended it
