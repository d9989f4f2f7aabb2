"""The Lambda handler: picks the event's source, runs the app, encodes the response."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterable
from typing import Any

from traced_asgi_lambda.events import BUILTIN_TRANSLATORS, EventTranslator, select
from traced_asgi_lambda.events.base import DEFAULT_TEXT_MIME_TYPES, TranslatorConfig
from traced_asgi_lambda.exceptions import ConfigurationError
from traced_asgi_lambda.http import CycleState, HTTPCycle
from traced_asgi_lambda.lifespan import Lifespan
from traced_asgi_lambda.shutdown import on_sigterm
from traced_asgi_lambda.types import ASGIApp, LambdaContext, LambdaResponse, LifespanMode, OnError

__all__ = ["LambdaAdapter", "Mangum"]

# Lambda allows 500 ms after SIGTERM before it kills the runtime (300 ms when only internal
# extensions run), so shutdown gives the app less than that.
DEFAULT_SHUTDOWN_TIMEOUT = 0.25


class LambdaAdapter:
    """Runs an ASGI app as a Lambda handler: ``handler = LambdaAdapter(app)``.

    The keyword arguments mean what they mean in Mangum's constructor. ``on_error``
    chooses between answering 500 when the app fails ("respond") and re-raising the
    app's exception after recording it ("raise"), so Lambda counts and retries it.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        lifespan: LifespanMode = "auto",
        api_gateway_base_path: str = "/",
        text_mime_types: Iterable[str] | None = None,
        exclude_headers: Iterable[str] | None = None,
        custom_handlers: Iterable[EventTranslator] | None = None,
        on_error: OnError = "respond",
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
    ) -> None:
        _check_choice("lifespan", lifespan, ("auto", "on", "off"))
        _check_choice("on_error", on_error, ("respond", "raise"))
        custom = tuple(custom_handlers or ())
        for handler in custom:
            if not all(callable(getattr(handler, f, None)) for f in _TRANSLATOR_FUNCTIONS):
                raise ConfigurationError(
                    f"Expected each custom handler to be an EventTranslator with "
                    f"matches(), to_request() and to_response(), but got {handler!r}. "
                    "Fix: implement traced_asgi_lambda.EventTranslator."
                )
        self.app = app
        self.on_error = on_error
        self.translators: tuple[EventTranslator, ...] = (*custom, *BUILTIN_TRANSLATORS)
        self.config = TranslatorConfig(
            api_gateway_base_path=api_gateway_base_path or "/",
            text_mime_types=tuple(text_mime_types or DEFAULT_TEXT_MIME_TYPES),
            exclude_headers=frozenset(h.lower() for h in exclude_headers or ()),
        )
        self.log = logging.getLogger("traced_asgi_lambda")
        # One loop for the life of the environment, so the lifespan task and anything
        # the app caches on the loop (connection pools) survive between invocations.
        self.loop = asyncio.new_event_loop()
        self.lifespan = None if lifespan == "off" else Lifespan(app, lifespan, self.loop, self.log)
        # Runs at garbage collection, on close(), on SIGTERM or at interpreter exit:
        # whichever comes first, once.
        self._finalizer = weakref.finalize(
            self, _shut_down, self.loop, self.lifespan, shutdown_timeout
        )

    def startup(self) -> None:
        """Run lifespan startup now, such as in the init phase; otherwise the first call does."""
        if self.lifespan is not None and self.lifespan.startup():
            on_sigterm(self._finalizer)

    def close(self) -> None:
        """Run lifespan shutdown (if it started) and close the event loop."""
        self._finalizer()

    def __enter__(self) -> LambdaAdapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> LambdaResponse:
        translator = select(event, self.translators)
        request = translator.to_request(event, context, self.config)
        scope = request.scope
        if self.lifespan is not None:
            self.startup()
            # ASGI lifespan "state": each request gets a shallow copy of startup's dict.
            scope["state"] = self.lifespan.app_state.copy()
        cycle = HTTPCycle(scope, request.body)
        response = self.loop.run_until_complete(cycle.run(self.app))
        if cycle.problem is not None:
            self.log.error(
                "%s %s answered %s: %s",
                scope["method"],
                scope["path"],
                response.status,
                cycle.problem,
                exc_info=cycle.error,
            )
            # Frameworks such as Starlette answer 500 and then re-raise; that is re-raised.
            # A success that completed before the app raised (in a background task, say)
            # is still the right answer, so it is returned.
            if (
                self.on_error == "raise"
                and cycle.error is not None
                and (cycle.state is not CycleState.COMPLETE or response.status >= 500)
            ):
                raise cycle.error
        return translator.to_response(response, event, self.config)


Mangum = LambdaAdapter
"""Mangum's name for the adapter, so migrating is a one-line import change."""

_TRANSLATOR_FUNCTIONS = ("matches", "to_request", "to_response")


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigurationError(
            f"Expected {name} to be one of {', '.join(map(repr, choices))}, but got {value!r}."
        )


def _shut_down(loop: asyncio.AbstractEventLoop, lifespan: Lifespan | None, timeout: float) -> None:
    if lifespan is not None:
        lifespan.shutdown(timeout)
    if not loop.is_running() and not loop.is_closed():
        loop.close()
