"""Helpers of the SPARQL tests: a server subprocess that is ready when /sparql answers,
the process tree of a server (to find its query workers), and the synthetic corpus dist."""

from __future__ import annotations

from pathlib import Path

from support import ServerProcess


class SparqlServer(ServerProcess):
    """ServerProcess whose readiness probe is the service description.

    The home page computes dataset statistics on first use, which takes seconds on a large
    corpus; /sparql answers at once.
    """

    probe = "/sparql"
    probe_headers = {"Accept": "text/turtle"}  # noqa: RUF012 - read-only class default


def children(pid: int) -> list[int]:
    """Direct children of a process (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after it.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    result = []
    for child in children(pid):
        result += [child, *descendants(child)]
    return result


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def query_workers(server: ServerProcess) -> list[int]:
    return sorted(
        p
        for p in descendants(server.process.pid)
        if "publisher.store.query_worker" in command_line(p)
    )


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (0 when it is gone)."""
    try:
        status = (Path("/proc") / str(pid) / "status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
