"""Rendering: every body passes the reference's schema; each setting shows where it should.

The example specs here (``spec`` and ``SPECS``) are shared with the other
``test_dashboard_*`` modules.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from tests.dashboard_schema import validate_body
from traced_asgi_lambda.dashboard import DashboardSpec, FrontDoor, build, render
from traced_asgi_lambda.dashboard.placeholders import PLACEHOLDER
from traced_asgi_lambda.dashboard.render import FORMATS, resolve

ACCOUNT = "123456789012"  # moto's default account, so deployed ARNs match rendered ones
DOORS = {
    "http-api": FrontDoor("http-api", api_id="a1b2c3d4e5", stage="$default"),
    "rest": FrontDoor("rest", api_name="orders-api", stage="prod"),
    "alb": FrontDoor(
        "alb",
        load_balancer="app/orders-alb/50dc6c495c0c9188",
        target_group="targetgroup/orders/73e2d6bc24d8a067",
    ),
    "url": FrontDoor("url"),
}


def spec(kind: str = "http-api", **changes: Any) -> DashboardSpec:
    """The example function behind front door ``kind``, changed by ``changes``."""
    base = DashboardSpec(
        function_name="orders-fn",
        region="eu-west-1",
        front_door=DOORS[kind],
        service="orders",
        namespace="Shop",
        route_dimensions=True,
        timeout_seconds=30,
        account_id=ACCOUNT,
    )
    return replace(base, **changes)


SPECS = [
    *(pytest.param(spec(kind), id=kind) for kind in DOORS),
    *(pytest.param(spec(kind, route_dimensions=False), id=f"{kind}-no-routes") for kind in DOORS),
    pytest.param(
        spec("http-api", front_door=FrontDoor("http-api", api_id="a1b2c3")), id="no-stage"
    ),
    pytest.param(spec("url", log_format="json", log_group="/custom/orders"), id="json-logs"),
    pytest.param(
        spec("rest", service=None, namespace="Shop/Orders", dashboard_name="orders-board"),
        id="default-service",
    ),
]


def body_of(s: DashboardSpec) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(render(s, "json")["dashboard.json"])
    return body


def expected_alarms(s: DashboardSpec) -> dict[str, dict[str, Any]]:
    """The PutMetricAlarm inputs deploy would send, by alarm name."""
    dashboard = build(s)
    requests = [resolve(a.request(), dashboard.params) for a in dashboard.alarms]
    return {r["AlarmName"]: r for r in requests}


def metric_lines(body: dict[str, Any]) -> list[list[Any]]:
    return [
        line
        for w in body["widgets"]
        if w["type"] == "metric"
        for line in w["properties"]["metrics"]
    ]


def expressions(body: dict[str, Any]) -> list[str]:
    return [line[0]["expression"] for line in metric_lines(body) if isinstance(line[0], dict)]


@pytest.mark.parametrize("s", SPECS)
def test_body_follows_the_reference(s: DashboardSpec) -> None:
    """Every rendered body validates against the schema written from AWS's reference."""
    validate_body(body_of(s))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("s", SPECS)
def test_no_placeholder_survives(s: DashboardSpec, fmt: str) -> None:
    """No ``{{...}}`` is left in any file of any format."""
    for text in render(s, fmt).values():  # type: ignore[arg-type]
        assert PLACEHOLDER.search(text) is None


@pytest.mark.parametrize(
    ("routes", "expected"),
    [
        pytest.param(True, ["p99 latency by route (ms)", "Server errors by route"], id="on"),
        pytest.param(False, [], id="off"),
    ],
)
def test_route_widgets_follow_route_dimensions(routes: bool, expected: list[str]) -> None:
    """The SEARCH widgets appear exactly when route dimensions are on."""
    body = body_of(spec(route_dimensions=routes))
    searching = [
        w["properties"]["title"]
        for w in body["widgets"]
        if w["type"] == "metric"
        and any(
            "SEARCH(" in e[0].get("expression", "")
            for e in w["properties"]["metrics"]
            if isinstance(e[0], dict)
        )
    ]
    assert searching == expected


def test_search_names_the_whole_dimension_set() -> None:
    """SEARCH asks for exactly {namespace, service, route} and our service, labelled by route."""
    body = body_of(spec())
    searches = [e for e in expressions(body) if e.startswith("SEARCH")]
    assert searches == [
        "SEARCH('{Shop,service,route} MetricName=\"Latency\" service=\"orders\"', 'p99')",
        "SEARCH('{Shop,service,route} MetricName=\"ServerErrors\" service=\"orders\"', 'Sum')",
    ]
    entries = [line[0] for line in metric_lines(body) if isinstance(line[0], dict)]
    labels = [entry["label"] for entry in entries if "SEARCH" in entry["expression"]]
    assert labels == ["${PROP('Dim.route')}"] * 2


def test_search_quotes_a_namespace_with_other_characters() -> None:
    """A namespace such as ``Shop Orders`` is double-quoted in the SEARCH schema."""
    body = body_of(spec(namespace="Shop Orders"))
    assert any(e.startswith('SEARCH(\'{"Shop Orders",service,route}') for e in expressions(body))


@pytest.mark.parametrize(
    ("log_format", "field"),
    [
        pytest.param("text", "@initDuration", id="text"),
        pytest.param("json", "record.metrics.initDurationMs", id="json"),
    ],
)
def test_cold_start_report_follows_the_log_format(log_format: str, field: str) -> None:
    """Text REPORT lines and JSON platform.report events need different queries."""
    body = body_of(spec(log_format=log_format))
    (widget,) = [
        w for w in body["widgets"] if "Cold-start report" in w["properties"].get("title", "")
    ]
    assert widget["type"] == "log"
    assert field in widget["properties"]["query"]
    assert widget["properties"]["query"].startswith("SOURCE '/aws/lambda/orders-fn' | ")


@pytest.mark.parametrize(
    ("kind", "names"),
    [
        pytest.param("http-api", {"Count", "4xx", "5xx", "Latency"}, id="http-api"),
        pytest.param("rest", {"Count", "4XXError", "5XXError", "Latency"}, id="rest"),
        pytest.param(
            "alb",
            {
                "RequestCount",
                "HTTPCode_Target_4XX_Count",
                "HTTPCode_Target_5XX_Count",
                "HTTPCode_ELB_5XX_Count",
                "TargetResponseTime",
            },
            id="alb",
        ),
        pytest.param(
            "url", {"UrlRequestCount", "Url4xxCount", "Url5xxCount", "UrlRequestLatency"}, id="url"
        ),
    ],
)
def test_front_door_metrics(kind: str, names: set[str]) -> None:
    """Each front door graphs its own request, error and latency metrics."""
    namespace = {
        "http-api": "AWS/ApiGateway",
        "rest": "AWS/ApiGateway",
        "alb": "AWS/ApplicationELB",
        "url": "AWS/Lambda",
    }[kind]
    graphed = {line[1] for line in metric_lines(body_of(spec(kind))) if line[0] == namespace}
    lambda_own = {"Invocations", "Errors", "Throttles", "ConcurrentExecutions", "Duration"}
    assert graphed - lambda_own == names


def test_alb_latency_is_converted_to_milliseconds() -> None:
    """TargetResponseTime is in seconds, so the latency widget multiplies it by 1000."""
    assert "1000 * frontdoorp99raw" in expressions(body_of(spec("alb")))


@pytest.mark.parametrize(
    ("door", "dimensions"),
    [
        pytest.param(
            FrontDoor("http-api", api_id="abc", stage="$default"),
            ["ApiId", "abc", "Stage", "$default"],
            id="stage",
        ),
        pytest.param(FrontDoor("http-api", api_id="abc"), ["ApiId", "abc"], id="all-stages"),
        pytest.param(FrontDoor("rest", api_name="shop"), ["ApiName", "shop"], id="rest"),
    ],
)
def test_stage_dimension_only_when_given(door: FrontDoor, dimensions: list[str]) -> None:
    """Without --stage the API's metrics are read under its coarser dimension set."""
    lines = [
        line for line in metric_lines(body_of(spec(front_door=door))) if line[0] == "AWS/ApiGateway"
    ]
    assert lines
    assert all([x for x in line[2:] if isinstance(x, str)] == dimensions for line in lines)


def test_thresholds_reach_alarms_and_annotations() -> None:
    """A threshold given in the spec is the alarm's and the graph's threshold line."""
    s = spec(thresholds={"error_rate": 2.5, "latency_p99": 500})
    dashboard = build(s)
    by_key = {a.key: resolve(a.request(), dashboard.params) for a in dashboard.alarms}
    assert by_key["error_rate"]["Threshold"] == 2.5
    assert by_key["latency_p99"]["Threshold"] == 500
    assert "above 2.5% of requests" in by_key["error_rate"]["AlarmDescription"]
    body = body_of(s)
    lines = {
        w["properties"]["title"]: w["properties"]["annotations"]["horizontal"][0]["value"]
        for w in body["widgets"]
        if "annotations" in w.get("properties", {})
    }
    assert lines["Error rate (%)"] == 2.5
    assert lines["Latency (ms): handler and front door"] == 500


def test_duration_alarm_uses_the_timeout() -> None:
    """The duration alarm divides the max Duration by the timeout in milliseconds."""
    dashboard = build(spec(timeout_seconds=15))
    (alarm,) = [a for a in dashboard.alarms if a.key == "duration_timeout"]
    request = resolve(alarm.request(), dashboard.params)
    assert request["Metrics"][-1]["Expression"] == "100 * duration / (15 * 1000)"


def test_variables_switch_function_and_region() -> None:
    """A region property variable and a function-name pattern variable, defaulted."""
    variables = body_of(spec())["variables"]
    assert [
        (v["type"], v.get("property") or v.get("pattern"), v["defaultValue"]) for v in variables
    ] == [
        ("property", "region", "eu-west-1"),
        ("pattern", "orders-fn", "orders-fn"),
    ]


@pytest.mark.parametrize("s", SPECS)
def test_threshold_graphs_draw_what_their_alarm_watches(s: DashboardSpec) -> None:
    """A graph's threshold line sits on the same formula, over the same metrics, as its alarm.

    The alarm's query ids are mapped to the graph's ids of the same metric and statistic;
    the alarm's expression then reads exactly as the graph's line of the same id.
    """
    dashboard = build(s)
    alarms = {a.key: a for a in dashboard.alarms}
    compared = set()
    for widget in dashboard.body["widgets"]:
        properties = widget.get("properties", {})
        for line in properties.get("annotations", {}).get("horizontal", []):
            key = line["value"].removeprefix("{{#threshold.").removesuffix("}}")
            queries = alarms[key].metrics
            maths = [q for q in queries if "Expression" in q]
            if not maths:
                continue
            graph_ids = {}
            for entry in properties["metrics"]:
                if not isinstance(entry[0], dict):
                    *metric, render_options = entry
                    graph_ids[(*metric, render_options["stat"])] = render_options["id"]
            renamed = {}
            for query in queries:
                if "MetricStat" in query:
                    stat = query["MetricStat"]
                    m = stat["Metric"]
                    dims = [x for d in m["Dimensions"] for x in (d["Name"], d["Value"])]
                    renamed[query["Id"]] = graph_ids[
                        (m["Namespace"], m["MetricName"], *dims, stat["Stat"])
                    ]
            (math,) = maths
            text = math["Expression"]
            for old, new in renamed.items():
                text = re.sub(rf"\b{old}\b", new, text)
            drawn = {
                e[0]["id"]: e[0]["expression"]
                for e in properties["metrics"]
                if isinstance(e[0], dict)
            }
            assert drawn[math["Id"]] == text, key
            compared.add(key)
    assert compared == {"error_rate", "cold_start_rate", "front_door_5xx", "duration_timeout"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_log_group_is_the_default_everywhere(fmt: str) -> None:
    """``log_group=""`` reads as no log group in every widget, query and format."""
    default = render(spec(), fmt)  # type: ignore[arg-type]
    assert render(spec(log_group=""), fmt) == default  # type: ignore[arg-type]
    assert "/aws/lambda/" in "".join(default.values())
