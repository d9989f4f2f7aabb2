"""The data templates in ``dashboards/``: found in a wheel or in a source checkout.

A wheel carries the repository's ``dashboards/`` folder as ``traced_asgi_lambda/_dashboards``
(hatch's ``force-include``); a source checkout or an editable install has it at the
repository root, next to the package. The packaged copy is preferred, so an installed
wheel never reads a stray folder. The templates are data only (JSON, Markdown), read on
each call: nothing is cached at module level.
"""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

__all__ = ["PACKAGED", "asset_root", "load_json", "load_text"]

PACKAGED = "_dashboards"  # the folder's name inside the installed package
_MARKER = "layout.json"  # a file every copy of the folder has


def asset_root() -> Traversable:
    """The ``dashboards`` folder: the packaged copy, else the source checkout's."""
    packaged = resources.files("traced_asgi_lambda") / PACKAGED
    if packaged.joinpath(_MARKER).is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "dashboards"
    if (checkout / _MARKER).is_file():
        return checkout
    raise FileNotFoundError(
        f"Expected the dashboard templates in traced_asgi_lambda/{PACKAGED} (a wheel) or in "
        f"{checkout} (a source checkout), but found neither. Fix: reinstall the package."
    )


def load_text(name: str) -> str:
    """The text of ``dashboards/<name>``."""
    return asset_root().joinpath(name).read_text(encoding="utf-8")


def load_json(name: str) -> Any:
    """``dashboards/<name>`` parsed, without its ``$comment`` keys."""
    return _drop_comments(json.loads(load_text(name)))


def _drop_comments(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_comments(v) for k, v in value.items() if k != "$comment"}
    if isinstance(value, list):
        return [_drop_comments(item) for item in value]
    return value
