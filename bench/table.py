"""A titled table that renders as aligned text or as Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Table"]


@dataclass
class Table:
    """A titled table that renders as aligned text or as Markdown."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: Sequence[bool] = ()
    note: str = ""

    def text(self) -> str:
        cells = [list(self.headers), *[list(r) for r in self.rows]]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.headers))]
        right = list(self.numeric) + [False] * len(self.headers)
        lines = [self.title, "-" * len(self.title)]
        for number, row in enumerate(cells):
            parts = [
                c.rjust(w) if right[i] and number else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  ".join(parts).rstrip())
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def markdown(self) -> str:
        right = list(self.numeric) + [False] * len(self.headers)
        rule = ["---:" if right[i] else "---" for i in range(len(self.headers))]
        lines = [f"#### {self.title}", ""]
        lines.append("| " + " | ".join(self.headers) + " |")
        lines.append("| " + " | ".join(rule) + " |")
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in self.rows]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines)
