"""X-Ray trace headers: parsing, formatting, span contexts, and X-Ray-compatible ids."""

from __future__ import annotations

import copy
import gc
import importlib
import os
import random
import subprocess
import sys
import time
import weakref
from types import ModuleType

import pytest
from opentelemetry.trace import TraceFlags

from traced_asgi_lambda.telemetry.xray import (
    XRayHeader,
    XRayIdGenerator,
    format_xray_header,
    format_xray_trace_id,
    parse_xray_header,
    xray_span_context,
)

ROOT = "1-5759e988-bd862e3fe1be46a994272793"
TRACE_ID = 0x5759E988BD862E3FE1BE46A994272793
PARENT = "53995c3f42cd8ad8"
PARENT_ID = 0x53995C3F42CD8AD8


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            f"Root={ROOT};Parent={PARENT};Sampled=1",
            XRayHeader(TRACE_ID, PARENT_ID, True),
            id="full-sampled",
        ),
        pytest.param(
            f"Root={ROOT};Parent={PARENT};Sampled=0",
            XRayHeader(TRACE_ID, PARENT_ID, False),
            id="not-sampled",
        ),
        pytest.param(
            f"Root={ROOT};Parent={PARENT};Sampled=?",
            XRayHeader(TRACE_ID, PARENT_ID, None),
            id="sampling-requested",
        ),
        pytest.param(
            f"Sampled=1;Parent={PARENT};Root={ROOT}",
            XRayHeader(TRACE_ID, PARENT_ID, True),
            id="any-order",
        ),
        pytest.param(
            f"Self=1-67891234-12456789abcdef012345678a;Root={ROOT}",
            XRayHeader(TRACE_ID),
            id="alb-self-first",
        ),
        pytest.param(
            f"Self=1-67891234-12456789abcdef012345678a;Root={ROOT};Parent={PARENT};Sampled=1",
            XRayHeader(TRACE_ID, PARENT_ID, True),
            id="alb-self-first-with-parent",
        ),
        pytest.param(
            f"Root={ROOT};Parent={PARENT};Sampled=0;Lineage=a87bd80c:0",
            XRayHeader(TRACE_ID, PARENT_ID, False, "a87bd80c:0"),
            id="lineage",
        ),
        pytest.param(
            f"Root={ROOT};Lineage=10:1234abcd:3;Parent={PARENT};Sampled=1",
            XRayHeader(TRACE_ID, PARENT_ID, True, "10:1234abcd:3"),
            id="lineage-in-the-middle",
        ),
        pytest.param(f"Root={ROOT}", XRayHeader(TRACE_ID), id="root-only"),
        pytest.param(
            f" Root = {ROOT} ; Parent= {PARENT} ;Sampled=1 ",
            XRayHeader(TRACE_ID, PARENT_ID, True),
            id="spaces",
        ),
        pytest.param(
            f"Root={ROOT};Parent={PARENT};Sampled=1;",
            XRayHeader(TRACE_ID, PARENT_ID, True),
            id="trailing-semicolon",
        ),
        pytest.param(
            f"Root={ROOT};Foo=bar;Parent={PARENT};Sampled=1;CalledFrom=api",
            XRayHeader(TRACE_ID, PARENT_ID, True),
            id="unknown-keys-ignored",
        ),
        pytest.param(
            f"Root={ROOT.upper()};Parent={PARENT.upper()}",
            XRayHeader(TRACE_ID, PARENT_ID),
            id="upper-case-hex",
        ),
        pytest.param(
            f"Root={ROOT};Parent={PARENT};Sampled=1;Lineage=",
            XRayHeader(TRACE_ID, PARENT_ID, True),
            id="empty-lineage",
        ),
    ],
)
def test_parses_valid_headers(value: str, expected: XRayHeader) -> None:
    """Valid headers parse in any field order, with unknown keys and whitespace ignored."""
    assert parse_xray_header(value) == expected


def test_trace_id_is_epoch_and_random_parts_concatenated() -> None:
    """The 128-bit trace id is the Root's 8 epoch and 24 random hex digits read as one."""
    header = parse_xray_header(f"Root={ROOT}")
    assert header is not None
    assert header.trace_id == int("5759e988" + "bd862e3fe1be46a994272793", 16)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param(";;", id="only-separators"),
        pytest.param("garbage", id="no-equals"),
        pytest.param(f"Root={ROOT};Sampled", id="piece-without-equals"),
        pytest.param(f"Parent={PARENT};Sampled=1", id="no-root"),
        pytest.param("Root=", id="empty-root"),
        pytest.param("Root=1-5759e988-bd862e3fe1be46a99427279", id="root-random-too-short"),
        pytest.param("Root=1-5759e988-bd862e3fe1be46a9942727930", id="root-random-too-long"),
        pytest.param("Root=1-5759e98-bd862e3fe1be46a994272793", id="root-epoch-too-short"),
        pytest.param("Root=2-5759e988-bd862e3fe1be46a994272793", id="root-version-2"),
        pytest.param("Root=1-5759e988bd862e3fe1be46a994272793", id="root-missing-dash"),
        pytest.param("Root=1-5759e98g-bd862e3fe1be46a994272793", id="root-not-hex"),
        pytest.param("Root=1-5759e988-bd862e3f_1be46a994272793", id="root-underscore"),
        pytest.param("Root=1-00000000-000000000000000000000000", id="root-all-zero"),
        pytest.param(f"Root={ROOT};Parent=53995c3f42cd8ad", id="parent-too-short"),
        pytest.param(f"Root={ROOT};Parent=53995c3f42cd8ad8a", id="parent-too-long"),
        pytest.param(f"Root={ROOT};Parent=53995c3f42cd8adz", id="parent-not-hex"),
        pytest.param(f"Root={ROOT};Parent=+3995c3f42cd8ad8", id="parent-sign"),
        pytest.param(f"Root={ROOT};Parent=0000000000000000", id="parent-zero"),
        pytest.param(f"Root={ROOT};Parent=", id="parent-empty"),
        pytest.param(f"Root={ROOT};Parent={PARENT};Sampled=2", id="sampled-2"),
        pytest.param(f"Root={ROOT};Parent={PARENT};Sampled=yes", id="sampled-word"),
        pytest.param(f"Root={ROOT};Parent={PARENT};Sampled=", id="sampled-empty"),
        pytest.param(f"Root={ROOT};Root=1-5759e988-00000000000000000000000a", id="root-twice"),
        pytest.param(f"Root={ROOT};Parent={PARENT};Parent={PARENT}", id="parent-twice"),
    ],
)
def test_rejects_malformed_headers(value: str | None) -> None:
    """A missing, empty or malformed header, or a repeated field, gives None, not an error."""
    assert parse_xray_header(value) is None


@pytest.mark.parametrize(
    ("header", "wire"),
    [
        pytest.param(
            XRayHeader(TRACE_ID, PARENT_ID, True),
            f"Root={ROOT};Parent={PARENT};Sampled=1",
            id="sampled",
        ),
        pytest.param(
            XRayHeader(TRACE_ID, PARENT_ID, False, "a87bd80c:0"),
            f"Root={ROOT};Parent={PARENT};Sampled=0;Lineage=a87bd80c:0",
            id="lineage",
        ),
        pytest.param(
            XRayHeader(TRACE_ID, PARENT_ID), f"Root={ROOT};Parent={PARENT}", id="undecided"
        ),
        pytest.param(XRayHeader(TRACE_ID), f"Root={ROOT}", id="root-only"),
        pytest.param(
            XRayHeader(1, 1, True),
            "Root=1-00000000-000000000000000000000001;Parent=0000000000000001;Sampled=1",
            id="zero-padded",
        ),
    ],
)
def test_formats_and_parses_back(header: XRayHeader, wire: str) -> None:
    """Formatting writes AWS's field order with zero-padded hex, and parses back unchanged."""
    assert format_xray_header(header) == wire
    assert parse_xray_header(wire) == header


def test_formats_trace_id_as_root() -> None:
    """A 128-bit trace id is written in X-Ray's ``1-<epoch>-<random>`` Root form."""
    assert format_xray_trace_id(TRACE_ID) == ROOT


@pytest.mark.parametrize(
    ("sampled", "flags"),
    [
        pytest.param(True, TraceFlags.SAMPLED, id="sampled"),
        pytest.param(False, TraceFlags.DEFAULT, id="not-sampled"),
        pytest.param(None, TraceFlags.DEFAULT, id="undecided"),
    ],
)
def test_span_context_from_header(sampled: bool | None, flags: int) -> None:
    """A header with a parent becomes a valid remote span context with its sampled flag."""
    span_context = xray_span_context(XRayHeader(TRACE_ID, PARENT_ID, sampled))
    assert span_context is not None
    assert span_context.is_valid
    assert span_context.is_remote
    assert span_context.trace_id == TRACE_ID
    assert span_context.span_id == PARENT_ID
    assert span_context.trace_flags == flags


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="no-header"),
        pytest.param(XRayHeader(TRACE_ID, None, True), id="no-parent"),
    ],
)
def test_no_span_context_without_parent(header: XRayHeader | None) -> None:
    """A header without a Parent names no span, so it gives no span context."""
    assert xray_span_context(header) is None


def test_trace_ids_start_with_the_current_time() -> None:
    """The first 32 bits of a trace id are Unix seconds, within 2 s of now."""
    generator = XRayIdGenerator()
    before = time.time()
    trace_ids = [generator.generate_trace_id() for _ in range(1000)]
    after = time.time()
    for trace_id in trace_ids:
        assert before - 2 <= trace_id >> 96 <= after + 2
        assert trace_id.bit_length() <= 128


def test_trace_ids_use_the_clock_given() -> None:
    """The time prefix comes from the clock, wrapping to 32 bits past the year 2106."""
    assert XRayIdGenerator(clock=lambda: 0x5759E988).generate_trace_id() >> 96 == 0x5759E988
    assert XRayIdGenerator(clock=lambda: 2.0**32 + 5.7).generate_trace_id() >> 96 == 5


def test_trace_ids_have_96_random_bits() -> None:
    """Every one of the low 96 bits takes both values across a thousand trace ids."""
    generator = XRayIdGenerator()
    low = [generator.generate_trace_id() & ((1 << 96) - 1) for _ in range(1000)]
    ones = zeros = 0
    for value in low:
        ones |= value
        zeros |= ~value & ((1 << 96) - 1)
    assert ones == zeros == (1 << 96) - 1
    assert generator.is_trace_id_random()


def test_span_ids_are_64_bit_and_never_zero() -> None:
    """Span ids are nonzero, fit in 64 bits and use the high bit too."""
    generator = XRayIdGenerator()
    span_ids = [generator.generate_span_id() for _ in range(1000)]
    assert all(0 < span_id < 1 << 64 for span_id in span_ids)
    assert any(span_id >> 63 for span_id in span_ids)


def test_no_repeats_in_100k_ids() -> None:
    """100,000 trace ids and 100,000 span ids from one generator are all distinct."""
    generator = XRayIdGenerator()
    assert len({generator.generate_trace_id() for _ in range(100_000)}) == 100_000
    assert len({generator.generate_span_id() for _ in range(100_000)}) == 100_000


def test_seeding_the_random_module_does_not_repeat_ids() -> None:
    """Seeding the global ``random`` module leaves the generator's ids unaffected."""
    state = random.getstate()
    try:
        random.seed(42)
        first = XRayIdGenerator().generate_span_id()
        random.seed(42)
        second = XRayIdGenerator().generate_span_id()
    finally:
        random.setstate(state)
    assert first != second


def test_copies_of_one_state_diverge_after_reseed() -> None:
    """Two generators copied from one state repeat each other's ids until both reseed."""
    original = XRayIdGenerator()
    first, second = copy.deepcopy(original), copy.deepcopy(original)
    assert [first.generate_span_id() for _ in range(4)] == [
        second.generate_span_id() for _ in range(4)
    ]
    first.reseed()
    second.reseed()
    first_ids = {first.generate_span_id() for _ in range(1000)}
    first_ids |= {first.generate_trace_id() for _ in range(1000)}
    second_ids = {second.generate_span_id() for _ in range(1000)}
    second_ids |= {second.generate_trace_id() for _ in range(1000)}
    assert first_ids.isdisjoint(second_ids)


@pytest.fixture
def snapshot_hooks() -> ModuleType:
    return importlib.import_module("snapshot_restore_py")


def run_after_restore(hooks: ModuleType) -> None:
    """Call the hooks as the Lambda runtime does (awslambdaric.lambda_runtime_hooks_runner)."""
    for func, args, kwargs in hooks.get_after_restore():
        func(*args, **kwargs)


def test_after_restore_hook_is_registered_at_construction(snapshot_hooks: ModuleType) -> None:
    """Constructing a generator registers exactly one after-restore hook."""
    before = len(snapshot_hooks.get_after_restore())
    generator = XRayIdGenerator()
    assert len(snapshot_hooks.get_after_restore()) == before + 1
    del generator


def test_import_registers_no_hook() -> None:
    """Importing the module registers nothing; only construction does."""
    script = (
        "import snapshot_restore_py as hooks\n"
        "import traced_asgi_lambda.telemetry.xray as xray\n"
        "print(len(hooks.get_after_restore()))\n"
        "xray.XRayIdGenerator()\n"
        "print(len(hooks.get_after_restore()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["0", "1"]


def test_restore_hook_reseeds(snapshot_hooks: ModuleType) -> None:
    """After the runtime runs the restore hooks, ids differ from a clone of the snapshot."""
    generator = XRayIdGenerator()
    snapshot = copy.deepcopy(generator)  # what every restored environment would start from
    run_after_restore(snapshot_hooks)
    restored = [generator.generate_span_id() for _ in range(1000)]
    restored += [generator.generate_trace_id() for _ in range(1000)]
    from_snapshot = [snapshot.generate_span_id() for _ in range(1000)]
    from_snapshot += [snapshot.generate_trace_id() for _ in range(1000)]
    assert set(restored).isdisjoint(from_snapshot)


def test_restore_hook_does_not_keep_the_generator_alive(snapshot_hooks: ModuleType) -> None:
    """A discarded generator is collected, and its hook then does nothing."""
    generator = XRayIdGenerator()
    alive = weakref.ref(generator)
    del generator
    gc.collect()
    assert alive() is None
    run_after_restore(snapshot_hooks)


# Run in a fresh interpreter: forking pytest itself is unsafe once any test has started a
# thread, and Python 3.12+ warns about it (an error here under filterwarnings=error).
FORK_SCRIPT = """
import os
from traced_asgi_lambda.telemetry.xray import XRayIdGenerator

generator = XRayIdGenerator()
read_end, write_end = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(read_end)
    os.write(write_end, ",".join(str(generator.generate_span_id()) for _ in range(100)).encode())
    os._exit(0)
os.close(write_end)
with os.fdopen(read_end) as pipe:
    child = pipe.read()
os.waitpid(pid, 0)
print(child)
print(",".join(str(generator.generate_span_id()) for _ in range(100)))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_draws_different_ids() -> None:
    """A forked child reseeds, so parent and child do not draw the same ids."""
    result = subprocess.run(
        [sys.executable, "-c", FORK_SCRIPT], capture_output=True, text=True, check=True
    )
    child, parent = ({int(i) for i in line.split(",")} for line in result.stdout.split())
    assert len(child) == len(parent) == 100
    assert child.isdisjoint(parent)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            id="lambda-env",
        ),
        pytest.param(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;"
            "Lineage=a87bd80c:0",
            id="with-lineage",
        ),
        pytest.param(
            "Root=1-5759E988-BD862E3FE1BE46A994272793;Parent=53995C3F42CD8AD8;Sampled=?",
            id="upper-case-undecided",
        ),
        pytest.param(
            "Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8;Sampled=1",
            id="zero-trace-id",
        ),
        pytest.param(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000;Sampled=1",
            id="zero-parent",
        ),
        pytest.param(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=",
            id="empty-lineage",
        ),
        pytest.param(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;",
            id="trailing-separator",
        ),
        pytest.param(
            "Root=1-5759e988-bd862e3fe1be46a994272793; Parent=53995c3f42cd8ad8;Sampled=1",
            id="space",
        ),
        pytest.param(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=2",
            id="bad-sampled",
        ),
    ],
)
def test_the_one_match_reading_agrees_with_the_general_one(header: str) -> None:
    """Lambda's own header form is read by one regular expression; same result either way."""
    from traced_asgi_lambda.telemetry.xray import _parse_fields

    assert parse_xray_header(header) == _parse_fields(header)
