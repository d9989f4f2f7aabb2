"""The ASGI lifespan protocol, run once per Lambda execution environment.

Startup runs on the first invocation (or earlier, when the handler module calls
``LambdaAdapter.startup()`` during init); shutdown runs once, on SIGTERM or at interpreter
exit. Spec: https://asgi.readthedocs.io/en/latest/specs/lifespan.html
"""

from __future__ import annotations

import asyncio
import enum
import logging
from typing import Any

from traced_asgi_lambda.exceptions import LifespanError
from traced_asgi_lambda.types import ASGIApp, LifespanMode, LifespanScope, Message

__all__ = ["Lifespan", "LifespanState"]

# Put in the outbox by the app's task when the app returns or raises, so a waiter
# never waits for an answer that cannot come.
_APP_RETURNED = "traced_asgi_lambda.app.returned"


class LifespanState(enum.Enum):
    IDLE = enum.auto()  # not started yet, or the last startup failed and may be retried
    STARTED = enum.auto()  # startup complete; the app's lifespan task is parked
    UNSUPPORTED = enum.auto()  # 'auto' mode and the app does not speak lifespan
    STOPPED = enum.auto()  # shutdown has run (or timed out)


class Lifespan:
    """Drives one app's lifespan on the adapter's event loop."""

    def __init__(
        self, app: ASGIApp, mode: LifespanMode, loop: asyncio.AbstractEventLoop, log: logging.Logger
    ) -> None:
        self.app = app
        self.mode = mode
        self.loop = loop
        self.log = log
        self.state = LifespanState.IDLE
        # ASGI lifespan 2.3 "state": what startup stores here, each request gets a copy of.
        self.app_state: dict[str, Any] = {}
        self._inbox: asyncio.Queue[Message] | None = None
        self._outbox: asyncio.Queue[Message] | None = None
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    def startup(self) -> bool:
        """Run startup if it has not run yet; True when this call completed it.

        Raises LifespanError when it fails; the next call then tries again.
        """
        if self.state is not LifespanState.IDLE:
            return False
        return self.loop.run_until_complete(self._startup())

    def shutdown(self, timeout: float) -> None:
        """Run shutdown once, waiting at most ``timeout`` seconds for the app."""
        if self.state is not LifespanState.STARTED:
            return
        self.state = LifespanState.STOPPED
        if self.loop.is_closed() or self.loop.is_running():
            # A signal that lands mid-invocation cannot re-enter the running loop.
            self.log.warning("lifespan shutdown skipped: the event loop is busy or closed")
            return
        self.loop.run_until_complete(self._shutdown(timeout))

    async def _startup(self) -> bool:
        self._inbox, self._outbox = asyncio.Queue(), asyncio.Queue()
        self._error = None
        self._inbox.put_nowait({"type": "lifespan.startup"})
        self._task = self.loop.create_task(self._main())
        message = await self._outbox.get()
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            self.state = LifespanState.STARTED
            return True
        if kind == "lifespan.startup.failed":
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            raise LifespanError(
                f"Lifespan startup failed: the app sent 'lifespan.startup.failed' with "
                f"message {message.get('message', '')!r}. Fix the app's startup, or pass "
                "lifespan='off' if it should not run."
            )
        # The app returned or raised before answering startup.
        if self.mode == "auto":
            self.state = LifespanState.UNSUPPORTED
            self.log.debug("ASGI lifespan appears unsupported by the app; carrying on without it")
            return False
        reason = (
            f"raised {type(self._error).__name__}: {self._error}"
            if self._error is not None
            else "returned"
        )
        raise LifespanError(
            f"Lifespan startup failed: expected 'lifespan.startup.complete', but the app "
            f"{reason}. Fix the app's startup, or pass lifespan='auto' to run without "
            "lifespan when the app does not support it."
        ) from self._error

    async def _shutdown(self, timeout: float) -> None:
        assert self._inbox is not None
        assert self._outbox is not None
        assert self._task is not None
        deadline = self.loop.time() + timeout
        self._inbox.put_nowait({"type": "lifespan.shutdown"})
        try:
            message = await asyncio.wait_for(self._outbox.get(), timeout)
        except TimeoutError:
            self.log.warning("lifespan shutdown did not finish within %.2fs; abandoned", timeout)
            message = {"type": _APP_RETURNED}
        if message["type"] == "lifespan.shutdown.failed":
            self.log.error("lifespan shutdown failed: %s", message.get("message", ""))
        if not self._task.done():
            self._task.cancel()
            # An app may ignore the cancellation; the shutdown window is not extended for it.
            await asyncio.wait({self._task}, timeout=max(0.0, deadline - self.loop.time()))

    async def _main(self) -> None:
        assert self._outbox is not None
        scope: LifespanScope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "state": self.app_state,
        }
        try:
            await self.app(scope, self._receive, self._send)
        except BaseException as exc:  # the app's failure is reported, never raised here
            self._error = exc
        finally:
            self._outbox.put_nowait({"type": _APP_RETURNED})

    async def _receive(self) -> Message:
        assert self._inbox is not None
        return await self._inbox.get()

    async def _send(self, message: Message) -> None:
        assert self._outbox is not None
        self._outbox.put_nowait(message)
