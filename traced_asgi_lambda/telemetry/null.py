"""Stand-ins for what is off: every hook does nothing, cheaply.

``NullInvocation`` has the same methods as invocation.Invocation, so the adapter runs one
code path with telemetry on or off; ``NullLogger`` those of logs.InvocationLogger, for an
invocation traced or measured with logs off. This module imports nothing from
OpenTelemetry or structlog.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from traced_asgi_lambda.telemetry.log_context import InvocationToken
    from traced_asgi_lambda.telemetry.outcome import Outcome
    from traced_asgi_lambda.types import LambdaContext

__all__ = ["NULL_INVOCATION", "NullInvocation", "NullLogger", "NullSpan"]


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


class NullLogger:
    """Logs turned off: the same methods, doing nothing."""

    __slots__ = ()

    def debug(self, msg: str, *args: object, **kw: Any) -> None:
        return None

    info = warning = error = debug

    def exception(self, msg: str, exc: BaseException | None = None, *a: object, **k: Any) -> None:
        return None

    def access(self, outcome: Outcome) -> None:
        return None

    def enabled_for(self, level: int) -> bool:
        return False

    stages = access

    def bind_invocation(self, context: LambdaContext, **kw: Any) -> InvocationToken | None:
        return None

    def bind_trace(self, trace_id: str | None, span_id: str | None) -> None:
        return None

    def end_invocation(self, token: InvocationToken | None, *, failed: bool) -> None:
        return None

    def close(self) -> None:
        return None
