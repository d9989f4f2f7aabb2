"""CloudWatch metrics for each invocation, as Embedded Metric Format (EMF) lines.

EMF is JSON on stdout that CloudWatch Logs turns into metrics; on Lambda nothing else is
needed. Spec: "Specification: Embedded metric format",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

The JSON is Powertools' (``EphemeralMetrics.serialize_metric_set``); we use neither its
``Metrics`` class nor its flush, for three reasons:

- ``Metrics`` keeps its metric and dimension dicts as *class* attributes, shared by every
  instance in the process: two adapters, or the app's own ``Metrics``, would flush each
  other's values. ``EphemeralMetrics`` keeps them per instance, and we go further and never
  store a metric in it: each invocation's values are local dicts handed to
  ``serialize_metric_set``, so the serialiser holds no per-call state at all.
- ``log_metrics(capture_cold_start_metric=True)`` adds ColdStart only after the handler
  returns, so a failing cold invocation loses it (and the next one is reported cold).
- ``flush_metrics`` prints each blob separately to ``sys.stdout`` (and ``add_metric``
  prints on its own once a set reaches 100 metrics or values); we write every blob of an
  invocation in one ``write`` to the stream we were given, which is cheaper and keeps
  them together.

In EMF all metrics of one directive share the same dimension *values* (the root members),
so each stage's ``StageLatency`` needs its own blob. Limits from the spec are respected by
splitting: at most 100 metrics per directive, 100 values per metric, 256 KB per line. (Our
dimension sets have at most two keys, far under the spec's 30 per set.)
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TextIO

from traced_asgi_lambda.exceptions import ConfigurationError
from traced_asgi_lambda.telemetry.metric_names import (
    CLIENT_ERRORS,
    COLD_START,
    DEFAULT_MAX_ROUTES,
    DEFAULT_NAMESPACE,
    DIM_FUNCTION_NAME,
    DIM_ROUTE,
    DIM_SERVICE,
    DIM_STAGE,
    LATENCY,
    REQUESTS,
    ROUTE_OTHER,
    ROUTE_UNMATCHED,
    SERVER_ERRORS,
    STAGE_LATENCY,
    TIMEOUTS,
)
from traced_asgi_lambda.telemetry.options import read_switch

if TYPE_CHECKING:
    from aws_lambda_powertools.metrics import EphemeralMetrics

    from traced_asgi_lambda.telemetry.outcome import Outcome

__all__ = [
    "MAX_EVENT_BYTES",
    "MAX_METRICS_PER_DIRECTIVE",
    "MAX_VALUES_PER_METRIC",
    "EmfMetrics",
    "MetricValues",
    "metrics_enabled",
]

# Limits from the EMF spec: "[Metrics] MUST NOT contain more than 100 MetricDefinition
# objects"; "Numeric array metric targets MUST NOT have more than 100 members"; a document
# is "limited to a maximum size of 256 KB" (the CloudWatch Logs event limit; newer pages
# give 1 MB, and 256 KB is valid under both).
MAX_METRICS_PER_DIRECTIVE = 100
MAX_VALUES_PER_METRIC = 100
MAX_EVENT_BYTES = 256 * 1024

# Metric name -> (CloudWatch unit, values): the input of EmfMetrics.encode.
MetricValues = Mapping[str, tuple[str, Sequence[float]]]


def metrics_enabled(environ: Mapping[str, str]) -> bool:
    """Whether EMF metrics are on: ``TRACED_ASGI_LAMBDA_METRICS``, else Powertools' variables.

    ``TRACED_ASGI_LAMBDA_METRICS=off`` (or false, 0, no) turns them off and ``on`` (true, 1,
    yes) on, whatever Powertools' variables say. Unset, Powertools' own rule applies
    (``aws_lambda_powertools.metrics.functions.is_metrics_disabled``): off when
    ``POWERTOOLS_METRICS_DISABLED`` is true, or when ``POWERTOOLS_DEV`` is true and
    ``POWERTOOLS_METRICS_DISABLED`` is unset.
    """
    own = environ.get("TRACED_ASGI_LAMBDA_METRICS", "").strip()
    if own:
        return read_switch("TRACED_ASGI_LAMBDA_METRICS", own)
    disabled = environ.get("POWERTOOLS_METRICS_DISABLED")
    if disabled is not None:
        return not read_switch("POWERTOOLS_METRICS_DISABLED", disabled)
    return not read_switch("POWERTOOLS_DEV", environ.get("POWERTOOLS_DEV", "false"))


def _valid_dimension_value(value: str) -> bool:
    # CloudWatch API reference, "Dimension": 1 to 1024 ASCII characters, at least one
    # non-whitespace, no control characters. A bad value makes CloudWatch drop the blob.
    return (
        0 < len(value) <= 1024 and value.isascii() and value.isprintable() and not value.isspace()
    )


class EmfMetrics:
    """Writes one invocation's CloudWatch metrics as EMF lines, in one write; never raises.

    See ``metric_names`` for what is emitted. With ``route_dimensions``, the per-request
    metrics are also published per route template, for at most ``max_routes`` distinct
    routes in this environment; later ones are reported as ``"other"``, so the number of
    CloudWatch metrics (and their cost) stays bounded.
    """

    def __init__(
        self,
        *,
        namespace: str | None,
        service: str,
        function_name: str,
        environ: Mapping[str, str],
        route_dimensions: bool = False,
        max_routes: int = DEFAULT_MAX_ROUTES,
        stream: TextIO | None = None,
        log: Callable[[str], object] | None = None,
    ) -> None:
        from aws_lambda_powertools.metrics import EphemeralMetrics

        self.namespace = (
            namespace or environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
        )
        # POWERTOOLS_METRICS_FUNCTION_NAME names ColdStart's function_name in Powertools too.
        self.function_name = environ.get("POWERTOOLS_METRICS_FUNCTION_NAME") or function_name
        self.service = service
        _check_configuration(self.namespace, service, self.function_name, max_routes)
        self.route_dimensions = route_dimensions
        self.max_routes = max_routes
        self.stream = stream  # None: sys.stdout, looked up at each write (tests swap it)
        self.log = log or logging.getLogger("traced_asgi_lambda").warning
        self.failures = 0  # emits that raised; only the first is logged
        self._routes: set[str] = set()
        self._shapes: dict[_Shape, _Template] = {}
        # What json.dumps(blob, separators=(",", ":")) does (Powertools' flush), without
        # building a new encoder for every blob.
        self._dumps = json.JSONEncoder(separators=(",", ":")).encode
        self._serializer: EphemeralMetrics = EphemeralMetrics(
            namespace=self.namespace, service=service
        )
        # serialize_metric_set adds the service dimension to the instance on its first call;
        # adding it now means no call ever changes the serialiser.
        self._serializer.add_dimension(DIM_SERVICE, service)

    def emit(self, outcome: Outcome, *, flush: bool = True) -> None:
        """Write the invocation's metrics; a failure is counted and logged once, never raised.

        ``flush=False`` leaves flushing the stream to a line written right after.
        """
        try:
            text = self.render(outcome)
            stream = self.stream or sys.stdout
            stream.write(text)
            if flush:
                stream.flush()
        except Exception as exc:  # telemetry must never fail the invocation
            self.failures += 1
            if self.failures == 1:
                with suppress(Exception):
                    self.log(
                        f"EMF metrics could not be written: {type(exc).__name__}: {exc}; "
                        "later failures are counted in EmfMetrics.failures without logging"
                    )

    def render(self, outcome: Outcome) -> str:
        """The invocation's EMF lines, newline-terminated, ready for one write.

        Every invocation writes lines of one of a few shapes: which metrics, with which
        constant values (ColdStart, Requests, the error flags), under which dimension values
        and stages. Each shape is rendered once through Powertools with marker values and cut
        at the markers; later invocations of that shape only splice in the timestamp, the
        latency and the stage times. The output is byte for byte what the general path
        writes, at a fraction of its cost (one join instead of dicts, Powertools' metric-set
        validation and a JSON encode per line).
        """
        shape = self._shape(outcome)
        values = (outcome.duration_ms, *outcome.stages.values())
        template = self._shapes.get(shape)
        if template is None:
            template = self._shape_template(shape, len(values))
            if len(self._shapes) < _MAX_SHAPES:
                self._shapes[shape] = template
        if template and all(map(math.isfinite, values)):
            stamp = str(int(time.time() * 1000))
            pieces = [template[0]]
            for slot, text in template[1]:
                pieces.append(stamp if slot < 0 else repr(float(values[slot])))
                pieces.append(text)
            return "".join(pieces)
        return self._render(shape, values)

    def _shape(self, outcome: Outcome) -> _Shape:
        """What decides the lines' layout and constants, but not the measured times."""
        http = outcome.trigger == "http"
        failed = outcome.failed
        status = outcome.status
        client = not failed and status is not None and 400 <= status < 500
        route = self._route_value(outcome.route) if http and self.route_dimensions else None
        return (
            outcome.cold_start,
            http,
            client,
            failed,
            route,
            outcome.timed_out,
            tuple(outcome.stages),
        )

    def _render(self, shape: _Shape, values: Sequence[float], timestamp: int | None = None) -> str:
        """The general path: each blob through Powertools' serialiser, split to the limits."""
        cold_start, http, client, failed, route, timed_out, stages = shape
        service = self.service
        lines: list[str] = []
        if cold_start:
            cold = {DIM_FUNCTION_NAME: self.function_name, DIM_SERVICE: service}
            lines += self.encode(cold, {COLD_START.name: (COLD_START.unit, (1.0,))})
        metrics: dict[str, tuple[str, Sequence[float]]] = {
            LATENCY.name: (LATENCY.unit, (values[0],))
        }
        dimensions = {DIM_SERVICE: service}
        extra_sets: tuple[tuple[str, ...], ...] = ()
        if http:
            # All three on every HTTP invocation, 0 or 1, so rates have no gaps. An event
            # that never became a request (status None, error_type set) is a server error.
            metrics[REQUESTS.name] = (REQUESTS.unit, (1.0,))
            metrics[CLIENT_ERRORS.name] = (CLIENT_ERRORS.unit, (1.0 if client else 0.0,))
            metrics[SERVER_ERRORS.name] = (SERVER_ERRORS.unit, (1.0 if failed else 0.0,))
            if route is not None:
                dimensions[DIM_ROUTE] = route
                # Also under [service] alone, so totals need no SEARCH across routes.
                extra_sets = ((DIM_SERVICE,),)
        if timed_out:
            # Only when it happens: a timeout is rare, and its alarm treats missing as OK.
            metrics[TIMEOUTS.name] = (TIMEOUTS.unit, (1.0,))
        lines += self.encode(dimensions, metrics, extra_sets=extra_sets)
        for stage, milliseconds in zip(stages, values[1:], strict=True):
            lines += self.encode(
                {DIM_SERVICE: service, DIM_STAGE: stage},
                {STAGE_LATENCY.name: (STAGE_LATENCY.unit, (milliseconds,))},
            )
        if timestamp is not None:
            for index, line in enumerate(lines):
                blob = json.loads(line)
                blob["_aws"]["Timestamp"] = timestamp
                lines[index] = self._dumps(blob)
        return "\n".join(lines) + "\n"

    def _shape_template(self, shape: _Shape, count: int) -> _Template:
        """The text of ``shape`` cut where the timestamps and the ``count`` values go.

        Empty when the cut would be ambiguous (a marker also in a dimension value) or the
        lines are near the size limit, where a longer real value could need a split: those
        invocations take the general path.
        """
        markers = [(index + 1) * 1.5e-300 for index in range(count)]
        text = self._render(shape, markers, timestamp=_TIMESTAMP_MARKER)
        if len(text) > MAX_EVENT_BYTES // 2:
            return ()
        slots = {str(_TIMESTAMP_MARKER): -1} | {repr(m): i for i, m in enumerate(markers)}
        pieces = _cut_at(text, slots)
        found = [slots[piece] for piece in pieces[1::2]]
        values = [slot for slot in found if slot >= 0]
        if sorted(values) != list(range(count)) or found.count(-1) != text.count("\n"):
            return ()  # a marker inside a dimension value: the cut would be ambiguous
        return pieces[0], tuple(zip(found, pieces[2::2], strict=True))

    def encode(
        self,
        dimensions: Mapping[str, str],
        metrics: MetricValues,
        *,
        extra_sets: Sequence[Sequence[str]] = (),
    ) -> list[str]:
        """EMF lines publishing ``metrics`` under ``dimensions`` (and ``extra_sets`` of them).

        Split into as many lines as the spec's limits need. Values that are not finite
        numbers are left out: JSON cannot carry them, and one would void the whole line.
        """
        lines: list[str] = []
        for chunk in _chunks(metrics):
            self._fit(dimensions, extra_sets, chunk, lines)
        return lines

    def _fit(
        self,
        dimensions: Mapping[str, str],
        extra_sets: Sequence[Sequence[str]],
        chunk: dict[str, dict[str, Any]],
        lines: list[str],
    ) -> None:
        """Append the chunk as one line, or as several when it is over the size limit."""
        blob = self._serializer.serialize_metric_set(
            metrics=chunk, dimensions=dict(dimensions), metadata={}
        )
        if extra_sets:
            sets = blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
            sets[:0] = [list(names) for names in extra_sets]
        # json.dumps escapes non-ASCII (ensure_ascii), so characters are bytes here.
        line = self._dumps(blob)
        if len(line) <= MAX_EVENT_BYTES:
            lines.append(line)
            return
        halves = _halve(chunk)
        if halves is None:
            raise ValueError(
                f"Expected one EMF value with its dimensions to fit in {MAX_EVENT_BYTES} "
                f"bytes, but it takes {len(line)}: the dimension values are too long."
            )
        for half in halves:
            self._fit(dimensions, extra_sets, half, lines)

    def _route_value(self, route: str | None) -> str:
        if not route:
            return ROUTE_UNMATCHED
        routes = self._routes
        if route in routes:
            return route
        if len(routes) >= self.max_routes or not _valid_dimension_value(route):
            return ROUTE_OTHER
        routes.add(route)
        return route


# A timestamp no real line carries (the year 2100), marking where the real one goes.
_TIMESTAMP_MARKER = 4102444800123
# Shapes: (cold_start, http, client error, server error, route, timed out, stage names).
_Shape = tuple[bool, bool, bool, bool, str | None, bool, tuple[str, ...]]
# A shape's text: the head, then (slot, text after it) with slot -1 for the timestamp and
# i >= 0 for the i-th value (the latency, then each stage's time); () when not cacheable.
_Template = tuple[str, tuple[tuple[int, str], ...]] | tuple[()]
# Far more than the shapes one function makes (a few per route), so a cap never bites in
# practice; it only bounds memory if stage names were ever unbounded.
_MAX_SHAPES = 4096


def _cut_at(text: str, markers: Iterable[str]) -> list[str]:
    """``text`` split at each occurrence of any of ``markers``, which are kept: what
    ``re.split`` with a group of the markers gives, without compiling a pattern for each
    new shape (about 1 ms of a cold start's first invocation). No marker is a prefix of
    another (floats' reprs with three-digit exponents, and the timestamp), so at most one
    matches at any position."""
    pieces: list[str] = []
    start = 0
    while True:
        hits = [(at, marker) for marker in markers if (at := text.find(marker, start)) >= 0]
        if not hits:
            pieces.append(text[start:])
            return pieces
        at, marker = min(hits)
        pieces += (text[start:at], marker)
        start = at + len(marker)


def _chunks(metrics: MetricValues) -> list[dict[str, dict[str, Any]]]:
    """Powertools-shaped metric sets of at most 100 metrics with at most 100 values each."""
    chunk: dict[str, dict[str, Any]] = {}
    longest = 0
    for name, (unit, values) in metrics.items():
        finite = [value for value in values if math.isfinite(value)]
        if finite:
            chunk[name] = {"Unit": unit, "StorageResolution": 60, "Value": finite}
            longest = max(longest, len(finite))
    if len(chunk) <= MAX_METRICS_PER_DIRECTIVE and longest <= MAX_VALUES_PER_METRIC:
        return [chunk] if chunk else []  # every invocation's metrics: no splitting needed
    chunks = []
    pending = [(name, metric["Unit"], metric["Value"]) for name, metric in chunk.items()]
    while pending:
        chunk, later = {}, []
        for name, unit, values in pending:
            if len(chunk) == MAX_METRICS_PER_DIRECTIVE:
                later.append((name, unit, values))
                continue
            head, rest = values[:MAX_VALUES_PER_METRIC], values[MAX_VALUES_PER_METRIC:]
            chunk[name] = {"Unit": unit, "StorageResolution": 60, "Value": head}
            if rest:
                later.append((name, unit, rest))
        chunks.append(chunk)
        pending = later
    return chunks


def _halve(chunk: dict[str, dict[str, Any]]) -> list[dict[str, dict[str, Any]]] | None:
    """Two smaller metric sets with the same content, or None when it is one value."""
    names = list(chunk)
    if len(names) > 1:
        middle = len(names) // 2
        return [{n: chunk[n] for n in names[:middle]}, {n: chunk[n] for n in names[middle:]}]
    (name,) = names
    values = chunk[name]["Value"]
    if len(values) == 1:
        return None
    middle = len(values) // 2
    return [
        {name: {**chunk[name], "Value": values[:middle]}},
        {name: {**chunk[name], "Value": values[middle:]}},
    ]


def _check_configuration(namespace: str, service: str, function_name: str, max_routes: int) -> None:
    # Namespace: 1 to 255 characters, not starting with ":" (CloudWatch API, "Metric").
    if not (0 < len(namespace) <= 255 and namespace.isascii() and not namespace.startswith(":")):
        raise ConfigurationError(
            f"Expected the metrics namespace to be 1 to 255 ASCII characters not starting "
            f"with ':', but got {namespace!r}. Fix: pass namespace= or set "
            "POWERTOOLS_METRICS_NAMESPACE."
        )
    for name, value in (("service", service), ("function_name", function_name)):
        if not _valid_dimension_value(value):
            raise ConfigurationError(
                f"Expected {name} to be a CloudWatch dimension value (1 to 1024 printable "
                f"ASCII characters, not all spaces), but got {value!r}. Fix: pass another "
                f"{name}."
            )
    if max_routes < 0:
        raise ConfigurationError(
            f"Expected max_routes to be a whole number of routes, 0 or more, but got "
            f"{max_routes!r}."
        )
