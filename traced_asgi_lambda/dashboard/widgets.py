"""What every widget builder shares, and the widgets that are not metric graphs.

A builder takes the :class:`Context` and its title and returns the widget's type and
``properties``, named as "Dashboard Body Structure and Syntax" (CloudWatch API
Reference) names them: text widgets take ``markdown``; alarm widgets ``alarms``,
``sortBy`` and ``title``; log widgets ``region``, ``title``, ``query`` and ``view``; metric
widgets (``graphs``) ``metrics``, ``region``, ``title``, ``view``, ``stacked``, ``period``,
``yAxis`` and ``annotations``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from traced_asgi_lambda.dashboard.assets import load_text
from traced_asgi_lambda.dashboard.metrics import FrontDoorMetrics, Line
from traced_asgi_lambda.dashboard.params import log_group
from traced_asgi_lambda.dashboard.placeholders import fill, num, ph
from traced_asgi_lambda.dashboard.queries import load_query, query_folder
from traced_asgi_lambda.dashboard.spec import DashboardSpec

__all__ = [
    "RED",
    "ROUTE_LABEL",
    "Context",
    "Widget",
    "alarms",
    "axes",
    "errors_by_route",
    "graph",
    "header",
    "init_duration",
    "slowest_requests",
    "threshold",
]

Widget = tuple[str, dict[str, Any]]  # (type, properties)
RED = "#d62728"
# "${PROP('Dim.route')}": each SEARCH result labelled by its route ("Use dynamic labels").
ROUTE_LABEL = "${PROP('Dim.route')}"


@dataclass(frozen=True, slots=True)
class Context:
    """What every builder reads: the spec, the front door's metrics, layout settings."""

    spec: DashboardSpec
    door: FrontDoorMetrics
    alarm_keys: tuple[str, ...]
    period: int

    @property
    def log_group(self) -> str:
        return log_group(self.spec)

    @property
    def function(self) -> list[tuple[str, str]]:
        """Lambda's per-function dimension ("Types of metrics for Lambda functions")."""
        return [("FunctionName", ph("function_name"))]


def graph(ctx: Context, title: str, metrics: list[Line], **extra: Any) -> Widget:
    properties: dict[str, Any] = {
        "metrics": metrics,
        "region": ph("region"),
        "title": title,
        "view": "timeSeries",
        "stacked": False,
        "period": ctx.period,
    }
    return "metric", {**properties, **extra}


def threshold(key: str, axis: str = "left") -> dict[str, Any]:
    """A horizontal line at an alarm's threshold."""
    line = {"label": "alarm threshold", "value": num(f"threshold.{key}"), "color": RED}
    return {"horizontal": [{**line, "yAxis": axis}]}


def axes(left: str, right: str | None = None) -> dict[str, Any]:
    axes: dict[str, Any] = {"left": {"label": left, "min": 0, "showUnits": False}}
    if right is not None:
        axes["right"] = {"label": right, "min": 0, "showUnits": False}
    return axes


def header(ctx: Context, title: str) -> Widget:
    door = ctx.door
    where = ", ".join(f"{name} `{value}`" for name, value in door.dimensions)
    values = {
        "namespace": ctx.spec.namespace,
        "front_door": f"{door.label} ({where})",
        "query_folder": query_folder(),
    }
    return "text", {"markdown": fill(load_text("header.md"), values).strip()}


def alarms(ctx: Context, title: str) -> Widget:
    arns = [ph(f"alarm_arn.{key}") for key in ctx.alarm_keys]
    return "alarm", {"alarms": arns, "sortBy": "stateUpdatedTimestamp", "title": title}


def _log(ctx: Context, title: str, key: str) -> Widget:
    query = load_query(ctx.spec, key)
    properties = {
        "region": ph("region"),
        "title": title,
        "query": query.widget_query(ctx.log_group),
    }
    return "log", {**properties, "view": query.view}


def init_duration(ctx: Context, title: str) -> Widget:
    return _log(ctx, title, "cold_start_report")


def errors_by_route(ctx: Context, title: str) -> Widget:
    return _log(ctx, title, "errors_by_route")


def slowest_requests(ctx: Context, title: str) -> Widget:
    return _log(ctx, title, "slowest_requests")
