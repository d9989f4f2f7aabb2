"""The deadline watchdog: an invocation about to time out is reported while there is time."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections.abc import MutableMapping
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from tests.emf_schema import validate_emf_line
from traced_asgi_lambda import LambdaAdapter, TelemetryOptions
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry import lambda_tracer_provider
from traced_asgi_lambda.telemetry.watchdog import Watchdog, fire_at
from traced_asgi_lambda.types import ASGIReceive, ASGISend

Scope = MutableMapping[str, Any]


async def slow(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    await asyncio.sleep(float(scope["query_string"].decode().partition("=")[2] or 0))
    headers = [(b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"done"})


def slow_event(seconds: float) -> dict[str, Any]:
    return build_event("http-api", HttpRequest("GET", "/slow", query=[("s", str(seconds))]))


def test_an_invocation_past_its_deadline_is_reported_before_it_ends() -> None:
    """Spans end as ERROR/timeout, a timeout line and a Timeouts metric are written, in time."""
    exporter = InMemorySpanExporter()
    provider = lambda_tracer_provider(exporter, environ={})
    out = io.StringIO()
    options = TelemetryOptions(stream=out, log_json=True, timeout_margin=0.3)
    context = LocalContext("orders", timeout_ms=800)
    with LambdaAdapter(slow, lifespan="off", tracer_provider=provider, telemetry=options) as h:
        started = time.monotonic()
        event = slow_event(1.2)
        response = h(event, context)
        # Locally the app still finishes; on Lambda it would have been stopped by now.
        assert response["body"] == "done"
        spans = {s.name: s for s in exporter.get_finished_spans()}
        root = spans["GET"]
        # Reported at 0.5 s (800 ms - 300 ms margin), well before the app finished at 1.2 s.
        assert root.end_time is not None
        assert root.start_time is not None
        assert 0.4 < (root.end_time - root.start_time) / 1e9 < 0.75
        assert root.status.status_code is StatusCode.ERROR
        assert (root.attributes or {})["error.type"] == "timeout"
        assert (spans["asgi app"].attributes or {})["error.type"] == "timeout"
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        timeout_lines = [line for line in lines if "about to time out" in line.get("message", "")]
        assert len(timeout_lines) == 1
        assert timeout_lines[0]["function_request_id"] == context.aws_request_id
        assert timeout_lines[0]["path"] == "/slow"
        metrics = [validate_emf_line(json.dumps(line)) for line in lines if "_aws" in line]
        assert [m["Timeouts"] for m in metrics if "Timeouts" in m] == [[1.0]]
        access = [line for line in lines if line.get("level") == "INFO"]
        assert len(access) == 1
        assert access[0]["error_type"] == "timeout"
        # Written on the watchdog thread, in the request's log context: its keys are there.
        trace_id = f"{root.context.trace_id:032x}"
        for line in (timeout_lines[0], access[0]):
            assert line["correlation_id"] == event["requestContext"]["requestId"]
            assert line["function_name"] == "orders"
            assert line["trace_id"] == trace_id
        assert time.monotonic() - started >= 1.2
        # The next invocation is normal: nothing of the timed-out one leaks into it.
        exporter.clear()
        out.truncate(0)
        out.seek(0)
        assert h(slow_event(0), LocalContext("orders", timeout_ms=800))["body"] == "done"
        (root,) = [s for s in exporter.get_finished_spans() if s.name == "GET"]
        assert root.status.status_code is StatusCode.UNSET
        assert "about to time out" not in out.getvalue()
        assert "Timeouts" not in out.getvalue()
    provider.shutdown()


def test_a_call_that_finishes_in_time_is_never_reported() -> None:
    """Invocations that end before their watchdog time leave no timeout behind."""
    out = io.StringIO()
    options = TelemetryOptions(stream=out, log_json=True, timeout_margin=0.3)
    with LambdaAdapter(slow, lifespan="off", telemetry=options) as handler:
        for _ in range(20):
            handler(slow_event(0), LocalContext(timeout_ms=700))
        time.sleep(0.5)  # past every armed time: the watchdog must stay quiet
    assert "about to time out" not in out.getvalue()
    assert "Timeouts" not in out.getvalue()


@pytest.mark.parametrize(
    ("remaining", "margin", "expected"),
    [
        pytest.param(3.0, 0.5, 2.5, id="margin-before-deadline"),
        pytest.param(0.05, 0.5, 0.025, id="little-time-half-of-it"),
        pytest.param(0.0, 0.5, 0.0, id="none-left"),
    ],
)
def test_fire_at(remaining: float, margin: float, expected: float) -> None:
    """The watchdog acts a margin before the deadline, never before half the time left."""
    assert fire_at(100.0, remaining, margin) == pytest.approx(100.0 + expected)


def test_watchdog_fires_once_for_the_armed_token_only() -> None:
    """Only a token still armed at its time is reported; disarming or re-arming cancels it."""
    fired: list[object] = []
    done = threading.Event()

    def on_timeout(token: object) -> None:
        fired.append(token)
        done.set()

    watchdog = Watchdog(on_timeout)
    first, second = object(), object()
    watchdog.arm(first, time.monotonic() + 0.05)
    watchdog.disarm(first)
    watchdog.arm(second, time.monotonic() + 0.1)
    assert done.wait(2)
    time.sleep(0.1)
    watchdog.stop()
    assert fired == [second]
