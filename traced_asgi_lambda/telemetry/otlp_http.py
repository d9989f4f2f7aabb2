"""An OTLP/HTTP span exporter on http.client that can export within a deadline.

The SDK's OTLPSpanExporter imports protobuf, googleapis-common-protos and requests (slow cold
starts), and its timeout bounds each attempt, not the call. This one encodes with otlp_encode,
POSTs with http.client over one persistent connection, and ``export_within`` returns by its
deadline, since every connect, send and receive gets only the time left: a flush can export
on the caller's thread. OTLP/HTTP (https://opentelemetry.io/docs/specs/otlp/#otlphttp):
binary protobuf, any 2xx is success, 429/502/503/504 are retried with exponential backoff
and ``Retry-After`` while the deadline allows ("Retryable Response Codes"). Settings: the
OTEL_EXPORTER_OTLP_[TRACES_]* variables (https://opentelemetry.io/docs/specs/otel/protocol/exporter/).
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from traced_asgi_lambda.exceptions import ConfigurationError
from traced_asgi_lambda.telemetry.otlp_encode import EncodeCache, encode_spans

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    from traced_asgi_lambda.telemetry.span_data import SpanData

    _ExporterBase = SpanExporter
else:
    # The SDK's processors call an exporter's methods and never check its class; this one
    # defines them all (tests/test_telemetry_tracer_provider.py checks it against the SDK's
    # SpanExporter) without subclassing it, so exporting through InvocationSpanProcessor
    # (export_within) never imports the SDK: about 25 ms of a cold start.
    _ExporterBase = object

__all__ = ["OtlpHttpSpanExporter"]

_PREFIX = "OTEL_EXPORTER_OTLP_"
DEFAULT_ENDPOINT = "http://localhost:4318/v1/traces"
DEFAULT_TIMEOUT_MS = 10_000  # the spec's default for OTEL_EXPORTER_OTLP_TIMEOUT
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
FIRST_BACKOFF, MAX_BACKOFF = 0.05, 1.0  # seconds before a retry: doubled after each, capped
# How a request fails on a keep-alive connection the server has closed: sent again, once.
_STALE_CONNECTION = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class OtlpHttpSpanExporter(_ExporterBase):
    """OTLP/HTTP protobuf span exporter; ``timeout`` is in seconds, like the SDK's exporter.

    Arguments left out come from ``environ`` (default ``os.environ``): the URL from
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT + ``/v1/traces``;
    OTEL_EXPORTER_OTLP_[TRACES_]HEADERS (``k=v,k2=v2``, percent-decoded), _TIMEOUT in ms as the
    spec says (the SDK's exporter reads seconds), _COMPRESSION (``gzip`` or ``none``).
    After a failure, :attr:`last_error` says what went wrong (never with the request body).
    """

    # It exports SpanData as well as ReadableSpan (see ``span_data``).
    accepts_span_data = True

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        compression: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        from traced_asgi_lambda import __version__

        env = os.environ if environ is None else environ
        self.endpoint = endpoint or _endpoint(env)
        self.timeout = _timeout(env) if timeout is None else timeout
        self.compression = (compression or _setting(env, "COMPRESSION") or "none").lower().strip()
        ConfigurationError.check_choice(
            f"compression (or {_PREFIX}[TRACES_]COMPRESSION)", self.compression, ("gzip", "none")
        )
        url = urlsplit(self.endpoint)
        self._tls = url.scheme == "https"
        try:
            port = url.port or (443 if self._tls else 80)
        except ValueError:  # not a number, or out of range
            port = 0
        if url.scheme not in ("http", "https") or not url.hostname or not port:
            raise ConfigurationError(
                f"Expected the OTLP endpoint to be an http:// or https:// URL such as "
                f"{DEFAULT_ENDPOINT!r}, but got {self.endpoint!r}."
            )
        self._host, self._port, self._path = url.hostname, port, url.path or "/"
        self._path += f"?{url.query}" if url.query else ""
        given = _parse_headers(_setting(env, "HEADERS") or "") if headers is None else headers
        self._headers = {name.lower(): value for name, value in given.items()}
        self._headers.setdefault("user-agent", f"traced-asgi-lambda/{__version__}")
        self._headers["content-type"] = "application/x-protobuf"
        if self.compression == "gzip":
            self._headers["content-encoding"] = "gzip"
        self.last_error: str | None = None
        self._cache = EncodeCache()  # what repeats from batch to batch, encoded once
        self._connection: _Connection | None = None
        self._tls_context: ssl.SSLContext | None = None
        self._lock = threading.Lock()  # one request at a time on the one connection
        self._closed = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        from opentelemetry.sdk.trace.export import SpanExportResult  # the SDK's caller loaded it

        ok = self.export_within(spans, self.timeout)
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self._closed = True
        self._disconnect()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True  # nothing is buffered

    def export_within(self, spans: Sequence[ReadableSpan | SpanData], seconds: float) -> bool:
        """Send ``spans``; True once the collector accepted them. Returns within ``seconds``.

        False on any failure (refused, timed out, a non-2xx answer, retryable answers until
        no time is left for the next try); never raises.
        """
        deadline = time.monotonic() + seconds
        if self._closed or not seconds > 0:  # "not >" refuses nan too
            self.last_error = "the exporter is shut down" if self._closed else "no time left"
            return False
        if not spans:
            return True
        try:  # before taking the lock: encoding needs no connection
            body = encode_spans(spans, self._cache)
            if self.compression == "gzip":
                body = zlib.compress(body, wbits=31)  # wbits 16 + 15: the gzip container
        except Exception as exc:
            self.last_error = f"the spans could not be encoded: {type(exc).__name__}: {exc}"
            return False
        if not self._lock.acquire(timeout=min(seconds, threading.TIMEOUT_MAX)):
            self.last_error = "another export held the connection until the deadline"
            return False
        try:
            return self._send(body, deadline)
        except Exception as exc:  # an export must never break the function
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._disconnect()  # its state is unknown after a failure mid-request
            return False
        finally:
            self._lock.release()

    def _send(self, body: bytes, deadline: float) -> bool:
        backoff = FIRST_BACKOFF
        while True:
            status, retry_after = self._post(body, deadline)
            if 200 <= status < 300:
                self.last_error = None
                return True
            self.last_error = f"the collector answered HTTP {status}"
            if status not in RETRYABLE_STATUSES:
                return False
            delay = max(backoff, retry_after)
            if time.monotonic() + delay >= deadline:
                return False  # no retry would finish in time
            time.sleep(delay)
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _post(self, body: bytes, deadline: float) -> tuple[int, float]:
        """One request: (status, seconds the server asked to wait); reconnects once if stale."""
        reused = self._connection is not None and self._connection.sock is not None
        try:
            return self._exchange(body, deadline)
        except _STALE_CONNECTION:
            self._disconnect()
            if not reused:
                raise
        return self._exchange(body, deadline)

    def _exchange(self, body: bytes, deadline: float) -> tuple[int, float]:
        connection = self._connection or self._connect()
        connection.deadline = deadline
        if connection.sock is None:
            connection.connect()
        if isinstance(connection.sock, _BoundedSocket):  # TLS wrapped it in a new object
            connection.sock.deadline = deadline
        connection.request("POST", self._path, body, self._headers)
        response = connection.getresponse()
        response.read()  # drained, so the connection can carry the next export
        try:  # Retry-After: <seconds>; an HTTP date is ignored
            return response.status, float(response.getheader("retry-after") or 0)
        except ValueError:
            return response.status, 0.0

    def _connect(self) -> _Connection:
        if not self._tls:
            self._connection = _Connection(self._host, self._port)
        else:
            if self._tls_context is None:  # loading the CA bundle takes milliseconds: once
                self._tls_context = ssl.create_default_context()
                self._tls_context.sslsocket_class = _BoundedTLSSocket
            self._connection = _TLSConnection(self._host, self._port, context=self._tls_context)
        return self._connection

    def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class _BoundedSocket(socket.socket):
    """A TCP socket whose every send and receive gives up at ``deadline`` (time.monotonic).

    A socket timeout bounds one call, and http.client reads a response in several: arming
    each with the time left bounds them all, so even a peer trickling bytes cannot overrun.
    """

    deadline = 0.0  # set before use; 0 makes a forgotten deadline fail fast, not hang

    def _arm(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the export deadline passed")
        self.settimeout(remaining)

    def recv_into(self, *args: Any) -> int:
        self._arm()
        return super().recv_into(*args)

    def sendall(self, *args: Any) -> None:
        self._arm()  # since Python 3.5 the timeout bounds the whole sendall
        super().sendall(*args)


class _BoundedTLSSocket(_BoundedSocket, ssl.SSLSocket):
    """The TLS socket of an https endpoint, with the same per-call deadline."""


class _Connection(http.client.HTTPConnection):
    """An HTTPConnection that connects within ``deadline`` and returns a bounded socket."""

    deadline = 0.0

    def connect(self) -> None:
        error: OSError = ConnectionError(f"no address found for {self.host}")
        # Each address gets the time left. getaddrinfo cannot be bounded: use an IP or localhost.
        for family, kind, proto, _, address in socket.getaddrinfo(
            self.host, self.port, 0, socket.SOCK_STREAM
        ):
            sock = _BoundedSocket(family, kind, proto)
            try:
                sock.deadline = self.deadline
                sock._arm()
                sock.connect(address)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client
                sock._arm()  # the TLS handshake (HTTPSConnection) inherits this timeout
            except OSError as exc:
                sock.close()
                error = exc
            else:
                self.sock = sock
                return
        raise error


class _TLSConnection(http.client.HTTPSConnection, _Connection):
    """HTTPSConnection.connect wraps what _Connection.connect opened (MRO)."""


def _setting(environ: Mapping[str, str], name: str) -> str | None:
    """OTEL_EXPORTER_OTLP_TRACES_<name>, else OTEL_EXPORTER_OTLP_<name>; empty means unset."""
    return environ.get(f"{_PREFIX}TRACES_{name}") or environ.get(_PREFIX + name) or None


def _endpoint(environ: Mapping[str, str]) -> str:
    """The signal-specific URL is used as is; the base URL gets the ``v1/traces`` path."""
    if traces := environ.get(f"{_PREFIX}TRACES_ENDPOINT"):
        return traces
    base = environ.get(f"{_PREFIX}ENDPOINT")
    return base.rstrip("/") + "/v1/traces" if base else DEFAULT_ENDPOINT


def _timeout(environ: Mapping[str, str]) -> float:
    raw = _setting(environ, "TIMEOUT") or str(DEFAULT_TIMEOUT_MS)
    try:
        seconds = float(raw) / 1000
    except ValueError:
        seconds = -1
    if not seconds >= 0:  # also refuses nan
        raise ConfigurationError(
            f"Expected {_PREFIX}[TRACES_]TIMEOUT to be a number of milliseconds, but got "
            f"{raw!r}. Fix: set it to e.g. 10000, or unset it."
        )
    return seconds


def _parse_headers(text: str) -> dict[str, str]:
    """``k=v,k2=v2``, percent-encoded (W3C Baggage, no metadata). Errors never quote values."""
    headers: dict[str, str] = {}
    for position, entry in enumerate(text.split(","), 1):
        if not entry.strip():
            continue
        name, equals, value = entry.partition("=")
        name, value = unquote(name).strip().lower(), unquote(value).strip()
        if not equals or not name or any(c in name + value for c in "\r\n\0"):
            raise ConfigurationError(
                f"Expected {_PREFIX}[TRACES_]HEADERS to hold comma-separated "
                f"name=value pairs, but entry {position} is not one. Fix: percent-encode "
                f"',', '=' and control characters inside names and values."
            )
        headers[name] = value
    return headers
