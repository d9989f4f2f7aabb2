"""AWS X-Ray trace headers and X-Ray-compatible OpenTelemetry ids.

The header is the one AWS services pass between each other, in the ``X-Amzn-Trace-Id``
HTTP header, the ``_X_AMZN_TRACE_ID`` Lambda environment variable and the Runtime API's
``Lambda-Runtime-Trace-Id`` header; all three share one format
(X-Ray developer guide, "Tracing header":
https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader)::

    Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1

X-Ray trace ids carry the Unix time in their first 32 bits, and X-Ray rejects segments
whose trace id is more than 30 days old, so the OpenTelemetry ids sent to X-Ray must be
made the same way (X-Ray developer guide, "Trace IDs":
https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html#xray-api-traceids).
"""

from __future__ import annotations

import importlib
import os
import random
import re
import time
import weakref
from collections.abc import Callable
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from opentelemetry.trace import INVALID_SPAN_ID, SpanContext, TraceFlags

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.id_generator import IdGenerator

    _IdGeneratorBase = IdGenerator
else:
    # The SDK calls an id generator's methods and never checks its class; this one defines
    # them all (tests/test_telemetry_tracer_provider.py checks it against the SDK's IdGenerator)
    # without subclassing it, since opentelemetry.sdk.trace.id_generator imports the whole
    # of opentelemetry.sdk.trace: about 25 ms of a cold start.
    _IdGeneratorBase = object

__all__ = [
    "XRayHeader",
    "XRayIdGenerator",
    "format_xray_header",
    "format_xray_trace_id",
    "parse_xray_header",
    "xray_span_context",
]

# "1-" then 8 hex digits of epoch seconds, "-", 24 hex digits of random. Hex of either
# case is accepted (AWS writes lower case; the OTel contrib propagator accepts both).
_ROOT = re.compile(r"1-([0-9a-fA-F]{8})-([0-9a-fA-F]{24})")
_PARENT = re.compile(r"[0-9a-fA-F]{16}")
_CANONICAL = re.compile(
    r"Root=1-([0-9a-fA-F]{8})-([0-9a-fA-F]{24});Parent=([0-9a-fA-F]{16});Sampled=([01?])"
    r"(?:;Lineage=([^;\s]+))?"
)
_SAMPLED = MappingProxyType({"1": True, "0": False, "?": None})
_LOW_96_BITS = (1 << 96) - 1
_LOW_32_BITS = (1 << 32) - 1


class XRayHeader(NamedTuple):
    """The parts of an X-Ray tracing header that place a span in a trace.

    ``trace_id`` is the Root's epoch and random parts read as one 128-bit number, which
    is how OpenTelemetry represents an X-Ray trace id. ``sampled`` is None when the
    header leaves the decision to the receiver (``Sampled=?`` or no Sampled field).
    ``lineage`` is kept verbatim: Lambda's recursive loop detection counts invocations
    with it and needs it forwarded unchanged
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html).
    """

    trace_id: int
    parent_id: int | None = None
    sampled: bool | None = None
    lineage: str | None = None


def parse_xray_header(value: str | None) -> XRayHeader | None:
    """Read an X-Ray tracing header; None if it is absent or any known field is malformed.

    Fields may come in any order (ALB puts its own ``Self=`` first:
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-request-tracing.html)
    and unknown keys, ``Self`` among them, are ignored. A header whose known fields are
    bad or repeated is dropped whole rather than half-trusted; a missing Root also drops it.
    """
    if not value:
        return None
    # The form Lambda sets in _X_AMZN_TRACE_ID and API Gateway sends, read by one match:
    # it is parsed on every invocation, and this halves its cost (about 1 us). Anything
    # else (other order, spaces, Self=, a trailing ";") takes the general reading below,
    # which gives the same result for this form (tested).
    canonical = _CANONICAL.fullmatch(value)
    if canonical is not None:
        trace_id, parent_id = int(canonical[1] + canonical[2], 16), int(canonical[3], 16)
        if trace_id == 0 or parent_id == INVALID_SPAN_ID:
            return None
        return XRayHeader(trace_id, parent_id, _SAMPLED[canonical[4]], canonical[5])
    return _parse_fields(value)


def _parse_fields(value: str) -> XRayHeader | None:
    """The general reading of :func:`parse_xray_header`: fields in any order."""
    fields: dict[str, str] = {}
    for piece in value.split(";"):
        if not piece.strip():
            continue  # a trailing or doubled ";" carries nothing, and is common
        key, equals, field = piece.partition("=")
        if not equals:
            return None
        key = key.strip()
        if key in fields:
            return None
        fields[key] = field.strip()

    root = _ROOT.fullmatch(fields.get("Root", ""))
    if root is None:
        return None
    trace_id = int(root[1] + root[2], 16)
    if trace_id == 0:
        return None  # the W3C and OTel "invalid" trace id can never name a trace

    parent_id: int | None = None
    if "Parent" in fields:
        if _PARENT.fullmatch(fields["Parent"]) is None:
            return None
        parent_id = int(fields["Parent"], 16)
        if parent_id == INVALID_SPAN_ID:
            return None

    sampled: bool | None = None
    if "Sampled" in fields:
        if fields["Sampled"] not in _SAMPLED:
            return None
        sampled = _SAMPLED[fields["Sampled"]]

    return XRayHeader(trace_id, parent_id, sampled, fields.get("Lineage") or None)


def format_xray_trace_id(trace_id: int) -> str:
    """A 128-bit trace id in X-Ray's Root form: ``1-<8 hex epoch>-<24 hex random>``."""
    return f"1-{trace_id >> 96:08x}-{trace_id & _LOW_96_BITS:024x}"


def format_xray_header(header: XRayHeader) -> str:
    """The header's wire form, with fields in the order AWS writes them.

    An undecided ``sampled`` is left out rather than written as ``?``: ``Sampled=?``
    asks the receiver to report its decision back, which this library never does.
    """
    parts = [f"Root={format_xray_trace_id(header.trace_id)}"]
    if header.parent_id is not None:
        parts.append(f"Parent={header.parent_id:016x}")
    if header.sampled is not None:
        parts.append(f"Sampled={int(header.sampled)}")
    if header.lineage is not None:
        parts.append(f"Lineage={header.lineage}")
    return ";".join(parts)


def xray_span_context(header: XRayHeader | None) -> SpanContext | None:
    """The remote span context the header names, or None if it names no parent segment.

    A header without ``Parent`` (ALB sends only ``Root``) names a trace but no span, and
    OpenTelemetry cannot parent or link to a trace alone. An undecided ``sampled``
    becomes "not sampled", as in OTel's AwsXRayPropagator; callers that must not drop
    spans for it check ``header.sampled`` first (see propagation.extract_parent).
    """
    if header is None or header.parent_id is None:
        return None
    return SpanContext(
        trace_id=header.trace_id,
        span_id=header.parent_id,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED if header.sampled else TraceFlags.DEFAULT),
    )


class XRayIdGenerator(_IdGeneratorBase):
    """Trace ids that X-Ray accepts: 32 bits of Unix seconds, then 96 random bits.

    The same layout as OTel's AwsXRayIdGenerator (opentelemetry-sdk-extension-aws), but
    drawn from a private ``random.Random`` rather than the shared ``random`` module, so
    that no app code that seeds ``random`` (for reproducible tests, say) can make trace
    ids repeat. Owning the generator brings two duties the ``random`` module otherwise
    does itself, both set up here at construction, never at import:

    * SnapStart restores many execution environments from one memory snapshot, each with
      the same generator state, so without a reseed they would all produce the same ids
      ("Handling uniqueness with Lambda SnapStart":
      https://docs.aws.amazon.com/lambda/latest/dg/snapstart-uniqueness.html). The
      reseed runs as an after-restore runtime hook
      (https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html).
    * ``os.fork`` copies the state into the child; ``random`` reseeds its own instance
      after a fork, and this reseeds ours.

    The hooks hold the generator weakly, so a discarded generator is not kept alive.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._random = random.Random(_fresh_seed())
        reseed = weakref.WeakMethod(self.reseed)
        _register_after_restore(reseed)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=lambda: _call_if_alive(reseed))

    def reseed(self) -> None:
        """Draw a new seed from the OS, so ids no longer follow from any earlier state."""
        self._random.seed(_fresh_seed())

    def generate_trace_id(self) -> int:
        # Masked to 32 bits so the layout holds past 2106, when the seconds overflow.
        seconds = int(self._clock()) & _LOW_32_BITS
        return (seconds << 96) | self._random.getrandbits(96)

    def generate_span_id(self) -> int:
        span_id = self._random.getrandbits(64)
        while span_id == INVALID_SPAN_ID:
            span_id = self._random.getrandbits(64)
        return span_id

    def is_trace_id_random(self) -> bool:
        # The low 96 bits are uniformly random, more than the 56 that W3C Trace Context
        # level 2 asks of a "random" trace id.
        return True


def _fresh_seed() -> int:
    return int.from_bytes(os.urandom(32), "big")


def _call_if_alive(method: weakref.WeakMethod[Callable[[], None]]) -> None:
    bound = method()
    if bound is not None:
        bound()


def _register_after_restore(method: weakref.WeakMethod[Callable[[], None]]) -> None:
    # snapshot_restore_py ships in the Lambda Python runtime (3.12 and later) and on PyPI
    # as snapshot-restore-py. The runtime calls each registered (func, args, kwargs) as
    # func(*args, **kwargs) after a restore (awslambdaric's
    # lambda_runtime_hooks_runner.run_after_restore). Imported by name so the adapter
    # needs no stubs for it and runs where it is absent, such as local development.
    try:
        hooks = importlib.import_module("snapshot_restore_py")
    except ModuleNotFoundError as exc:
        if exc.name != "snapshot_restore_py":
            raise  # the module exists but is broken: say so rather than skip the reseed
        return
    hooks.register_after_restore(_call_if_alive, method)
