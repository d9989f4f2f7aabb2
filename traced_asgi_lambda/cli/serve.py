"""``traced-asgi-lambda serve``: the app on a local HTTP server, as Lambda behind its front door.

Each HTTP request becomes the event the chosen source would send, runs through a
``LambdaAdapter`` wrapping the app, and the Lambda response goes back as a real HTTP
response: status, every header (several Set-Cookie included) and the body bytes. Requests
are answered one at a time, like one Lambda execution environment: the first is the cold
start. One line per request shows the status and each stage's time. ``--reload`` restarts
the server when a ``.py`` file under ``--app-dir`` changes (see ``_reload``).
"""

from __future__ import annotations

import argparse
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, TextIO, cast
from urllib.parse import parse_qsl, urlsplit

from traced_asgi_lambda.cli import CommandError
from traced_asgi_lambda.cli._load import DEFAULT_SOURCE, add_app_options, add_source_option
from traced_asgi_lambda.local.events import HttpRequest

if TYPE_CHECKING:
    from traced_asgi_lambda.cli._runner import LocalRunner
    from traced_asgi_lambda.cli._style import Style
    from traced_asgi_lambda.local import HttpResponse
    from traced_asgi_lambda.types import ASGIApp

__all__ = ["LocalServer", "child_argv", "make_server", "register"]

# Connection-level headers: they describe the hop to this server, not the request.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}
)
# Written by this server itself (http.server adds Date and Server to every response).
_OWN_HEADERS = _HOP_BY_HOP | {"content-length", "date", "server"}
# What API Gateway answers when the function itself fails.
_FUNCTION_ERROR = b'{"message":"Internal server error"}'


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the app on 127.0.0.1, each request running through the adapter",
        description="Serve the app on a local HTTP server. Each request becomes the event the "
        "source would send and runs through a LambdaAdapter, one at a time like one Lambda "
        "environment; the response goes back with its status, every header and the body "
        "bytes. One line per request shows the status and each stage's time.",
    )
    add_app_options(parser)
    add_source_option(parser, DEFAULT_SOURCE, "events to send")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=3000, help="port to bind; 0 picks a free one (default: 3000)"
    )
    parser.add_argument(
        "--reload", action="store_true", help="restart when a .py file under --app-dir changes"
    )
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="also print each request's logs and metrics"
    )
    # Set by --reload on the server it starts: stop when the supervisor's pipe closes.
    parser.add_argument("--supervised", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


class LocalServer(ThreadingHTTPServer):
    """An HTTP server whose requests run, one at a time, through one local Lambda."""

    daemon_threads = True

    def attach(
        self, runner: LocalRunner, source: str, out: TextIO, style: Style, verbose: bool
    ) -> None:
        self.runner, self.source, self.out = runner, source, out
        self.style, self.verbose = style, verbose
        self.lock = threading.Lock()  # one invocation at a time, like one environment

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, request: HttpRequest, target: str) -> HttpResponse | None:
        """The response for ``request``, or None when the handler raised."""
        from traced_asgi_lambda.cli._output import log_lines, metric_lines, summary_line
        from traced_asgi_lambda.cli._style import write
        from traced_asgi_lambda.local import build_event, to_http

        with self.lock:
            invocation = self.runner.run(build_event(self.source, request))
            lines = [summary_line(request.method, target, invocation, self.style)]
            if invocation.error is not None:
                lines.append(f"  {type(invocation.error).__name__}: {invocation.error}")
            if self.verbose:
                lines += log_lines(invocation.logs, self.style)
                lines += metric_lines(invocation.metrics, self.style)
            write(self.out, "\n".join(lines) + "\n")
        return None if invocation.response is None else to_http(invocation.response)

    def close(self) -> None:
        """Stop listening and shut the environment down (lifespan shutdown runs)."""
        self.server_close()
        self.runner.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as browsers and httpx expect
    server_version = "traced-asgi-lambda"

    def version_string(self) -> str:
        return self.server_version

    def _forward(self) -> None:
        server = cast("LocalServer", self.server)
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "Unreadable Content-Length or chunked body")
            return
        split = urlsplit(self.path)
        port = server.server_address[1]
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
        names = {k.lower() for k, _ in headers}
        # The front door speaks https; this one speaks http, so links the app builds work.
        for name, value in (("x-forwarded-proto", "http"), ("x-forwarded-port", str(port))):
            if name not in names:
                headers.append((name, value))
        request = HttpRequest(
            method=self.command,
            path=split.path or "/",
            query=parse_qsl(split.query, keep_blank_values=True),
            headers=headers,
            body=body,
            source_ip=self.client_address[0],
        )
        response = server.answer(request, self.path)
        if response is None:
            self._send(502, [("content-type", "application/json")], _FUNCTION_ERROR)
        else:
            self._send(response.status, response.headers, response.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _forward

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)  # the CRLF after the chunk
            while self.rfile.readline(8192).strip():  # trailers, up to the blank line
                pass
            return b"".join(chunks)
        length = int(self.headers.get("content-length") or 0)
        if length < 0:
            raise ValueError(length)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        length = str(len(body))
        for name, value in headers:
            if name == "content-length" and self.command == "HEAD":
                length = value  # what a GET would send, as the app said
            elif name not in _OWN_HEADERS:
                self.send_header(name, value)
        if status >= 200 and status not in (204, 304):
            self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the server prints its own line per request."""


def make_server(
    app: ASGIApp,
    *,
    source: str = DEFAULT_SOURCE,
    host: str = "127.0.0.1",
    port: int = 0,
    out: TextIO | None = None,
    verbose: bool = False,
    **runner_options: Any,
) -> LocalServer:
    """A bound server for ``app`` (not yet serving); a CommandError if the port is taken."""
    from traced_asgi_lambda.cli._runner import LocalRunner
    from traced_asgi_lambda.cli._style import Style

    try:
        server = LocalServer((host, port), _Handler)
    except OSError as exc:
        raise CommandError(
            f"Could not listen on {host}:{port}: {exc.strerror or exc}. "
            "Fix: pick another port with --port (0 picks a free one)."
        ) from None
    stream = sys.stdout if out is None else out
    try:
        runner = LocalRunner(app, **runner_options)
    except BaseException:
        server.server_close()
        raise
    server.attach(runner, source, stream, Style.for_stream(stream), verbose)
    return server


def child_argv(args: argparse.Namespace, port: int) -> list[str]:
    """The command line of the server that ``--reload`` starts and restarts."""
    argv = [sys.executable, "-m", "traced_asgi_lambda.cli", "serve", args.app, "--supervised"]
    argv += ["--app-dir", args.app_dir, "--source", args.source]
    argv += ["--host", args.host, "--port", str(port), "--function-name", args.function_name]
    for flag, value in (("--service", args.service), ("--log-level", args.log_level)):
        if value:
            argv += [flag, value]
    return argv + (["--verbose"] if args.verbose else [])


def _stop_when_orphaned(server: LocalServer) -> None:
    """Under --reload: the supervisor holds our stdin; its end (EOF) means stop."""

    def watch() -> None:
        sys.stdin.buffer.read()
        server.shutdown()

    threading.Thread(target=watch, name="traced-asgi-lambda-supervised", daemon=True).start()


def run(args: argparse.Namespace) -> int:
    from traced_asgi_lambda.cli._load import load_app
    from traced_asgi_lambda.cli._style import progress, write

    if args.reload:
        from traced_asgi_lambda.cli._reload import supervise

        return supervise(args, child_argv)
    with progress(f"importing {args.app}", sys.stderr):
        app = load_app(args.app, args.app_dir)
    server = make_server(
        app,
        source=args.source,
        host=args.host,
        port=args.port,
        verbose=args.verbose,
        function_name=args.function_name,
        service=args.service,
        log_level=args.log_level,
    )
    try:
        write(
            sys.stdout,
            f"Serving {args.app} as a Lambda function behind {args.source} on {server.url}"
            " (Ctrl+C to quit)\n",
        )
        if args.supervised:
            _stop_when_orphaned(server)
        server.serve_forever(poll_interval=0.1)
    finally:
        server.close()
    return 0
