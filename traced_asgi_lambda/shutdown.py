"""Running clean-up when Lambda shuts an execution environment down.

Lambda sends SIGTERM to the runtime before it stops an environment when an extension is
registered, and allows a short window before SIGKILL ("Lambda execution environment
lifecycle", Shutdown phase: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

    from traced_asgi_lambda.lifespan import Lifespan
    from traced_asgi_lambda.telemetry.tracing import Tracing

__all__ = ["on_sigterm", "shut_down"]


def on_sigterm(callback: Callable[[], None]) -> bool:
    """Run ``callback`` on SIGTERM, then hand the signal to whoever handled it before.

    Returns False when no handler could be installed: Python allows signal handlers
    only in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    previous = signal.getsignal(signal.SIGTERM)

    def handle(signum: int, frame: FrameType | None) -> None:
        try:
            callback()
        finally:
            if callable(previous):
                previous(signum, frame)
            elif previous != signal.SIG_IGN:
                # The default action ends the process; restore it and deliver again so
                # the exit status still says "terminated by SIGTERM".
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, handle)
    return True


def shut_down(
    loop: asyncio.AbstractEventLoop,
    lifespan: Lifespan | None,
    timeout: float,
    tracing: Tracing | None,
) -> None:
    """An adapter's last act: lifespan shutdown, a final flush, and the loop closed."""
    if lifespan is not None:
        lifespan.shutdown(timeout)
    if tracing is not None:
        tracing.shutdown()
    if not loop.is_running() and not loop.is_closed():
        loop.close()
