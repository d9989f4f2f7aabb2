"""``traced-asgi-lambda dashboard``: render or deploy a function's dashboard and alarms.

``render`` writes one format (``json``: the body for ``aws cloudwatch put-dashboard``;
``cfn``: a CloudFormation/SAM template; ``terraform``: a module directory) to stdout or
``--out``. ``deploy`` puts the alarms and the dashboard with boto3 (the ``deploy`` extra).
Everything is imported when the sub-command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from traced_asgi_lambda.cli import CommandError

if TYPE_CHECKING:
    from traced_asgi_lambda.dashboard.spec import DashboardSpec

__all__ = ["register", "spec_of"]

_FRONT_DOORS = ("http-api", "rest", "alb", "url")
_FORMATS = ("json", "cfn", "terraform")
# Each front-door flag, with the front doors it applies to.
_DOOR_FLAGS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "api_id": ("http-api",),
        "api_name": ("rest",),
        "stage": ("http-api", "rest"),
        "load_balancer": ("alb",),
        "target_group": ("alb",),
    }
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        help="render or deploy a CloudWatch dashboard and alarms for a function",
        description="A CloudWatch dashboard, alarms and saved Logs Insights queries for a "
        "function running traced-asgi-lambda; see docs/dashboards.md.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    render = actions.add_parser(
        "render",
        help="write the dashboard as JSON, a CloudFormation template or a Terraform module",
        description="Write the dashboard, its alarms and saved queries in one format.",
    )
    _add_spec_options(render)
    render.add_argument("--format", choices=_FORMATS, default="json", help="(default: json)")
    render.add_argument(
        "--out",
        metavar="PATH",
        help="a file (json, cfn) or a directory (terraform); default: stdout",
    )
    render.add_argument(
        "--account-id", help="the AWS account, for the alarm ARNs of the json format's alarm row"
    )
    render.set_defaults(handler=_render)
    deploy = actions.add_parser(
        "deploy",
        help="put the alarms and the dashboard with boto3",
        description="Create or update the alarms, then the dashboard, in --region. Needs "
        "boto3: pip install 'traced-asgi-lambda[deploy]'.",
    )
    _add_spec_options(deploy)
    deploy.add_argument("--profile", help="the AWS profile to use (default: boto3's chain)")
    deploy.set_defaults(handler=_deploy)


def _add_spec_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--function-name", required=True, help="the Lambda function's name")
    parser.add_argument("--region", required=True, help="the function's Region, e.g. eu-west-1")
    parser.add_argument("--front-door", required=True, choices=_FRONT_DOORS)
    parser.add_argument("--service", help="the service dimension (default: the function name)")
    parser.add_argument("--namespace", help="the EMF namespace (default: TracedAsgiLambda)")
    door = parser.add_argument_group("front door (the ids its CloudWatch metrics carry)")
    door.add_argument("--api-id", help="HTTP API: the API id")
    door.add_argument("--api-name", help="REST API: the API name")
    door.add_argument("--stage", help="HTTP or REST API: the stage (default: all stages)")
    door.add_argument("--load-balancer", help="ALB: the ARN suffix, app/<name>/<id>")
    door.add_argument("--target-group", help="ALB: the ARN suffix, targetgroup/<name>/<id>")
    parser.add_argument(
        "--route-dimensions",
        action="store_true",
        help="add the per-route widgets (the adapter must run with route_dimensions=True)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="the function's timeout, for the duration alarm (default: 3, Lambda's default)",
    )
    parser.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="ALARM=VALUE",
        help="an alarm threshold, e.g. error-rate=2 or latency-p99=500; repeatable",
    )
    parser.add_argument("--log-group", help="the function's log group (default: /aws/lambda/<F>)")
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="the function's log format, which decides the cold-start query (default: text)",
    )
    parser.add_argument("--dashboard-name", help="(default: the function name)")
    parser.add_argument(
        "--alarm-action", action="append", default=[], metavar="SNS_ARN", help="repeatable"
    )


def spec_of(args: argparse.Namespace, account_id: str | None = None) -> DashboardSpec:
    """The spec the flags describe; a missing or misplaced flag is a CommandError."""
    from traced_asgi_lambda.dashboard.spec import DashboardSpec, FrontDoor
    from traced_asgi_lambda.telemetry.metric_names import DEFAULT_NAMESPACE

    kind = args.front_door
    for name, kinds in _DOOR_FLAGS.items():
        if getattr(args, name) and kind not in kinds:
            raise CommandError(
                f"{_flag(name)} applies to --front-door {' or '.join(kinds)}, not {kind}"
            )
    door = FrontDoor(kind, **{name: getattr(args, name) for name in _DOOR_FLAGS})
    for name in door.missing():
        raise CommandError(f"--front-door {kind} needs {_flag(name)}")
    return DashboardSpec(
        function_name=args.function_name,
        region=args.region,
        front_door=door,
        service=args.service,
        namespace=args.namespace or DEFAULT_NAMESPACE,
        route_dimensions=args.route_dimensions,
        timeout_seconds=args.timeout,
        log_group=args.log_group,
        log_format=args.log_format,
        dashboard_name=args.dashboard_name,
        account_id=account_id,
        alarm_actions=tuple(args.alarm_action),
        thresholds=_thresholds(args.threshold),
    )


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _thresholds(items: list[str]) -> dict[str, float]:
    thresholds = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            thresholds[key.strip().replace("-", "_")] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise CommandError(
                f"expected --threshold ALARM=NUMBER, such as error-rate=2, got {item!r}"
            )
    return thresholds


def _checked(args: argparse.Namespace, account_id: str | None = None) -> DashboardSpec:
    from traced_asgi_lambda.dashboard.alarms import alarm_keys
    from traced_asgi_lambda.exceptions import ConfigurationError

    spec = spec_of(args, account_id)
    try:
        return spec.check(alarm_keys())
    except ConfigurationError as exc:
        raise CommandError(str(exc)) from None


def _render(args: argparse.Namespace) -> int:
    from traced_asgi_lambda.dashboard.render import render
    from traced_asgi_lambda.exceptions import ConfigurationError

    spec = _checked(args, args.account_id)
    if args.format == "terraform" and not args.out:
        raise CommandError("--format terraform writes a module of several files: pass --out DIR")
    if args.format == "json" and not args.account_id:
        raise CommandError("--format json needs --account-id: the alarm row names alarms by ARN")
    try:
        files = render(spec, args.format)
    except ConfigurationError as exc:
        raise CommandError(str(exc)) from None
    if args.format == "terraform":
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote {', '.join(files)} to {folder}", file=sys.stderr)
        return 0
    (text,) = files.values()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from traced_asgi_lambda.dashboard.deploy import DeployError, deploy

    spec = _checked(args)
    try:
        result = deploy(spec, profile=args.profile)
    except DeployError as exc:
        raise CommandError(str(exc)) from None
    for warning in result.warnings:
        print(f"warning: DashboardValidationMessages: {warning}", file=sys.stderr)
    print(f"dashboard {result.dashboard_name}: {_console(spec.region, result.dashboard_name)}")
    for key, arn in result.alarm_arns.items():
        print(f"alarm {key}: {arn}")
    return 0


def _console(region: str, name: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={name}"
