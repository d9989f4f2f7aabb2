"""The ``traced-asgi-lambda`` command: one sub-command module per concern.

Each module in this package defines ``register(subparsers)``, adding its sub-command and
setting ``handler`` (a function taking the parsed arguments and returning an exit status)
as the parser default. Modules are imported only when the command line is parsed, so
``import traced_asgi_lambda`` never loads them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from traced_asgi_lambda.exceptions import TracedAsgiLambdaError

__all__ = ["CommandError", "main"]

# Sub-command modules, in the order the help lists them.
COMMANDS = ("invoke", "serve", "dashboard")


class CommandError(TracedAsgiLambdaError):
    """A user error on the command line: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="traced-asgi-lambda",
        description="Run ASGI apps as AWS Lambda would, and render their dashboards.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue  # a sub-command not built yet
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except CommandError as exc:
        print(f"traced-asgi-lambda {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return status
