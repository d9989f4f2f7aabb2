"""Colour and progress for a terminal, plain text for a pipe.

Colour is on when the stream is a terminal, unless ``NO_COLOR`` is set to anything
non-empty (https://no-color.org); ``FORCE_COLOR`` turns it on for a pipe. Box-drawing
characters are used when the stream's encoding can write them, ASCII otherwise.
Progress messages go to stderr, only on a terminal, and are erased once done.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TextIO

__all__ = ["Style", "progress", "write"]

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


@dataclass(frozen=True)
class Style:
    """How to decorate text for one stream."""

    color: bool = False
    unicode: bool = True

    @classmethod
    def for_stream(cls, stream: TextIO, environ: Mapping[str, str] | None = None) -> Style:
        env = os.environ if environ is None else environ
        if env.get("NO_COLOR"):
            color = False
        elif env.get("FORCE_COLOR"):
            color = True
        else:
            color = _is_tty(stream)
        encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
        return cls(color=color, unicode=encoding in ("utf8", "utf16", "utf32"))

    def paint(self, text: str, *styles: str) -> str:
        """``text`` wrapped in ANSI SGR codes for ``styles`` (names in ``_CODES``)."""
        if not self.color or not styles or not text:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def status(self, code: int) -> str:
        """An HTTP status, green for 2xx/3xx, yellow for 4xx, red for 5xx."""
        colour = "green" if code < 400 else "yellow" if code < 500 else "red"
        return self.paint(str(code), "bold", colour)

    def level(self, name: str) -> str:
        """A log level, padded to five characters and coloured by severity."""
        colour = {"DEBUG": "dim", "INFO": "green", "WARN": "yellow"}.get(name, "red")
        return self.paint(f"{name:<5}", colour)

    @property
    def branch(self) -> str:
        return "├─ " if self.unicode else "|- "

    @property
    def last(self) -> str:
        return "└─ " if self.unicode else "`- "

    @property
    def pipe(self) -> str:
        return "│  " if self.unicode else "|  "

    @property
    def bar(self) -> str:
        return "█" if self.unicode else "#"

    @property
    def arrow(self) -> str:
        return "→" if self.unicode else "->"

    @property
    def dot(self) -> str:
        return "·" if self.unicode else "|"


@contextmanager
def progress(message: str, stream: TextIO) -> Iterator[None]:
    """Show ``message`` on ``stream`` while the block runs, if it is a terminal."""
    shown = _is_tty(stream)
    if shown:
        stream.write(f"{message}...\r")
        stream.flush()
    try:
        yield
    finally:
        if shown:
            stream.write("\x1b[2K\r")  # erase the line
            stream.flush()


def write(stream: TextIO, text: str) -> bool:
    """Write and flush; False when the reader has gone (``| head``), which is no error."""
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        # Python's advice ("Note on SIGPIPE"): point the descriptor at devnull, so the
        # flush at exit does not fail again.
        with suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
        return False
    return True
