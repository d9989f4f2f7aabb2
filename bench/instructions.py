"""Instructions per warm invocation, counted by valgrind: a measure machine load cannot move.

    python -m bench.instructions                      # mangum, ours-off, ours-sync
    python -m bench.instructions ours-sync ours-logs --app raw --source alb

Times on a shared machine move by a few percent from run to run: as much as one small
change saves. Callgrind (``valgrind --tool=callgrind``) counts the instructions the
interpreter executes instead, and the same code, inputs and environment give the same
count whatever else the machine is doing (the hash seed is fixed for it). Each stack
runs in a process of its own under callgrind, twice: once answering the event
``WARMUP + FEW`` times, once ``WARMUP + MANY`` times. The difference over ``MANY - FEW``
is what one warm invocation costs; start-up, imports and warm-up cancel out. Bare Mangum
is always counted, as the reference.

Instructions are not time: they miss cache misses, which make telemetry cost more inside
an invocation than in a tight loop (see docs/performance.md). Use them to compare two
versions of one stack; the suite's timed ratios decide the targets.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence

from bench.apps import APPS
from bench.coldstart import child_environ
from bench.events import SOURCES
from bench.stacks import GROUPS, STACKS

__all__ = ["child", "count_per_call", "main"]

WARMUP, FEW, MANY = 50, 100, 500
DEFAULT_STACKS = ("mangum", "ours-off", "ours-sync")
_COLLECTED = re.compile(r"Collected\s*:\s*([\d,]+)")
_CHILD = "from bench.instructions import child; child()"


def child() -> None:
    """In the counted process: build the stack named in argv, answer the event N times."""
    stack_name, app_name, source, calls = sys.argv[1:]
    from bench.environment import BenchContext
    from bench.events import event_for
    from bench.stacks import build_stack, setup_process

    group = next(g for g, names in GROUPS.items() if stack_name in names)
    with open(os.devnull, "w") as devnull:
        stack = build_stack(stack_name, app_name, setup_process(group, devnull))
        event, context = event_for(source), BenchContext()
        handler, after = stack.handler, stack.after
        for _ in range(WARMUP + int(calls)):
            handler(event, context)
            if after is not None:
                after()
        stack.close()


def _child(stack: str, app: str, source: str, calls: int) -> list[str]:
    """The argv of a child answering the event ``WARMUP + calls`` times."""
    return [sys.executable, "-c", _CHILD, stack, app, source, str(calls)]


def _environ() -> dict[str, str]:
    environ = child_environ()
    # A fixed hash seed: with random ones, dict and set layouts (and so their probe
    # counts) differ between the two processes and from run to run.
    environ["PYTHONHASHSEED"] = "0"
    return environ


def _count(valgrind: str, stack: str, app: str, source: str, calls: int) -> subprocess.Popen[str]:
    argv = [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    return subprocess.Popen(
        argv + _child(stack, app, source, calls),
        env=_environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _collected(process: subprocess.Popen[str], what: str) -> int:
    _, stderr = process.communicate()
    match = _COLLECTED.search(stderr)
    if process.returncode != 0 or match is None:
        raise RuntimeError(
            f"Expected callgrind to report the instructions of {what}, but it exited with "
            f"{process.returncode}: {stderr.strip()[-400:]}"
        )
    return int(match.group(1).replace(",", ""))


def count_per_call(valgrind: str, stack: str, app: str, source: str) -> int:
    """Instructions of one warm invocation of ``stack`` (the two counts run side by side).

    An uncounted run first writes any missing bytecode (child_environ lets children write
    it): else whichever counted child compiled a module would pay for it, the other not.
    """
    subprocess.run(
        _child(stack, app, source, 0), env=_environ(), stdout=subprocess.DEVNULL, check=True
    )
    few, many = (_count(valgrind, stack, app, source, n) for n in (FEW, MANY))
    what = f"{stack} ({app}, {source})"
    return (_collected(many, what) - _collected(few, what)) // (MANY - FEW)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("stacks", nargs="*", metavar="STACK", help=f"any of {', '.join(STACKS)}")
    parser.add_argument("--app", choices=APPS, default="starlette")
    parser.add_argument("--source", choices=SOURCES, default="http-api")
    args = parser.parse_args(argv)
    unknown = [s for s in args.stacks if s not in STACKS]
    if unknown:
        parser.error(f"expected stacks among {', '.join(STACKS)}, but got {', '.join(unknown)}")
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind).")
    stacks = ["mangum", *(s for s in args.stacks or DEFAULT_STACKS if s != "mangum")]
    counts = {s: count_per_call(valgrind, s, args.app, args.source) for s in stacks}
    print(f"instructions per warm invocation, {args.app} app, {args.source} event")
    print(f"{'stack':<20} {'instructions':>14} {'x Mangum':>9}")
    for stack, count in counts.items():
        print(f"{stack:<20} {count:>14,} {count / counts['mangum']:>9.3f}")


if __name__ == "__main__":
    main()
