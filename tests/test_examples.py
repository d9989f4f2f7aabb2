"""examples/: every framework app answers through its one-line handler; the SAM template lints."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped, unused-ignore]

from examples.demo import STEPS
from traced_asgi_lambda.telemetry.metric_names import ALL_METRICS, DEFAULT_NAMESPACE

EXAMPLES = Path(__file__).parent.parent / "examples"
TEMPLATE = EXAMPLES / "template.yaml"
TIMEOUT = 120.0  # a fresh interpreter importing a framework, or cfn-lint loading its specs
CFN_LINT = "import sys; from cfnlint.runner import main; sys.exit(main())"
# Run in a fresh interpreter per app: Django's settings are process-wide, and tests/apps
# configures them for its own app. Prints what the Lambda handler returned, read back.
ONE_REQUEST = """
import importlib, json, sys
from traced_asgi_lambda import LambdaAdapter, TelemetryOptions
from traced_asgi_lambda.local import HttpRequest, LocalContext, build_event, to_http
module = importlib.import_module(sys.argv[1])
assert isinstance(module.handler, LambdaAdapter), type(module.handler)
event = build_event("http-api", HttpRequest("GET", "/items/7"))
response = to_http(module.handler(event, LocalContext("example")))
print(json.dumps({"status": response.status, "body": json.loads(response.body)}))
"""


@pytest.mark.parametrize(
    ("module", "framework"),
    [
        pytest.param("examples.fastapi_app", None, id="fastapi"),
        pytest.param("examples.starlette_app", "starlette", id="starlette"),
        pytest.param("examples.django_app", "django", id="django"),
        pytest.param("examples.litestar_app", "litestar", id="litestar"),
        pytest.param("examples.quart_app", "quart", id="quart"),
    ],
)
def test_example_handler_answers(module: str, framework: str | None) -> None:
    """Importing the example and calling its ``handler`` with an HTTP API event answers 200."""
    run = subprocess.run(
        [sys.executable, "-c", ONE_REQUEST, module],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=EXAMPLES.parent,
    )
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout.splitlines()[-1])
    assert answer["status"] == 200
    assert answer["body"]["item_id"] == 7
    assert answer["body"].get("framework") == framework


def test_demo_shows_every_step() -> None:
    """``make demo``'s script: six invocations with responses, trees, logs and metrics."""
    run = subprocess.run(
        [sys.executable, "-m", "examples.demo"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=EXAMPLES.parent,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert run.returncode == 0, run.stderr
    steps = re.findall(r"^-- \d\. (.+)$", run.stdout, re.MULTILINE)
    assert steps == [title for title, _ in STEPS]
    for status in ("HTTP 200", "HTTP 201", "HTTP 404", "HTTP 500", "base64"):
        assert status in run.stdout
    assert run.stdout.count("\nTrace ") == run.stdout.count("\nMetrics ") == len(STEPS)
    assert run.stdout.count("cold_start=true") == 1  # the access log of step 1 only
    assert "RuntimeError: this route always fails" in run.stdout
    assert "\x1b[" not in run.stdout


def test_template_passes_cfn_lint() -> None:
    """cfn-lint, with the SAM transform, finds nothing in examples/template.yaml."""
    run = subprocess.run(
        [sys.executable, "-c", CFN_LINT, str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert "No module named 'cfnlint'" not in run.stderr, "pip install cfn-lint (a dev extra)"
    assert run.returncode == 0, run.stdout + run.stderr


class _TemplateLoader(yaml.SafeLoader):  # type: ignore[misc, unused-ignore]
    """YAML with CloudFormation's short-form tags (``!Sub``, ``!Ref``) read as plain values."""


_TemplateLoader.add_multi_constructor(
    "!",
    lambda loader, tag, node: (
        loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_scalar(node)
    ),
)


def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_TemplateLoader)
    return loaded


def test_template_deploys_the_fastapi_example_with_a_collector() -> None:
    """The function runs examples/fastapi_app.handler and exports OTLP to the local collector."""
    function = template()["Resources"]["ApiFunction"]["Properties"]
    module, attribute = function["Handler"].rsplit(".", 1)
    assert (EXAMPLES / function["CodeUri"] / f"{module}.py").is_file()
    assert attribute == "handler"
    variables = function["Environment"]["Variables"]
    assert variables["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://localhost:4318"
    assert variables["OTEL_SERVICE_NAME"] == "ServiceName"  # !Ref ServiceName
    config = variables["OPENTELEMETRY_COLLECTOR_CONFIG_URI"].removeprefix("/var/task/")
    collector = yaml.safe_load((EXAMPLES / config).read_text())
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "localhost:4318"
    requirements = (EXAMPLES / "requirements.txt").read_text()
    assert "traced-asgi-lambda[otlp]" in requirements
    assert function["Layers"]  # the collector extension


def test_dashboard_graphs_only_metrics_the_adapter_emits() -> None:
    """Every metric the dashboard plots is one the adapter writes, in the template's namespace."""
    resources = template()
    body = resources["Resources"]["Dashboard"]["Properties"]["DashboardBody"]
    dashboard = json.loads(re.sub(r"\$\{([^}]+)\}", r"\1", body))
    emitted = {spec.name: spec for spec in ALL_METRICS}
    plotted = [
        row
        for widget in dashboard["widgets"]
        if widget["type"] == "metric"
        for row in widget["properties"]["metrics"]
    ]
    assert plotted
    for row in plotted:
        namespace, name, *dimensions = (v for v in row if isinstance(v, str))
        assert namespace == "MetricsNamespace"
        assert set(dimensions[::2]) == set(emitted[name].dimensions), row
    assert resources["Parameters"]["MetricsNamespace"]["Default"] == DEFAULT_NAMESPACE
