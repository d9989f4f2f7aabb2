"""The adapter's own spans for an SDK or a Lambda ``TracerProvider``: started cheaply,
reported at the end.

An SDK span costs tens of microseconds to start: a sampler call per span, attribute
cleaning, locks and a processor round per start. An invocation makes four (five on a
cold start, with lifespan), which alone costs more than the whole adapter without
telemetry. For an SDK ``TracerProvider``, or the ``LambdaTracerProvider`` that
``lambda_tracer_provider`` returns (which then never needs the SDK's tracing at all),
the adapter therefore records its own spans (``recorded_spans``): ids from the provider's
id generator, one sampling decision for the root (stage spans follow it, as a
parent-based sampler would), attributes in a plain dict. :meth:`SpanRecorder.report`
hands them to the provider's span processors once the invocation is over: as the
``ReadableSpan``s the SDK would pass, or as ``SpanData`` when the only processor is ours
and its exporter takes it (see ``span_data``). One difference from SDK spans: processors'
``on_start`` is not called for these spans (no processor that ships with the SDK uses it).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, TraceFlags

from traced_asgi_lambda.telemetry.processor import InvocationSpanProcessor
from traced_asgi_lambda.telemetry.recorded_spans import DeferredSpan, RecordedSpan
from traced_asgi_lambda.telemetry.tracer_provider import LambdaTracerProvider

if TYPE_CHECKING:
    from collections.abc import Sequence

    from opentelemetry.context import Context
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.id_generator import IdGenerator
    from opentelemetry.sdk.trace.sampling import Sampler

    from traced_asgi_lambda.telemetry.resource import LambdaResource

__all__ = ["SpanRecorder", "recorder_for"]

_INTERNAL = SpanKind.INTERNAL
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)


def recorder_for(provider: object) -> SpanRecorder | None:
    """A recorder for our or an SDK TracerProvider; None for any other (use its tracer)."""
    if isinstance(provider, LambdaTracerProvider):
        return SpanRecorder(provider)
    # A provider can only be the SDK's if the SDK is loaded: never import it to find out.
    sdk = sys.modules.get("opentelemetry.sdk.trace")
    if sdk is None or not isinstance(provider, sdk.TracerProvider):
        return None
    if getattr(provider, "_active_span_processor", None) is None:
        return None
    return SpanRecorder(provider)


class SpanRecorder:
    """Starts recorded spans for one provider: its resource, sampler, ids and processors."""

    def __init__(self, provider: LambdaTracerProvider | TracerProvider) -> None:
        from traced_asgi_lambda import __version__

        self.provider = provider
        self.ids: IdGenerator = provider.id_generator
        self.processor: SpanProcessor = provider._active_span_processor  # type: ignore[assignment]
        self.scope = InstrumentationScope("traced_asgi_lambda", __version__)
        # None: the SDK's default, parent-based always-on, decided here without its objects.
        self.sampler: Sampler | None = None
        if not isinstance(provider, LambdaTracerProvider) or not provider.uses_default_sampler:
            self.sampler = provider.sampler
        self.always_on_without_parent = self.sampler is None or _always_on_without_parent(
            self.sampler
        )

    @property
    def resource(self) -> LambdaResource | Resource:
        """The provider's resource as spans carry it (read per report: see span_resource)."""
        provider = self.provider
        if isinstance(provider, LambdaTracerProvider):
            return provider.span_resource
        return provider.resource

    def start_root(
        self,
        name: str,
        parent: Context,
        kind: SpanKind,
        attributes: dict[str, Any],
        links: Sequence[Link],
        sink: list[Any],
    ) -> trace.Span:
        """The invocation's root span, sampled once by the provider's sampler.

        It goes into ``sink`` when it ends, to reach the processors at :meth:`report`
        with its stages (after the response, in after-response mode).
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
        elif self.sampler is None:
            # ParentBased(ALWAYS_ON) with a parent (OTel trace SDK spec, "ParentBased"):
            # the parent's decision, remote or local, and its trace state.
            assert parent_context is not None  # no parent was decided just above
            trace_state = parent_context.trace_state
            if not parent_context.trace_flags.sampled:
                context = SpanContext(
                    trace_id, self.ids.generate_span_id(), False, _NOT_SAMPLED, trace_state
                )
                return trace.NonRecordingSpan(context)
            flags = _SAMPLED
        else:
            from opentelemetry.sdk.trace.sampling import Decision  # the SDK's sampler: loaded

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
        """Hand the ended spans to the processors, as the SDK would have on end().

        As SpanData when the only processor takes it (sampled spans only: it keeps no
        others), else as the ``ReadableSpan``s the SDK would pass, sampled or not.
        """
        taker = self._span_data_taker()
        if taker is not None:
            resource = self.resource
            recorded = self._recorded(spans, resource)
            spans.clear()
            # A stage span is its own SpanData: only the root needs converting.
            taker.take_span_data(
                [
                    span if type(span) is DeferredSpan else span.data(resource)
                    for span, sampled in recorded
                    if sampled
                ]
            )
            return
        recorded = self._recorded(spans, self.sdk_resource)
        spans.clear()
        on_end = self.processor.on_end
        for span, _ in recorded:
            on_end(span.readable())

    @property
    def sdk_resource(self) -> Resource:
        """The provider's resource as the SDK's ``ReadableSpan`` needs it."""
        return self.provider.resource

    def _recorded(
        self, spans: list[Any], resource: LambdaResource | Resource
    ) -> list[tuple[Any, bool]]:
        """The recorded spans among ``spans``, each with whether it is sampled.

        A stage span learns its ids, resource and scope here: nothing needed them while
        the request ran. Stages of a root that was not recorded are left out.
        """
        new_id, scope = self.ids.generate_span_id, self.scope
        out: list[tuple[Any, bool]] = []
        root: Any = None
        parent: SpanContext | None = None
        sampled = False
        trace_id = parent_id = 0
        trace_state = None
        for span in spans:
            if type(span) is not DeferredSpan:  # the root (cheaper than an ABC isinstance)
                out.append((span, span.get_span_context().trace_flags.sampled))
                continue
            if span.parent is not root:  # an invocation's stages share one root: read it once
                root = span.parent
                parent = root.get_span_context() if isinstance(root, RecordedSpan) else None
                if parent is not None:
                    sampled = parent.trace_flags.sampled
                    trace_id, parent_id = parent.trace_id, parent.span_id
                    trace_state = parent.trace_state
            if parent is None:
                continue
            span.trace_id, span.span_id, span.trace_state = trace_id, new_id(), trace_state
            span.parent_id, span.parent_remote, span.kind = parent_id, False, _INTERNAL
            span.links, span.resource, span.scope = (), resource, scope
            span.dropped_attributes = span.dropped_events = span.dropped_links = 0
            out.append((span, sampled))
        return out

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
