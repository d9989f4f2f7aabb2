"""The adapter's own spans, kept as plain data while the invocation runs.

:class:`RecordedSpan` (the invocation's root) implements the OpenTelemetry API ``Span``,
so it can be made current: the app's own spans become its children, and
``get_current_span()`` in the app annotates it. :class:`DeferredSpan` (a stage) is never
current, so it is plainer still. Both end into the invocation's list, and the
``SpanRecorder`` that started them reports them (``recorder``).
"""

from __future__ import annotations

import abc
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode

from traced_asgi_lambda.telemetry.span_data import UNSET_STATUS, SpanData, SpanEvent

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.util import types

    from traced_asgi_lambda.telemetry.recorder import SpanRecorder
    from traced_asgi_lambda.telemetry.resource import LambdaResource

__all__ = ["DeferredSpan", "RecordedSpan", "exception_attributes"]


class _RecordsExceptions(abc.ABC):
    """``record_exception`` as the SDK writes it, as an ``exception`` event (OTel exceptions
    conventions), for the recorded span types; each has its own ``add_event``."""

    __slots__ = ()

    @abc.abstractmethod
    def add_event(
        self, name: str, attributes: types.Attributes = None, timestamp: int | None = None
    ) -> None: ...

    def record_exception(
        self,
        exception: BaseException,
        attributes: types.Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        self.add_event("exception", exception_attributes(exception, attributes, escaped), timestamp)


class RecordedSpan(_RecordsExceptions, trace.Span):
    """An API span kept as plain data until it ends. Safe to end from another thread once."""

    __slots__ = (
        "_attributes",
        "_context",
        "_end",
        "_ended",
        "_events",
        "_kind",
        "_later",
        "_links",
        "_name",
        "_parent",
        "_recorder",
        "_sink",
        "_start",
        "_status",
    )

    def __init__(
        self,
        recorder: SpanRecorder,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: dict[str, Any],
        links: Sequence[Link],
        sink: list[Any],
    ) -> None:
        self._recorder = recorder
        self._sink = sink
        self._end = 0
        self._later: list[Callable[[], Mapping[str, Any]]] = []
        self._name = name
        self._context = context
        self._parent = parent
        self._kind = kind
        self._attributes = attributes
        self._links = links
        self._events: list[SpanEvent] = []
        self._status = UNSET_STATUS  # immutable, shared: set_status replaces it
        self._start = time.time_ns()
        self._ended = threading.Lock()

    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return not self._ended.locked()

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        self._attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, types.AnyValue]) -> None:
        self._attributes.update(attributes)

    def set_attributes_later(self, compute: Callable[[], Mapping[str, Any]]) -> None:
        """Attributes computed when the span is reported, not now; any set directly win.

        For attributes derived from data that does not change (the request scope): in
        after-response mode computing them then keeps the work off the response.
        """
        self._later.append(compute)

    def update_name(self, name: str) -> None:
        self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        # The SDK's rule: once OK, a span's status does not change.
        if self._status.status_code is not StatusCode.OK:
            self._status = status if isinstance(status, Status) else Status(status, description)

    def add_event(
        self, name: str, attributes: types.Attributes = None, timestamp: int | None = None
    ) -> None:
        self._events.append(SpanEvent(name, attributes, timestamp or time.time_ns()))

    def add_link(self, context: SpanContext, attributes: types.Attributes = None) -> None:
        self._links = [*self._links, Link(context, attributes)]

    def end(self, end_time: int | None = None) -> None:
        if not self._ended.acquire(blocking=False):
            return  # already ended (a timeout report and the handler may both try)
        self._end = end_time or time.time_ns()
        self._sink.append(self)  # reported with the stage spans (SpanRecorder.report)

    def _final_attributes(self) -> dict[str, Any]:
        if not self._later:
            return self._attributes
        attributes = dict(self._later[0]())  # lowest precedence: set directly wins
        for compute in self._later[1:]:
            attributes.update(compute())
        attributes.update(self._attributes)
        return attributes

    def data(self, resource: LambdaResource | Resource) -> SpanData:
        """The ended span as SpanData, for a processor that takes it.

        ``resource`` is the provider's, read once per report by the recorder.
        """
        context, parent, recorder = self._context, self._parent, self._recorder
        return SpanData(
            context.trace_id,
            context.span_id,
            context.trace_state,
            None if parent is None else parent.span_id,
            parent is not None and parent.is_remote,
            self._name,
            self._kind,
            self._start,
            self._end,
            self._final_attributes(),
            self._events,
            self._links,
            self._status,
            resource,
            recorder.scope,
        )

    def readable(self) -> ReadableSpan:
        """The ended span as the SDK's processors take it (the SDK is loaded: they are its)."""
        from opentelemetry.sdk.trace import ReadableSpan

        attributes = self._final_attributes()
        recorder = self._recorder
        return ReadableSpan(
            self._name,
            context=self._context,
            parent=self._parent,
            resource=recorder.sdk_resource,
            attributes=attributes,
            events=[event.to_sdk() for event in self._events],
            links=self._links,
            kind=self._kind,
            status=self._status,
            start_time=self._start,
            end_time=self._end,
            instrumentation_scope=recorder.scope,
        )

    def __repr__(self) -> str:
        return f"RecordedSpan({self._name!r}, {self._context!r})"


def exception_attributes(
    exception: BaseException, extra: types.Attributes, escaped: bool
) -> dict[str, Any]:
    """The exception event of the OTel exceptions conventions, as the SDK writes it."""
    event: dict[str, Any] = {
        "exception.type": _type_name(exception),
        "exception.message": str(exception),
        "exception.stacktrace": "".join(traceback.format_exception(exception)),
        "exception.escaped": str(escaped),
    }
    if extra:
        event.update(extra)
    return event


class DeferredSpan(SpanData, _RecordsExceptions):
    """A stage span kept as plain data until the invocation reports.

    Stage spans are never current (the app's spans are children of the root), so nothing
    needs their ids while the request runs: :meth:`SpanRecorder.report` (after the response,
    in after-response mode) fills in the ids, resource and scope, and hands the span on as
    the SpanData it is, or builds a ReadableSpan from it for other processors.
    """

    __slots__ = ("_open", "parent", "sink")
    attributes: dict[str, Any]  # its own dict while the stage runs
    events: list[SpanEvent]
    status: Status

    def __init__(
        self, parent: trace.Span, name: str, attributes: dict[str, Any], sink: list[Any]
    ) -> None:
        # Only what the stage itself knows; the rest of SpanData is set when reported.
        self.parent = parent
        self.name = name
        self.attributes = attributes
        self.sink = sink
        self.events = []
        self.status = UNSET_STATUS
        self.end_time = None
        self.start_time = time.time_ns()
        # Ended by exactly one caller: the handler's stage exit and the watchdog's timeout
        # report can both try, on two threads. list.pop is atomic, a check-then-set is not.
        self._open = [True]

    def is_recording(self) -> bool:
        return bool(self._open)

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        self.attributes[key] = value

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        self.status = status if isinstance(status, Status) else Status(status, description)

    def add_event(
        self, name: str, attributes: types.Attributes = None, timestamp: int | None = None
    ) -> None:
        self.events.append(SpanEvent(name, attributes, timestamp or time.time_ns()))

    def end(self, end_time: int | None = None) -> None:
        try:
            self._open.pop()
        except IndexError:
            return  # already ended
        self.end_time = end_time or time.time_ns()
        self.sink.append(self)

    def readable(self) -> ReadableSpan:
        """The ended stage as the SDK's processors take it (after report has filled it in)."""
        from opentelemetry.sdk.trace import ReadableSpan

        parent = self.parent.get_span_context()
        return ReadableSpan(
            self.name,
            context=SpanContext(
                self.trace_id, self.span_id, False, parent.trace_flags, self.trace_state
            ),
            parent=parent,
            resource=cast("Resource", self.resource),  # report() gave stages the SDK's here
            attributes=self.attributes,
            events=[event.to_sdk() for event in self.events],
            kind=self.kind,
            status=self.status,
            start_time=self.start_time,
            end_time=self.end_time,
            instrumentation_scope=self.scope,
        )


def _type_name(exception: BaseException) -> str:
    cls = type(exception)
    return (
        cls.__qualname__
        if cls.__module__ in ("builtins", "")
        else f"{cls.__module__}.{cls.__qualname__}"
    )
