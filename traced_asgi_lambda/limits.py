"""Lambda's payload limits, enforced before Lambda enforces them less helpfully.

A synchronous invocation may return at most 6 MB ("Lambda quotas", invocation payload);
a larger response makes the caller see an opaque 502 from API Gateway or the ALB and
leaves no trace of why. CloudFront allows less for a response a Lambda@Edge function
generates: 40 KB in a viewer-request trigger and 1 MB in an origin-request trigger
("Quotas on Lambda@Edge"). An oversized response is replaced by a 500 that says why.

A source's own lower limit is its translator's business: a translator may offer
``response_limit(event, configured)`` (Lambda@Edge does); without one, the configured
limit applies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from traced_asgi_lambda.events._encode import body_is_base64
from traced_asgi_lambda.exceptions import ResponseTooLargeError
from traced_asgi_lambda.http import plain_500
from traced_asgi_lambda.types import LambdaEvent, LambdaResponse, Response

if TYPE_CHECKING:
    from traced_asgi_lambda.events.base import EventTranslator, TranslatorConfig

__all__ = [
    "SourceLimit",
    "enforce_limit",
    "oversized",
    "response_limit",
    "source_limits",
    "too_large_response",
]

# A translator's optional ``response_limit(event, configured)``.
SourceLimit = Callable[[LambdaEvent, int], int]

# Below this share of the limit the body alone decides; above it the whole payload is
# serialised and measured, which is exact but costs a full JSON encoding.
_EXACT_FROM = 0.9
# Generous allowances for what a source adds around the body and each header (keys,
# quotes, CloudFront's {"key": ..., "value": ...} objects, status fields).
_HEADER_OVERHEAD = 40
_ENVELOPE = 512


def source_limits(translators: Iterable[EventTranslator]) -> dict[int, SourceLimit]:
    """Each translator's own ``response_limit``, keyed by ``id``, for those that have one.

    Only the translator that read an event knows its source's limits. Looked up once per
    adapter rather than per invocation: on a module without the attribute, getattr costs
    about 350 ns (it raises and catches AttributeError). The caller keeps ``translators``
    alive, so the ids stay unique.
    """
    found = ((id(t), getattr(t, "response_limit", None)) for t in translators)
    return {key: limit for key, limit in found if limit is not None}


def response_limit(source_limit: SourceLimit | None, event: LambdaEvent, configured: int) -> int:
    """The limit for this event's response: the configured one, or the source's if lower.

    A custom translator without ``response_limit`` keeps the configured limit.
    """
    return configured if source_limit is None else source_limit(event, configured)


def oversized(out: LambdaResponse, response: Response, limit: int) -> int | None:
    """The payload's size in bytes (UTF-8, as the runtime sends it) when over ``limit``.

    A cheap upper bound decides first, from the app's own response rather than each
    source's shape: a base64 body is never escaped, any other character takes at most 6
    bytes once JSON-escaped, and each header at most 6 bytes a byte plus its structure.
    Only a payload that could be near the limit is serialised and measured exactly.
    """
    body = out.get("body")
    text = len(body) if isinstance(body, str) else 0
    base64 = body_is_base64(out)
    headers = sum(len(name) + len(value) + _HEADER_OVERHEAD for name, value in response.headers)
    bound = (text if base64 else text * 6) + headers * 6 + _ENVELOPE
    if bound < limit * _EXACT_FROM:
        return None
    size = len(json.dumps(out, separators=(",", ":"), ensure_ascii=False).encode())
    return size if size > limit else None


def too_large_response(size: int, limit: int) -> Response:
    """The 500 sent instead: the client learns what happened, and the fix is in the log."""
    message = (
        f"Response Too Large: {size} bytes exceeds the {limit}-byte limit of this "
        "Lambda event source"
    )
    return plain_500(message.encode())


def enforce_limit(
    out: LambdaResponse,
    response: Response,
    translator: EventTranslator,
    event: LambdaEvent,
    config: TranslatorConfig,
    source_limit: SourceLimit | None,
) -> tuple[LambdaResponse, ResponseTooLargeError | None]:
    """``out`` if it fits, else the 500 that replaces it (encoded the same way) and why."""
    limit = response_limit(source_limit, event, config.max_response_bytes)
    size = oversized(out, response, limit)
    if size is None:
        return out, None
    replacement = translator.to_response(too_large_response(size, limit), event, config)
    return replacement, ResponseTooLargeError(size, limit)
