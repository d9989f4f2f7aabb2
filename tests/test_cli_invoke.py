"""``traced-asgi-lambda invoke``: events of every source, what it prints, and its errors."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from examples.fastapi_app import LOGO
from tests.apps.contract import BINARY_PAYLOAD
from traced_asgi_lambda.cli import main
from traced_asgi_lambda.cli._style import Style
from traced_asgi_lambda.local import SOURCES

EXAMPLE = "examples.fastapi_app:app"
CONTRACT = "tests.apps.starlette_app:app"
EVENTS = Path(__file__).parent / "events"
ROOT = Path(__file__).parent.parent
STAGES = ["parse event", "lifespan startup", "asgi app", "encode response"]
# An app that prints, in a module only --app-dir can find.
PRINTING_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    print("hello from the app")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep --app-dir's sys.path entry and colour variables from leaking between tests."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def invoke_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["invoke", *argv, "--json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


@pytest.mark.parametrize("source", list(SOURCES))
def test_every_source_prints_response_tree_logs_and_metrics(
    source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each source's event runs through the adapter; the four sections print, uncoloured."""
    assert main(["invoke", EXAMPLE, "--source", source, "--path", "/items/1"]) == 0
    out = capsys.readouterr().out
    assert "HTTP 200" in out
    for text in ["Trace", *STAGES, "cold start", "GET /items/{item_id} 200", "ColdStart"]:
        assert text in out
    assert "\x1b[" not in out


def test_json_document_holds_every_signal(capsys: pytest.CaptureFixture[str]) -> None:
    """--json: the event, response, HTTP view, span tree, log lines and EMF in one document."""
    document = invoke_json(capsys, EXAMPLE, "--path", "/items/7", "--log-level", "debug")
    assert document["event"]["rawPath"] == "/items/7"
    assert document["response"]["statusCode"] == 200
    assert json.loads(document["http"]["body"])["item_id"] == 7
    spans = {span["name"]: span for span in document["spans"]}
    assert set(spans) == {"GET /items/{item_id}", *STAGES}
    root = spans["GET /items/{item_id}"]
    assert all(spans[name]["parent_id"] == root["span_id"] for name in STAGES)
    assert root["attributes"]["faas.coldstart"] is True
    assert [log["message"] for log in document["logs"]] == [
        "GET /items/{item_id} 200",
        "GET /items/{item_id} 200 stages",
    ]
    directives = [d for blob in document["metrics"] for d in blob["_aws"]["CloudWatchMetrics"]]
    names = {metric["Name"] for directive in directives for metric in directive["Metrics"]}
    assert {"ColdStart", "Latency", "StageLatency", "Requests"} <= names
    assert document["error"] is None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(
            ["--path", "/query?a=1", "--query", "a=2", "-q", "b=x y"],
            {"params": {"a": ["1", "2"], "b": ["x y"]}},
            id="query-from-path-and-flags",
        ),
        pytest.param(
            ["--path", "/headers", "-H", "X-Multi: 1", "--header", "user-agent:cli/1"],
            {"x_multi": ["1"], "user_agent": "cli/1"},
            id="headers",
        ),
        pytest.param(
            ["-X", "post", "--path", "/items", "-H", "content-type: application/json", "-d", "[1]"],
            {"received": [1]},
            id="json-body",
        ),
    ],
)
def test_request_options_reach_the_app(
    argv: list[str], expected: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """--path, --query, --header, --method and --body become the request the app sees."""
    document = invoke_json(capsys, CONTRACT, *argv)
    assert json.loads(document["http"]["body"]) == expected


@pytest.mark.parametrize("source", ["http-api", "rest", "alb", "url", "edge", "lattice"])
def test_binary_bodies_travel_both_ways(
    source: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--body-file bytes reach the app intact, and a binary response is base64 in JSON."""
    upload = tmp_path / "payload.bin"
    upload.write_bytes(BINARY_PAYLOAD)
    argv = ["--source", source, "-X", "PUT", "--path", "/upload", "--body-file", str(upload)]
    answer = json.loads(invoke_json(capsys, CONTRACT, *argv)["http"]["body"])
    assert answer["sha256"] == hashlib.sha256(BINARY_PAYLOAD).hexdigest()
    http = invoke_json(capsys, EXAMPLE, "--source", source, "--path", "/logo.png")["http"]
    assert http["body_base64"] is True
    assert base64.b64decode(http["body"]) == LOGO


@pytest.mark.parametrize("fixture", ["alb/get_basic", "vpc_lattice_v2/get_basic"])
def test_event_file_is_sent_as_is(fixture: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--event FILE sends a recorded AWS payload unchanged."""
    event = json.loads((EVENTS / f"{fixture}.json").read_text())
    document = invoke_json(capsys, CONTRACT, "--event", str(EVENTS / f"{fixture}.json"))
    assert document["event"] == event
    assert document["http"]["status"] in (200, 404)


def test_event_from_stdin_that_no_source_claims(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--event - reads stdin; an event the adapter refuses shows Lambda's error, exit 1."""
    sqs = json.dumps({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]})
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(sqs.encode())))
    assert main(["invoke", CONTRACT, "--event", "-"]) == 1
    out = capsys.readouterr().out
    assert "the handler raised UnsupportedEventError" in out
    assert '"errorType": "UnsupportedEventError"' in out
    assert "ERROR UnsupportedEventError" in out  # the root span of the failed invocation


def test_app_error_is_a_500_with_its_exception(capsys: pytest.CaptureFixture[str]) -> None:
    """A route that raises answers 500 (exit 0); the tree and the log name the exception."""
    assert main(["invoke", EXAMPLE, "--path", "/boom"]) == 0
    out = capsys.readouterr().out
    assert "HTTP 500" in out
    assert "ERROR RuntimeError" in out
    assert "RuntimeError: this route always fails" in out


def test_handler_and_app_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """MODULE:handler unwraps the adapter; --app-dir finds a module; app prints are kept."""
    assert main(["invoke", "examples.fastapi_app:handler", "--path", "/items/3"]) == 0
    assert "HTTP 200" in capsys.readouterr().out
    (tmp_path / "printing_app.py").write_text(PRINTING_APP)
    document = invoke_json(capsys, "printing_app:app", "--app-dir", str(tmp_path))
    assert document["output"] == ["hello from the app"]
    assert document["http"]["body"] == "ok"
    assert main(["invoke", "printing_app:app", "--app-dir", str(tmp_path)]) == 0
    assert "Output\n  hello from the app" in capsys.readouterr().out


def test_long_bodies_are_shortened_on_the_console(capsys: pytest.CaptureFixture[str]) -> None:
    """The console shows the first 300 characters of a body; --json keeps all of it."""
    assert main(["invoke", CONTRACT, "--path", "/download"]) == 0
    assert '... (44 more)"' in capsys.readouterr().out  # 256 bytes are 344 in base64
    body = invoke_json(capsys, CONTRACT, "--path", "/download")["response"]["body"]
    assert base64.b64decode(body) == BINARY_PAYLOAD


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["no_such_module:app"], "no module named 'no_such_module'", id="module"),
        pytest.param(["examples.fastapi_app:nope"], "has none named 'nope'", id="attribute"),
        pytest.param(["examples.fastapi_app"], "Expected the app as MODULE:APP", id="spec"),
        pytest.param(["tests.apps.contract:STATE_KEY"], "an ASGI app (a callable)", id="str"),
        pytest.param([EXAMPLE, "--header", "no-colon"], "Expected --header", id="header"),
        pytest.param([EXAMPLE, "-H", "bad name: v"], "Expected --header", id="header-name"),
        pytest.param([EXAMPLE, "--query", "novalue"], "Expected --query", id="query"),
        pytest.param([EXAMPLE, "--path", "items"], "Expected --path", id="path"),
        pytest.param([EXAMPLE, "-X", "GE T"], "Expected --method", id="method"),
        pytest.param([EXAMPLE, "--event", "/no/such.json"], "Could not read", id="event"),
        pytest.param([EXAMPLE, "--event", str(ROOT / "README.md")], "Expected JSON", id="json"),
        pytest.param([EXAMPLE, "--body-file", "/no/such"], "Could not read", id="body"),
        pytest.param(
            [EXAMPLE, "--event", str(EVENTS / "alb/get_basic.json"), "--path", "/"],
            "--path cannot be used",
            id="event-and-path",
        ),
        pytest.param(
            [EXAMPLE, "--event", str(EVENTS / "alb/get_basic.json"), "--source", "http-api"],
            "--source cannot be used",
            id="event-and-default-source",
        ),
    ],
)
def test_invalid_input_is_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistake on the command line is one line on stderr and exit status 2."""
    assert main(["invoke", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("traced-asgi-lambda invoke: error: ")
    assert captured.err.count("\n") == 1
    assert message in captured.err


def test_import_event_and_environment_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A module missing a dependency, a non-object event, a bad OTEL_* variable: one line each."""
    (tmp_path / "needs_dep.py").write_text("import not_installed_anywhere_xyz\n")
    (tmp_path / "list.json").write_text("[]")
    for argv, message in [
        (["needs_dep:app", "--app-dir", str(tmp_path)], "imports 'not_installed_anywhere_xyz'"),
        ([EXAMPLE, "--event", str(tmp_path / "list.json")], "Expected a JSON object"),
        ([EXAMPLE, "--path", "/"], "no-such-propagator"),  # with the variable set below
    ]:
        if message == "no-such-propagator":
            monkeypatch.setenv("OTEL_PROPAGATORS", message)
        assert main(["invoke", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert message in err


@pytest.mark.parametrize(
    ("terminal", "environ", "colour"),
    [
        pytest.param(True, {}, True, id="terminal"),
        pytest.param(False, {}, False, id="pipe"),
        pytest.param(True, {"NO_COLOR": "1"}, False, id="no-color"),
        pytest.param(True, {"NO_COLOR": ""}, True, id="empty-no-color-is-unset"),
        pytest.param(False, {"FORCE_COLOR": "1"}, True, id="force-color"),
        pytest.param(False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, id="no-color-wins"),
    ],
)
def test_colour_follows_terminal_and_variables(
    terminal: bool, environ: dict[str, str], colour: bool
) -> None:
    """Colour on a terminal only; NO_COLOR turns it off, FORCE_COLOR on for a pipe."""
    stream = FakeTerminal() if terminal else io.StringIO()
    assert Style.for_stream(stream, environ).color is colour


def test_forced_colour_reaches_the_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With FORCE_COLOR the printed sections carry ANSI colour codes."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert main(["invoke", EXAMPLE, "--path", "/items/1"]) == 0
    assert "\x1b[1;32m200\x1b[0m" in capsys.readouterr().out


def test_console_script_piped() -> None:
    """The real command, piped: plain output and exit 0; a bad app is one line, no traceback."""
    command = [sys.executable, "-m", "traced_asgi_lambda.cli", "invoke"]
    ok = subprocess.run(
        [*command, EXAMPLE, "--path", "/items/5"], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    assert "HTTP 200" in ok.stdout
    assert "\x1b[" not in ok.stdout
    bad = subprocess.run([*command, "nope:app"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stderr
