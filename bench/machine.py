"""The machine, interpreter and package versions a run was measured with."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata
from typing import TYPE_CHECKING

from bench.coldstart import ROOT

if TYPE_CHECKING:
    from bench.__main__ import Settings

__all__ = ["PACKAGES", "load_average", "machine_facts", "machine_markdown"]

PACKAGES = (
    "traced-asgi-lambda",
    "mangum",
    "starlette",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-common",
    "opentelemetry-instrumentation-aws-lambda",
    "opentelemetry-instrumentation-asgi",
    "aws-lambda-powertools",
    "structlog",
    "protobuf",
    "pyinstrument",
)


def machine_facts() -> dict[str, str]:
    """The machine, interpreter and package versions a run was measured with."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as file:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in file if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    facts = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": str(len(os.sched_getaffinity(0))),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
        "commit": _git_commit(),
        "load": load_average(),
    }
    for package in PACKAGES:
        try:
            facts[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            facts[package] = "not installed"
    return facts


def load_average() -> str:
    return " / ".join(f"{load:.2f}" for load in os.getloadavg())


def _git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' with uncommitted changes' if dirty else ''}"


def machine_markdown(
    facts: dict[str, str], command: str, settings: Settings, elapsed: float
) -> str:
    lines = [
        f"Measured {facts['date']} with `{command}` ({elapsed:.0f} s), "
        f"at commit {facts['commit']}.",
        "",
        f"- Machine: {facts['cpu']}, {facts['nproc']} CPUs, {facts['os']}; {facts['python']}; "
        f"load average {facts['load']}.",
        "- Packages: " + ", ".join(f"{p} {facts[p]}" for p in PACKAGES) + ".",
        f"- In-process: {settings.rounds} rounds of {settings.calls} calls per stack, after "
        f"{settings.warmup} warm-up calls. Cold start: {settings.cold_runs} runs per stack.",
    ]
    return "\n".join(lines) + "\n"
