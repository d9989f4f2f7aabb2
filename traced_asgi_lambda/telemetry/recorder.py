"""Spans recorded as plain data, and handed to the SDK's processors only when they end.

An SDK span costs tens of microseconds to start: a sampler call per span, attribute
cleaning, locks and a processor round per start. An invocation makes five of them, which
alone costs more than the whole adapter without telemetry. For an SDK ``TracerProvider``
the adapter therefore records its own spans: ids from the provider's id generator, one
sampling decision for the root (stage spans follow it, as a parent-based sampler would),
attributes in a plain dict, and on ``end()`` a ``ReadableSpan`` passed to the provider's
span processors exactly as the SDK would pass its own.

:class:`RecordedSpan` implements the OpenTelemetry API ``Span``, so the root span can be
made current: the app's own spans become its children, and ``get_current_span()`` in the
app annotates it. One difference from SDK spans: processors' ``on_start`` is not called
for these spans (no processor that ships with the SDK uses it).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from traced_asgi_lambda.telemetry.processor import InvocationSpanProcessor
from traced_asgi_lambda.telemetry.span_data import SpanData

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.id_generator import IdGenerator
    from opentelemetry.sdk.trace.sampling import Sampler
    from opentelemetry.util import types

__all__ = ["DeferredSpan", "RecordedSpan", "SpanRecorder", "exception_attributes", "recorder_for"]

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)


def recorder_for(provider: object) -> SpanRecorder | None:
    """A recorder for an SDK TracerProvider; None for any other provider (use its tracer)."""
    from opentelemetry.sdk.trace import TracerProvider

    processor = getattr(provider, "_active_span_processor", None)
    if not isinstance(provider, TracerProvider) or processor is None:
        return None
    return SpanRecorder(provider, processor)


class SpanRecorder:
    """Starts recorded spans for one provider: its resource, sampler, ids and processors."""

    def __init__(self, provider: TracerProvider, processor: SpanProcessor) -> None:
        from traced_asgi_lambda import __version__

        self.resource = provider.resource
        self.sampler: Sampler = provider.sampler
        self.ids: IdGenerator = provider.id_generator
        self.processor = processor
        self.scope = InstrumentationScope("traced_asgi_lambda", __version__)
        self.always_on_without_parent = _always_on_without_parent(self.sampler)

    def start_root(
        self,
        name: str,
        parent: Context,
        kind: SpanKind,
        attributes: dict[str, Any],
        links: Sequence[Link],
        sink: list[Any] | None = None,
    ) -> trace.Span:
        """The invocation's root span, sampled once by the provider's sampler.

        With a ``sink``, the span goes there when it ends, to reach the processors at
        :meth:`report` (after the response, in after-response mode); else at its end.
        """
        parent_span = trace.get_current_span(parent).get_span_context()
        if parent_span.is_valid:
            trace_id, parent_context = parent_span.trace_id, parent_span
        else:
            trace_id, parent_context = self.ids.generate_trace_id(), None
        if parent_context is None and self.always_on_without_parent:
            # What the SDK's ALWAYS_ON, and ParentBased over it, decide for a root span,
            # without building a SamplingResult for it on every invocation.
            flags, trace_state = _SAMPLED, None
        else:
            result = self.sampler.should_sample(parent, trace_id, name, kind, attributes, links)
            if result.attributes:
                attributes.update(result.attributes)
            flags = _SAMPLED if result.decision is Decision.RECORD_AND_SAMPLE else _NOT_SAMPLED
            trace_state = result.trace_state
            if result.decision is Decision.DROP:
                span_id = self.ids.generate_span_id()
                context = SpanContext(trace_id, span_id, False, flags, trace_state)
                return trace.NonRecordingSpan(context)
        context = SpanContext(trace_id, self.ids.generate_span_id(), False, flags, trace_state)
        return RecordedSpan(self, name, context, parent_context, kind, attributes, links, sink)

    def report(self, spans: list[Any]) -> None:
        """Hand the ended spans to the processors, as the SDK would have on end()."""
        taker = self._span_data_taker()
        if taker is not None:
            taker.take_span_data(self._span_data(spans))
            spans.clear()
            return
        on_end, new_id, resource, scope = (
            self.processor.on_end,
            self.ids.generate_span_id,
            self.resource,
            self.scope,
        )
        root: trace.Span | None = None
        parent: SpanContext | None = None
        for span in spans:
            if isinstance(span, RecordedSpan):
                on_end(span.readable())
                continue
            if span.parent is not root:  # an invocation's stages share one root
                root = span.parent
                parent = root.get_span_context() if isinstance(root, RecordedSpan) else None
            if parent is None or span.end_time is None:
                continue  # the root was not sampled: neither are its stages
            context = SpanContext(
                parent.trace_id, new_id(), False, parent.trace_flags, parent.trace_state
            )
            on_end(
                ReadableSpan(
                    span.name,
                    context=context,
                    parent=parent,
                    resource=resource,
                    attributes=span.attributes,
                    events=span.events,
                    kind=SpanKind.INTERNAL,
                    status=span.status,
                    start_time=span.start,
                    end_time=span.end_time,
                    instrumentation_scope=scope,
                )
            )
        spans.clear()

    def sole_processor(self) -> Any:
        """The provider's only span processor if it is an ``InvocationSpanProcessor``.

        Read on every call, so a processor added to the provider later is never bypassed.
        ``_span_processors`` is the SDK's own tuple in its multi-processors (no public
        accessor exists); it is only read, and anything unexpected there means None.
        """
        processors = getattr(self.processor, "_span_processors", None)
        if type(processors) is tuple and len(processors) == 1:
            (only,) = processors
            if isinstance(only, InvocationSpanProcessor):
                return only
        return None

    def _span_data_taker(self) -> Any:
        """The provider's only span processor, if it takes SpanData; else None."""
        sole = self.sole_processor()
        return sole if sole is not None and sole.takes_span_data else None

    def _span_data(self, spans: list[Any]) -> list[SpanData]:
        """The sampled spans among ``spans`` as SpanData, stage ids made as in report()."""
        new_id, resource, scope = self.ids.generate_span_id, self.resource, self.scope
        out: list[SpanData] = []
        root: Any = None
        parent: SpanContext | None = None
        for span in spans:
            if isinstance(span, RecordedSpan):
                if span.get_span_context().trace_flags.sampled:
                    out.append(span.data())
                continue
            if span.parent is not root:
                root = span.parent
                parent = root.get_span_context() if isinstance(root, RecordedSpan) else None
            if parent is None or span.end_time is None or not parent.trace_flags.sampled:
                continue
            out.append(
                SpanData.make(
                    parent.trace_id,
                    new_id(),
                    parent.trace_state,
                    parent.span_id,
                    False,
                    span.name,
                    SpanKind.INTERNAL,
                    span.start,
                    span.end_time,
                    span.attributes,
                    span.events,
                    (),
                    span.status,
                    resource,
                    scope,
                )
            )
        return out


class RecordedSpan(trace.Span):
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
        sink: list[Any] | None = None,
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
        self._events: list[Event] = []
        self._status = Status(StatusCode.UNSET)
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
        self._events.append(Event(name, attributes, timestamp or time.time_ns()))

    def add_link(self, context: SpanContext, attributes: types.Attributes = None) -> None:
        self._links = [*self._links, Link(context, attributes)]

    def record_exception(
        self,
        exception: BaseException,
        attributes: types.Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        self.add_event("exception", exception_attributes(exception, attributes, escaped), timestamp)

    def end(self, end_time: int | None = None) -> None:
        if not self._ended.acquire(blocking=False):
            return  # already ended (a timeout report and the handler may both try)
        self._end = end_time or time.time_ns()
        if self._sink is not None:
            self._sink.append(self)  # reported with the stage spans
        else:
            self._recorder.processor.on_end(self.readable())

    def _final_attributes(self) -> dict[str, Any]:
        attributes = self._attributes
        if self._later:
            attributes = {}
            for compute in self._later:
                attributes.update(compute())
            attributes.update(self._attributes)
        return attributes

    def data(self) -> SpanData:
        """The ended span as SpanData, for a processor that takes it."""
        context, parent, recorder = self._context, self._parent, self._recorder
        return SpanData.make(
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
            recorder.resource,
            recorder.scope,
        )

    def readable(self) -> ReadableSpan:
        """The ended span as the SDK's processors take it."""
        attributes = self._final_attributes()
        recorder = self._recorder
        return ReadableSpan(
            self._name,
            context=self._context,
            parent=self._parent,
            resource=recorder.resource,
            attributes=attributes,
            events=self._events,
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


class DeferredSpan:
    """A stage span kept as plain data until the invocation reports, then a ReadableSpan.

    Stage spans are never current (the app's spans are children of the root), so nothing
    needs their ids while the request runs: ids, SpanContext and ReadableSpan are made in
    :meth:`SpanRecorder.report`, which in after-response mode runs once the response is out.
    """

    __slots__ = ("attributes", "end_time", "events", "name", "parent", "sink", "start", "status")

    def __init__(
        self, parent: trace.Span, name: str, attributes: dict[str, Any], sink: list[DeferredSpan]
    ) -> None:
        self.parent = parent
        self.name = name
        self.attributes = attributes
        self.sink = sink
        self.events: list[Event] = []
        self.status = _UNSET
        self.end_time: int | None = None
        self.start = time.time_ns()

    def is_recording(self) -> bool:
        return self.end_time is None

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        self.attributes[key] = value

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        self.status = status if isinstance(status, Status) else Status(status, description)

    def add_event(
        self, name: str, attributes: types.Attributes = None, timestamp: int | None = None
    ) -> None:
        self.events.append(Event(name, attributes, timestamp or time.time_ns()))

    def record_exception(
        self,
        exception: BaseException,
        attributes: types.Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        self.add_event("exception", exception_attributes(exception, attributes, escaped), timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self.end_time is None:
            self.end_time = end_time or time.time_ns()
            self.sink.append(self)


_UNSET = Status(StatusCode.UNSET)


def _always_on_without_parent(sampler: Sampler) -> bool:
    """Whether ``sampler`` samples every root span, adding no attributes or trace state.

    True for the SDK's ``ALWAYS_ON`` and for ``ParentBased`` with it as the root sampler
    (the SDK's default, ``parentbased_always_on``). Exact types only: a subclass may decide
    otherwise.
    """
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, StaticSampler

    if type(sampler) is ParentBased:
        sampler = sampler._root
    return type(sampler) is StaticSampler and sampler is ALWAYS_ON


def _type_name(exception: BaseException) -> str:
    cls = type(exception)
    return (
        cls.__qualname__
        if cls.__module__ in ("builtins", "")
        else f"{cls.__module__}.{cls.__qualname__}"
    )
