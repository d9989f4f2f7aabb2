"""Keeping secrets out of telemetry: query parameters and headers that carry credentials."""

from __future__ import annotations

__all__ = ["DEFAULT_REDACTED_HEADERS", "DEFAULT_REDACTED_QUERY", "REDACTED", "redact_query"]

REDACTED = "REDACTED"

# Names compared lower-case. OWASP's logging cheat sheet lists session ids, access tokens
# and passwords among data never to log; these are the places HTTP carries them.
DEFAULT_REDACTED_QUERY = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "auth",
        "code",
        "id_token",
        "key",
        "password",
        "refresh_token",
        "secret",
        "sig",
        "signature",
        "token",
        "x-amz-credential",
        "x-amz-security-token",
        "x-amz-signature",
    }
)
DEFAULT_REDACTED_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "x-api-key", "proxy-authorization"}
)


def redact_query(query: str, names: frozenset[str]) -> str:
    """The query string with the values of sensitive parameters replaced.

    Works on the raw string so the rest stays exactly as sent; a name is compared
    after percent-decoding so ``%74oken`` is caught as ``token``.
    """
    if not names or not query:
        return query
    parts = query.split("&")
    changed = False
    for index, part in enumerate(parts):
        name, sep, _ = part.partition("=")
        if sep and _normalise(name) in names:
            parts[index] = f"{name}={REDACTED}"
            changed = True
    return "&".join(parts) if changed else query


def _normalise(name: str) -> str:
    if "%" in name or "+" in name:
        from urllib.parse import unquote_plus

        return unquote_plus(name).lower()
    return name.lower()
