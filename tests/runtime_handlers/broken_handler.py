"""A handler module that fails in the init phase: importing it raises."""

from __future__ import annotations

raise RuntimeError("the database URL is not set")
