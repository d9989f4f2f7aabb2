"""``@traced_handler``: the adapter's tracing for any Lambda handler.

A plain function, a Mangum handler, an SQS consumer or a scheduled job gets the same
root span, FaaS attributes, trigger detection, propagation, cold start and flush as
``LambdaAdapter`` does, through the same :class:`~traced_asgi_lambda.telemetry.tracing.Tracing`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from traced_asgi_lambda.events import BUILTIN_TRANSLATORS, TranslatorConfig, select
from traced_asgi_lambda.exceptions import EventError
from traced_asgi_lambda.telemetry.options import TelemetryOptions
from traced_asgi_lambda.telemetry.setup import telemetry_for
from traced_asgi_lambda.telemetry.triggers import trigger_of

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

    from traced_asgi_lambda.types import LambdaContext

__all__ = ["traced_handler"]

R = TypeVar("R")
# The context is typed loosely: handlers built for other libraries (Mangum) declare
# their own context types, and any object with the Lambda context's attributes works.
Handler = Callable[[Any, Any], R]
_CONFIG = TranslatorConfig()


@overload
def traced_handler(handler: Handler[R], /) -> Handler[R]: ...


@overload
def traced_handler(
    *,
    service: str | None = None,
    tracer_provider: TracerProvider | None = None,
    flush_timeout: float = 2.0,
    telemetry: TelemetryOptions | None = None,
) -> Callable[[Handler[R]], Handler[R]]: ...


def traced_handler(
    handler: Handler[R] | None = None,
    /,
    *,
    service: str | None = None,
    tracer_provider: TracerProvider | None = None,
    flush_timeout: float = 2.0,
    telemetry: TelemetryOptions | None = None,
) -> Handler[R] | Callable[[Handler[R]], Handler[R]]:
    """Trace every invocation of a Lambda handler; usable bare or with arguments.

    Tracing, logs and metrics are chosen as for the adapter (``telemetry`` takes the
    same options); the tracer provider is the one given, else the global one, else one
    from the ``OTEL_*`` variables (named ``service`` when given), else none.
    """

    def decorate(inner: Handler[R]) -> Handler[R]:
        options = (telemetry or TelemetryOptions()).replace(
            **({"service": service} if service else {}), flush_timeout=flush_timeout
        )
        recorder = telemetry_for(options, tracer_provider, os.environ)
        if recorder is None:
            return inner

        @functools.wraps(inner)
        def traced(event: Any, context: Any) -> R:
            trigger = trigger_of(event)
            with recorder.invocation(event, context, trigger=trigger) as call:
                scope = _http_scope(event, context) if trigger == "http" else None
                if scope is not None:
                    call.request(scope)
                result = inner(event, context)
                status = _status_of(result)
                if scope is not None and status is not None:
                    call.response(scope, status, None)
                return result

        return traced

    return decorate if handler is None else decorate(handler)


def _http_scope(event: Any, context: LambdaContext) -> dict[str, Any] | None:
    """The ASGI scope our translators would build, for the HTTP attributes; None if invalid."""
    try:
        translator = select(event, BUILTIN_TRANSLATORS)
        return dict(translator.to_request(event, context, _CONFIG).scope)
    except EventError:
        return None  # the wrapped handler decides what a bad event means


def _status_of(result: object) -> int | None:
    if isinstance(result, dict):
        status = result.get("statusCode", result.get("status"))
        if isinstance(status, int) or (isinstance(status, str) and status.isdigit()):
            return int(status)
    return None
