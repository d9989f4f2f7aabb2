"""The rotel collector fixture, end to end with the real OTel SDK and its OTLP/HTTP exporter."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from tests.collector import (
    Collector,
    CollectorError,
    collector_fixture,  # noqa: F401
    refused_endpoint,
)

ATTRIBUTES: dict[str, AttributeValue] = {
    "s": "text",
    "i": 2**40,
    "f": 2.5,
    "b": True,
    "l": ["a", "b"],
}


def _connect(endpoint: str) -> None:
    url = urlsplit(endpoint)
    assert url.hostname is not None
    assert url.port is not None
    socket.create_connection((url.hostname, url.port), timeout=2).close()


def test_sdk_spans_round_trip(collector: Collector) -> None:
    """Spans from the SDK's OTLP/HTTP exporter come back with names, links, kinds and attributes."""
    provider = TracerProvider(resource=Resource.create({"service.name": "collector-test"}))
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=collector.endpoint + "/v1/traces"))
    )
    tracer = provider.get_tracer("tests.test_collector")
    try:
        with (
            tracer.start_as_current_span(
                "parent", kind=SpanKind.SERVER, attributes=ATTRIBUTES
            ) as parent,
            tracer.start_as_current_span("child", kind=SpanKind.CLIENT) as child,
        ):
            child.set_attribute("http.response.status_code", 503)
            child.add_event("retry", {"attempt": 1})
            child.set_status(Status(StatusCode.ERROR, "upstream down"))
        assert provider.force_flush()
    finally:
        provider.shutdown()

    spans = collector.wait_for_spans(2, timeout=5)
    assert sorted(s["name"] for s in spans) == ["child", "parent"]
    got_parent, got_child = collector.span("parent"), collector.span("child")

    parent_context, child_context = parent.get_span_context(), child.get_span_context()
    assert got_parent["trace_id"] == f"{parent_context.trace_id:032x}"
    assert got_parent["span_id"] == f"{parent_context.span_id:016x}"
    assert got_parent["parent_span_id"] is None
    assert got_child["trace_id"] == got_parent["trace_id"]
    assert got_child["span_id"] == f"{child_context.span_id:016x}"
    assert got_child["parent_span_id"] == got_parent["span_id"]

    assert got_parent["kind"] == SpanKind.SERVER.name
    assert got_child["kind"] == SpanKind.CLIENT.name
    assert got_parent["status_code"] == StatusCode.UNSET.name
    assert (got_child["status_code"], got_child["status_message"]) == ("ERROR", "upstream down")

    assert got_parent["attributes"] == ATTRIBUTES
    # == alone would take True for 1 and 2.0 for 2: the OTLP types must survive too.
    assert {k: type(v) for k, v in got_parent["attributes"].items()} == {
        k: type(v) for k, v in ATTRIBUTES.items()
    }
    assert got_child["attributes"] == {"http.response.status_code": 503}
    assert [(e["name"], e["attributes"]) for e in got_child["events"]] == [
        ("retry", {"attempt": 1})
    ]

    for span in spans:
        assert span["resource"]["service.name"] == "collector-test"
        assert span["resource"]["telemetry.sdk.language"] == "python"
        assert span["scope"] == "tests.test_collector"
        assert span["start_time_unix_nano"] <= span["end_time_unix_nano"]


def test_wait_for_spans_times_out_when_nothing_arrives(collector: Collector) -> None:
    """wait_for_spans fails within its timeout when fewer spans than asked for arrive."""
    started = time.monotonic()
    with pytest.raises(AssertionError, match="timed out waiting for spans; got 0"):
        collector.wait_for_spans(1, timeout=0.3)
    assert time.monotonic() - started < 2
    assert collector.spans() == []


def test_stop_ends_rotel_and_frees_its_port() -> None:
    """After the collector stops, its OTLP endpoint refuses connections and reading back fails."""
    with Collector() as running:
        endpoint = running.endpoint
        _connect(endpoint)
    with pytest.raises(ConnectionRefusedError):
        _connect(endpoint)
    with pytest.raises(CollectorError, match="not running"):
        running.spans()
    running.stop()  # a second stop is harmless


def test_refused_endpoint_refuses_quickly() -> None:
    """Nothing listens on refused_endpoint(), so a connection to it is refused at once."""
    endpoint = refused_endpoint()
    assert endpoint.startswith("http://127.0.0.1:")
    started = time.monotonic()
    with pytest.raises(ConnectionRefusedError):
        _connect(endpoint)
    assert time.monotonic() - started < 0.5
