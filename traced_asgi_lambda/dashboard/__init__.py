"""CloudWatch dashboards, alarms and saved queries for a function running the adapter.

::

    from traced_asgi_lambda.dashboard import DashboardSpec, FrontDoor, render

    spec = DashboardSpec(
        function_name="orders-fn",
        region="eu-west-1",
        service="orders",
        front_door=FrontDoor("http-api", api_id="a1b2c3d4e5"),
        route_dimensions=True,
        timeout_seconds=30,
        account_id="123456789012",
    )
    files = render(spec, "cfn")  # {"template.json": "..."}; also "json" and "terraform"

``deploy(spec)`` puts the alarms and the dashboard with boto3 (the ``deploy`` extra).
The widgets, alarms and queries are described in docs/dashboards.md; the data templates
they are built from live in the repository's ``dashboards/`` folder (in a wheel:
``traced_asgi_lambda/_dashboards``). Importing ``traced_asgi_lambda`` does not import
this package, and importing this package does not import boto3.

Layout: ``spec`` (inputs), ``assets`` (finding the templates), ``metrics``, ``widgets``,
``queries`` and ``alarms`` (the content), ``body`` (layout and variables),
``placeholders`` and ``params`` (deploy-time values), ``render``, ``cfn``,
``terraform`` and ``hcl`` (the formats), ``deploy``, ``evaluate`` and ``preview`` (charts of
the metric widgets from captured EMF, with the ``preview`` extra).
"""

from __future__ import annotations

from traced_asgi_lambda.dashboard.body import Dashboard, build
from traced_asgi_lambda.dashboard.deploy import DeployError, DeployResult, deploy
from traced_asgi_lambda.dashboard.render import FORMATS, Format, render
from traced_asgi_lambda.dashboard.spec import (
    FRONT_DOOR_KINDS,
    DashboardSpec,
    FrontDoor,
    FrontDoorKind,
)

__all__ = [
    "FORMATS",
    "FRONT_DOOR_KINDS",
    "Dashboard",
    "DashboardSpec",
    "DeployError",
    "DeployResult",
    "Format",
    "FrontDoor",
    "FrontDoorKind",
    "build",
    "deploy",
    "render",
]
