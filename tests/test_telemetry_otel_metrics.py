"""OpenTelemetry metrics: instruments, units, kinds, attributes and values, by the conventions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import Histogram, InMemoryMetricReader, Sum

from traced_asgi_lambda.telemetry.metric_names import DURATION_BUCKETS, OTEL_INSTRUMENTS
from traced_asgi_lambda.telemetry.otel_metrics import OtelMetrics, resolve_meter_provider
from traced_asgi_lambda.telemetry.outcome import Outcome

ROOT = Path(__file__).resolve().parent.parent

# Metric name -> (unit, kind, [(attributes, value)]); a histogram's value is (count, sum).
Collected = dict[str, tuple[str, str, list[tuple[dict[str, Any], Any]]]]

HTTP = {"faas.trigger": "http"}


def outcome(**fields: Any) -> Outcome:
    """A warm, successful GET taking 250 ms, changed by ``fields``."""
    defaults: dict[str, Any] = {
        "function_name": "orders-fn",
        "request_id": "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
        "cold_start": False,
        "method": "GET",
        "path": "/items/7",
        "route": "/items/{id}",
        "status": 200,
        "duration_ms": 250.0,
        "stages": {"parse": 0.25, "app": 249.0, "encode": 0.125},
    }
    return Outcome(**{**defaults, **fields})


def make(**kwargs: Any) -> tuple[OtelMetrics, InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    return OtelMetrics(provider, **kwargs), reader


def collected(reader: InMemoryMetricReader, scope: str = "traced_asgi_lambda") -> Collected:
    data = reader.get_metrics_data()
    assert data is not None
    result: Collected = {}
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            assert scope_metrics.scope.name == scope
            for metric in scope_metrics.metrics:
                points: list[tuple[dict[str, Any], Any]]
                if isinstance(metric.data, Histogram):
                    kind = "histogram"
                    points = [
                        (dict(p.attributes or {}), (p.count, p.sum))
                        for p in metric.data.data_points
                    ]
                    bounds = {tuple(p.explicit_bounds) for p in metric.data.data_points}
                    assert bounds == {DURATION_BUCKETS}, metric.name
                else:
                    assert isinstance(metric.data, Sum)
                    assert metric.data.is_monotonic, metric.name
                    kind = "counter"
                    points = [(dict(p.attributes or {}), p.value) for p in metric.data.data_points]
                result[metric.name] = (metric.unit or "", kind, points)
    return result


def request(attributes: dict[str, Any], seconds: float = 0.25) -> dict[str, Any]:
    return {"http.server.request.duration": ("s", "histogram", [(attributes, (1, seconds))])}


def faas(*, failed: bool = False, cold: bool = False, seconds: float = 0.25) -> Collected:
    result: Collected = {"faas.invoke_duration": ("s", "histogram", [(HTTP, (1, seconds))])}
    if failed:
        result["faas.errors"] = ("{error}", "counter", [(HTTP, 1)])
    else:
        result["faas.invocations"] = ("{invocation}", "counter", [(HTTP, 1)])
    if cold:
        result["faas.coldstarts"] = ("{coldstart}", "counter", [(HTTP, 1)])
        result["faas.init_duration"] = ("s", "histogram", [(HTTP, (1, 0.5))])
    return result


GET_ITEM = {
    "http.request.method": "GET",
    "url.scheme": "https",
    "http.response.status_code": 200,
    "http.route": "/items/{id}",
}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param(
            outcome(cold_start=True, init_duration_ms=500.0),
            {**request(GET_ITEM), **faas(cold=True)},
            id="cold",
        ),
        pytest.param(outcome(), {**request(GET_ITEM), **faas()}, id="warm"),
        pytest.param(
            outcome(route=None, status=404),
            {
                **request(
                    {
                        "http.request.method": "GET",
                        "url.scheme": "https",
                        "http.response.status_code": 404,
                    }
                ),
                **faas(),
            },
            id="404-is-not-an-error",
        ),
        pytest.param(
            outcome(status=500, error_type="ValueError"),
            {
                **request(
                    {**GET_ITEM, "http.response.status_code": 500, "error.type": "ValueError"}
                ),
                **faas(failed=True),
            },
            id="app-exception",
        ),
        pytest.param(
            outcome(status=503, error_type=None),
            {
                **request({**GET_ITEM, "http.response.status_code": 503, "error.type": "503"}),
                **faas(failed=True),
            },
            id="bare-5xx",
        ),
        pytest.param(
            outcome(
                cold_start=True,
                init_duration_ms=500.0,
                method=None,
                path=None,
                route=None,
                status=None,
                error_type="MalformedEventError",
                duration_ms=0.5,
                stages={"parse": 0.5},
            ),
            {
                **request(
                    {
                        "http.request.method": "_OTHER",
                        "url.scheme": "https",
                        "error.type": "MalformedEventError",
                    },
                    0.0005,
                ),
                **faas(failed=True, cold=True, seconds=0.0005),
            },
            id="cold-malformed-event",
        ),
        pytest.param(
            outcome(method="PROPFIND"),
            {**request({**GET_ITEM, "http.request.method": "_OTHER"}), **faas()},
            id="unknown-method",
        ),
    ],
)
def test_exact_instruments_per_outcome(case: Outcome, expected: Collected) -> None:
    """Each outcome records exactly these instruments, units, kinds, attributes and values."""
    metrics, reader = make()
    metrics.record(case)
    assert collected(reader) == expected
    assert metrics.failures == 0


def test_cold_start_without_init_duration_records_no_init_histogram() -> None:
    """faas.init_duration needs a measured init phase; the cold start is still counted."""
    metrics, reader = make()
    metrics.record(outcome(cold_start=True))
    result = collected(reader)
    assert "faas.init_duration" not in result
    assert result["faas.coldstarts"] == ("{coldstart}", "counter", [(HTTP, 1)])


def test_non_http_trigger_records_faas_metrics_only() -> None:
    """A queue-triggered invocation has no HTTP metric; faas.trigger names its trigger."""
    metrics, reader = make()
    metrics.record(outcome(trigger="pubsub", method=None, route=None, status=None))
    pubsub = {"faas.trigger": "pubsub"}
    assert collected(reader) == {
        "faas.invoke_duration": ("s", "histogram", [(pubsub, (1, 0.25))]),
        "faas.invocations": ("{invocation}", "counter", [(pubsub, 1)]),
    }


def test_known_methods_can_be_overridden() -> None:
    """OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS replaces the known methods (the convention)."""
    metrics, reader = make(environ={"OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS": "GET, PROPFIND"})
    metrics.record(outcome(method="PROPFIND"))
    metrics.record(outcome(method="POST"))
    (_, _, points) = collected(reader)["http.server.request.duration"]
    assert sorted(attributes["http.request.method"] for attributes, _ in points) == [
        "PROPFIND",
        "_OTHER",
    ]


def test_invocations_accumulate() -> None:
    """Two warm successes and a failure add up on the same series."""
    metrics, reader = make()
    metrics.record(outcome())
    metrics.record(outcome(duration_ms=750.0))
    metrics.record(outcome(status=500, error_type="ValueError"))
    result = collected(reader)
    assert result["faas.invocations"] == ("{invocation}", "counter", [(HTTP, 2)])
    assert result["faas.errors"] == ("{error}", "counter", [(HTTP, 1)])
    assert result["faas.invoke_duration"] == ("s", "histogram", [(HTTP, (3, 1.25))])


def test_instruments_match_the_semantic_conventions_package() -> None:
    """Names, units, descriptions and kinds equal those generated from the conventions."""
    from opentelemetry.semconv._incubating.metrics import faas_metrics, http_metrics

    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader], shutdown_on_exit=False).get_meter("semconv")
    http_metrics.create_http_server_request_duration(meter).record(1.0)
    faas_metrics.create_faas_invoke_duration(meter).record(1.0)
    faas_metrics.create_faas_init_duration(meter).record(1.0)
    faas_metrics.create_faas_coldstarts(meter).add(1)
    faas_metrics.create_faas_errors(meter).add(1)
    faas_metrics.create_faas_invocations(meter).add(1)
    data = reader.get_metrics_data()
    assert data is not None
    generated = {
        (m.name, m.unit, m.description, "histogram" if isinstance(m.data, Histogram) else "counter")
        for m in data.resource_metrics[0].scope_metrics[0].metrics
    }
    assert generated == {(s.name, s.unit, s.description, s.kind) for s in OTEL_INSTRUMENTS}


# Failures and flushing ---------------------------------------------------------------------


class FlushingProvider(MeterProvider):
    """A real SDK provider whose force_flush reports its argument and answers as told."""

    def __init__(self, answer: bool = True, error: Exception | None = None) -> None:
        super().__init__(shutdown_on_exit=False)
        self.answer = answer
        self.error = error
        self.calls: list[float] = []

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        self.calls.append(timeout_millis)
        if self.error is not None:
            raise self.error
        return self.answer


def test_flush_passes_the_budget_in_milliseconds() -> None:
    """flush(0.25) asks the provider to finish within 250 ms."""
    provider = FlushingProvider()
    OtelMetrics(provider).flush(0.25)
    assert provider.calls == [250]


def test_no_budget_means_no_flush() -> None:
    """With no time left the flush is skipped; cumulative sums go out with the next one."""
    provider = FlushingProvider()
    OtelMetrics(provider).flush(0.0)
    assert provider.calls == []


@pytest.mark.parametrize(
    ("provider", "reported"),
    [
        pytest.param(
            FlushingProvider(error=ConnectionError("no collector")), "ConnectionError", id="raises"
        ),
        pytest.param(
            FlushingProvider(answer=False), "did not finish within 0.500s", id="times-out"
        ),
    ],
)
def test_flush_failures_never_raise_and_log_once(provider: FlushingProvider, reported: str) -> None:
    """A failing flush is counted every time and logged the first time only."""
    messages: list[str] = []
    metrics = OtelMetrics(provider, log=messages.append)
    metrics.flush(0.5)
    metrics.flush(0.5)
    assert metrics.failures == 2
    assert len(messages) == 1
    assert reported in messages[0]


def test_flush_with_the_real_sdk() -> None:
    """A real provider with an in-memory reader flushes without complaint."""
    metrics, reader = make()
    metrics.record(outcome())
    metrics.flush(1.0)
    assert metrics.failures == 0
    assert "faas.invocations" in collected(reader)


def test_record_never_raises() -> None:
    """A broken outcome costs its metrics only, and is logged once."""
    messages: list[str] = []
    metrics, _ = make(log=messages.append)
    broken = outcome()
    broken.duration_ms = None  # type: ignore[assignment]
    metrics.record(broken)
    metrics.record(broken)
    assert metrics.failures == 2
    assert len(messages) == 1
    assert "recording OpenTelemetry metrics failed: TypeError" in messages[0]


def test_a_provider_without_force_flush_is_fine() -> None:
    """The API's no-op provider records nothing and has nothing to flush."""
    metrics = OtelMetrics(NoOpMeterProvider())
    metrics.record(outcome(cold_start=True, init_duration_ms=1.0))
    metrics.flush(1.0)
    assert metrics.failures == 0


# Resolving the provider --------------------------------------------------------------------


def test_a_given_provider_is_used_as_is() -> None:
    """A provider passed in wins over everything."""
    provider = MeterProvider(shutdown_on_exit=False)
    assert resolve_meter_provider(provider) is provider


RESOLVE_PROBE = """
import sys
from traced_asgi_lambda.telemetry.otel_metrics import resolve_meter_provider
print(resolve_meter_provider(None), sorted(m for m in sys.modules if m.startswith("opentelemetry")))
from opentelemetry import metrics
print(resolve_meter_provider(None))
if sys.argv[1] == "sdk":
    from opentelemetry.sdk.metrics import MeterProvider
    provider = MeterProvider(shutdown_on_exit=False)
else:
    provider = metrics.NoOpMeterProvider()
metrics.set_meter_provider(provider)
print(resolve_meter_provider(None) is provider)
"""


@pytest.mark.parametrize(
    ("kind", "is_global"),
    [
        pytest.param("sdk", "True", id="sdk-global"),
        pytest.param("noop", "False", id="noop-global"),
    ],
)
def test_resolution_in_a_fresh_process(kind: str, is_global: str) -> None:
    """No import without need; no provider until the app sets one; a no-op global is none."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", RESOLVE_PROBE, kind],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["None []", "None", is_global]
