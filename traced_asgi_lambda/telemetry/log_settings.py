"""Whether our logs are on, whether they are JSON, and at what level: read once, at start-up."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from traced_asgi_lambda.exceptions import ConfigurationError
from traced_asgi_lambda.telemetry import log_processors as lp
from traced_asgi_lambda.telemetry.options import read_switch

__all__ = ["in_lambda", "logs_enabled", "resolve_level"]


def logs_enabled(environ: Mapping[str, str], setting: bool | None = None) -> bool:
    """``setting`` if given; else on unless ``TRACED_ASGI_LAMBDA_LOGS=off`` (or false, 0)."""
    if setting is not None:
        return setting
    value = environ.get("TRACED_ASGI_LAMBDA_LOGS", "")
    return read_switch("TRACED_ASGI_LAMBDA_LOGS", value) if value.strip() else True


def in_lambda(environ: Mapping[str, str]) -> bool:
    """Whether the runtime's variables are set ("Defined runtime environment variables")."""
    return bool(environ.get("AWS_LAMBDA_FUNCTION_NAME") or environ.get("AWS_EXECUTION_ENV"))


def resolve_level(level: str | int | None, environ: Mapping[str, str]) -> int:
    """The level number; an unreadable variable is skipped, an unreadable argument refused."""
    for name, value in (
        ("AWS_LAMBDA_LOG_LEVEL", environ.get("AWS_LAMBDA_LOG_LEVEL")),
        ("level", level),
        ("POWERTOOLS_LOG_LEVEL", environ.get("POWERTOOLS_LOG_LEVEL")),
        ("LOG_LEVEL", environ.get("LOG_LEVEL")),
    ):
        if value is None or value == "":
            continue
        if (number := lp.parse_level(value)) is not None:
            return number
        if name == "level":
            raise ConfigurationError(
                "Expected level to be one of DEBUG, INFO, WARNING (or WARN), ERROR, "
                f"CRITICAL (or FATAL), or a positive number, but got {value!r}."
            )
    return logging.INFO
