"""A metric widget evaluated as CloudWatch would, over EMF values captured locally.

The preview (``preview.py``) reads the values; this module turns each metric widget of a
resolved dashboard body into a :class:`Chart` of per-period points. Values are grouped by
namespace, metric and exact dimension set, as CloudWatch groups them. What it evaluates:

- statistics ``Sum``, ``Average``, ``Minimum``, ``Maximum``, ``SampleCount`` and ``pNN``
  (nearest rank; CloudWatch's percentiles approximate the same thing);
- metric math ("Metric math syntax and functions", CloudWatch User Guide): numbers, ids,
  ``+ - * /``, brackets, ``FILL(id, number)``, ``PERIOD(id)``; series meet on the periods
  both have, and a period divided by zero has no value;
- ``SEARCH('{Namespace,dim,...} MetricName="X" dim="v"', 'stat')``, the form the per-route
  widgets write ("CloudWatch search expression syntax"): the metrics with exactly that
  dimension set whose name and values match, labelled through ``${PROP('Dim.x')}``.

Anything else is listed in :attr:`Chart.unsupported`, and the widget's other lines are still
evaluated. AWS metrics (``AWS/...``) are never in EMF: their lines, and expressions reading
them, are listed in :attr:`Chart.not_local`.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["LONG_SPAN", "Chart", "Key", "Samples", "Series", "auto_period", "charts", "span"]

LONG_SPAN = 600  # seconds of data above which periods are one minute instead of one second

Key = tuple[str, str, tuple[tuple[str, str], ...]]  # namespace, metric, sorted dimensions
Samples = Mapping[Key, Sequence[tuple[float, float]]]  # (epoch seconds, value) by metric
Points = dict[int, float]  # period start (epoch seconds) -> value
Result = Points | list[tuple[str, Points]] | Exception

_OPS: Mapping[type[ast.operator], Callable[[float, float], float]] = dict(
    zip(
        (ast.Add, ast.Sub, ast.Mult, ast.Div),
        (operator.add, operator.sub, operator.mul, operator.truediv),
        strict=True,
    )
)
_STATS: Mapping[str, Callable[[list[float]], float]] = {
    "Sum": math.fsum,
    "Average": lambda values: math.fsum(values) / len(values),
    "Minimum": min,
    "Maximum": max,
    "SampleCount": len,
}
_PERCENTILE = re.compile(r"p(100|\d{1,2}(?:\.\d+)?)")
_TERM = r'("[^"]*"|[\w.-]+)\s*=\s*("[^"]*"|[\w.-]+)'  # Name="value" or Name=value
_SEARCH = re.compile(r"\s*\{([^{}]+)\}((?:\s*" + _TERM + r")*)\s*")
_PROP = re.compile(r"\$\{PROP\('([^']+)'\)\}")


class _NotLocal(Exception):
    """The value reads an AWS metric, which EMF never carries."""


class _Unsupported(Exception):
    """The value needs metric math or a statistic that is not evaluated here."""


@dataclass(frozen=True, slots=True)
class Series:
    """One line of a chart: (period start in epoch seconds, value) points."""

    label: str
    points: tuple[tuple[int, float], ...]
    axis: str = "left"
    color: str | None = None


@dataclass(frozen=True, slots=True)
class Chart:
    """One metric widget, evaluated: its place, its lines, and what could not be drawn."""

    title: str
    place: tuple[int, int, int, int]  # x, y, width, height on the dashboard's grid
    series: tuple[Series, ...]
    axis_labels: tuple[str, str]  # left, right ("" when none)
    stacked: bool
    thresholds: tuple[tuple[float, str], ...]  # (value, axis) of each horizontal annotation
    not_local: tuple[str, ...]  # labels of visible lines that read AWS metrics
    unsupported: tuple[str, ...]  # "label: expression or statistic" of the others not drawn

    @property
    def points(self) -> int:
        return sum(len(series.points) for series in self.series)

    @property
    def aws_only(self) -> bool:
        """Every visible line reads AWS metrics: an empty panel, titled, saying so."""
        return bool(self.not_local) and not self.series and not self.unsupported


def span(samples: Samples) -> tuple[float, float] | None:
    """The first and last time stamped, in epoch seconds."""
    times = [when for values in samples.values() for when, _ in values]
    return (min(times), max(times)) if times else None


def auto_period(samples: Samples) -> int:
    """1 s for a local run; 60 s (CloudWatch's default) when the data spans over 10 minutes."""
    first, last = span(samples) or (0.0, 0.0)
    return 60 if last - first > LONG_SPAN else 1


def charts(body: Mapping[str, Any], samples: Samples, period: int) -> list[Chart]:
    """Each metric widget of a resolved dashboard body, in the body's order."""
    first, last = span(samples) or (0.0, -1.0)
    grid = list(range(int(first) // period * period, int(last) + 1, period))  # FILL's periods
    return [_chart(w, samples, period, grid) for w in body["widgets"] if w["type"] == "metric"]


def _chart(widget: Mapping[str, Any], samples: Samples, period: int, grid: list[int]) -> Chart:
    props = widget["properties"]
    lines = [
        (line, line[-1] if line and isinstance(line[-1], dict) else {}) for line in props["metrics"]
    ]
    results: dict[int, Result] = {}
    env: dict[str, Result] = {}
    # Metrics first: an expression may name an id defined anywhere in the array.
    for index, (line, render) in sorted(enumerate(lines), key=lambda i: "expression" in i[1][1]):
        try:
            if "expression" in render:
                results[index] = _expression(render, samples, period, grid, env)
            else:
                results[index] = _metric(line, render.get("stat", "Average"), samples, period)
        except (_NotLocal, _Unsupported) as exc:
            results[index] = exc
        env[render.get("id", f"m{index + 1}")] = results[index]
    series: list[Series] = []
    not_local, unsupported = [], []
    for index, (line, render) in enumerate(lines):
        value, axis = results[index], render.get("yAxis", "left")
        default = render.get("id", "") if "expression" in render else (line[1:2] or [""])[0]
        label = str(render.get("label") or default)
        if not render.get("visible", True):
            continue
        if isinstance(value, _NotLocal):
            not_local.append(label)
        elif isinstance(value, Exception):
            unsupported.append(f"{label}: {value}")
        elif isinstance(value, dict):
            series.append(Series(label, tuple(sorted(value.items())), axis, render.get("color")))
        else:
            series += [Series(name, tuple(sorted(v.items())), axis) for name, v in value]
    y_axis = props.get("yAxis", {})
    notes = props.get("annotations", {}).get("horizontal", [])
    return Chart(
        title=props.get("title", ""),
        place=(widget["x"], widget["y"], widget["width"], widget["height"]),
        series=tuple(series),
        axis_labels=(
            y_axis.get("left", {}).get("label", ""),
            y_axis.get("right", {}).get("label", ""),
        ),
        stacked=bool(props.get("stacked")),
        thresholds=tuple(
            (float(n["value"]), n.get("yAxis", "left"))
            for n in notes
            if isinstance(n, dict) and isinstance(n.get("value"), int | float)
        ),
        not_local=tuple(not_local),
        unsupported=tuple(unsupported),
    )


def _metric(line: list[Any], stat: str, samples: Samples, period: int) -> Points:
    fields = line[:-1] if line and isinstance(line[-1], dict) else line
    if len(fields) < 2 or len(fields) % 2 or not all(isinstance(f, str) for f in fields):
        raise _Unsupported(f"metric {json.dumps(line)}")  # such as the "." shorthand
    namespace, name, *dims = fields
    if namespace.startswith("AWS/"):
        raise _NotLocal(namespace)
    key = (namespace, name, tuple(sorted(zip(dims[::2], dims[1::2], strict=True))))
    return _aggregate(samples.get(key, ()), stat, period)


def _aggregate(values: Sequence[tuple[float, float]], stat: str, period: int) -> Points:
    """One value per period: the statistic of the values stamped in it."""
    match = _PERCENTILE.fullmatch(stat)
    if stat not in _STATS and match is None:
        raise _Unsupported(f"statistic {stat!r}")
    buckets: dict[int, list[float]] = {}
    for when, value in values:
        buckets.setdefault(int(when // period) * period, []).append(value)
    if match is None:
        return {start: float(_STATS[stat](got)) for start, got in sorted(buckets.items())}
    share = float(match.group(1)) / 100  # nearest rank: the smallest value >= share of them
    return {
        start: sorted(got)[max(1, math.ceil(share * len(got))) - 1]
        for start, got in sorted(buckets.items())
    }


def _expression(
    render: Mapping[str, Any],
    samples: Samples,
    period: int,
    grid: list[int],
    env: Mapping[str, Result],
) -> Points | list[tuple[str, Points]]:
    text = str(render["expression"])
    try:
        node = ast.parse(text.strip(), mode="eval").body  # CloudWatch's syntax is a subset
    except (SyntaxError, ValueError, RecursionError):
        raise _Unsupported(text) from None
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "SEARCH":
        return _search(node, text, str(render.get("label", "")), samples, period)
    value = _evaluate(node, text, env, grid, period)
    return value if isinstance(value, dict) else dict.fromkeys(grid, value)


def _evaluate(
    node: ast.expr, text: str, env: Mapping[str, Result], grid: list[int], period: int
) -> Points | float:
    def sub(child: ast.expr) -> Points | float:
        return _evaluate(child, text, env, grid, period)

    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id in env:
        value = env[node.id]
        if isinstance(value, _NotLocal):
            raise _NotLocal(str(value))
        if isinstance(value, dict):
            return value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _combine(operator.mul, -1.0, sub(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _combine(_OPS[type(node.op)], sub(node.left), sub(node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        match node.func.id, [sub(arg) for arg in node.args]:
            case "FILL", [dict() as series, float() as fill]:
                return {start: series.get(start, fill) for start in grid}
            case "PERIOD", [dict() as series]:
                return dict.fromkeys(series, float(period))
    raise _Unsupported(text)


def _combine(
    op: Callable[[float, float], float], a: Points | float, b: Points | float
) -> Points | float:
    if not isinstance(a, dict) and not isinstance(b, dict):
        try:
            return op(a, b)
        except ZeroDivisionError:
            raise _Unsupported("division by zero") from None
    left, right = _spread(a, b), _spread(b, a)
    out = {}
    for start in sorted(left.keys() & right.keys()):
        if right[start] == 0 and op is operator.truediv:
            continue  # CloudWatch leaves a period divided by zero without a value
        if math.isfinite(value := op(left[start], right[start])):
            out[start] = value
    return out


def _spread(value: Points | float, other: Points | float) -> Points:
    """A series as it is; a number as a series over the other operand's periods."""
    if isinstance(value, dict):
        return value
    return dict.fromkeys(other if isinstance(other, dict) else (), value)


def _search(
    node: ast.Call, text: str, label: str, samples: Samples, period: int
) -> list[tuple[str, Points]]:
    args = [arg.value if isinstance(arg, ast.Constant) else None for arg in node.args]
    query, stat = args if len(args) == 2 else (None, None)
    match = _SEARCH.fullmatch(query) if isinstance(query, str) else None
    if match is None or not isinstance(stat, str):
        raise _Unsupported(text)
    namespace, *names = (name.strip().strip('"') for name in match.group(1).split(","))
    terms = {k.strip('"'): v.strip('"') for k, v in re.findall(_TERM, match.group(2))}
    wanted = {(k if k == "MetricName" else f"Dim.{k}"): v for k, v in terms.items()}
    found = []
    for (space, metric, dims), values in samples.items():
        props = {"Namespace": space, "MetricName": metric, **{f"Dim.{n}": v for n, v in dims}}
        if (space, {n for n, _ in dims}) == (namespace, set(names)) and all(
            props.get(k) == v for k, v in wanted.items()
        ):
            found.append((_label(label, props) or metric, _aggregate(values, stat, period)))
    return sorted(found)


def _label(template: str, props: Mapping[str, str]) -> str:
    """A dynamic label ("Use dynamic labels"): ``${PROP('Dim.route')}`` and the like."""
    return _PROP.sub(lambda match: props.get(match.group(1), match.group(0)), template)
