"""Spans to an OTLP ``ExportTraceServiceRequest``, written as protobuf bytes by hand.

The stock encoder (``opentelemetry.exporter.otlp.proto.common.trace_encoder``) builds one
protobuf object per span, event, link, attribute and value, then serialises them: about
110 us for the four spans of a warm invocation, more than the whole adapter. This module
writes the same wire format straight into ``bytearray``s and imports no protobuf runtime.

The output parses to a message equal to the stock encoder's (tests/test_telemetry_otlp.py
asserts this), including its choices: spans grouped by resource, then by instrumentation
scope; ``flags`` carrying only the has-is-remote / is-remote bits (no W3C trace flags);
no ``trace_state`` on links; an attribute whose value cannot be encoded is left out.

Field numbers and types are those of opentelemetry-proto (v1.x):
collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto and
resource/v1/resource.proto. Each constant below is a whole tag, ``field << 3 | wire_type``
(https://protobuf.dev/programming-guides/encoding/#structure), with wire type 0 for
varints, 1 for fixed64, 2 for length-delimited fields and 5 for fixed32.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.trace.span import DEFAULT_TRACE_STATE

from traced_asgi_lambda.telemetry.span_data import UNSET_STATUS, SpanData, SpanEvent

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    from traced_asgi_lambda.telemetry.resource import LambdaResource

__all__ = ["EncodeCache", "encode_spans"]

# ExportTraceServiceRequest.resource_spans = 1; ResourceSpans.resource = 1, .scope_spans = 2;
# ScopeSpans.scope = 1, .spans = 2; both .schema_url = 3. KeyValue.key = 1, .value = 2;
# ArrayValue.values = 1; KeyValueList.values = 1. All length-delimited (LEN).
_FIRST, _SECOND, _SCHEMA_URL = 0x0A, 0x12, 0x1A
# Span: trace_state = 3, parent_span_id = 4, name = 5, attributes = 9, events = 11, links = 13,
# status = 15 (LEN); kind = 6 (enum); start/end_time_unix_nano = 7/8 (fixed64);
# dropped_{attributes,events,links}_count = 10/12/14 (uint32); flags = 16 (fixed32).
_SPAN_TRACE_STATE, _SPAN_PARENT, _SPAN_NAME, _SPAN_KIND = 0x1A, b"\x22\x08", 0x2A, 0x30
_SPAN_ATTRIBUTES, _SPAN_EVENT, _SPAN_LINK, _SPAN_STATUS = 0x4A, 0x5A, 0x6A, 0x7A
_SPAN_DROPPED_ATTRIBUTES, _SPAN_DROPPED_EVENTS, _SPAN_DROPPED_LINKS = 0x50, 0x60, 0x70
# Span.Event: time_unix_nano = 1 (fixed64), name = 2, attributes = 3, dropped = 4 (uint32).
# Span.Link: trace_id = 1, span_id = 2, attributes = 4, dropped = 5, flags = 6 (fixed32).
# InstrumentationScope: name = 1, version = 2, attributes = 3. Resource: attributes = 1.
# Status: message = 2 (LEN), code = 3 (enum, tag 0x18).
_EVENT_TIME, _EVENT_ATTRIBUTES, _EVENT_DROPPED = 0x09, 0x1A, 0x20
_LINK_ATTRIBUTES, _LINK_DROPPED, _SCOPE_ATTRIBUTES = 0x22, 0x28, 0x1A
# AnyValue is a oneof: string_value = 1, bool_value = 2, int_value = 3 (int64),
# double_value = 4, array_value = 5, kvlist_value = 6, bytes_value = 7. A set member is
# written even when it holds its default (0, False, ""), so the reader knows which it is.
_BOOL_FALSE, _BOOL_TRUE = b"\x10\x00", b"\x10\x01"
_INT, _ARRAY, _KVLIST, _BYTES = 0x18, 0x2A, 0x32, 0x3A
# A KeyValue{key, value: AnyValue} under a tag when every length fits one byte (< 128): the
# common case, written by one %-format, one C call, instead of a dozen appends and calls.
_PAIR = b"%c%c\x0a%c%s\x12%c%s"  # tag, size, key length, key, value length, value
_STRING_PAIR = b"%c%c\x0a%c%s\x12%c\x0a%c%s"  # ... value length, string length, string
# SpanFlags: CONTEXT_HAS_IS_REMOTE = 0x100, CONTEXT_IS_REMOTE = 0x200, set as the stock
# encoder sets them: "has" always, "is" when the parent (or linked) context is remote.
# Span.flags (16: a two-byte tag) and Link.flags (6) are fixed32, little-endian.
_SPAN_FLAGS_LOCAL, _SPAN_FLAGS_REMOTE = b"\x85\x01\x00\x01\x00\x00", b"\x85\x01\x00\x03\x00\x00"
_LINK_FLAGS_LOCAL, _LINK_FLAGS_REMOTE = b"\x35\x00\x01\x00\x00", b"\x35\x00\x03\x00\x00"
# Ids are bytes fields holding the big-endian id (16 and 8 bytes, as the stock
# _encode_trace_id/_span_id): one struct call writes both tags, lengths and ids.
_IDS = struct.Struct(">BBQQBBQ")
_FIXED64 = struct.Struct("<BQ")  # a tag, then fixed64: little-endian
_DOUBLE = struct.Struct("<Bd")
_U64 = (1 << 64) - 1
_NOTHING = object()  # no span's resource or scope
_INT64_MIN = -(1 << 63)
_INT64_END = 1 << 63


class EncodeCache:
    """What an exporter keeps between batches, so unchanged parts are encoded once.

    - ``resources``: each resource's encoded attributes. A function's resource is the same
      object on every flush, and re-encoding its dozen attributes was a fifth of the cost.
    - ``scopes``: each instrumentation scope's encoded fields, likewise.
    - ``pairs``: encoded ``KeyValue`` fields of string, int and bool attributes. Most of an
      invocation's attributes repeat from call to call (method, route, scheme, host, user
      agent, ARNs, status, the stage names), and a dict lookup is cheaper than encoding
      them again. Bounded: emptied when it reaches ``max_pairs``, so per-request values
      (the request id, client addresses) cannot grow it without limit.

    Objects are held with their id, so an id is never reused while cached. Not thread-safe
    by itself: an exporter encodes one batch at a time.
    """

    __slots__ = ("max_pairs", "pairs", "resources", "scopes")

    def __init__(self, max_pairs: int = 1024) -> None:
        self.max_pairs = max_pairs
        self.resources: dict[int, tuple[Resource | LambdaResource, bytes]] = {}
        self.scopes: dict[int, tuple[InstrumentationScope | None, bytes]] = {}
        self.pairs: dict[tuple[Any, ...], bytes] = {}


def encode_spans(
    spans: Sequence[ReadableSpan | SpanData], cache: EncodeCache | None = None
) -> bytes:
    """A serialized ``ExportTraceServiceRequest`` holding ``spans`` (SDK spans or SpanData).

    Spans are grouped as the stock encoder groups them: by equal resource, then by equal
    instrumentation scope, each group in order of first appearance. ``cache``, owned by the
    caller (an exporter), keeps what repeats from batch to batch; see :class:`EncodeCache`.
    """
    pairs = None if cache is None else cache.pairs
    if pairs is not None and len(pairs) >= cache.max_pairs:  # type: ignore[union-attr]
        pairs.clear()
    resources: list[
        tuple[Resource | LambdaResource, dict[InstrumentationScope | None, bytearray]]
    ] = []
    # Resource.__hash__ serialises every attribute as JSON, so resources are matched by
    # identity first; a resource object new to this batch is matched as a dict key would be.
    by_identity: dict[int, dict[InstrumentationScope | None, bytearray]] = {}
    # The spans of a batch come in runs that share one resource and one scope object (the
    # adapter's always do): the groups are looked up only when a span starts a new run.
    # InstrumentationScope.__hash__ builds a tuple on every call, so this saves it too.
    last_resource: object = _NOTHING
    last_scope: object = _NOTHING
    out = bytearray()
    for span in spans:
        fields = span if isinstance(span, SpanData) else SpanData.of(span)
        resource, scope = fields.resource, fields.scope
        if resource is not last_resource or scope is not last_scope:
            last_resource, last_scope = resource, scope
            scopes = by_identity.get(id(resource))
            if scopes is None:
                scopes = next(
                    (s for r, s in resources if r == resource and hash(r) == hash(resource)),
                    None,
                )
                if scopes is None:
                    scopes = {}
                    resources.append((resource, scopes))
                by_identity[id(resource)] = scopes  # the resource lives in spans: ids hold
            found = scopes.get(scope)
            if found is None:
                found = scopes[scope] = bytearray()
            out = found
        body = _span(fields, pairs)
        size = len(body)
        if size < 0x4000:  # a two-byte varint at most: spans are a few hundred bytes
            out += (
                b"\x12%c" % size if size < 0x80 else b"\x12%c%c" % (size & 0x7F | 0x80, size >> 7)
            )
        else:
            out.append(_SECOND)
            _put_varint(out, size)
        out += body

    request = bytearray()
    for resource, scopes in resources:
        cached = cache.resources.get(id(resource)) if cache is not None else None
        if cached is not None and cached[0] is resource:
            resource_body = cached[1]
        else:
            encoded = bytearray()
            _put_attributes(encoded, _FIRST, resource.attributes, None)
            resource_body = bytes(encoded)
            if cache is not None:
                cache.resources[id(resource)] = (resource, resource_body)
        resource_spans = bytearray()
        _put_bytes(resource_spans, _FIRST, resource_body)  # always present, even when empty
        for scope, span_fields in scopes.items():
            scope_spans = bytearray()
            cached_scope = cache.scopes.get(id(scope)) if cache is not None else None
            if cached_scope is not None and cached_scope[0] is scope:
                scope_body = cached_scope[1]
            else:
                scope_body = bytes(_scope(scope))
                if cache is not None:
                    cache.scopes[id(scope)] = (scope, scope_body)
            _put_bytes(scope_spans, _FIRST, scope_body)
            scope_spans += span_fields
            if scope is not None and scope.schema_url:
                _put_bytes(scope_spans, _SCHEMA_URL, scope.schema_url.encode())
            _put_bytes(resource_spans, _SECOND, scope_spans)
        if resource.schema_url:
            _put_bytes(resource_spans, _SCHEMA_URL, resource.schema_url.encode())
        _put_bytes(request, _FIRST, resource_spans)
    return bytes(request)


def _span(span: SpanData, pairs: dict[tuple[Any, ...], bytes] | None) -> bytearray:
    """The fields of one ``Span`` message, in field-number order (flags, 16, last)."""
    trace_id = span.trace_id
    out = bytearray(_IDS.pack(0x0A, 16, trace_id >> 64, trace_id & _U64, 0x12, 8, span.span_id))
    trace_state = span.trace_state
    # The shared empty state is known by identity: truth-testing any other calls __len__.
    if trace_state is not DEFAULT_TRACE_STATE and trace_state:  # as _encode_trace_state
        text = ",".join([f"{key}={value}" for key, value in trace_state.items()])
        _put_bytes(out, _SPAN_TRACE_STATE, text.encode())
    parent_id = span.parent_id
    if parent_id is not None:
        out += _SPAN_PARENT
        out += parent_id.to_bytes(8, "big")
    name = span.name
    if name:
        # Names repeat like attribute values do; a 2-tuple key cannot meet an attribute's.
        field = pairs.get((_SPAN_NAME, name)) if pairs is not None else None
        if field is None:
            encoded = bytearray()
            _put_bytes(encoded, _SPAN_NAME, name.encode())
            field = bytes(encoded)
            if pairs is not None:
                pairs[(_SPAN_NAME, name)] = field
        out += field
    # SpanKind.INTERNAL..CONSUMER are 0..4 in the SDK and SPAN_KIND_INTERNAL..CONSUMER 1..5.
    # (``_value_`` is the member's value, as ``value`` returns it, without the descriptor.)
    out.append(_SPAN_KIND)
    out.append(span.kind._value_ + 1)
    if start := span.start_time:
        out += _FIXED64.pack(0x39, start)
    if end := span.end_time:
        out += _FIXED64.pack(0x41, end)
    _put_attributes(out, _SPAN_ATTRIBUTES, span.attributes, pairs)
    if dropped := span.dropped_attributes:
        out.append(_SPAN_DROPPED_ATTRIBUTES)
        _put_varint(out, dropped)
    for event in span.events:
        _put_bytes(out, _SPAN_EVENT, _event(event))
    if dropped := span.dropped_events:
        out.append(_SPAN_DROPPED_EVENTS)
        _put_varint(out, dropped)
    for link in span.links:
        linked = link.context
        trace_id = linked.trace_id
        body = bytearray(
            _IDS.pack(0x0A, 16, trace_id >> 64, trace_id & _U64, 0x12, 8, linked.span_id)
        )
        _put_attributes(body, _LINK_ATTRIBUTES, link.attributes, None)
        if link.dropped_attributes:
            body.append(_LINK_DROPPED)
            _put_varint(body, link.dropped_attributes)
        body += _LINK_FLAGS_REMOTE if linked.is_remote else _LINK_FLAGS_LOCAL
        _put_bytes(out, _SPAN_LINK, body)
    if dropped := span.dropped_links:
        out.append(_SPAN_DROPPED_LINKS)
        _put_varint(out, dropped)
    status = span.status
    if status is UNSET_STATUS:  # the adapter's spans' shared one: no property reads
        out += b"\x7a\x00"
    elif status is not None:  # the stock encoder always sets it: present even if empty
        code, description = status.status_code.value, status.description
        if description:
            body = bytearray()
            _put_bytes(body, _SECOND, description.encode())
            if code:
                body += b"\x18%c" % code
            _put_bytes(out, _SPAN_STATUS, body)
        else:
            out += b"\x7a\x02\x18%c" % code if code else b"\x7a\x00"
    out += _SPAN_FLAGS_REMOTE if span.parent_remote else _SPAN_FLAGS_LOCAL
    return out


def _event(event: Event | SpanEvent) -> bytearray:
    """The fields of one ``Span.Event``."""
    timestamp, name = event.timestamp, event.name
    out = bytearray(_FIXED64.pack(_EVENT_TIME, timestamp)) if timestamp else bytearray()
    if name:
        _put_bytes(out, _SECOND, name.encode())
    _put_attributes(out, _EVENT_ATTRIBUTES, event.attributes, None)
    if dropped := event.dropped_attributes:
        out.append(_EVENT_DROPPED)
        _put_varint(out, dropped)
    return out


def _scope(scope: InstrumentationScope | None) -> bytearray:
    """The fields of an ``InstrumentationScope``; empty for spans without one."""
    out = bytearray()
    if scope is not None:
        if scope.name:
            _put_bytes(out, _FIRST, scope.name.encode())
        if scope.version:
            _put_bytes(out, _SECOND, scope.version.encode())
        _put_attributes(out, _SCOPE_ATTRIBUTES, scope.attributes, None)
    return out


def _put_attributes(
    out: bytearray,
    tag: int,
    attributes: Mapping[str, Any] | None,
    pairs: dict[tuple[Any, ...], bytes] | None,
) -> None:
    """Each pair as a ``KeyValue`` under ``tag``; a value that cannot be encoded is skipped.

    ``pairs`` (an :class:`EncodeCache`'s) maps (tag, key, value) of str values, and
    (tag, key, type, value) of int and bool values (1 == True, so the type is part of the
    key), to the encoded field.
    """
    if not attributes:
        return
    for key, value in attributes.items():
        if pairs is not None:
            kind = type(value)
            if kind is str:
                cache_key: tuple[Any, ...] = (tag, key, value)
            elif kind is int or kind is bool:
                cache_key = (tag, key, kind, value)
            else:
                cache_key = ()
            if cache_key:
                cached = pairs.get(cache_key)
                if cached is None:
                    start = len(out)
                    _put_attributes(out, tag, {key: value}, None)
                    pairs[cache_key] = bytes(out[start:])
                else:
                    out += cached
                continue
        try:
            key_bytes = key.encode()
            if type(value) is str:
                text = value.encode()
                kl, tl = len(key_bytes), len(text)
                if kl + tl < 0x7A:  # so that the pair's size, kl + tl + 6, is < 128
                    out += _STRING_PAIR % (tag, kl + tl + 6, kl, key_bytes, tl + 2, tl, text)
                    continue
            value_bytes = _any_value(value)
        except Exception as error:  # as the stock _encode_attributes: drop the pair, go on
            logging.getLogger(__name__).warning(
                "left out attribute %r: %s: %s", key, type(error).__name__, error
            )
            continue
        kl, vl = len(key_bytes), len(value_bytes)
        if kl + vl < 0x7C:
            out += _PAIR % (tag, kl + vl + 4, kl, key_bytes, vl, value_bytes)
        else:
            pair = bytearray()
            _put_bytes(pair, _FIRST, key_bytes)
            _put_bytes(pair, _SECOND, value_bytes)
            _put_bytes(out, tag, pair)


def _any_value(value: object) -> bytes:
    """The fields of the ``AnyValue`` for ``value``, following the stock ``_encode_value``.

    Raises for what protobuf would refuse: an int outside int64, a str that is not valid
    UTF-8 (lone surrogates), a type with no AnyValue member.
    """
    if value is None:
        return b""
    if isinstance(value, bool):
        return _BOOL_TRUE if value else _BOOL_FALSE
    if type(value) is int and 0 <= value < 0x80:  # counts, ports, status codes: one byte
        return b"\x18%c" % value
    out = bytearray()
    if isinstance(value, str):
        _put_bytes(out, _FIRST, value.encode())
    elif isinstance(value, int):
        if not _INT64_MIN <= value < _INT64_END:
            raise ValueError(f"Expected an int64 value, but got {value}")
        out.append(_INT)
        _put_varint(out, value & _U64)  # negative: two's complement, always ten bytes
    elif isinstance(value, float):
        return _DOUBLE.pack(0x21, value)
    elif isinstance(value, bytes):
        _put_bytes(out, _BYTES, value)
    elif isinstance(value, Sequence):
        items = bytearray()
        for item in value:
            _put_bytes(items, _FIRST, _any_value(item))  # None: an empty AnyValue, "0a 00"
        _put_bytes(out, _ARRAY, items)
    elif isinstance(value, Mapping):
        pairs = bytearray()
        for key, item in value.items():
            pair = bytearray()
            _put_bytes(pair, _FIRST, str(key).encode())
            _put_bytes(pair, _SECOND, _any_value(item))
            _put_bytes(pairs, _FIRST, pair)
        _put_bytes(out, _KVLIST, pairs)
    else:
        raise TypeError(f"Expected an OTLP AnyValue type, but got {type(value).__name__}")
    return bytes(out)


def _put_bytes(out: bytearray, tag: int, data: bytes | bytearray) -> None:
    """A length-delimited field: tag, varint length, the bytes."""
    length = len(data)
    out.append(tag)
    if length < 0x80:
        out.append(length)
    else:
        _put_varint(out, length)
    out += data


def _put_varint(out: bytearray, value: int) -> None:
    """Base-128 varint, low group first; ``value`` must be non-negative (mask int64 first)."""
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
