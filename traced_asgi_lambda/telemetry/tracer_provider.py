"""The TracerProvider ``lambda_tracer_provider`` returns: the SDK's, built only when asked.

Importing the OpenTelemetry SDK's tracing (``opentelemetry.sdk.trace`` and what it pulls
in: the metrics API, resources, semantic conventions) costs a cold start about 25 ms on a
Lambda-class machine. The adapter's own spans need none of it: they are recorded and
exported by this package (``recorder``, ``processor``, ``otlp_http``). So this provider
holds what an SDK ``TracerProvider`` would be built from (resource, sampler, id generator,
span processors) and builds the SDK's only when something asks it for a tracer: an
instrumentation library, or the app's own ``get_tracer``. That SDK provider shares this
one's span processors, so spans from both reach the same processors in one list.

Until then, a default sampler (none given, ``OTEL_TRACES_SAMPLER`` unset) is the SDK's
default, ``parentbased_always_on``, which the recorder applies itself
(``SpanRecorder.start_root``); any other sampler is the SDK's.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from traced_asgi_lambda.telemetry.resource import LambdaResource

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.id_generator import IdGenerator
    from opentelemetry.sdk.trace.sampling import Sampler
    from opentelemetry.util import types

__all__ = ["LambdaTracerProvider", "SpanProcessors"]


class SpanProcessors:
    """The provider's span processors, called in the order added.

    What the SDK's ``SynchronousMultiSpanProcessor`` does, without importing it; the SDK
    provider built later is given this object as its active span processor. The SDK's
    spans call ``on_start``, ``_on_ending`` and ``on_end`` on it, and the recorder reads
    ``_span_processors`` as it reads the SDK's own (``SpanRecorder.sole_processor``).
    """

    def __init__(self) -> None:
        self._span_processors: tuple[SpanProcessor, ...] = ()
        self._lock = threading.Lock()

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        with self._lock:  # a tuple replaced whole: readers never see it half-built
            self._span_processors += (span_processor,)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for processor in self._span_processors:
            processor.on_start(span, parent_context=parent_context)

    def _on_ending(self, span: Span) -> None:
        for processor in self._span_processors:
            processor._on_ending(span)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self._span_processors:
            processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self._span_processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush each processor in turn within one overall deadline; False if any failed."""
        deadline = time.monotonic() + timeout_millis / 1000
        for processor in self._span_processors:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0 or not processor.force_flush(left_ms):
                return False
        return True


class LambdaTracerProvider(trace.TracerProvider):
    """An OpenTelemetry ``TracerProvider`` whose SDK provider is built on first ``get_tracer``.

    It answers what code reads from an SDK ``TracerProvider``: ``resource``, ``sampler``
    and ``id_generator`` (the first two build the SDK's objects), ``add_span_processor``,
    ``force_flush`` and ``shutdown``. Like the SDK's, it shuts down at interpreter exit.
    """

    def __init__(
        self,
        resource: LambdaResource | Resource,
        id_generator: IdGenerator,
        *,
        sampler: Sampler | None = None,
        environ: Mapping[str, str],
    ) -> None:
        self.id_generator = id_generator
        self._resource = resource
        self._sampler = sampler
        # True when sampling is the SDK's default, parent-based always-on, which the
        # recorder decides itself. Read once, as the SDK's TracerProvider reads it.
        self.uses_default_sampler = sampler is None and environ.get(
            "OTEL_TRACES_SAMPLER", ""
        ).strip().lower() in ("", "parentbased_always_on")
        self._active_span_processor = SpanProcessors()
        self._sdk: TracerProvider | None = None
        self._lock = threading.Lock()
        self._atexit: Any = atexit.register(self.shutdown)

    # What the recorder reads ---------------------------------------------------------------

    @property
    def span_resource(self) -> LambdaResource | Resource:
        """The resource the adapter's spans carry: the SDK provider's once it exists, so a
        batch with spans from both has one resource."""
        return self._resource if self._sdk is None else self._sdk.resource

    # What an SDK TracerProvider offers -----------------------------------------------------

    @property
    def resource(self) -> Resource:
        if isinstance(self._resource, LambdaResource):
            return self._resource.to_sdk()
        return self._resource

    @property
    def sampler(self) -> Sampler:
        if self._sampler is None:
            from opentelemetry.sdk.trace import sampling

            # The SDK's own choice for a provider given no sampler: OTEL_TRACES_SAMPLER,
            # else parentbased_always_on.
            self._sampler = sampling._get_from_env_or_default()
        return self._sampler

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: types.Attributes = None,
    ) -> trace.Tracer:
        return self.sdk().get_tracer(
            instrumenting_module_name, instrumenting_library_version, schema_url, attributes
        )

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        self._active_span_processor.add_span_processor(span_processor)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._active_span_processor.force_flush(timeout_millis)

    def shutdown(self) -> None:
        """Shut down the span processors, once; later calls do nothing."""
        with self._lock:
            handler, self._atexit = self._atexit, None
        if handler is None:
            return
        atexit.unregister(handler)
        self._active_span_processor.shutdown()

    def sdk(self) -> TracerProvider:
        """The SDK's TracerProvider over the same resource, sampler, ids and processors."""
        with self._lock:
            if self._sdk is None:
                from opentelemetry.sdk.trace import TracerProvider

                self._sdk = TracerProvider(
                    sampler=self.sampler,
                    resource=self.resource,
                    shutdown_on_exit=False,  # this provider's own handler shuts both down
                    # Duck-typed as the SDK's multi-processor (see SpanProcessors).
                    active_span_processor=self._active_span_processor,  # type: ignore[arg-type]
                    id_generator=self.id_generator,
                )
            return self._sdk
