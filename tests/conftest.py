"""Shared fixtures: AWS event payloads from tests/events and a fake Lambda context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from traced_asgi_lambda.local import LocalContext

# The real OpenTelemetry collector (rotel) on loopback, as the `collector` fixture.
pytest_plugins = ["tests.collector"]

EVENTS = Path(__file__).parent / "events"

# Fixture folder -> the translator that must claim its events.
SOURCE_DIRS = {
    "api_gateway_rest": "api-gateway-rest",
    "http_api_v1": "api-gateway-http-v1",
    "http_api_v2": "api-gateway-http-v2",
    "function_url": "function-url",
    "alb": "alb",
    "alb_multi_value": "alb",
    "lambda_edge": "lambda-edge",
    "vpc_lattice_v1": "vpc-lattice-v1",
    "vpc_lattice_v2": "vpc-lattice-v2",
}


def load_event(name: str) -> dict[str, Any]:
    """The fixture ``tests/events/<name>.json``, e.g. ``"alb/get_basic"``."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def fixture_names(directory: str) -> list[str]:
    return sorted(f"{directory}/{p.stem}" for p in (EVENTS / directory).glob("*.json"))


def all_http_fixtures() -> list[str]:
    return [name for directory in SOURCE_DIRS for name in fixture_names(directory)]


@pytest.fixture
def context() -> LocalContext:
    return LocalContext("test-function")
