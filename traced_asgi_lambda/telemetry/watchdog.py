"""The deadline watchdog: report an invocation shortly before Lambda times it out.

When Lambda stops an invocation at its timeout it kills the runtime mid-call: the root
span never ends, nothing is flushed, and the logs end without a word. The watchdog is one
thread per adapter that wakes shortly before the running invocation's deadline and, if
the invocation is still running, has it reported as a timeout while there is still time.

The thread is started on the first invocation and does not wake per call: arming with a
later deadline than the one it is already waiting for needs no notification, so with
steady traffic it wakes about once per timeout period, not once per invocation.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["Watchdog", "fire_at"]


def fire_at(now: float, remaining_s: float, margin: float) -> float:
    """When to act: ``margin`` before the deadline, but never before half the time left.

    An invocation that starts with 50 ms left is not declared timed out on the spot; it
    gets half of what is left to finish normally.
    """
    return now + remaining_s - min(margin, remaining_s / 2)


class Watchdog:
    """Calls ``on_timeout(token)`` if ``token`` is still armed when its time comes."""

    def __init__(self, on_timeout: Callable[[object], None]) -> None:
        self.on_timeout = on_timeout
        # A plain lock, not the default RLock: nothing here re-enters it (on_timeout runs
        # with it released). arm/disarm take it on every invocation, directly: the
        # Condition's own __enter__/__exit__ are two Python calls around the same lock.
        self._lock = threading.Lock()
        self._condition = threading.Condition(self._lock)
        self._token: object | None = None
        self._at = math.inf  # when the armed token's time comes (monotonic seconds)
        self._wake_at = math.inf  # when the thread will next look (inf: idle)
        self._thread: threading.Thread | None = None
        self._stopped = False

    def arm(self, token: object, at: float) -> None:
        """Watch ``token`` until ``at`` (a ``time.monotonic()`` value)."""
        with self._lock:
            self._token, self._at = token, at
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="traced-asgi-lambda-watchdog", daemon=True
                )
                self._thread.start()
            elif at < self._wake_at:
                self._condition.notify()

    def disarm(self, token: object) -> None:
        """Stop watching ``token``; the thread is not woken for it."""
        with self._lock:
            if self._token is token:
                self._token = None

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()

    def _run(self) -> None:
        with self._condition:
            while not self._stopped:
                if self._token is None:
                    self._wake_at = math.inf
                    self._condition.wait()
                    continue
                delay = self._at - time.monotonic()
                if delay > 0:
                    self._wake_at = self._at
                    self._condition.wait(delay)
                    continue
                token, self._token = self._token, None
                self._condition.release()
                try:
                    self.on_timeout(token)
                finally:
                    self._condition.acquire()
