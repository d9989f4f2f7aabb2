"""The dashboard body, its alarms and saved queries, before any format writes them.

:func:`build` lays out the widgets of ``dashboards/layout.json`` row by row on the
24-column grid, adds the dashboard variables, and gathers everything a format needs into
one :class:`Dashboard`, whose strings still hold placeholders.

Two dashboard variables ("Variables Array Structure", Dashboard Body Structure and
Syntax): a *property* variable for ``region``, which changes the Region of every widget,
and a *pattern* variable for the function name, which replaces it everywhere in the body
(log group, dimensions, alarm names), as AWS's own Lambda example does. A pattern is a
regular expression; function names (``[A-Za-z0-9_-]``) match themselves. Where the
service is named after the function, as it is by default, switching the function
switches the service too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from traced_asgi_lambda.dashboard import graphs, widgets
from traced_asgi_lambda.dashboard.alarms import AlarmDef, alarm_defs, alarm_keys, thresholds
from traced_asgi_lambda.dashboard.assets import load_json
from traced_asgi_lambda.dashboard.metrics import front_door_metrics
from traced_asgi_lambda.dashboard.params import parameters
from traced_asgi_lambda.dashboard.placeholders import Param, ph
from traced_asgi_lambda.dashboard.queries import Query, saved_queries
from traced_asgi_lambda.dashboard.spec import DashboardSpec
from traced_asgi_lambda.dashboard.widgets import Context, Widget

__all__ = ["BUILDERS", "GRID_WIDTH", "Dashboard", "build"]

GRID_WIDTH = 24  # "The horizontal position of the widget on the 24-column dashboard grid"
# Each widget id of layout.json, and the function that builds it.
BUILDERS: Mapping[str, Callable[[Context, str], Widget]] = MappingProxyType(
    {
        "header": widgets.header,
        "alarms": widgets.alarms,
        "requests": graphs.requests,
        "error_rate": graphs.error_rate,
        "latency": graphs.latency,
        "cold_starts": graphs.cold_starts,
        "init_duration": widgets.init_duration,
        "stages": graphs.stages,
        "throttles": graphs.throttles,
        "front_door": graphs.front_door,
        "duration": graphs.duration,
        "route_latency": graphs.route_latency,
        "route_errors": graphs.route_errors,
        "errors_by_route": widgets.errors_by_route,
        "slowest_requests": widgets.slowest_requests,
    }
)


@dataclass(frozen=True, slots=True)
class Dashboard:
    """A dashboard, its alarms and saved queries, and the values that fill them."""

    spec: DashboardSpec
    body: dict[str, Any]
    alarms: tuple[AlarmDef, ...]
    queries: tuple[tuple[str, Query], ...]
    params: Mapping[str, Param]


def build(spec: DashboardSpec, alarm_arns: Mapping[str, str] | None = None) -> Dashboard:
    """Everything for ``spec``; ``alarm_arns`` are the real ARNs when known (``deploy``)."""
    keys = alarm_keys()
    spec.check(keys)
    layout = load_json("layout.json")
    context = Context(spec, front_door_metrics(spec), keys, int(layout["period"]))
    body = {
        "start": layout["start"],
        "periodOverride": "auto",
        "variables": _variables(),
        "widgets": _widgets(context, layout["rows"]),
    }
    return Dashboard(
        spec=spec,
        body=body,
        alarms=tuple(alarm_defs(spec)),
        queries=tuple(saved_queries(spec)),
        params=parameters(spec, thresholds(spec), alarm_arns),
    )


def _widgets(context: Context, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    widgets = []
    y = 0
    for row in rows:
        if row.get("requires") == "route_dimensions" and not context.spec.route_dimensions:
            continue
        x = 0
        for entry in row["widgets"]:
            kind, properties = BUILDERS[entry["id"]](context, entry.get("title", ""))
            width, height = int(entry["width"]), int(row["height"])
            if x + width > GRID_WIDTH:
                raise ValueError(f"layout.json: row at y={y} is wider than {GRID_WIDTH}")
            place = {"x": x, "y": y, "width": width, "height": height}
            widgets.append({"type": kind, **place, "properties": properties})
            x += width
        y += int(row["height"])
    return widgets


def _variables() -> list[dict[str, Any]]:
    region = {
        "type": "property",
        "property": "region",
        "inputType": "input",
        "id": "region",
        "label": "Region",
        "defaultValue": ph("region"),
        "visible": True,
    }
    function = {
        "type": "pattern",
        "pattern": ph("function_name"),
        "inputType": "input",
        "id": "function",
        "label": "Function",
        "defaultValue": ph("function_name"),
        "visible": True,
    }
    return [region, function]
