"""Equivalent ASGI test applications, one per framework (see ``contract``)."""
