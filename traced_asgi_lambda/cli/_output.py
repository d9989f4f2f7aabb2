"""What ``invoke`` and ``serve`` print: the response, the span tree, logs, metrics, or JSON.

Every function returns lines (or one JSON-ready document) and writes nothing, so the
commands, the demo and the tests share them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from traced_asgi_lambda.cli._runner import Invocation, SpanRecord
from traced_asgi_lambda.cli._style import Style

__all__ = [
    "document",
    "invocation_lines",
    "log_lines",
    "metric_lines",
    "response_lines",
    "summary_line",
    "tree_lines",
]

BAR_WIDTH = 24
BODY_PREVIEW = 300  # characters of a response body shown on the console
# Keys every line of an invocation repeats, or that the console shows elsewhere.
_QUIET_KEYS = frozenset(
    {
        "level",
        "message",
        "timestamp",
        "location",
        "service",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "correlation_id",
        "xray_trace_id",
        "trace_id",
        "span_id",
        "exception",
    }
)


def _status_code(response: dict[str, Any]) -> int:
    return int(response.get("statusCode", response.get("status", 0)))


def response_lines(invocation: Invocation, style: Style) -> list[str]:
    """The Lambda response as the handler returned it, body shortened; or the error."""
    source = invocation.source() or "unrecognised event"
    if invocation.response is None:
        error = invocation.error_response or {}
        head = f"{style.paint('Error', 'bold', 'red')}  {source} {style.arrow} the handler raised "
        head += style.paint(str(error.get("errorType")), "red")
        return [head, json.dumps(error, indent=2, ensure_ascii=False)]
    response = dict(invocation.response)
    from traced_asgi_lambda.local import to_http

    http = to_http(response)
    kind = http.header("content-type") or "no content type"
    head = (
        f"{style.paint('Response', 'bold')}  {source} {style.arrow} HTTP "
        f"{style.status(http.status)} {style.dot} {kind} {style.dot} {len(http.body)} bytes"
    )
    body = response.get("body")
    if isinstance(body, str) and len(body) > BODY_PREVIEW:
        response["body"] = f"{body[:BODY_PREVIEW]}... ({len(body) - BODY_PREVIEW} more)"
    return [head, json.dumps(response, indent=2, ensure_ascii=False)]


def _children(spans: list[SpanRecord]) -> dict[str | None, list[SpanRecord]]:
    ids = {span.span_id for span in spans}
    tree: dict[str | None, list[SpanRecord]] = {}
    for span in spans:
        parent = span.parent_id if span.parent_id in ids else None
        tree.setdefault(parent, []).append(span)
    return tree


def _notes(span: SpanRecord, style: Style) -> str:
    """What matters about a span beyond its name and duration."""
    attributes, notes = span.attributes, []
    if "http.response.status_code" in attributes:
        notes.append(style.status(int(attributes["http.response.status_code"])))
    if attributes.get("faas.coldstart"):
        notes.append(style.paint("cold start", "cyan"))
    if "traced_asgi_lambda.source" in attributes:
        notes.append(str(attributes["traced_asgi_lambda.source"]))
    if "traced_asgi_lambda.response.body_size" in attributes:
        encoded = " base64" if attributes.get("traced_asgi_lambda.response.base64") else ""
        notes.append(f"{attributes['traced_asgi_lambda.response.body_size']} B{encoded}")
    for event in span.events:
        if event["name"] == "http.response.start":
            notes.append(f"first byte at {event['at_ms']:.2f} ms")
        elif event["name"] == "exception" and span.status != "ERROR":
            kind = event["attributes"].get("exception.type", "exception")
            notes.append(style.paint(f"raised {str(kind).rsplit('.', 1)[-1]}", "red"))
    if span.status == "ERROR":
        error = attributes.get("error.type")
        notes.append(style.paint(f"ERROR {error}" if error else "ERROR", "red", "bold"))
    return "  ".join(notes)


def _walk(
    tree: dict[str | None, list[SpanRecord]], parent: str | None, prefix: str, style: Style
) -> Iterator[tuple[str, SpanRecord]]:
    children = tree.get(parent, [])
    for index, span in enumerate(children):
        last = index == len(children) - 1
        if parent is None:
            yield "", span
            yield from _walk(tree, span.span_id, "", style)
            continue
        yield prefix + (style.last if last else style.branch), span
        yield from _walk(tree, span.span_id, prefix + ("   " if last else style.pipe), style)


def tree_lines(spans: list[SpanRecord], style: Style) -> list[str]:
    """The spans as a tree, each with its duration and a bar placing it in the trace."""
    if not spans:
        return [f"{style.paint('Trace', 'bold')}  (no spans)"]
    rows = list(_walk(_children(spans), None, "", style))
    start = min(span.start_ns for span in spans)
    total = max(max(span.end_ns for span in spans) - start, 1)
    width = max(len(prefix) + len(span.name) for prefix, span in rows)
    lines = [f"{style.paint('Trace', 'bold')}  {spans[0].trace_id}"]
    for prefix, span in rows:
        offset = min(int((span.start_ns - start) / total * BAR_WIDTH), BAR_WIDTH - 1)
        length = max(1, round((span.end_ns - span.start_ns) / total * BAR_WIDTH))
        length = min(length, BAR_WIDTH - offset)
        bar = (" " * offset + style.bar * length).ljust(BAR_WIDTH)
        name = style.paint(span.name, "bold") if not prefix else span.name
        label = style.paint(prefix, "dim") + name + " " * (width - len(prefix) - len(span.name))
        duration = f"{span.duration_ms:8.2f} ms"
        lines.append(f"{label}  {duration}  {style.paint(bar, 'cyan')}  {_notes(span, style)}")
    return [line.rstrip() for line in lines]


def _exception_summary(log: dict[str, Any]) -> str | None:
    """``RuntimeError: message (file:line in function)`` from a structured traceback."""
    chain = log.get("exception")
    if not isinstance(chain, list) or not chain or not isinstance(chain[-1], dict):
        return None
    last = chain[-1]
    frames = last.get("frames") or [{}]
    where = frames[-1]
    at = f" ({where.get('filename')}:{where.get('lineno')} in {where.get('name')})"
    return f"{last.get('exc_type')}: {last.get('exc_value')}" + (at if where else "")


def _value(value: object) -> str:
    """A log value as structlog's console shows it: bare when that is unambiguous."""
    if isinstance(value, str) and value and not any(c.isspace() or c in '"=' for c in value):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _number(value: object) -> str:
    """``2.931`` for ``2.9314159``, ``1`` for ``1.0``: three decimals at most."""
    if isinstance(value, int | float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def log_lines(logs: list[dict[str, Any]], style: Style) -> list[str]:
    """Our JSON log lines as one readable line each (plus the exception, if any)."""
    lines = [f"{style.paint('Logs', 'bold')}  {len(logs)} line(s), JSON in CloudWatch"]
    for log in logs:
        extras = " ".join(
            f"{style.paint(key, 'dim')}={_value(value)}"
            for key, value in log.items()
            if key not in _QUIET_KEYS
        )
        level = str(log.get("level", ""))
        lines.append(f"  {style.level(level)} {log.get('message')}  {extras}".rstrip())
        if (summary := _exception_summary(log)) is not None:
            lines.append("        " + style.paint(summary, "red"))
    return lines


def metric_lines(blobs: list[dict[str, Any]], style: Style) -> list[str]:
    """Each EMF metric value with its unit and dimensions."""
    namespaces = sorted(
        {d["Namespace"] for b in blobs for d in b["_aws"].get("CloudWatchMetrics", [])}
    )
    lines = [
        f"{style.paint('Metrics', 'bold')}  {len(blobs)} EMF line(s), namespace "
        f"{', '.join(namespaces) or '-'}"
    ]
    for blob in blobs:
        for directive in blob["_aws"].get("CloudWatchMetrics", []):
            keys = sorted({k for dims in directive.get("Dimensions", []) for k in dims})
            dims = ", ".join(f"{k}={blob.get(k)}" for k in keys)
            for metric in directive.get("Metrics", []):
                values = blob.get(metric["Name"])
                shown = ", ".join(map(_number, values)) if isinstance(values, list) else values
                lines.append(
                    f"  {metric['Name']:<14}{shown!s:>10} {metric.get('Unit', ''):<13}"
                    f"{style.paint(dims, 'dim')}"
                )
    return lines


def invocation_lines(invocation: Invocation, style: Style) -> list[str]:
    """Everything ``invoke`` shows for one invocation, in sections."""
    sections = [
        response_lines(invocation, style),
        tree_lines(invocation.spans, style),
        log_lines(invocation.logs, style),
        metric_lines(invocation.metrics, style),
    ]
    if invocation.output:
        sections.append([style.paint("Output", "bold"), *(f"  {o}" for o in invocation.output)])
    lines: list[str] = []
    for section in sections:
        lines += [*section, ""]
    return lines


def summary_line(method: str, target: str, invocation: Invocation, style: Style) -> str:
    """One line per request for ``serve``: status, total time, then each stage's time."""
    if invocation.response is not None:
        outcome = style.status(_status_code(invocation.response))
    else:
        outcome = style.paint(f"failed: {type(invocation.error).__name__}", "red")
    roots = [s for s in invocation.spans if s.parent_id is None]
    stages = [
        f"{s.attributes.get('traced_asgi_lambda.stage', s.name)} {s.duration_ms:.2f}"
        for s in invocation.spans
        if s.parent_id
    ]
    total = roots[0].duration_ms if roots else invocation.duration_ms
    cold = f"  {style.paint('cold start', 'cyan')}" if _is_cold(roots) else ""
    line = f"{method} {target} {style.arrow} {outcome}  {total:.2f} ms"
    if stages:
        line += style.paint(f"  [{f' {style.dot} '.join(stages)}]", "dim")
    return line + cold


def _is_cold(roots: list[SpanRecord]) -> bool:
    return bool(roots and roots[0].attributes.get("faas.coldstart"))


def document(invocation: Invocation) -> dict[str, Any]:
    """Everything about one invocation, JSON-ready (``invoke --json``)."""
    http: dict[str, Any] | None = None
    if invocation.response is not None:
        from traced_asgi_lambda.local import to_http

        answer = to_http(invocation.response)
        try:
            body, encoded = answer.body.decode(), False
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(answer.body).decode(), True
        http = {
            "status": answer.status,
            "headers": [list(pair) for pair in answer.headers],
            "body": body,
            "body_base64": encoded,
        }
    return {
        "event": invocation.event,
        "response": invocation.response,
        "error": invocation.error_response,
        "http": http,
        "duration_ms": round(invocation.duration_ms, 3),
        "spans": [
            {
                **{k: v for k, v in vars(span).items() if k not in ("start_ns", "end_ns")},
                "start_ns": span.start_ns,
                "duration_ms": round(span.duration_ms, 3),
            }
            for span in invocation.spans
        ],
        "logs": invocation.logs,
        "metrics": invocation.metrics,
        "output": invocation.output,
    }
