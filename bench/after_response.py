"""After-response export, in-process: stand-ins for the extension the adapter registers in Lambda.

Outside Lambda the adapter builds no extension and flushes in-line. ``install_after_response``
puts a stand-in where the adapter keeps its extension, so the adapter hands the export over
exactly as in Lambda: ``DeferredExport`` lets the runner run it after timing the response,
on the same thread; ``ExtensionThread`` runs it on a second thread at once, as Lambda does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["DeferredExport", "ExtensionThread", "install_after_response"]


def install_after_response(
    adapter: Any, flusher: DeferredExport | ExtensionThread, after: Callable[[], None]
) -> Callable[[], None]:
    """Put ``flusher`` where the adapter keeps its extension (it built none outside Lambda)."""
    telemetry = getattr(adapter, "telemetry", None)
    if telemetry is None or not hasattr(telemetry, "after_response"):
        raise RuntimeError(
            "Expected the adapter to keep its after-response extension at "
            "adapter.telemetry.after_response (as traced_asgi_lambda/telemetry/"
            "invocation.py does), but it is not there. Fix: update "
            "bench/after_response.py:install_after_response to where the handover now lives."
        )
    flusher.flush = telemetry.flush_pending
    telemetry.after_response = flusher
    return after


class DeferredExport:
    """Stands in for the extension thread: notes the handover; the runner then exports."""

    def __init__(self) -> None:
        self.flush: Callable[[], None] = lambda: None
        self.due = False

    def invocation_finished(self, *, request_id: str | None = None) -> None:
        self.due = True

    def run_if_due(self) -> None:
        if self.due:
            self.due = False
            self.flush()

    def stop(self, timeout: float = 0.2) -> None:
        return None


class ExtensionThread:
    """A thread that exports once told the handler is returning, as the extension does.

    ``wait`` blocks until that export is done: Lambda starts no next invocation before the
    extension has called Next, which it does only after its flush.
    """

    def __init__(self) -> None:
        self.flush: Callable[[], None] = lambda: None
        self._go = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="bench-extension", daemon=True)
        self._thread.start()

    def invocation_finished(self, *, request_id: str | None = None) -> None:
        self._done.clear()
        self._go.set()

    def wait(self) -> None:
        self._done.wait()

    def stop(self, timeout: float = 0.2) -> None:
        self._stopping = True
        self._go.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            self._go.wait()
            self._go.clear()
            if self._stopping:
                return
            try:
                self.flush()
            finally:
                self._done.set()
