"""Naming the exact field that makes an event malformed.

Translators read events with plain indexing, which is the fastest way and keeps them
readable. When that indexing fails, :func:`translating` catches the low-level error
(a ``KeyError`` or ``TypeError`` that would say nothing useful) and walks the source's
declared fields to find the first one that is missing or has the wrong type, so the
caller sees ``requestContext.http.method`` rather than ``KeyError: 'method'``.
The walk runs only on failure, so valid events pay nothing for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from traced_asgi_lambda.exceptions import MalformedEventError

if TYPE_CHECKING:
    from traced_asgi_lambda.events.base import Request, TranslatorConfig
    from traced_asgi_lambda.types import LambdaContext, LambdaEvent

    ToRequest = Callable[[LambdaEvent, LambdaContext, TranslatorConfig], Request]

__all__ = ["Field", "FieldProblem", "describe", "translating"]

_TYPE_NAMES = {
    str: "a string",
    dict: "an object",
    list: "a list",
    bool: "a boolean",
    int: "a number",
}


class FieldProblem(ValueError):
    """Raised by shared helpers that know what is wrong but not which source they serve."""

    def __init__(self, path: str, expected: str, got: str) -> None:
        super().__init__(f"{path}: expected {expected}, got {got}")
        self.path = path
        self.expected = expected
        self.got = got


class Field(NamedTuple):
    """One field a source reads: where it is, what it holds, and whether it may be absent.

    ``items`` constrains the values of an object or list field (for example the strings
    of a header map), so nested type errors are named too.
    """

    path: tuple[str | int, ...]
    kind: type
    required: bool = True
    items: type | None = None


def describe(value: object) -> str:
    """Say what a value is in an error message, never what it holds.

    Error messages reach logs and traces; a field of the wrong shape may well be a header
    or a token, so a string is described by its length, not echoed.
    """
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    if isinstance(value, Mapping):
        return "an object"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _lookup(event: object, path: tuple[str | int, ...]) -> tuple[bool, object]:
    node = event
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or len(node) <= part:
                return False, None
            node = node[part]
        else:
            if not isinstance(node, Mapping) or part not in node:
                return False, None
            node = node[part]
    return True, node


def _expected(field: Field) -> str:
    what = _TYPE_NAMES.get(field.kind, field.kind.__name__)
    if field.items is not None:
        what += f" of {_TYPE_NAMES.get(field.items, field.items.__name__).split(' ', 1)[1]}s"
    return what


def find_problem(source: str, event: object, fields: tuple[Field, ...]) -> MalformedEventError:
    """Return the error for the first declared field that is missing or mistyped."""
    for field in fields:
        found, value = _lookup(event, field.path)
        if not found or value is None:
            if field.required:
                got = "nothing" if not found else "null"
                return MalformedEventError(source, _dotted(field.path), _expected(field), got)
            continue
        if not isinstance(value, field.kind) or isinstance(value, bool) is not (field.kind is bool):
            return MalformedEventError(
                source, _dotted(field.path), _expected(field), describe(value)
            )
        if field.items is not None:
            members: Iterable[tuple[str | int, object]] = (
                value.items() if isinstance(value, Mapping) else enumerate(value)  # type: ignore[arg-type]
            )
            for key, member in members:
                if not isinstance(member, field.items):
                    return MalformedEventError(
                        source,
                        _dotted((*field.path, key)),
                        _TYPE_NAMES.get(field.items, field.items.__name__),
                        describe(member),
                    )
    return MalformedEventError(
        source, "the event", "a payload of the documented shape", "a field it could not read"
    )


def translating(source: str, fields: tuple[Field, ...]) -> Callable[[ToRequest], ToRequest]:
    """Turn any low-level failure inside a ``to_request`` into a MalformedEventError."""

    def decorate(to_request: ToRequest) -> ToRequest:
        # The EventTranslator signature itself, not (*args, **kwargs): this runs on every
        # invocation, and packing and unpacking the arguments cost more than the call.
        @functools.wraps(to_request)
        def wrapper(
            event: LambdaEvent, context: LambdaContext, config: TranslatorConfig
        ) -> Request:
            try:
                return to_request(event, context, config)
            except MalformedEventError:
                raise
            except FieldProblem as problem:
                raise MalformedEventError(
                    source, problem.path, problem.expected, problem.got
                ) from None
            except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
                raise find_problem(source, event, fields) from exc

        return wrapper

    return decorate
