"""CloudWatch Logs Insights queries over the access log and Lambda's REPORT lines.

The query texts live in ``dashboards/queries.json``; the access-log field names they use
are :data:`ACCESS_LOG_FIELDS`, the keys ``InvocationLogger.access`` writes
(``traced_asgi_lambda/telemetry/logs.py``; a test runs the adapter and finds each one in
its output). The cold-start report has two variants, one per Lambda log format: text
REPORT lines carry ``@initDuration``; JSON ``platform.report`` events carry
``record.metrics.initDurationMs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from traced_asgi_lambda.dashboard.assets import load_json
from traced_asgi_lambda.dashboard.placeholders import fill, ph
from traced_asgi_lambda.dashboard.spec import DashboardSpec
from traced_asgi_lambda.telemetry.metric_names import ROUTE_UNMATCHED

__all__ = [
    "ACCESS_LOG_FIELDS",
    "QUERY_KEYS",
    "Query",
    "load_query",
    "query_folder",
    "saved_queries",
]

# The access line's keys (docs/telemetry.md, Logs: "Access log"), by the name the query
# templates use for them.
ACCESS_LOG_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "method": "method",
        "path": "path",
        "route": "route",
        "status": "status",
        "duration_ms": "duration_ms",
        "cold_start": "cold_start",
        "init_duration_ms": "init_duration_ms",
        "error_type": "error_type",
        "request_id": "function_request_id",
        "trace_id": "trace_id",
    }
)

# The saved queries, by key; the cold-start report is chosen by the log format.
QUERY_KEYS = ("errors_by_route", "slowest_requests", "cold_start_report")


@dataclass(frozen=True, slots=True)
class Query:
    """One Logs Insights query: its pipe stages and the view that shows it."""

    key: str
    view: str
    lines: tuple[str, ...]

    def text(self) -> str:
        """The query, one stage per line (for saved queries)."""
        return "\n| ".join(self.lines)

    def widget_query(self, log_group: str) -> str:
        """The log widget's ``query``: ``SOURCE 'group' | stage\\n| stage...``."""
        return f"SOURCE '{log_group}' | {self.text()}"


def query_folder() -> str:
    """Where the saved queries go: a ``/`` in a saved query's name makes a folder."""
    return f"traced-asgi-lambda/{ph('function_name')}"


def load_query(spec: DashboardSpec, key: str) -> Query:
    """The query ``key``, with field names filled in (the function name stays a placeholder)."""
    name = f"{key}_{spec.log_format}" if key == "cold_start_report" else key
    raw = load_json("queries.json")[name]
    values = {f"field.{k}": v for k, v in ACCESS_LOG_FIELDS.items()}
    values["route_unmatched"] = ROUTE_UNMATCHED
    lines = tuple(fill(line, values) for line in raw["lines"])
    return Query(key=key, view=raw["view"], lines=lines)


def saved_queries(spec: DashboardSpec) -> list[tuple[str, Query]]:
    """Each saved query with its name (``traced-asgi-lambda/<function>/<key>``)."""
    return [
        (f"{query_folder()}/{key.replace('_', '-')}", load_query(spec, key)) for key in QUERY_KEYS
    ]
