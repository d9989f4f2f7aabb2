"""Rendering: a spec in, the files of one format out.

``render(spec, "json")`` is the body ``aws cloudwatch put-dashboard --dashboard-body``
takes ("PutDashboard", CloudWatch API Reference); ``"cfn"`` a CloudFormation template
(also usable in a SAM application); ``"terraform"`` a module. :func:`resolve` fills
placeholders with their values, for the JSON body and for ``deploy``'s API calls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from traced_asgi_lambda.dashboard.placeholders import PLACEHOLDER, Param, substitute
from traced_asgi_lambda.dashboard.spec import FORMATS, DashboardSpec, Format
from traced_asgi_lambda.exceptions import ConfigurationError

if TYPE_CHECKING:
    from traced_asgi_lambda.dashboard.body import Dashboard

__all__ = ["FORMATS", "Format", "body_json", "render", "resolve"]

_ALARM_ARN = re.compile(r"arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+")


def render(spec: DashboardSpec, fmt: Format) -> dict[str, str]:
    """The files of ``fmt`` for ``spec``, by file name."""
    from traced_asgi_lambda.dashboard.body import build

    ConfigurationError.check_choice("format", fmt, FORMATS)
    dashboard = build(spec)
    if fmt == "json":
        return {"dashboard.json": body_json(dashboard) + "\n"}
    if fmt == "cfn":
        from traced_asgi_lambda.dashboard.cfn import template

        return {"template.json": json.dumps(template(dashboard), indent=2) + "\n"}
    from traced_asgi_lambda.dashboard.terraform import module

    return module(dashboard)


def body_json(dashboard: Dashboard, *, indent: int | None = 2) -> str:
    """The dashboard body with every value filled in, for ``put-dashboard``."""
    params = dashboard.params
    for key in (name for name in params if name.startswith("alarm_arn.")):
        if not _ALARM_ARN.fullmatch(str(params[key].value)):
            raise ConfigurationError(
                "Expected an account id for the alarm ARNs of the alarm status widget, but got "
                "none. Fix: pass --account-id (or account_id=), or use deploy, which reads "
                "the ARNs back from CloudWatch."
            )
    text = json.dumps(dashboard.body, indent=indent)
    return substitute(text, params, inline=_json_inline, whole=lambda p: p.text())


def _json_inline(param: Param) -> str:
    return json.dumps(param.text())[1:-1]  # escaped for the inside of a JSON string


def resolve(value: Any, params: Mapping[str, Param]) -> Any:
    """``value`` with placeholders replaced: a lone ``{{#x}}`` by the number itself."""
    if isinstance(value, dict):
        return {k: resolve(v, params) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(item, params) for item in value]
    if isinstance(value, str):
        match = PLACEHOLDER.fullmatch(value)
        if match and match.group(1) == "#":
            return float(params[match.group(2)].value)
        return substitute(value, params, inline=lambda p: p.text())
    return value
