"""``make demo``: the example FastAPI app through ``traced-asgi-lambda invoke``.

Part 1 runs six requests in one execution environment, as six requests to one deployed
function would run: a cold start, warm calls, a 404, a 500 from a route that raises, and
a binary download. Each step prints the ``invoke`` command it stands for, then what
``invoke`` shows: the Lambda response, the span tree with each stage's duration, the log
lines and the EMF metrics. Part 2 sends one request as every event source would, and
shows the shape of each response. No network; it finishes in seconds.
"""

from __future__ import annotations

import shlex
import sys

from examples.fastapi_app import app
from traced_asgi_lambda.cli import build_parser
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


def one_environment(style: Style) -> None:
    parser = build_parser()
    print(style.paint("== Part 1: six invocations of one execution environment", "bold"))
    with LocalRunner(app, function_name="demo-api", capture_stdout=True) as runner:
        for number, (title, options) in enumerate(STEPS, 1):
            command = shlex.join(["traced-asgi-lambda", "invoke", APP, *options])
            print(f"\n{style.paint(f'-- {number}. {title}', 'bold', 'magenta')}")
            print(style.paint(f"$ {command}", "dim"))
            invocation = runner.run(event_of(parser.parse_args(["invoke", APP, *options])))
            print("\n".join(invocation_lines(invocation, style)).rstrip())


def every_source(style: Style) -> None:
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


def main() -> None:
    style = Style.for_stream(sys.stdout)
    one_environment(style)
    every_source(style)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
