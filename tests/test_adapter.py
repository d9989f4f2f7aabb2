"""LambdaAdapter: configuration, custom sources, errors and the public surface."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest

import traced_asgi_lambda
from traced_asgi_lambda import (
    ConfigurationError,
    LambdaAdapter,
    LambdaContext,
    MalformedEventError,
    Mangum,
    Request,
    Response,
    TranslatorConfig,
    UnsupportedEventError,
)
from traced_asgi_lambda.events._codec import headers_from_single, make_scope
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry.options import TelemetryOptions
from traced_asgi_lambda.types import ASGIReceive, ASGISend

Scope = MutableMapping[str, Any]
ROOT = Path(__file__).parent.parent


async def hello(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    headers = [(b"x-a", b"1"), (b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": scope["path"].encode()})


async def broken(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    raise KeyError("missing-config")


async def silent(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    await receive()


class QueueTranslator:
    """A custom source: a made-up queue message carrying a path."""

    name = "my-queue"

    def matches(self, event: dict[str, Any]) -> bool:
        return "queueMessage" in event

    def to_request(
        self, event: dict[str, Any], context: LambdaContext, config: TranslatorConfig
    ) -> Request:
        scope = make_scope(
            event,
            context,
            method="POST",
            scheme="https",
            path=event["queueMessage"]["path"],
            raw_path=event["queueMessage"]["path"].encode(),
            root_path="",
            query_string=b"",
            headers=headers_from_single({"host": "queue.internal"}),
            client=None,
            server=None,
        )
        return Request(scope, b"")

    def to_response(
        self, response: Response, event: dict[str, Any], config: TranslatorConfig
    ) -> dict[str, Any]:
        return {"ok": response.status < 400, "body": response.body.decode()}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"lifespan": "sometimes"}, "Expected lifespan to be one of", id="lifespan"),
        pytest.param({"on_error": "ignore"}, "Expected on_error to be one of", id="on-error"),
        pytest.param(
            {"custom_handlers": [object()]}, r"matches\(\), to_request\(\)", id="bad-handler"
        ),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any], message: str) -> None:
    """Bad constructor arguments raise ConfigurationError saying what was expected."""
    with pytest.raises(ConfigurationError, match=message):
        LambdaAdapter(hello, **kwargs)


def test_custom_handler_comes_first() -> None:
    """A custom EventTranslator handles its events; built-in sources still work."""
    with LambdaAdapter(hello, custom_handlers=[QueueTranslator()], lifespan="off") as handler:
        assert handler({"queueMessage": {"path": "/jobs/1"}}, LocalContext()) == {
            "ok": True,
            "body": "/jobs/1",
        }
        response = handler(build_event("alb", HttpRequest(path="/x")), LocalContext())
        assert response["body"] == "/x"


def test_mangum_is_an_alias() -> None:
    """``Mangum`` is the adapter under Mangum's name, so migrating is one import."""
    assert Mangum is LambdaAdapter
    with Mangum(hello, lifespan="off", api_gateway_base_path="/", exclude_headers=["x-a"]) as h:
        response = h(build_event("http-api", HttpRequest(path="/m")), LocalContext())
    assert response["body"] == "/m"
    assert "x-a" not in response["headers"]


def test_unknown_and_malformed_events_raise_precisely() -> None:
    """Unsupported and malformed events raise their own errors before the app runs."""
    with LambdaAdapter(hello) as handler:
        with pytest.raises(UnsupportedEventError, match="got an event with Records"):
            handler({"Records": [{"eventSource": "aws:sqs"}]}, LocalContext())
        event = build_event("http-api", HttpRequest())
        del event["requestContext"]["http"]["method"]
        with pytest.raises(MalformedEventError, match=r"requestContext\.http\.method"):
            handler(event, LocalContext())


@pytest.mark.parametrize(
    ("app", "problem", "exception"),
    [
        pytest.param(broken, "raised KeyError before completing", "KeyError", id="raises"),
        pytest.param(silent, "returned without sending a complete response", None, id="silent"),
    ],
)
def test_app_failures_answer_500_and_log_why(app: Any, problem: str, exception: str | None) -> None:
    """By default a failing app gets a 500 and one explanatory, structured error line."""
    out = io.StringIO()
    options = TelemetryOptions(stream=out, log_json=True, metrics=False)
    with LambdaAdapter(app, lifespan="off", telemetry=options) as handler:
        response = handler(build_event("http-api", HttpRequest(path="/p")), LocalContext())
    assert response["statusCode"] == 500
    assert response["body"] == "Internal Server Error"
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["message"].startswith("GET /p answered 500: the app ")
    assert problem in errors[0]["message"]
    if exception:
        assert exception in json.dumps(errors[0]["exception"])
    access = [line for line in lines if line["level"] == "INFO"]
    assert len(access) == 1
    assert access[0]["status"] == 500


def test_app_failures_go_to_stdlib_logging_when_logs_are_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With our logs off, the explanation still reaches the 'traced_asgi_lambda' logger."""
    options = TelemetryOptions(logs=False, metrics=False)
    with (
        LambdaAdapter(broken, lifespan="off", telemetry=options) as handler,
        caplog.at_level(logging.ERROR, logger="traced_asgi_lambda"),
    ):
        handler(build_event("http-api", HttpRequest(path="/p")), LocalContext())
    assert len(caplog.records) == 1
    assert "GET /p answered 500: the app raised KeyError" in caplog.text


def test_on_error_raise_reraises_the_app_exception() -> None:
    """``on_error='raise'`` re-raises the app's own exception so Lambda counts it."""
    with LambdaAdapter(broken, lifespan="off", on_error="raise") as handler:
        with pytest.raises(KeyError, match="missing-config"):
            handler(build_event("http-api", HttpRequest()), LocalContext())
        # The adapter is still usable afterwards.
        with pytest.raises(KeyError):
            handler(build_event("http-api", HttpRequest()), LocalContext())


def test_on_error_raise_keeps_successful_responses() -> None:
    """An error after a completed 2xx response (a background task) does not discard it."""

    async def background_failure(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        await hello(scope, receive, send)
        raise RuntimeError("background task failed")

    with LambdaAdapter(background_failure, lifespan="off", on_error="raise") as handler:
        response = handler(build_event("http-api", HttpRequest(path="/ok")), LocalContext())
    assert response["statusCode"] == 200


async def with_lifespan(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await hello(scope, receive, send)


@pytest.mark.parametrize("telemetry_on", [True, False])
def test_sigterm_handler_is_installed_once(
    telemetry_on: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With telemetry and lifespan both on, SIGTERM is still handled by one handler."""
    installed: list[object] = []

    def record(callback: object) -> bool:
        installed.append(callback)
        return True

    monkeypatch.setattr("traced_asgi_lambda.adapter.on_sigterm", record)
    options = (
        TelemetryOptions(stream=io.StringIO(), metrics=False)
        if telemetry_on
        else TelemetryOptions(logs=False, metrics=False)
    )
    with LambdaAdapter(with_lifespan, lifespan="on", telemetry=options) as handler:
        assert (handler.telemetry is not None) is telemetry_on
        handler.startup()
        response = handler(build_event("http-api", HttpRequest()), LocalContext())
    assert response["statusCode"] == 200
    assert len(installed) == 1


def test_public_names() -> None:
    """The package exports exactly its documented public surface."""
    assert sorted(traced_asgi_lambda.__all__) == [
        "ASGIProtocolError",
        "ConfigurationError",
        "EventError",
        "EventTranslator",
        "LambdaAdapter",
        "LambdaContext",
        "LifespanError",
        "MalformedEventError",
        "Mangum",
        "Request",
        "Response",
        "ResponseTooLargeError",
        "TelemetryOptions",
        "TracedAsgiLambdaError",
        "TranslatorConfig",
        "UnsupportedEventError",
        "traced_handler",
    ]
    for name in traced_asgi_lambda.__all__:
        assert getattr(traced_asgi_lambda, name) is not None


def test_exceptions_share_one_root() -> None:
    """Every error the adapter raises on purpose derives from TracedAsgiLambdaError."""
    root = traced_asgi_lambda.TracedAsgiLambdaError
    for name in traced_asgi_lambda.__all__:
        obj = getattr(traced_asgi_lambda, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, root)


IMPORT_PROBE = """
import logging, os, sys
handlers = list(logging.getLogger().handlers)
seen = []
class Env(dict):
    def __getitem__(self, k): seen.append(k); return super().__getitem__(k)
    def get(self, k, d=None): seen.append(k); return super().get(k, d)
os.environ = Env(os.environ)
import traced_asgi_lambda
HEAVY = ('opentelemetry', 'aws_lambda_powertools', 'structlog', 'requests', 'google.protobuf',
         'boto', 'urllib3')
def heavy():
    return sorted({m.split('.')[0] + ('.sdk' if m.startswith('opentelemetry.sdk') else '')
                   for m in sys.modules if m.startswith(HEAVY)})
print(heavy(), seen, logging.getLogger().handlers == handlers,
      logging.getLogger('traced_asgi_lambda').handlers)
async def app(scope, receive, send):
    pass
handler = traced_asgi_lambda.LambdaAdapter(app, lifespan='off')
print(heavy(), handler.telemetry)
"""


def _probe(**env: str) -> tuple[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACED_"))}
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    imported, constructed = result.stdout.splitlines()
    return imported, constructed


def test_import_has_no_side_effects() -> None:
    """Importing the package configures nothing, reads no environment, loads no telemetry SDK."""
    imported, constructed = _probe()
    assert imported == "[] [] True []"
    # Constructing the adapter loads what logs and EMF need, but no OpenTelemetry.
    assert "opentelemetry" not in constructed
    assert "structlog" in constructed
    assert "aws_lambda_powertools" in constructed


def test_nothing_loads_when_every_signal_is_off() -> None:
    """With logs and metrics turned off and nothing to trace, no telemetry code loads at all."""
    _, constructed = _probe(TRACED_ASGI_LAMBDA_LOGS="off", TRACED_ASGI_LAMBDA_METRICS="off")
    assert constructed == "[] None"


OFF_PROBE = """
import sys
import traced_asgi_lambda
async def app(scope, receive, send):
    pass
options = traced_asgi_lambda.TelemetryOptions(logs=False, metrics=False)
handler = traced_asgi_lambda.LambdaAdapter(app, lifespan='off', telemetry=options)
signals = ('emf', 'logs', 'log_processors', 'outcome', 'metric_names', 'invocation')
print(handler.telemetry, [s for s in signals if 'traced_asgi_lambda.telemetry.' + s in sys.modules])
"""


def test_signal_modules_load_only_for_signals_that_are_on() -> None:
    """Options that turn every signal off import none of the signals' own modules."""
    result = subprocess.run(
        [sys.executable, "-c", OFF_PROBE], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None []"


def test_sdk_and_exporter_load_only_when_export_is_configured() -> None:
    """With an OTLP endpoint configured, the SDK and exporter load at construction, not import."""
    imported, constructed = _probe(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318")
    assert imported.startswith("[] ")
    assert "opentelemetry.sdk" in constructed
    assert "Telemetry object" in constructed
