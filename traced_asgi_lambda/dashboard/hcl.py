"""A small HCL writer: blocks, aligned attributes, and values with placeholders.

Values are written as Terraform expressions ("Expressions", Terraform language docs): a
string holding nothing but one placeholder becomes the bare expression (``var.service``),
other strings a quoted template whose literal parts are escaped (``$${``, ``%%{``) and whose
placeholders become ``${expression}``. Attributes of a block are aligned on ``=`` the way
``terraform fmt`` aligns them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from traced_asgi_lambda.dashboard.placeholders import (
    PLACEHOLDER,
    Param,
    hcl_string,
    number_text,
    tf_escape,
)

__all__ = ["Block", "expr", "heredoc"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class Raw(str):
    """An HCL expression written as is (a reference, a function call, a heredoc)."""

    __slots__ = ()


def expr(value: Any, params: Mapping[str, Param]) -> str:
    """``value`` as an HCL expression."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(expr(item, params) for item in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)} = {expr(v, params)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    text = str(value)
    match = PLACEHOLDER.fullmatch(text)
    if match:
        return params[match.group(2)].tf
    parts, last = [], 0
    for match in PLACEHOLDER.finditer(text):
        parts.append(hcl_string(text[last : match.start()])[1:-1])
        parts.append("${" + params[match.group(2)].tf + "}")
        last = match.end()
    parts.append(hcl_string(text[last:])[1:-1])
    return '"' + "".join(parts) + '"'


def heredoc(text: str, indent: str) -> Raw:
    """A ``<<-EOT`` string, its literal ``${`` and ``%{`` escaped."""
    lines = "\n".join(f"{indent}  {line}" for line in tf_escape(text).splitlines())
    return Raw(f"<<-EOT\n{lines}\n{indent}  EOT")


def _key(key: str) -> str:
    return key if _IDENTIFIER.fullmatch(key) else hcl_string(key)


class Block:
    """One HCL block: a header such as ``resource "type" "name"``, attributes, nested blocks."""

    def __init__(self, header: str) -> None:
        self.header = header
        self.items: list[tuple[str, Any] | Block] = []

    def set(self, name: str, value: Any) -> Block:
        self.items.append((name, value))
        return self

    def block(self, header: str) -> Block:
        child = Block(header)
        self.items.append(child)
        return child

    def render(self, params: Mapping[str, Param], indent: str = "") -> str:
        if not self.items:
            return f"{indent}{self.header} {{}}"
        lines = [f"{indent}{self.header} {{"]
        inner = indent + "  "
        run: list[tuple[str, Any]] = []
        for item in self.items:
            if isinstance(item, Block):
                lines += self._attributes(run, params, inner)
                run = []
                if len(lines) > 1:
                    lines.append("")
                lines.append(item.render(params, inner))
            else:
                run.append(item)
        lines += self._attributes(run, params, inner)
        lines.append(f"{indent}}}")
        return "\n".join(lines)

    @staticmethod
    def _attributes(
        run: list[tuple[str, Any]], params: Mapping[str, Param], indent: str
    ) -> list[str]:
        width = max((len(name) for name, _ in run), default=0)
        lines = []
        for name, value in run:
            if isinstance(value, Mapping) and value and not isinstance(value, Raw):
                lines.append(f"{indent}{name.ljust(width)} = {{")
                key_width = max(len(_key(k)) for k in value)
                for key, item in value.items():
                    lines.append(f"{indent}  {_key(key).ljust(key_width)} = {expr(item, params)}")
                lines.append(f"{indent}}}")
            else:
                text = heredoc(value, indent) if _is_text_block(value) else expr(value, params)
                lines.append(f"{indent}{name.ljust(width)} = {text}")
        return lines


def _is_text_block(value: Any) -> bool:
    return isinstance(value, str) and not isinstance(value, Raw) and "\n" in value
