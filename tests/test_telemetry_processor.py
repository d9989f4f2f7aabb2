"""InvocationSpanProcessor: export at the flush, within the budget, whatever the exporter does."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from traced_asgi_lambda.telemetry.processor import MAX_PENDING_BATCHES, InvocationSpanProcessor


class RaisingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        raise ConnectionError("collector unreachable")


class FailingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.FAILURE


class HangingExporter(SpanExporter):
    """Blocks until released, like an export to a black-holed port."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls += 1
        self.release.wait(30)
        return SpanExportResult.SUCCESS


def make(exporter: SpanExporter) -> tuple[TracerProvider, InvocationSpanProcessor]:
    processor = InvocationSpanProcessor(exporter)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    return provider, processor


def emit(provider: TracerProvider, count: int = 3) -> None:
    tracer = provider.get_tracer("test")
    for index in range(count):
        tracer.start_span(f"span-{index}").end()


def test_spans_wait_for_the_flush() -> None:
    """Ended spans stay buffered until flush, which exports them all in one batch."""
    exporter = InMemorySpanExporter()
    provider, processor = make(exporter)
    emit(provider)
    assert exporter.get_finished_spans() == ()
    assert processor.buffered == 3
    assert processor.flush(1.0) is True
    assert [s.name for s in exporter.get_finished_spans()] == ["span-0", "span-1", "span-2"]
    assert processor.exported_spans == 3
    assert processor.flush(1.0) is True  # nothing left: no export call at all
    provider.shutdown()


@pytest.mark.parametrize(
    ("exporter", "reason"),
    [
        pytest.param(RaisingExporter(), "raised ConnectionError", id="raises"),
        pytest.param(FailingExporter(), "reported failure", id="fails"),
    ],
)
def test_exporter_failures_are_counted_and_logged_once(
    exporter: SpanExporter, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing exporter loses only its batch, counted, with one log line per environment."""
    provider, processor = make(exporter)
    with caplog.at_level(logging.WARNING, logger="traced_asgi_lambda"):
        for _ in range(3):
            emit(provider, 2)
            assert processor.flush(1.0) is False
    assert processor.dropped_spans == 6
    assert len(caplog.records) == 1
    assert reason in caplog.text


def test_hanging_exporter_costs_at_most_the_budget(caplog: pytest.LogCaptureFixture) -> None:
    """A hanging exporter delays the flush by the budget, not more, and drops are counted."""
    exporter = HangingExporter()
    provider, processor = make(exporter)
    emit(provider, 2)
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="traced_asgi_lambda"):
        assert processor.flush(0.1) is False
    elapsed = time.perf_counter() - started
    assert 0.1 <= elapsed < 0.5
    assert processor.dropped_spans == 2
    assert "did not finish within 0.100s" in caplog.text
    # While it still hangs, later batches queue (bounded) and are given up on in time.
    for _ in range(MAX_PENDING_BATCHES + 2):
        emit(provider, 1)
        processor.flush(0.01)
    assert processor.dropped_spans == 2 + MAX_PENDING_BATCHES + 2
    exporter.release.set()
    emit(provider, 1)
    assert processor.flush(2.0) is True
    provider.shutdown()


def test_no_time_left_drops_without_waiting() -> None:
    """With no budget left the batch is dropped at once and counted."""
    provider, processor = make(InMemorySpanExporter())
    emit(provider, 4)
    started = time.perf_counter()
    assert processor.flush(0) is False
    assert time.perf_counter() - started < 0.05
    assert processor.dropped_spans == 4


def test_unsampled_spans_are_not_buffered() -> None:
    """Spans the sampler dropped are never exported."""
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    processor = InvocationSpanProcessor(InMemorySpanExporter())
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(processor)
    emit(provider)
    assert processor.buffered == 0


def test_force_flush_and_shutdown_go_through_the_provider() -> None:
    """The provider's force_flush and shutdown reach the processor with their timeouts."""
    exporter = InMemorySpanExporter()
    provider, _ = make(exporter)
    emit(provider, 1)
    assert provider.force_flush(1000) is True
    assert len(exporter.get_finished_spans()) == 1
    emit(provider, 1)
    provider.shutdown()
    assert len(exporter.get_finished_spans()) == 2


class DeadlineExporter(SpanExporter):
    """Bounds its own time, so the processor calls it on the flushing thread."""

    def __init__(self, ok: bool) -> None:
        self.ok = ok
        self.calls: list[tuple[int, float, str]] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        raise AssertionError("export_within is used instead")

    def export_within(self, spans: Sequence[ReadableSpan], seconds: float) -> bool:
        self.calls.append((len(spans), seconds, threading.current_thread().name))
        return self.ok


@pytest.mark.parametrize("ok", [pytest.param(True, id="delivered"), pytest.param(False, id="not")])
def test_deadline_aware_exporters_run_on_the_calling_thread(ok: bool) -> None:
    """An exporter with export_within gets the budget and the caller's thread; failures count."""
    exporter = DeadlineExporter(ok)
    provider, processor = make(exporter)
    emit(provider, 3)
    assert processor.flush(0.25) is ok
    assert exporter.calls == [(3, 0.25, threading.current_thread().name)]
    assert (processor.exported_spans, processor.dropped_spans) == ((3, 0) if ok else (0, 3))
