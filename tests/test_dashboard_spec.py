"""The spec: every value AWS would refuse is refused first, naming the value and the fix."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.test_dashboard_render import body_of, spec
from traced_asgi_lambda.dashboard import FrontDoor, render
from traced_asgi_lambda.exceptions import ConfigurationError


def test_json_needs_the_account_for_alarm_arns() -> None:
    """The plain-JSON alarm row needs ARNs, so an account id."""
    with pytest.raises(ConfigurationError, match="account id"):
        render(spec(account_id=None), "json")


def test_alarm_arns_follow_the_partition() -> None:
    """China and GovCloud Regions get their own ARN partitions."""
    body = body_of(spec(region="cn-north-1"))
    (row,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert all(
        arn.startswith("arn:aws-cn:cloudwatch:cn-north-1:") for arn in row["properties"]["alarms"]
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"function_name": "orders fn"}, "function_name", id="function-name"),
        pytest.param({"region": "Europe"}, "region", id="region"),
        pytest.param({"service": 'or"ders'}, "service", id="quote-in-service"),
        pytest.param({"namespace": ":bad"}, "namespace", id="namespace"),
        pytest.param(
            {"front_door": FrontDoor("http-api")}, "api_id (--api-id", id="missing-api-id"
        ),
        pytest.param(
            {"front_door": FrontDoor("alb", load_balancer="app/x/1")},
            "--target-group",
            id="missing-tg",
        ),
        pytest.param({"timeout_seconds": 901}, "timeout_seconds", id="timeout"),
        pytest.param({"thresholds": {"nope": 1}}, "nope", id="unknown-alarm"),
        pytest.param({"thresholds": {"error_rate": -1}}, "error_rate threshold", id="negative"),
        pytest.param({"account_id": "12"}, "account id", id="account"),
        pytest.param({"alarm_actions": ("mailto:me",)}, "SNS topic ARN", id="action"),
        pytest.param({"dashboard_name": "a b"}, "dashboard name", id="dashboard-name"),
        pytest.param({"log_format": "xml"}, "log_format", id="log-format"),
    ],
)
def test_bad_specs_are_refused(changes: dict[str, Any], message: str) -> None:
    """A bad value is a ConfigurationError that names it, before anything is rendered."""
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        render(spec(**changes), "cfn")
