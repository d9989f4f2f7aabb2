"""Deploy: create or update the alarms, then the dashboard, with boto3.

boto3 is an optional dependency (``pip install 'traced-asgi-lambda[deploy]'``), imported
only here and only when :func:`deploy` runs. The alarms go first (``PutMetricAlarm``
creates or replaces one by name), so the dashboard's alarm row can name them by the ARNs
CloudWatch reports (``DescribeAlarms``). ``PutDashboard`` then creates or replaces the
dashboard; it answers invalid input with ``InvalidParameterInput``
(``DashboardInvalidInputError``) and accepted input that may not render with warnings in
``DashboardValidationMessages`` ("PutDashboard", CloudWatch API Reference): both are
reported with every message's ``DataPath`` and ``Message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from traced_asgi_lambda.dashboard.render import body_json, resolve
from traced_asgi_lambda.dashboard.spec import DashboardSpec
from traced_asgi_lambda.exceptions import TracedAsgiLambdaError

if TYPE_CHECKING:
    from types_boto3_cloudwatch.client import CloudWatchClient

__all__ = ["DeployError", "DeployResult", "deploy", "put_dashboard", "validation_messages"]

INSTALL = "pip install 'traced-asgi-lambda[deploy]'"


class DeployError(TracedAsgiLambdaError):
    """A call to AWS failed, or boto3 is not installed; the message says which and why."""


@dataclass(frozen=True, slots=True)
class DeployResult:
    """What was deployed: names, ARNs, the body sent, and any warnings CloudWatch gave."""

    dashboard_name: str
    alarm_arns: Mapping[str, str]
    body: str
    warnings: tuple[str, ...]


def deploy(spec: DashboardSpec, *, profile: str | None = None) -> DeployResult:
    """Put every alarm, then the dashboard, in ``spec.region``."""
    from traced_asgi_lambda.dashboard.body import build

    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise DeployError(f"deploy needs boto3, which is not installed. Fix: {INSTALL}") from None
    draft = build(spec)
    names = [str(resolve(alarm.name, draft.params)) for alarm in draft.alarms]
    operation, subject = "creating a CloudWatch client", spec.region
    try:
        client = boto3.Session(profile_name=profile, region_name=spec.region).client("cloudwatch")
        for alarm, name in zip(draft.alarms, names, strict=True):
            request = resolve(alarm.request(), draft.params)
            if spec.alarm_actions:
                request["AlarmActions"] = request["OKActions"] = list(spec.alarm_actions)
            operation, subject = "PutMetricAlarm", name
            client.put_metric_alarm(**request)
        operation, subject = "DescribeAlarms", ", ".join(names)
        found = client.describe_alarms(AlarmNames=names)["MetricAlarms"]
    except (BotoCoreError, ClientError) as exc:
        raise DeployError(f"{operation} failed for {subject!r}: {_reason(exc)}") from exc
    by_name = {alarm["AlarmName"]: alarm["AlarmArn"] for alarm in found}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise DeployError(
            f"Expected DescribeAlarms to return the alarms just put, but {', '.join(missing)} "
            "was not among them."
        )
    arns = {alarm.key: by_name[name] for alarm, name in zip(draft.alarms, names, strict=True)}
    body = body_json(build(spec, alarm_arns=arns), indent=None)
    warnings = put_dashboard(client, spec.name, body)
    return DeployResult(spec.name, arns, body, warnings)


def put_dashboard(client: CloudWatchClient, name: str, body: str) -> tuple[str, ...]:
    """``PutDashboard``; returns its warnings, raises DeployError with its messages."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client.put_dashboard(DashboardName=name, DashboardBody=body)
    except ClientError as exc:
        messages = validation_messages(exc.response)
        detail = f"; DashboardValidationMessages: {'; '.join(messages)}" if messages else ""
        raise DeployError(f"PutDashboard failed for {name!r}: {_reason(exc)}{detail}") from exc
    except BotoCoreError as exc:
        raise DeployError(f"PutDashboard failed for {name!r}: {exc}") from exc
    return tuple(validation_messages(response))


def validation_messages(response: Mapping[str, Any]) -> list[str]:
    """Every ``DashboardValidationMessages`` entry of a response or error, as text.

    A successful response has the list under ``DashboardValidationMessages``; the
    ``DashboardInvalidInputError`` error carries it as ``dashboardValidationMessages``
    (botocore puts a modelled error's members next to ``Error``, and some into it).
    """
    error = response.get("Error")
    sources = [response, error if isinstance(error, Mapping) else {}]
    entries: list[Any] = []
    for source in sources:
        for key in ("DashboardValidationMessages", "dashboardValidationMessages"):
            value = source.get(key)
            if isinstance(value, list):
                entries += value
    return [_message(entry) for entry in entries]


def _message(entry: Any) -> str:
    if not isinstance(entry, Mapping):
        return str(entry)
    path, text = entry.get("DataPath"), entry.get("Message", "")
    return f"{path}: {text}" if path else str(text)


def _reason(exc: Exception) -> str:
    response: Mapping[str, Any] = getattr(exc, "response", {}) or {}
    error = response.get("Error", {})
    if isinstance(error, Mapping) and error.get("Code"):
        return f"{error['Code']}: {error.get('Message', '')}".rstrip(": ")
    return str(exc)
