"""What kind of event started an invocation (``faas.trigger``), and what it links to.

Values from the FaaS semantic conventions: ``http``, ``pubsub`` (queues, topics and
streams), ``datasource`` (changes in a database or storage), ``timer`` and ``other``
(https://opentelemetry.io/docs/specs/semconv/faas/faas-spans/). Message-driven events
carry one trace context per message; each becomes a span link, following "Messaging
spans: batch receiving" (https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["TRACE_HEADERS", "message_trace_headers", "trace_headers", "trigger_of"]

_RECORD_TRIGGERS = {
    "aws:sqs": "pubsub",
    "aws:sns": "pubsub",
    "aws:kinesis": "pubsub",
    "aws:s3": "datasource",
    "aws:dynamodb": "datasource",
}


def trigger_of(event: object) -> str:
    """The ``faas.trigger`` value for an event of any source."""
    if not isinstance(event, dict):
        return "other"
    if "httpMethod" in event or "routeKey" in event or "raw_path" in event:
        return "http"
    request_context = event.get("requestContext")
    if isinstance(request_context, dict) and (
        "elb" in request_context or "http" in request_context
    ):
        return "http"
    if event.get("version") == "2.0" and "method" in event:  # VPC Lattice v2
        return "http"
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        record = records[0]
        if isinstance(record.get("cf"), dict):
            return "http"
        source = record.get("eventSource") or record.get("EventSource")
        return _RECORD_TRIGGERS.get(str(source), "other")
    if event.get("detail-type") == "Scheduled Event" or event.get("source") == "aws.scheduler":
        return "timer"
    return "other"


def message_trace_headers(event: object) -> Iterator[tuple[str, str]]:
    """``(kind, header)`` for each message's trace context: ``"xray"`` or ``"w3c"``.

    SQS puts the X-Ray header in ``attributes.AWSTraceHeader``; producers that use W3C
    put ``traceparent`` in the message attributes (SQS: ``stringValue``; SNS: ``Value``).
    """
    if not isinstance(event, dict):
        return
    records = event.get("Records")
    if not isinstance(records, list):
        return
    for record in records:
        if not isinstance(record, dict):
            continue
        attributes = record.get("attributes")
        if isinstance(attributes, dict) and isinstance(attributes.get("AWSTraceHeader"), str):
            yield "xray", attributes["AWSTraceHeader"]
        message_attributes: Any = record.get("messageAttributes")
        if message_attributes is None and isinstance(record.get("Sns"), dict):
            message_attributes = record["Sns"].get("MessageAttributes")
        if isinstance(message_attributes, dict):
            traceparent = message_attributes.get("traceparent")
            if isinstance(traceparent, dict):
                value = traceparent.get("stringValue") or traceparent.get("Value")
                if isinstance(value, str):
                    yield "w3c", value


TRACE_HEADERS = frozenset({"traceparent", "tracestate", "x-amzn-trace-id"})
_TRACE_HEADER_LENGTHS = frozenset(len(name) for name in TRACE_HEADERS)


def trace_headers(event: object) -> dict[str, str]:
    """The trace context headers of an HTTP event, lower-cased, read before parsing.

    The root span must start before the event is parsed (parsing is its first child),
    so the few headers that carry a parent context are picked from the raw payload.
    """
    if not isinstance(event, dict):
        return {}
    found: dict[str, str] = {}
    for key in ("headers", "multiValueHeaders"):
        headers = event.get(key)
        if not isinstance(headers, dict):
            continue
        for name, value in headers.items():
            # By length first: most headers are ruled out without lower-casing them.
            if not isinstance(name, str) or len(name) not in _TRACE_HEADER_LENGTHS:
                continue
            lower = name.lower()
            if lower in TRACE_HEADERS:
                if isinstance(value, str):
                    found[lower] = value
                elif isinstance(value, list) and value and isinstance(value[0], str):
                    found[lower] = value[0]  # multi-value maps and VPC Lattice v2
    records = event.get("Records")
    if not found and isinstance(records, list) and records and isinstance(records[0], dict):
        cf = records[0].get("cf")
        request = cf.get("request") if isinstance(cf, dict) else None
        cf_headers = request.get("headers") if isinstance(request, dict) else None
        if isinstance(cf_headers, dict):
            for name in TRACE_HEADERS:
                entries = cf_headers.get(name)
                if isinstance(entries, list) and entries and isinstance(entries[0], dict):
                    value = entries[0].get("value")
                    if isinstance(value, str):
                        found[name] = value
    return found
