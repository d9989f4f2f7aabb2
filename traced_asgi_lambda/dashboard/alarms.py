"""The alarms, as ``PutMetricAlarm`` inputs with placeholders.

Settings (descriptions, default thresholds, M out of N) come from ``dashboards/alarms.json``;
the metrics are built here from ``metric_names`` and the front door's table, with the
same builders as the widgets. Every alarm:

- evaluates ``datapoints_to_alarm`` out of ``evaluation_periods`` one-minute periods
  ("Evaluating an alarm", CloudWatch User Guide);
- treats missing data as not breaching, since our metrics, like Lambda's, are only
  published when there is traffic ("Configuring how CloudWatch alarms treat missing data");
- reads plain metrics or metric math over them, never ``SEARCH``, which alarms do not
  accept ("Create a CloudWatch alarm based on a metric math expression").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from traced_asgi_lambda.dashboard import metrics
from traced_asgi_lambda.dashboard.assets import load_json
from traced_asgi_lambda.dashboard.metrics import LAMBDA, Line, aws, front_door_metrics, ours
from traced_asgi_lambda.dashboard.params import alarm_name
from traced_asgi_lambda.dashboard.placeholders import num, ph
from traced_asgi_lambda.dashboard.spec import DashboardSpec
from traced_asgi_lambda.telemetry.metric_names import (
    COLD_START,
    LATENCY,
    REQUESTS,
    SERVER_ERRORS,
    TIMEOUTS,
)

__all__ = ["AlarmDef", "alarm_defs", "alarm_keys", "thresholds"]

GREATER = "GreaterThanThreshold"
NOT_BREACHING = "notBreaching"


@dataclass(frozen=True, slots=True)
class AlarmDef:
    """One alarm: its ``PutMetricAlarm`` fields, strings possibly holding placeholders."""

    key: str
    name: str
    description: str
    metrics: tuple[dict[str, Any], ...]
    threshold: str  # a number placeholder, {{#threshold.<key>}}
    evaluation_periods: int
    datapoints_to_alarm: int
    comparison: str = GREATER
    treat_missing_data: str = NOT_BREACHING

    def request(self) -> dict[str, Any]:
        """The ``PutMetricAlarm`` input (boto3's names), placeholders included."""
        return {
            "AlarmName": self.name,
            "AlarmDescription": self.description,
            "Metrics": [dict(query) for query in self.metrics],
            "Threshold": self.threshold,
            "ComparisonOperator": self.comparison,
            "EvaluationPeriods": self.evaluation_periods,
            "DatapointsToAlarm": self.datapoints_to_alarm,
            "TreatMissingData": self.treat_missing_data,
        }


def alarm_keys() -> tuple[str, ...]:
    """Every alarm's key, in the order the alarm row shows them."""
    return tuple(alarm["key"] for alarm in load_json("alarms.json")["alarms"])


def thresholds(spec: DashboardSpec) -> dict[str, float]:
    """Each alarm's threshold: the spec's where it gives one, else the default."""
    defaults = {a["key"]: float(a["threshold"]) for a in load_json("alarms.json")["alarms"]}
    return {key: float(spec.thresholds.get(key, value)) for key, value in defaults.items()}


def alarm_defs(spec: DashboardSpec) -> list[AlarmDef]:
    """Every alarm for ``spec``, in order."""
    config = load_json("alarms.json")
    period = int(config["period"])
    queries = _queries(spec, period)
    alarms = []
    for entry in config["alarms"]:
        key = entry["key"]
        alarms.append(
            AlarmDef(
                key=key,
                name=alarm_name(key),
                description=entry["description"].replace("{threshold}", num(f"threshold.{key}")),
                metrics=tuple(queries[key]),
                threshold=num(f"threshold.{key}"),
                evaluation_periods=int(entry["evaluation_periods"]),
                datapoints_to_alarm=int(entry["datapoints_to_alarm"]),
            )
        )
    return alarms


def _queries(spec: DashboardSpec, period: int) -> Mapping[str, list[dict[str, Any]]]:
    door = front_door_metrics(spec)
    function = [("FunctionName", ph("function_name"))]

    def stat(id: str, line: Line, statistic: str) -> dict[str, Any]:
        return _metric_stat(id, line, statistic, period)

    requests = stat("requests", ours(spec, REQUESTS), "Sum")
    return {
        "error_rate": [
            stat("servererrors", ours(spec, SERVER_ERRORS), "Sum"),
            requests,
            _math(
                "errorrate",
                metrics.error_rate("servererrors", "requests"),
                "Server errors (% of requests)",
            ),
        ],
        "latency_p99": [{**stat("latency", ours(spec, LATENCY), "p99"), "ReturnData": True}],
        "throttles": [
            {**stat("throttles", aws(LAMBDA, "Throttles", function), "Sum"), "ReturnData": True}
        ],
        "cold_start_rate": [
            stat("coldstarts", ours(spec, COLD_START), "Sum"),
            requests,
            _math(
                "coldstartrate",
                metrics.cold_start_rate("coldstarts", "requests"),
                "Cold starts (% of requests)",
            ),
        ],
        "front_door_5xx": [
            stat("frontdoor5xx", door.line(door.server_errors), "Sum"),
            stat("frontdoorrequests", door.line(door.requests), "Sum"),
            _math(
                "frontdoor5xxrate",
                metrics.front_door_5xx_rate("frontdoor5xx", "frontdoorrequests"),
                f"{door.label} 5xx (% of requests)",
            ),
        ],
        "timeouts": [{**stat("timeouts", ours(spec, TIMEOUTS), "Sum"), "ReturnData": True}],
        "duration_timeout": [
            stat("duration", aws(LAMBDA, "Duration", function), "Maximum"),
            _math(
                "durationpct",
                metrics.duration_pct("duration"),
                "Max duration (% of the timeout)",
            ),
        ],
    }


def _metric_stat(id: str, line: Line, stat: str, period: int) -> dict[str, Any]:
    """A ``MetricDataQuery`` reading the dashboard metric ``line`` (no render options)."""
    namespace, name, *rest = line
    pairs = [item for item in rest if isinstance(item, str)]
    dimensions = [{"Name": k, "Value": v} for k, v in zip(pairs[::2], pairs[1::2], strict=True)]
    metric = {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions}
    return {
        "Id": id,
        "MetricStat": {"Metric": metric, "Period": period, "Stat": stat},
        "ReturnData": False,
    }


def _math(id: str, expression: str, label: str) -> dict[str, Any]:
    return {"Id": id, "Expression": expression, "Label": label, "ReturnData": True}
