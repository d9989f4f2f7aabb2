"""log_context: the keys an invocation's lines carry, read from the event."""

from __future__ import annotations

import pytest

from tests.conftest import load_event
from traced_asgi_lambda.telemetry.log_context import correlation_id_of


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "api_gateway_rest/get_basic", "51a13599-36cb-4c46-9d0a-dfba702ab922", id="rest"
        ),
        pytest.param("http_api_v2/get_basic", "xFecZcThCvgtz3y=", id="http-api"),
        pytest.param("function_url/get_basic", "389f6934-b5bf-40a2-97c1-ac61b8bb1afa", id="url"),
        pytest.param(
            "lambda_edge/get_basic",
            "ggCHboBrg_XuA-dxbZdn6AYPQW2Ry-yUEkAKr_80KkojMjMKtcDoX4==",
            id="edge",
        ),
        pytest.param(
            "alb/get_basic",
            "Self=1-67acaa29-687ad53a11fda0419f184466;Root=1-67acaa29-aea22279fafd3652a0afccbb;"
            "Parent=fc27fa340607ac86;Sampled=1",
            id="alb-trace-header",
        ),
        pytest.param(
            "vpc_lattice_v2/get_basic",
            "Root=1-67acaa29-cee8c68602c4bf3e9705b8e0;Parent=801c20ccf6c35601;Sampled=1",
            id="lattice-list-header",
        ),
        pytest.param("unsupported/sqs", None, id="none"),
    ],
)
def test_correlation_id_follows_powertools_paths(name: str, expected: str | None) -> None:
    """correlation_id is read where Powertools' correlation paths read it."""
    assert correlation_id_of(load_event(name)) == expected
