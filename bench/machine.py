"""The machine a benchmark ran on, in one line: every bench script prints it first.

Figures from different machines (or one busy with other work) are not comparable, so the line
says the platform, CPU model, cores, memory, Python and the load average when the run started.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def _proc_field(path: str, name: str) -> str | None:
    """The value of `name:` in a /proc file, or None where there is no such file."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def describe() -> str:
    memory_kb = _proc_field("/proc/meminfo", "MemTotal")
    memory = f"{int(memory_kb.split()[0]) / 1024 / 1024:.1f} GB RAM" if memory_kb else "RAM ?"
    cpu = _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "CPU ?"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"{platform.platform()}, {cpu}, {os.cpu_count()} cores, {memory}, "
        f"Python {platform.python_version()}, load average {load} at start"
    )
