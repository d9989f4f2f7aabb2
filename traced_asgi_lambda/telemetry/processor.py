"""A span processor for Lambda: collect during the invocation, export at its end.

The SDK's BatchSpanProcessor exports from a background thread on a timer. Lambda freezes
the environment as soon as the handler returns, so that thread sleeps with spans still
in its queue and they leave late or never. This processor keeps ended spans in a list and
exports them when the adapter says so: at the end of the invocation (sync mode), or from
the extension thread after the response has gone (after-response mode).

An exporter can hang (a dead collector, a black-holed port). The export itself runs on a
worker thread that exists only once the first flush needs it; the caller waits at most
its budget, so a hanging exporter costs the budget and never a Lambda timeout. Batches that
cannot be handed over or finished within the budget are dropped, counted, and logged once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections import deque

    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
    from opentelemetry.sdk.trace.export import SpanExporter

    from traced_asgi_lambda.telemetry.span_data import SpanData

    _ProcessorBase = SpanProcessor
else:
    # The SDK calls a span processor's methods and never checks its class, so this one
    # defines them all itself (tests/test_telemetry_tracer_provider.py checks it against the
    # SDK's SpanProcessor) and does not subclass it: importing opentelemetry.sdk.trace
    # costs a cold start about 25 ms, and LambdaTracerProvider needs none of it.
    _ProcessorBase = object

__all__ = ["InvocationSpanProcessor"]

# Batches waiting behind a stuck export are bounded, so a dead collector cannot grow memory.
MAX_PENDING_BATCHES = 16


class InvocationSpanProcessor(_ProcessorBase):
    """Buffers ended spans; :meth:`flush` exports them within a time budget."""

    def __init__(self, exporter: SpanExporter, *, log: logging.Logger | None = None) -> None:
        self.exporter = exporter
        self.log = log or logging.getLogger("traced_asgi_lambda")
        self.dropped_spans = 0
        self.exported_spans = 0
        self._spans: list[ReadableSpan | SpanData] = []
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._pending: deque[_Batch] | None = None
        self._worker: threading.Thread | None = None
        self._warned = False
        self._closed = False

    # SpanProcessor interface -------------------------------------------------------------

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def _on_ending(self, span: Span) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None and span.context.trace_flags.sampled:
            self._spans.append(span)  # list.append is atomic; spans may end on app threads

    @property
    def takes_span_data(self) -> bool:
        """Whether the recorder may hand spans over as SpanData (see ``span_data``).

        True when the exporter says it exports SpanData (``accepts_span_data = True``):
        then no ``ReadableSpan`` needs to be made for the adapter's own spans.
        """
        return getattr(self.exporter, "accepts_span_data", False) is True

    def take_span_data(self, spans: list[SpanData]) -> None:
        """Buffer sampled, ended spans given as SpanData, with those ended as ReadableSpan."""
        self._spans.extend(spans)  # list.extend is atomic, as append

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.flush(timeout_millis / 1000)

    def shutdown(self) -> None:
        self.flush(1.0)
        with self._lock:
            self._closed = True
            self._wakeup.notify_all()
        self.exporter.shutdown()

    # Flushing ----------------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        return len(self._spans)

    def flush(self, budget: float) -> bool:
        """Export what has ended so far, waiting at most ``budget`` seconds.

        Returns True when everything was exported. Never raises. Spans not confirmed
        within the budget count as dropped, even if a slow exporter delivers them later.
        """
        spans, self._spans = self._spans, []
        if not spans:
            return True
        if budget <= 0:
            self._drop(len(spans), "no time was left in the invocation to export them")
            return False
        export_within = getattr(self.exporter, "export_within", None)
        if export_within is not None:
            # An exporter that bounds its own time (socket timeouts from the deadline) is
            # called on this thread: no hand-off to the worker, which costs more than the
            # export of one invocation's spans.
            if export_within(spans, budget):
                self.exported_spans += len(spans)
                return True
            self._drop(len(spans), f"the exporter could not deliver within {budget:.3f}s")
            return False
        batch = _Batch(spans)
        with self._lock:
            pending = self._queue()
            if len(pending) >= MAX_PENDING_BATCHES:
                self._drop(len(spans), "the exporter is still busy with earlier batches")
                return False
            pending.append(batch)
            self._wakeup.notify()
        if batch.done.wait(budget):
            return batch.ok
        with self._lock:
            batch.abandoned = True
            if not batch.started:
                pending.remove(batch)
        self._drop(len(spans), f"the exporter did not finish within {budget:.3f}s")
        return False

    def _queue(self) -> deque[_Batch]:
        if self._pending is None:
            from collections import deque

            self._pending = deque()
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(
                target=self._run, name="traced-asgi-lambda-export", daemon=True
            )
            self._worker.start()
        return self._pending

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closed:
                    self._wakeup.wait()
                if not self._pending:
                    return
                batch = self._pending.popleft()
                batch.started = True
            batch.ok = self._export(batch)
            batch.done.set()

    def _export(self, batch: _Batch) -> bool:
        # Exporters without export_within (not ours) answer with the SDK's result.
        from opentelemetry.sdk.trace.export import SpanExportResult

        try:
            # SpanData only ever reaches an exporter that said it accepts it.
            result = self.exporter.export(batch.spans)  # type: ignore[arg-type]
        except Exception as exc:  # an exporter must never break the function
            failure = f"the exporter raised {type(exc).__name__}: {exc}"
        else:
            if result is SpanExportResult.SUCCESS:
                self.exported_spans += len(batch.spans)
                return True
            failure = "the exporter reported failure"
        if not batch.abandoned:  # an abandoned batch was already counted by its caller
            self._drop(len(batch.spans), failure)
        return False

    def _drop(self, count: int, reason: str) -> None:
        self.dropped_spans += count
        if not self._warned:
            # Once per environment: a dead collector would otherwise log on every call.
            self._warned = True
            self.log.warning(
                "dropped %d span(s): %s; further drops are counted in dropped_spans "
                "without logging",
                count,
                reason,
            )


class _Batch:
    """One flush's spans, and what became of them."""

    __slots__ = ("abandoned", "done", "ok", "spans", "started")

    def __init__(self, spans: Sequence[ReadableSpan | SpanData]) -> None:
        self.spans = spans
        self.done = threading.Event()
        self.ok = False
        self.started = False
        self.abandoned = False
