"""``make demo``: the example FastAPI app through ``traced-asgi-lambda invoke``.

Part 1 runs six requests in one execution environment, as six requests to one deployed
function would run: a cold start, warm calls, a 404, a 500 from a route that raises, and
a binary download. Each step prints the ``invoke`` command it stands for, then what
``invoke`` shows: the Lambda response, the span tree with each stage's duration, the log
lines and the EMF metrics. Part 2 sends one request as every event source would, and
shows the shape of each response. Part 3 writes the EMF lines of both parts to a file and
runs ``traced-asgi-lambda dashboard preview`` on it, which draws the dashboard's metric
widgets into a PNG (in a new temporary directory, or the path given as the first
argument). No network; it finishes in seconds.
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from examples.fastapi_app import app
from traced_asgi_lambda.cli import build_parser
from traced_asgi_lambda.cli import main as cli
from traced_asgi_lambda.cli._output import invocation_lines
from traced_asgi_lambda.cli._runner import LocalRunner
from traced_asgi_lambda.cli._style import Style
from traced_asgi_lambda.cli.invoke import event_of
from traced_asgi_lambda.local import SOURCES, HttpRequest, build_event, to_http

__all__ = ["STEPS", "main"]

APP = "examples.fastapi_app:app"

# (title, the options after `traced-asgi-lambda invoke APP`)
STEPS: list[tuple[str, list[str]]] = [
    ("cold start", ["--path", "/items/1", "--query", "q=first"]),
    ("warm call", ["--path", "/items/2", "--header", "user-agent: demo/1.0"]),
    (
        "warm call with a JSON body",
        [
            "-X",
            "POST",
            "--path",
            "/items",
            "-H",
            "content-type: application/json",
            "-d",
            '{"name":"lamp"}',
        ],
    ),
    ("not found", ["--path", "/missing"]),
    ("a route that raises", ["--path", "/boom"]),
    ("binary download", ["--path", "/logo.png", "--source", "rest"]),
]


def one_environment(style: Style) -> list[dict[str, Any]]:
    """Part 1; returns the EMF documents written."""
    parser = build_parser()
    metrics: list[dict[str, Any]] = []
    print(style.paint("== Part 1: six invocations of one execution environment", "bold"))
    with LocalRunner(app, function_name="demo-api", capture_stdout=True) as runner:
        for number, (title, options) in enumerate(STEPS, 1):
            command = shlex.join(["traced-asgi-lambda", "invoke", APP, *options])
            print(f"\n{style.paint(f'-- {number}. {title}', 'bold', 'magenta')}")
            print(style.paint(f"$ {command}", "dim"))
            invocation = runner.run(event_of(parser.parse_args(["invoke", APP, *options])))
            print("\n".join(invocation_lines(invocation, style)).rstrip())
            metrics += invocation.metrics
    return metrics


def every_source(style: Style) -> list[dict[str, Any]]:
    """Part 2; returns the EMF documents written."""
    metrics: list[dict[str, Any]] = []
    print(style.paint("\n== Part 2: GET /items/42 as each event source sends it", "bold"))
    with LocalRunner(app, function_name="demo-api", capture_stdout=True) as runner:
        for source in SOURCES:
            request = HttpRequest("GET", "/items/42", query=[("q", "hello world")])
            invocation = runner.run(build_event(source, request))
            assert invocation.response is not None, invocation.error
            answer = to_http(invocation.response)
            shape = ", ".join(invocation.response)
            print(
                f"  {source:<12} {invocation.source():<20} {style.status(answer.status)}  "
                f"{style.paint(shape, 'dim')}"
            )
            metrics += invocation.metrics
    return metrics


def dashboard_preview(style: Style, metrics: list[dict[str, Any]], png: Path) -> None:
    """Part 3: the EMF lines of parts 1 and 2, drawn as the dashboard's metric widgets."""
    print(style.paint("\n== Part 3: the dashboard's metric widgets, from those EMF lines", "bold"))
    emf = png.with_suffix(".emf.jsonl")
    emf.write_text("".join(json.dumps(m, separators=(",", ":")) + "\n" for m in metrics))
    argv = ["dashboard", "preview", "--emf", str(emf), "--out", str(png)]
    print(style.paint(f"$ {shlex.join(['traced-asgi-lambda', *argv])}", "dim"))
    sys.stdout.flush()  # the command's error, if any, goes to stderr: keep the order
    if cli(argv) == 0:
        print(f"open {png}")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    folder = None if args else Path(tempfile.mkdtemp(prefix="traced-asgi-lambda-demo-"))
    png = Path(args[0]) if folder is None else folder / "dashboard.png"
    style = Style.for_stream(sys.stdout)
    metrics = one_environment(style) + every_source(style)
    dashboard_preview(style, metrics, png)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
