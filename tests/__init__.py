"""Tests for traced-asgi-lambda; each module mirrors a package module."""
