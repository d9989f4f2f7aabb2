"""Fuzz the event parser: JSON bytes -> ``select`` -> ``to_request``, for a bounded time.

    python -m tests.fuzz.events [--seconds 60] [--corpus DIR] [--findings DIR] [--hypothesis]

The only exceptions allowed out of the parser are ``UnsupportedEventError`` (no source
claims the event) and ``MalformedEventError`` (a source claims it, a field is wrong). Any
other exception is a finding: the first input per distinct failure (exception type and
the innermost frame in ``traced_asgi_lambda``) is written to ``--findings`` and printed,
and the search goes on, so one run reports every distinct bug it reaches. The exit status
is 1 when there were findings, else 0. ``--strict-scope`` also checks every scope the
parser returns with the property tests' ASGI validator and reports what it refuses.

With atheris installed (``pip install 'traced-asgi-lambda[fuzz]'``) the search is
coverage-guided libFuzzer over the package's instrumented bytecode, seeded with the
fixtures in tests/events and ``local.build_event`` output for every source, with a
dictionary of the keys the sources read. Without it, a bounded hypothesis search over
the property tests' valid, mutated and event-like strategies runs instead, and says so.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "events"
DEFAULT_HOME = Path(tempfile.gettempdir()) / "traced-asgi-lambda-fuzz"
DEFAULT_SECONDS = 60.0
MAX_LEN = 8192  # bytes per input: an event larger than this adds no new paths

# The keys and values the sources and the unsupported-event hints look at (libFuzzer's
# dictionary: mutations splice these in, which random bytes would almost never spell).
TOKENS = [
    *(
        f'"{key}"'
        for key in (
            "version",
            "routeKey",
            "resource",
            "requestContext",
            "elb",
            "http",
            "method",
            "httpMethod",
            "path",
            "rawPath",
            "raw_path",
            "rawQueryString",
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "query_string_parameters",
            "headers",
            "multiValueHeaders",
            "cookies",
            "body",
            "isBase64Encoded",
            "is_base64_encoded",
            "Records",
            "cf",
            "request",
            "response",
            "uri",
            "querystring",
            "clientIp",
            "data",
            "encoding",
            "domainName",
            "stage",
            "sourceIp",
            "identity",
            "protocol",
            "eventSource",
            "connectionId",
            "detail-type",
            "awslogs",
            "host",
            "x-forwarded-proto",
            "x-forwarded-port",
            "x-forwarded-for",
            "cloudfront-forwarded-proto",
            "key",
            "value",
        )
    ),
    '"2.0"',
    '"1.0"',
    '"base64"',
    '".lambda-url."',
    '"$default"',
    '"aws:sqs"',
    '"HTTP/2"',
    "true",
    "null",
    "0",
    '""',
    "[]",
    "{}",
    "[0]",
    '{"":0}',
    '"%"',
    '"?"',
    '"[::1]:"',
]


class InvalidScope(Exception):
    """A scope the strict validator refuses (only with --strict-scope)."""


class Target:
    """The fuzzed function, and what the run has seen so far."""

    def __init__(self, findings_dir: Path, deadline: float, strict_scope: bool = False) -> None:
        # Imported here, after atheris has hooked imports, so the package is instrumented.
        from traced_asgi_lambda import MalformedEventError, UnsupportedEventError
        from traced_asgi_lambda.events import BUILTIN_TRANSLATORS, TranslatorConfig, select
        from traced_asgi_lambda.local import LocalContext

        self.check_scope: Any = None
        if strict_scope:  # the property tests' ASGI scope validator, applied to every scope
            from tests.test_reliability_properties import scope_problems

            self.check_scope = scope_problems
        self.allowed = (MalformedEventError, UnsupportedEventError)
        self.malformed_type = MalformedEventError
        self.select = select
        self.translators = BUILTIN_TRANSLATORS
        self.config = TranslatorConfig()
        self.context = LocalContext("fuzz")
        self.findings_dir = findings_dir
        self.deadline = deadline
        self.findings: dict[str, tuple[str, Path]] = {}
        self.counts = {"inputs": 0, "json": 0, "scope": 0, "malformed": 0, "unsupported": 0}
        self.started = time.monotonic()

    def __call__(self, data: bytes) -> None:
        counts = self.counts
        counts["inputs"] += 1
        try:
            event = json.loads(data)
        except (ValueError, RecursionError):  # not JSON: the Lambda runtime refuses it first
            return
        counts["json"] += 1
        try:
            translator = self.select(event, self.translators)
            request = translator.to_request(event, self.context, self.config)
        except self.allowed as exc:
            counts["malformed" if isinstance(exc, self.malformed_type) else "unsupported"] += 1
            return
        except Exception as exc:
            self.record(data, exc)
            return
        counts["scope"] += 1
        if self.check_scope is not None:
            for problem in self.check_scope(request.scope, event, self.context):
                self.record(data, InvalidScope(f"{translator.name}: {problem}"))

    def record(self, data: bytes, exc: Exception) -> None:
        """Keep the first input of each distinct failure, and say so at once."""
        if isinstance(exc, InvalidScope):  # one finding per translator and rule
            source, rule = str(exc).split(":")[:2]
            signature = f"InvalidScope {source}: {rule.strip()}"
        else:
            frames = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in frames if "traced_asgi_lambda" in f.filename] or frames
            where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno} in {ours[-1].name}"
            signature = f"{type(exc).__name__} at {where}"
        if signature in self.findings:
            return
        digest = hashlib.sha256(data).hexdigest()[:16]
        path = self.findings_dir / f"finding-{digest}.json"
        path.write_bytes(data)
        self.findings[signature] = (f"{type(exc).__name__}: {exc}"[:300], path)
        print(f"\nFINDING {signature}\n  {exc!r}\n  input: {path}", file=sys.stderr, flush=True)

    def report(self, engine: str) -> int:
        """Print what the run did and found; the exit status."""
        elapsed = time.monotonic() - self.started
        counts = ", ".join(f"{name} {value}" for name, value in self.counts.items())
        print(f"\n{engine}: {elapsed:.0f}s, {counts}", file=sys.stderr)
        if not self.findings:
            print("no findings: only MalformedEventError and UnsupportedEventError escaped")
            return 0
        print(f"{len(self.findings)} finding(s):")
        for signature, (message, path) in self.findings.items():
            print(f"- {signature}\n    {message}\n    reproduce: {path}")
        return 1

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline


def seed_corpus(corpus: Path) -> int:
    """Fill ``corpus`` with the fixtures and a built event of every source; the count."""
    from traced_asgi_lambda.local import SOURCES, HttpRequest, build_event

    corpus.mkdir(parents=True, exist_ok=True)
    seeds = [p.read_bytes() for p in sorted(FIXTURES.glob("*/*.json"))]
    request = HttpRequest(
        "POST",
        "/caf%C3%A9/x",
        query=[("a", "1"), ("a", "2")],
        headers=[("Cookie", "a=1"), ("X-Multi", "a"), ("X-Multi", "b")],
        body=b"\x00\xff",
        request_id="seed",
    )
    seeds += [json.dumps(build_event(source, request)).encode() for source in SOURCES]
    for seed in seeds:
        (corpus / f"seed-{hashlib.sha256(seed).hexdigest()[:16]}.json").write_bytes(seed)
    return len(seeds)


def run_atheris(atheris: Any, args: argparse.Namespace, deadline: float) -> int:
    with atheris.instrument_imports(include=["traced_asgi_lambda"]):
        target = Target(args.findings, deadline, args.strict_scope)
    print(
        f"atheris {version('atheris')}: seeded {seed_corpus(args.corpus)} inputs", file=sys.stderr
    )
    dictionary = args.findings.parent / "events.dict"
    dictionary.write_text("".join(f"{json.dumps(token)}\n" for token in TOKENS))

    def one_input(data: bytes) -> None:
        if target.expired():
            status = target.report("atheris")
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)  # libFuzzer exits from C, where Python's atexit never runs
        target(data)

    atheris.Setup(
        [
            sys.argv[0],
            f"-max_total_time={int(args.seconds) + 30}",  # a backstop; the deadline comes first
            f"-max_len={MAX_LEN}",
            f"-dict={dictionary}",
            f"-artifact_prefix={args.findings}/",
            "-print_final_stats=0",
            str(args.corpus),
        ],
        one_input,
    )
    atheris.Fuzz()
    return target.report("atheris")  # only if libFuzzer returned on its own


def run_hypothesis(args: argparse.Namespace, deadline: float) -> int:
    """The fallback: a bounded hypothesis search over generated events, in batches."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.test_reliability_properties import SOURCES, event_like, mutated_events

    print(
        "Running a bounded hypothesis search (random, not coverage-guided) instead of "
        "atheris. For the real fuzzer: pip install 'traced-asgi-lambda[fuzz]'",
        file=sys.stderr,
    )
    target = Target(args.findings, deadline, args.strict_scope)
    strategies: list[st.SearchStrategy[Any]] = [mutated_events(s) for s in SOURCES]
    strategies.append(event_like)
    batch = settings(
        max_examples=200,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    while not target.expired():
        for strategy in strategies:

            @batch
            @given(event=strategy)
            def one_input(event: object) -> None:
                target(json.dumps(event).encode())

            one_input()
            if target.expired():
                break
    return target.report("hypothesis")


def version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(distribution)
    except PackageNotFoundError:
        return "(version unknown)"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.events", description=__doc__)
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_HOME / "corpus")
    parser.add_argument("--findings", type=Path, default=DEFAULT_HOME / "findings")
    parser.add_argument(
        "--hypothesis", action="store_true", help="use the fallback even if atheris is installed"
    )
    parser.add_argument(
        "--strict-scope",
        action="store_true",
        help="also report scopes the property tests' ASGI validator refuses",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    args.findings.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + args.seconds
    if args.hypothesis:
        return run_hypothesis(args, deadline)
    try:
        atheris = importlib.import_module("atheris")
    except ImportError as exc:
        print(f"atheris could not be imported: {exc}", file=sys.stderr)
        return run_hypothesis(args, deadline)
    return run_atheris(atheris, args, deadline)


if __name__ == "__main__":
    sys.exit(main())
