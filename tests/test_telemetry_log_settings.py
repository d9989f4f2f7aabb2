"""log_settings: whether logs are on, and at what level, from options and the environment."""

from __future__ import annotations

import logging

import pytest

from traced_asgi_lambda import ConfigurationError
from traced_asgi_lambda.telemetry.emf import metrics_enabled
from traced_asgi_lambda.telemetry.log_settings import logs_enabled, resolve_level


@pytest.mark.parametrize(
    ("environ", "level", "expected"),
    [
        pytest.param({}, None, logging.INFO, id="default-info"),
        pytest.param({"LOG_LEVEL": "debug"}, None, logging.DEBUG, id="log-level"),
        pytest.param(
            {"POWERTOOLS_LOG_LEVEL": "ERROR", "LOG_LEVEL": "DEBUG"},
            None,
            logging.ERROR,
            id="powertools-over-log-level",
        ),
        pytest.param(
            {"AWS_LAMBDA_LOG_LEVEL": "WARN", "POWERTOOLS_LOG_LEVEL": "DEBUG"},
            None,
            logging.WARNING,
            id="alc-over-powertools",
        ),
        pytest.param({"AWS_LAMBDA_LOG_LEVEL": "FATAL"}, None, logging.CRITICAL, id="alc-fatal"),
        pytest.param({"AWS_LAMBDA_LOG_LEVEL": "TRACE"}, None, logging.DEBUG, id="alc-trace"),
        pytest.param(
            {"POWERTOOLS_LOG_LEVEL": "DEBUG"}, "ERROR", logging.ERROR, id="argument-over-env"
        ),
        pytest.param(
            {"AWS_LAMBDA_LOG_LEVEL": "WARN"}, "DEBUG", logging.WARNING, id="alc-over-argument"
        ),
        pytest.param({}, logging.DEBUG, logging.DEBUG, id="argument-number"),
        pytest.param({"LOG_LEVEL": "10"}, None, logging.DEBUG, id="env-number"),
        pytest.param(
            {"LOG_LEVEL": "verbose", "POWERTOOLS_LOG_LEVEL": ""},
            None,
            logging.INFO,
            id="unreadable-env-skipped",
        ),
    ],
)
def test_level_comes_from_alc_then_argument_then_powertools_then_log_level(
    environ: dict[str, str], level: str | int | None, expected: int
) -> None:
    """The level follows Powertools' precedence, reading both Lambda's and Python's names."""
    assert resolve_level(level, environ) == expected


@pytest.mark.parametrize(
    ("environ", "setting", "enabled"),
    [
        pytest.param({}, None, True, id="default-on"),
        pytest.param({"TRACED_ASGI_LAMBDA_LOGS": "off"}, None, False, id="env-off"),
        pytest.param({"TRACED_ASGI_LAMBDA_LOGS": "FALSE"}, None, False, id="env-false"),
        pytest.param({"TRACED_ASGI_LAMBDA_LOGS": "on"}, None, True, id="env-on"),
        pytest.param({"TRACED_ASGI_LAMBDA_LOGS": "on"}, False, False, id="argument-wins"),
    ],
)
def test_logs_can_be_turned_off(
    environ: dict[str, str], setting: bool | None, enabled: bool
) -> None:
    """TRACED_ASGI_LAMBDA_LOGS=off (or the argument) turns logs off."""
    assert logs_enabled(environ, setting) is enabled


@pytest.mark.parametrize(
    "value", [pytest.param("n", id="powertools-n"), pytest.param("disabled", id="disabled")]
)
def test_logs_and_metrics_switches_read_the_same_words(value: str) -> None:
    """TRACED_ASGI_LAMBDA_LOGS and _METRICS accept the same off words."""
    assert logs_enabled({"TRACED_ASGI_LAMBDA_LOGS": value}) is False
    assert metrics_enabled({"TRACED_ASGI_LAMBDA_METRICS": value}) is False


def test_a_mistyped_logs_switch_is_refused() -> None:
    """A typo is an error naming the variable, as for the metrics switch, not logs left on."""
    with pytest.raises(ConfigurationError, match="TRACED_ASGI_LAMBDA_LOGS"):
        logs_enabled({"TRACED_ASGI_LAMBDA_LOGS": "of"})
