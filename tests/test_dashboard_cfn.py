"""The CloudFormation template: cfn-lint passes, and it is the same dashboard as the JSON.

Resolving the template's ``Fn::Sub``, ``Ref``, ``Fn::GetAtt`` and ``Fn::If`` the way
CloudFormation does (parameter defaults, pseudo parameters, ``${!x}`` to ``${x}``) gives
exactly the plain-JSON body, ``deploy``'s alarm inputs and the saved queries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]

from tests.test_dashboard_render import SPECS, body_of, expected_alarms, spec
from traced_asgi_lambda.dashboard import DashboardSpec, build, render

CFN_SPECS = [
    *SPECS,
    pytest.param(
        spec("alb", alarm_actions=("arn:aws:sns:eu-west-1:123456789012:oncall",)), id="actions"
    ),
]


def cfn_template(s: DashboardSpec) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(render(s, "cfn")["template.json"])
    return template


@pytest.mark.parametrize("s", CFN_SPECS)
def test_cfn_lint_passes(s: DashboardSpec) -> None:
    """cfn-lint finds nothing, not even a warning, in any rendered template."""
    text = render(s, "cfn")["template.json"]
    matches = lint(text, config=ManualArgs(regions=[s.region]))
    assert [str(m) for m in matches] == []


def test_template_fits_a_direct_upload() -> None:
    """Under 51,200 bytes, the limit for a template body passed directly (not from S3)."""
    assert len(render(spec("alb"), "cfn")["template.json"].encode()) < 51_200


class Cfn:
    """Resolves intrinsic functions as CloudFormation would, for one stack."""

    def __init__(self, template: Mapping[str, Any], s: DashboardSpec) -> None:
        self.resources = template["Resources"]
        self.values: dict[str, Any] = {
            name: p["Default"] for name, p in template["Parameters"].items()
        }
        self.values["AlarmActions"] = [a for a in self.values["AlarmActions"].split(",") if a]
        self.values |= {
            "AWS::Region": s.region,
            "AWS::AccountId": s.account_id,
            "AWS::Partition": s.partition,
        }
        self.conditions = {"HasAlarmActions": bool(self.values["AlarmActions"])}

    def attribute(self, resource: str, name: str) -> str:
        assert name == "Arn"
        alarm = self.resolve(self.resources[resource]["Properties"]["AlarmName"])
        region, account = self.values["AWS::Region"], self.values["AWS::AccountId"]
        return f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm}"

    def variable(self, name: str) -> str:
        if "." in name and not name.startswith("AWS::"):
            return self.attribute(*name.split(".", 1))
        value = self.values[name]
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self.values[value["Ref"]] if value["Ref"] != "AWS::NoValue" else None
        if "Fn::GetAtt" in value:
            return self.attribute(*value["Fn::GetAtt"])
        if "Fn::Sub" in value:
            text = re.sub(
                r"\$\{([^!}][^}]*)\}", lambda m: self.variable(m.group(1)), value["Fn::Sub"]
            )
            return text.replace("${!", "${")
        if "Fn::If" in value:
            condition, then, otherwise = value["Fn::If"]
            return self.resolve(then if self.conditions[condition] else otherwise)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not None}


@pytest.mark.parametrize("s", CFN_SPECS)
def test_cfn_dashboard_is_the_json_body(s: DashboardSpec) -> None:
    """Fn::Sub over the body, with the ${!...} escapes, yields the plain-JSON body."""
    template = cfn_template(s)
    stack = Cfn(template, s)
    board = stack.resolve(template["Resources"]["Dashboard"]["Properties"])
    assert json.loads(board["DashboardBody"]) == body_of(s)
    assert board["DashboardName"] == s.name
    assert "${!PROP('Dim.route')}" in json.dumps(template) or not s.route_dimensions


@pytest.mark.parametrize("s", CFN_SPECS)
def test_cfn_alarms_and_queries_are_deploys(s: DashboardSpec) -> None:
    """Each alarm resource is the PutMetricAlarm input deploy sends; queries are saved."""
    template = cfn_template(s)
    stack = Cfn(template, s)
    resources = template["Resources"]
    alarms = [
        stack.resolve(r["Properties"])
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    expected = expected_alarms(s)
    for alarm in alarms:
        actions = list(s.alarm_actions)
        assert alarm.pop("AlarmActions", []) == actions
        assert alarm.pop("OKActions", []) == actions
        alarm["Threshold"] = float(alarm["Threshold"])
        assert alarm == expected[alarm["AlarmName"]]
    assert len(alarms) == len(expected)
    queries = [
        stack.resolve(r["Properties"])
        for r in resources.values()
        if r["Type"] == "AWS::Logs::QueryDefinition"
    ]
    saved = {
        name.replace("{{function_name}}", s.function_name): q.text() for name, q in build(s).queries
    }
    assert {q["Name"]: q["QueryString"] for q in queries} == saved
    assert all(q["LogGroupNames"] == [s.log_group_name] for q in queries)
