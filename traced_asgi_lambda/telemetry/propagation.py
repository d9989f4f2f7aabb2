"""The parent of an invocation's root span, chosen from the W3C and X-Ray trace contexts.

An HTTP invocation can arrive with up to three trace contexts: W3C ``traceparent`` sent
by an instrumented client, the X-Ray ``X-Amzn-Trace-Id`` header added by a client or an
AWS service, and Lambda's own ``_X_AMZN_TRACE_ID`` environment variable. One becomes the
parent; the others become span links, so no trace loses the way to this one
(OTel Lambda conventions, "AWS X-Ray Active Tracing Considerations":
https://opentelemetry.io/docs/specs/semconv/faas/aws-lambda/#aws-x-ray-active-tracing-considerations).

The rules, in order:

1. ``OTEL_PROPAGATORS`` (the caller passes its value) chooses which contexts are read and
   which wins. The first of ``tracecontext`` and ``xray``/``xray-lambda`` that it lists
   wins; unset, it means ``tracecontext,baggage,xray-lambda``, so W3C is preferred.
   This is the reverse of OTel's CompositePropagator, in which a later propagator
   overwrites an earlier one: ``tracecontext,baggage,xray-lambda``, the value the OTel
   Lambda layers suggest for X-Ray users, prefers W3C here but X-Ray there.
2. W3C ``traceparent``/``tracestate``, parsed by the OTel SDK's own propagator
   (W3C Trace Context, https://www.w3.org/TR/trace-context/).
3. The ``x-amzn-trace-id`` header. It is the caller's decision, so ``Sampled=0`` is
   honoured: the spans are not sampled, just as for a W3C ``traceparent`` flagged ``00``.
4. Only with ``xray-lambda``, and only when the header names no parent: the environment
   variable, as OTel's AwsXRayLambdaPropagator reads it (opentelemetry-python-contrib,
   propagator/opentelemetry-propagator-aws-xray).
5. Some X-Ray contexts are linked, never parents: the environment's when it says
   ``Sampled=0`` (see :func:`_xray_candidate` for why), and either one when it says
   ``Sampled=?`` or nothing. A span context has no "undecided" flag, so as a parent
   such a context would read as "not sampled" and a ParentBased sampler would drop
   every span.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NamedTuple

from opentelemetry.context import Context
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    get_current_span,
    set_span_in_context,
)

from traced_asgi_lambda.telemetry.xray import parse_xray_header, xray_span_context

__all__ = [
    "ACCEPTED_PROPAGATORS",
    "DEFAULT_PROPAGATORS",
    "LINK_SOURCE_ATTRIBUTE",
    "Parent",
    "ParentSource",
    "Propagation",
    "extract_parent",
    "link_from_header",
    "parse_propagators",
]

ParentSource = Literal["w3c", "xray-header", "xray-env"]
"""Where a span context came from: the W3C headers, the X-Ray header or Lambda's variable."""

LINK_SOURCE_ATTRIBUTE = "traced_asgi_lambda.link.source"
"""The link attribute that names the ``ParentSource`` of a context that did not win."""

# Lambda-only, so X-Ray is on by default, after W3C (see rule 1); OTel's own default,
# "tracecontext,baggage", would ignore the context every AWS service passes.
DEFAULT_PROPAGATORS = "tracecontext,baggage,xray-lambda"

# The known values of OTEL_PROPAGATORS (SDK environment variables, "General SDK
# Configuration": https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/)
# plus "xray-lambda" from the Lambda conventions. b3, b3multi, jaeger and ottrace are
# accepted because the same variable also configures the app's outgoing propagation, but
# contexts in those formats are not read here.
ACCEPTED_PROPAGATORS = (
    "tracecontext",
    "baggage",
    "xray",
    "xray-lambda",
    "none",
    "b3",
    "b3multi",
    "jaeger",
    "ottrace",
)


class Parent(NamedTuple):
    """Where the root span starts: its parent context, its links, the parent's source.

    ``context`` holds no span when there is no parent (the root span starts a trace);
    it also carries W3C baggage when ``baggage`` propagation is on.
    """

    context: Context
    links: list[Link]
    source: ParentSource | None


class Propagation(NamedTuple):
    """What ``OTEL_PROPAGATORS`` asks for: the trace contexts to read, best first."""

    order: tuple[Literal["w3c", "xray"], ...]
    baggage: bool
    lambda_env: bool


def parse_propagators(value: str | None) -> Propagation:
    """Read an ``OTEL_PROPAGATORS`` value; ValueError for a name that is not accepted.

    Call it once at start-up to fail early, and pass the result to :func:`extract_parent`.
    Names are trimmed and compared without case, as the spec asks of enum values; an
    empty value means unset, as the spec asks of every variable. ``none`` anywhere
    turns extraction off, as the Python SDK does.
    """
    names = [name.strip().lower() for name in (value or "").split(",") if name.strip()]
    if not names:
        names = DEFAULT_PROPAGATORS.split(",")
    unknown = [name for name in names if name not in ACCEPTED_PROPAGATORS]
    if unknown:
        raise ValueError(
            f"Expected OTEL_PROPAGATORS to be a comma-separated list of "
            f"{', '.join(ACCEPTED_PROPAGATORS)}, but got {value!r}, where "
            f"{', '.join(map(repr, unknown))} is not one of them. "
            f"Fix: correct the name, or leave OTEL_PROPAGATORS unset for {DEFAULT_PROPAGATORS}."
        )
    if "none" in names:
        return Propagation((), baggage=False, lambda_env=False)
    order: list[Literal["w3c", "xray"]] = []
    for name in names:
        if name == "tracecontext" and "w3c" not in order:
            order.append("w3c")
        elif name in ("xray", "xray-lambda") and "xray" not in order:
            order.append("xray")
    return Propagation(tuple(order), "baggage" in names, "xray-lambda" in names)


def extract_parent(
    headers: Mapping[str, str],
    env_trace_header: str | None,
    propagators: str | Propagation | None,
) -> Parent:
    """Choose the root span's parent and links from lower-cased request headers.

    ``env_trace_header`` is ``_X_AMZN_TRACE_ID`` and ``propagators`` is
    ``OTEL_PROPAGATORS``, both read by the caller. Raises ValueError only for a bad
    ``propagators``; bad trace headers are ignored, as every propagator ignores them.
    """
    # Callers on the hot path pass the plan they parsed once at start-up.
    plan = propagators if isinstance(propagators, Propagation) else parse_propagators(propagators)
    context = Context()
    if plan.baggage and "baggage" in headers:
        # Imported here: only requests that carry baggage pay for it (about 1.5 ms at import).
        from opentelemetry.baggage.propagation import W3CBaggagePropagator

        context = W3CBaggagePropagator().extract(headers, context)

    candidates: list[_Candidate] = []
    for kind in plan.order:
        if kind == "w3c":
            candidate = _w3c_candidate(headers)
        else:
            env = env_trace_header if plan.lambda_env else None
            candidate = _xray_candidate(headers.get("x-amzn-trace-id"), env)
        if candidate is not None:
            candidates.append(candidate)

    chosen = next((c for c in candidates if c.can_parent), None)
    links = [
        Link(c.span_context, {LINK_SOURCE_ATTRIBUTE: c.source})
        for c in candidates
        if chosen is None or not _same_span(c.span_context, chosen.span_context)
    ]
    if chosen is None:
        return Parent(context, links, None)
    parent_context = set_span_in_context(NonRecordingSpan(chosen.span_context), context)
    return Parent(parent_context, links, chosen.source)


def link_from_header(kind: str, header: str) -> Link | None:
    """A link to the context in one message's trace header (SQS, SNS), or None if invalid.

    ``kind`` is ``"w3c"`` for a ``traceparent`` value or ``"xray"`` for an X-Ray header
    such as SQS's ``AWSTraceHeader``. Links need no sampling decision, so an X-Ray
    header's ``Sampled`` does not matter here.
    """
    span_context: SpanContext | None
    if kind == "w3c":
        span_context = _w3c_span_context({"traceparent": header})
        source: ParentSource = "w3c"
    elif kind == "xray":
        span_context = xray_span_context(parse_xray_header(header))
        source = "xray-header"
    else:
        raise ValueError(f"Expected a trace header kind of 'w3c' or 'xray', but got {kind!r}.")
    if span_context is None:
        return None
    return Link(span_context, {LINK_SOURCE_ATTRIBUTE: source})


class _Candidate(NamedTuple):
    span_context: SpanContext
    source: ParentSource
    can_parent: bool


def _w3c_span_context(headers: Mapping[str, str]) -> SpanContext | None:
    if "traceparent" not in headers:
        return None  # the common case: skip building a Context for nothing
    # Imported here, as baggage: a cold start without a traceparent does not pay for it.
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    extracted = TraceContextTextMapPropagator().extract(headers, Context())
    span_context = get_current_span(extracted).get_span_context()
    return span_context if span_context.is_valid else None


def _w3c_candidate(headers: Mapping[str, str]) -> _Candidate | None:
    span_context = _w3c_span_context(headers)
    # A traceparent's sampled flag is always a decision (W3C Trace Context, "sampled"
    # flag), so a valid one can always be the parent.
    return None if span_context is None else _Candidate(span_context, "w3c", True)


def _xray_candidate(header: str | None, env: str | None) -> _Candidate | None:
    parsed = parse_xray_header(header)
    span_context = xray_span_context(parsed)
    if parsed is not None and span_context is not None:
        return _Candidate(span_context, "xray-header", parsed.sampled is not None)

    # The environment variable is read only when the carrier has no X-Ray context, as
    # AwsXRayLambdaPropagator does. Unlike it, Sampled=0 here is not taken as a parent:
    # with active tracing off Lambda still sets the variable, always with Sampled=0, and
    # that parent would make a ParentBased sampler drop every span. Sampled=0 there means
    # "X-Ray is not recording", not "the caller asked for no tracing". Reported upstream
    # in https://github.com/open-telemetry/opentelemetry-lambda/issues/1782 (open); the
    # contrib propagator and the semconv pseudocode still extract it.
    parsed = parse_xray_header(env)
    span_context = xray_span_context(parsed)
    if parsed is not None and span_context is not None:
        return _Candidate(span_context, "xray-env", parsed.sampled is True)
    return None


def _same_span(a: SpanContext, b: SpanContext) -> bool:
    # A service that sends both headers for one span would otherwise be linked to itself.
    return a.trace_id == b.trace_id and a.span_id == b.span_id
