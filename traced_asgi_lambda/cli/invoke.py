"""``traced-asgi-lambda invoke``: one request through the adapter, with everything it records.

It builds the event the chosen source would send (``traced_asgi_lambda.local.build_event``),
or reads one from ``--event``, runs it through a ``LambdaAdapter`` wrapping the app, and
prints the Lambda response, the span tree with each stage's duration, the log lines and
the EMF metrics; ``--json`` prints them as one JSON document instead. The exit status is
0 when the handler returned a response (whatever its HTTP status) and 1 when it raised.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from traced_asgi_lambda.cli import CommandError
from traced_asgi_lambda.cli._load import DEFAULT_SOURCE, add_app_options, add_source_option
from traced_asgi_lambda.local.events import HttpRequest

__all__ = ["event_of", "parse_header", "parse_query", "read_event", "register", "request_of"]

# RFC 9110 section 5.6.2: a header name is a token.
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "invoke",
        help="run one request through the adapter and show its response, trace, logs, metrics",
        description="Build the event a source would send (or read one with --event), run it "
        "through a LambdaAdapter wrapping the app, and print the Lambda response, the span "
        "tree with each stage's duration, the log lines and the EMF metrics. Exit status: 0 "
        "when the handler returned a response, whatever its HTTP status; 1 when it raised.",
    )
    add_app_options(parser)
    # No default: an explicit --source conflicts with --event; event_of applies the default.
    add_source_option(parser, None, "event to build")
    parser.add_argument("--method", "-X", help="HTTP method (default: GET)")
    parser.add_argument("--path", help="path, with an optional ?query (default: /)")
    parser.add_argument(
        "--query", "-q", action="append", default=[], metavar="NAME=VALUE", help="repeatable"
    )
    parser.add_argument(
        "--header", "-H", action="append", default=[], metavar="NAME:VALUE", help="repeatable"
    )
    body = parser.add_mutually_exclusive_group()
    body.add_argument("--body", "-d", help="request body, as text")
    body.add_argument("--body-file", metavar="FILE", help="request body, read from FILE")
    parser.add_argument(
        "--event",
        metavar="FILE",
        help="a Lambda event as JSON ('-' for stdin) instead of building one",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document instead of text"
    )
    parser.set_defaults(handler=run)


def parse_header(text: str) -> tuple[str, str]:
    """``("accept", "text/html")`` from ``"accept: text/html"``."""
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not _TOKEN.match(name) or "\r" in value or "\n" in value:
        raise CommandError(
            f"Expected --header NAME:VALUE, such as 'accept: application/json', but got {text!r}."
        )
    return name, value


def parse_query(text: str) -> tuple[str, str]:
    """``("q", "a b")`` from ``"q=a b"``: a name and a value, as typed (not encoded)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise CommandError(
            f"Expected --query NAME=VALUE, such as 'q=shoes' (or 'flag=' for no value), "
            f"but got {text!r}."
        )
    return name, value


def _read_bytes(path: str, what: str) -> bytes:
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"Could not read {what} {path!r}: {exc.strerror or exc}.") from None


def read_event(path: str) -> dict[str, Any]:
    """The JSON object in ``path`` (``-``: stdin)."""
    raw = _read_bytes(path, "the event file")
    try:
        event = json.loads(raw)
    except ValueError as exc:
        raise CommandError(f"Expected JSON in event file {path!r}, but: {exc}.") from None
    if not isinstance(event, dict):
        raise CommandError(
            f"Expected a JSON object in event file {path!r}, but got a {type(event).__name__}."
        )
    return event


def request_of(args: argparse.Namespace) -> HttpRequest:
    """The HTTP request the options describe."""
    method = (args.method or "GET").upper()
    if not _TOKEN.match(method):
        raise CommandError(f"Expected --method to be an HTTP method such as GET, got {method!r}.")
    target = urlsplit(args.path or "/")
    if not target.path.startswith("/") or target.scheme or target.netloc:
        raise CommandError(
            f"Expected --path to start with '/', such as '/items/1?q=x', but got {args.path!r}."
        )
    query = parse_qsl(target.query, keep_blank_values=True)
    query += [parse_query(q) for q in args.query]
    headers = [parse_header(h) for h in args.header]
    if args.body_file is not None:
        body = _read_bytes(args.body_file, "the body file")
    else:
        body = (args.body or "").encode()
    return HttpRequest(method, target.path, query=query, headers=headers, body=body)


def event_of(args: argparse.Namespace) -> dict[str, Any]:
    """The event to invoke with: read from --event, or built from the request options."""
    if args.event is None:
        from traced_asgi_lambda.local import build_event

        return build_event(args.source or DEFAULT_SOURCE, request_of(args))
    given = [
        flag
        for flag, value in (
            ("--source", args.source),
            ("--method", args.method),
            ("--path", args.path),
            ("--query", args.query),
            ("--header", args.header),
            ("--body", args.body),
            ("--body-file", args.body_file),
        )
        if value
    ]
    if given:
        raise CommandError(
            f"--event gives the whole event, so {', '.join(given)} cannot be used with it."
        )
    return read_event(args.event)


def run(args: argparse.Namespace) -> int:
    from traced_asgi_lambda.cli._load import load_app
    from traced_asgi_lambda.cli._output import document, invocation_lines
    from traced_asgi_lambda.cli._runner import LocalRunner
    from traced_asgi_lambda.cli._style import Style, progress, write

    event = event_of(args)  # before the import: bad options fail fast
    # What the module prints at import is not part of the invocation: keep it off stdout.
    with progress(f"importing {args.app}", sys.stderr), redirect_stdout(sys.stderr):
        app = load_app(args.app, args.app_dir)
    options = {"function_name": args.function_name, "service": args.service}
    runner = LocalRunner(app, log_level=args.log_level, capture_stdout=True, **options)
    with runner, progress("invoking", sys.stderr):
        invocation = runner.run(event)
    if args.json:
        text = json.dumps(document(invocation), indent=2, ensure_ascii=False, default=str)
    else:
        text = "\n".join(invocation_lines(invocation, Style.for_stream(sys.stdout)))
    write(sys.stdout, text + "\n")
    return 0 if invocation.error is None else 1
