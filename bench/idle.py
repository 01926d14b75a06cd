"""The local runtime at rest: CPU of `python -m infra.local` while nothing happens (after the demo
data's stream records are worked off). Floor: 0 %
(nothing to do); what remains is the timers (scheduler 1 s, alarms 5 s), a queue look per second
(a message made visible again wakes nothing) and a stream look per shard every 5 s. Before the
pump waited on moto (issue 16) it polled its sources every 0.2 s: about 25-38 % of one core."""
from __future__ import annotations

import os
import time

from bench.harness import table

SETTLE_SECONDS, IDLE_SECONDS = 15.0, 30.0


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run() -> None:
    from infra.local.process import RuntimeProcess

    runtime = RuntimeProcess(env={"OMNISHOP_LOCAL_STATE_DIR": "off"}).start()
    try:
        time.sleep(SETTLE_SECONDS)
        assert runtime.process is not None
        pid = runtime.process.pid
        cpu, wall = _cpu_seconds(pid), time.monotonic()
        time.sleep(IDLE_SECONDS)
        share = (_cpu_seconds(pid) - cpu) / (time.monotonic() - wall)
    finally:
        runtime.close()
    table(f"Local runtime at rest ({IDLE_SECONDS:.0f} s after {SETTLE_SECONDS:.0f} s to settle). Floor: 0 % "
          "(nothing to do)", ("what", "figure", "floor"),
          [("CPU of the runtime process, % of one core", f"{share * 100:.1f}", "0")])


if __name__ == "__main__":
    run()
