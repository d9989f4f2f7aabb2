"""The metric graphs: one function per widget, each returning its type and ``properties``.

Each follows "Dashboard Body Structure and Syntax" ("Properties of a Metric Widget
Object"). AWS metric names are cited where they are used; ours come from
``metric_names``, through :func:`~traced_asgi_lambda.dashboard.metrics.ours`.
"""

from __future__ import annotations

from traced_asgi_lambda.dashboard import metrics
from traced_asgi_lambda.dashboard.metrics import LAMBDA, aws, expression, ours, search
from traced_asgi_lambda.dashboard.widgets import (
    RED,
    ROUTE_LABEL,
    Context,
    Widget,
    axes,
    graph,
    threshold,
)
from traced_asgi_lambda.telemetry.metric_names import (
    CLIENT_ERRORS,
    COLD_START,
    DIM_STAGE,
    LATENCY,
    REQUESTS,
    SERVER_ERRORS,
    STAGE_LATENCY,
    TIMEOUTS,
)
from traced_asgi_lambda.telemetry.outcome import STAGES

__all__ = [
    "cold_starts",
    "duration",
    "error_rate",
    "front_door",
    "latency",
    "requests",
    "route_errors",
    "route_latency",
    "stages",
    "throttles",
]


def requests(ctx: Context, title: str) -> Widget:
    # Invocations: "Types of metrics for Lambda functions"; PERIOD(): "Metric math syntax".
    door = ctx.door
    return graph(
        ctx,
        title,
        [
            aws(LAMBDA, "Invocations", ctx.function, stat="Sum", id="invocations", visible=False),
            expression(
                "invocations / PERIOD(invocations)", "invocationsps", "Lambda invocations/s"
            ),
            door.line(door.requests, stat="Sum", id="frontdoorrequests", visible=False),
            expression(
                "frontdoorrequests / PERIOD(frontdoorrequests)",
                "frontdoorps",
                f"{door.label} requests/s",
            ),
        ],
        yAxis=axes("requests/s"),
    )


def error_rate(ctx: Context, title: str) -> Widget:
    # Lambda's Errors counts invocations that raised or timed out; the adapter's 500s are not
    # among them. Timeouts is the adapter's deadline watchdog (docs/telemetry.md).
    spec = ctx.spec
    return graph(
        ctx,
        title,
        [
            ours(spec, SERVER_ERRORS, stat="Sum", id="servererrors", visible=False),
            ours(spec, CLIENT_ERRORS, stat="Sum", id="clienterrors", visible=False),
            ours(spec, REQUESTS, stat="Sum", id="requests", visible=False),
            expression(
                metrics.error_rate("servererrors", "requests"),
                "errorrate",
                "server errors (%)",
                color=RED,
            ),
            expression(
                metrics.error_rate("clienterrors", "requests"),
                "clienterrorrate",
                "client errors (%)",
            ),
            aws(
                LAMBDA,
                "Errors",
                ctx.function,
                stat="Sum",
                id="lambdaerrors",
                yAxis="right",
                label="Lambda Errors (count)",
            ),
            ours(
                spec, TIMEOUTS, stat="Sum", id="timeouts", yAxis="right", label="timeouts (count)"
            ),
        ],
        yAxis=axes("%", "count"),
        annotations=threshold("error_rate"),
    )


def latency(ctx: Context, title: str) -> Widget:
    spec, door = ctx.spec, ctx.door
    lines = [ours(spec, LATENCY, stat=s, id=s, label=f"handler {s}") for s in ("p50", "p90", "p99")]
    label = f"{door.label} {door.latency} p99"
    if door.to_ms == 1:
        lines.append(door.line(door.latency, stat="p99", id="frontdoorp99", label=label))
    else:  # ALB's TargetResponseTime is in seconds
        lines.append(door.line(door.latency, stat="p99", id="frontdoorp99raw", visible=False))
        lines.append(expression(f"{door.to_ms:g} * frontdoorp99raw", "frontdoorp99", label))
    return graph(ctx, title, lines, yAxis=axes("ms"), annotations=threshold("latency_p99"))


def cold_starts(ctx: Context, title: str) -> Widget:
    spec = ctx.spec
    return graph(
        ctx,
        title,
        [
            ours(spec, COLD_START, stat="Sum", id="coldstarts", label="cold starts"),
            ours(spec, REQUESTS, stat="Sum", id="requests", visible=False),
            expression(
                metrics.cold_start_rate("coldstarts", "requests"),
                "coldstartrate",
                "cold-start rate (%)",
                yAxis="right",
            ),
        ],
        yAxis=axes("count", "%"),
        annotations=threshold("cold_start_rate", "right"),
    )


def stages(ctx: Context, title: str) -> Widget:
    lines = [
        ours(
            ctx.spec, STAGE_LATENCY, values={DIM_STAGE: s}, stat="Average", id=f"stage{s}", label=s
        )
        for s in STAGES
    ]
    kind, properties = graph(ctx, title, lines, yAxis=axes("ms"))
    return kind, {**properties, "stacked": True}


def throttles(ctx: Context, title: str) -> Widget:
    # Throttles (Sum) and ConcurrentExecutions (Max): "Types of metrics for Lambda functions".
    return graph(
        ctx,
        title,
        [
            aws(
                LAMBDA,
                "Throttles",
                ctx.function,
                stat="Sum",
                id="throttles",
                label="throttles",
                color=RED,
            ),
            aws(
                LAMBDA,
                "ConcurrentExecutions",
                ctx.function,
                stat="Maximum",
                id="concurrency",
                label="concurrent executions (max)",
                yAxis="right",
            ),
        ],
        yAxis=axes("count", "environments"),
        annotations=threshold("throttles"),
    )


def front_door(ctx: Context, title: str) -> Widget:
    door = ctx.door
    lines = [
        door.line(door.requests, stat="Sum", id="frontdoorrequests", label="requests"),
        door.line(door.client_errors, stat="Sum", id="frontdoor4xx", label="4xx"),
        door.line(door.server_errors, stat="Sum", id="frontdoor5xx", label="5xx", color=RED),
    ]
    gateway = door.gateway_line(
        stat="Sum", id="gateway5xx", label=(door.gateway_errors or {}).get("label")
    )
    if gateway is not None:
        lines.append(gateway)
    lines.append(
        expression(
            metrics.front_door_5xx_rate("frontdoor5xx", "frontdoorrequests"),
            "frontdoor5xxrate",
            "5xx (% of requests)",
            yAxis="right",
        )
    )
    return graph(
        ctx,
        title,
        lines,
        yAxis=axes("count", "%"),
        annotations=threshold("front_door_5xx", "right"),
    )


def duration(ctx: Context, title: str) -> Widget:
    # Duration (ms, excludes init): "Types of metrics for Lambda functions", performance.
    return graph(
        ctx,
        title,
        [
            aws(LAMBDA, "Duration", ctx.function, stat="Maximum", id="durationmax", label="max"),
            aws(LAMBDA, "Duration", ctx.function, stat="p99", id="durationp99", label="p99"),
            expression(
                metrics.duration_pct("durationmax"),
                "durationpct",
                "max (% of the timeout)",
                yAxis="right",
            ),
        ],
        yAxis=axes("ms", "% of timeout"),
        annotations=threshold("duration_timeout", "right"),
    )


def route_latency(ctx: Context, title: str) -> Widget:
    text = search(ctx.spec, LATENCY, "p99")
    return graph(ctx, title, [expression(text, "routelatency", ROUTE_LABEL)], yAxis=axes("ms"))


def route_errors(ctx: Context, title: str) -> Widget:
    text = search(ctx.spec, SERVER_ERRORS, "Sum")
    return graph(ctx, title, [expression(text, "routeerrors", ROUTE_LABEL)], yAxis=axes("count"))
