"""The span sinks: OTLP-encode each batch, count it, drop it.

Encoding is the part of an export that runs in the function; sending is the network's,
and would only add noise. Each stack encodes the way its production exporter would, into
the bytes an OTLP/HTTP exporter POSTs (uncompressed, both exporters' default):

- the OpenTelemetry stacks: ``DropSink`` with the stock encoder of
  ``opentelemetry-exporter-otlp-proto-common`` (what ``OTLPSpanExporter`` runs), called
  by the ``BatchSpanProcessor`` on its worker thread;
- our stacks: ``InlineDropSink`` with the library's own encoder
  (``traced_asgi_lambda.telemetry.otlp_encode``, what ``OtlpHttpSpanExporter`` runs). Like
  that exporter it has ``export_within``, so ``InvocationSpanProcessor`` calls it on the
  flushing thread, as it calls the real one. A library without its own encoder gets
  ``DropSink`` with the stock encoder (see ``bench.stacks.ours_sink``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    _ExporterBase = SpanExporter
else:
    # As the library's exporter (telemetry/otlp_http.py): the SDK's exporter interface
    # without its class, so a cold start that exports in-line does not import the SDK.
    _ExporterBase = object

__all__ = ["DropSink", "Encoder", "InlineDropSink", "library_encoder", "stock_encoder"]

Encoder = Callable[[Sequence["ReadableSpan"]], bytes]


def stock_encoder() -> Encoder:
    """OpenTelemetry's own OTLP encoder: build the protobuf messages, then serialise."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    def encode(spans: Sequence[ReadableSpan]) -> bytes:
        data: bytes = encode_spans(spans).SerializeToString()
        return data

    return encode


class DropSink(_ExporterBase):
    """Encodes each batch as OTLP/protobuf, counts it, and throws it away."""

    def __init__(self, encode: Encoder | None = None) -> None:
        self.encode = encode or stock_encoder()
        self.spans = 0
        self.batches = 0
        self.bytes = 0
        self.busy_ns = 0  # time spent encoding, on whichever thread exported
        self.keep_last = False
        self.last: Sequence[ReadableSpan] = ()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        from opentelemetry.sdk.trace.export import SpanExportResult  # the SDK's caller loaded it

        self.drop(spans)
        return SpanExportResult.SUCCESS

    def drop(self, spans: Sequence[ReadableSpan]) -> None:
        """Encode ``spans``, count them, and let them go."""
        started = time.perf_counter_ns()
        data = self.encode(spans)
        self.busy_ns += time.perf_counter_ns() - started
        self.spans += len(spans)
        self.batches += 1
        self.bytes += len(data)
        if self.keep_last:
            self.last = spans

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


class InlineDropSink(DropSink):
    """A ``DropSink`` with the library exporter's ``export_within``: exported in-line.

    Like that exporter it also takes the adapter's spans as SpanData
    (``accepts_span_data``), which its encoder writes as it writes ``ReadableSpan``s.
    """

    accepts_span_data = True

    def export_within(self, spans: Sequence[ReadableSpan], seconds: float) -> bool:
        self.drop(spans)
        return True


def library_encoder() -> Encoder | None:
    """The library's own OTLP encoder, with the cache its exporter keeps; or None."""
    try:
        from traced_asgi_lambda.telemetry.otlp_encode import EncodeCache, encode_spans
    except ImportError:
        return None
    cache = EncodeCache()

    def encode(spans: Sequence[ReadableSpan]) -> bytes:
        return encode_spans(spans, cache)

    return encode
