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

from importlib import import_module
from typing import TYPE_CHECKING, Any

# render and deploy share their modules' names, so they are bound here, after their modules
# load; both modules import the content (body, widgets, alarms...) only when called.
from traced_asgi_lambda.dashboard.deploy import DeployError, DeployResult, deploy
from traced_asgi_lambda.dashboard.render import render
from traced_asgi_lambda.dashboard.spec import (
    FORMATS,
    FRONT_DOOR_KINDS,
    DashboardSpec,
    Format,
    FrontDoor,
    FrontDoorKind,
)

if TYPE_CHECKING:
    from traced_asgi_lambda.dashboard.body import Dashboard, build

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

# The content is loaded on first use (PEP 562), so importing ``spec`` (as the command line
# does to build its options) or ``render`` loads no widget, alarm or query module.
_HOMES = {"Dashboard": "body", "build": "body"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
