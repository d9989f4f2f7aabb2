"""The CloudWatch dashboard body, as a JSON Schema plus the rules a schema cannot state.

Written from AWS's "Dashboard Body Structure and Syntax" (CloudWatch API Reference,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html),
independently of the renderer, so the renderer is checked against the reference and
not against itself. What the page says, and where this module follows it:

- The body has a required ``widgets`` array of 0 to 500 widgets, and optionally
  ``variables`` (0 to 25), ``start``, ``end`` (only with ``start``) and ``periodOverride``
  (``auto`` or ``inherit``).
- A widget has ``type`` (``metric``, ``text``, ``log``, ``alarm``, ``explorer``), ``x``
  (0 to 23, required with ``y`` and the other way round), ``y`` (0 or more), ``width``
  (1 to 24), ``height`` (1 to 1000) and the required ``properties``.
- Metric widgets: ``region`` is required, ``metrics`` (up to 500 entries) unless
  ``annotations`` holds an alarm; ``period`` is a multiple of 60; ``stat`` is
  ``SampleCount``, ``Average``, ``Sum``, ``Minimum``, ``Maximum`` or ``p??``; ``view`` one of
  six; annotations are horizontal/vertical lines or bands, or one alarm.
- A metric entry is ``[Namespace, MetricName, DimName, DimValue, ..., {rendering}]`` or
  ``[{"expression", "label", "id"}]``; ids start with a lowercase letter. The page lists
  only ``expression``, ``label`` and ``id`` for expressions, but CloudWatch's console
  writes the rendering properties (``yAxis``, ``color``, ``visible``, ``period``) on
  expressions too; the schema allows those and nothing else.
- Text widgets: ``markdown`` (required) and ``background``. Log widgets: ``region`` and
  ``query`` (required), ``title``, ``view`` (``table``, ``timeSeries``, ``bar``, ``pie``),
  ``accountId``. Alarm widgets: ``alarms`` (1 to 100 ARNs), ``sortBy``, ``states``, ``title``.
- Variables: ``type`` (``property``/``pattern``), ``inputType`` (``input``, ``select``,
  ``radio``), ``id`` (up to 32 of ``0-9A-Za-z-_``), ``label`` (up to 30), ``values`` (1 to
  500), ``search`` (up to 2048), ``populateFrom``, ``defaultValue``, ``visible``.

Objects are closed (``additionalProperties: false``) wherever the page lists every key,
so a misspelt property fails here instead of being ignored by CloudWatch.

What a schema cannot say (the grid, ids and references) is checked by the lint in
``tests/test_dashboard_lint.py``.
"""

from __future__ import annotations

from typing import Any

import jsonschema

__all__ = ["DASHBOARD_SCHEMA", "GRID", "validate_body"]

GRID = 24
_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_NUMBER = {"type": "number"}
_ID = {"type": "string", "pattern": "^[a-z][A-Za-z0-9_]*$"}
_STAT = {
    "type": "string",
    "pattern": r"^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d+)?|p100)$",
}
_PERIOD = {"type": "integer", "minimum": 60, "multipleOf": 60}
_COLOR = {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"}
_AXIS_SIDE = {"enum": ["left", "right"]}


def _closed(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


_RENDERING = {
    "accountId": _STR,
    "color": _COLOR,
    "label": _STR,
    "period": _PERIOD,
    "stat": _STAT,
    "visible": _BOOL,
    "yAxis": _AXIS_SIDE,
    "id": _ID,
    "region": _STR,
}
_EXPRESSION = _closed(
    {"expression": {"type": "string", "minLength": 1}, **_RENDERING}, ("expression",)
)
_METRIC_ENTRY = {
    "type": "array",
    "oneOf": [
        {"prefixItems": [_EXPRESSION], "items": False, "minItems": 1},
        {
            "prefixItems": [_STR, _STR],
            "items": {"anyOf": [_STR, _closed(_RENDERING)]},
            "minItems": 2,
        },
    ],
}
_LINE = {
    "value": _NUMBER,
    "label": _STR,
    "color": _COLOR,
    "fill": {"enum": ["above", "below", "none"]},
    "yAxis": _AXIS_SIDE,
    "visible": _BOOL,
}
_HORIZONTAL = {
    "anyOf": [
        _closed(_LINE, ("value",)),
        {"type": "array", "minItems": 2, "maxItems": 2, "items": _closed(_LINE, ("value",))},
    ]
}
_VERTICAL_LINE = {
    "value": _STR,
    "label": _STR,
    "color": _COLOR,
    "fill": {"enum": ["before", "after", "none"]},
    "visible": _BOOL,
}
_VERTICAL = {
    "anyOf": [
        _closed(_VERTICAL_LINE, ("value",)),
        {"type": "array", "minItems": 2, "maxItems": 2, "items": _closed(_VERTICAL_LINE)},
    ]
}
_AXIS = _closed({"label": _STR, "min": _NUMBER, "max": _NUMBER, "showUnits": _BOOL})
_METRIC = _closed(
    {
        "accountId": _STR,
        "annotations": _closed(
            {
                "alarms": {"type": "array", "maxItems": 1, "items": _STR},
                "horizontal": {"type": "array", "items": _HORIZONTAL},
                "vertical": {"type": "array", "items": _VERTICAL},
            }
        ),
        "liveData": _BOOL,
        "legend": _closed({"position": {"enum": ["right", "bottom", "hidden"]}}),
        "metrics": {"type": "array", "maxItems": 500, "items": _METRIC_ENTRY},
        "period": _PERIOD,
        "region": {"type": "string", "minLength": 1},
        "sparkline": _BOOL,
        "stacked": _BOOL,
        "stat": _STAT,
        "table": {"type": "object"},
        "timezone": {"type": "string", "pattern": r"^[+-]\d{4}$"},
        "title": _STR,
        "view": {"enum": ["timeSeries", "singleValue", "gauge", "bar", "pie", "table"]},
        "yAxis": _closed({"left": _AXIS, "right": _AXIS}),
    },
    ("region",),
)
_METRIC["anyOf"] = [{"required": ["metrics"]}, {"required": ["annotations"]}]
_TEXT = _closed(
    {
        "markdown": {"type": "string", "minLength": 1},
        "background": {"enum": ["transparent", "solid"]},
    },
    ("markdown",),
)
_LOG = _closed(
    {
        "accountId": _STR,
        "region": {"type": "string", "minLength": 1},
        "title": _STR,
        "query": {"type": "string", "pattern": "^SOURCE '"},
        "view": {"enum": ["table", "timeSeries", "bar", "pie"]},
    },
    ("region", "query"),
)
_ALARM = _closed(
    {
        "alarms": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {
                "type": "string",
                "pattern": "^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\\d{12}:alarm:.+",
            },
        },
        "sortBy": {"enum": ["default", "stateUpdatedTimestamp", "timestamp"]},
        "states": {"type": "array", "items": {"enum": ["ALARM", "INSUFFICIENT_DATA", "OK"]}},
        "title": _STR,
    },
    ("alarms",),
)
_WIDGET = {
    **_closed(
        {
            "type": {"enum": ["metric", "text", "log", "alarm", "explorer"]},
            "x": {"type": "integer", "minimum": 0, "maximum": GRID - 1},
            "y": {"type": "integer", "minimum": 0},
            "width": {"type": "integer", "minimum": 1, "maximum": GRID},
            "height": {"type": "integer", "minimum": 1, "maximum": 1000},
            "properties": {"type": "object"},
        },
        ("type", "properties"),
    ),
    "dependentRequired": {"x": ["y"], "y": ["x"]},
    "allOf": [
        {
            "if": {"properties": {"type": {"const": kind}}},
            "then": {"properties": {"properties": schema}},
        }
        for kind, schema in (("metric", _METRIC), ("text", _TEXT), ("log", _LOG), ("alarm", _ALARM))
    ],
}
_VALUE = {"type": ["string", "number", "boolean"]}
_VARIABLE = {
    **_closed(
        {
            "type": {"enum": ["property", "pattern"]},
            "property": {"type": "string", "minLength": 1},
            "pattern": {"type": "string", "minLength": 1},
            "inputType": {"enum": ["input", "select", "radio"]},
            "values": {
                "type": "array",
                "minItems": 1,
                "maxItems": 500,
                "items": _closed(
                    {"value": _VALUE, "label": {"type": "string", "maxLength": 255}}, ("value",)
                ),
            },
            "id": {"type": "string", "pattern": "^[0-9A-Za-z_-]{1,32}$"},
            "label": {"type": "string", "maxLength": 30},
            "defaultValue": _VALUE,
            "search": {"type": "string", "maxLength": 2048},
            "populateFrom": _STR,
            "visible": _BOOL,
        },
        ("type", "inputType", "id"),
    ),
    "allOf": [
        {"if": {"properties": {"type": {"const": "property"}}}, "then": {"required": ["property"]}},
        {"if": {"properties": {"type": {"const": "pattern"}}}, "then": {"required": ["pattern"]}},
        {
            "if": {"properties": {"inputType": {"enum": ["select", "radio"]}}},
            "then": {"anyOf": [{"required": ["values"]}, {"required": ["search", "populateFrom"]}]},
        },
    ],
}
DASHBOARD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_closed(
        {
            "widgets": {"type": "array", "maxItems": 500, "items": _WIDGET},
            "variables": {"type": "array", "maxItems": 25, "items": _VARIABLE},
            "start": {
                "type": "string",
                "pattern": r"^(-P(T\d+[MH]|\d+[DWM])|\d{4}-\d{2}-\d{2}T.+)$",
            },
            "end": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T.+$"},
            "periodOverride": {"enum": ["auto", "inherit"]},
        },
        ("widgets",),
    ),
    "dependentRequired": {"end": ["start"]},
}


def validate_body(body: Any) -> None:
    """Raise jsonschema.ValidationError if ``body`` breaks the reference's structure."""
    jsonschema.Draft202012Validator.check_schema(DASHBOARD_SCHEMA)
    jsonschema.Draft202012Validator(DASHBOARD_SCHEMA).validate(body)
