"""The function's OpenTelemetry resource, built without the SDK.

``opentelemetry.sdk.resources`` costs a cold start about 7 ms to import on a Lambda-class
machine, and ``Resource.create`` another 5 ms: it runs its detectors on a thread pool.
The adapter's own spans only need the attributes, so :class:`LambdaResource` holds them
and becomes the SDK's ``Resource`` only when something else asks for one
(:meth:`LambdaResource.to_sdk`).

The attributes are those ``Resource.create`` would give for the same variables, in the
same precedence (lowest first): the SDK's ``telemetry.sdk.*``, a random
``service.instance.id``, ``OTEL_RESOURCE_ATTRIBUTES`` and ``OTEL_SERVICE_NAME``, then the
Lambda attributes (https://opentelemetry.io/docs/specs/otel/resource/sdk/ and the
"Service" resource conventions). Two differences: the variables are read from the
mapping given, not always from ``os.environ``; and resource detectors named in
``OTEL_EXPERIMENTAL_RESOURCE_DETECTORS`` are plugins only the SDK can run, so setting that
variable makes :func:`lambda_resource` build the SDK's resource instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource

__all__ = ["LambdaResource", "lambda_resource_attributes"]


class LambdaResource:
    """A resource's attributes and schema URL, as the OTLP writer reads a ``Resource``.

    Immutable, like the SDK's; sequences are kept as tuples, as the SDK keeps them.
    """

    __slots__ = ("_hash", "_sdk", "attributes", "schema_url")

    def __init__(self, attributes: Mapping[str, Any], schema_url: str = "") -> None:
        frozen = {k: tuple(v) if isinstance(v, list) else v for k, v in attributes.items()}
        self.attributes: Mapping[str, Any] = MappingProxyType(frozen)
        self.schema_url = schema_url
        self._hash = hash((frozenset(frozen.items()), schema_url))
        self._sdk: Resource | None = None

    def to_sdk(self) -> Resource:
        """The SDK's ``Resource`` with these attributes; one object, built on first use."""
        if self._sdk is None:
            from opentelemetry.sdk.resources import Resource

            self._sdk = Resource(dict(self.attributes), self.schema_url)
        return self._sdk

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LambdaResource):
            return NotImplemented
        return self.attributes == other.attributes and self.schema_url == other.schema_url

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"LambdaResource({dict(self.attributes)!r}, {self.schema_url!r})"


def lambda_resource_attributes(
    attributes: Mapping[str, Any], environ: Mapping[str, str]
) -> dict[str, Any]:
    """``attributes`` over what ``Resource.create`` adds from ``environ``, in its order."""
    from opentelemetry.sdk.version import __version__ as sdk_version

    merged: dict[str, Any] = {
        "telemetry.sdk.language": "python",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.version": sdk_version,
        # The SDK's ServiceInstanceIdResourceDetector: a random version 4 UUID, as the
        # service conventions recommend for service.instance.id.
        "service.instance.id": _uuid4(),
    }
    merged.update(_parse_resource_attributes(environ.get("OTEL_RESOURCE_ATTRIBUTES", "")))
    service = environ.get("OTEL_SERVICE_NAME")
    if service:
        merged["service.name"] = service
    merged.update(attributes)
    return merged


def _parse_resource_attributes(text: str) -> dict[str, str]:
    """``OTEL_RESOURCE_ATTRIBUTES``: ``key=value`` pairs split on commas, values
    percent-decoded (the SDK environment variable spec, "General SDK Configuration").
    A pair without ``=`` or with an empty key is skipped, as the SDK skips it (with a
    warning there)."""
    parsed: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            parsed[key.strip()] = unquote(value.strip())
    return parsed


def _uuid4() -> str:
    # uuid.uuid4() without importing uuid: 122 random bits, version 4, RFC 4122 variant.
    value = int.from_bytes(os.urandom(16), "big")
    value = (value & ~(0xF000 << 64)) | (0x4000 << 64)  # version, time_hi_and_version
    value = (value & ~(0xC000 << 48)) | (0x8000 << 48)  # variant, clock_seq_hi
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
