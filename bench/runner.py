"""The in-process measurement: the stacks of one group, interleaved, in one process.

Run as ``python -m bench.runner --group NAME ... --out FILE`` by ``python -m bench``, once
per group (``stacks.GROUPS``), each in a fresh process with the Lambda environment.

For each app and event, every stack is built, warmed up (which also runs each one's cold
start, lifespan startup and first export), and then measured in rounds. A round runs
``calls`` back-to-back invocations of each stack in turn, the order rotating from one
round to the next, so slow drifts of the machine (frequency, other load) fall on every
stack alike. Each invocation is timed at four points:

    t0  the handler is called
    t1  the handler has returned                          response = t1 - t0
    t2  the response is serialised, as the runtime does    posted   = t2 - t0
        before it sends it (json.dumps); the runner then
        writes it to /dev/null (releasing the GIL, as the
        runtime's send does)
    t3  the work Lambda runs after the response (the      total    = (t1 - t0) + (t3 - t2)
        after-response export) is done

The process's CPU time (``time.process_time``: every thread, so the export thread's work
counts) is read around the handler call and around the deferred work, giving
``response_cpu`` and ``total_cpu``: unlike wall time, they do not grow while other
processes hold the CPU, but they miss the time spent waiting for a thread to be scheduled.

Per round, each measure is averaged over the round's calls; the tables report the median
over rounds. ``total`` leaves out the runtime's serialisation (the same for every stack),
so it is the function's own work per invocation with export included. ``posted`` matters
for ``ours-after-ext``, where an export thread competes with the main thread for the GIL
between the handler's return and the response leaving. stdout is
/dev/null for the whole process: log and EMF lines are written and paid for, not kept.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.environment import BenchContext
from bench.stacks import GROUPS, Stack, build_stack, setup_process

__all__ = ["MEASURES", "Devnull", "main", "measure_cell"]

MEASURES = ("response_us", "posted_us", "total_us", "response_cpu_us", "total_cpu_us")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.runner")
    parser.add_argument("--group", required=True, choices=sorted(GROUPS))
    parser.add_argument("--stacks", nargs="+", required=True)
    parser.add_argument("--apps", nargs="+", required=True)
    parser.add_argument("--sources", nargs="+", required=True)
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--warmup", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    devnull = Devnull()
    sys.stdout = devnull  # Powertools' print() and anything else that writes to stdout
    setup = setup_process(args.group, devnull)
    cells = []
    for app_name in args.apps:
        for source in args.sources:
            print(f"  {args.group}: {app_name} / {source}", file=sys.stderr, flush=True)
            cells += measure_cell(args, setup, app_name, source)
    with open(args.out, "w") as out:
        json.dump({"group": args.group, "cells": cells}, out)


def measure_cell(
    args: argparse.Namespace, setup: Any, app_name: str, source: str
) -> list[dict[str, Any]]:
    """Build the group's stacks for one app and event, warm them up, and measure them."""
    from bench.events import event_for

    event = event_for(source)
    context = BenchContext()
    stacks = [build_stack(name, app_name, setup) for name in args.stacks]
    try:
        written = {}
        for stack in stacks:
            _warm_up(stack, event, context, args.warmup)
            written[stack.name] = _stdout_per_call(stack, event, context, setup.stream)
        samples: dict[str, list[dict[str, float]]] = {s.name: [] for s in stacks}
        spans = dict.fromkeys(samples, 0)
        encoded = dict.fromkeys(samples, 0)
        gc.collect()
        for number in range(args.rounds):
            shift = number % len(stacks)
            for stack in stacks[shift:] + stacks[:shift]:
                before = (stack.sink.spans, stack.sink.bytes) if stack.sink else (0, 0)
                samples[stack.name].append(_round(stack, event, context, args.calls))
                if stack.sink is not None:
                    spans[stack.name] += stack.sink.spans - before[0]
                    encoded[stack.name] += stack.sink.bytes - before[1]
    finally:
        for stack in stacks:
            stack.close()
    calls = args.rounds * args.calls
    return [
        {
            "group": args.group,
            "app": app_name,
            "source": source,
            "stack": name,
            **{measure: [r[measure] for r in rounds] for measure in MEASURES},
            "spans_per_call": spans[name] / calls,
            "otlp_bytes_per_call": encoded[name] / calls,
            "stdout_bytes_per_call": written[name][0],
            "stdout_lines_per_call": written[name][1],
        }
        for name, rounds in samples.items()
    ]


def _warm_up(stack: Stack, event: dict[str, Any], context: BenchContext, calls: int) -> None:
    for _ in range(max(1, calls)):
        response = stack.handler(event, context)
        if stack.after is not None:
            stack.after()
    if response.get("statusCode") != 200 or "widget" not in str(response.get("body")):
        raise RuntimeError(
            f"Expected stack {stack.name!r} to answer 200 with the item, but it answered "
            f"{response!r}."
        )
    if stack.sink is not None and stack.sink.spans == 0:
        raise RuntimeError(
            f"Expected stack {stack.name!r} to export spans to the sink, but none arrived."
        )


def _stdout_per_call(
    stack: Stack, event: dict[str, Any], context: BenchContext, stream: Devnull
) -> tuple[float, float]:
    """What one invocation writes to stdout: characters and lines (outside the timing)."""
    calls = 20
    with stream.counting() as counts:
        for _ in range(calls):
            stack.handler(event, context)
            if stack.after is not None:
                stack.after()
    return counts[0] / calls, counts[1] / calls


class Devnull(io.TextIOWrapper):
    """``open(os.devnull, "w")`` that can count what is written through it, when asked.

    Counting replaces ``write`` on the instance and only outside the timed rounds; while
    timing, ``write`` is the C method of the class, as on a plain file.
    """

    def __init__(self) -> None:
        super().__init__(open(os.devnull, "wb"))  # noqa: SIM115 (lives as long as the process)

    @contextmanager
    def counting(self) -> Iterator[list[int]]:
        counts = [0, 0]
        write = super().write

        def counting_write(text: str) -> int:
            counts[0] += len(text)
            counts[1] += text.count("\n")
            return write(text)

        self.write = counting_write  # type: ignore[method-assign]
        try:
            yield counts
        finally:
            del self.write


def _round(
    stack: Stack, event: dict[str, Any], context: BenchContext, calls: int
) -> dict[str, float]:
    """``calls`` back-to-back invocations: the mean of each measure, in µs."""
    handler, after = stack.handler, stack.after
    clock, cpu = time.perf_counter_ns, time.process_time_ns
    dumps, write, fd = json.dumps, os.write, sys.stdout.fileno()
    response = posted = total = response_cpu = after_cpu = 0
    for _ in range(calls):
        c0 = cpu()
        t0 = clock()
        out = handler(event, context)
        t1 = clock()
        c1 = cpu()
        data = dumps(out).encode()
        t2 = clock()
        write(fd, data)  # releases the GIL, as the runtime's send does
        if after is not None:
            c2 = cpu()
            after()
            after_cpu += cpu() - c2
        t3 = clock()
        response += t1 - t0
        posted += t2 - t0
        total += (t1 - t0) + (t3 - t2)
        response_cpu += c1 - c0
    scale = 1000 * calls
    return {
        "response_us": response / scale,
        "posted_us": posted / scale,
        "total_us": total / scale,
        "response_cpu_us": response_cpu / scale,
        "total_cpu_us": (response_cpu + after_cpu) / scale,
    }


if __name__ == "__main__":
    main()
