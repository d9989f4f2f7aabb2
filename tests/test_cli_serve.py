"""``traced-asgi-lambda serve``: real HTTP through the adapter, errors, ``--reload``, terminals."""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.apps import starlette_app
from tests.apps.contract import BINARY_PAYLOAD
from tests.test_cli_invoke import FakeTerminal
from traced_asgi_lambda.cli import main
from traced_asgi_lambda.cli._output import tree_lines
from traced_asgi_lambda.cli._reload import changed, snapshot
from traced_asgi_lambda.cli._runner import SpanRecord
from traced_asgi_lambda.cli._style import Style, progress
from traced_asgi_lambda.cli.serve import LocalServer, make_server

TIMEOUT = 15.0  # the most any wait in this file takes (a fresh interpreter's start included)
APP_SOURCE = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"VERSION"})
"""


async def failing_lifespan(scope: object, receive: object, send: object) -> None:
    """An ASGI app whose lifespan startup fails, so the handler itself raises."""
    raise RuntimeError("no database")


@pytest.fixture
def serving(request: pytest.FixtureRequest) -> Iterator[tuple[LocalServer, io.StringIO]]:
    """The contract app served in a thread for the source in ``request.param``."""
    out = io.StringIO()
    server = make_server(starlette_app.app, source=request.param, out=out)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server, out
    finally:
        server.shutdown()
        thread.join(TIMEOUT)
        server.close()


SOURCES = ["http-api", "http-api-v1", "rest", "url", "alb", "alb-multi", "edge", "lattice"]


@pytest.mark.parametrize("serving", SOURCES, indirect=True)
def test_responses_arrive_whole(serving: tuple[LocalServer, io.StringIO]) -> None:
    """Status, several Set-Cookie headers and binary bytes arrive as the app sent them."""
    server, out = serving
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        cookies = client.get("/set-cookies")
        download = client.get("/download")
        upload = client.put("/upload", content=BINARY_PAYLOAD)
        chunked = client.put("/upload", content=iter([BINARY_PAYLOAD[:100], BINARY_PAYLOAD[100:]]))
        missing = client.get("/no/such/page")
        failing = client.get("/raise")
    assert cookies.status_code == 200
    assert cookies.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert download.content == BINARY_PAYLOAD
    assert download.headers["content-type"] == "application/octet-stream"
    digest = hashlib.sha256(BINARY_PAYLOAD).hexdigest()
    assert upload.json() == chunked.json() == {"length": 256, "sha256": digest}
    assert (missing.status_code, failing.status_code) == (404, 500)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("GET /set-cookies → 200")
    assert "cold start" in lines[0]
    assert "cold start" not in lines[1]
    assert "[parse " in lines[0]
    assert lines[-1].startswith("GET /raise → 500")


@pytest.mark.parametrize("serving", ["http-api"], indirect=True)
def test_query_head_and_forwarded_headers(serving: tuple[LocalServer, io.StringIO]) -> None:
    """Repeated query keys, HEAD without a body, a path query; a bad length is a 400."""
    server, _ = serving
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        query = client.get("/query", params=[("a", "1"), ("a", "2"), ("b", "x y")])
        head = client.head("/download")
        items = client.get("/items/42?q=hi")
    assert query.json() == {"params": {"a": ["1", "2"], "b": ["x y"]}}
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == "256"
    assert items.json() == {"item_id": 42, "q": "hi"}
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=TIMEOUT)
    try:
        connection.putrequest("PUT", "/upload")
        connection.putheader("Content-Length", "-1")
        connection.endheaders()
        assert connection.getresponse().status == 400
    finally:
        connection.close()


def test_handler_failure_is_a_502() -> None:
    """When the handler raises, the client gets API Gateway's 502; the lines say why (-v)."""
    out = io.StringIO()
    server = make_server(failing_lifespan, lifespan="on", out=out, verbose=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        response = httpx.get(f"{server.url}/", timeout=TIMEOUT)
    finally:
        server.shutdown()
        thread.join(TIMEOUT)
        server.close()
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    assert "failed: LifespanError" in out.getvalue()
    assert "Logs  2 line(s)" in out.getvalue()  # --verbose: the failed invocation's lines
    assert "Metrics " in out.getvalue()


def test_invalid_input_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Port busy, unknown module, missing app: one line on stderr, exit status 2."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        for argv, message in [
            (["tests.apps.starlette_app:app", "--port", port], "Could not listen on"),
            (["tests.apps.starlette_app:app", "--port", port, "--reload"], "Could not listen"),
            (["no_such_module:app"], "no module named 'no_such_module'"),
            (["tests.apps.starlette_app:nope"], "has none named 'nope'"),
        ]:
            assert main(["serve", *argv]) == 2
            err = capsys.readouterr().err
            assert err.startswith("traced-asgi-lambda serve: error: ")
            assert err.count("\n") == 1
            assert message in err


def start(argv: list[str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    """Start ``serve`` in a new process; return it and its URL once it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "traced_asgi_lambda.cli", "serve", *argv, "--port", "0"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    line = read_line(process.stdout, "Serving ")
    return process, line.rsplit(" on ", 1)[1].split()[0]


def read_line(stream: IO[str], prefix: str) -> str:
    """The next line starting with ``prefix``, within TIMEOUT."""
    found: list[str] = []

    def read() -> None:
        while line := stream.readline():
            if line.startswith(prefix):
                found.append(line)
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(TIMEOUT)
    assert found, f"no line starting with {prefix!r} within {TIMEOUT}s"
    return found[0]


def stop(process: subprocess.Popen[str]) -> int:
    """Ctrl+C for the process we started, then its exit status (killed if it hangs)."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(TIMEOUT)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: our process group
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_serve_command_in_a_process(tmp_path: Path) -> None:
    """The real command serves real requests and stops on Ctrl+C with the port freed."""
    process, url = start(["tests.apps.starlette_app:app", "--app-dir", str(Path.cwd())], tmp_path)
    try:
        response = httpx.get(f"{url}/set-cookies", timeout=TIMEOUT)
        assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
        assert process.stdout is not None
        assert read_line(process.stdout, "GET /set-cookies").count("cold start") == 1
    finally:
        status = stop(process)
    assert status == 130
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=TIMEOUT)


def test_reload_restarts_on_change(tmp_path: Path) -> None:
    """--reload serves the new code after a file changes, and Ctrl+C ends both processes."""
    module = tmp_path / "reloaded_app.py"
    module.write_text(APP_SOURCE.replace("VERSION", "one"))
    process, url = start(["reloaded_app:app", "--reload"], tmp_path)
    try:
        assert httpx.get(url, timeout=TIMEOUT).text == "one"
        module.write_text(APP_SOURCE.replace("VERSION", "two"))
        later = time.time() + 2  # a new mtime even on a coarse-grained file system
        os.utime(module, (later, later))
        assert process.stdout is not None
        read_line(process.stdout, "Serving ")  # the restarted server is listening
        assert httpx.get(url, timeout=TIMEOUT).text == "two"
    finally:
        stop(process)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=TIMEOUT)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param("touch", ["a.py"], id="modified"),
        pytest.param("add", ["new.py"], id="added"),
        pytest.param("remove", ["a.py"], id="removed"),
        pytest.param("cache", [], id="pycache-ignored"),
        pytest.param("hidden", [], id="hidden-dir-ignored"),
        pytest.param("other", [], id="non-python-ignored"),
    ],
)
def test_watcher_sees_python_changes_only(edit: str, expected: list[str], tmp_path: Path) -> None:
    """The reload watcher notices added, removed and edited .py files, and nothing else."""
    for name in ("a.py", "__pycache__/b.py", ".git/c.py", "notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    before = snapshot(tmp_path)
    later = time.time() + 2
    target = {
        "touch": "a.py",
        "add": "new.py",
        "cache": "__pycache__/b.py",
        "hidden": ".git/c.py",
        "other": "notes.txt",
    }.get(edit)
    if edit == "remove":
        (tmp_path / "a.py").unlink()
    elif target is not None:
        (tmp_path / target).write_text("x = 2\n")
        os.utime(tmp_path / target, (later, later))
    assert [str(p.relative_to(tmp_path)) for p in changed(before, snapshot(tmp_path))] == expected


def test_progress_only_on_a_terminal() -> None:
    """Progress is written, then erased, on a terminal, and never on a pipe."""
    terminal, pipe = FakeTerminal(), io.StringIO()
    for stream in (terminal, pipe):
        with progress("importing app", stream):
            pass
    assert terminal.getvalue() == "importing app...\r\x1b[2K\r"
    assert pipe.getvalue() == ""


def test_tree_falls_back_to_ascii() -> None:
    """A stream that cannot encode box drawing gets an ASCII tree."""
    spans = [
        SpanRecord(name, "t", span_id, parent, "INTERNAL", "UNSET", start, end, {}, [])
        for name, span_id, parent, start, end in [
            ("root", "a", None, 0, 10),
            ("one", "b", "a", 0, 5),
            ("two", "c", "a", 5, 10),
        ]
    ]
    ascii_style = Style.for_stream(io.TextIOWrapper(io.BytesIO(), encoding="ascii"), {})
    lines = tree_lines(spans, ascii_style)
    assert [line.split()[0] for line in lines[1:]] == ["root", "|-", "`-"]
    assert all(line.isascii() for line in lines)
