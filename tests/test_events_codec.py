"""The helpers every source shares: headers, paths, servers and status lines."""

from __future__ import annotations

import pytest

from traced_asgi_lambda.events._codec import (
    first_forwarded_for,
    headers_from_multi,
    headers_from_single,
    http_version,
    mount,
    server_address,
    split_path,
    stage_prefix,
)
from traced_asgi_lambda.events._encode import single_valued
from traced_asgi_lambda.events._fields import Field, find_problem


@pytest.mark.parametrize(
    ("host", "port", "scheme", "expected"),
    [
        pytest.param("example.com", None, "https", ("example.com", 443), id="https-default"),
        pytest.param("example.com", None, "http", ("example.com", 80), id="http-default"),
        pytest.param("example.com", "8443", "https", ("example.com", 8443), id="forwarded-port"),
        pytest.param("example.com:8080", "443", "https", ("example.com", 8080), id="host-port"),
        pytest.param("example.com", "eighty", "http", ("example.com", 80), id="bad-port"),
        pytest.param("example.com", "1234567", "http", ("example.com", 80), id="huge-port"),
        pytest.param("[2001:db8::1]:8443", None, "https", ("2001:db8::1", 8443), id="ipv6-port"),
        pytest.param("[2001:db8::1]", None, "https", ("2001:db8::1", 443), id="ipv6"),
        pytest.param("[2001:db8::1", None, "https", ("[2001:db8::1", 443), id="ipv6-broken"),
        pytest.param(None, "443", "https", None, id="no-host"),
        pytest.param("", "443", "https", None, id="empty-host"),
    ],
)
def test_server_address(
    host: str | None, port: str | None, scheme: str, expected: tuple[str, int] | None
) -> None:
    """``server`` comes from Host and X-Forwarded-Port, never from a made-up name."""
    assert server_address(host, port, scheme) == expected


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        pytest.param("HTTP/1.1", "1.1", id="1.1"),
        pytest.param("HTTP/1.0", "1.0", id="1.0"),
        pytest.param("HTTP/2.0", "2", id="2.0"),
        pytest.param("http/2", "2", id="lower-2"),
        pytest.param("HTTP/3", "1.1", id="unknown"),
        pytest.param("SPDY", "1.1", id="not-http"),
        pytest.param(None, "1.1", id="absent"),
    ],
)
def test_http_version(protocol: str | None, expected: str) -> None:
    """``http_version`` is one of the ASGI values, defaulting to 1.1."""
    assert http_version(protocol) == expected


@pytest.mark.parametrize(
    ("event_path", "path", "raw_path"),
    [
        pytest.param("/a/b", "/a/b", b"/a/b", id="plain"),
        pytest.param("/caf%C3%A9", "/caf\u00e9", b"/caf%C3%A9", id="encoded"),
        pytest.param("/caf\u00e9", "/caf\u00e9", b"/caf%C3%A9", id="decoded"),
        pytest.param("/a%2Fb", "/a/b", b"/a%2Fb", id="encoded-slash"),
        pytest.param("", "/", b"/", id="empty"),
    ],
)
def test_split_path(event_path: str, path: str, raw_path: bytes) -> None:
    """``path`` is decoded text; ``raw_path`` keeps (or makes) the percent-encoding."""
    assert split_path(event_path) == (path, raw_path)


@pytest.mark.parametrize(
    ("path", "prefixes", "root"),
    [
        pytest.param("/api/x", ("/api",), "/api", id="prefix"),
        pytest.param("/api", ("/api",), "/api", id="exact"),
        pytest.param("/apix", ("/api",), "", id="not-a-segment"),
        pytest.param("/prod/api/x", ("/prod", "/api"), "/prod/api", id="stage-and-base"),
        pytest.param("/api/x", ("", "api/"), "/api", id="empty-and-unslashed"),
        pytest.param("/x", ("/",), "", id="root"),
    ],
)
def test_mount(path: str, prefixes: tuple[str, ...], root: str) -> None:
    """Mount prefixes apply in order and only on whole path segments."""
    assert mount(path, *prefixes) == root


@pytest.mark.parametrize(
    ("request_context", "prefix"),
    [
        pytest.param({"stage": "prod"}, "/prod", id="named"),
        pytest.param({"stage": "$default"}, "", id="default"),
        pytest.param({"stage": ""}, "", id="empty"),
        pytest.param({"stage": None}, "", id="null"),
        pytest.param({}, "", id="absent"),
    ],
)
def test_stage_prefix(request_context: dict[str, object], prefix: str) -> None:
    """A named stage is mounted; the $default stage, or none, adds nothing."""
    assert stage_prefix(request_context) == prefix


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("198.51.100.7", "198.51.100.7", id="one"),
        pytest.param(" 198.51.100.7 , 10.0.0.1", "198.51.100.7", id="first-of-many"),
        pytest.param("", None, id="empty"),
        pytest.param(" , 10.0.0.1", None, id="blank-first"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_first_forwarded_for(value: str | None, expected: str | None) -> None:
    """The client is the left-most X-Forwarded-For entry, trimmed."""
    assert first_forwarded_for(value) == expected


def test_header_maps() -> None:
    """Header maps become lower-cased ASGI pairs; empty or null maps give no headers."""
    assert headers_from_single(None) == []
    assert headers_from_multi(None) == []
    assert headers_from_single({"X-A": "1"}) == [(b"x-a", b"1")]
    assert headers_from_multi({"Cookie": ["a=1", "b=2"], "X-A": ["1", "2"]}) == [
        (b"cookie", b"a=1; b=2"),
        (b"x-a", b"1, 2"),
    ]
    with pytest.raises(TypeError, match="x-a"):
        headers_from_multi({"x-a": "12"})


def test_single_valued_spreads_repeats_over_casings() -> None:
    """Repeated headers in a single-value map keep every value under distinct casings."""
    out = single_valued({"set-cookie": ["a", "b", "c"], "y": ["z"]})
    assert out == {"set-cookie": "a", "Set-cookie": "b", "sEt-cookie": "c", "y": "z"}
    # A name with a single letter has two spellings; a third value is folded, not lost.
    assert single_valued({"x": ["1", "2", "3"]}) == {"x": "1", "X": "2, 3"}


def test_expected_type_names_item_types() -> None:
    """An error for a typed container says what its items should be."""
    error = find_problem("s", {}, (Field(("h",), dict, items=str),))
    assert "an object of strings" in str(error)
