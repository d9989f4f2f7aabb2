"""Structured logs for every invocation: an access line, stage timings, errors, app context.

:class:`InvocationLogger` is built once per adapter with its own chain of structlog
processors, run straight into the stream, so it never goes through, or changes, an app's
structlog or logging configuration. Two additive things reach the app's own logs:

- ``bind_invocation`` binds ``function_request_id``, ``correlation_id``, ``trace_id`` and
  ``span_id`` with ``structlog.contextvars.bind_contextvars``: a chain with
  ``merge_contextvars`` (structlog's default) shows them. ``end_invocation`` resets them by
  token, so keys the app bound itself survive. Only once the process has imported
  structlog: an app that never does has no chain to show them, and importing structlog
  just to bind them would cost about 8 ms of every cold start (our own lines need none of
  it: the chain's processors are plain functions, and structlog's traceback and console
  renderers are imported when first needed).
- A LogRecord factory, installed at construction and removed by ``close()``, copies
  ``function_request_id``, ``trace_id`` and ``span_id`` onto each stdlib record created
  during an invocation, for formats such as ``%(trace_id)s`` (with
  ``Formatter(defaults=...)`` for lines outside invocations). ``correlation_id`` is left
  out: ``Logger.makeRecord`` raises KeyError for an ``extra`` key the record already has.

``configure_globally=True`` changes global state; ``log_processors.GlobalLogging`` lists what.

In Lambda (``AWS_LAMBDA_FUNCTION_NAME`` or ``AWS_EXECUTION_ENV`` set) a line is one JSON
object on stdout with Powertools Logger's keys; elsewhere structlog's console renderer. The
level follows Powertools ("Priority of log level settings"): ``AWS_LAMBDA_LOG_LEVEL`` (Lambda
drops lines below it anyway), the ``level`` argument, ``POWERTOOLS_LOG_LEVEL``, ``LOG_LEVEL``.
"""

from __future__ import annotations

import logging
import random
import sys
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TextIO

from traced_asgi_lambda.exceptions import ConfigurationError
from traced_asgi_lambda.telemetry import log_processors as lp
from traced_asgi_lambda.telemetry.log_context import (
    InvocationToken,
    bind_contextvars,
    correlation_id_of,
    xray_root,
)
from traced_asgi_lambda.telemetry.log_settings import in_lambda, resolve_level
from traced_asgi_lambda.telemetry.outcome import STAGES, Outcome
from traced_asgi_lambda.telemetry.redaction import (
    DEFAULT_REDACTED_HEADERS,
    DEFAULT_REDACTED_QUERY,
    Redactor,
)

if TYPE_CHECKING:
    from structlog.typing import Processor

    from traced_asgi_lambda.types import LambdaContext

__all__ = ["InvocationLogger", "access_message"]

DEBUG, INFO, WARNING, ERROR = logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR


class InvocationLogger:
    """The adapter's logger: stdlib-style methods, the access line and per-invocation hooks."""

    def __init__(
        self,
        *,
        service: str,
        environ: Mapping[str, str],
        stream: TextIO | None = None,
        level: str | int | None = None,
        json: bool | None = None,
        sample_rate: float = 0.0,
        sample_seed: int | None = None,
        buffer_debug: bool = False,
        buffer_size: int = 200,
        redact_headers: Iterable[str] = DEFAULT_REDACTED_HEADERS,
        redact_query: Iterable[str] = DEFAULT_REDACTED_QUERY,
        redaction: bool = True,
        configure_globally: bool = False,
    ) -> None:
        if not 0.0 <= sample_rate <= 1.0:
            raise ConfigurationError(
                f"Expected sample_rate to be between 0.0 and 1.0, but got {sample_rate!r}."
            )
        if buffer_size < 1:
            raise ConfigurationError(f"Expected buffer_size >= 1, but got {buffer_size!r}.")
        self.level = resolve_level(level, environ)
        self.json = in_lambda(environ) if json is None else json
        self.sample_rate, self.buffer_size = sample_rate, buffer_size
        self._seed = sample_seed
        self._random: random.Random | None = None  # made at first use: after any snapshot
        self._function: tuple[object, dict[str, Any]] = (None, {})  # see _function_keys
        self._current: ContextVar[InvocationToken | None] = ContextVar(
            "traced_asgi_lambda.logs", default=None
        )
        chain: list[Processor] = []
        redactor = None
        if redaction:
            redactor = Redactor(frozenset(redact_headers), frozenset(redact_query))
            chain.append(lp.redacting(redactor))
        shaper = lp.Shaper(
            service=service,
            sampling_rate=sample_rate,
            current=self._current.get,
            console=not self.json,
        )
        if self.json:
            chain += [lp.exception_dict(), shaper, lp.json_renderer()]
        else:
            isatty = getattr(stream if stream is not None else sys.stdout, "isatty", None)
            # no-color.org: set to a non-empty value, as the CLI reads it (cli/_style.py).
            colors = bool(isatty and isatty()) and not environ.get("NO_COLOR")
            chain += [shaper, lp.console_renderer(colors)]
        # The chain runs straight into a sink, without structlog's BoundLogger: levels are
        # filtered in _log already, and its per-line context copy and dispatch cost more
        # than the rest of the line's work together (about 4 us a line).
        self._chain = tuple(chain)
        # The access line, the one written on every call, is composed directly when the
        # chain would only shape and render it: JSON, no key of it the redactor may hide,
        # and no query in it (see access()). Measured: 8.2 -> 6.9 us a line alone, about
        # 4 us of a traced call in place (the chain's generic steps touch more memory).
        self._shaper = shaper
        self._render: Callable[[Any, str, Any], Any] = chain[-1]  # the JSON renderer
        rules = {key: redactor.rewrites(key) if redactor else "never" for key in _ACCESS_KEYS}
        self._access_direct = self.json and "always" not in rules.values()
        self._access_risky = tuple(key for key, rule in rules.items() if rule == "query")
        self._sink = lp.StreamSink(stream)
        self._buffering = None
        if buffer_debug and self.level > DEBUG:
            self._buffering = lp.BufferingSink(stream, self._current.get)
        self._record_factory = lp.RecordFactory(self._current.get)
        self._global = lp.GlobalLogging(chain, self.level, stream) if configure_globally else None

    # stdlib-style methods: %-arguments are interpolated only for lines that are written.

    def debug(self, msg: str, *args: object, **kw: Any) -> None:
        self._log(DEBUG, "debug", msg, args, kw)

    def info(self, msg: str, *args: object, **kw: Any) -> None:
        self._log(INFO, "info", msg, args, kw)

    def warning(self, msg: str, *args: object, **kw: Any) -> None:
        self._log(WARNING, "warning", msg, args, kw)

    def error(self, msg: str, *args: object, **kw: Any) -> None:
        self._log(ERROR, "error", msg, args, kw)

    def exception(
        self, msg: str, exc: BaseException | None = None, *args: object, **kw: Any
    ) -> None:
        """ERROR with a structured traceback of ``exc``, or of the exception being handled."""
        kw["exc_info"] = exc if exc is not None else True
        self._log(ERROR, "error", msg, args, kw)

    def _log(self, level: int, method: str, msg: str, args: tuple[object, ...], kw: Any) -> None:
        sink = self._sink_for(level)
        if sink is None:
            return
        if args:
            msg = _interpolate(msg, args)
        caller = sys._getframe(2)  # whoever called the public method: Powertools' location
        kw["location"] = f"{caller.f_code.co_name}:{caller.f_lineno}"
        self._write(sink, method, msg, kw)

    def _write(self, sink: lp.StreamSink, method: str, msg: str, line: Any) -> None:
        """Run the chain over the line's keys and hand the text to ``sink``'s ``method``."""
        if "event" in line:  # structlog's name for the message; the Shaper renames it back
            line["_event"] = line.pop("event")
        line["event"] = msg
        for processor in self._chain:
            line = processor(sink, method, line)
        getattr(sink, method)(line)

    def _sink_for(self, level: int) -> lp.StreamSink | None:
        """Where a line at ``level`` goes now (this invocation's sink), or None if filtered."""
        token = self._current.get()
        if token is None:
            return self._sink if level >= self.level else None
        return token.sink if level >= token.min_level else None

    def enabled_for(self, level: int) -> bool:
        """Whether a line at ``level`` would be written now (in this invocation's context)."""
        return self._sink_for(level) is not None

    def access(self, outcome: Outcome) -> None:
        """The one INFO line per request, such as ``GET /items/{id} 200``."""
        sink = self._sink_for(INFO)
        if sink is None:
            return
        init_ms = outcome.init_duration_ms
        fields = {
            "method": outcome.method,
            "path": outcome.path,
            "route": outcome.route,
            "status": outcome.status,
            "duration_ms": round(outcome.duration_ms, 3),
            "response_bytes": outcome.response_bytes,
            "user_agent": outcome.user_agent,
            "client_address": outcome.client_address,
            "error_type": outcome.error_type,
            "trigger": None if outcome.trigger == "http" else outcome.trigger,
            "init_duration_ms": None if init_ms is None else round(init_ms, 3),
        }
        token = self._current.get()
        if token is None:
            # Written outside an invocation's log context (the adapter reports within it,
            # the watchdog too): the outcome's own keys, which the context would add.
            fields["cold_start"] = outcome.cold_start
            fields["function_request_id"] = outcome.request_id
            fields["correlation_id"] = outcome.correlation_id
            fields["trace_id"] = outcome.trace_id
            fields["span_id"] = outcome.span_id
        caller = sys._getframe(1)  # as _log: the caller is the line's location
        location = f"{caller.f_code.co_name}:{caller.f_lineno}"
        message = access_message(outcome)
        if self._access_direct and token is not None and self._plain_access(message, fields):
            # What the chain would write (a differential test compares the two), without
            # its generic steps: redaction has nothing to do, there is no exception.
            line = self._shaper.compose("info", location, message, fields, token)
            sink.info(self._render(None, "info", line))
            return
        fields["location"] = location
        self._write(sink, "info", message, fields)

    def _plain_access(self, message: str, fields: Mapping[str, Any]) -> bool:
        """Whether redaction would leave this access line alone: no query in it anywhere.

        The redactor rewrites a query inside the message (``name=value`` after ``?``, ``&``
        or ``;``) and the query part of URL-like keys (``path``); without ``=`` in the
        message and ``?`` or ``=`` in those values, there is nothing for it to do.
        """
        if "=" in message:
            return False
        for key in self._access_risky:
            value = fields.get(key)
            if isinstance(value, str) and ("?" in value or "=" in value):
                return False
        return True

    def stages(self, outcome: Outcome) -> None:
        """A DEBUG line with each stage's milliseconds, as ``<stage>_ms``, in stage order."""
        if not self.enabled_for(DEBUG):
            return
        timings = outcome.stages
        names = [s for s in STAGES if s in timings] + [s for s in timings if s not in STAGES]
        fields: dict[str, Any] = {f"{name}_ms": round(timings[name], 3) for name in names}
        fields["duration_ms"] = round(outcome.duration_ms, 3)
        if outcome.init_duration_ms is not None:
            fields["init_duration_ms"] = round(outcome.init_duration_ms, 3)
        self._log(DEBUG, "debug", f"{access_message(outcome)} stages", (), fields)

    def bind_invocation(
        self,
        context: LambdaContext,
        *,
        cold_start: bool,
        event: object,
        trace_id: str | None = None,
        span_id: str | None = None,
        env_trace_header: str | None = None,
    ) -> InvocationToken:
        """Start an invocation: its keys on our lines and the app's; sampled, or buffered.

        ``env_trace_header`` is ``_X_AMZN_TRACE_ID`` as the caller read it for this
        invocation (the runtime sets it afresh for each one); its Root is ``xray_trace_id``.
        """
        request_id = context.aws_request_id
        head = {"cold_start": cold_start, **self._function_keys(context)}
        head["function_request_id"] = request_id
        shared = {"function_request_id": request_id}
        if (correlation_id := correlation_id_of(event)) is not None:
            head["correlation_id"] = shared["correlation_id"] = correlation_id
        ids: dict[str, str] = {}
        if trace_id is not None:
            ids["trace_id"] = trace_id
        if span_id is not None:
            ids["span_id"] = span_id
        xray = xray_root(env_trace_header)
        token = InvocationToken(head, {"xray_trace_id": xray, **ids} if xray else ids)
        token.record = {"function_request_id": request_id, **ids}
        if self.sample_rate and self._sampled():
            token.min_level, token.sink = DEBUG, self._sink
        elif self._buffering is not None:
            token.min_level, token.sink = DEBUG, self._buffering
            token.buffer = deque(maxlen=self.buffer_size)
        else:
            token.min_level, token.sink = self.level, self._sink
        if (bound := bind_contextvars(**shared, **ids)) is not None:
            token.contextvars.append(bound)
        token.own_token = self._current.set(token)
        return token

    def _function_keys(self, context: LambdaContext) -> dict[str, Any]:
        """function_name, function_memory_size and function_arn, made once per function."""
        memory, arn = context.memory_limit_in_mb, context.invoked_function_arn
        key = (context.function_name, memory, arn)
        if self._function[0] != key:
            keys = {
                "function_name": context.function_name,
                "function_memory_size": int(memory) if str(memory).isdigit() else memory,
                "function_arn": arn,
            }
            self._function = (key, keys)
        return self._function[1]

    def _sampled(self) -> bool:
        if self._random is None:
            self._random = random.Random(self._seed)
        return self._random.random() < self.sample_rate

    def bind_trace(self, trace_id: str | None, span_id: str | None) -> None:
        """Add the OpenTelemetry ids (hex) to the running invocation, once they are known."""
        token = self._current.get()
        ids = {k: v for k, v in (("trace_id", trace_id), ("span_id", span_id)) if v is not None}
        if token is not None and ids:
            token.tail.update(ids)
            token.record.update(ids)
            if (bound := bind_contextvars(**ids)) is not None:
                token.contextvars.append(bound)

    def end_invocation(self, token: InvocationToken | None, *, failed: bool) -> None:
        """Finish: write the DEBUG buffer if ``failed``, else drop it; unbind every key."""
        if token is None or token.ended:
            return
        token.ended = True
        buffer, token.buffer = token.buffer, None
        if not failed and token.sink is self._buffering:
            # Lines still to come for this invocation (after-response mode writes the
            # access and stage lines after this, in a copy of its context) are filtered at
            # the configured level again: the buffer they would have waited in is gone.
            token.min_level = self.level
        if failed and buffer:
            if (dropped := token.buffered - len(buffer)) > 0:
                message = f"debug buffer full: {dropped} earlier line(s) dropped"
                self._write(self._sink, "debug", message, {"location": "buffer"})
            for line in buffer:
                self._sink.write(line)
        try:
            if token.contextvars:
                import structlog.contextvars  # imported already: it bound them

                for tokens in reversed(token.contextvars):
                    structlog.contextvars.reset_contextvars(**tokens)
            if token.own_token is not None:
                self._current.reset(token.own_token)
        except (ValueError, RuntimeError):  # ended in another context than it began in
            self._current.set(None)

    def close(self) -> None:
        """Remove the LogRecord factory and undo ``configure_globally``; idempotent."""
        self._record_factory.uninstall()
        if self._global is not None:
            self._global.restore()
            self._global = None


# Every key access() may write, for the check of which ones the redactor may rewrite.
_ACCESS_KEYS = (
    "method",
    "path",
    "route",
    "status",
    "duration_ms",
    "response_bytes",
    "user_agent",
    "client_address",
    "error_type",
    "trigger",
    "init_duration_ms",
    "cold_start",
    "function_request_id",
    "correlation_id",
    "trace_id",
    "span_id",
)


def access_message(outcome: Outcome) -> str:
    """``GET /items/{id} 200``: the route template when known, else the path."""
    if outcome.method is None:
        return f"{outcome.trigger} invocation {'failed' if outcome.failed else 'done'}"
    result = outcome.status if outcome.status is not None else outcome.error_type or "-"
    return f"{outcome.method} {outcome.route or outcome.path or '-'} {result}"


def _interpolate(msg: str, args: tuple[object, ...]) -> str:
    """logging's ``msg % args``; a mismatch is shown instead of raised, as logging does."""
    try:
        if len(args) == 1 and isinstance(args[0], Mapping) and args[0]:
            return msg % args[0]
        return msg % args
    except (TypeError, ValueError, KeyError):
        return f"{msg} {args!r}"
