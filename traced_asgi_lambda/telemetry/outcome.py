"""What one invocation did, gathered once and read by the access log and the metrics.

The adapter (or ``@traced_handler``) fills an :class:`Outcome` as stages finish; the log
line, the EMF metrics and the OpenTelemetry metrics are all written from it, so the three
can never disagree about a status code or a duration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["STAGES", "Outcome"]

# The stages of an HTTP invocation, in order; also the values of the ``stage`` dimension.
STAGES = ("parse", "lifespan", "app", "encode")


@dataclass(slots=True)
class Outcome:
    """One invocation's facts. Times are milliseconds; unknown values stay None."""

    function_name: str
    request_id: str
    cold_start: bool
    trigger: str = "http"
    method: str | None = None
    scheme: str | None = None
    path: str | None = None
    route: str | None = None  # the route template, never the raw path
    status: int | None = None
    error_type: str | None = None  # exception class name, or the status for a bare 5xx
    duration_ms: float = 0.0  # handler time: from entry to the response being ready
    stages: dict[str, float] = field(default_factory=dict)  # stage name -> milliseconds
    response_bytes: int | None = None
    user_agent: str | None = None
    client_address: str | None = None
    correlation_id: str | None = None  # the event's own request id (API Gateway, ALB, ...)
    trace_id: str | None = None  # 32 hex digits, when traced
    span_id: str | None = None  # 16 hex digits of the root span, when traced
    init_duration_ms: float | None = None  # on a cold start: init phase up to this call
    timed_out: bool = False  # the deadline watchdog reported it before it finished

    @property
    def failed(self) -> bool:
        """A server-side failure: an exception or a 5xx (a 4xx is the client's)."""
        return self.error_type is not None or (self.status is not None and self.status >= 500)
