"""The process a cold-start measurement times (``bench.coldstart`` spawns it).

It imports nothing but ``sys`` and ``json`` before the stack's own imports, so the
stacks differ only by what they import and do themselves.
"""

from __future__ import annotations

import json
import sys

__all__ = ["main"]


def main() -> None:
    """Build the stack named in argv around the app, answer the event file, exit."""
    stack_name, app_name, event_file = sys.argv[1:]
    if stack_name == "python":
        return  # the interpreter alone, for scale
    with open(event_file, "rb") as file:
        event = json.load(file)
    from bench.environment import BenchContext
    from bench.stacks import GROUPS, build_stack, setup_process

    group = next(g for g, names in GROUPS.items() if stack_name in names)
    stack = build_stack(stack_name, app_name, setup_process(group, sys.stdout, cold=True))
    response = stack.handler(event, BenchContext())
    if stack.after is not None:
        stack.after()
    if response.get("statusCode") != 200:
        raise SystemExit(f"Expected a 200 from {stack_name!r}, but got {response!r}.")
