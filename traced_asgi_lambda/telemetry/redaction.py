"""Keeping secrets out of telemetry: query parameters and headers that carry credentials."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, Literal

__all__ = [
    "redaction_set",
    "DEFAULT_REDACTED_HEADERS",
    "DEFAULT_REDACTED_QUERY",
    "REDACTED",
    "Redactor",
    "redact_query",
    "redact_url",
]

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


def redaction_set(names: Iterable[str]) -> frozenset[str]:
    """Names as the redaction functions compare them: lower-case."""
    return frozenset(name.lower() for name in names)


def redact_url(url: str, names: frozenset[str]) -> str:
    """A path or URL with the sensitive query values replaced; the fragment is kept."""
    path, sep, rest = url.partition("?")
    if not sep:
        return url
    query, hash_sep, fragment = rest.partition("#")
    return f"{path}?{redact_query(query, names)}{hash_sep}{fragment}"


class Redactor:
    """Replaces secrets in a flat or nested mapping: log event dicts and span attributes.

    Recognised by key, case-insensitively, with ``_`` and ``-`` ignored so that Lambda's,
    ASGI's and OpenTelemetry's spellings all match:

    - a key naming a sensitive header (``authorization``, ``http.request.header.cookie``),
      or ``cookies`` (the list API Gateway HTTP API and function URLs send): the whole value;
    - a key ending in ``headers`` (a mapping, Lambda@Edge's lists, or ASGI's pairs): the
      values of the sensitive headers;
    - ``query``, ``url.query``, ``query_string``, ``rawQueryString``, ``querystring``:
      the values of sensitive parameters;
    - a key ending in ``queryStringParameters`` (either spelling, multi-value too), or
      ``query_params``: the values of sensitive parameters;
    - ``path``, ``url``, ``url.full``, ``raw_path``, ``target``, ``uri`` with a ``?``: the
      query part, as above.

    Other containers are searched to a small depth, so a logged Lambda event is covered.
    Containers that hold a secret are copied, never changed in place.
    """

    __slots__ = ("_rules", "headers", "query")

    _MAX_DEPTH = 8  # deep enough for Lambda@Edge: Records[0].cf.request.headers
    _MAX_CACHED_KEYS = 1024

    def __init__(self, headers: frozenset[str], query: frozenset[str]) -> None:
        self.headers = redaction_set(headers)
        self.query = redaction_set(query)
        # key -> rule; keys repeat on every line, so each is classified once.
        self._rules: dict[str, int] = {}

    def redact_fields(self, fields: MutableMapping[str, Any]) -> None:
        """Redact ``fields`` in place (its nested containers are copied when changed)."""
        rules = self._rules
        for key, value in fields.items():
            rule = rules.get(key)
            if rule is None:
                rule = self._rule(key)
            if value is None:
                continue
            if rule == _NONE:
                if isinstance(value, _SCALARS):
                    continue  # the common case, kept to one lookup and one isinstance
                new = self._nested(value, 1)
            else:
                new = self._apply(rule, value)
            if new is not value:
                fields[key] = new

    def rewrites(self, key: str) -> Literal["never", "query", "always"]:
        """What this redactor may do to a scalar under ``key``.

        ``never``; ``query``: only a query in it (a string without ``?`` or ``=`` stays as
        it is); ``always``: any value may be hidden.
        """
        rule = self._rule(key)
        if rule == _NONE:
            return "never"
        return "query" if rule in (_QUERY, _URL) else "always"

    def is_secret_parameter(self, name: str) -> bool:
        """Whether a query parameter's (possibly percent-encoded) name is a sensitive one."""
        return _normalise(name) in self.query

    def _rule(self, key: str) -> int:
        rule = self._rules.get(key)
        if rule is None:
            rule = _classify(key, self.headers)
            if len(self._rules) < self._MAX_CACHED_KEYS:
                self._rules[key] = rule
        return rule

    def _apply(self, rule: int, value: Any) -> Any:
        if rule == _SECRET:
            return REDACTED
        if rule == _HEADERS:
            return self._headers(value)
        if isinstance(value, bytes | bytearray):  # ASGI's query_string and raw_path
            value = bytes(value).decode("latin-1")
        if rule == _QUERY and isinstance(value, str):
            return redact_query(value, self.query)
        if rule == _URL and isinstance(value, str):
            return redact_url(value, self.query)
        if rule == _QUERY_PARAMS and isinstance(value, Mapping):
            return _replace_keys(value, self.query)
        return value

    def _nested(self, value: Any, depth: int) -> Any:
        if depth > self._MAX_DEPTH:
            return value
        if isinstance(value, Mapping):
            changed: dict[str, Any] | None = None
            for key, item in value.items():
                if not isinstance(key, str) or item is None or isinstance(item, _NUMBERS):
                    continue
                rule = self._rule(key)
                new = self._nested(item, depth + 1) if rule == _NONE else self._apply(rule, item)
                if new is not item:
                    changed = changed if changed is not None else dict(value)
                    changed[key] = new
            return value if changed is None else changed
        if isinstance(value, list | tuple):
            items = [self._nested(item, depth + 1) for item in value]
            if any(new is not old for new, old in zip(items, value, strict=True)):
                return items
        return value

    def _headers(self, headers: Any) -> Any:
        if isinstance(headers, Mapping):
            return _replace_keys(headers, self.headers)
        if isinstance(headers, list | tuple):  # ASGI: [(b"name", b"value"), ...]
            out = [
                (pair[0], REDACTED) if _header_name(pair) in self.headers else pair
                for pair in headers
            ]
            changed = any(new is not old for new, old in zip(out, headers, strict=True))
            return out if changed else headers
        return headers


# Rules for Redactor keys.
_NONE, _SECRET, _HEADERS, _QUERY, _QUERY_PARAMS, _URL = range(6)
_SCALARS = (str, int, float, bool)
_NUMBERS = (int, float, bool)
_QUERY_KEYS = frozenset({"query", "url.query", "querystring", "rawquerystring"})
_QUERY_PARAM_KEYS = frozenset({"queryparams", "queryparameters"})
_URL_KEYS = frozenset({"path", "url", "url.full", "rawpath", "target", "http.target", "uri"})
_HEADER_ATTRIBUTE_PREFIXES = ("http.request.header.", "http.response.header.")


def _classify(key: str, headers: frozenset[str]) -> int:
    lowered = key.lower()
    squashed = lowered.replace("_", "").replace("-", "")
    if lowered in headers or squashed == "cookies":
        return _SECRET
    for prefix in _HEADER_ATTRIBUTE_PREFIXES:
        # OpenTelemetry's captured headers: http.request.header.<lower-case name>
        if lowered.startswith(prefix) and lowered[len(prefix) :].replace("_", "-") in headers:
            return _SECRET
    if squashed.endswith("headers"):
        return _HEADERS
    if squashed in _QUERY_KEYS:
        return _QUERY
    if squashed.endswith("querystringparameters") or squashed in _QUERY_PARAM_KEYS:
        return _QUERY_PARAMS
    if squashed in _URL_KEYS:
        return _URL
    return _NONE


def _replace_keys(mapping: Mapping[Any, Any], names: frozenset[str]) -> Mapping[Any, Any]:
    hits = [key for key in mapping if isinstance(key, str) and _normalise(key) in names]
    if not hits:
        return mapping
    out = dict(mapping)
    for key in hits:
        out[key] = REDACTED
    return out


def _header_name(pair: object) -> str | None:
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return None
    name = pair[0]
    if isinstance(name, bytes | bytearray):
        return bytes(name).decode("latin-1").lower()
    return str(name).lower()
