"""The deploy-time values of one dashboard, as :class:`~.placeholders.Param` objects.

Each value becomes a CloudFormation parameter (or a pseudo parameter, or an alarm's
``Arn`` attribute) and a Terraform variable (or a data source, or an alarm's ``arn``),
with the command line's values as defaults, so one rendered template serves other
functions too. ``alarm_name`` gives every alarm the same name in every format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from traced_asgi_lambda.dashboard.placeholders import Param, ph
from traced_asgi_lambda.dashboard.spec import DashboardSpec

__all__ = ["alarm_name", "camel", "log_group", "parameters"]

# (setting, CloudFormation parameter, description) of each front-door setting.
_FRONT_DOOR = (
    ("api_id", "ApiId", "The HTTP API's id (its CloudWatch dimension ApiId)."),
    ("api_name", "ApiName", "The REST API's name (its CloudWatch dimension ApiName)."),
    ("stage", "ApiStage", "The API stage (its CloudWatch dimension Stage)."),
    ("load_balancer", "LoadBalancerArnSuffix", "The ALB's ARN suffix, app/<name>/<id>."),
    ("target_group", "TargetGroupArnSuffix", "The ARN suffix, targetgroup/<name>/<id>."),
)


def log_group(spec: DashboardSpec) -> str:
    """The function's log group, with placeholders: the ``log_group`` parameter when the
    spec names one, else Lambda's default group for the function (as ``log_group_name``)."""
    return ph("log_group") if spec.log_group else f"/aws/lambda/{ph('function_name')}"


def camel(key: str) -> str:
    """``error_rate`` -> ``ErrorRate``: CloudFormation's naming for ids."""
    return "".join(part.capitalize() for part in key.split("_"))


def alarm_name(key: str) -> str:
    """An alarm's name, the function's as a placeholder: ``{{function_name}}-error-rate``."""
    return f"{ph('function_name')}-{key.replace('_', '-')}"


def parameters(
    spec: DashboardSpec,
    thresholds: Mapping[str, float],
    alarm_arns: Mapping[str, str] | None = None,
) -> dict[str, Param]:
    """Every deploy-time value, by placeholder name.

    ``thresholds`` holds each alarm's threshold (defaults already merged with the spec's);
    ``alarm_arns`` the real ARNs when they are known (``deploy``), else they are built
    from the account id, Region and partition (plain JSON).
    """
    params = [
        _string(
            "function_name",
            spec.function_name,
            "FunctionName",
            "The Lambda function's name.",
            {"AllowedPattern": "^[A-Za-z0-9_-]{1,64}$"},
        ),
        _string("service", spec.service_name, "ServiceName", "The service dimension's value."),
        Param(
            "region",
            spec.region,
            "AWS::Region",
            "var.region",
            "The Region.",
            None,
            _var(spec.region, "The Region of the function and its metrics."),
        ),
        Param(
            "account_id",
            spec.account_id or "",
            "AWS::AccountId",
            "data.aws_caller_identity.current.account_id",
        ),
        Param(
            "partition", spec.partition, "AWS::Partition", "data.aws_partition.current.partition"
        ),
        _number(
            "timeout_seconds",
            spec.timeout_seconds,
            "FunctionTimeoutSeconds",
            "The function's timeout in seconds, which the duration alarm compares against.",
        ),
    ]
    if spec.log_group:
        params.append(_string("log_group", spec.log_group, "LogGroupName", "The log group."))
    settings = spec.front_door.settings()
    for setting, cfn, description in _FRONT_DOOR:
        if setting in settings:
            params.append(_string(setting, settings[setting], cfn, description))
    for key, value in thresholds.items():
        params.append(
            _number(
                f"threshold.{key}", value, f"{camel(key)}Threshold", f"The {key} alarm's threshold."
            )
        )
        arn = (alarm_arns or {}).get(key) or _arn(spec, key)
        params.append(
            Param(
                f"alarm_arn.{key}",
                arn,
                f"{camel(key)}Alarm.Arn",
                f"aws_cloudwatch_metric_alarm.{key}.arn",
            )
        )
    return {param.name: param for param in params}


def _arn(spec: DashboardSpec, key: str) -> str:
    name = alarm_name(key).replace(ph("function_name"), spec.function_name)
    account = spec.account_id or ""
    return f"arn:{spec.partition}:cloudwatch:{spec.region}:{account}:alarm:{name}"


def _var(default: str | float, description: str) -> dict[str, Any]:
    kind = "string" if isinstance(default, str) else "number"
    return {"type": kind, "default": default, "description": description}


def _string(
    name: str, value: str, cfn: str, description: str, extra: Mapping[str, Any] | None = None
) -> Param:
    declared = {"Type": "String", "Default": value, "Description": description, **(extra or {})}
    return Param(name, value, cfn, f"var.{name}", description, declared, _var(value, description))


def _number(name: str, number: float, cfn: str, description: str) -> Param:
    value = int(number) if float(number).is_integer() else float(number)
    declared = {"Type": "Number", "Default": value, "Description": description}
    variable = name.replace("threshold.", "") + "_threshold" if "." in name else name
    return Param(
        name, value, cfn, f"var.{variable}", description, declared, _var(value, description)
    )
