"""Deploy against moto: the dashboard and alarms read back are the ones rendered.

moto is the sanctioned fake for AWS's APIs here: boto3 talks to it in-process, with
moto's own account (123456789012) and credentials.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.test_dashboard_render import spec
from traced_asgi_lambda.cli import main
from traced_asgi_lambda.dashboard import DeployError, build, deploy, render
from traced_asgi_lambda.dashboard.deploy import put_dashboard, validation_messages
from traced_asgi_lambda.dashboard.render import resolve

FLAGS = [
    "dashboard",
    "deploy",
    "--function-name",
    "orders-fn",
    "--region",
    "eu-west-1",
    "--service",
    "orders",
    "--namespace",
    "Shop",
    "--front-door",
    "http-api",
    "--api-id",
    "a1b2c3d4e5",
    "--stage",
    "$default",
    "--route-dimensions",
    "--timeout",
    "30",
]


ARN_PREFIX = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:"


@pytest.fixture
def aws() -> Iterator[None]:
    """A fresh moto backend for each test."""
    with mock_aws():
        yield


def cloudwatch() -> Any:
    return boto3.client("cloudwatch", region_name="eu-west-1")


@pytest.mark.parametrize("kind", ["http-api", "rest", "alb", "url"])
@pytest.mark.usefixtures("aws")
def test_deploy_round_trip(kind: str) -> None:
    """The dashboard read back is the rendered body; the alarms are the rendered alarms."""
    s = spec(kind)
    result = deploy(s)
    stored = cloudwatch().get_dashboard(DashboardName="orders-fn")["DashboardBody"]
    assert stored == result.body
    assert json.loads(stored) == json.loads(render(s, "json")["dashboard.json"])
    dashboard = build(s)
    expected = {
        r["AlarmName"]: r
        for r in (resolve(a.request(), dashboard.params) for a in dashboard.alarms)
    }
    alarms = cloudwatch().describe_alarms(AlarmNamePrefix="orders-fn-")["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in alarms) == sorted(expected)
    for alarm in alarms:
        want = expected[alarm["AlarmName"]]
        got = {key: alarm[key] for key in want}
        assert got == want
        assert result.alarm_arns[_key(alarm["AlarmName"])] == alarm["AlarmArn"]
    assert result.warnings == ()


def _key(name: str) -> str:
    return name.removeprefix("orders-fn-").replace("-", "_")


@pytest.mark.usefixtures("aws")
def test_deploy_again_updates_in_place() -> None:
    """A second deploy with a new threshold replaces the alarm and keeps one dashboard."""
    deploy(spec())
    deploy(spec(thresholds={"error_rate": 5}))
    client = cloudwatch()
    assert [d["DashboardName"] for d in client.list_dashboards()["DashboardEntries"]] == [
        "orders-fn"
    ]
    (alarm,) = client.describe_alarms(AlarmNames=["orders-fn-error-rate"])["MetricAlarms"]
    assert alarm["Threshold"] == 5.0


@pytest.mark.usefixtures("aws")
def test_alarm_actions_are_set() -> None:
    """SNS topics given as alarm actions notify on ALARM and on OK."""
    topic = "arn:aws:sns:eu-west-1:123456789012:oncall"
    deploy(spec(alarm_actions=(topic,)))
    for alarm in cloudwatch().describe_alarms(AlarmNamePrefix="orders-fn-")["MetricAlarms"]:
        assert alarm["AlarmActions"] == [topic]
        assert alarm["OKActions"] == [topic]


@pytest.mark.usefixtures("aws")
def test_invalid_body_is_reported_with_the_error() -> None:
    """A body CloudWatch refuses is a DeployError naming the dashboard, code and message."""
    with pytest.raises(DeployError) as caught:
        put_dashboard(cloudwatch(), "orders-fn", "{not json")
    assert str(caught.value) == (
        "PutDashboard failed for 'orders-fn': InvalidParameterInput: Body is invalid JSON"
    )


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        pytest.param(
            {
                "DashboardValidationMessages": [
                    {
                        "DataPath": "/widgets/2/properties",
                        "Message": "Should NOT have additional properties",
                    }
                ]
            },
            ["/widgets/2/properties: Should NOT have additional properties"],
            id="warning-after-success",
        ),
        pytest.param(
            {
                "Error": {
                    "Code": "InvalidParameterInput",
                    "Message": "The dashboard body is invalid",
                },
                "dashboardValidationMessages": [
                    {"DataPath": "/widgets/0/x", "Message": "Should be <= 23"}
                ],
            },
            ["/widgets/0/x: Should be <= 23"],
            id="error-members-beside-error",
        ),
        pytest.param(
            {
                "Error": {
                    "Code": "InvalidParameterInput",
                    "dashboardValidationMessages": [{"Message": "Invalid JSON"}],
                }
            },
            ["Invalid JSON"],
            id="error-members-inside-error",
        ),
        pytest.param({"DashboardValidationMessages": []}, [], id="none"),
    ],
)
def test_validation_messages_are_read_wherever_they_are(
    response: dict[str, Any], expected: list[str]
) -> None:
    """DashboardValidationMessages are found in a response and in both error shapes."""
    assert validation_messages(response) == expected


def test_missing_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without boto3, deploy says which extra to install."""
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(DeployError, match=r"pip install 'traced-asgi-lambda\[deploy\]'"):
        deploy(spec())


def test_cli_missing_boto3_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command prints the same advice as one error line, status 2."""
    monkeypatch.setitem(sys.modules, "boto3", None)
    assert main(FLAGS) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "pip install 'traced-asgi-lambda[deploy]'" in err


@pytest.mark.usefixtures("aws")
def test_cli_deploy(capsys: pytest.CaptureFixture[str]) -> None:
    """``dashboard deploy`` puts everything and prints the dashboard's URL and the alarms."""
    assert main(FLAGS) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "dashboard orders-fn: https://eu-west-1.console.aws.amazon.com/cloudwatch/home"
        "?region=eu-west-1#dashboards:name=orders-fn"
    )
    assert out[1:] == [
        f"alarm {key}: {ARN_PREFIX}orders-fn-{key.replace('_', '-')}"
        for key in (
            "error_rate",
            "latency_p99",
            "throttles",
            "cold_start_rate",
            "front_door_5xx",
            "duration_timeout",
            "timeouts",
        )
    ]
    assert cloudwatch().get_dashboard(DashboardName="orders-fn")["DashboardName"] == "orders-fn"
