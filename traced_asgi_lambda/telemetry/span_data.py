"""An ended span as plain data: what the OTLP writer reads, and what the recorder can hand it.

The SDK's processors and exporters take ``ReadableSpan`` objects. Making one per span
(a ``SpanContext`` for its ids, the ``ReadableSpan``, a call through the provider's
multi-processor) and reading it back through sixteen properties in the writer costs
about as much as encoding the span. :class:`SpanData` holds the same facts in slots:

- the OTLP writer (``otlp_encode``) reads every span through it, built from a
  ``ReadableSpan`` by :meth:`SpanData.of`;
- when the only span processor is ours and its exporter says it takes ``SpanData``
  (``accepts_span_data = True``, as ``OtlpHttpSpanExporter`` does), the recorder hands
  its spans over as ``SpanData`` directly and no ``ReadableSpan`` is made at all. With
  any other processor or exporter, every span is a ``ReadableSpan`` as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.trace.status import Status, StatusCode

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import Link, SpanKind, TraceState

    from traced_asgi_lambda.telemetry.resource import LambdaResource

__all__ = ["UNSET_STATUS", "SpanData", "SpanEvent"]

# The status of every span nobody set one on. Status is immutable, so the adapter's spans
# share this one, and the OTLP writer knows it by identity (no property reads to encode it).
UNSET_STATUS = Status(StatusCode.UNSET)


class SpanEvent:
    """A span event as the OTLP writer reads the SDK's ``Event``: name, attributes, time.

    The adapter's own spans keep their events as these, so recording an exception needs
    no SDK import; :meth:`to_sdk` makes the SDK's ``Event`` for a ``ReadableSpan``.
    """

    __slots__ = ("attributes", "name", "timestamp")
    dropped_attributes = 0  # the attributes are kept whole, as given

    def __init__(self, name: str, attributes: Mapping[str, Any] | None, timestamp: int) -> None:
        self.name = name
        self.attributes: Mapping[str, Any] = dict(attributes) if attributes else {}
        self.timestamp = timestamp

    def to_sdk(self) -> Event:
        from opentelemetry.sdk.trace import Event

        return Event(self.name, self.attributes, self.timestamp)

    def __repr__(self) -> str:
        return f"SpanEvent({self.name!r}, {self.attributes!r}, {self.timestamp!r})"


class SpanData:
    """One ended span's OTLP fields. Ids are ints; ``parent_id`` is None for a root."""

    __slots__ = (
        "attributes",
        "dropped_attributes",
        "dropped_events",
        "dropped_links",
        "end_time",
        "events",
        "kind",
        "links",
        "name",
        "parent_id",
        "parent_remote",
        "resource",
        "scope",
        "span_id",
        "start_time",
        "status",
        "trace_id",
        "trace_state",
    )

    @classmethod
    def of(cls, span: ReadableSpan) -> SpanData:
        """The data of any ``ReadableSpan``.

        The SDK's own class (what the SDK hands processors, and what the recorder makes)
        is read from its instance dict: its properties each cost a Python call, and
        ``attributes``, ``events`` and ``links`` copy or wrap their containers. The dropped
        counts are those of the SDK's bounded containers, 0 for plain ones, as the
        properties compute them. Any other class (a subclass may compute its properties
        otherwise), or an SDK whose fields are named otherwise, is read through the
        public properties. The class is compared by name: no SDK import on this path.
        """
        kind = type(span)
        if kind.__name__ == "ReadableSpan" and kind.__module__ == "opentelemetry.sdk.trace":
            try:
                return cls._of_fields(span, span.__dict__)
            except KeyError:
                pass
        context, parent = span.context, span.parent
        assert context is not None, "an ended span has a context"
        data = cls(
            trace_id=context.trace_id,
            span_id=context.span_id,
            trace_state=context.trace_state,
            parent_id=parent.span_id if parent is not None else None,
            parent_remote=parent is not None and parent.is_remote,
            name=span.name,
            kind=span.kind,
            start_time=span.start_time,
            end_time=span.end_time,
            attributes=span.attributes,
            events=span.events,
            links=span.links,
            status=span.status,
            resource=span.resource,
            scope=span.instrumentation_scope,
        )
        data.dropped_attributes = span.dropped_attributes
        data.dropped_events = span.dropped_events
        data.dropped_links = span.dropped_links
        return data

    @classmethod
    def _of_fields(cls, span: ReadableSpan, values: Mapping[str, Any]) -> SpanData:
        context, parent = values["_context"], values["_parent"]
        attributes, events, links = values["_attributes"], values["_events"], values["_links"]
        data = cls(
            context.trace_id,
            context.span_id,
            context.trace_state,
            None if parent is None else parent.span_id,
            parent is not None and parent.is_remote,
            values["_name"],
            values["_kind"],
            values["_start_time"],
            values["_end_time"],
            attributes,
            events,
            links,
            values["_status"],
            values["_resource"],
            values["_instrumentation_scope"],
        )
        if type(attributes) is not dict:
            data.dropped_attributes = span.dropped_attributes
        if type(events) not in (list, tuple):
            data.dropped_events = span.dropped_events
        if type(links) not in (list, tuple):
            data.dropped_links = span.dropped_links
        return data

    def __init__(
        self,
        trace_id: int,
        span_id: int,
        trace_state: TraceState | None,
        parent_id: int | None,
        parent_remote: bool,
        name: str,
        kind: SpanKind,
        start_time: int | None,
        end_time: int | None,
        attributes: Mapping[str, Any] | None,
        events: Sequence[Event | SpanEvent],
        links: Sequence[Link],
        status: Status | None,
        resource: Resource | LambdaResource,
        scope: InstrumentationScope | None,
    ) -> None:
        # Positional on purpose: one is built per span on the hot path, and keyword
        # arguments would cost about a third of it. Dropped counts start at 0.
        self.trace_id, self.span_id, self.trace_state = trace_id, span_id, trace_state
        self.parent_id, self.parent_remote = parent_id, parent_remote
        self.name, self.kind = name, kind
        self.start_time, self.end_time = start_time, end_time
        self.attributes, self.events, self.links = attributes, events, links
        self.status, self.resource, self.scope = status, resource, scope
        self.dropped_attributes = self.dropped_events = self.dropped_links = 0
