"""Running clean-up when Lambda shuts an execution environment down.

Lambda sends SIGTERM to the runtime before it stops an environment when an extension is
registered, and allows a short window before SIGKILL ("Lambda execution environment
lifecycle", Shutdown phase: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

    from traced_asgi_lambda.lifespan import Lifespan
    from traced_asgi_lambda.telemetry.invocation import Telemetry

__all__ = ["on_sigterm", "shut_down"]


# How long the watcher thread lets the main thread handle SIGTERM itself before taking over.
MAIN_THREAD_GRACE = 0.05


def on_sigterm(callback: Callable[[], None]) -> bool:
    """Run ``callback`` once on SIGTERM, then hand the signal to whoever handled it before.

    Python runs signal handlers only in the main thread, between bytecodes. The Python
    3.11 runtime client waits for the next invocation inside a C call on the main thread
    (aws-lambda-python-runtime-interface-client#105), and Lambda sends SIGTERM exactly
    then, when the environment is idle: a plain handler would never run. So the signal is
    also watched through ``signal.set_wakeup_fd`` by a thread, which does the work when
    the main thread cannot. Returns False when nothing could be installed (not the main
    thread).
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    previous = signal.getsignal(signal.SIGTERM)
    claimed = threading.Lock()

    def finish(in_main_thread: bool) -> None:
        if not claimed.acquire(blocking=False):
            return  # the other path got there first
        try:
            callback()
        finally:
            _hand_on(previous, in_main_thread)

    signal.signal(signal.SIGTERM, lambda signum, frame: finish(True))
    _watch(finish)
    return True


def _hand_on(previous: object, in_main_thread: bool) -> None:
    """Continue with the SIGTERM handling that was there before ours."""
    if callable(previous):
        previous(signal.SIGTERM, None)
    elif previous == signal.SIG_IGN:
        return
    elif in_main_thread:
        # Restore the default action and deliver again, so the exit status still says
        # "terminated by SIGTERM".
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    else:
        _terminate_from_thread()


def _terminate_from_thread() -> None:
    """End the process by SIGTERM's default action, from a thread other than the main one.

    Python lets only the main thread change a signal's action, so the C library's
    ``signal()`` restores the default; if that is unavailable, exit with the status a
    shell reports for SIGTERM (128 + 15).
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).signal(signal.SIGTERM, 0)  # 0 is SIG_DFL
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # delivery is asynchronous; the default action ends the process
    os._exit(128 + signal.SIGTERM)


def _watch(finish: Callable[[bool], None]) -> None:
    """Start the thread that sees SIGTERM even while the main thread is inside C code."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    try:
        earlier = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    except ValueError:
        earlier = None
    if earlier != -1:
        # Someone else owns the wakeup fd (an asyncio loop with signal handlers, or an
        # earlier adapter): leave it to them and rely on the main-thread handler.
        if earlier is not None:
            signal.set_wakeup_fd(earlier)
        os.close(read_fd)
        os.close(write_fd)
        return

    def watch() -> None:
        with open(read_fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(64):
                if signal.SIGTERM in chunk:
                    time.sleep(MAIN_THREAD_GRACE)  # let a responsive main thread do it
                    finish(False)
                    return

    threading.Thread(target=watch, name="traced-asgi-lambda-sigterm", daemon=True).start()


def shut_down(
    loop: asyncio.AbstractEventLoop,
    lifespan: Lifespan | None,
    timeout: float,
    telemetry: Telemetry | None,
) -> None:
    """An adapter's last act: lifespan shutdown, a final flush, and the loop closed."""
    if lifespan is not None:
        lifespan.shutdown(timeout)
    if telemetry is not None:
        telemetry.shutdown()
    if not loop.is_running() and not loop.is_closed():
        loop.close()
