"""The templates are found in a checkout and in a wheel; importing has no side effects."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_dashboard_render import spec
from traced_asgi_lambda.dashboard import render
from traced_asgi_lambda.dashboard.assets import PACKAGED, asset_root, load_json

ROOT = Path(__file__).resolve().parent.parent
MODULES = [
    "alarms",
    "assets",
    "body",
    "cfn",
    "deploy",
    "evaluate",
    "graphs",
    "hcl",
    "metrics",
    "params",
    "placeholders",
    "preview",
    "queries",
    "render",
    "spec",
    "terraform",
    "widgets",
]


def run(code: str, path: Path | None = None) -> str:
    """``code`` in a fresh interpreter (with ``path`` first on sys.path); its stdout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in (path, ROOT) if p)}
    cwd = path or ROOT  # -c puts the working directory first on sys.path
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_checkout_templates_are_found() -> None:
    """In a source checkout the repository's dashboards/ folder is used."""
    assert Path(str(asset_root())) == ROOT / "dashboards"


def test_wheel_layout_is_found(tmp_path: Path) -> None:
    """In a wheel the templates sit in traced_asgi_lambda/_dashboards, and are preferred."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "traced_asgi_lambda", site / "traced_asgi_lambda")
    shutil.copytree(ROOT / "dashboards", site / "traced_asgi_lambda" / PACKAGED)
    code = (
        "from traced_asgi_lambda.dashboard.assets import asset_root\n"
        "from traced_asgi_lambda.dashboard import render\n"
        "from tests.test_dashboard_render import spec\n"
        "print(asset_root())\n"
        "print(render(spec('alb'), 'json')['dashboard.json'], end='')\n"
    )
    root, body = run(code, site).split("\n", 1)
    assert Path(root) == site / "traced_asgi_lambda" / PACKAGED
    assert json.loads(body) == json.loads(render(spec("alb"), "json")["dashboard.json"])


def test_templates_are_data() -> None:
    """Every template is JSON or Markdown; the JSON ones parse and carry a $comment."""
    for path in sorted((ROOT / "dashboards").iterdir()):
        assert path.suffix in (".json", ".md"), path.name
        if path.suffix == ".json":
            assert "$comment" in json.loads(path.read_text())
    assert "$comment" not in load_json("layout.json")


def test_importing_the_package_loads_nothing_of_this() -> None:
    """``import traced_asgi_lambda`` imports no dashboard module, boto3 or cfn-lint."""
    code = (
        "import sys, traced_asgi_lambda\n"
        "print(sorted(m for m in sys.modules if m.startswith('traced_asgi_lambda.dashboard') "
        "or m.split('.')[0] in ('boto3', 'botocore', 'cfnlint', 'hcl2')))\n"
    )
    assert run(code).strip() == "[]"


def test_importing_dashboard_does_not_import_boto3() -> None:
    """The dashboard package needs boto3 only to deploy."""
    code = (
        "import sys, traced_asgi_lambda.dashboard, traced_asgi_lambda.cli.dashboard\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))\n"
    )
    assert run(code).strip() == "[]"


def test_the_command_line_loads_only_the_spec() -> None:
    """The CLI takes its choices from ``spec``; no content module loads until a command runs."""
    code = (
        "import sys, traced_asgi_lambda.cli.dashboard\n"
        "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules "
        "if m.startswith('traced_asgi_lambda.dashboard.')))\n"
    )
    assert run(code).strip() == "['deploy', 'placeholders', 'render', 'spec']"


def test_package_names_are_the_functions_whatever_loads_first() -> None:
    """``render``, ``deploy`` and ``build`` name the functions, not their modules."""
    code = (
        "import traced_asgi_lambda.dashboard.body, traced_asgi_lambda.dashboard.render\n"
        "import traced_asgi_lambda.dashboard.deploy\n"
        "from traced_asgi_lambda.dashboard import build, deploy, render, Dashboard\n"
        "print([type(f).__name__ for f in (build, deploy, render, Dashboard)])\n"
    )
    assert run(code).strip() == "['function', 'function', 'function', 'type']"


@pytest.mark.parametrize("name", MODULES)
def test_modules_are_small_and_declare_their_api(name: str) -> None:
    """Each module declares __all__ and stays within 300 lines."""
    module = importlib.import_module(f"traced_asgi_lambda.dashboard.{name}")
    assert isinstance(module.__all__, list)
    assert all(hasattr(module, public) for public in module.__all__)
    source = Path(module.__file__ or "").read_text()
    assert source.count("\n") <= 300


def test_public_names() -> None:
    """The package's public surface."""
    package = importlib.import_module("traced_asgi_lambda.dashboard")
    assert sorted(package.__all__) == sorted(
        [
            "FORMATS",
            "FRONT_DOOR_KINDS",
            "Dashboard",
            "DashboardSpec",
            "DeployError",
            "DeployResult",
            "Format",
            "FrontDoor",
            "FrontDoorKind",
            "build",
            "deploy",
            "render",
        ]
    )
    assert sorted(set(MODULES)) == sorted(
        p.stem
        for p in (ROOT / "traced_asgi_lambda" / "dashboard").glob("*.py")
        if p.stem != "__init__"
    )
