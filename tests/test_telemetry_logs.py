"""Invocation logs: Powertools-shaped JSON, levels, access lines, app context, redaction."""

from __future__ import annotations

import contextvars
import copy
import io
import json
import logging
import random
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from fastapi import FastAPI, Request

from tests.conftest import load_event
from traced_asgi_lambda import ConfigurationError, LambdaAdapter
from traced_asgi_lambda.local import SOURCES, HttpRequest, LocalContext, build_event, to_http
from traced_asgi_lambda.telemetry.logs import InvocationLogger
from traced_asgi_lambda.telemetry.null import NullLogger
from traced_asgi_lambda.telemetry.outcome import Outcome
from traced_asgi_lambda.telemetry.redaction import (
    DEFAULT_REDACTED_HEADERS,
    DEFAULT_REDACTED_QUERY,
    Redactor,
)

ROOT = Path(__file__).parent.parent
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "orders",
    "_X_AMZN_TRACE_ID": (
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    ),
}
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
SPAN_ID = "b7ad6b7169203331"
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")

MakeLogger = Callable[..., tuple[InvocationLogger, io.StringIO]]


@pytest.fixture(autouse=True)
def isolated_logging() -> Iterator[None]:
    """Every test leaves structlog, the root logger and the record factory as it found them."""
    config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    factory = logging.getLogRecordFactory()
    yield
    structlog.configure(**config)
    root.handlers, root.level = handlers, level
    logging.setLogRecordFactory(factory)


@pytest.fixture
def make_logger() -> Iterator[MakeLogger]:
    """InvocationLogger(s) writing to a StringIO, closed after the test."""
    made: list[InvocationLogger] = []

    def make(**kwargs: Any) -> tuple[InvocationLogger, io.StringIO]:
        stream = io.StringIO()
        kwargs.setdefault("environ", LAMBDA_ENV)
        kwargs.setdefault("service", "orders-api")
        log = InvocationLogger(stream=stream, **kwargs)
        made.append(log)
        return log, stream

    yield make
    for log in made:
        log.close()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def outcome(**overrides: Any) -> Outcome:
    fields: dict[str, Any] = {
        "function_name": "orders",
        "request_id": "req-1",
        "cold_start": False,
        "method": "GET",
        "path": "/items/42",
        "route": "/items/{item_id}",
        "status": 200,
        "duration_ms": 12.34567,
        "stages": {"parse": 0.2, "app": 11.0, "encode": 0.3},
        "response_bytes": 27,
        "user_agent": "curl/8.5.0",
        "client_address": "203.0.113.10",
    }
    fields.update(overrides)
    return Outcome(**fields)


# --- shape -------------------------------------------------------------------------------


def test_json_line_has_powertools_keys_in_powertools_order(make_logger: MakeLogger) -> None:
    """A JSON line has Powertools Logger's keys, in its order, with trace ids at the end."""
    log, stream = make_logger()
    context = LocalContext("orders", aws_request_id="req-1")
    token = log.bind_invocation(
        context,
        cold_start=True,
        event=load_event("http_api_v2/get_basic"),
        trace_id=TRACE_ID,
        span_id=SPAN_ID,
        env_trace_header=LAMBDA_ENV["_X_AMZN_TRACE_ID"],
    )
    log.info("charged", order_id=7)
    log.end_invocation(token, failed=False)
    (line,) = lines(stream)
    assert list(line) == [
        "level",
        "location",
        "message",
        "timestamp",
        "service",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "correlation_id",
        "order_id",
        "xray_trace_id",
        "trace_id",
        "span_id",
    ]
    assert line["level"] == "INFO"
    assert re.fullmatch(
        r"test_json_line_has_powertools_keys_in_powertools_order:\d+", line["location"]
    )
    assert RFC3339_MS.match(line["timestamp"])
    assert line["service"] == "orders-api"
    assert line["function_memory_size"] == 512
    assert line["function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:orders"
    assert line["function_request_id"] == "req-1"
    assert line["correlation_id"] == "xFecZcThCvgtz3y="
    assert line["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert (line["trace_id"], line["span_id"]) == (TRACE_ID, SPAN_ID)


@pytest.mark.parametrize(
    ("method", "level"),
    [
        pytest.param("debug", "DEBUG", id="debug"),
        pytest.param("info", "INFO", id="info"),
        pytest.param("warning", "WARN", id="warning-is-lambdas-WARN"),
        pytest.param("error", "ERROR", id="error"),
    ],
)
def test_level_names_are_the_ones_lambda_filters_on(
    make_logger: MakeLogger, method: str, level: str
) -> None:
    """``level`` uses the names Lambda's log-level filtering accepts."""
    log, stream = make_logger(level="DEBUG")
    getattr(log, method)("x")
    assert lines(stream)[0]["level"] == level


def test_positional_arguments_are_interpolated_like_stdlib(make_logger: MakeLogger) -> None:
    """%-style arguments work as in logging, and a mismatch is shown rather than raised."""
    log, stream = make_logger()
    log.warning("dropped %d span(s): %s", 3, "timeout")
    log.warning("dropped %d span(s)", "three")
    log.info("100% done")
    log.info("%(count)d items", {"count": 3})
    assert [line["message"] for line in lines(stream)] == [
        "dropped 3 span(s): timeout",
        "dropped %d span(s) ('three',)",
        "100% done",
        "3 items",
    ]


def test_lines_outside_an_invocation_carry_no_invocation_keys(make_logger: MakeLogger) -> None:
    """Before and after an invocation a line has only the base keys."""
    log, stream = make_logger()
    log.info("init")
    token = log.bind_invocation(LocalContext(), cold_start=True, event={})
    log.end_invocation(token, failed=False)
    log.info("after")
    first, second = lines(stream)
    assert list(first) == list(second) == ["level", "location", "message", "timestamp", "service"]


def test_trace_ids_can_be_bound_once_known(make_logger: MakeLogger) -> None:
    """bind_trace adds the OpenTelemetry ids to later lines and the app's context, until the end."""
    log, stream = make_logger()
    log.bind_trace(TRACE_ID, SPAN_ID)  # no invocation: nothing to bind to
    token = log.bind_invocation(LocalContext(), cold_start=False, event={})
    log.info("before")
    log.bind_trace(TRACE_ID, SPAN_ID)
    log.info("after")
    assert structlog.contextvars.get_contextvars()["span_id"] == SPAN_ID
    log.end_invocation(token, failed=False)
    assert structlog.contextvars.get_contextvars() == {}
    before, after = lines(stream)
    assert "trace_id" not in before
    assert (after["trace_id"], after["span_id"]) == (TRACE_ID, SPAN_ID)
    assert list(after)[-2:] == ["trace_id", "span_id"]


def test_ending_twice_or_nothing_is_harmless(make_logger: MakeLogger) -> None:
    """end_invocation ignores None and a token already ended."""
    log, stream = make_logger()
    token = log.bind_invocation(LocalContext(), cold_start=False, event={})
    log.end_invocation(token, failed=True)
    log.end_invocation(token, failed=True)
    log.end_invocation(None, failed=False)
    log.info("next")
    assert "function_request_id" not in lines(stream)[0]


def test_a_broken_stream_never_raises() -> None:
    """Writing to a closed stream is swallowed, as logging's handlers do."""
    stream = io.StringIO()
    log = InvocationLogger(service="s", environ=LAMBDA_ENV, stream=stream)
    stream.close()
    try:
        log.info("lost")
    finally:
        log.close()


# --- levels and format -------------------------------------------------------------------


def test_bad_level_argument_is_refused() -> None:
    """A level argument that names no level raises ConfigurationError saying what is valid."""
    with pytest.raises(ConfigurationError, match="Expected level to be one of DEBUG"):
        InvocationLogger(service="s", environ={}, level="LOUD")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"sample_rate": 1.5}, "sample_rate to be between", id="sample-rate"),
        pytest.param({"buffer_size": 0}, "buffer_size >= 1", id="buffer-size"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    """Out-of-range sampling or buffer settings raise ConfigurationError."""
    with pytest.raises(ConfigurationError, match=message):
        InvocationLogger(service="s", environ={}, **kwargs)


def test_environment_level_filters_lines(make_logger: MakeLogger) -> None:
    """Lines below the level from the environment are not written."""
    log, stream = make_logger(environ={**LAMBDA_ENV, "AWS_LAMBDA_LOG_LEVEL": "WARN"})
    for method in ("debug", "info", "warning", "error"):
        getattr(log, method)(method)
    assert [line["message"] for line in lines(stream)] == ["warning", "error"]


@pytest.mark.parametrize(
    ("environ", "json_flag", "is_json"),
    [
        pytest.param({"AWS_LAMBDA_FUNCTION_NAME": "f"}, None, True, id="lambda-function-name"),
        pytest.param({"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}, None, True, id="exec-env"),
        pytest.param({}, None, False, id="local-console"),
        pytest.param({}, True, True, id="forced-json"),
        pytest.param({"AWS_LAMBDA_FUNCTION_NAME": "f"}, False, False, id="forced-console"),
    ],
)
def test_json_in_lambda_and_console_outside(
    make_logger: MakeLogger, environ: dict[str, str], json_flag: bool | None, is_json: bool
) -> None:
    """In Lambda one JSON object per line; elsewhere a readable console line."""
    log, stream = make_logger(environ=environ, json=json_flag)
    log.info("hello %s", "world", order_id=7)
    text = stream.getvalue()
    assert text.count("\n") == 1
    if is_json:
        assert json.loads(text)["message"] == "hello world"
    else:
        assert not text.startswith("{")
        assert "[info" in text
        assert "hello world" in text
        assert "order_id=7" in text
        assert ANSI.search(text) is None  # a StringIO is no terminal


# --- access and stage lines ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message", "extra"),
    [
        pytest.param({}, "GET /items/{item_id} 200", {}, id="success"),
        pytest.param(
            {"route": None, "path": "/nope", "status": 404}, "GET /nope 404", {}, id="not-found"
        ),
        pytest.param(
            {"method": "POST", "route": "/items", "status": 500, "error_type": "500"},
            "POST /items 500",
            {"error_type": "500"},
            id="server-error",
        ),
        pytest.param(
            {"status": 500, "error_type": "KeyError"},
            "GET /items/{item_id} 500",
            {"error_type": "KeyError"},
            id="exception-answered-500",
        ),
        pytest.param(
            {"status": None, "error_type": "KeyError", "response_bytes": None},
            "GET /items/{item_id} KeyError",
            {"error_type": "KeyError"},
            id="exception-re-raised",
        ),
    ],
)
def test_access_line_per_request(
    make_logger: MakeLogger, overrides: dict[str, Any], message: str, extra: dict[str, Any]
) -> None:
    """One INFO access line with the request's facts; error_type only when it failed."""
    log, stream = make_logger()
    done = outcome(**overrides)
    log.access(done)
    (line,) = lines(stream)
    assert line["level"] == "INFO"
    assert line["message"] == message
    expected = {
        "method": done.method,
        "path": done.path,
        "route": done.route,
        "status": done.status,
        "duration_ms": 12.346,
        "response_bytes": done.response_bytes,
        "user_agent": "curl/8.5.0",
        "client_address": "203.0.113.10",
        "cold_start": False,
        **extra,
    }
    assert {k: line.get(k) for k in expected} == expected
    assert ("error_type" in line) == bool(extra)
    assert all(value is not None for value in line.values())


def test_stage_timings_are_a_debug_line(make_logger: MakeLogger) -> None:
    """Stage milliseconds go on a separate DEBUG line, in stage order; INFO hides it."""
    log, stream = make_logger(level="DEBUG")
    log.stages(outcome(init_duration_ms=180.5))
    (line,) = lines(stream)
    assert line["level"] == "DEBUG"
    assert line["message"] == "GET /items/{item_id} 200 stages"
    assert [k for k in line if k.endswith("_ms")] == [
        "parse_ms",
        "app_ms",
        "encode_ms",
        "duration_ms",
        "init_duration_ms",
    ]
    quiet, quiet_stream = make_logger()
    quiet.stages(outcome())
    assert quiet_stream.getvalue() == ""


def test_non_http_invocation_access_message(make_logger: MakeLogger) -> None:
    """An invocation with no HTTP method is named by its trigger."""
    log, stream = make_logger()
    log.access(outcome(trigger="pubsub", method=None, path=None, route=None, status=None))
    assert lines(stream)[0]["message"] == "pubsub invocation done"
    assert lines(stream)[0]["trigger"] == "pubsub"


# --- exceptions ------------------------------------------------------------------------------


def _fail_with_cause() -> None:
    prices: dict[str, int] = {}
    try:
        prices["missing"]
    except KeyError as exc:
        secret_local = "Bearer local-secret"  # noqa: F841 - must never be rendered
        raise ValueError("could not price order") from exc


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda log, exc: log.exception("pricing failed", exc), id="exception"),
        pytest.param(lambda log, exc: log.exception("pricing failed"), id="exception-current"),
        pytest.param(
            lambda log, exc: log.error("pricing failed", exc_info=exc), id="error-exc-info"
        ),
    ],
)
def test_exception_is_one_line_with_a_structured_traceback(
    make_logger: MakeLogger, call: Callable[[InvocationLogger, BaseException], None]
) -> None:
    """An exception is one ERROR line with a structured traceback and no local variables."""
    log, stream = make_logger()
    try:
        _fail_with_cause()
    except ValueError as exc:
        call(log, exc)
    (line,) = lines(stream)
    assert line["level"] == "ERROR"
    assert line["message"] == "pricing failed"
    assert line["exception_name"] == "ValueError"
    stacks = line["exception"]
    assert [stack["exc_type"] for stack in stacks] == ["ValueError", "KeyError"]
    assert stacks[1]["is_cause"] is True
    assert "_fail_with_cause" in [frame["name"] for frame in stacks[0]["frames"]]
    assert "local-secret" not in stream.getvalue()


# --- the app's own logs ----------------------------------------------------------------------


def logging_app(stdlib_name: str) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, int]:
        structlog.get_logger().info("app structlog line", item_id=item_id)
        logging.getLogger(stdlib_name).warning("app stdlib line %s", item_id)
        return {"item_id": item_id}

    return app


@pytest.fixture
def stdlib_capture() -> Iterator[tuple[str, io.StringIO]]:
    """A stdlib logger of the app's, whose formatter reads our record attributes."""
    name = "tests.telemetry_logs.app"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter(
            "%(message)s rid=%(function_request_id)s trace=%(trace_id)s span=%(span_id)s",
            defaults={"function_request_id": "-", "trace_id": "-", "span_id": "-"},
        )
    )
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield name, stream
    logger.removeHandler(handler)
    logger.propagate = True


def test_app_logs_carry_the_invocation_context_and_lose_it_after(
    make_logger: MakeLogger,
    stdlib_capture: tuple[str, io.StringIO],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A FastAPI route's structlog and stdlib lines carry request and trace ids, then stop."""
    structlog.reset_defaults()  # the app uses structlog's default configuration
    name, app_stream = stdlib_capture
    log, _ = make_logger()
    event = build_event("http-api", HttpRequest(path="/items/42"))
    first, second = LocalContext(aws_request_id="req-1"), LocalContext(aws_request_id="req-2")
    with LambdaAdapter(logging_app(name), lifespan="off") as handler:
        # What the adapter's telemetry does around each call; an adapter that binds the
        # same keys itself (once integrated) binds the same request id inside ours.
        token = log.bind_invocation(
            first, cold_start=True, event=event, trace_id=TRACE_ID, span_id=SPAN_ID
        )
        try:
            assert handler(event, first)["statusCode"] == 200
        finally:
            log.end_invocation(token, failed=False)
        assert handler(event, second)["statusCode"] == 200  # nothing of ours bound
    out = ANSI.sub("", capsys.readouterr().out).splitlines()
    inside, after = [line for line in out if "app structlog line" in line]
    for key, value in (("function_request_id", "req-1"), ("trace_id", TRACE_ID)):
        assert f"{key}={value}" in inside
        assert value not in after
    assert f"span_id={SPAN_ID}" in inside
    assert SPAN_ID not in after
    inside, after = app_stream.getvalue().splitlines()
    assert inside == f"app stdlib line 42 rid=req-1 trace={TRACE_ID} span={SPAN_ID}"
    assert after in (
        "app stdlib line 42 rid=- trace=- span=-",
        "app stdlib line 42 rid=req-2 trace=- span=-",
    )


def test_app_bound_context_survives_our_reset(make_logger: MakeLogger) -> None:
    """Ending an invocation resets only our keys: the app's own bound keys stay."""
    log, _ = make_logger()
    structlog.contextvars.bind_contextvars(tenant="acme", function_request_id="app-value")
    try:
        token = log.bind_invocation(LocalContext(aws_request_id="ours"), cold_start=False, event={})
        assert structlog.contextvars.get_contextvars()["function_request_id"] == "ours"
        log.end_invocation(token, failed=False)
        assert structlog.contextvars.get_contextvars() == {
            "tenant": "acme",
            "function_request_id": "app-value",
        }
    finally:
        structlog.contextvars.clear_contextvars()


def test_app_configuration_is_untouched_and_our_lines_stay_ours(make_logger: MakeLogger) -> None:
    """An app's own structlog and logging setup loses nothing, gains no lines, sees not ours."""
    theirs = io.StringIO()
    seen: list[dict[str, Any]] = []

    def spy(logger: Any, method: str, event_dict: Any) -> Any:
        seen.append(dict(event_dict))
        return event_dict

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            spy,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(theirs),
    )
    their_stdlib = io.StringIO()
    handler = logging.StreamHandler(their_stdlib)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    config_before = structlog.get_config()
    handlers_before, level_before = list(root.handlers), root.level

    log, ours = make_logger()
    token = log.bind_invocation(LocalContext(aws_request_id="r-9"), cold_start=False, event={})
    log.info("our line")
    structlog.get_logger().info("their structlog line")
    logging.getLogger("tests.telemetry_logs.theirs").warning("their stdlib line")
    log.end_invocation(token, failed=False)

    assert structlog.get_config() == config_before
    assert (root.handlers, root.level) == (handlers_before, level_before)
    assert [line["message"] for line in lines(ours)] == ["our line"]
    (their_line,) = [json.loads(line) for line in theirs.getvalue().splitlines()]
    assert their_line == {"function_request_id": "r-9", "event": "their structlog line"}
    assert [entry["event"] for entry in seen] == ["their structlog line"]
    assert their_stdlib.getvalue() == "WARNING their stdlib line\n"


def test_global_configuration_renders_app_logs_our_way_and_is_undone(
    make_logger: MakeLogger,
) -> None:
    """configure_globally renders the app's structlog and stdlib logs as ours, until close."""
    config_before = structlog.get_config()
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    log, stream = make_logger(configure_globally=True)
    token = log.bind_invocation(LocalContext(aws_request_id="r-g"), cold_start=False, event={})
    structlog.get_logger().info("app structlog", sku="A-1")
    logging.getLogger("tests.telemetry_logs.global").warning("app stdlib %s", "x", extra={"n": 1})
    log.end_invocation(token, failed=False)
    first, second = lines(stream)
    assert (first["message"], first["level"], first["sku"]) == ("app structlog", "INFO", "A-1")
    assert (second["message"], second["level"], second["n"]) == ("app stdlib x", "WARN", 1)
    for line in (first, second):
        assert line["function_request_id"] == "r-g"
        assert line["service"] == "orders-api"
        assert line["location"].startswith("test_global_configuration_renders_app_logs")
    log.close()
    assert structlog.get_config() == config_before
    assert root.handlers == handlers_before


def test_record_factory_chains_and_is_removed_on_close(make_logger: MakeLogger) -> None:
    """Our LogRecord factory wraps the previous one and close() puts the previous one back."""
    previous = logging.getLogRecordFactory()

    def tagging(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.__dict__["tagged"] = True
        return record

    logging.setLogRecordFactory(tagging)
    log, _ = make_logger()
    token = log.bind_invocation(LocalContext(aws_request_id="r-f"), cold_start=False, event={})
    inside = logging.getLogRecordFactory()("n", logging.INFO, "f", 1, "m", (), None)
    log.end_invocation(token, failed=False)
    outside = logging.getLogRecordFactory()("n", logging.INFO, "f", 1, "m", (), None)
    assert (inside.__dict__["tagged"], inside.__dict__["function_request_id"]) == (True, "r-f")
    assert outside.__dict__["tagged"]
    assert "function_request_id" not in outside.__dict__
    log.close()
    assert logging.getLogRecordFactory() is tagging


# --- redaction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"headers": {"Authorization": "Bearer t", "Accept": "*/*"}},
            {"headers": {"Authorization": "REDACTED", "Accept": "*/*"}},
            id="header-map-mixed-case",
        ),
        pytest.param(
            {"multiValueHeaders": {"COOKIE": ["a=1"], "X-Api-Key": ["k"], "Host": ["h"]}},
            {"multiValueHeaders": {"COOKIE": "REDACTED", "X-Api-Key": "REDACTED", "Host": ["h"]}},
            id="multi-value-headers",
        ),
        pytest.param(
            {"headers": [(b"proxy-authorization", b"Basic x"), (b"accept", b"*/*")]},
            {"headers": [(b"proxy-authorization", "REDACTED"), (b"accept", b"*/*")]},
            id="asgi-pairs",
        ),
        pytest.param(
            {"http.request.header.set_cookie": ["s=1"], "authorization": "Bearer t"},
            {"http.request.header.set_cookie": "REDACTED", "authorization": "REDACTED"},
            id="captured-header-attributes",
        ),
        pytest.param(
            {"url.query": "a=1&%74oken=t&Access_Token=u&sig"},
            {"url.query": "a=1&%74oken=REDACTED&Access_Token=REDACTED&sig"},
            id="query-percent-encoded-and-mixed-case",
        ),
        pytest.param(
            {"query_string": b"code=c&x=1", "raw_path": b"/cb?password=p"},
            {"query_string": "code=REDACTED&x=1", "raw_path": "/cb?password=REDACTED"},
            id="asgi-bytes",
        ),
        pytest.param(
            {"path": "/cb?Signature=s&x=1#frag", "url.full": "https://h/x?key=k"},
            {"path": "/cb?Signature=REDACTED&x=1#frag", "url.full": "https://h/x?key=REDACTED"},
            id="urls",
        ),
        pytest.param(
            {"event": {"queryStringParameters": {"TOKEN": "t"}, "cookies": ["a=1"]}},
            {"event": {"queryStringParameters": {"TOKEN": "REDACTED"}, "cookies": "REDACTED"}},
            id="nested-lambda-event",
        ),
        pytest.param(
            {"route": "/items/{id}", "status": 200, "query": "page=2"},
            {"route": "/items/{id}", "status": 200, "query": "page=2"},
            id="nothing-secret",
        ),
    ],
)
def test_redactor_hides_secret_headers_and_query_values(
    fields: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Sensitive headers and query values are replaced, whatever the spelling and container."""
    before = copy.deepcopy(fields)
    redacted = dict(fields)
    Redactor(DEFAULT_REDACTED_HEADERS, DEFAULT_REDACTED_QUERY).redact_fields(redacted)
    assert redacted == expected
    assert fields == before  # the caller's containers are copied, never changed


@pytest.mark.parametrize(
    ("kwargs", "kept", "hidden"),
    [
        pytest.param({}, ["x-trace"], ["s3cret", "tok3n"], id="defaults"),
        pytest.param({"redaction": False}, ["s3cret", "tok3n"], [], id="off"),
        pytest.param(
            {"redact_headers": {"X-Trace"}, "redact_query": {"sid"}},
            ["s3cret", "tok3n"],
            ["x-trace-value"],
            id="replaced-lists",
        ),
    ],
)
def test_logger_redaction_is_configurable(
    make_logger: MakeLogger, kwargs: dict[str, Any], kept: list[str], hidden: list[str]
) -> None:
    """Redaction is on by default; the lists can be replaced, or redaction turned off."""
    log, stream = make_logger(**kwargs)
    log.info(
        "GET /cb?token=tok3n",
        headers={"Authorization": "Bearer s3cret", "X-Trace": "x-trace-value"},
    )
    text = stream.getvalue()
    for value in kept:
        assert value in text
    for value in hidden:
        assert value not in text


SECRETS = {
    "authorization": "Bearer SECRET-AUTHZ",
    "cookie": "session=SECRET-COOKIE",
    "x-api-key": "SECRET-APIKEY",
    "proxy-authorization": "Basic SECRET-PROXY",
}
QUERY_SECRETS = {
    "token": "SECRET-TOKEN",
    "Access_Token": "SECRET-ACCESS",
    "password": "SECRET/PASSWORD",
    "signature": "SECRET-SIG",
    "code": "SECRET-CODE",
}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_no_request_secret_appears_anywhere_in_the_logs(
    make_logger: MakeLogger, source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A request full of credentials leaves none in any line: event, scope, access, error."""
    request = HttpRequest(
        path="/items/42",
        query=[("page", "2"), *QUERY_SECRETS.items()],
        headers=[("user-agent", "curl/8.5.0"), *SECRETS.items()],
    )
    event = build_event(source, request)
    scopes: list[dict[str, Any]] = []
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/items/{item_id}")
    async def get_item(item_id: int, request: Request) -> dict[str, int]:
        scopes.append(dict(request.scope))
        credentials = request.headers["authorization"]  # noqa: F841 - a local holding a secret
        raise RuntimeError("pricing failed")

    log, stream = make_logger(sample_rate=1.0)
    token = log.bind_invocation(LocalContext(), cold_start=False, event=event)
    log.debug("event received", event=event)
    with LambdaAdapter(app, lifespan="off") as handler:
        assert to_http(handler(event, LocalContext())).status == 500
    (scope,) = scopes
    log.debug(
        "request",
        headers=scope["headers"],
        query_string=scope["query_string"],
        raw_path=scope["raw_path"],
        url=f"https://example.com{scope['path']}?{scope['query_string'].decode()}",
    )
    log.info(f"GET {scope['path']}?{scope['query_string'].decode()}")
    try:
        raise RuntimeError("pricing failed")
    except RuntimeError as exc:
        log.exception("request failed", exc)
    log.access(outcome(status=500, error_type="RuntimeError"))
    log.end_invocation(token, failed=True)
    assert len(stream.getvalue().splitlines()) == 5
    # Also whatever the adapter itself wrote to stdout (its own lines, once integrated).
    text = stream.getvalue() + capsys.readouterr().out
    for secret in [*SECRETS.values(), *QUERY_SECRETS.values()]:
        for form in {secret, secret.split(" ")[-1], secret.replace("/", "%2F")}:
            assert form not in text, f"{form!r} leaked from {source}"


# --- sampling and the debug buffer ----------------------------------------------------------


def _run_invocations(log: InvocationLogger, count: int, *, failed: bool = False) -> None:
    for index in range(count):
        token = log.bind_invocation(LocalContext(), cold_start=index == 0, event={})
        log.debug("detail %d", index)
        log.info("done %d", index)
        log.end_invocation(token, failed=failed)


@pytest.mark.parametrize(
    ("rate", "seed"),
    [
        pytest.param(0.0, None, id="never"),
        pytest.param(1.0, None, id="always"),
        pytest.param(0.3, 7, id="seeded-fraction"),
    ],
)
def test_sampling_raises_whole_invocations_to_debug(
    make_logger: MakeLogger, rate: float, seed: int | None
) -> None:
    """At the sample rate, an invocation logs at DEBUG; the others stay at the base level."""
    log, stream = make_logger(sample_rate=rate, sample_seed=seed)
    _run_invocations(log, 100)
    rng = random.Random(seed)
    expected = sum(rng.random() < rate for _ in range(100))
    assert expected == {0.0: 0, 1.0: 100}.get(rate, expected)
    written = lines(stream)
    assert sum(line["level"] == "DEBUG" for line in written) == expected
    assert sum(line["level"] == "INFO" for line in written) == 100
    log.info("outside")
    assert lines(stream)[-1].get("sampling_rate") == (rate or None)


@pytest.mark.parametrize(
    ("failed", "messages"),
    [
        pytest.param(False, ["done 0"], id="success-discards"),
        pytest.param(True, ["done 0", "detail 0"], id="failure-flushes"),
    ],
)
def test_debug_buffer_is_written_only_when_the_invocation_fails(
    make_logger: MakeLogger, failed: bool, messages: list[str]
) -> None:
    """Buffered DEBUG lines appear, with their own timestamps, only after a failure."""
    log, stream = make_logger(buffer_debug=True)
    _run_invocations(log, 1, failed=failed)
    assert [line["message"] for line in lines(stream)] == messages
    log.debug("outside an invocation")
    assert stream.getvalue().count("outside") == 0


def test_debug_buffer_is_bounded_and_counts_what_it_dropped(make_logger: MakeLogger) -> None:
    """A full buffer keeps the newest lines and says how many older ones it dropped."""
    log, stream = make_logger(buffer_debug=True, buffer_size=3)
    token = log.bind_invocation(LocalContext(), cold_start=False, event={})
    for index in range(5):
        log.debug("detail %d", index)
    log.end_invocation(token, failed=True)
    assert [line["message"] for line in lines(stream)] == [
        "debug buffer full: 2 earlier line(s) dropped",
        "detail 2",
        "detail 3",
        "detail 4",
    ]


@pytest.mark.parametrize(
    ("failed", "written"),
    [pytest.param(False, [], id="success"), pytest.param(True, ["late detail"], id="failure")],
)
def test_debug_lines_after_the_buffer_is_dropped_follow_its_verdict(
    make_logger: MakeLogger, failed: bool, written: list[str]
) -> None:
    """After-response mode writes lines after end_invocation, in a copy of the context."""
    log, stream = make_logger(buffer_debug=True)
    token = log.bind_invocation(LocalContext(), cold_start=False, event={})
    later = contextvars.copy_context()
    log.end_invocation(token, failed=failed)
    later.run(log.debug, "late detail")
    assert [line["message"] for line in lines(stream)] == written


def test_debug_buffer_is_unused_when_debug_is_already_on(make_logger: MakeLogger) -> None:
    """At level DEBUG the buffer is pointless, so DEBUG lines are written at once."""
    log, stream = make_logger(buffer_debug=True, level="DEBUG")
    token = log.bind_invocation(LocalContext(), cold_start=False, event={})
    log.debug("now")
    assert lines(stream)[0]["message"] == "now"
    log.end_invocation(token, failed=False)


# --- on and off ----------------------------------------------------------------------------------


def test_null_logger_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """The off switch's NullLogger takes every call and writes nothing."""
    log = NullLogger()
    token = log.bind_invocation(LocalContext(), cold_start=True, event={})
    log.bind_trace(TRACE_ID, SPAN_ID)
    log.info("x %s", 1)
    log.exception("x", ValueError())
    log.access(outcome())
    log.stages(outcome())
    log.end_invocation(token, failed=True)
    log.close()
    assert capsys.readouterr() == ("", "")


def test_default_stream_is_stdout_at_call_time(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a stream, lines go to whatever sys.stdout is when they are written."""
    log = InvocationLogger(service="s", environ=LAMBDA_ENV)
    try:
        log.info("to stdout")
    finally:
        log.close()
    assert json.loads(capsys.readouterr().out)["message"] == "to stdout"


# --- event fields ------------------------------------------------------------------------------


# --- cost ----------------------------------------------------------------------------------------

IMPORT_PROBE = """
import sys
import traced_asgi_lambda.telemetry.logs as logs
print('structlog' in sys.modules)
logs.InvocationLogger(service='s', environ={}).close()
print('structlog' in sys.modules)
"""


def test_importing_logs_does_not_import_structlog() -> None:
    """structlog loads when a logger is built, not when the module is imported."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


LAMBDA_PROBE = """
import io, sys
from traced_asgi_lambda.telemetry.logs import InvocationLogger
from traced_asgi_lambda.telemetry.outcome import Outcome

class Context:
    function_name, memory_limit_in_mb = "f", 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    aws_request_id = "r-1"

stream = io.StringIO()
log = InvocationLogger(service="s", environ={"AWS_LAMBDA_FUNCTION_NAME": "f"}, stream=stream)
token = log.bind_invocation(Context(), cold_start=True, event={}, trace_id="a" * 32)
outcome = Outcome("f", "r-1", True, method="GET", path="/", status=200)
log.access(outcome)
log.end_invocation(token, failed=False)
print("structlog" in sys.modules, '"function_request_id":"r-1"' in stream.getvalue())
try:
    raise ValueError("boom")
except ValueError as exc:
    log.exception("failed", exc)
print("structlog" in sys.modules, '"exception_name":"ValueError"' in stream.getvalue())
"""


def test_json_logs_import_structlog_only_for_an_exception() -> None:
    """In Lambda, without an app that uses structlog, a call's lines need none of it."""
    result = subprocess.run(
        [sys.executable, "-c", LAMBDA_PROBE], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True"]


# --- the access line's redaction ------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "settings", "redacted"),
    [
        pytest.param({}, {}, set(), id="plain"),
        pytest.param({"route": None}, {}, set(), id="no-route"),
        pytest.param(
            {"cold_start": True, "init_duration_ms": 123.4567}, {}, set(), id="cold-start"
        ),
        pytest.param({"status": 500, "error_type": "ValueError"}, {}, set(), id="error"),
        pytest.param({"correlation_id": "corr-1", "trigger": "pubsub"}, {}, set(), id="trigger"),
        pytest.param({"user_agent": None, "client_address": None}, {}, set(), id="nones"),
        pytest.param({}, {"sample_rate": 1.0}, set(), id="sampled"),
        pytest.param({}, {"redaction": False}, set(), id="no-redaction"),
        pytest.param({}, {"redact_headers": ["user_agent"]}, {"user_agent"}, id="more-redaction"),
        pytest.param(
            {"route": None, "path": "/cb?token=abc"}, {}, {"path", "message"}, id="query-in-path"
        ),
        pytest.param(
            {"route": None, "path": "/a;code=1"}, {}, {"message"}, id="parameter-in-message"
        ),
        pytest.param({"path": "/x?y"}, {"redaction": False}, set(), id="query-not-redacted"),
    ],
)
def test_the_access_line_is_redacted_as_every_line_is(
    changes: dict[str, Any], settings: dict[str, Any], redacted: set[str]
) -> None:
    """One line, in Powertools' key order, with exactly the secrets the redactor hides."""
    stream = io.StringIO()
    log = InvocationLogger(service="orders-api", environ=LAMBDA_ENV, stream=stream, **settings)
    context = LocalContext("orders", aws_request_id="req-1")
    token = log.bind_invocation(
        context, cold_start=changes.get("cold_start", False), event={}, trace_id=TRACE_ID
    )
    log.access(outcome(**changes))
    log.end_invocation(token, failed=False)
    log.close()
    (line,) = lines(stream)
    assert list(line)[:5] == ["level", "location", "message", "timestamp", "service"]
    assert list(line)[-1] == "trace_id"
    assert {key for key, value in line.items() if "REDACTED" in str(value)} == redacted


# --- the access line, composed directly ------------------------------------------------------


class CountingLogger(InvocationLogger):
    """Counts the lines that go through the generic chain."""

    chained = 0

    def _write(self, sink: Any, method: str, msg: str, line: Any) -> None:
        self.chained += 1
        super()._write(sink, method, msg, line)


@pytest.mark.parametrize(
    ("changes", "settings", "direct"),
    [
        pytest.param({}, {}, True, id="plain"),
        pytest.param({"route": None}, {}, True, id="no-route"),
        pytest.param({"cold_start": True, "init_duration_ms": 123.4567}, {}, True, id="cold-start"),
        pytest.param({"status": 500, "error_type": "ValueError"}, {}, True, id="error"),
        pytest.param({"correlation_id": "corr-1", "trigger": "pubsub"}, {}, True, id="trigger"),
        pytest.param({"user_agent": None, "client_address": None}, {}, True, id="nones"),
        pytest.param({}, {"sample_rate": 1.0}, True, id="sampled"),
        pytest.param({}, {"redaction": False}, True, id="no-redaction"),
        pytest.param({}, {"redact_headers": ["user_agent"]}, False, id="more-redaction"),
        pytest.param({"route": None, "path": "/cb?token=abc"}, {}, False, id="query-in-path"),
        pytest.param({"route": None, "path": "/a;code=1"}, {}, False, id="parameter-in-message"),
        pytest.param({"path": "/x?y"}, {"redaction": False}, True, id="query-not-redacted"),
    ],
)
def test_the_direct_access_line_is_what_the_chain_writes(
    changes: dict[str, Any], settings: dict[str, Any], direct: bool
) -> None:
    """The same keys, order and values as the chain (timestamp aside); the chain when unsure."""
    written: list[list[tuple[str, Any]]] = []
    chained: list[int] = []
    for composed in (True, False):
        stream = io.StringIO()
        log = CountingLogger(service="orders-api", environ=LAMBDA_ENV, stream=stream, **settings)
        if not composed:
            log._access_direct = False  # force the generic chain: the reference
        context = LocalContext("orders", aws_request_id="req-1")
        token = log.bind_invocation(
            context, cold_start=changes.get("cold_start", False), event={}, trace_id=TRACE_ID
        )
        log.access(outcome(**changes))
        log.end_invocation(token, failed=False)
        log.close()
        (line,) = lines(stream)
        line.pop("timestamp")
        written.append(list(line.items()))
        chained.append(log.chained)
    assert written[0] == written[1]
    assert chained == [0 if direct else 1, 1]


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("environ", "coloured"),
    [
        pytest.param({}, True, id="terminal"),
        pytest.param({"NO_COLOR": "1"}, False, id="no-color"),
        pytest.param({"NO_COLOR": ""}, True, id="empty-no-color-is-unset"),
    ],
)
def test_console_colour_follows_no_color_as_the_cli_does(
    environ: dict[str, str], coloured: bool
) -> None:
    stream = TerminalStream()
    log = InvocationLogger(service="s", environ=environ, stream=stream)
    log.warning("hello")
    log.close()
    assert bool(ANSI.search(stream.getvalue())) is coloured
