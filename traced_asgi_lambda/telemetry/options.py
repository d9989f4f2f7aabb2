"""Every telemetry setting an adapter or ``@traced_handler`` takes, in one place."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TextIO

from traced_asgi_lambda.telemetry.redaction import DEFAULT_REDACTED_HEADERS, DEFAULT_REDACTED_QUERY

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider

__all__ = ["ExportMode", "TelemetryOptions", "read_switch"]

ExportMode = Literal["sync", "after-response"]

# Powertools' strtobool takes y, t, n and f too; "none" and "disabled" read as off.
_ON = frozenset({"on", "true", "1", "yes", "y", "t"})
_OFF = frozenset({"off", "false", "0", "no", "n", "f", "none", "disabled"})


def read_switch(variable: str, value: str) -> bool:
    """An on/off environment variable's value; ConfigurationError for anything else.

    One reading for every switch (TRACED_ASGI_LAMBDA_LOGS, _METRICS, Powertools' own), so
    they accept the same words and a typo is an error, not a silent default.
    """
    lowered = value.strip().lower()
    if lowered in _ON:
        return True
    if lowered in _OFF:
        return False
    from traced_asgi_lambda.exceptions import ConfigurationError

    raise ConfigurationError(
        f"Expected {variable} to be one of on, true, 1, yes, off, false, 0, no, but got "
        f"{value!r}. Fix: set it to one of those, or unset it."
    )


@dataclass(frozen=True, kw_only=True)
class TelemetryOptions:
    """How invocations are traced, logged and measured. Every field has a working default.

    ``None`` for ``logs``/``metrics`` means "on, unless the environment turns it off"
    (``TRACED_ASGI_LAMBDA_LOGS`` / ``TRACED_ASGI_LAMBDA_METRICS``); ``False`` is off.
    Tracing is on when there is a provider to trace with (see docs/telemetry.md).
    """

    service: str | None = None  # else OTEL_SERVICE_NAME, POWERTOOLS_SERVICE_NAME, the function
    # Logs (structlog): JSON lines in Lambda, a console renderer elsewhere.
    logs: bool | None = None
    # AWS_LAMBDA_LOG_LEVEL wins over it; unset, POWERTOOLS_LOG_LEVEL, then LOG_LEVEL, INFO.
    log_level: str | int | None = None
    log_json: bool | None = None  # None: JSON exactly when running in Lambda
    log_sample_rate: float = 0.0  # share of invocations raised to DEBUG
    log_buffer_debug: bool = False  # keep DEBUG lines; write them only when the call fails
    configure_logging_globally: bool = False
    redaction: bool = True
    redact_headers: Iterable[str] = DEFAULT_REDACTED_HEADERS
    redact_query: Iterable[str] = DEFAULT_REDACTED_QUERY
    # Metrics: CloudWatch EMF lines, and OpenTelemetry instruments when a provider exists.
    metrics: bool | None = None
    namespace: str | None = None  # else POWERTOOLS_METRICS_NAMESPACE, else the default
    route_dimensions: bool = False
    max_routes: int = 50
    meter_provider: MeterProvider | None = None
    # Export of spans and OpenTelemetry metrics at the end of each invocation.
    flush_timeout: float = 2.0
    flush_margin: float = 0.2
    export: ExportMode = "sync"
    # The deadline watchdog: report an invocation this long before Lambda would time it
    # out (at most half the time it had left); None turns the watchdog off.
    timeout_margin: float | None = 0.5
    # Where log lines and EMF go; None is sys.stdout at the time of writing.
    stream: TextIO | None = None

    def replace(self, **changes: Any) -> TelemetryOptions:
        from dataclasses import replace

        return replace(self, **changes)
