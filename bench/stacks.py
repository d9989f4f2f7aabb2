"""How each stack under test is built.

A stack is a Lambda handler around a fresh instance of one of the apps, plus what the
runner needs to measure it. The stacks, as named in the tables:

- ``floor``: the app called directly with a prebuilt scope on a reused loop (``apps.Floor``).
- ``mangum``: ``Mangum(app, lifespan="auto")``, Mangum 0.22.
- ``mangum+otel``: the way OpenTelemetry is glued onto Mangum today. Global providers: a
  ``TracerProvider`` with a ``BatchSpanProcessor`` into the sink, and an SDK
  ``MeterProvider`` with no reader (the ASGI middleware records its histograms into it,
  and the Lambda instrumentor flushes it every call; without one it logs a warning every
  call). The app is wrapped in ``OpenTelemetryMiddleware`` (opentelemetry-instrumentation-asgi),
  and the handler by opentelemetry-instrumentation-aws-lambda, whose wrapper calls
  ``force_flush`` on the tracer provider at the end of every invocation.
- ``mangum+powertools``: a handler decorated with Powertools' ``Logger.inject_lambda_context``
  and ``Metrics.log_metrics(capture_cold_start_metric=True)``, calling Mangum, then adding
  two metrics (``Latency``, ``Requests``) and logging one line; ``log_metrics`` flushes the
  EMF blob at the end of every call.
- ``assembled``: all of the above together: the OpenTelemetry-wrapped app in Mangum, in the
  Powertools handler, wrapped by the Lambda instrumentor.
- ``ours-off``: ``LambdaAdapter(app, telemetry=TelemetryOptions(logs=False, metrics=False))``
  and no tracer provider.
- ``ours-sync``: ``LambdaAdapter(app, tracer_provider=lambda_tracer_provider(sink),
  telemetry=TelemetryOptions(stream=devnull))``: every stage span, the access log line and
  EMF, spans exported before the handler returns.
- ``ours-after``: the same with ``export="after-response"``. Outside Lambda the adapter falls
  back to a synchronous flush, so the bench stands in for the extension thread
  (``DeferredExport``): the adapter hands the export over exactly as in Lambda, the handler
  returns, and the runner then runs the export itself, off the response path but on the
  same thread, so it is timed as part of the invocation's total work.
- ``ours-after-ext``: the same handover to a real second thread (``ExtensionThread``) that
  exports while the main thread serialises and writes the response, as the runtime does;
  this shows what the export's competition for the GIL costs the response.
- ``ours-spans``, ``ours-logs``, ``ours-emf``: one signal each (the others off), to show
  what each costs: spans exported in sync mode; the access log line; the EMF lines.
- ``ours-no-emf``: ``ours-sync`` without EMF (``metrics=False``), which is also without
  Powertools: what the brief's choice of Powertools for EMF costs, in the cold start above
  all (Powertools' package imports its Logger, Metrics and Tracer whichever one is used).

The instrumentor is applied as it applies itself: it wraps the module attribute named by
``_HANDLER``. In a cold-start child that is done with the public
``AwsLambdaInstrumentor().instrument()``; in-process, where each app and event needs its
own handler and the instrumentor instruments once per process, with the function it
delegates to (``_instrument``), with the same arguments, so the per-call path is identical.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from bench.apps import ASGIApp, Floor, build_app

if TYPE_CHECKING:
    from bench.sink import DropSink

__all__ = [
    "COLD_STACKS",
    "GROUPS",
    "STACKS",
    "Handler",
    "ProcessSetup",
    "Stack",
    "build_stack",
    "setup_process",
]

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

STACKS: dict[str, str] = {
    "floor": "app called directly (floor)",
    "mangum": "Mangum 0.22",
    "mangum+otel": "Mangum + OTel aws-lambda + asgi",
    "mangum+powertools": "Mangum + Powertools Logger, Metrics",
    "assembled": "Mangum + OTel + Powertools",
    "ours-off": "ours, telemetry off",
    "ours-sync": "ours, full telemetry, sync export",
    "ours-after": "ours, full telemetry, after-response",
    "ours-after-ext": "ours, after-response, export thread",
    "ours-spans": "ours, spans only (sync export)",
    "ours-logs": "ours, access log only",
    "ours-emf": "ours, EMF only",
    "ours-no-emf": "ours, spans and access log, no EMF",
}

# One process each. OpenTelemetry's global providers can be set once per process, so the
# stacks that use them get a process of their own. Powertools gets one too: our adapter
# installs a chained stdlib log-record factory while it exists, which Powertools' Logger
# (a stdlib logger) would otherwise pay for. Every group has its own bare Mangum, so every
# ratio compares two stacks measured in the same process, in the same rounds.
GROUPS: dict[str, tuple[str, ...]] = {
    "core": (
        "floor",
        "mangum",
        "ours-off",
        "ours-sync",
        "ours-after",
        "ours-after-ext",
        "ours-spans",
        "ours-logs",
        "ours-emf",
        "ours-no-emf",
    ),
    "powertools": ("mangum", "mangum+powertools"),
    "otel": ("mangum", "mangum+otel"),
    "assembled": ("mangum", "assembled"),
}
_GLOBAL_OTEL_GROUPS = frozenset({"otel", "assembled"})

# Cold start: each is a whole process on its own, so after-response (which needs the
# Lambda Runtime API to register its extension) is measured as ours-sync.
COLD_STACKS = (
    "floor",
    "mangum",
    "mangum+otel",
    "mangum+powertools",
    "assembled",
    "ours-off",
    "ours-sync",
    "ours-no-emf",
)

_module_numbers = itertools.count()


@dataclass
class Stack:
    """A handler under test and what the runner needs around it."""

    name: str
    handler: Handler
    # Work that Lambda runs after the response has gone, before the next invocation:
    # the runner calls it after timing the response.
    after: Callable[[], None] | None = None
    sink: DropSink | None = None  # where its spans go, for counting them
    close: Callable[[], None] = field(default=lambda: None)


@dataclass
class ProcessSetup:
    """What one measuring process set up once: its global span sink, if any."""

    group: str
    stream: TextIO
    cold: bool = False
    global_sink: DropSink | None = None


def setup_process(group: str, stream: TextIO, *, cold: bool = False) -> ProcessSetup:
    """Set the process-wide state ``group`` needs (OpenTelemetry's global providers)."""
    setup = ProcessSetup(group=group, stream=stream, cold=cold)
    if group in _GLOBAL_OTEL_GROUPS:
        setup.global_sink = _set_global_providers()
    return setup


def build_stack(name: str, app_name: str, setup: ProcessSetup) -> Stack:
    """A fresh ``name`` stack around a fresh ``app_name`` app."""
    app = build_app(app_name)
    if name == "floor":
        from bench.events import floor_scope

        floor = Floor(app, floor_scope())
        return Stack(name, floor, close=floor.close)
    if name == "mangum":
        return Stack(name, _mangum(app))
    if name == "mangum+powertools":
        return Stack(name, _powertools(_mangum(app), setup.stream))
    if name in ("mangum+otel", "assembled"):
        if setup.global_sink is None:
            raise RuntimeError(
                f"Expected stack {name!r} in a process set up for OpenTelemetry's global "
                f"providers (group 'otel' or 'assembled'), but the group is {setup.group!r}."
            )
        inner = _mangum(_otel_asgi(app))
        if name == "assembled":
            inner = _powertools(inner, setup.stream)
        return Stack(name, _aws_lambda_instrumented(inner, setup.cold), sink=setup.global_sink)
    if name.startswith("ours"):
        return _ours(name, app, setup)
    raise ValueError(f"Expected a stack name in {tuple(STACKS)}, but got {name!r}.")


# -- the stacks -----------------------------------------------------------------------


def _mangum(app: ASGIApp) -> Handler:
    from mangum import Mangum

    handler: Handler = Mangum(app, lifespan="auto")  # type: ignore[arg-type]
    return handler


def _powertools(inner: Handler, stream: TextIO) -> Handler:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    logger = Logger(service="bench", stream=stream)
    metrics = Metrics(namespace="Bench", service="bench")

    @logger.inject_lambda_context
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        response = inner(event, context)
        elapsed_ms = (time.perf_counter() - started) * 1000
        metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        logger.info(
            "request handled",
            extra={"status": response["statusCode"], "duration_ms": round(elapsed_ms, 3)},
        )
        return response

    decorated: Handler = handler  # Powertools' decorators are typed as returning Any
    return decorated


def _set_global_providers() -> DropSink:
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from bench.sink import DropSink

    sink = DropSink()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(sink))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider())
    return sink


def _otel_asgi(app: ASGIApp) -> ASGIApp:
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    wrapped: ASGIApp = OpenTelemetryMiddleware(app)
    return wrapped


def _aws_lambda_instrumented(handler: Handler, cold: bool) -> Handler:
    """``handler`` wrapped by opentelemetry-instrumentation-aws-lambda, as in Lambda.

    The instrumentor wraps the attribute named by ``_HANDLER`` (``module.function``) in
    place, so the handler is put in a module of its own first.
    """
    module_name = f"bench_lambda_function_{next(_module_numbers)}"
    module = types.ModuleType(module_name)
    module.handler = handler  # type: ignore[attr-defined]
    sys.modules[module_name] = module
    if cold:
        from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor

        os.environ["_HANDLER"] = f"{module_name}.handler"
        AwsLambdaInstrumentor().instrument()
    else:
        from opentelemetry.instrumentation.aws_lambda import (
            OTEL_INSTRUMENTATION_AWS_LAMBDA_FLUSH_TIMEOUT,
            _default_event_context_extractor,
            _instrument,
        )

        # The instrumentor's own defaults: a 30 s flush timeout unless the variable is set.
        timeout = int(os.environ.get(OTEL_INSTRUMENTATION_AWS_LAMBDA_FLUSH_TIMEOUT, "30000"))
        _instrument(
            module_name,
            "handler",
            timeout,
            event_context_extractor=_default_event_context_extractor,
        )
    wrapped: Handler = module.handler
    if wrapped is handler:
        raise RuntimeError(
            "Expected opentelemetry-instrumentation-aws-lambda to wrap the handler, but it "
            "left it unwrapped: is AWS_LAMBDA_FUNCTION_NAME set in the environment?"
        )
    return wrapped


def _ours(name: str, app: ASGIApp, setup: ProcessSetup) -> Stack:
    from traced_asgi_lambda import LambdaAdapter, TelemetryOptions
    from traced_asgi_lambda.telemetry.options import ExportMode

    if name == "ours-off":
        adapter = LambdaAdapter(app, telemetry=TelemetryOptions(logs=False, metrics=False))
        if adapter.telemetry is not None:
            raise RuntimeError("Expected telemetry to be off for 'ours-off', but it is on.")
        return Stack(name, adapter, close=adapter.close)

    if name in ("ours-logs", "ours-emf"):
        only = TelemetryOptions(
            logs=name == "ours-logs", metrics=name == "ours-emf", stream=setup.stream
        )
        adapter = LambdaAdapter(app, telemetry=only)
        return Stack(name, adapter, close=adapter.close)

    from traced_asgi_lambda.telemetry.provider import lambda_tracer_provider

    sink = ours_sink()
    if name == "ours-spans":
        spans_only = TelemetryOptions(logs=False, metrics=False, stream=setup.stream)
        adapter = LambdaAdapter(
            app, tracer_provider=lambda_tracer_provider(sink), telemetry=spans_only
        )
        return Stack(name, adapter, sink=sink, close=adapter.close)
    if name == "ours-no-emf":
        without_emf = TelemetryOptions(stream=setup.stream, metrics=False)
        adapter = LambdaAdapter(
            app, tracer_provider=lambda_tracer_provider(sink), telemetry=without_emf
        )
        return Stack(name, adapter, sink=sink, close=adapter.close)
    mode: ExportMode = "sync" if name == "ours-sync" else "after-response"
    adapter = LambdaAdapter(
        app,
        tracer_provider=lambda_tracer_provider(sink),
        telemetry=TelemetryOptions(stream=setup.stream, export=mode),
    )
    stack = Stack(name, adapter, sink=sink, close=adapter.close)
    from bench.after_response import DeferredExport, ExtensionThread, install_after_response

    if name == "ours-after":
        deferred = DeferredExport()
        stack.after = install_after_response(adapter, deferred, deferred.run_if_due)
    elif name == "ours-after-ext":
        thread = ExtensionThread()
        stack.after = install_after_response(adapter, thread, thread.wait)

        def close() -> None:
            thread.stop()
            adapter.close()

        stack.close = close
    elif name != "ours-sync":
        raise ValueError(f"Expected a stack name in {tuple(STACKS)}, but got {name!r}.")
    return stack


def ours_sink() -> DropSink:
    """Our stacks' sink: the library's encoder, in-line as its exporter is; else the stock one.

    See ``bench.sink``: each stack encodes as its production exporter does.
    """
    from bench.sink import DropSink, InlineDropSink, library_encoder

    encode = library_encoder()
    return DropSink() if encode is None else InlineDropSink(encode)
