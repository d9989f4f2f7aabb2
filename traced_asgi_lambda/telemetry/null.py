"""The invocation used when every signal is off: every hook does nothing, cheaply.

It has the same methods as invocation.Invocation, so the adapter runs one code path with
telemetry on or off, and this module imports nothing from OpenTelemetry.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

__all__ = ["NULL_INVOCATION", "NullInvocation", "NullSpan"]


class NullSpan:
    """Takes what a stage span takes, and keeps nothing."""

    __slots__ = ()

    def set_attribute(self, key: str, value: object) -> None:
        return None

    def record_exception(self, exception: BaseException) -> None:
        return None


_NULL_STAGE = nullcontext(NullSpan())


class NullInvocation:
    __slots__ = ()

    @property
    def reported(self) -> None:
        return None

    @reported.setter
    def reported(self, error: BaseException | None) -> None:
        return None

    def stage(self, stage: str) -> AbstractContextManager[NullSpan]:
        return _NULL_STAGE

    def parsed(self, span: object, source: str) -> None:
        return None

    def request(self, scope: Mapping[str, Any]) -> None:
        return None

    def response(
        self, scope: MutableMapping[str, Any], status: int, error: BaseException | None
    ) -> None:
        return None

    def response_started(self, span: object, at_ns: int | None) -> None:
        return None

    def encoded(self, span: object, body_size: int, out: Mapping[str, Any]) -> None:
        return None


NULL_INVOCATION = NullInvocation()
