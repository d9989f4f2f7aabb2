"""Every metric, dimension and log field the dashboards read is one the adapter writes.

The proof runs the real adapter (``LambdaAdapter`` with route dimensions on) over events
from every front door, cold, warm, 404 and 500, and collects what it writes: EMF metric
names with their dimension sets and values, and the access log's keys. AWS's own metrics
are checked against a catalogue written from AWS's pages, cited per entry.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import MutableMapping
from typing import Any

import pytest

from tests.apps.starlette_app import app
from tests.test_dashboard_render import SPECS, body_of, metric_lines, spec
from traced_asgi_lambda import LambdaAdapter, TelemetryOptions
from traced_asgi_lambda.dashboard import DashboardSpec, build
from traced_asgi_lambda.dashboard.queries import ACCESS_LOG_FIELDS
from traced_asgi_lambda.dashboard.render import resolve
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event
from traced_asgi_lambda.telemetry.metric_names import ALL_METRICS
from traced_asgi_lambda.telemetry.outcome import STAGES
from traced_asgi_lambda.types import ASGIReceive, ASGISend

Emitted = dict[tuple[str, str, frozenset[str]], set[tuple[tuple[str, str], ...]]]

# (source, path): a cold start, warm hits, an unmatched route (404) and a failing app (500).
REQUESTS = [
    ("http-api", "/items/1"),
    ("http-api", "/items/2"),
    ("rest", "/route-info/7"),
    ("alb", "/nope"),
    ("url", "/raise"),
]

# AWS metrics the dashboards may read: (namespace, metric) -> accepted dimension sets.
AWS_METRICS: dict[tuple[str, str], set[frozenset[str]]] = {
    # "Types of metrics for Lambda functions", Lambda Developer Guide (FunctionName:
    # "Viewing metrics" / the dimensions list of "Using CloudWatch metrics with Lambda").
    **{
        ("AWS/Lambda", name): {frozenset({"FunctionName"})}
        for name in ("Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions")
    },
    # "Monitoring Lambda function URLs": invocation and performance metrics, FunctionName.
    **{
        ("AWS/Lambda", name): {frozenset({"FunctionName"})}
        for name in ("UrlRequestCount", "Url4xxCount", "Url5xxCount", "UrlRequestLatency")
    },
    # "Monitor CloudWatch metrics for HTTP APIs in API Gateway": ApiId; ApiId, Stage.
    **{
        ("AWS/ApiGateway", name): {
            frozenset({"ApiId"}),
            frozenset({"ApiId", "Stage"}),
            frozenset({"ApiName"}),
            frozenset({"ApiName", "Stage"}),
        }
        for name in ("Count", "Latency")
    },
    **{
        ("AWS/ApiGateway", name): {frozenset({"ApiId"}), frozenset({"ApiId", "Stage"})}
        for name in ("4xx", "5xx")
    },
    # "Amazon API Gateway dimensions and metrics" (REST): ApiName; ApiName, Stage.
    **{
        ("AWS/ApiGateway", name): {frozenset({"ApiName"}), frozenset({"ApiName", "Stage"})}
        for name in ("4XXError", "5XXError")
    },
    # "CloudWatch metrics for your Application Load Balancer": LoadBalancer, TargetGroup
    # for target metrics; the load balancer's own 5xx by LoadBalancer.
    **{
        ("AWS/ApplicationELB", name): {frozenset({"LoadBalancer", "TargetGroup"})}
        for name in (
            "RequestCount",
            "HTTPCode_Target_4XX_Count",
            "HTTPCode_Target_5XX_Count",
            "TargetResponseTime",
        )
    },
    ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"): {frozenset({"LoadBalancer"})},
}


async def slow(scope: MutableMapping[str, Any], receive: ASGIReceive, send: ASGISend) -> None:
    """An app still working when the deadline watchdog fires."""
    await asyncio.sleep(1.0)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def written() -> tuple[Emitted, list[dict[str, Any]]]:
    """The EMF metrics (by namespace, name, dimension set: the values) and access lines."""
    stream = io.StringIO()
    options = TelemetryOptions(
        stream=stream, route_dimensions=True, namespace="Shop", service="orders", log_json=True
    )
    with LambdaAdapter(app, telemetry=options) as handler:
        for source, path in REQUESTS:
            handler(build_event(source, HttpRequest(path=path)), LocalContext("orders-fn"))
    # The watchdog reports at 0.4 s (600 ms - 200 ms margin), while the app sleeps 1 s.
    watched = options.replace(timeout_margin=0.2)
    with LambdaAdapter(slow, lifespan="off", telemetry=watched) as handler:
        event = build_event("http-api", HttpRequest(path="/slow"))
        handler(event, LocalContext("orders-fn", timeout_ms=600))
    emitted: Emitted = {}
    access = []
    for line in stream.getvalue().splitlines():
        document = json.loads(line)
        if "_aws" not in document:
            if "duration_ms" in document and "method" in document:
                access.append(document)
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for names in directive["Dimensions"]:
                values = tuple((name, document[name]) for name in sorted(names))
                for metric in directive["Metrics"]:
                    key = (directive["Namespace"], metric["Name"], frozenset(names))
                    emitted.setdefault(key, set()).add(values)
    return emitted, access


def referenced(s: DashboardSpec) -> list[tuple[str, str, dict[str, str]]]:
    """Every (namespace, metric, dimensions) a rendered dashboard and its alarms read."""
    found = []
    for line in metric_lines(body_of(s)):
        if isinstance(line[0], dict):
            found += _searched(line[0]["expression"])
            continue
        pairs = [item for item in line[2:] if isinstance(item, str)]
        found.append((line[0], line[1], dict(zip(pairs[::2], pairs[1::2], strict=True))))
    dashboard = build(s)
    for alarm in dashboard.alarms:
        for query in resolve(alarm.request(), dashboard.params)["Metrics"]:
            if "MetricStat" in query:
                metric = query["MetricStat"]["Metric"]
                dims = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
                found.append((metric["Namespace"], metric["MetricName"], dims))
    return found


_SEARCH = re.compile(r"SEARCH\('\{([^}]*)\} MetricName=\"([^\"]+)\"((?: [a-z_]+=\"[^\"]*\")*)'")


def _searched(expression: str) -> list[tuple[str, str, dict[str, str]]]:
    match = _SEARCH.search(expression)
    if match is None:
        return []
    namespace, *names = [part.strip('"') for part in match.group(1).split(",")]
    terms = dict(re.findall(r'([a-z_]+)="([^"]*)"', match.group(3)))
    return [(namespace, match.group(2), {name: terms.get(name, "*") for name in names})]


@pytest.mark.parametrize("s", SPECS)
def test_our_metrics_are_emitted(
    s: DashboardSpec, written: tuple[Emitted, list[dict[str, Any]]]
) -> None:
    """Each of our metrics read, with its exact dimension set, is one the adapter emits."""
    emitted, _ = written
    ours = [(n, m, d) for n, m, d in referenced(s) if n == s.namespace]
    assert ours
    for _, metric, dims in ours:
        key = ("Shop", metric, frozenset(dims))
        assert key in emitted, f"{metric} {sorted(dims)} is never emitted"
        for name, value in dims.items():
            seen = {v for values in emitted[key] for n, v in values if n == name}
            if name == "service":
                assert value == s.service_name
                assert seen == {"orders"}
            elif name == "stage":
                assert value in seen, f"stage {value} is never emitted"
            elif name == "route":
                assert value == "*"  # SEARCH: every route


def test_every_metric_is_on_the_dashboard() -> None:
    """Nothing the adapter emits is left off the dashboard."""
    graphed = {m for n, m, _ in referenced(spec()) if n == "Shop"}
    assert graphed == {metric.name for metric in ALL_METRICS}


def test_every_stage_is_graphed(written: tuple[Emitted, list[dict[str, Any]]]) -> None:
    """The stage widget stacks every stage the adapter times, lifespan included."""
    emitted, _ = written
    stages = {
        v
        for (_, m, _), values in emitted.items()
        if m == "StageLatency"
        for value in values
        for n, v in value
        if n == "stage"
    }
    graphed = {d["stage"] for n, m, d in referenced(spec()) if m == "StageLatency"}
    assert graphed == set(STAGES) == stages


@pytest.mark.parametrize("s", SPECS)
def test_aws_metrics_are_documented(s: DashboardSpec) -> None:
    """Each AWS metric read exists, with that dimension set, on the AWS page cited above."""
    for namespace, metric, dims in referenced(s):
        if namespace == s.namespace:
            continue
        assert (namespace, metric) in AWS_METRICS, f"{namespace} {metric} is not documented"
        assert frozenset(dims) in AWS_METRICS[(namespace, metric)], f"{metric}: {sorted(dims)}"


def test_access_log_fields_are_written(written: tuple[Emitted, list[dict[str, Any]]]) -> None:
    """Every access-log field a query reads appears in the adapter's own access lines."""
    _, access = written
    assert len(access) == len(REQUESTS) + 1
    keys = set().union(*access)
    untraced = {"trace_id"}  # written only when tracing is on; the tests run without it
    assert set(ACCESS_LOG_FIELDS.values()) - untraced <= keys
    assert {line.get("status") for line in access} >= {200, 404, 500}


def test_route_dimension_values(written: tuple[Emitted, list[dict[str, Any]]]) -> None:
    """The per-route SEARCH finds route templates, ``unmatched`` included."""
    emitted, _ = written
    routes = {
        v
        for (_, m, names), values in emitted.items()
        if "route" in names
        for value in values
        for n, v in value
        if n == "route"
    }
    assert {"/items/{item_id:int}", "/route-info/{item_id}", "/raise", "unmatched"} <= routes
