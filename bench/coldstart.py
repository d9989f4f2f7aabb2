"""Cold starts: a whole process per measurement, and ``-X importtime`` of the package.

Each run is ``bench.cold_child`` in a new interpreter: start Python, import the stack's
modules and the app, build the handler (and, for the OpenTelemetry stacks, set the global
providers and instrument it as the Lambda layer does), answer one event, and exit (which
runs lifespan shutdown and the final flushes). The parent spawns it with ``posix_spawn``
under GNU time, which reports the child's peak RSS, and reaps it with ``os.wait4``. The
time is the parent's wall clock from spawn to reap; the CPU time is the child's user plus
system time (less disturbed by other processes than the wall clock, but blind to waiting).
Runs are interleaved, one of each stack per round, and ratios are the median over rounds
of the stack's time over bare Mangum's in the same round. Bytecode is cached and the files
are in the page cache, as on a warm machine; Lambda's own init (fetching the code,
starting the runtime) is not included.

``python`` is the interpreter alone (``-c pass``), for scale.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.results import round_ratio, round_ratio_spread
from bench.stacks import COLD_STACKS

__all__ = [
    "COLD_STACKS_WITH_PYTHON",
    "ColdStart",
    "child_environ",
    "ImportEntry",
    "import_times",
    "process_import_times",
    "measure_cold_starts",
]

ROOT = Path(__file__).resolve().parent.parent
# The stacks measured, after the interpreter alone ("python") for scale. after-response
# needs the Lambda Runtime API to register its extension: outside Lambda it is ours-sync.
COLD_STACKS_WITH_PYTHON = ("python", *COLD_STACKS)
_CHILD = "from bench.cold_child import main; main()"
TIME = shutil.which("time", path="/usr/bin:/bin")  # GNU time, for each child's own peak RSS


@dataclass
class ColdStart:
    """One stack's cold starts, one value per run: wall and CPU ms, peak RSS in KiB."""

    stack: str
    times_ms: list[float]
    rss_kib: list[int]
    cpu_ms: list[float]

    @property
    def median_cpu_ms(self) -> float:
        return statistics.median(self.cpu_ms)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def median_rss_mib(self) -> float:
        return statistics.median(self.rss_kib) / 1024

    def ratio(self, other: ColdStart, measure: str = "times_ms") -> float:
        """The median over rounds of this stack's time over ``other``'s in the same round."""
        return round_ratio(getattr(self, measure), getattr(other, measure))

    def ratio_spread(self, other: ColdStart, measure: str = "times_ms") -> tuple[float, float]:
        """The quartiles of the per-round ratios."""
        return round_ratio_spread(getattr(self, measure), getattr(other, measure))


def measure_cold_starts(
    stacks: Sequence[str],
    app: str,
    source: str,
    runs: int,
    progress: Callable[[str], None] = lambda _: None,
) -> list[ColdStart]:
    """``runs`` cold starts of each stack, interleaved, for one app and event."""
    environ = child_environ()
    results = {name: ColdStart(name, [], [], []) for name in stacks}
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        event_file = _event_file(tmp, source)
        errors = os.path.join(tmp, "stderr")
        for number in range(runs):
            progress(f"  cold start: round {number + 1} of {runs}")
            shift = number % len(stacks)
            for name in [*stacks[shift:], *stacks[:shift]]:
                argv = [sys.executable, "-c", _CHILD, name, app, event_file]
                elapsed_ms, cpu_ms, rss_kib = _spawn(argv, environ, errors)
                results[name].times_ms.append(elapsed_ms)
                results[name].cpu_ms.append(cpu_ms)
                results[name].rss_kib.append(rss_kib)
    return [results[name] for name in stacks]


def child_environ() -> dict[str, str]:
    """The environment of every measured child: Lambda's variables, this checkout first.

    Bytecode is cached for every stack and every measurement alike: the first run writes
    what is missing or stale (this sandbox sets PYTHONDONTWRITEBYTECODE, and the library's
    sources change often), so no measurement includes compiling.
    """
    from bench.environment import lambda_environ

    environ = lambda_environ()
    environ["PYTHONPATH"] = str(ROOT)
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    return environ


def _event_file(tmp: str, source: str) -> str:
    """Write ``source``'s example event into the folder ``tmp``; its path."""
    from bench.events import event_for

    path = os.path.join(tmp, "event.json")
    with open(path, "w") as file:
        json.dump(event_for(source), file)
    return path


def _spawn(argv: list[str], environ: dict[str, str], errors: str) -> tuple[float, float, int]:
    """Run ``argv`` to its end: wall and CPU (user + system) ms, and peak RSS in KiB.

    Linux carries a process's peak RSS across ``exec``, so a direct child of this process
    would report at least this process's own RSS. GNU time forks from a small process and
    reports its child's peak (``%M``); without it, the floor is noted in the table.
    """
    peak_file = errors + ".rss"
    if TIME is not None:
        argv = [TIME, "-f", "%M", "-o", peak_file, *argv]
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, errors, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if os.waitstatus_to_exitcode(status) != 0:
        with open(errors, errors="replace") as file:
            detail = file.read()[-2000:]
        raise RuntimeError(f"Expected {' '.join(argv[-3:])} to exit 0, but it failed:\n{detail}")
    cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000  # the child's and its children's
    peak_kib = usage.ru_maxrss  # KiB on Linux
    if TIME is not None:
        with open(peak_file) as file:
            peak_kib = int(file.read().split()[-1])
    return elapsed_ms, cpu_ms, peak_kib


@dataclass
class ImportEntry:
    """One module in ``-X importtime``'s report: nesting depth, own and cumulative ms."""

    module: str
    depth: int
    self_ms: float
    cumulative_ms: float


def import_times(module: str, runs: int) -> list[ImportEntry]:
    """``python -X importtime -c "import MODULE"``: each module's median over ``runs``.

    Entries keep the first run's order and nesting: a module is printed after all it
    imported, so a top-level module's subtree is the deeper entries just before it.
    """
    return _import_times([f"import {module}"], runs)


def process_import_times(stack: str, app: str, source: str, runs: int) -> list[ImportEntry]:
    """Every import of ``stack``'s cold-start process, less the interpreter's own start-up."""
    startup = {e.module for e in _import_times(["pass"], 1)}
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        entries = _import_times([_CHILD, stack, app, _event_file(tmp, source)], runs)
    return [e for e in entries if e.module not in startup]


def _import_times(code_and_args: list[str], runs: int) -> list[ImportEntry]:
    import subprocess

    environ = child_environ()
    order: dict[str, int] = {}
    selfs: dict[str, list[float]] = {}
    cumulatives: dict[str, list[float]] = {}
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", *code_and_args],
            env=environ,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            own, cumulative, raw_name = line.removeprefix("import time:").split("|")
            name = raw_name.strip()
            order.setdefault(name, (len(raw_name) - len(raw_name.lstrip()) - 1) // 2)
            selfs.setdefault(name, []).append(int(own) / 1000)
            cumulatives.setdefault(name, []).append(int(cumulative) / 1000)
    return [
        ImportEntry(
            name, depth, statistics.median(selfs[name]), statistics.median(cumulatives[name])
        )
        for name, depth in order.items()
    ]
