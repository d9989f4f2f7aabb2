"""The lint on top of the schema, and proof that it and the schema catch what they should.

:func:`lint` checks what a JSON Schema cannot say about a dashboard body: widgets fit the
24-column grid and do not overlap; every metric or log widget has a Region (alarm
widgets carry theirs in each ARN, text widgets have none in the reference); metric ids
are lowercase and unique within their widget and every identifier an expression uses is
one of them; dimensions come in name/value pairs with the rendering object last.
:func:`lint_alarm` checks ``PutMetricAlarm`` inputs the same way, plus: no ``SEARCH``,
exactly one query returning data, M out of N with M <= N, missing data not breaching.
Every rendered body and alarm passes; then the tests
break a good body one way at a time and expect the schema or the lint to say so.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from tests.dashboard_schema import GRID, validate_body
from tests.test_dashboard_render import SPECS, body_of, spec
from traced_asgi_lambda.dashboard import DashboardSpec, build
from traced_asgi_lambda.dashboard.render import resolve

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NAME = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
_LOWER_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_REGION_IN_ARN = re.compile(r"^arn:[^:]+:cloudwatch:([a-z0-9-]+):")


def references(expression: str) -> set[str]:
    """The ids an expression uses: its lowercase identifiers outside quoted strings.

    Metric math functions are upper case (``FILL``, ``PERIOD``, ``SEARCH``: "Metric math
    syntax and functions"), so a lowercase name is a reference to another query's id.
    """
    return {name for name in _NAME.findall(_QUOTED.sub(" ", expression)) if name[0].islower()}


def lint(body: dict[str, Any]) -> list[str]:
    """Problems the schema cannot see, as sentences; empty when there are none."""
    problems: list[str] = []
    placed: list[tuple[int, int, int, int, int]] = []
    for n, widget in enumerate(body["widgets"]):
        where = f"widget {n} ({widget['properties'].get('title', widget['type'])})"
        x, y, w, h = (widget.get(k, 0) for k in ("x", "y", "width", "height"))
        if x + w > GRID:
            problems.append(f"{where}: x + width = {x + w} > {GRID}")
        for ox, oy, ow, oh, m in placed:
            if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                problems.append(f"{where} overlaps widget {m}")
        placed.append((x, y, w, h, n))
        problems += [
            f"{where}: {p}" for p in _lint_properties(widget["type"], widget["properties"])
        ]
    return problems


def _lint_properties(kind: str, properties: dict[str, Any]) -> list[str]:
    if kind in ("metric", "log") and not properties.get("region"):
        return ["no region"]
    if kind == "alarm":
        return [
            f"alarm ARN without a region: {arn}"
            for arn in properties["alarms"]
            if not _REGION_IN_ARN.match(arn)
        ]
    if kind != "metric":
        return []
    problems, ids, uses = [], [], []
    for entry in properties.get("metrics", []):
        if isinstance(entry[0], dict):
            expression = entry[0]
            ids.append(expression.get("id"))
            uses.append((expression.get("id"), expression["expression"]))
            continue
        names = [item for item in entry if isinstance(item, str)]
        objects = [i for i, item in enumerate(entry) if isinstance(item, dict)]
        if len(names) % 2:
            problems.append(f"{entry[1]}: a dimension name without a value")
        if objects and objects != [len(entry) - 1]:
            problems.append(f"{entry[1]}: the rendering object is not last")
        if objects:
            ids.append(entry[-1].get("id"))
    return problems + _lint_ids([i for i in ids if i is not None], uses)


def _lint_ids(ids: list[str], uses: list[tuple[str | None, str]]) -> list[str]:
    problems = [f"id {i!r} is not lowercase" for i in ids if not _LOWER_ID.match(i)]
    problems += [f"id {i!r} is used twice" for i in sorted(set(ids)) if ids.count(i) > 1]
    for own, expression in uses:
        for name in sorted(references(expression) - set(ids)):
            problems.append(f"{own}: {name!r} in {expression!r} is not an id here")
        if own is not None and own in references(expression):
            problems.append(f"{own}: refers to itself")
    return problems


def lint_alarm(request: dict[str, Any]) -> list[str]:
    """Problems in a ``PutMetricAlarm`` input built from metric queries."""
    queries = request["Metrics"]
    ids = [q["Id"] for q in queries]
    uses = [(q["Id"], q["Expression"]) for q in queries if "Expression" in q]
    problems = _lint_ids(ids, uses)
    problems += [
        f"{q['Id']}: SEARCH in an alarm" for q in queries if "SEARCH" in q.get("Expression", "")
    ]
    returning = [q["Id"] for q in queries if q.get("ReturnData", True)]
    if len(returning) != 1:
        problems.append(f"expected exactly one query with ReturnData, got {returning}")
    for key in ("EvaluationPeriods", "DatapointsToAlarm"):
        if not isinstance(request.get(key), int):
            problems.append(f"{key} missing")
    if request.get("DatapointsToAlarm", 0) > request.get("EvaluationPeriods", 0):
        problems.append("DatapointsToAlarm > EvaluationPeriods")
    if request.get("TreatMissingData") != "notBreaching":
        problems.append("TreatMissingData is not notBreaching")
    return problems


@pytest.mark.parametrize("s", SPECS)
def test_body_passes_the_lint(s: DashboardSpec) -> None:
    """Grid, regions, ids and expression references are all sound."""
    assert lint(body_of(s)) == []


@pytest.mark.parametrize("s", SPECS)
def test_alarms_pass_the_lint(s: DashboardSpec) -> None:
    """Alarms: M of N, notBreaching, one query returning data, no SEARCH, ids resolve."""
    dashboard = build(s)
    assert [a.key for a in dashboard.alarms] == [
        "error_rate",
        "latency_p99",
        "throttles",
        "cold_start_rate",
        "front_door_5xx",
        "duration_timeout",
        "timeouts",
    ]
    for alarm in dashboard.alarms:
        request = resolve(alarm.request(), dashboard.params)
        assert lint_alarm(request) == [], alarm.key
        assert request["DatapointsToAlarm"] < request["EvaluationPeriods"]


Body = dict[str, Any]


def widget(body: Body, title: str) -> dict[str, Any]:
    """The widget titled ``title``."""
    found: list[dict[str, Any]] = [
        w for w in body["widgets"] if w["properties"].get("title") == title
    ]
    assert len(found) == 1
    return found[0]


def _move(body: Body) -> None:
    widget(body, "Error rate (%)")["x"] = 0  # onto "Requests per second"


def _widen(body: Body) -> None:
    widget(body, "Latency (ms): handler and front door")["width"] = 9


def _no_region(body: Body) -> None:
    del widget(body, "Errors by route (access log)")["properties"]["region"]


def _upper_id(body: Body) -> None:
    widget(body, "Throttles and concurrency")["properties"]["metrics"][0][-1]["id"] = "Throttles"


def _twice(body: Body) -> None:
    metrics = widget(body, "Cold starts")["properties"]["metrics"]
    metrics[1][-1]["id"] = "coldstarts"


def _dangling(body: Body) -> None:
    metrics = widget(body, "Error rate (%)")["properties"]["metrics"]
    metrics[3][0]["expression"] = "100 * servererrors / requestz"


def _half_dimension(body: Body) -> None:
    widget(body, "Requests per second")["properties"]["metrics"][0].insert(2, "Resource")


@pytest.mark.parametrize(
    ("breaks", "problem"),
    [
        pytest.param(_move, "overlaps widget", id="overlap"),
        pytest.param(_widen, f"x + width = 25 > {GRID}", id="past-the-grid"),
        pytest.param(_no_region, "no region", id="no-region"),
        pytest.param(_upper_id, "'Throttles' is not lowercase", id="uppercase-id"),
        pytest.param(_twice, "'coldstarts' is used twice", id="duplicate-id"),
        pytest.param(_dangling, "'requestz'", id="unresolved-reference"),
        pytest.param(_half_dimension, "a dimension name without a value", id="odd-dimensions"),
    ],
)
def test_lint_finds(breaks: Callable[[Body], None], problem: str) -> None:
    """Each kind of mistake is reported by the lint."""
    body = copy.deepcopy(body_of(spec()))
    assert lint(body) == []
    breaks(body)
    assert any(problem in p for p in lint(body)), lint(body)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param(("widgets", 2, "x"), 24, id="x-off-grid"),
        pytest.param(("widgets", 2, "type"), "graph", id="unknown-type"),
        pytest.param(("widgets", 2, "properties", "period"), 90, id="period-not-60s"),
        pytest.param(("widgets", 2, "properties", "stat"), "P99", id="bad-stat"),
        pytest.param(("widgets", 2, "properties", "titel"), "typo", id="unknown-property"),
        pytest.param(("widgets", 0, "properties", "region"), "eu-west-1", id="region-on-text"),
        pytest.param(("widgets", 1, "properties", "alarms"), [], id="no-alarms"),
        pytest.param(("periodOverride",), "sometimes", id="period-override"),
        pytest.param(("variables", 0, "id"), "not an id!", id="variable-id"),
    ],
)
def test_schema_refuses(path: tuple[Any, ...], value: Any) -> None:
    """A value the reference does not allow fails validation."""
    body = copy.deepcopy(body_of(spec()))
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        validate_body(body)


def test_lint_alarm_finds_search_and_two_results() -> None:
    """An alarm with SEARCH, or with two queries returning data, is reported."""
    dashboard = build(spec())
    request = resolve(dashboard.alarms[0].request(), dashboard.params)
    assert lint_alarm(request) == []
    request["Metrics"][0]["ReturnData"] = True
    request["Metrics"][-1]["Expression"] = "SEARCH('{Shop,service} Requests', 'Sum')"
    problems = lint_alarm(request)
    assert any("SEARCH in an alarm" in p for p in problems)
    assert any("exactly one query" in p for p in problems)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        pytest.param("100 * FILL(coldstarts, 0) / requests", {"coldstarts", "requests"}, id="math"),
        pytest.param("SEARCH('{Shop,service} MetricName=\"Latency\"', 'p99')", set(), id="search"),
        pytest.param("invocations / PERIOD(invocations)", {"invocations"}, id="period"),
    ],
)
def test_references(expression: str, expected: set[str]) -> None:
    """References are the lowercase names outside quoted strings."""
    assert references(expression) == expected
