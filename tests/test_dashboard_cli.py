"""``traced-asgi-lambda dashboard render``: flags, one-line errors, and where output goes."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

import pytest

from tests.test_dashboard_render import spec
from traced_asgi_lambda.cli import build_parser, main
from traced_asgi_lambda.cli.dashboard import _DOOR_FLAGS
from traced_asgi_lambda.dashboard import FrontDoor, render
from traced_asgi_lambda.dashboard.spec import FORMATS, FRONT_DOOR_KINDS, LOG_FORMATS, DashboardSpec

BASE = [
    "dashboard",
    "render",
    "--function-name",
    "orders-fn",
    "--region",
    "eu-west-1",
    "--service",
    "orders",
    "--namespace",
    "Shop",
    "--route-dimensions",
    "--timeout",
    "30",
    "--account-id",
    "123456789012",
]
DOOR_FLAGS = {
    "http-api": ["--front-door", "http-api", "--api-id", "a1b2c3d4e5", "--stage", "$default"],
    "rest": ["--front-door", "rest", "--api-name", "orders-api", "--stage", "prod"],
    "alb": [
        "--front-door",
        "alb",
        "--load-balancer",
        "app/orders-alb/50dc6c495c0c9188",
        "--target-group",
        "targetgroup/orders/73e2d6bc24d8a067",
    ],
    "url": ["--front-door", "url"],
}


def error_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The command's one error line, after checking it failed with status 2."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    return err.strip()


@pytest.mark.parametrize("kind", list(DOOR_FLAGS))
@pytest.mark.parametrize("fmt", ["json", "cfn"])
def test_stdout_is_the_rendered_file(
    kind: str, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command prints exactly what render() returns for the same settings."""
    assert main([*BASE, *DOOR_FLAGS[kind], "--format", fmt]) == 0
    (expected,) = render(spec(kind), fmt).values()  # type: ignore[arg-type]
    assert capsys.readouterr().out == expected


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        pytest.param(
            ["--front-door", "http-api"], "--front-door http-api needs --api-id", id="http-api"
        ),
        pytest.param(
            ["--front-door", "rest", "--stage", "prod"],
            "--front-door rest needs --api-name",
            id="rest",
        ),
        pytest.param(
            ["--front-door", "alb", "--target-group", "targetgroup/x/1"],
            "--front-door alb needs --load-balancer",
            id="alb-load-balancer",
        ),
        pytest.param(
            ["--front-door", "alb", "--load-balancer", "app/x/1"],
            "--front-door alb needs --target-group",
            id="alb-target-group",
        ),
        pytest.param(
            ["--front-door", "url", "--api-id", "abc"],
            "--api-id applies to --front-door http-api, not url",
            id="misplaced",
        ),
        pytest.param(
            ["--front-door", "url", "--threshold", "error-rate"],
            "expected --threshold ALARM=NUMBER",
            id="threshold-format",
        ),
        pytest.param(
            ["--front-door", "url", "--threshold", "nope=1"], "'nope'", id="threshold-name"
        ),
        pytest.param(
            ["--front-door", "url", "--region", "nowhere"], "Expected region", id="bad-region"
        ),
    ],
)
def test_errors_are_one_line(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing or wrong flag is one line naming it, exit status 2."""
    line = error_of([*BASE, *flags], capsys)
    assert line.startswith("traced-asgi-lambda dashboard: error: ")
    assert message in line


def test_json_needs_an_account(capsys: pytest.CaptureFixture[str]) -> None:
    """Plain JSON names alarms by ARN, so it asks for the account."""
    argv = [a for a in BASE if a not in ("--account-id", "123456789012")]
    assert "--account-id" in error_of([*argv, "--front-door", "url"], capsys)


def test_terraform_needs_a_directory(capsys: pytest.CaptureFixture[str]) -> None:
    """A module is several files, so stdout will not do."""
    line = error_of([*BASE, "--front-door", "url", "--format", "terraform"], capsys)
    assert "--out DIR" in line


def test_terraform_module_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--out DIR receives every file of the module, as render() returns them."""
    out = tmp_path / "module"
    assert main([*BASE, *DOOR_FLAGS["alb"], "--format", "terraform", "--out", str(out)]) == 0
    expected = render(spec("alb"), "terraform")
    assert {p.name: p.read_text() for p in out.iterdir()} == expected
    assert "wrote" in capsys.readouterr().err


def test_out_file(tmp_path: Path) -> None:
    """--out FILE receives the template instead of stdout."""
    target = tmp_path / "template.json"
    assert main([*BASE, *DOOR_FLAGS["url"], "--format", "cfn", "--out", str(target)]) == 0
    assert target.read_text() == render(spec("url"), "cfn")["template.json"]


def test_optional_settings_reach_the_spec(capsys: pytest.CaptureFixture[str]) -> None:
    """Thresholds, log settings, names and actions on the command line are rendered."""
    topic = "arn:aws:sns:eu-west-1:123456789012:oncall"
    flags = [
        "--front-door",
        "http-api",
        "--api-id",
        "a1b2c3d4e5",
        "--threshold",
        "error-rate=2.5",
        "--threshold",
        "latency_p99=400",
        "--log-group",
        "/custom/orders",
        "--log-format",
        "json",
        "--dashboard-name",
        "orders-board",
        "--alarm-action",
        topic,
        "--format",
        "cfn",
    ]
    assert main([*BASE, *flags]) == 0
    expected = spec(
        front_door=FrontDoor("http-api", api_id="a1b2c3d4e5"),
        thresholds={"error_rate": 2.5, "latency_p99": 400},
        log_group="/custom/orders",
        log_format="json",
        dashboard_name="orders-board",
        alarm_actions=(topic,),
    )
    assert capsys.readouterr().out == render(expected, "cfn")["template.json"]


def _subparser(parser: argparse.ArgumentParser, *names: str) -> argparse.ArgumentParser:
    for name in names:
        (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = action.choices[name]
    return parser


@pytest.mark.parametrize("action", ["render", "deploy", "preview"])
def test_flags_follow_the_spec_module(action: str) -> None:
    """Choices and defaults come from dashboard.spec, so the CLI cannot drift from it."""
    parser = _subparser(build_parser(), "dashboard", action)
    flags = {a.dest: a for a in parser._actions}
    defaults = {f.name: f.default for f in fields(DashboardSpec)}
    assert tuple(flags["front_door"].choices or ()) == FRONT_DOOR_KINDS
    assert tuple(flags["log_format"].choices or ()) == LOG_FORMATS
    assert flags["timeout"].default == defaults["timeout_seconds"]
    assert flags["log_format"].default == defaults["log_format"]
    if action == "render":
        assert tuple(flags["format"].choices or ()) == FORMATS


def test_front_door_flags_follow_the_spec_module() -> None:
    """Each front-door flag applies to exactly the front doors whose settings use it."""
    assert set(_DOOR_FLAGS) == {f.name for f in fields(FrontDoor)} - {"kind"}
    for name, kinds in _DOOR_FLAGS.items():
        for kind in FRONT_DOOR_KINDS:
            door = FrontDoor(kind, **{name: "x"})
            assert (name in door.settings()) == (kind in kinds), (name, kind)
