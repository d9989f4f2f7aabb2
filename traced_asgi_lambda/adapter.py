"""The Lambda handler: picks the event's source, runs the app, encodes the response."""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from traced_asgi_lambda.events import EventTranslator, select, translators_with
from traced_asgi_lambda.events.base import SYNC_RESPONSE_LIMIT, TranslatorConfig
from traced_asgi_lambda.exceptions import ConfigurationError
from traced_asgi_lambda.http import HTTPCycle
from traced_asgi_lambda.lifespan import Lifespan, LifespanState
from traced_asgi_lambda.limits import enforce_limit, source_limits
from traced_asgi_lambda.shutdown import on_sigterm, shut_down
from traced_asgi_lambda.telemetry.null import NULL_INVOCATION
from traced_asgi_lambda.telemetry.options import TelemetryOptions
from traced_asgi_lambda.telemetry.setup import telemetry_for
from traced_asgi_lambda.types import ASGIApp, LambdaContext, LambdaResponse, LifespanMode, OnError

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

__all__ = ["LambdaAdapter", "Mangum"]

# With an internal extension registered, Lambda allows the runtime 500 ms after SIGTERM
# ("Lambda execution environment lifecycle", Shutdown phase); lifespan shutdown gets half,
# leaving the rest for the final flush.
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
        max_response_bytes: int = SYNC_RESPONSE_LIMIT,
        tracer_provider: TracerProvider | None = None,
        telemetry: TelemetryOptions | None = None,
    ) -> None:
        ConfigurationError.check_choice("lifespan", lifespan, ("auto", "on", "off"))
        ConfigurationError.check_choice("on_error", on_error, ("respond", "raise"))
        self.app = app
        self.on_error = on_error
        self.translators = translators_with(custom_handlers)
        self._source_limits = source_limits(self.translators)
        self.config = TranslatorConfig.build(
            api_gateway_base_path, text_mime_types, exclude_headers, max_response_bytes
        )
        # Before the loop exists, so a configuration error leaves nothing open.
        self.telemetry = telemetry_for(telemetry or TelemetryOptions(), tracer_provider, os.environ)
        self.log: Any = (
            logging.getLogger("traced_asgi_lambda")
            if self.telemetry is None
            else self.telemetry.internal
        )
        # One loop for the life of the environment, so the lifespan task and anything
        # the app caches on the loop (connection pools) survive between invocations.
        self.loop = asyncio.new_event_loop()
        self.lifespan = None if lifespan == "off" else Lifespan(app, lifespan, self.loop, self.log)
        # Runs at garbage collection, on close(), on SIGTERM or at interpreter exit:
        # whichever comes first, once.
        self._finalizer = weakref.finalize(
            self, shut_down, self.loop, self.lifespan, shutdown_timeout, self.telemetry
        )
        # Installed at most once: a second handler would chain to the first and compete
        # for the wakeup fd. Telemetry needs it from the start (a final flush); otherwise
        # only a started lifespan has anything to shut down.
        self._on_sigterm = self.telemetry is not None and on_sigterm(self._finalizer)

    def startup(self) -> None:
        """Run lifespan startup now, such as in the init phase; otherwise the first call does."""
        if self.lifespan is not None and self.lifespan.startup() and not self._on_sigterm:
            self._on_sigterm = on_sigterm(self._finalizer)

    def close(self) -> None:
        """Run lifespan shutdown (if it started) and close the event loop."""
        self._finalizer()

    def __enter__(self) -> LambdaAdapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> LambdaResponse:
        if self.telemetry is None:
            return self._handle(event, context, NULL_INVOCATION)
        with self.telemetry.invocation(event, context, trigger="http") as invocation:
            return self._handle(event, context, invocation)

    def _handle(
        self, event: dict[str, Any], context: LambdaContext, invocation: Any
    ) -> LambdaResponse:
        with invocation.stage("parse") as span:
            translator = select(event, self.translators)
            request = translator.to_request(event, context, self.config)
            invocation.parsed(span, translator.name)
        scope = request.scope
        invocation.request(scope)
        if self.lifespan is not None:
            if self.lifespan.state is LifespanState.IDLE:
                with invocation.stage("lifespan"):
                    self.startup()
            # ASGI lifespan "state": each request gets a shallow copy of startup's dict.
            scope["state"] = self.lifespan.app_state.copy()
        cycle = HTTPCycle(scope, request.body)
        with invocation.stage("app") as span:
            response = self.loop.run_until_complete(cycle.run(self.app))
            invocation.response_started(span, cycle.started_ns)
            if cycle.error is not None:
                span.record_exception(cycle.error)
        invocation.response(scope, response.status, cycle.error)
        if cycle.problem is not None:
            invocation.reported = cycle.report(self.log, self.on_error)
        with invocation.stage("encode") as span:
            out = translator.to_response(response, event, self.config)
            source_limit = self._source_limits.get(id(translator))
            out, too_large = enforce_limit(
                out, response, translator, event, self.config, source_limit
            )
            if too_large is not None:
                self.log.error("%s %s answered 500: %s", scope["method"], scope["path"], too_large)
                invocation.response(scope, 500, too_large)
            invocation.encoded(span, len(response.body), out)
        return out


Mangum = LambdaAdapter
"""Mangum's name for the adapter, so migrating is a one-line import change."""
