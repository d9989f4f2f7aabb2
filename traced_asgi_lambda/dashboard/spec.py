"""What a dashboard is rendered for: the function, its front door, and the alarm settings.

:class:`DashboardSpec` is plain, frozen data, checked once by :meth:`DashboardSpec.check`.
Every value that ends up inside a CloudWatch expression, a Logs Insights query or an
ARN is checked against the character set AWS allows for it, so a rendered artefact can
never carry a stray quote into a ``SEARCH`` string or a query:

- function names: ``[a-zA-Z0-9-_]``, at most 64 ("CreateFunction", FunctionName, in the
  Lambda API reference: the name form, without an ARN);
- dimension values (service, API id or name, stage, ARN suffixes): 1 to 1024 printable
  ASCII characters ("Dimension", CloudWatch API reference), here without quotes and
  backslashes, which would end the strings they are written into;
- dashboard names: ``[A-Za-z0-9-_]``, at most 255 ("PutDashboard", DashboardName).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, get_args

from traced_asgi_lambda.exceptions import ConfigurationError
from traced_asgi_lambda.telemetry.metric_names import DEFAULT_NAMESPACE

__all__ = [
    "FORMATS",
    "FRONT_DOOR_KINDS",
    "LOG_FORMATS",
    "SETTING_KINDS",
    "DashboardSpec",
    "Format",
    "FrontDoor",
    "FrontDoorKind",
    "LogFormat",
]

FrontDoorKind = Literal["http-api", "rest", "alb", "url"]
FRONT_DOOR_KINDS: tuple[FrontDoorKind, ...] = get_args(FrontDoorKind)
# The function's log format ("Configuring JSON and plain text log formats", Lambda
# Developer Guide): it decides how REPORT lines look, so which cold-start query works.
LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = get_args(LogFormat)
# What ``render`` writes (see render.py); here so the command line can offer the choices
# without importing the renderers.
Format = Literal["json", "cfn", "terraform"]
FORMATS: tuple[Format, ...] = get_args(Format)

_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DASHBOARD_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_ACCOUNT = re.compile(r"\d{12}")
_LOG_GROUP = re.compile(r"[A-Za-z0-9_\-/.#]{1,512}")
_SNS_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}")
# Printable ASCII without the quote and backslash characters of the strings these go in.
_SAFE_VALUE = re.compile(r"[\x20-\x7e]{1,1024}")
_UNSAFE = frozenset("\"'\\`{}")

# What each front door needs, by setting name: (required settings, optional ones).
_SETTINGS: Mapping[FrontDoorKind, tuple[tuple[str, ...], tuple[str, ...]]] = MappingProxyType(
    {
        "http-api": (("api_id",), ("stage",)),
        "rest": (("api_name",), ("stage",)),
        "alb": (("load_balancer", "target_group"), ()),
        "url": ((), ()),
    }
)
# The setting as the command line names it, and what it is, for error messages.
SETTING_HELP: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "api_id": ("--api-id", "the HTTP API's id, as in https://<api-id>.execute-api..."),
        "api_name": ("--api-name", "the REST API's name"),
        "stage": ("--stage", "the API stage"),
        "load_balancer": ("--load-balancer", "the ALB's ARN suffix, app/<name>/<id>"),
        "target_group": (
            "--target-group",
            "the target group's ARN suffix, targetgroup/<name>/<id>",
        ),
    }
)
# Each setting, with the front doors that use it (in SETTING_HELP's order).
SETTING_KINDS: Mapping[str, tuple[FrontDoorKind, ...]] = MappingProxyType(
    {
        name: tuple(
            kind for kind in FRONT_DOOR_KINDS if name in (*_SETTINGS[kind][0], *_SETTINGS[kind][1])
        )
        for name in SETTING_HELP
    }
)


@dataclass(frozen=True, slots=True)
class FrontDoor:
    """The service in front of the function, and the ids its CloudWatch metrics carry."""

    kind: FrontDoorKind
    api_id: str | None = None
    api_name: str | None = None
    stage: str | None = None
    load_balancer: str | None = None
    target_group: str | None = None

    def settings(self) -> dict[str, str]:
        """The settings this kind uses that have a value, by name."""
        required, optional = _SETTINGS[self.kind]
        values = {name: getattr(self, name) for name in (*required, *optional)}
        return {name: value for name, value in values.items() if value}

    def missing(self) -> list[str]:
        """The required settings that have no value, by name."""
        required, _ = _SETTINGS[self.kind]
        return [name for name in required if not getattr(self, name)]


@dataclass(frozen=True, slots=True)
class DashboardSpec:
    """Everything a dashboard and its alarms are rendered from.

    ``thresholds`` overrides alarm thresholds by alarm key (see ``dashboards/alarms.json``);
    ``timeout_seconds`` is the function's timeout, which the duration alarm compares
    against. ``account_id`` is needed only to write alarm ARNs into the plain-JSON body;
    the other formats and ``deploy`` get them from AWS.
    """

    function_name: str
    region: str
    front_door: FrontDoor
    service: str | None = None  # the adapter's default: the function name
    namespace: str = DEFAULT_NAMESPACE
    route_dimensions: bool = False
    timeout_seconds: float = 3.0  # Lambda's default timeout
    log_group: str | None = None  # default /aws/lambda/<function>
    log_format: LogFormat = "text"
    dashboard_name: str | None = None  # default: the function name
    account_id: str | None = None
    alarm_actions: tuple[str, ...] = ()
    thresholds: Mapping[str, float] = field(default_factory=dict)

    @property
    def service_name(self) -> str:
        return self.service or self.function_name

    @property
    def log_group_name(self) -> str:
        return self.log_group or f"/aws/lambda/{self.function_name}"

    @property
    def name(self) -> str:
        """The dashboard's name."""
        return self.dashboard_name or self.function_name

    @property
    def partition(self) -> str:
        """The ARN partition of the region ("Amazon Resource Names", AWS General Reference)."""
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    def check(self, known_alarms: tuple[str, ...] = ()) -> DashboardSpec:
        """Return self, or raise ConfigurationError naming the first bad value."""
        _match("function_name", self.function_name, _FUNCTION_NAME, "1 to 64 of A-Z a-z 0-9 - _")
        _match("region", self.region, _REGION, "a Region code such as eu-west-1")
        ConfigurationError.check_choice("front door", self.front_door.kind, FRONT_DOOR_KINDS)
        ConfigurationError.check_choice("log_format", self.log_format, LOG_FORMATS)
        for name in self.front_door.missing():
            flag, what = SETTING_HELP[name]
            raise ConfigurationError(
                f"Expected {name} ({flag}: {what}) for front door {self.front_door.kind!r}, "
                "but got none."
            )
        for name, value in (("service", self.service_name), *self.front_door.settings().items()):
            _dimension_value(name, value)
        if not (0 < len(self.namespace) <= 255 and self.namespace.isascii()) or (
            self.namespace.startswith(":") or _UNSAFE & set(self.namespace)
        ):
            raise ConfigurationError(
                "Expected the namespace to be 1 to 255 ASCII characters, not starting with "
                f"':' and without quotes, backslashes or braces, but got {self.namespace!r}."
            )
        _match("dashboard name", self.name, _DASHBOARD_NAME, "1 to 255 of A-Z a-z 0-9 - _")
        _match("log group", self.log_group_name, _LOG_GROUP, "a CloudWatch Logs log group name")
        if self.account_id is not None:
            _match("account id", self.account_id, _ACCOUNT, "12 digits")
        for arn in self.alarm_actions:
            _match("alarm action", arn, _SNS_ARN, "an SNS topic ARN")
        if not 1 <= self.timeout_seconds <= 900:
            raise ConfigurationError(
                "Expected timeout_seconds between 1 and 900 (Lambda's range), but got "
                f"{self.timeout_seconds!r}."
            )
        for key, threshold in self.thresholds.items():
            if known_alarms and key not in known_alarms:
                raise ConfigurationError(
                    f"Expected a threshold for one of {', '.join(known_alarms)}, but got {key!r}."
                )
            if not threshold >= 0:  # also refuses NaN
                raise ConfigurationError(
                    f"Expected the {key} threshold to be a number >= 0, but got {threshold!r}."
                )
        return self


def _match(name: str, value: str, pattern: re.Pattern[str], expected: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ConfigurationError(f"Expected {name} to be {expected}, but got {value!r}.")


def _dimension_value(name: str, value: str) -> None:
    if not _SAFE_VALUE.fullmatch(value) or value.isspace() or _UNSAFE & set(value):
        raise ConfigurationError(
            f"Expected {name} to be a CloudWatch dimension value (1 to 1024 printable ASCII "
            f"characters, without quotes, backslashes or braces), but got {value!r}."
        )
