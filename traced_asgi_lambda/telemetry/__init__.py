"""OpenTelemetry tracing, logs and metrics for the adapter; imported only when telemetry is on."""
