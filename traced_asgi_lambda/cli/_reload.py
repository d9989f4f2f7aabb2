"""``serve --reload``: run the server in a child process and restart it when code changes.

A supervisor process polls the modification times of the ``.py`` files under ``--app-dir``
twice a second (no inotify dependency). On a change it ends the server, by closing the
pipe the server holds as its stdin, so lifespan shutdown runs, and starts a new one: a
new cold start, as a new deployment would get. A server that fails to start is reported
and restarted on the next change. Limits: only ``.py`` files under ``--app-dir`` are
watched (not installed packages, templates or ``.env`` files); hidden directories,
``__pycache__``, ``node_modules`` and virtual environments are skipped.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from traced_asgi_lambda.cli import CommandError
from traced_asgi_lambda.cli._style import write

if TYPE_CHECKING:
    import argparse

__all__ = ["changed", "snapshot", "supervise"]

POLL_SECONDS = 0.5
STOP_SECONDS = 5.0  # for a server to finish lifespan shutdown before it is killed
_SKIPPED = frozenset({"__pycache__", "node_modules", "site-packages"})


def _python_files(root: Path) -> Iterator[Path]:
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [
            d
            for d in subdirectories
            if not d.startswith(".")
            and d not in _SKIPPED
            and not (Path(directory) / d / "pyvenv.cfg").exists()
        ]
        yield from (Path(directory) / f for f in files if f.endswith(".py"))


def snapshot(root: Path) -> dict[Path, int]:
    """Each watched file's modification time, in nanoseconds."""
    times = {}
    for path in _python_files(root):
        try:
            times[path] = path.stat().st_mtime_ns
        except OSError:  # removed while we looked
            continue
    return times


def changed(before: dict[Path, int], after: dict[Path, int]) -> list[Path]:
    """Files added, removed or modified between two snapshots."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def _free_port(host: str, port: int) -> int:
    """``port`` if it can be bound (any free one for 0); a CommandError otherwise."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server does
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"Could not listen on {host}:{port}: {exc.strerror or exc}. "
                "Fix: pick another port with --port (0 picks a free one)."
            ) from None
        return int(probe.getsockname()[1])


def _start(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stdin=subprocess.PIPE)


def _stop(child: subprocess.Popen[bytes]) -> None:
    """Close the child's stdin (it shuts down cleanly), then wait; kill if it hangs."""
    if child.stdin is not None:
        child.stdin.close()
    try:
        child.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def supervise(
    args: argparse.Namespace, child_argv: Callable[[argparse.Namespace, int], list[str]]
) -> int:
    """Run the server until interrupted, restarting it whenever a watched file changes."""
    root = Path(args.app_dir).resolve()
    argv = child_argv(args, _free_port(args.host, args.port))
    write(sys.stderr, f"Watching .py files under {root} for changes (--reload)\n")
    times = snapshot(root)
    child = _start(argv)
    reported = False
    try:
        while True:
            time.sleep(POLL_SECONDS)
            now = snapshot(root)
            if edits := changed(times, now):
                times = now
                shown = ", ".join(str(p.relative_to(root)) for p in edits[:3])
                write(sys.stderr, f"Changed: {shown}; restarting\n")
                _stop(child)
                child = _start(argv)
                reported = False
            elif child.poll() is not None and not reported:
                write(sys.stderr, f"The server exited ({child.returncode}); waiting for changes\n")
                reported = True
    finally:
        _stop(child)
