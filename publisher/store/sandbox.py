"""Process-level limits a query worker applies to itself before it opens the store.

- Memory: an address-space limit (RLIMIT_AS). pyoxigraph cannot bound a query's memory, and
  ORDER BY over a cartesian product grows by about 0.3-0.9 GB/s; with the limit the allocation
  fails, the worker dies or raises MemoryError, and the pool replaces it.
- No network: a seccomp filter makes the ``socket`` system call fail with EACCES. pyoxigraph
  follows SERVICE with real HTTP and has no switch to stop it; ``publisher.sparql.safety``
  refuses SERVICE/LOAD before evaluation, and this makes any gap in that check harmless.
  The worker talks to its parent over inherited pipes and needs no socket.
- Orphans: a watchdog thread ends the worker when its parent is gone, and when a query runs
  well past the deadline the parent gave (should the parent fail to kill it).
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import threading
import time

# (AUDIT_ARCH_*, __NR_socket) per machine; other machines run without the filter.
_SECCOMP_ARCHES = {
    "x86_64": (0xC000003E, 41),
    "aarch64": (0xC00000B7, 198),
}
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_EACCES = 13
_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_RET_K = 0x06


class _SockFilter(ctypes.Structure):
    _fields_ = (
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint32),
    )


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter)))


def deny_sockets() -> str:
    """Forbid creating sockets in this process for good; returns how (for the logs)."""
    arch = _SECCOMP_ARCHES.get(platform.machine())
    if arch is None or not os.path.exists("/proc/self"):
        return f"unavailable on {platform.system()} {platform.machine()}"
    audit_arch, socket_nr = arch
    program = (_SockFilter * 6)(
        _SockFilter(_BPF_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        _SockFilter(_BPF_JEQ_K, 0, 3, audit_arch),  # another ABI: allow (jump to the end)
        _SockFilter(_BPF_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        _SockFilter(_BPF_JEQ_K, 0, 1, socket_nr),
        _SockFilter(_BPF_RET_K, 0, 0, _SECCOMP_RET_ERRNO | _EACCES),
        _SockFilter(_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW),
    )
    fprog = _SockFprog(len(program), program)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return "unavailable: " + os.strerror(ctypes.get_errno())
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        return "unavailable: " + os.strerror(ctypes.get_errno())
    return "denied"


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space (0 = no cap)."""
    if megabytes > 0:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class Watchdog:
    """Ends the process when the parent dies or a query overruns its deadline by `grace` s."""

    def __init__(self, *, grace: float = 2.0, interval: float = 0.25) -> None:
        self._parent = os.getppid()
        self._deadline: float | None = None
        self._grace = grace
        self._interval = interval
        threading.Thread(target=self._watch, name="watchdog", daemon=True).start()

    def arm(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    def disarm(self) -> None:
        self._deadline = None

    def _watch(self) -> None:
        while True:
            time.sleep(self._interval)
            if os.getppid() != self._parent:
                os._exit(70)  # orphaned: nobody will read the answer
            deadline = self._deadline
            if deadline is not None and time.monotonic() > deadline + self._grace:
                os._exit(71)  # the parent should have killed us already
