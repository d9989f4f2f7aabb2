"""OpenTelemetry metrics for each invocation: HTTP server duration and the FaaS metrics.

Names, units, instrument kinds and attributes follow the semantic conventions exactly:
https://opentelemetry.io/docs/specs/semconv/http/http-metrics/#metric-httpserverrequestduration
(stable) and https://opentelemetry.io/docs/specs/semconv/faas/faas-metrics/ (development).
They are defined once, in ``metric_names``.

Nothing here imports OpenTelemetry at module level: ``resolve_meter_provider`` runs for
every adapter, and must not load OpenTelemetry for an app that never uses it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import TYPE_CHECKING

from traced_asgi_lambda.telemetry.metric_names import (
    DURATION_BUCKETS,
    FAAS_COLDSTARTS,
    FAAS_ERRORS,
    FAAS_INIT_DURATION,
    FAAS_INVOCATIONS,
    FAAS_INVOKE_DURATION,
    HTTP_SERVER_REQUEST_DURATION,
    InstrumentSpec,
)

if TYPE_CHECKING:
    from opentelemetry.metrics import Counter, Histogram, Meter, MeterProvider
    from opentelemetry.util.types import AttributeValue

    from traced_asgi_lambda.telemetry.outcome import Outcome

__all__ = ["KNOWN_METHODS", "OtelMetrics", "resolve_meter_provider"]

# The conventions' default "known" methods: RFC 9110's and PATCH (RFC 5789). Any other
# method is recorded as "_OTHER", so a client cannot grow the metric's cardinality.
KNOWN_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)


def resolve_meter_provider(given: MeterProvider | None) -> MeterProvider | None:
    """The MeterProvider to record with: the one given, else the app's global one, else None.

    An app that never imported ``opentelemetry.metrics`` cannot have set a global
    provider, so then OpenTelemetry is not imported at all.
    """
    if given is not None:
        return given
    if "opentelemetry.metrics" not in sys.modules:
        return None
    from opentelemetry import metrics

    current = metrics.get_meter_provider()
    # The API package defines only placeholders: the proxy returned until a provider is
    # set, and the no-op one. A real provider comes from the SDK or a vendor package.
    if type(current).__module__.startswith("opentelemetry.metrics"):
        return None
    return current


class OtelMetrics:
    """Records one invocation's metrics on a MeterProvider; never raises.

    ``environ`` is read once, for ``OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS``: the
    conventions' override of the known methods (a comma-separated, case-sensitive list
    that replaces the default).
    """

    def __init__(
        self,
        meter_provider: MeterProvider,
        *,
        environ: Mapping[str, str] | None = None,
        log: Callable[[str], object] | None = None,
    ) -> None:
        from traced_asgi_lambda import __version__

        self.provider = meter_provider
        self.log = log or logging.getLogger("traced_asgi_lambda").warning
        self.failures = 0  # records and flushes that raised; only the first is logged
        override = (environ or {}).get("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS")
        self.known_methods = (
            frozenset(m.strip() for m in override.split(",") if m.strip())
            if override is not None
            else KNOWN_METHODS
        )
        meter = meter_provider.get_meter("traced_asgi_lambda", __version__)
        self._request_duration = _histogram(meter, HTTP_SERVER_REQUEST_DURATION)
        self._invoke_duration = _histogram(meter, FAAS_INVOKE_DURATION)
        self._init_duration = _histogram(meter, FAAS_INIT_DURATION)
        self._coldstarts = _counter(meter, FAAS_COLDSTARTS)
        self._errors = _counter(meter, FAAS_ERRORS)
        self._invocations = _counter(meter, FAAS_INVOCATIONS)

    def record(self, outcome: Outcome) -> None:
        """Record the invocation on every instrument it concerns."""
        try:
            self._record(outcome)
        except Exception as exc:  # telemetry must never fail the invocation
            self._failed("recording", exc)

    def _record(self, outcome: Outcome) -> None:
        trigger: dict[str, AttributeValue] = {"faas.trigger": outcome.trigger}
        seconds = outcome.duration_ms / 1000
        if outcome.cold_start:
            self._coldstarts.add(1, trigger)
            if outcome.init_duration_ms is not None:
                self._init_duration.record(outcome.init_duration_ms / 1000, trigger)
        self._invoke_duration.record(seconds, trigger)
        # faas.invocations counts *successful* invocations; failures go to faas.errors.
        failed = outcome.failed
        (self._errors if failed else self._invocations).add(1, trigger)
        if outcome.trigger == "http":
            # Same value as the root SERVER span's duration, as the convention asks.
            self._request_duration.record(seconds, self._http_attributes(outcome, failed))

    def _http_attributes(self, outcome: Outcome, failed: bool) -> dict[str, AttributeValue]:
        method = outcome.method
        # An event that never became a request has no method; it is still an HTTP
        # request that failed, so it is counted, as "_OTHER" with its error.type.
        attributes: dict[str, AttributeValue] = {
            "http.request.method": method if method in self.known_methods else "_OTHER",
            "url.scheme": _scheme(outcome),
        }
        if outcome.status is not None:
            attributes["http.response.status_code"] = outcome.status
        if outcome.route:
            attributes["http.route"] = outcome.route
        if failed:
            # The exception's class, else the 5xx status as a string (error.type's note
            # in the HTTP conventions). Not set for a 4xx: that is the client's error.
            attributes["error.type"] = outcome.error_type or str(outcome.status)
        return attributes

    def flush(self, budget_seconds: float) -> None:
        """Export what was recorded, waiting at most ``budget_seconds``; never raises.

        With no budget left nothing is attempted: the SDK keeps cumulative sums, so the
        values go out with the next flush rather than being lost.
        """
        force_flush = getattr(self.provider, "force_flush", None)
        if force_flush is None or budget_seconds <= 0:
            return
        try:
            if force_flush(int(budget_seconds * 1000)) is False:
                raise TimeoutError(f"force_flush did not finish within {budget_seconds:.3f}s")
        except Exception as exc:  # telemetry must never fail the invocation
            self._failed("flushing", exc)

    def _failed(self, doing: str, exc: Exception) -> None:
        self.failures += 1
        if self.failures == 1:
            with suppress(Exception):
                self.log(
                    f"{doing} OpenTelemetry metrics failed: {type(exc).__name__}: {exc}; "
                    "later failures are counted in OtelMetrics.failures without logging"
                )


def _scheme(outcome: Outcome) -> str:
    # Unknown only when the event never became a request: https is what every Lambda HTTP
    # source but a plain-HTTP ALB listener receives.
    return outcome.scheme or "https"


def _histogram(meter: Meter, spec: InstrumentSpec) -> Histogram:
    return meter.create_histogram(
        spec.name,
        unit=spec.unit,
        description=spec.description,
        explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
    )


def _counter(meter: Meter, spec: InstrumentSpec) -> Counter:
    return meter.create_counter(spec.name, unit=spec.unit, description=spec.description)
