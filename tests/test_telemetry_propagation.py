"""Choosing the root span's parent and links from W3C headers, X-Ray headers and the env."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple

import pytest
from opentelemetry import baggage
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio
from opentelemetry.trace import Link, SpanContext, get_current_span

from traced_asgi_lambda.telemetry.propagation import (
    ACCEPTED_PROPAGATORS,
    LINK_SOURCE_ATTRIBUTE,
    Parent,
    Propagation,
    extract_parent,
    link_from_header,
    parse_propagators,
)

W3C_TRACE, W3C_SPAN = 0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331
W3C = f"00-{W3C_TRACE:032x}-{W3C_SPAN:016x}-01"
W3C_UNSAMPLED = f"00-{W3C_TRACE:032x}-{W3C_SPAN:016x}-00"

HDR_TRACE, HDR_SPAN = 0x5759E988BD862E3FE1BE46A994272793, 0x53995C3F42CD8AD8
HDR = f"Root=1-5759e988-bd862e3fe1be46a994272793;Parent={HDR_SPAN:016x}"

ENV_TRACE, ENV_SPAN = 0x6566A1B20123456789ABCDEF01234567, 0x1122334455667788
ENV = f"Root=1-6566a1b2-0123456789abcdef01234567;Parent={ENV_SPAN:016x}"

# An ALB's header: a trace, but no parent segment to continue.
ALB = "Self=1-67891234-12456789abcdef012345678a;Root=1-67891233-abcdef012345678912345678"


class Seen(NamedTuple):
    """What a Parent amounts to, in comparable form."""

    source: str | None
    parent: tuple[int, int, bool] | None  # trace id, span id, sampled
    links: list[tuple[str, int, int]]  # source, trace id, span id


def seen(parent: Parent) -> Seen:
    span_context = get_current_span(parent.context).get_span_context()
    chosen = None
    if span_context.is_valid:
        chosen = (span_context.trace_id, span_context.span_id, span_context.trace_flags.sampled)
    links = [
        (
            str((link.attributes or {})[LINK_SOURCE_ATTRIBUTE]),
            link.context.trace_id,
            link.context.span_id,
        )
        for link in parent.links
    ]
    return Seen(parent.source, chosen, links)


W3C_PARENT = (W3C_TRACE, W3C_SPAN, True)
W3C_LINK = ("w3c", W3C_TRACE, W3C_SPAN)
HDR_LINK = ("xray-header", HDR_TRACE, HDR_SPAN)
ENV_LINK = ("xray-env", ENV_TRACE, ENV_SPAN)

CASES = [
    pytest.param({}, None, None, Seen(None, None, []), id="nothing"),
    pytest.param({"traceparent": W3C}, None, None, Seen("w3c", W3C_PARENT, []), id="w3c-only"),
    pytest.param(
        {"traceparent": W3C_UNSAMPLED},
        None,
        None,
        Seen("w3c", (W3C_TRACE, W3C_SPAN, False), []),
        id="w3c-unsampled-honoured",
    ),
    pytest.param(
        {"x-amzn-trace-id": f"{HDR};Sampled=1"},
        None,
        None,
        Seen("xray-header", (HDR_TRACE, HDR_SPAN, True), []),
        id="xray-header-only",
    ),
    pytest.param(
        {"x-amzn-trace-id": f"{HDR};Sampled=0"},
        None,
        None,
        Seen("xray-header", (HDR_TRACE, HDR_SPAN, False), []),
        id="xray-header-sampled-0-honoured",
    ),
    pytest.param(
        {"x-amzn-trace-id": f"{HDR};Sampled=?"},
        None,
        None,
        Seen(None, None, [HDR_LINK]),
        id="xray-header-undecided-is-link",
    ),
    pytest.param(
        {"x-amzn-trace-id": HDR},
        None,
        None,
        Seen(None, None, [HDR_LINK]),
        id="xray-header-no-sampled-is-link",
    ),
    pytest.param(
        {},
        f"{ENV};Sampled=1",
        None,
        Seen("xray-env", (ENV_TRACE, ENV_SPAN, True), []),
        id="env-only",
    ),
    pytest.param(
        {},
        f"{ENV};Sampled=0;Lineage=a87bd80c:0",
        None,
        Seen(None, None, [ENV_LINK]),
        id="env-sampled-0",
    ),
    pytest.param({}, ENV, None, Seen(None, None, [ENV_LINK]), id="env-undecided"),
    pytest.param(
        {"traceparent": W3C},
        f"{ENV};Sampled=0",
        None,
        Seen("w3c", W3C_PARENT, [ENV_LINK]),
        id="w3c-with-env-sampled-0",
    ),
    pytest.param(
        {"traceparent": W3C},
        f"{ENV};Sampled=1",
        None,
        Seen("w3c", W3C_PARENT, [ENV_LINK]),
        id="w3c-with-env-sampled-1",
    ),
    pytest.param(
        {"traceparent": W3C, "x-amzn-trace-id": f"{HDR};Sampled=1"},
        None,
        None,
        Seen("w3c", W3C_PARENT, [HDR_LINK]),
        id="both-w3c-wins-header-linked",
    ),
    pytest.param(
        {"x-amzn-trace-id": f"{HDR};Sampled=1"},
        f"{ENV};Sampled=1",
        None,
        Seen("xray-header", (HDR_TRACE, HDR_SPAN, True), []),
        id="header-hides-env",
    ),
    pytest.param(
        {"x-amzn-trace-id": ALB},
        f"{ENV};Sampled=1",
        None,
        Seen("xray-env", (ENV_TRACE, ENV_SPAN, True), []),
        id="alb-header-without-parent-falls-to-env",
    ),
    pytest.param(
        {"traceparent": "00-garbage", "x-amzn-trace-id": f"{HDR};Sampled=1"},
        None,
        None,
        Seen("xray-header", (HDR_TRACE, HDR_SPAN, True), []),
        id="invalid-w3c-ignored",
    ),
    pytest.param(
        {"traceparent": W3C, "x-amzn-trace-id": "Root=1-nope"},
        "also bad",
        None,
        Seen("w3c", W3C_PARENT, []),
        id="invalid-xray-ignored",
    ),
    pytest.param(
        {
            "traceparent": f"00-{HDR_TRACE:032x}-{HDR_SPAN:016x}-01",
            "x-amzn-trace-id": f"{HDR};Sampled=1",
        },
        None,
        None,
        Seen("w3c", (HDR_TRACE, HDR_SPAN, True), []),
        id="same-span-twice-not-self-linked",
    ),
    pytest.param(
        {"traceparent": W3C, "x-amzn-trace-id": f"{HDR};Sampled=1"},
        None,
        "xray,tracecontext",
        Seen("xray-header", (HDR_TRACE, HDR_SPAN, True), [W3C_LINK]),
        id="propagators-xray-first",
    ),
    pytest.param(
        {"traceparent": W3C},
        f"{ENV};Sampled=1",
        "xray-lambda,tracecontext",
        Seen("xray-env", (ENV_TRACE, ENV_SPAN, True), [W3C_LINK]),
        id="propagators-xray-lambda-first",
    ),
    pytest.param(
        {"traceparent": W3C},
        f"{ENV};Sampled=0",
        "xray-lambda,tracecontext",
        Seen("w3c", W3C_PARENT, [ENV_LINK]),
        id="propagators-xray-lambda-first-env-sampled-0",
    ),
    pytest.param(
        {"traceparent": W3C, "x-amzn-trace-id": f"{HDR};Sampled=1"},
        None,
        "tracecontext,xray",
        Seen("w3c", W3C_PARENT, [HDR_LINK]),
        id="propagators-tracecontext-first",
    ),
    pytest.param(
        {},
        f"{ENV};Sampled=1",
        "tracecontext,xray",
        Seen(None, None, []),
        id="propagators-xray-ignores-env",
    ),
    pytest.param(
        {"x-amzn-trace-id": f"{HDR};Sampled=1"},
        f"{ENV};Sampled=1",
        "tracecontext,baggage",
        Seen(None, None, []),
        id="propagators-without-xray",
    ),
    pytest.param(
        {"traceparent": W3C},
        None,
        "xray-lambda",
        Seen(None, None, []),
        id="propagators-without-tracecontext",
    ),
    pytest.param(
        {"traceparent": W3C, "x-amzn-trace-id": f"{HDR};Sampled=1"},
        f"{ENV};Sampled=1",
        "none",
        Seen(None, None, []),
        id="propagators-none",
    ),
    pytest.param(
        {"traceparent": W3C},
        None,
        "tracecontext, None",
        Seen(None, None, []),
        id="propagators-none-anywhere-any-case",
    ),
    pytest.param(
        {"traceparent": W3C, "x-amzn-trace-id": f"{HDR};Sampled=1"},
        None,
        " XRay , TraceContext ,",
        Seen("xray-header", (HDR_TRACE, HDR_SPAN, True), [W3C_LINK]),
        id="propagators-spaces-case-trailing-comma",
    ),
    pytest.param(
        {"x-amzn-trace-id": f"{HDR};Sampled=1"},
        None,
        "b3,xray",
        Seen("xray-header", (HDR_TRACE, HDR_SPAN, True), []),
        id="propagators-b3-accepted-not-read",
    ),
    pytest.param(
        {"traceparent": W3C, "x-amzn-trace-id": f"{HDR};Sampled=1"},
        None,
        "",
        Seen("w3c", W3C_PARENT, [HDR_LINK]),
        id="propagators-empty-means-default",
    ),
]


@pytest.mark.parametrize(("headers", "env", "propagators", "expected"), CASES)
def test_extract_parent(
    headers: Mapping[str, str], env: str | None, propagators: str | None, expected: Seen
) -> None:
    """The parent, its source and the links follow the precedence rules."""
    assert seen(extract_parent(headers, env, propagators)) == expected


def test_w3c_tracestate_is_kept() -> None:
    """The W3C parent keeps its tracestate, parsed by the OTel propagator."""
    parent = extract_parent({"traceparent": W3C, "tracestate": "vendor=value"}, None, None)
    assert get_current_span(parent.context).get_span_context().trace_state.get("vendor") == "value"


@pytest.mark.parametrize(
    ("propagators", "expected"),
    [
        pytest.param(None, "v", id="default"),
        pytest.param("tracecontext,baggage", "v", id="listed"),
        pytest.param("tracecontext,xray", None, id="not-listed"),
    ],
)
def test_baggage_follows_propagators(propagators: str | None, expected: str | None) -> None:
    """W3C baggage lands in the context when ``baggage`` propagation is on."""
    parent = extract_parent({"traceparent": W3C, "baggage": "k=v"}, None, propagators)
    assert baggage.get_baggage("k", parent.context) == expected
    assert parent.source == "w3c"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, Propagation(("w3c", "xray"), True, True), id="unset"),
        pytest.param("", Propagation(("w3c", "xray"), True, True), id="empty"),
        pytest.param("tracecontext", Propagation(("w3c",), False, False), id="w3c-only"),
        pytest.param("xray,tracecontext", Propagation(("xray", "w3c"), False, False), id="xray"),
        pytest.param(
            "baggage,xray-lambda,xray,tracecontext",
            Propagation(("xray", "w3c"), True, True),
            id="xray-twice",
        ),
        pytest.param("none", Propagation((), False, False), id="none"),
        pytest.param("jaeger,ottrace,b3multi", Propagation((), False, False), id="unread"),
    ],
)
def test_parse_propagators(value: str | None, expected: Propagation) -> None:
    """OTEL_PROPAGATORS becomes the contexts to read, best first."""
    assert parse_propagators(value) == expected


@pytest.mark.parametrize(
    ("value", "bad"),
    [
        pytest.param("tracecontext,bogus", "'bogus'", id="unknown"),
        pytest.param("xray_lambda", "'xray_lambda'", id="misspelt"),
        pytest.param("tracecontext;xray", "'tracecontext;xray'", id="wrong-separator"),
    ],
)
def test_unknown_propagator_is_an_error(value: str, bad: str) -> None:
    """An unknown name raises ValueError naming the value, the name and the accepted ones."""
    with pytest.raises(ValueError, match="Expected OTEL_PROPAGATORS") as caught:
        extract_parent({}, None, value)
    message = str(caught.value)
    assert repr(value) in message
    assert bad in message
    for name in ACCEPTED_PROPAGATORS:
        assert name in message


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    # The SDK's default sampler, ParentBased(ALWAYS_ON), is the one env Sampled=0 would
    # defeat; a ratio of 1.0 is the same sampler with an explicit root decision.
    provider = TracerProvider(sampler=ParentBasedTraceIdRatio(1.0), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def start_root(provider: TracerProvider, parent: Parent) -> None:
    provider.get_tracer("test").start_span("root", context=parent.context, links=parent.links).end()


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = exporter.get_finished_spans()
    return span


def test_env_sampled_0_still_records_spans(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    """With active tracing off (env Sampled=0) a ParentBased sampler records a new trace."""
    provider, exporter = spans
    start_root(provider, extract_parent({}, f"{ENV};Sampled=0", None))
    span = only_span(exporter)
    assert span.parent is None
    assert span.context is not None
    assert span.context.trace_id != ENV_TRACE
    assert [(link.context.span_id, dict(link.attributes or {})) for link in span.links] == [
        (ENV_SPAN, {LINK_SOURCE_ATTRIBUTE: "xray-env"})
    ]


def test_header_sampled_0_drops_spans(spans: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    """A client's X-Ray header with Sampled=0 is obeyed: nothing is recorded."""
    provider, exporter = spans
    start_root(provider, extract_parent({"x-amzn-trace-id": f"{HDR};Sampled=0"}, None, None))
    assert exporter.get_finished_spans() == ()


def test_w3c_parent_continues_the_trace_and_links_xray(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    """The root span joins the W3C trace and links the X-Ray context it did not choose."""
    provider, exporter = spans
    headers = {"traceparent": W3C, "x-amzn-trace-id": f"{HDR};Sampled=1"}
    start_root(provider, extract_parent(headers, None, None))
    span = only_span(exporter)
    assert span.parent is not None
    assert (span.parent.trace_id, span.parent.span_id, span.parent.is_remote) == (
        W3C_TRACE,
        W3C_SPAN,
        True,
    )
    assert span.context is not None
    assert span.context.trace_id == W3C_TRACE
    assert [link.context.span_id for link in span.links] == [HDR_SPAN]


def link_ids(link: Link | None) -> tuple[int, int, str] | None:
    if link is None:
        return None
    context: SpanContext = link.context
    return context.trace_id, context.span_id, str((link.attributes or {})[LINK_SOURCE_ATTRIBUTE])


@pytest.mark.parametrize(
    ("kind", "header", "expected"),
    [
        pytest.param("w3c", W3C, (W3C_TRACE, W3C_SPAN, "w3c"), id="w3c"),
        pytest.param("w3c", W3C_UNSAMPLED, (W3C_TRACE, W3C_SPAN, "w3c"), id="w3c-unsampled"),
        pytest.param(
            "xray", f"{HDR};Sampled=0", (HDR_TRACE, HDR_SPAN, "xray-header"), id="xray-sampled-0"
        ),
        pytest.param("xray", HDR, (HDR_TRACE, HDR_SPAN, "xray-header"), id="xray-undecided"),
        pytest.param("xray", ALB, None, id="xray-without-parent"),
        pytest.param("xray", "nonsense", None, id="xray-invalid"),
        pytest.param("w3c", "00-nonsense", None, id="w3c-invalid"),
    ],
)
def test_link_from_message_header(
    kind: str, header: str, expected: tuple[int, int, str] | None
) -> None:
    """A message's trace header becomes a link whatever its sampling, or None if invalid."""
    assert link_ids(link_from_header(kind, header)) == expected


def test_link_from_unknown_kind_is_an_error() -> None:
    """An unknown header kind is a programming error and says what was expected."""
    with pytest.raises(ValueError, match="Expected a trace header kind of 'w3c' or 'xray'"):
        link_from_header("b3", "x")
