"""Every metric the adapter emits, as plain data: the one place names, units and dimensions live.

The EMF emitter (``emf.py``), the OpenTelemetry recorder (``otel_metrics.py``) and the
CloudWatch dashboards are all built from these constants, so a renamed metric cannot
leave a dashboard graphing nothing. Nothing here imports anything heavy or does anything
at import: it is data only.

CloudWatch (EMF) metrics are named in the Powertools style (``ColdStart``, ``service``
dimension) so dashboards built for Powertools keep working. Units are CloudWatch's
``StandardUnit`` values (CloudWatch API reference, "MetricDatum").

OpenTelemetry instruments follow the semantic conventions exactly:
https://opentelemetry.io/docs/specs/semconv/http/http-metrics/#metric-httpserverrequestduration
(stable) and https://opentelemetry.io/docs/specs/semconv/faas/faas-metrics/ (development).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

__all__ = [
    "ALL_METRICS",
    "CLIENT_ERRORS",
    "COLD_START",
    "DEFAULT_MAX_ROUTES",
    "DEFAULT_NAMESPACE",
    "DIM_FUNCTION_NAME",
    "DIM_ROUTE",
    "DIM_SERVICE",
    "DIM_STAGE",
    "DURATION_BUCKETS",
    "FAAS_COLDSTARTS",
    "FAAS_ERRORS",
    "FAAS_INIT_DURATION",
    "FAAS_INVOCATIONS",
    "FAAS_INVOKE_DURATION",
    "HTTP_SERVER_REQUEST_DURATION",
    "LATENCY",
    "OTEL_INSTRUMENTS",
    "REQUESTS",
    "ROUTE_OTHER",
    "ROUTE_UNMATCHED",
    "SERVER_ERRORS",
    "TIMEOUTS",
    "STAGE_LATENCY",
    "InstrumentSpec",
    "MetricSpec",
]

DEFAULT_NAMESPACE = "TracedAsgiLambda"

# Dimension names.
DIM_SERVICE = "service"  # Powertools' default dimension
DIM_FUNCTION_NAME = "function_name"  # Powertools' ColdStart dimension
DIM_STAGE = "stage"  # one of outcome.STAGES: parse, lifespan, app, encode
DIM_ROUTE = "route"  # the route template; only when per-route dimensions are on

# Values of the route dimension that are not route templates.
ROUTE_UNMATCHED = "unmatched"  # the app matched no route (or the event never reached it)
ROUTE_OTHER = "other"  # a route seen after the cap on distinct routes was reached
DEFAULT_MAX_ROUTES = 50  # distinct routes per environment before the rest become "other"


class MetricSpec(NamedTuple):
    """One CloudWatch metric.

    ``dimensions`` is the dimension set every value is published under; when per-route
    dimensions are on, a metric with ``per_route`` is also published under
    ``dimensions + ("route",)``.
    """

    name: str
    unit: str
    dimensions: tuple[str, ...]
    description: str
    per_route: bool = False


COLD_START = MetricSpec(
    "ColdStart",
    "Count",
    (DIM_FUNCTION_NAME, DIM_SERVICE),
    "1 on the first invocation of an execution environment, failed or not; never 0.",
)
LATENCY = MetricSpec(
    "Latency",
    "Milliseconds",
    (DIM_SERVICE,),
    "Handler time of one invocation, from entry to the response being ready.",
    per_route=True,
)
STAGE_LATENCY = MetricSpec(
    "StageLatency",
    "Milliseconds",
    (DIM_SERVICE, DIM_STAGE),
    "Time of one stage of an invocation (parse, lifespan, app, encode).",
)
REQUESTS = MetricSpec(
    "Requests",
    "Count",
    (DIM_SERVICE,),
    "1 for every HTTP invocation, including events that could not be parsed.",
    per_route=True,
)
CLIENT_ERRORS = MetricSpec(
    "ClientErrors",
    "Count",
    (DIM_SERVICE,),
    "1 when the response was a 4xx (and no server error), else 0; on every HTTP invocation.",
    per_route=True,
)
SERVER_ERRORS = MetricSpec(
    "ServerErrors",
    "Count",
    (DIM_SERVICE,),
    "1 for a 5xx, an exception or an unparseable event, else 0; on every HTTP invocation.",
    per_route=True,
)

TIMEOUTS = MetricSpec(
    "Timeouts",
    "Count",
    (DIM_SERVICE,),
    "1 when the deadline watchdog saw the invocation about to time out; absent otherwise.",
    per_route=True,
)

ALL_METRICS = (
    COLD_START,
    LATENCY,
    STAGE_LATENCY,
    REQUESTS,
    CLIENT_ERRORS,
    SERVER_ERRORS,
    TIMEOUTS,
)


InstrumentKind = Literal["counter", "histogram"]


class InstrumentSpec(NamedTuple):
    """One OpenTelemetry instrument, with the attribute keys its points may carry."""

    name: str
    kind: InstrumentKind
    unit: str  # UCUM, as the conventions give it
    description: str
    attributes: tuple[str, ...]


# The advisory bucket boundaries, in seconds, that both the HTTP and the FaaS duration
# conventions say these histograms SHOULD be created with.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)

HTTP_SERVER_REQUEST_DURATION = InstrumentSpec(
    "http.server.request.duration",
    "histogram",
    "s",
    "Duration of HTTP server requests.",
    (
        "http.request.method",
        "url.scheme",
        "http.response.status_code",
        "http.route",
        "error.type",
    ),
)
FAAS_INVOKE_DURATION = InstrumentSpec(
    "faas.invoke_duration",
    "histogram",
    "s",
    "Measures the duration of the function's logic execution.",
    ("faas.trigger",),
)
FAAS_INIT_DURATION = InstrumentSpec(
    "faas.init_duration",
    "histogram",
    "s",
    "Measures the duration of the function's initialization, such as a cold start.",
    ("faas.trigger",),
)
FAAS_COLDSTARTS = InstrumentSpec(
    "faas.coldstarts",
    "counter",
    "{coldstart}",
    "Number of invocation cold starts.",
    ("faas.trigger",),
)
FAAS_ERRORS = InstrumentSpec(
    "faas.errors", "counter", "{error}", "Number of invocation errors.", ("faas.trigger",)
)
FAAS_INVOCATIONS = InstrumentSpec(
    "faas.invocations",
    "counter",
    "{invocation}",
    "Number of successful invocations.",
    ("faas.trigger",),
)

OTEL_INSTRUMENTS = (
    HTTP_SERVER_REQUEST_DURATION,
    FAAS_INVOKE_DURATION,
    FAAS_INIT_DURATION,
    FAAS_COLDSTARTS,
    FAAS_ERRORS,
    FAAS_INVOCATIONS,
)
