"""LambdaResource: the attributes Resource.create would give, without the SDK."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource

from traced_asgi_lambda.telemetry.provider import function_resource, lambda_resource
from traced_asgi_lambda.telemetry.resource import (
    LambdaResource,
    _uuid4,
    lambda_resource_attributes,
)

LAMBDA = {
    "AWS_LAMBDA_FUNCTION_NAME": "orders",
    "AWS_REGION": "eu-west-1",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/orders",
}


@pytest.mark.parametrize(
    ("environ", "attributes"),
    [
        pytest.param({}, {"service.name": "orders", "n": 3}, id="given-only"),
        pytest.param(
            {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod,team=a%20b"},
            {"service.name": "orders"},
            id="env-attributes-percent-decoded",
        ),
        pytest.param(
            {"OTEL_RESOURCE_ATTRIBUTES": " k = v , broken, x=1=2 ,=empty-key"},
            {"service.name": "orders"},
            id="env-attributes-spaces-malformed-and-equals-in-value",
        ),
        pytest.param(
            {"OTEL_SERVICE_NAME": "from-env", "OTEL_RESOURCE_ATTRIBUTES": "service.name=attr"},
            {},
            id="service-name-variable-wins-over-attribute",
        ),
        pytest.param(
            {"OTEL_SERVICE_NAME": "from-env", "OTEL_RESOURCE_ATTRIBUTES": "team=x"},
            {"service.name": "given", "team": "given"},
            id="given-wins-over-both",
        ),
        pytest.param(
            {},
            {"service.name": "orders", "aws.log.group.names": ["/aws/lambda/a"]},
            id="list-kept-as-tuple",
        ),
    ],
)
def test_attributes_match_resource_create(
    environ: dict[str, str], attributes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everything but the random instance id equals what the SDK builds from os.environ.

    The adapter always names a service (``function_resource``), so every case has one.
    """
    for name in ("OTEL_RESOURCE_ATTRIBUTES", "OTEL_SERVICE_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTEL_EXPERIMENTAL_RESOURCE_DETECTORS", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    ours = LambdaResource(lambda_resource_attributes(attributes, environ))
    sdk = Resource.create(attributes)
    without_id = {k: v for k, v in sdk.attributes.items() if k != "service.instance.id"}
    assert {k: v for k, v in ours.attributes.items() if k != "service.instance.id"} == without_id
    assert uuid.UUID(ours.attributes["service.instance.id"]).version == 4


def test_a_lambda_resource_is_immutable_hashable_and_becomes_one_sdk_resource() -> None:
    resource = LambdaResource({"service.name": "a", "names": ["x", "y"]})
    same = LambdaResource({"service.name": "a", "names": ("x", "y")})
    assert resource == same
    assert hash(resource) == hash(same)
    assert resource != LambdaResource({"service.name": "b"})
    assert resource.attributes["names"] == ("x", "y")
    with pytest.raises(TypeError):
        resource.attributes["service.name"] = "changed"  # type: ignore[index]
    sdk = resource.to_sdk()
    assert isinstance(sdk, Resource)
    assert sdk is resource.to_sdk()
    assert dict(sdk.attributes) == dict(resource.attributes)


def test_lambda_resource_is_the_sdk_resource_of_the_same_attributes() -> None:
    ours = function_resource(LAMBDA, service="svc")
    assert isinstance(ours, LambdaResource)
    sdk = lambda_resource(LAMBDA, service="svc")
    assert isinstance(sdk, Resource)
    expected = {k: v for k, v in ours.attributes.items() if k != "service.instance.id"}
    assert {k: v for k, v in sdk.attributes.items() if k != "service.instance.id"} == expected
    assert expected["service.name"] == "svc"
    assert expected["cloud.platform"] == "aws_lambda"


def test_resource_detector_plugins_hand_the_resource_to_the_sdk() -> None:
    """Only the SDK runs detector plugins, so naming any makes the resource the SDK's."""
    resource = function_resource({**LAMBDA, "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "otel"})
    assert isinstance(resource, Resource)
    assert resource.attributes["faas.name"] == "orders"


def test_instance_ids_are_random_version_4_uuids() -> None:
    ids = [_uuid4() for _ in range(200)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)
        pattern = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
        assert re.fullmatch(pattern, text)
