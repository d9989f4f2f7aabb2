"""Where the full-telemetry path spends its time: pyinstrument over ``ours-sync``.

Run as ``python -m bench.profile --calls N --out FILE`` by ``python -m bench``, in a
process of its own with the Lambda environment and stdout on /dev/null. It measures the
Starlette app answering the HTTP API v2 event through ``ours-sync``, after a warm-up:

1. the handler's main thread, sampled by pyinstrument every 0.1 ms: the share spent
   waiting on another thread (blocked in, or handing over, a lock); each function's self
   time (time at the top of the stack) as a share of the rest; and, for this library's
   functions and the libraries it calls, inclusive time (anywhere on the stack) as shares
   of all the profiled time;
2. the export's encoding, profiled directly on the main thread over the batches the
   adapter produced (pyinstrument samples one thread, and an exporter without
   ``export_within`` runs on the span processor's worker thread);
3. unprofiled timings: the handler per call, the flush per call (``Tracing.flush``, timed
   by wrapping it), and the encoding per call (timed inside the sink); flush minus
   encoding is the processor's own work plus any hand-over to a worker thread.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from bench.environment import BenchContext

__all__ = ["Hotspot", "hotspots", "main"]

Hotspot = tuple[str, float]  # (function and where, share of the profiled time)
_INTERVAL = 0.0001
# Where the main thread waits for the export thread (Event.wait) or hands it the GIL.
_WAITS = ("<built-in>.lock.acquire", "<built-in>.lock.release")
_LIBRARIES = ("opentelemetry", "structlog", "aws_lambda_powertools", "json", "urllib")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    from pyinstrument import Profiler

    from bench.events import event_for
    from bench.stacks import build_stack, setup_process

    devnull = open(os.devnull, "w")  # noqa: SIM115 (open for the life of the process)
    sys.stdout = devnull
    stack = build_stack("ours-sync", "starlette", setup_process("core", devnull))
    sink = stack.sink
    assert sink is not None
    event, context, handler = event_for("http-api"), BenchContext(), stack.handler
    flush_ns = _time_flushes(stack.handler)
    for _ in range(200):
        handler(event, context)

    # 3. unprofiled timings
    flush_ns[0] = 0
    busy_before, started = sink.busy_ns, time.perf_counter_ns()
    for _ in range(args.calls):
        handler(event, context)
    per_call_us = (time.perf_counter_ns() - started) / args.calls / 1000
    flush_us = flush_ns[0] / args.calls / 1000
    encode_us = (sink.busy_ns - busy_before) / args.calls / 1000

    # 1. the main thread
    profiler = Profiler(interval=_INTERVAL, async_mode="disabled")
    profiler.start()
    for _ in range(args.calls):
        handler(event, context)
    session = profiler.stop()
    records = session.frame_records

    # 2. the export's encoding, on the batches the adapter exported
    sink.keep_last = True
    handler(event, context)
    batch = sink.last
    encoder = Profiler(interval=_INTERVAL, async_mode="disabled")
    encoder.start()
    for _ in range(args.calls):
        sink.encode(batch)
    encoded = encoder.stop()
    stack.close()

    result = {
        "calls": args.calls,
        "per_call_us": per_call_us,
        "flush_us": flush_us,
        "encode_us": encode_us,
        "spans_per_batch": len(batch),
        "wait_share": 1 - _share_without(records, _WAITS),
        "self": hotspots(records, inclusive=False, skip=_WAITS),
        "inclusive_ours": hotspots(records, inclusive=True, only=("traced_asgi_lambda",)),
        "inclusive_libraries": hotspots(records, inclusive=True, only=_LIBRARIES),
        "export_self": hotspots(encoded.frame_records, inclusive=False),
    }
    with open(args.out, "w") as out:
        json.dump(result, out)


def _time_flushes(adapter: Any) -> list[int]:
    """Wrap the adapter's ``Tracing.flush`` to add up the time spent in it."""
    tracing = adapter.telemetry.tracing
    flush: Callable[[float], None] = tracing.flush
    spent = [0]

    def timed_flush(budget: float) -> None:
        started = time.perf_counter_ns()
        try:
            flush(budget)
        finally:
            spent[0] += time.perf_counter_ns() - started

    tracing.flush = timed_flush
    return spent


def hotspots(
    records: Sequence[tuple[Sequence[str], float]],
    *,
    inclusive: bool,
    only: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
    top: int = 15,
) -> list[Hotspot]:
    """Functions by share of the sampled time: at the top of the stack, or anywhere on it.

    Samples whose top frame starts with one of ``skip`` are left out, of the total too.
    """
    times: dict[str, float] = defaultdict(float)
    total = 0.0
    for stack, seconds in records:
        frames = [_label(frame) for frame in stack[1:]]  # stack[0] is the thread
        if not frames or frames[-1].startswith(skip or ("\x00",)):
            continue
        total += seconds
        for label in set(frames) if inclusive else frames[-1:]:
            if not only or label.startswith(only):
                times[label] += seconds
    ranked = sorted(times.items(), key=lambda item: -item[1])[:top]
    return [(label, seconds / total) for label, seconds in ranked] if total else []


def _share_without(records: Sequence[tuple[Sequence[str], float]], skip: tuple[str, ...]) -> float:
    kept = sum(s for stack, s in records if not _label(stack[-1]).startswith(skip))
    total = sum(s for _, s in records)
    return kept / total if total else 1.0


def _label(frame: str) -> str:
    """``module.Class.function (line)`` from pyinstrument's frame identifier."""
    head, _, attributes = frame.partition("\x01")
    function, path, line = [*head.split("\x00"), "", ""][:3]
    cls = next((a[1:] for a in attributes.split("\x01") if a.startswith("c")), "")
    return f"{_module_of(path)}.{cls + '.' if cls else ''}{function}:{line}"


def _module_of(path: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "lib/python3.":
                path = path.split("/", 1)[-1]
            break
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


if __name__ == "__main__":
    main()
