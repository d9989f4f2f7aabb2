"""The Terraform module: valid HCL2, and the same dashboard and alarms as the JSON.

Evaluating its variables' defaults and ``templatefile`` the way Terraform does (``${name}``
substituted, ``$${`` and ``%%{`` literal) gives exactly the plain-JSON body; each
``aws_cloudwatch_metric_alarm`` is ``deploy``'s ``PutMetricAlarm`` input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import hcl2
import pytest

from tests.test_dashboard_render import SPECS, body_of, expected_alarms
from traced_asgi_lambda.dashboard import DashboardSpec, render
from traced_asgi_lambda.dashboard.alarms import alarm_keys


def terraform(s: DashboardSpec) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    """The module's files, its parsed main.tf, and each variable's default."""
    files = render(s, "terraform")
    main = hcl2.loads(files["main.tf"])
    defaults = {}
    for block in hcl2.loads(files["variables.tf"])["variable"]:
        ((name, body),) = block.items()
        defaults[f"var.{name.strip(chr(34))}"] = _literal(body["default"])
    return files, main, defaults


def _literal(value: Any) -> Any:
    if isinstance(value, str) and value.startswith('"'):
        return json.loads(value)
    return value


class Tf:
    """Evaluates the module's expressions as Terraform would, with variables' defaults."""

    def __init__(self, s: DashboardSpec, defaults: Mapping[str, Any]) -> None:
        self.values = dict(defaults)
        for key in alarm_keys():
            name = f"{s.function_name}-{key.replace('_', '-')}"
            self.values[f"aws_cloudwatch_metric_alarm.{key}.arn"] = (
                f"arn:aws:cloudwatch:{s.region}:{s.account_id}:alarm:{name}"
            )

    def expression(self, text: str) -> Any:
        if text in self.values:
            return self.values[text]
        if text == 'var.dashboard_name != "" ? var.dashboard_name : var.function_name':
            return self.values["var.dashboard_name"] or self.values["var.function_name"]
        raise AssertionError(f"unexpected expression {text!r}")

    def value(self, value: Any) -> Any:
        """A value as python-hcl2 gives it: quoted strings, ``${expr}``, numbers, blocks."""
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k.strip('"'): self.value(v) for k, v in value.items() if k != "__is_block__"}
        if not isinstance(value, str):
            return value
        if value.startswith("${") and value.endswith("}") and value.count("${") == 1:
            return self.expression(value[2:-1])
        assert value.startswith('"'), value
        return self.template(value[1:-1])

    def template(self, source: str) -> str:
        """A quoted string's source: escapes decoded, ``${expr}`` evaluated, ``$${`` literal."""
        out = []
        for match in _TOKEN.finditer(source):
            token, expression, escaped = match.group(0), match.group(1), match.group(2)
            if token in ("$${", "%%{"):
                out.append(token[1:])
            elif expression is not None:
                out.append(_text(self.expression(expression)))
            elif escaped is not None:
                out.append({"n": "\n", "t": "\t", "r": "\r"}.get(escaped, escaped))
            else:
                out.append(token)
        return "".join(out)


_TOKEN = re.compile(r"\$\$\{|%%\{|\$\{([^}]*)\}|\\(.)|[^\\$%]+|[$%]")


def _text(value: Any) -> str:
    return (
        str(int(value))
        if isinstance(value, float | int) and float(value).is_integer()
        else str(value)
    )


def templatefile(text: str, variables: Mapping[str, Any]) -> str:
    """Terraform's string template: ``${name}`` substituted, ``$${`` and ``%%{`` literal."""
    pattern = re.compile(r"\$\$\{|%%\{|\$\{([a-z_0-9]+)\}")

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$${":
            return "${"
        if token == "%%{":
            return "%{"
        return _text(variables[match.group(1)])

    return pattern.sub(one, text)


@pytest.mark.parametrize("s", SPECS)
def test_terraform_files_parse(s: DashboardSpec) -> None:
    """Every .tf file is valid HCL2 with the resources a module needs."""
    files, main, _ = terraform(s)
    assert sorted(files) == [
        "dashboard.json.tftpl",
        "main.tf",
        "outputs.tf",
        "variables.tf",
        "versions.tf",
    ]
    for name in ("outputs.tf", "versions.tf"):
        hcl2.loads(files[name])
    kinds = [next(iter(r)).strip('"') for r in main["resource"]]
    assert kinds.count("aws_cloudwatch_dashboard") == 1
    assert kinds.count("aws_cloudwatch_metric_alarm") == len(alarm_keys())
    assert kinds.count("aws_cloudwatch_query_definition") == 3


@pytest.mark.parametrize("s", SPECS)
def test_terraform_dashboard_is_the_json_body(s: DashboardSpec) -> None:
    """templatefile() over the template, with the module's values, yields the JSON body."""
    files, main, defaults = terraform(s)
    tf = Tf(s, defaults)
    (board,) = [
        r['"aws_cloudwatch_dashboard"']['"this"']
        for r in main["resource"]
        if '"aws_cloudwatch_dashboard"' in r
    ]
    call = re.fullmatch(
        r'\$\{templatefile\("\$\{path\.module\}/([^"]+)", \{(.*)\}\)\}', board["dashboard_body"]
    )
    assert call is not None
    variables = {
        k: tf.expression(v) for k, v in re.findall(r"([a-z_0-9]+) = ([^,]+)", call.group(2))
    }
    assert json.loads(templatefile(files[call.group(1)], variables)) == body_of(s)
    assert tf.value(board["dashboard_name"]) == s.name


@pytest.mark.parametrize("s", SPECS)
def test_terraform_alarms_are_deploys(s: DashboardSpec) -> None:
    """Each aws_cloudwatch_metric_alarm is the PutMetricAlarm input deploy sends."""
    _, main, defaults = terraform(s)
    tf = Tf(s, defaults)
    expected = expected_alarms(s)
    alarms = [
        tf.value(body)
        for r in main["resource"]
        for kind, named in r.items()
        if kind == '"aws_cloudwatch_metric_alarm"'
        for body in named.values()
    ]
    assert len(alarms) == len(expected)
    for alarm in alarms:
        want = expected[alarm["alarm_name"]]
        assert alarm["alarm_description"] == want["AlarmDescription"]
        assert float(alarm["threshold"]) == want["Threshold"]
        fields = (
            "comparison_operator",
            "evaluation_periods",
            "datapoints_to_alarm",
            "treat_missing_data",
        )
        assert [alarm[f] for f in fields] == [want[_camel(f)] for f in fields]
        assert [_query(q) for q in alarm["metric_query"]] == want["Metrics"]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _query(block: Mapping[str, Any]) -> dict[str, Any]:
    query: dict[str, Any] = {"Id": block["id"]}
    if "metric" in block:
        (metric,) = block["metric"]
        dimensions = [{"Name": k, "Value": v} for k, v in metric["dimensions"].items()]
        query["MetricStat"] = {
            "Metric": {
                "Namespace": metric["namespace"],
                "MetricName": metric["metric_name"],
                "Dimensions": dimensions,
            },
            "Period": metric["period"],
            "Stat": metric["stat"],
        }
    else:
        query |= {"Expression": block["expression"], "Label": block["label"]}
    query["ReturnData"] = block["return_data"]
    return query
