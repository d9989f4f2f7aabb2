"""Finding the app a command runs: ``MODULE:APP``, imported the way uvicorn does.

The module is imported from ``--app-dir`` (the working directory by default), which goes
first on ``sys.path`` when a command runs, never at import. ``APP`` may be a dotted
attribute path. A ``LambdaAdapter`` (the usual ``handler = LambdaAdapter(app)``) is
unwrapped to the app it wraps, so ``module:handler`` works too.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from traced_asgi_lambda.cli import CommandError
from traced_asgi_lambda.local.events import SOURCES

if TYPE_CHECKING:
    from traced_asgi_lambda.types import ASGIApp

__all__ = ["DEFAULT_SOURCE", "add_app_options", "add_source_option", "load_app", "split_spec"]

DEFAULT_SOURCE = "http-api"


def add_app_options(parser: argparse.ArgumentParser) -> None:
    """The options ``invoke`` and ``serve`` share: the app and how it is labelled."""
    parser.add_argument(
        "app", metavar="MODULE:APP", help="the ASGI app (or handler), e.g. main:app"
    )
    parser.add_argument(
        "--app-dir", default=".", help="directory to import MODULE from (default: the current one)"
    )
    parser.add_argument(
        "--function-name", default="local-function", help="the function name in the context"
    )
    parser.add_argument(
        "--service",
        help="service name on every signal (default: OTEL_SERVICE_NAME, "
        "POWERTOOLS_SERVICE_NAME, else the function name)",
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        metavar="LEVEL",
        help="DEBUG, INFO, WARNING or ERROR; DEBUG adds each stage's time (default: INFO)",
    )


def add_source_option(parser: argparse.ArgumentParser, default: str | None, what: str) -> None:
    """``--source``, the event source, for ``what`` (e.g. "events to send").

    The help names DEFAULT_SOURCE either way; ``default=None`` lets a command tell an
    explicit ``--source`` from none (``invoke`` refuses one alongside ``--event``).
    """
    parser.add_argument(
        "--source",
        choices=list(SOURCES),
        default=default,
        metavar="SOURCE",
        help=f"the source whose {what}: {', '.join(SOURCES)} (default: {DEFAULT_SOURCE})",
    )


def split_spec(spec: str) -> tuple[str, str]:
    """``("pkg.module", "app")`` from ``"pkg.module:app"``; a CommandError otherwise."""
    module, sep, attribute = spec.partition(":")
    if not sep or not module or not attribute:
        raise CommandError(
            f"Expected the app as MODULE:APP, such as 'examples.fastapi_app:app', but got {spec!r}."
        )
    return module, attribute


def load_app(spec: str, app_dir: str = ".") -> ASGIApp:
    """Import ``MODULE`` and return its ``APP``: an ASGI app, or the app a handler wraps."""
    module_name, attribute = split_spec(spec)
    directory = str(Path(app_dir).resolve())
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or "?"
        if module_name == missing or module_name.startswith(f"{missing}."):
            raise CommandError(
                f"Could not import module {module_name!r} (from {directory}): no module "
                f"named {missing!r}. Fix: check the spelling, or pass --app-dir."
            ) from None
        raise CommandError(
            f"Could not import module {module_name!r}: it imports {missing!r}, which is not "
            "installed. Fix: install it in this environment."
        ) from None
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise CommandError(
                f"Expected module {module_name!r} to have an attribute {attribute!r}, "
                f"but it has none named {part!r}."
            ) from None
    from traced_asgi_lambda.adapter import LambdaAdapter

    if isinstance(target, LambdaAdapter):
        target = target.app
    if not callable(target):
        raise CommandError(
            f"Expected {spec!r} to be an ASGI app (a callable), but got a {type(target).__name__}."
        )
    return cast("ASGIApp", target)
