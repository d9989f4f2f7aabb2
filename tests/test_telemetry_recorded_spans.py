"""recorded_spans: the adapter's own spans while the invocation runs."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import pytest
from opentelemetry.trace import NonRecordingSpan, SpanContext

from traced_asgi_lambda.telemetry import recorded_spans
from traced_asgi_lambda.telemetry.recorded_spans import DeferredSpan

ROOT = NonRecordingSpan(SpanContext(1, 2, is_remote=False))


class SlowClock:
    """time with a time_ns that takes a millisecond: a wide window between end's steps."""

    @staticmethod
    def time_ns() -> int:
        time.sleep(0.001)
        return time.time_ns()


@pytest.mark.parametrize("enders", [pytest.param(2, id="two"), pytest.param(8, id="eight")])
def test_a_stage_span_ended_on_several_threads_at_once_is_reported_once(
    enders: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handler's stage exit and the watchdog's timeout report may race to end it."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to provoke the race
    try:
        for _ in range(20):
            sink: list[Any] = []
            span = DeferredSpan(ROOT, "asgi app", {}, sink)
            monkeypatch.setattr(recorded_spans, "time", SlowClock)
            start = threading.Barrier(enders)

            def end(span: DeferredSpan = span, start: threading.Barrier = start) -> None:
                start.wait()
                span.end()

            threads = [threading.Thread(target=end) for _ in range(enders)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            monkeypatch.undo()
            assert sink == [span]
            assert not span.is_recording()
    finally:
        sys.setswitchinterval(interval)


def test_ending_twice_keeps_the_first_end_time() -> None:
    sink: list[Any] = []
    span = DeferredSpan(ROOT, "parse event", {}, sink)
    span.end(10)
    span.end(20)
    assert (sink, span.end_time) == ([span], 10)
