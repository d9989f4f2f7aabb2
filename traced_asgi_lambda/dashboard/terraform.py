"""The Terraform module: the dashboard through ``templatefile``, the alarms, saved queries.

Resources of the AWS provider: ``aws_cloudwatch_dashboard`` (``dashboard_body =
templatefile("${path.module}/dashboard.json.tftpl", {...})``), ``aws_cloudwatch_metric_alarm``
with ``metric_query`` blocks, and ``aws_cloudwatch_query_definition``. The template is
the JSON body with CloudWatch's own ``${...}`` escaped as ``$${...}`` ("templatefile
function": the file is a string template). Every command-line value is a variable's
default; the account and partition come from data sources.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from traced_asgi_lambda.dashboard.alarms import AlarmDef
from traced_asgi_lambda.dashboard.body import Dashboard
from traced_asgi_lambda.dashboard.hcl import Block, Raw
from traced_asgi_lambda.dashboard.params import log_group
from traced_asgi_lambda.dashboard.placeholders import Param, names_in, substitute, tf_escape

__all__ = ["TEMPLATE", "module"]

TEMPLATE = "dashboard.json.tftpl"
_PROVIDER = ">= 5.0"  # metric_query and query definitions are in every 5.x release


def module(dashboard: Dashboard) -> dict[str, str]:
    """The module's files, by name."""
    params = dashboard.params
    body = json.dumps(dashboard.body, indent=2)
    used = names_in(body) | names_in(json.dumps([a.request() for a in dashboard.alarms]))
    used |= {"function_name"} | names_in(log_group(dashboard.spec))

    def var(param: Param) -> str:
        return "${" + param.tf_template_name + "}"

    files = {
        "versions.tf": _versions(),
        "variables.tf": _variables(dashboard, [p for p in params.values() if p.name in used]),
        "main.tf": _main(dashboard, sorted(used & names_in(body)), used),
        "outputs.tf": _outputs(dashboard),
        TEMPLATE: substitute(tf_escape(body), params, inline=var, whole=var) + "\n",
    }
    return {name: text if text.endswith("\n") else text + "\n" for name, text in files.items()}


def _versions() -> str:
    terraform = Block("terraform").set("required_version", ">= 1.3")
    providers = terraform.block("required_providers")
    providers.set("aws", {"source": "hashicorp/aws", "version": _PROVIDER})
    return terraform.render({})


def _variables(dashboard: Dashboard, params: list[Param]) -> str:
    blocks: list[Block] = []
    for param in params:
        if param.tf_variable is None:
            continue
        block = Block(f'variable "{param.tf.removeprefix("var.")}"')
        block.set("description", param.tf_variable["description"])
        block.set("type", Raw(param.tf_variable["type"]))
        block.set("default", param.tf_variable["default"])
        blocks.append(block)
    name = Block('variable "dashboard_name"')
    name.set("description", "The dashboard's name; empty for the function's name.")
    name.set("type", Raw("string")).set("default", dashboard.spec.dashboard_name or "")
    actions = Block('variable "alarm_actions"')
    actions.set("description", "SNS topic ARNs to notify when an alarm changes state.")
    actions.set("type", Raw("list(string)")).set("default", list(dashboard.spec.alarm_actions))
    return "\n\n".join(block.render({}) for block in [*blocks, name, actions])


def _main(dashboard: Dashboard, body_names: list[str], used: set[str]) -> str:
    params = dashboard.params
    blocks = []
    for name, source in (("account_id", "aws_caller_identity"), ("partition", "aws_partition")):
        if name in used:
            blocks.append(Block(f'data "{source}" "current"'))
    dashboard_name = Raw('var.dashboard_name != "" ? var.dashboard_name : var.function_name')
    values = {params[n].tf_template_name: Raw(params[n].tf) for n in body_names}
    board = Block('resource "aws_cloudwatch_dashboard" "this"')
    board.set("dashboard_name", dashboard_name)
    board.set(
        "dashboard_body", Raw(f'templatefile("${{path.module}}/{TEMPLATE}", {_object(values)})')
    )
    blocks.append(board)
    blocks += [_alarm(alarm) for alarm in dashboard.alarms]
    group = log_group(dashboard.spec)
    for name, query in dashboard.queries:
        saved = Block(f'resource "aws_cloudwatch_query_definition" "{query.key}"')
        saved.set("name", name).set("log_group_names", [group])
        saved.set("query_string", query.text())
        blocks.append(saved)
    return "\n\n".join(block.render(params) for block in blocks)


def _object(values: Mapping[str, Any]) -> str:
    width = max(len(key) for key in values)
    inner = "\n".join(f"    {key.ljust(width)} = {value}" for key, value in values.items())
    return "{\n" + inner + "\n  }"


def _alarm(alarm: AlarmDef) -> Block:
    request = alarm.request()
    block = Block(f'resource "aws_cloudwatch_metric_alarm" "{alarm.key}"')
    block.set("alarm_name", request["AlarmName"])
    block.set("alarm_description", request["AlarmDescription"])
    block.set("comparison_operator", request["ComparisonOperator"])
    block.set("evaluation_periods", request["EvaluationPeriods"])
    block.set("datapoints_to_alarm", request["DatapointsToAlarm"])
    block.set("threshold", request["Threshold"])
    block.set("treat_missing_data", request["TreatMissingData"])
    block.set("alarm_actions", Raw("var.alarm_actions"))
    block.set("ok_actions", Raw("var.alarm_actions"))
    for query in request["Metrics"]:
        metric_query = block.block("metric_query")
        metric_query.set("id", query["Id"])
        if "Expression" in query:
            metric_query.set("expression", query["Expression"]).set("label", query["Label"])
        metric_query.set("return_data", query["ReturnData"])
        if "MetricStat" in query:
            stat = query["MetricStat"]
            metric = metric_query.block("metric")
            metric.set("namespace", stat["Metric"]["Namespace"])
            metric.set("metric_name", stat["Metric"]["MetricName"])
            metric.set("period", stat["Period"]).set("stat", stat["Stat"])
            dimensions = {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
            metric.set("dimensions", dimensions)
    return block


def _outputs(dashboard: Dashboard) -> str:
    arn = Block('output "dashboard_arn"').set(
        "value", Raw("aws_cloudwatch_dashboard.this.dashboard_arn")
    )
    arns = {a.key: Raw(f"aws_cloudwatch_metric_alarm.{a.key}.arn") for a in dashboard.alarms}
    alarms = Block('output "alarm_arns"').set("value", arns)
    return "\n\n".join(block.render({}) for block in (arn, alarms))
