"""Lifespan: startup once per environment, shutdown once, and clear failures."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest

from traced_asgi_lambda import LambdaAdapter, LifespanError
from traced_asgi_lambda.lifespan import Lifespan, LifespanState
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry.options import TelemetryOptions
from traced_asgi_lambda.types import ASGIReceive, ASGISend, LifespanMode, Message

Scope = MutableMapping[str, Any]
ROOT = Path(__file__).parent.parent


class RecordingApp:
    """A raw ASGI app that records lifespan events and answers lifespan as told."""

    def __init__(self, startup: str = "complete", shutdown: str = "complete") -> None:
        self.startup = startup
        self.shutdown = shutdown
        self.events: list[str] = []
        self.seen_state: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        self.seen_state.append(scope["state"])
        scope["state"]["mutated"] = True  # must not leak into the next request
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"ok"})

    async def lifespan(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        message = await receive()
        self.events.append(message["type"])
        if self.startup == "raise":
            raise RuntimeError("database unreachable")
        if self.startup == "return":
            return
        if self.startup == "failed":
            await send({"type": "lifespan.startup.failed", "message": "bad config"})
            return
        scope["state"]["pool"] = "connected"
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        self.events.append(message["type"])
        if self.shutdown == "hang":
            await asyncio.sleep(3600)
        elif self.shutdown == "failed":
            await send({"type": "lifespan.shutdown.failed", "message": "flush failed"})
        else:
            await send({"type": "lifespan.shutdown.complete"})


EVENT = build_event("http-api", HttpRequest())


def invoke(handler: LambdaAdapter, times: int = 1) -> list[dict[str, Any]]:
    return [handler(EVENT, LocalContext()) for _ in range(times)]


def test_startup_runs_once_over_many_invocations() -> None:
    """Startup runs on the first invocation only; every request sees a copy of its state."""
    app = RecordingApp()
    with LambdaAdapter(app) as handler:
        responses = invoke(handler, 50)
        assert app.events == ["lifespan.startup"]
    assert all(r["statusCode"] == 200 for r in responses)
    assert app.seen_state[0] == {"pool": "connected", "mutated": True}
    assert all(s["pool"] == "connected" for s in app.seen_state)
    assert len({id(s) for s in app.seen_state}) == 50
    assert app.events == ["lifespan.startup", "lifespan.shutdown"]


def test_startup_can_run_in_the_init_phase() -> None:
    """``startup()`` runs lifespan before the first invocation, and only once."""
    app = RecordingApp()
    with LambdaAdapter(app) as handler:
        handler.startup()
        assert app.events == ["lifespan.startup"]
        invoke(handler, 3)
        assert app.events == ["lifespan.startup"]


def test_shutdown_runs_once() -> None:
    """close() runs shutdown once, however often it is called."""
    app = RecordingApp()
    handler = LambdaAdapter(app)
    invoke(handler)
    handler.close()
    handler.close()
    assert app.events == ["lifespan.startup", "lifespan.shutdown"]


@pytest.mark.parametrize(
    ("mode", "startup", "message"),
    [
        pytest.param("on", "raise", "RuntimeError: database unreachable", id="on-raises"),
        pytest.param("on", "return", "but the app returned", id="on-returns"),
        pytest.param("on", "failed", "'bad config'", id="on-failed"),
        pytest.param("auto", "failed", "'bad config'", id="auto-failed"),
    ],
)
def test_failed_startup_raises_lifespan_error(
    mode: LifespanMode, startup: str, message: str
) -> None:
    """A startup that fails raises LifespanError carrying the app's own message."""
    app = RecordingApp(startup=startup)
    with LambdaAdapter(app, lifespan=mode) as handler:
        with pytest.raises(LifespanError, match="Lifespan startup failed") as caught:
            invoke(handler)
        assert message in str(caught.value)
        assert "Fix" in str(caught.value)
        # The environment is not left half-started: the next invocation tries again.
        with pytest.raises(LifespanError):
            invoke(handler)
    assert app.events == ["lifespan.startup", "lifespan.startup"]


@pytest.mark.parametrize(
    "startup", [pytest.param("raise", id="raises"), pytest.param("return", id="returns")]
)
def test_auto_mode_carries_on_without_lifespan(startup: str) -> None:
    """'auto' with an app that does not speak lifespan serves requests silently."""
    app = RecordingApp(startup=startup)
    with LambdaAdapter(app, lifespan="auto") as handler:
        assert [r["statusCode"] for r in invoke(handler, 3)] == [200, 200, 200]
    assert app.events == ["lifespan.startup"]
    assert app.seen_state == [{"mutated": True}] * 3


def test_off_mode_never_runs_lifespan() -> None:
    """'off' never sends lifespan events and gives requests no state."""
    app = RecordingApp()

    async def no_state(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        assert "state" not in scope
        await app({**scope, "state": {}}, receive, send)

    with LambdaAdapter(no_state, lifespan="off") as handler:
        invoke(handler, 2)
    assert app.events == []


@pytest.mark.parametrize(
    ("shutdown", "log"),
    [
        pytest.param("hang", "did not finish within", id="hangs"),
        pytest.param("failed", "flush failed", id="fails"),
    ],
)
def test_shutdown_problems_are_logged_not_raised(
    shutdown: str, log: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A hanging or failing shutdown is bounded by the timeout and logged."""
    app = RecordingApp(shutdown=shutdown)
    quiet = TelemetryOptions(logs=False, metrics=False)  # internal warnings go to stdlib logging
    handler = LambdaAdapter(app, shutdown_timeout=0.05, telemetry=quiet)
    invoke(handler)
    with caplog.at_level(logging.WARNING, logger="traced_asgi_lambda"):
        handler.close()
    assert log in caplog.text
    assert app.events == ["lifespan.startup", "lifespan.shutdown"]


def test_shutdown_is_skipped_when_loop_is_busy(caplog: pytest.LogCaptureFixture) -> None:
    """A shutdown requested while the loop runs (a signal mid-invocation) does not re-enter it."""
    app = RecordingApp()
    loop = asyncio.new_event_loop()
    lifespan = Lifespan(app, "on", loop, logging.getLogger("traced_asgi_lambda"))
    assert lifespan.startup() is True
    assert lifespan.startup() is False

    async def shutdown_inside() -> None:
        lifespan.shutdown(0.1)

    with caplog.at_level(logging.WARNING, logger="traced_asgi_lambda"):
        loop.run_until_complete(shutdown_inside())
    assert "skipped" in caplog.text
    assert lifespan.state is LifespanState.STOPPED
    loop.close()


@pytest.mark.parametrize("source", ["http-api", "alb", "edge"])
def test_sigterm_runs_shutdown_once_then_terminates(source: str) -> None:
    """On SIGTERM the adapter runs lifespan shutdown once and the process still ends by it."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.scripts.sigterm_shutdown", source],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.splitlines() == ["startup", "invoked 25", "shutdown"], result.stderr
    assert result.returncode == -signal.SIGTERM


def test_lifespan_messages_are_plain_asgi() -> None:
    """The lifespan scope is ASGI 3 with a state dict the app can fill."""
    seen: list[Message] = []

    async def app(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        seen.append(dict(scope))
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()

    with LambdaAdapter(app, lifespan="on") as handler:
        handler.startup()
    assert seen[0]["type"] == "lifespan"
    assert seen[0]["asgi"]["version"] == "3.0"
    assert seen[0]["state"] == {}


def test_shutdown_runs_at_interpreter_exit() -> None:
    """Without SIGTERM, lifespan shutdown still runs once when the interpreter exits."""
    code = (
        "from tests.scripts.sigterm_shutdown import app\n"
        "from traced_asgi_lambda import LambdaAdapter\n"
        "from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event\n"
        "from traced_asgi_lambda.telemetry.options import TelemetryOptions\n"
        "handler = LambdaAdapter(app, telemetry=TelemetryOptions(logs=False, metrics=False))\n"
        "handler(build_event('alb', HttpRequest()), LocalContext())\n"
        "print('exiting', flush=True)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.splitlines() == ["startup", "exiting", "shutdown"], result.stderr
    assert result.returncode == 0
