"""``python -m bench``: run the suite, print the tables, optionally write them as Markdown.

    python -m bench                      # the whole suite (about 2 minutes on 2 cores)
    python -m bench --quick              # fewer rounds and runs (under a minute)
    python -m bench --only ours-sync     # one stack (with bare Mangum, its reference)
    python -m bench --only starlette --only http-api --only inprocess
    python -m bench --markdown docs/performance.md --json results.json

``--only`` takes stack names, app names (starlette, raw), event sources (http-api, rest,
alb) and sections (inprocess, coldstart, importtime, profile), repeated or comma-separated;
each kind named narrows that kind only. ``--markdown FILE`` writes the tables as Markdown;
into a file that has ``<!-- bench:begin -->`` and ``<!-- bench:end -->`` lines, only
between them (docs/performance.md has them). See docs/performance.md for the method.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.apps import APPS
from bench.coldstart import (
    COLD_STACKS_WITH_PYTHON,
    ROOT,
    import_times,
    measure_cold_starts,
    process_import_times,
)
from bench.environment import lambda_environ
from bench.events import SOURCES
from bench.machine import load_average, machine_facts, machine_markdown
from bench.report import TARGET_APP, TARGET_SOURCE, Report
from bench.stacks import GROUPS, STACKS

SECTIONS = ("inprocess", "coldstart", "importtime", "profile")


@dataclass(frozen=True)
class Settings:
    """How much to measure."""

    rounds: int = 60
    calls: int = 60
    warmup: int = 100
    cold_runs: int = 15
    import_runs: int = 7
    profile_calls: int = 3000


QUICK = Settings(rounds=20, calls=30, warmup=50, cold_runs=5, import_runs=3, profile_calls=1000)


@dataclass(frozen=True)
class Plan:
    """What to run: the sections, stacks, apps and sources chosen with ``--only``."""

    sections: tuple[str, ...]
    stacks: tuple[str, ...]
    apps: tuple[str, ...]
    sources: tuple[str, ...]

    @classmethod
    def from_only(cls, only: Sequence[str]) -> Plan:
        names = [n.strip() for item in only for n in item.split(",") if n.strip()]
        known = (*SECTIONS, *STACKS, *APPS, *SOURCES)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise SystemExit(
                f"Expected --only names among {', '.join(known)}, but got {', '.join(unknown)}."
            )

        def chosen(kind: Sequence[str], default: Sequence[str]) -> tuple[str, ...]:
            picked = [n for n in kind if n in names]
            return tuple(picked) if picked else tuple(default)

        narrowed = any(n not in SECTIONS for n in names)
        sections = chosen(SECTIONS, ("inprocess", "coldstart") if narrowed else SECTIONS)
        return cls(
            sections,
            chosen(tuple(STACKS), tuple(STACKS)),
            chosen(APPS, APPS),
            chosen(SOURCES, SOURCES),
        )

    def groups(self) -> list[tuple[str, tuple[str, ...]]]:
        """Each process to start and its stacks (bare Mangum always, as the reference)."""
        plan = []
        for group, members in GROUPS.items():
            stacks = tuple(s for s in members if s in self.stacks or s == "mangum")
            if any(s != "mangum" for s in stacks) or (
                group == "core" and self.stacks == ("mangum",)
            ):
                plan.append((group, stacks))
        return plan

    def cold_stacks(self) -> tuple[str, ...]:
        return tuple(
            s for s in COLD_STACKS_WITH_PYTHON if s in self.stacks or s in ("python", "mangum")
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds and runs: under a minute, noisier"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="a stack, app, event source or section to run (repeatable, or NAME,NAME)",
    )
    parser.add_argument(
        "--markdown", metavar="FILE", help="write the tables as Markdown ('-': stdout)"
    )
    parser.add_argument("--json", metavar="FILE", help="write every measurement as JSON")
    parser.add_argument("--rounds", type=int, help="in-process rounds per app and event")
    parser.add_argument("--calls", type=int, help="invocations per stack per round")
    parser.add_argument("--cold-runs", type=int, help="cold starts per stack")
    args = parser.parse_args(argv)

    settings = QUICK if args.quick else Settings()
    overrides = {"rounds": args.rounds, "calls": args.calls, "cold_runs": args.cold_runs}
    settings = dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v})
    plan = Plan.from_only(args.only)
    facts = machine_facts()
    if os.getloadavg()[0] > 0.5:
        _progress(
            f"note: load average {facts['load']} before the run: other processes are "
            "running, and the measurements will be noisier for it."
        )
    started = time.monotonic()
    report = run(plan, settings)
    elapsed = time.monotonic() - started
    facts["load"] += f" before, {load_average()} after"

    command = "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv)
    print(report.text())
    print(f"\n{command.strip()}: {elapsed:.0f} s", file=sys.stderr)
    if args.markdown:
        text = machine_markdown(facts, command.strip(), settings, elapsed)
        text += "\n" + report.markdown()
        if args.markdown == "-":
            print("\n" + text)
        else:
            write_markdown(args.markdown, text)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(raw_results(facts, report, settings), out, indent=1, default=str)


BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def write_markdown(path: str, text: str) -> None:
    """Write ``text`` to ``path``; into an existing file, only between its bench markers.

    That is how docs/performance.md embeds a run: the prose around the markers stays.
    """
    try:
        with open(path) as file:
            current = file.read()
    except FileNotFoundError:
        current = ""
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = f"{head}{BEGIN}\n\n{text}\n{END}{tail}"
    with open(path, "w") as out:
        out.write(text)


def run(plan: Plan, settings: Settings) -> Report:
    report = Report(
        cold_app=_pick(plan.apps, TARGET_APP), cold_source=_pick(plan.sources, TARGET_SOURCE)
    )
    environ = lambda_environ()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        if "inprocess" in plan.sections:
            for group, stacks in plan.groups():
                _progress(f"in-process, {group} process: {', '.join(stacks)}")
                out = os.path.join(tmp, f"{group}.json")
                _python(
                    ["-m", "bench.runner", "--group", group, "--stacks", *stacks],
                    ["--apps", *plan.apps, "--sources", *plan.sources],
                    ["--rounds", str(settings.rounds), "--calls", str(settings.calls)],
                    ["--warmup", str(settings.warmup), "--out", out],
                    environ=environ,
                )
                with open(out) as file:
                    report.add_cells(json.load(file)["cells"])
        if "coldstart" in plan.sections:
            _progress(f"cold start: {', '.join(plan.cold_stacks())}")
            # One round first, unrecorded: it writes missing bytecode and fills the page cache.
            measure_cold_starts(plan.cold_stacks(), report.cold_app, report.cold_source, 1)
            report.cold = measure_cold_starts(
                plan.cold_stacks(),
                report.cold_app,
                report.cold_source,
                settings.cold_runs,
                _progress,
            )
        if "importtime" in plan.sections:
            _progress("python -X importtime -c 'import traced_asgi_lambda'")
            report.imports = import_times("traced_asgi_lambda", settings.import_runs)
            for stack in ("mangum", "mangum+otel", "ours-sync"):
                _progress(f"python -X importtime, the {stack} cold-start process")
                report.process_imports[stack] = process_import_times(
                    stack, report.cold_app, report.cold_source, settings.import_runs
                )
        if "profile" in plan.sections:
            _progress("profile of ours-sync (pyinstrument)")
            out = os.path.join(tmp, "profile.json")
            try:
                import pyinstrument  # noqa: F401
            except ImportError:
                _progress("  skipped: pip install pyinstrument to profile")
            else:
                _python(
                    ["-m", "bench.profile", "--calls", str(settings.profile_calls), "--out", out],
                    environ=environ,
                )
                with open(out) as file:
                    report.profile = json.load(file)
    return report


def _python(*parts: list[str], environ: dict[str, str]) -> None:
    argv = [sys.executable, *(arg for part in parts for arg in part)]
    done = subprocess.run(argv, env=environ, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        raise SystemExit(
            f"Expected {' '.join(argv[1:4])} to succeed, but it exited {done.returncode}."
        )


def _pick(chosen: Sequence[str], preferred: str) -> str:
    return preferred if preferred in chosen else chosen[0]


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def raw_results(facts: dict[str, str], report: Report, settings: Settings) -> dict[str, object]:
    return {
        "machine": facts,
        "settings": dataclasses.asdict(settings),
        "inprocess": [
            {f.name: getattr(row, f.name) for f in dataclasses.fields(row) if f.name != "reference"}
            for row in report.rows
        ],
        "coldstart": [dataclasses.asdict(c) for c in report.cold],
        "importtime": [dataclasses.asdict(e) for e in report.imports],
        "process_importtime": {
            stack: [dataclasses.asdict(e) for e in entries]
            for stack, entries in report.process_imports.items()
        },
        "profile": report.profile,
        "targets": [dataclasses.asdict(t) | {"verdict": t.verdict} for t in report.targets()],
    }


if __name__ == "__main__":
    main()
