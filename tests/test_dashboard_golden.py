"""Golden files: each front door in each format, so any change to a dashboard is a diff.

The files live in ``tests/golden/dashboards/<front door>/`` (``dashboard.json``,
``template.json``, and the Terraform module in ``terraform/``). After an intended change,
regenerate them and review the diff::

    TRACED_ASGI_LAMBDA_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_dashboard_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_dashboard_render import DOORS, spec
from traced_asgi_lambda.dashboard import render

GOLDEN = Path(__file__).parent / "golden" / "dashboards"
UPDATE = os.environ.get("TRACED_ASGI_LAMBDA_UPDATE_GOLDEN") == "1"
FOLDERS = {"json": "", "cfn": "", "terraform": "terraform"}


@pytest.mark.parametrize("fmt", list(FOLDERS))
@pytest.mark.parametrize("kind", list(DOORS))
def test_matches_golden(kind: str, fmt: str) -> None:
    """The rendered files equal the reviewed ones (set TRACED_ASGI_LAMBDA_UPDATE_GOLDEN=1)."""
    folder = GOLDEN / kind / FOLDERS[fmt]
    files = render(spec(kind), fmt)  # type: ignore[arg-type]
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
    for name, text in files.items():
        path = folder / name
        assert path.is_file(), f"{path} is missing: run with TRACED_ASGI_LAMBDA_UPDATE_GOLDEN=1"
        assert path.read_text(encoding="utf-8") == text, f"{path} differs from the rendered file"
