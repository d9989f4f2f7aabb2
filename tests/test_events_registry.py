"""Which translator claims an event, and what an unsupported event is told."""

from __future__ import annotations

import pytest

from tests.conftest import SOURCE_DIRS, all_http_fixtures, load_event
from traced_asgi_lambda.events import BUILTIN_TRANSLATORS, select
from traced_asgi_lambda.exceptions import UnsupportedEventError


@pytest.mark.parametrize("name", all_http_fixtures())
def test_each_fixture_is_claimed_by_its_source(name: str) -> None:
    """Every HTTP fixture is claimed by exactly the translator of its folder."""
    event = load_event(name)
    assert select(event, BUILTIN_TRANSLATORS).name == SOURCE_DIRS[name.split("/")[0]]
    claimed = [t.name for t in BUILTIN_TRANSLATORS if t.matches(event)]
    # Function URLs have the HTTP API 2.0 shape; order puts them first.
    assert claimed[0] == SOURCE_DIRS[name.split("/")[0]]


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        pytest.param("unsupported/sqs", "looks like SQS", id="sqs"),
        pytest.param("unsupported/sns", "looks like SNS", id="sns"),
        pytest.param("unsupported/s3_put", "looks like S3", id="s3"),
        pytest.param("unsupported/dynamodb_stream", "DynamoDB stream", id="dynamodb"),
        pytest.param("unsupported/kinesis", "looks like Kinesis", id="kinesis"),
        pytest.param("unsupported/eventbridge_scheduled", "EventBridge", id="eventbridge"),
        pytest.param("unsupported/cloudwatch_logs", "CloudWatch Logs", id="cloudwatch-logs"),
        pytest.param("unsupported/direct_invoke", "not an HTTP event", id="direct-invoke"),
        pytest.param("unsupported/empty", "an empty object", id="empty"),
        pytest.param("unsupported/websocket_connect", "WebSocket", id="websocket"),
        pytest.param(
            "unsupported/lambda_edge_origin_response", "response trigger", id="edge-response"
        ),
    ],
)
def test_unsupported_events_name_keys_sources_and_a_hint(name: str, hint: str) -> None:
    """An unsupported event raises with the keys it had, every source tried, and a hint."""
    event = load_event(name)
    with pytest.raises(UnsupportedEventError) as caught:
        select(event, BUILTIN_TRANSLATORS)
    message = str(caught.value)
    assert hint in message
    assert caught.value.keys == sorted(event)
    for key in event:
        assert key in message
    for translator in BUILTIN_TRANSLATORS:
        assert translator.name in message
    assert "custom_handlers" in message


@pytest.mark.parametrize(
    "event",
    [
        pytest.param([1, 2], id="list"),
        pytest.param("GET /", id="string"),
        pytest.param(None, id="null"),
    ],
)
def test_non_object_events_are_unsupported(event: object) -> None:
    """An event that is not a JSON object is unsupported, and the message says its type."""
    with pytest.raises(UnsupportedEventError, match=type(event).__name__):
        select(event, BUILTIN_TRANSLATORS)


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"Records": []}, id="no-records"),
        pytest.param({"Records": ["x"]}, id="record-not-object"),
        pytest.param({"Records": [{"eventSource": "aws:other"}]}, id="unknown-record"),
        pytest.param({"requestContext": "x"}, id="request-context-not-object"),
        pytest.param({"version": "2.0", "requestContext": []}, id="v2-without-route"),
    ],
)
def test_odd_shapes_never_break_matching(event: dict[str, object]) -> None:
    """Matching never raises on odd shapes; such events are simply unsupported."""
    with pytest.raises(UnsupportedEventError, match="not an HTTP event"):
        select(event, BUILTIN_TRANSLATORS)
