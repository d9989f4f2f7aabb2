"""The CloudWatch Embedded Metric Format, as a JSON Schema plus the rules a schema cannot state.

Written from AWS's "Specification: Embedded metric format",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
independently of the emitter, so the emitter's tests check it against the spec, not
against itself. What the spec says, and where this module follows it:

- The root node is a JSON object with an ``_aws`` metadata object holding ``Timestamp``
  (milliseconds since the epoch) and ``CloudWatchMetrics``, an array of MetricDirectives.
  Objects the spec defines "MUST NOT contain any additional members".
- A MetricDirective has ``Namespace``, ``Dimensions`` (an array of DimensionSets) and
  ``Metrics``, which "MUST NOT contain more than 100 MetricDefinition objects".
- A DimensionSet is an array of dimension keys that "MUST NOT contain more than 30"; each
  key MUST be a member of the root node with a string value (the "target member").
- A MetricDefinition has a ``Name`` and MAY have ``Unit`` (a CloudWatch unit, "None" when
  absent) and ``StorageResolution`` (1 for high resolution, 60 standard, the default).
- A metric target MUST be a number or an array of numbers, the array with at most 100
  members; targets are root members, never nested.
- A document is "limited to a maximum size of 256 KB" (the CloudWatch Logs event limit).
  (Newer versions of the page give 1 MB; 256 KB is valid under both.)

The schema is checked by ``jsonschema``; :func:`validate_emf_line` adds the cross-field
rules (every reference resolves to a root member of the right type) and raises
AssertionError naming the first problem. A few rules are stricter than the spec and say
so: a directive publishes at least one metric, arrays of values are not empty, values
are in the range CloudWatch accepts (API reference, "MetricDatum"), dimension values are
valid CloudWatch dimension values (API reference, "Dimension"), and the timestamp is
within the window CloudWatch accepts (14 days back, 2 hours ahead).
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import jsonschema

__all__ = ["EMF_SCHEMA", "MAX_LINE_BYTES", "UNITS", "validate_emf_line"]

MAX_LINE_BYTES = 256 * 1024
MAX_METRICS = 100
MAX_VALUES = 100
MAX_DIMENSIONS = 30

# CloudWatch's units (API reference, "MetricDatum"), as the spec's own schema lists them.
UNITS = (
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
)

_NAME = {"type": "string", "minLength": 1, "maxLength": 255}

EMF_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "CloudWatch embedded metric format document (root node)",
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "title": "Metadata object",
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "additionalProperties": False,
            "properties": {
                "Timestamp": {"type": "integer", "minimum": 0},
                "CloudWatchMetrics": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"$ref": "#/$defs/MetricDirective"},
                },
            },
        },
    },
    "$defs": {
        "MetricDirective": {
            "type": "object",
            "required": ["Namespace", "Dimensions", "Metrics"],
            "additionalProperties": False,
            "properties": {
                "Namespace": {**_NAME, "pattern": "^[^:]"},
                "Dimensions": {
                    "type": "array",
                    "minItems": 1,  # as in the spec's own published schema
                    "items": {"$ref": "#/$defs/DimensionSet"},
                },
                "Metrics": {
                    "type": "array",
                    "minItems": 1,  # stricter: a directive with no metric publishes nothing
                    "maxItems": MAX_METRICS,
                    "items": {"$ref": "#/$defs/MetricDefinition"},
                },
            },
        },
        "DimensionSet": {
            "type": "array",
            "maxItems": MAX_DIMENSIONS,
            "uniqueItems": True,
            "items": _NAME,
        },
        "MetricDefinition": {
            "type": "object",
            "required": ["Name"],
            "additionalProperties": False,
            "properties": {
                "Name": _NAME,
                "Unit": {"enum": list(UNITS)},
                "StorageResolution": {"enum": [1, 60]},
            },
        },
    },
}

# CloudWatch skips metrics more than 14 days old or 2 hours ahead ("Timestamps" in the
# CloudWatch concepts); a timestamp outside that window usually means seconds, not ms.
_PAST_MS = 14 * 24 * 3600 * 1000
_FUTURE_MS = 2 * 3600 * 1000


def validate_emf_line(line: str) -> dict[str, Any]:
    """Parse one EMF log line and check it against the spec; raise AssertionError if invalid."""
    assert "\n" not in line, f"Expected one EMF document per line, but got a line break in {line!r}"
    size = len(line.encode())
    assert size <= MAX_LINE_BYTES, (
        f"Expected an EMF line of at most {MAX_LINE_BYTES} bytes, but got {size}"
    )
    try:
        document = json.loads(line, parse_constant=_reject_constant)
    except ValueError as exc:
        raise AssertionError(
            f"Expected an EMF line to be JSON, but got {exc}: {line[:200]!r}"
        ) from None
    _check_schema(document)
    assert isinstance(document, dict)
    _check_timestamp(document["_aws"]["Timestamp"])
    for index, directive in enumerate(document["_aws"]["CloudWatchMetrics"]):
        where = f"CloudWatchMetrics[{index}]"
        _check_dimensions(document, directive["Dimensions"], where)
        _check_metrics(document, directive["Metrics"], where)
    return document


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON (RFC 8259 has no NaN or Infinity)")


def _check_schema(document: object) -> None:
    validator = jsonschema.Draft202012Validator(EMF_SCHEMA)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        problems = "; ".join(
            f"at /{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors
        )
        raise AssertionError(f"Expected a valid EMF document, but the schema finds: {problems}")


def _check_timestamp(timestamp: int) -> None:
    now = int(time.time() * 1000)
    assert now - _PAST_MS <= timestamp <= now + _FUTURE_MS, (
        f"Expected _aws.Timestamp in milliseconds within 14 days before and 2 hours after "
        f"now ({now}), but got {timestamp}"
    )


def _check_dimensions(document: dict[str, Any], sets: list[list[str]], where: str) -> None:
    for keys in sets:
        for key in keys:
            assert key in document, (
                f"Expected dimension {key!r} of {where} to be a member of the root node, "
                f"but the root has only {sorted(document)}"
            )
            value = document[key]
            assert isinstance(value, str), (
                f"Expected dimension {key!r} of {where} to have a string value, but got {value!r}"
            )
            assert _dimension_value_ok(value), (
                f"Expected dimension {key!r} to be 1 to 1024 printable ASCII characters, not "
                f"all whitespace (CloudWatch 'Dimension'), but got {value!r}"
            )


def _dimension_value_ok(value: str) -> bool:
    return (
        0 < len(value) <= 1024 and value.isascii() and value.isprintable() and not value.isspace()
    )


def _check_metrics(document: dict[str, Any], metrics: list[dict[str, Any]], where: str) -> None:
    names = [metric["Name"] for metric in metrics]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"Expected each metric once in {where}, but got {duplicates} twice"
    for name in names:
        assert name in document, (
            f"Expected metric {name!r} of {where} to be a member of the root node, but the "
            f"root has only {sorted(document)}"
        )
        value = document[name]
        values = value if isinstance(value, list) else [value]
        assert 0 < len(values) <= MAX_VALUES, (
            f"Expected metric {name!r} to have 1 to {MAX_VALUES} values, but got {len(values)}"
        )
        for item in values:
            assert _is_number(item), (
                f"Expected metric {name!r} to be a number or an array of numbers, each 0 or "
                f"of magnitude 2^-360 to 2^360, but got {value!r}"
            )


def _is_number(value: object) -> bool:
    # bool is an int in Python, but true/false are not JSON numbers.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    # CloudWatch rejects values outside -2^360..2^360 and nonzero ones nearer zero than
    # 2^-360 (API reference, "MetricDatum", Value).
    return math.isfinite(value) and (value == 0 or 2.0**-360 <= abs(value) <= 2.0**360)
