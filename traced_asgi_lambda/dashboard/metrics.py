"""Metric references, as CloudWatch's dashboard and alarm formats write them.

A dashboard metric is an array ``[Namespace, MetricName, DimName, DimValue, ..., {render}]``
and an expression ``[{"expression": ..., "id": ...}]`` (Dashboard Body Structure and
Syntax, "Metric Widget: Format for Each Metric in the Array"). Our own metrics are built
from a :class:`~traced_asgi_lambda.telemetry.metric_names.MetricSpec`, whose dimension
names are the ones the emitter writes, so a widget cannot ask for a dimension set the
adapter never publishes. AWS's metrics for each front door come from
``dashboards/front_doors.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from traced_asgi_lambda.dashboard.assets import load_json
from traced_asgi_lambda.dashboard.placeholders import num, ph
from traced_asgi_lambda.dashboard.spec import DashboardSpec
from traced_asgi_lambda.telemetry.metric_names import (
    DIM_FUNCTION_NAME,
    DIM_ROUTE,
    DIM_SERVICE,
    MetricSpec,
)

__all__ = [
    "LAMBDA",
    "FrontDoorMetrics",
    "Line",
    "aws",
    "cold_start_rate",
    "duration_pct",
    "error_rate",
    "expression",
    "front_door_5xx_rate",
    "front_door_metrics",
    "ours",
    "search",
]

LAMBDA = "AWS/Lambda"  # "Types of metrics for Lambda functions", Lambda Developer Guide
Line = list[Any]  # one entry of a widget's "metrics" array


def aws(namespace: str, name: str, dimensions: Sequence[tuple[str, str]], **render: Any) -> Line:
    """A metric array for an AWS (or any) metric, with rendering properties."""
    line: Line = [namespace, name]
    for dimension, value in dimensions:
        line += [dimension, value]
    if render:
        line.append(render)
    return line


def ours(
    spec: DashboardSpec,
    metric: MetricSpec,
    *,
    values: Mapping[str, str] | None = None,
    **render: Any,
) -> Line:
    """A metric array for one of the adapter's metrics, under its own dimension set.

    ``service`` and ``function_name`` are filled in; ``values`` gives any other dimension
    (such as ``stage``). A dimension the metric does not have is a KeyError here, not a
    widget that graphs nothing.
    """
    known = {DIM_SERVICE: ph("service"), DIM_FUNCTION_NAME: ph("function_name"), **(values or {})}
    unused = set(known) - set(metric.dimensions) - {DIM_SERVICE, DIM_FUNCTION_NAME}
    if unused:
        raise KeyError(f"{metric.name} has no dimension {', '.join(sorted(unused))}")
    dimensions = [(name, known[name]) for name in metric.dimensions]
    return aws(spec.namespace, metric.name, dimensions, **render)


def expression(text: str, id: str, label: str | None = None, **render: Any) -> Line:
    """A metric-math (or SEARCH) expression entry."""
    entry: dict[str, Any] = {"expression": text, "id": id}
    if label is not None:
        entry["label"] = label
    return [{**entry, **render}]


# The rates the graphs draw and the alarms watch, written once so that a graph's threshold
# line measures what its alarm measures. Each takes the ids of the queries it reads.


def error_rate(errors: str, requests: str) -> str:
    """Errors as a percentage of requests (also used for the client-error line)."""
    return f"100 * {errors} / {requests}"


def cold_start_rate(cold_starts: str, requests: str) -> str:
    """Cold starts as a percentage of requests; no cold start in a period counts as 0."""
    return f"100 * FILL({cold_starts}, 0) / {requests}"


def front_door_5xx_rate(server_errors: str, requests: str) -> str:
    """The front door's 5xx responses as a percentage of its requests."""
    return f"100 * FILL({server_errors}, 0) / {requests}"


def duration_pct(duration: str) -> str:
    """A duration in ms as a percentage of the function's timeout."""
    return f"100 * {duration} / ({num('timeout_seconds')} * 1000)"


def search(spec: DashboardSpec, metric: MetricSpec, stat: str) -> str:
    """``SEARCH`` for ``metric`` per route, within our service (never used in alarms).

    The schema names every dimension of the set, so only the per-route series match
    ("CloudWatch search expression syntax": a name with characters other than letters
    and digits is double-quoted).
    """
    schema = ",".join(_quoted(n) for n in (spec.namespace, *metric.dimensions, DIM_ROUTE))
    term = f'MetricName="{metric.name}" {DIM_SERVICE}="{ph("service")}"'
    return f"SEARCH('{{{schema}}} {term}', '{stat}')"


def _quoted(name: str) -> str:
    plain = name.replace("/", "").replace("_", "").replace(".", "").replace("-", "")
    return name if plain.isalnum() else f'"{name}"'


@dataclass(frozen=True, slots=True)
class FrontDoorMetrics:
    """A front door's own metrics: names, dimensions (with placeholders) and units."""

    label: str
    namespace: str
    dimensions: tuple[tuple[str, str], ...]
    requests: str
    client_errors: str
    server_errors: str
    latency: str
    to_ms: float
    gateway_errors: Mapping[str, Any] | None = None

    def line(self, name: str, **render: Any) -> Line:
        return aws(self.namespace, name, self.dimensions, **render)

    def gateway_line(self, **render: Any) -> Line | None:
        """The load balancer's own 5xx, under its coarser dimension set (ALB only)."""
        extra = self.gateway_errors
        if extra is None:
            return None
        keep = set(extra["dimensions"])
        dims = [(name, value) for name, value in self.dimensions if name in keep]
        return aws(self.namespace, extra["metric"], dims, **render)


def front_door_metrics(spec: DashboardSpec) -> FrontDoorMetrics:
    """The metrics of the spec's front door, with its settings as placeholders."""
    table = load_json("front_doors.json")[spec.front_door.kind]
    settings = {**spec.front_door.settings(), "function_name": spec.function_name}
    dimensions = tuple(
        (d["name"], ph(d["setting"])) for d in table["dimensions"] if settings.get(d["setting"])
    )
    return FrontDoorMetrics(
        label=table["label"],
        namespace=table["namespace"],
        dimensions=dimensions,
        requests=table["requests"],
        client_errors=table["client_errors"],
        server_errors=table["server_errors"],
        latency=table["latency"],
        to_ms=float(table["to_ms"]),
        gateway_errors=table.get("gateway_errors"),
    )
