"""The CloudFormation (and SAM) template: dashboard, alarms and saved queries.

Resources, with properties as the CloudFormation Template Reference names them:

- ``AWS::CloudWatch::Dashboard``: ``DashboardBody`` is the JSON body inside ``Fn::Sub``,
  with CloudWatch's own ``${...}`` (dynamic labels) escaped as ``${!...}``;
- ``AWS::CloudWatch::Alarm`` with ``Metrics`` (``MetricDataQuery``), ``Threshold`` from a
  Number parameter, ``DatapointsToAlarm``/``EvaluationPeriods`` and ``TreatMissingData``;
- ``AWS::Logs::QueryDefinition`` with ``Name``, ``QueryString`` and ``LogGroupNames``.

Every value given on the command line is a parameter's default; the Region, account and
partition are pseudo parameters; the alarm status widget reads each alarm's ``Arn``.
A SAM template can include this one as a nested stack (``AWS::Serverless::Application``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from traced_asgi_lambda.dashboard.body import Dashboard
from traced_asgi_lambda.dashboard.params import camel, log_group
from traced_asgi_lambda.dashboard.placeholders import (
    PLACEHOLDER,
    Param,
    cfn_escape,
    names_in,
    ph,
    substitute,
)

__all__ = ["template", "to_cfn"]

_ACTIONS = "AlarmActions"
_HAS_ACTIONS = "HasAlarmActions"


def to_cfn(value: Any, params: Mapping[str, Param]) -> Any:
    """``value`` for a template: placeholders become ``Ref``, ``Fn::GetAtt`` or ``Fn::Sub``."""
    if isinstance(value, dict):
        return {k: to_cfn(v, params) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_cfn(item, params) for item in value]
    if not isinstance(value, str) or not names_in(value):
        return value
    match = PLACEHOLDER.fullmatch(value)
    if match:
        return params[match.group(2)].cfn_ref()
    return {"Fn::Sub": _sub(value, params)}


def _sub(text: str, params: Mapping[str, Param]) -> str:
    def ref(param: Param) -> str:
        return "${" + param.cfn + "}"

    return substitute(cfn_escape(text), params, inline=ref, whole=ref)


def template(dashboard: Dashboard) -> dict[str, Any]:
    """The whole template, as a JSON-ready dict."""
    spec, params = dashboard.spec, dashboard.params
    raw: dict[str, Any] = {
        "Dashboard": {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {
                "DashboardName": spec.dashboard_name or ph("function_name"),
                "DashboardBody": json.dumps(dashboard.body, separators=(",", ":")),
            },
        }
    }
    actions = {"Fn::If": [_HAS_ACTIONS, {"Ref": _ACTIONS}, {"Ref": "AWS::NoValue"}]}
    for alarm in dashboard.alarms:
        properties = {**alarm.request(), "AlarmActions": actions, "OKActions": actions}
        raw[f"{camel(alarm.key)}Alarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": properties,
        }
    group = log_group(spec)
    for name, query in dashboard.queries:
        raw[f"{camel(query.key)}Query"] = {
            "Type": "AWS::Logs::QueryDefinition",
            "Properties": {"Name": name, "QueryString": query.text(), "LogGroupNames": [group]},
        }
    used = names_in(json.dumps(raw))
    parameters = {
        p.cfn: dict(p.cfn_parameter) for p in params.values() if p.cfn_parameter and p.name in used
    }
    parameters[_ACTIONS] = {
        "Type": "CommaDelimitedList",
        "Default": ",".join(spec.alarm_actions),
        "Description": "SNS topic ARNs to notify when an alarm changes state; empty for none.",
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"CloudWatch dashboard, alarms and queries for {spec.function_name}",
        "Parameters": parameters,
        "Conditions": {
            _HAS_ACTIONS: {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": _ACTIONS}]}, ""]}]}
        },
        "Resources": to_cfn(raw, params),
        "Outputs": {
            "DashboardName": {"Value": {"Ref": "Dashboard"}},
            "DashboardUrl": {
                "Value": {
                    "Fn::Sub": "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home"
                    "?region=${AWS::Region}#dashboards:name=${Dashboard}"
                }
            },
        },
    }
