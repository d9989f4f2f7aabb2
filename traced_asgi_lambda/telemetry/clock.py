"""How long this process has been alive: the init phase, seen from the first invocation.

Lambda starts the runtime process at the beginning of the init phase ("Lambda execution
environment lifecycle"), so on a cold start the process's age when the first invocation
begins is the init duration that ``faas.init_duration`` reports. Linux records when each
process started in ``/proc/self/stat`` (field 22, in clock ticks since boot, proc(5)).
"""

from __future__ import annotations

import os

__all__ = ["process_age_ms"]


def process_age_ms() -> float | None:
    """Milliseconds since this process started, or None where /proc cannot tell.

    Precision is one clock tick (10 ms on Lambda); it is read once per cold start.
    """
    try:
        with open("/proc/self/stat", "rb") as stat:
            # The command name (field 2) may hold spaces; the fields after it do not.
            fields = stat.read().rsplit(b")", 1)[1].split()
        with open("/proc/uptime", "rb") as uptime:
            uptime_s = float(uptime.read().split()[0])
        started_s = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 overall
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, (uptime_s - started_s) * 1000)
