"""The structlog chain behind :mod:`~traced_asgi_lambda.telemetry.logs`, and where lines go.

Processors are plain callables ``(logger, method_name, event_dict)`` (structlog docs,
"Processors"). Ours are few on purpose: redact, structure the exception, shape the line in
Powertools' key order, render. structlog is imported only inside the factories that need it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from traced_asgi_lambda.telemetry.redaction import REDACTED, Redactor

if TYPE_CHECKING:
    from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = [
    "JSON_LEVELS",
    "LEVELS",
    "BufferingSink",
    "GlobalLogging",
    "InvocationState",
    "RecordFactory",
    "Shaper",
    "StreamSink",
    "callsite_location",
    "console_renderer",
    "exception_dict",
    "json_renderer",
    "parse_level",
    "redacting",
    "rfc3339_now",
]

# stdlib numbers for every level name accepted: Python's, and the six of Lambda's advanced
# logging controls (TRACE|DEBUG|INFO|WARN|ERROR|FATAL, API reference "LoggingConfig").
# Python has no TRACE; like the Lambda Python runtime (awslambdaric) we read it as DEBUG.
LEVELS = {
    "TRACE": 10,
    "DEBUG": 10,
    "INFO": 20,
    "WARN": 30,
    "WARNING": 30,
    "ERROR": 40,
    "FATAL": 50,
    "CRITICAL": 50,
}

# ``level`` in JSON, by structlog method name. Lambda's log-level filtering reads ``level``
# from JSON on stdout and treats an invalid value as INFO ("Log-level filtering", Lambda
# developer guide), so Python's WARNING and CRITICAL are written as WARN and FATAL: else
# an ALC level of WARN would drop our warnings.
JSON_LEVELS = {
    "debug": "DEBUG",
    "info": "INFO",
    "warning": "WARN",
    "error": "ERROR",
    "critical": "FATAL",
}

# Powertools puts xray_trace_id last; the OpenTelemetry ids follow it.
_TAIL_KEYS = frozenset({"xray_trace_id", "trace_id", "span_id"})
# Left out of console lines: constant for a process, and noise when reading locally.
_CONSOLE_DROPPED = frozenset(
    {"service", "function_name", "function_memory_size", "function_arn", "xray_trace_id"}
)


class InvocationState(Protocol):
    """What the chain reads from the running invocation (``log_context.InvocationToken``)."""

    head: dict[str, Any]  # after ``service``: cold_start ... correlation_id
    tail: dict[str, Any]  # the last keys of a line
    record: dict[str, Any]  # copied onto stdlib LogRecords
    buffer: deque[str] | None  # DEBUG lines held back, when buffering
    buffered: int  # DEBUG lines ever buffered, to count those the full buffer dropped


def parse_level(value: str | int) -> int | None:
    """The stdlib number for a level name (either vocabulary, any case) or number."""
    if isinstance(value, int):
        return value if value > 0 else None
    text = value.strip().upper()
    if text.isdigit():
        return int(text) or None
    return LEVELS.get(text)


def rfc3339_now(clock: list[Any]) -> str:
    """UTC with milliseconds: ``2024-11-02T16:51:31.587Z``.

    Lambda uses ``timestamp`` only when it is RFC 3339 ("Log-level filtering"), which
    Powertools' default ``2021-05-03 11:47:12,494+0000`` is not; this is the form of
    Lambda's own Python JSON formatter. ``clock`` ([second, text]) keeps the strftime to
    once a second.
    """
    now = time.time()
    second = int(now)
    if clock[0] != second:
        clock[:] = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{clock[1]}.{int((now - second) * 1000):03d}Z"


class Shaper:
    """The line as a dict in Powertools Logger's key order (its ``formatter.py``).

    level, location, message, timestamp, service, sampling_rate, the invocation's head
    (cold_start, function_name, function_memory_size, function_arn, function_request_id,
    correlation_id), the line's own keys, then xray_trace_id, trace_id, span_id. ``None``
    values are left out, as Powertools strips them. The console keeps structlog's level
    names and drops the keys that never change.
    """

    __slots__ = ("_clock", "_console", "_current", "_service")

    def __init__(
        self,
        *,
        service: str,
        sampling_rate: float,
        current: Callable[[], InvocationState | None],
        console: bool,
    ) -> None:
        self._service: dict[str, Any] = {"service": service}
        if sampling_rate:
            self._service["sampling_rate"] = sampling_rate
        self._current = current
        self._console = console
        self._clock: list[Any] = [None, ""]

    def __call__(self, logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        location, message = event.pop("location", None), event.pop("event", None)
        if "_event" in event:  # a caller's own ``event=`` (see InvocationLogger._log)
            event["event"] = event.pop("_event")
        return self.compose(method, location, message, event, self._current())

    def compose(
        self,
        method: str,
        location: str | None,
        message: Any,
        fields: Mapping[str, Any],
        invocation: InvocationState | None,
    ) -> dict[str, Any]:
        """The line's dict from its parts, in order; None values left out."""
        out: dict[str, Any] = {
            "level": method if self._console else JSON_LEVELS.get(method, method.upper()),
            "location": location,
            "message": message,
            "timestamp": rfc3339_now(self._clock),
        }
        out.update(self._service)
        tail: Mapping[str, Any] = {}
        if invocation is not None:
            out.update(invocation.head)
            tail = invocation.tail
        for key, value in fields.items():
            if value is None:
                continue
            if key in _TAIL_KEYS:
                tail = {**tail, key: value}
            else:
                out[key] = value
        out.update(tail)
        if location is None:
            del out["location"]
        if self._console:
            for key in _CONSOLE_DROPPED.intersection(out):
                del out[key]
        return out


def callsite_location(logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
    """Powertools' ``location`` (``function:line``) from structlog's callsite keys."""
    func, line = event.pop("func_name", None), event.pop("lineno", None)
    if func is not None and "location" not in event:
        event["location"] = f"{func}:{line}"
    return event


_QUERY_IN_TEXT = re.compile(r"(?<=[?&;])([^=&;?#\s]+)=([^&;#\s]*)")


def redacting(redactor: Redactor) -> Processor:
    """Hides secrets in the line's keys, and in any query string inside its message."""

    def hide(match: re.Match[str]) -> str:
        return f"{match[1]}={REDACTED}" if redactor.is_secret_parameter(match[1]) else match[0]

    def redact(logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        redactor.redact_fields(event)
        message = event.get("event")
        if isinstance(message, str) and "=" in message:
            event["event"] = _QUERY_IN_TEXT.sub(hide, message)
        return event

    return redact


def exception_dict() -> Processor:
    """``exc_info`` -> ``exception`` (structlog's structured traceback) and ``exception_name``.

    structlog's ``dict_tracebacks`` shows local variables by default; locals hold request
    headers and other secrets, so they are off. ``exception_name`` is Powertools' key.
    structlog is imported at the first exception, not before: a cold start without one
    does not pay for it.
    """
    renderers: list[Any] = []  # the ExceptionRenderer, made at the first exception

    def structured(logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        exc_info = event.get("exc_info")
        if not exc_info:
            event.pop("exc_info", None)
            return event
        if exc_info is True:
            exc_info = sys.exc_info()
        name = None
        if isinstance(exc_info, BaseException):
            name = type(exc_info).__name__
        elif isinstance(exc_info, tuple) and exc_info and isinstance(exc_info[0], type):
            name = exc_info[0].__name__
        if not renderers:
            from structlog.processors import ExceptionRenderer
            from structlog.tracebacks import ExceptionDictTransformer

            transformer = ExceptionDictTransformer(show_locals=False, use_rich=False)
            renderers.append(ExceptionRenderer(transformer))
        event = renderers[0](logger, method, event)
        if name is not None:
            event["exception_name"] = name
        return event

    return structured


def json_renderer() -> Processor:
    """Compact JSON; unknown types as ``str()`` and non-ASCII kept, as Powertools does."""
    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode

    def render(logger: WrappedLogger, method: str, event: EventDict) -> str:
        return encode(event)

    return render


def console_renderer(colors: bool) -> Processor:
    """structlog's ConsoleRenderer on our keys, with plain tracebacks (never locals)."""
    from structlog.dev import ConsoleRenderer, plain_traceback

    return ConsoleRenderer(
        colors=colors,
        event_key="message",
        timestamp_key="timestamp",
        exception_formatter=plain_traceback,
        sort_keys=False,
    )


class StreamSink:
    """The end of the chain: one ``write`` per line, to the stream or to ``sys.stdout``.

    ``sys.stdout`` is looked up at each write, so a stream swapped later (the Lambda
    runtime's, pytest's) is used. Write errors are swallowed, as logging's
    ``Handler.handleError`` does. structlog calls the method named after the level
    (structlog docs, "Loggers"), hence the aliases.
    """

    __slots__ = ("_stream",)

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream

    def write(self, line: str) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass

    debug = info = warning = error = critical = msg = write


class BufferingSink(StreamSink):
    """Holds a buffering invocation's DEBUG lines in its bounded deque instead of writing."""

    __slots__ = ("_current",)

    def __init__(self, stream: TextIO | None, current: Callable[[], InvocationState | None]):
        super().__init__(stream)
        self._current = current

    def debug(self, line: str) -> None:
        invocation = self._current()
        if invocation is None or invocation.buffer is None:
            self.write(line)
        else:
            invocation.buffer.append(line)  # when full, the deque drops its oldest line
            invocation.buffered += 1


class RecordFactory:
    """A LogRecord factory adding the invocation's ``record`` keys to each stdlib record.

    It chains to the factory it replaced (logging docs, "LogRecord Factory"), leaves a key
    the record already has alone, and changes no handler or formatter. Uninstalled, it
    only delegates, in case another library wrapped it in turn.
    """

    __slots__ = ("_current", "active", "previous")

    def __init__(self, current: Callable[[], InvocationState | None]) -> None:
        self._current = current
        self.previous = logging.getLogRecordFactory()
        self.active = True
        logging.setLogRecordFactory(self)

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        if self.active and (invocation := self._current()) is not None:
            attributes = record.__dict__
            for key, value in invocation.record.items():
                attributes.setdefault(key, value)
        return record

    def uninstall(self) -> None:
        self.active = False
        if logging.getLogRecordFactory() is self:
            logging.setLogRecordFactory(self.previous)


class GlobalLogging:
    """What ``configure_globally=True`` changes, and how ``restore()`` puts it back.

    1. ``structlog.configure``: processors ``merge_contextvars``, the call site (as
       ``location``), then our chain; a wrapper class filtering at our level; a logger
       factory writing to our stream. ``restore()`` re-applies ``structlog.get_config()``
       as it was.
    2. The stdlib root logger: its handlers are replaced by one handler writing to our
       stream through ``structlog.stdlib.ProcessorFormatter`` (same keys; record extras
       kept), and its level is set to ours; ``restore()`` puts both back. Replacing rather
       than adding keeps the Lambda runtime's root handler from writing each line twice.

    Sampling and the DEBUG buffer do not apply to the app's lines.
    """

    def __init__(self, chain: list[Processor], level: int, stream: TextIO | None) -> None:
        import structlog
        from structlog.processors import CallsiteParameter, CallsiteParameterAdder

        callsite: list[Processor] = [
            CallsiteParameterAdder([CallsiteParameter.FUNC_NAME, CallsiteParameter.LINENO]),
            callsite_location,
        ]
        sink = StreamSink(stream)
        self._structlog = structlog.get_config()
        structlog.configure(
            processors=[structlog.contextvars.merge_contextvars, *callsite, *chain],
            wrapper_class=structlog.make_filtering_bound_logger(level),
            logger_factory=lambda *args: sink,
            context_class=dict,
            cache_logger_on_first_use=False,
        )
        formatter = structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.ExtraAdder(),
                *callsite,
            ],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *chain],
        )
        handler = _SinkHandler(sink)
        handler.setFormatter(formatter)
        root = logging.getLogger()
        self._handlers, self._level = list(root.handlers), root.level
        root.handlers = [handler]
        root.setLevel(level)

    def restore(self) -> None:
        import structlog

        structlog.configure(**self._structlog)
        root = logging.getLogger()
        root.handlers = self._handlers
        root.setLevel(self._level)


class _SinkHandler(logging.Handler):
    def __init__(self, sink: StreamSink) -> None:
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink.write(self.format(record))
        except Exception:
            self.handleError(record)
