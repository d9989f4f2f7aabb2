"""What the in-process runs measured, per stack, and how a target fared."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Row", "Target", "round_ratio", "round_ratio_spread"]


def round_ratio(mine: Sequence[float], theirs: Sequence[float]) -> float:
    """The median over rounds of ``mine`` over ``theirs`` in the same round.

    Each round's time is divided by the reference's time in the same round, a fraction
    of a second apart, so a burst of load from other processes, which slows both,
    cancels out instead of moving one median and not the other.
    """
    return statistics.median(_ratios(mine, theirs))


def round_ratio_spread(mine: Sequence[float], theirs: Sequence[float]) -> tuple[float, float]:
    """The quartiles of the per-round ratios (the one ratio twice, for a single round)."""
    ratios = _ratios(mine, theirs)
    if len(ratios) < 2:
        return ratios[0], ratios[0]
    low, _, high = statistics.quantiles(ratios, n=4)
    return low, high


def _ratios(mine: Sequence[float], theirs: Sequence[float]) -> list[float]:
    return [a / b for a, b in zip(mine, theirs, strict=True)]


@dataclass
class Row:
    """One stack's in-process results for one app and event."""

    group: str
    app: str
    source: str
    stack: str
    response_us: list[float]
    posted_us: list[float]
    total_us: list[float]
    response_cpu_us: list[float]
    total_cpu_us: list[float]
    spans_per_call: float
    otlp_bytes_per_call: float
    stdout_bytes_per_call: float
    stdout_lines_per_call: float
    reference: Row | None = None  # bare Mangum, measured in the same process and rounds

    @property
    def response(self) -> float:
        return statistics.median(self.response_us)

    @property
    def total(self) -> float:
        return statistics.median(self.total_us)

    @property
    def posted(self) -> float:
        return statistics.median(self.posted_us)

    def ratio(self, measure: str) -> float:
        """This stack over bare Mangum for ``measure``: the median of the per-round ratios."""
        return round_ratio(*self._pair(measure))

    def ratio_spread(self, measure: str) -> tuple[float, float]:
        """The quartiles of the per-round ratios."""
        return round_ratio_spread(*self._pair(measure))

    def _pair(self, measure: str) -> tuple[list[float], list[float]]:
        assert self.reference is not None
        mine: list[float] = getattr(self, f"{measure}_us")
        theirs: list[float] = getattr(self.reference, f"{measure}_us")
        return mine, theirs


@dataclass
class Target:
    """One of issue 8's targets and how it fared."""

    name: str
    measured: float | None
    limit: float
    unit: str  # "x" (a ratio to Mangum) or "MiB" (over Mangum)
    detail: str = ""
    cpu: float | None = None  # the same ratio in CPU time, where there is one

    @property
    def disturbed(self) -> bool:
        """Wall and CPU ratios disagree by over 10%: the machine was busy, or threads waited."""
        if self.measured is None or self.cpu is None:
            return False
        return abs(self.measured - self.cpu) > 0.1 * self.cpu

    @property
    def verdict(self) -> str:
        if self.measured is None:
            return "not run"
        return "PASS" if self.measured <= self.limit else "MISS"
