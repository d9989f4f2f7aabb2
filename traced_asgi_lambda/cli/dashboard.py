"""``traced-asgi-lambda dashboard``: render, deploy or preview a function's dashboard.

``render`` writes one format (``json``: the body for ``aws cloudwatch put-dashboard``;
``cfn``: a CloudFormation/SAM template; ``terraform``: a module directory) to stdout or
``--out``. ``deploy`` puts the alarms and the dashboard with boto3 (the ``deploy`` extra).
``preview`` draws the metric widgets from captured EMF lines into a PNG or an HTML page
(matplotlib, the ``preview`` extra); the spec flags default to what the EMF says.
The choices and defaults of the flags come from ``dashboard.spec`` (plain data, imported
up front); everything else is imported when the sub-command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traced_asgi_lambda.cli import CommandError
from traced_asgi_lambda.dashboard.spec import (
    FORMATS,
    FRONT_DOOR_KINDS,
    LOG_FORMATS,
    SETTING_KINDS,
    DashboardSpec,
)
from traced_asgi_lambda.telemetry.metric_names import DEFAULT_NAMESPACE

if TYPE_CHECKING:
    from traced_asgi_lambda.dashboard.preview import Capture

__all__ = ["register", "spec_of"]

# Each front-door flag, with the front doors it applies to.
_DOOR_FLAGS = SETTING_KINDS
# The spec's defaults, which the flags default to.
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(DashboardSpec)}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        help="render, deploy or preview a CloudWatch dashboard and alarms for a function",
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
    render.add_argument("--format", choices=FORMATS, default="json", help="(default: %(default)s)")
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
    preview = actions.add_parser(
        "preview",
        help="draw the metric widgets from captured EMF lines, as a PNG or an HTML page",
        description="Draw the dashboard's metric widgets from EMF lines, local or from CloudWatch "
        "Logs. Spec flags default to the EMF's values, us-east-1 and http-api; AWS metrics are "
        "not in EMF. Needs matplotlib: pip install 'traced-asgi-lambda[preview]'.",
    )
    preview.add_argument("--emf", required=True, metavar="FILE", help="the captured lines")
    preview.add_argument("--out", default="dashboard-preview.png", help="a .png or .html file")
    preview.add_argument("--period", type=int, metavar="SECONDS", help="default: 1; 60 if >10 min")
    _add_spec_options(preview, required=False)
    preview.set_defaults(handler=_preview, region="us-east-1", front_door="http-api")


def _add_spec_options(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument("--function-name", required=required, help="the Lambda function's name")
    parser.add_argument("--region", required=required, help="the function's Region, e.g. eu-west-1")
    parser.add_argument("--front-door", required=required, choices=FRONT_DOOR_KINDS)
    parser.add_argument("--service", help="the service dimension (default: the function name)")
    parser.add_argument("--namespace", help=f"the EMF namespace (default: {DEFAULT_NAMESPACE})")
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
        default=_DEFAULTS["timeout_seconds"],
        metavar="SECONDS",
        help="the function's timeout, for the duration alarm (default: %(default)g, Lambda's "
        "default)",
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
        choices=LOG_FORMATS,
        default=_DEFAULTS["log_format"],
        help="the function's log format, which decides the cold-start query (default: %(default)s)",
    )
    parser.add_argument("--dashboard-name", help="(default: the function name)")
    parser.add_argument(
        "--alarm-action", action="append", default=[], metavar="SNS_ARN", help="repeatable"
    )


def spec_of(args: argparse.Namespace, account_id: str | None = None) -> DashboardSpec:
    """The spec the flags describe; a missing or misplaced flag is a CommandError."""
    from traced_asgi_lambda.dashboard.spec import FrontDoor

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


def _preview(args: argparse.Namespace) -> int:
    from traced_asgi_lambda.dashboard.preview import FORMATS, PreviewError, preview, read_emf

    if Path(args.out).suffix.lower() not in FORMATS:
        raise CommandError(f"Expected --out to end in .png or .html, but got {args.out!r}.")
    try:
        capture = read_emf(args.emf)
    except (OSError, EOFError) as exc:  # EOFError: a truncated gzip file
        reason = getattr(exc, "strerror", None) or exc
        raise CommandError(f"Could not read the EMF file {args.emf!r}: {reason}.") from None
    if not capture.samples:
        raise CommandError(
            f"Expected EMF lines (JSON with an _aws member) in {args.emf!r}, but found none in "
            f"{capture.records} records ({capture.invalid} EMF documents broke the EMF spec)."
        )
    spec = _checked(_with_emf_defaults(args, capture))
    try:
        found = preview(spec, capture, args.out, period=args.period)
    except PreviewError as exc:
        raise CommandError(str(exc)) from None
    print(
        f"wrote {args.out}: {len(found)} metric widgets, {sum(bool(c.points) for c in found)} "
        f"with data, from {capture.documents} EMF documents ({capture.skipped} other records)"
    )
    for text in (f"{chart.title}: {u}" for chart in found for u in chart.unsupported):
        print(f"note: not drawn: {text}", file=sys.stderr)
    return 0


def _with_emf_defaults(args: argparse.Namespace, capture: Capture) -> argparse.Namespace:
    """The flags, with what they leave out taken from the EMF, and front-door ids stubbed."""
    from traced_asgi_lambda.telemetry.metric_names import DIM_FUNCTION_NAME, DIM_ROUTE, DIM_SERVICE

    namespace = args.namespace or _most(capture, None)
    service = args.service or _most(capture, DIM_SERVICE, namespace)
    function = args.function_name or _most(capture, DIM_FUNCTION_NAME, namespace) or service
    if function is None:
        raise CommandError("pass --function-name: the EMF has no function_name or service")
    routes = any(DIM_ROUTE in dict(dims) for _, _, dims in capture.samples)
    values = {**vars(args), "namespace": namespace, "service": service}
    values.update(function_name=function, route_dimensions=args.route_dimensions or routes)
    # The preview draws no AWS metric, so the front door's ids only label those lines.
    for name, kinds in _DOOR_FLAGS.items():
        if name != "stage" and args.front_door in kinds and not values[name]:
            values[name] = "preview"
    return argparse.Namespace(**values)


def _most(capture: Capture, dimension: str | None, namespace: str | None = None) -> str | None:
    """The namespace (``dimension`` None) or ``dimension`` value the most EMF values carry."""
    counts: Counter[str] = Counter()
    for (space, _, dims), values in capture.samples.items():
        if namespace in (None, space):
            found = [space] if dimension is None else [v for n, v in dims if n == dimension]
            counts.update(dict.fromkeys(found, len(values)))
    return counts.most_common(1)[0][0] if counts else None
