"""A throwaway Virtuoso Open Source 7 server for tests and bench/ (Debian `virtuoso-opensource`).

Each server gets its own virtuoso.ini, database files and loopback ports in `workdir`; the
system's database (/var/lib/virtuoso-opensource-7) is never touched. The server runs in the
foreground in its own process group and is stopped by that group on exit, also when the
block raises.

    with VirtuosoServer(tmp_path / "virtuoso") as virtuoso:
        virtuoso.bulk_load(dist / "dataset.nq.gz")
        requests.get(virtuoso.sparql_url, params={"query": "ASK {}"})

The anonymous /sparql user is given SPARQL_UPDATE only when `allow_anonymous_update=True`
(tests of the Graph Store Protocol without authentication); otherwise loading goes through
/sparql-graph-crud-auth with the `dba` account (digest authentication), or the bulk loader.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

VIRTUOSO = "virtuoso-t"
ISQL = "isql-vt"
DBA_USER = "dba"
DBA_PASSWORD = "dba"  # a fresh database's default; the server listens on 127.0.0.1 only
READY_TIMEOUT_S = 60.0


def virtuoso_available() -> str | None:
    """Why a Virtuoso server cannot be started here, or None when it can."""
    for command in (VIRTUOSO, ISQL):
        if shutil.which(command) is None:
            return (
                f"`{command}` is not installed (Debian package virtuoso-opensource; "
                "`make test` installs it when run as root with apt-get)"
            )
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ini(workdir: Path, *, http_port: int, sql_port: int, buffers: int) -> str:
    db = workdir / "db"
    # NumberOfBuffers pages of 8 KiB each: `buffers` = 20,000 is about 170 MB, enough for a few
    # million triples, modest beside the other processes of a shared test machine.
    return f"""\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
LiteMode = 0
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 20
CheckpointInterval = 60
O_DIRECT = 0
CaseMode = 2
MaxStaticCursorRows = 5000
CheckpointAuditTrail = 0
AllowOSCalls = 0
SchedulerInterval = 10
DirsAllowed = ., {workdir}, /usr/share/virtuoso-opensource-7/vad
ThreadCleanupInterval = 0
ThreadThreshold = 10
ResourcesCleanupInterval = 0
FreeTextBatchSize = 100000
SingleCPU = 0
PrefixResultNames = 0
RdfFreeTextRulesSize = 100
IndexTreeMaps = 64
MaxMemPoolSize = 200000000
MaxQueryMem = 1G
VectorSize = 1000
MaxVectorSize = 1000000
AdjustVectorSize = 0
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 10
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {buffers * 3 // 4}

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {workdir}/vsp
MaxClientConnections = 20
DavRoot = DAV
EnabledDavVSP = 0
HTTPProxyEnabled = 0
TempASPXDir = 0
ServerThreads = 20
MaxKeepAlives = 20
KeepAliveTimeout = 10
MaxCachedProxyConnections = 0
HTTPThreadSize = 280000
HttpPrintWarningsInOutput = 0
Charset = UTF-8
EnabledGzipContent = 0

[AutoRepair]
BadParentLinks = 0

[Client]
SQL_PREFETCH_ROWS = 100
SQL_PREFETCH_BYTES = 16000
SQL_QUERY_TIMEOUT = 0
SQL_TXN_TIMEOUT = 0

[SPARQL]
; Far above any result row cap the publisher sets: Virtuoso cuts silently at this many rows
; (with an X-SPARQL-MaxRows header), and the publisher must see the whole answer to apply its
; own cap honestly.
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 0
; 0: no "anytime" partial answers by default; the publisher asks for its own time limit.
MaxQueryExecutionTime = 0
"""


class VirtuosoServer:
    def __init__(
        self,
        workdir: Path,
        *,
        http_port: int | None = None,
        sql_port: int | None = None,
        buffers: int = 20_000,
        allow_anonymous_update: bool = False,
    ) -> None:
        self.workdir = Path(workdir).resolve()
        self.http_port = http_port or _free_port()
        self.sql_port = sql_port or _free_port()
        self.buffers = buffers
        self.allow_anonymous_update = allow_anonymous_update
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.sparql_url = self.url + "/sparql"
        # Anonymous GSP (needs SPARQL_UPDATE for the SPARQL user) and the authenticated one.
        self.graph_store_url = self.url + "/sparql-graph-crud"
        self.graph_store_auth_url = self.url + "/sparql-graph-crud-auth"
        self.process: subprocess.Popen | None = None
        self.ini = self.workdir / "virtuoso.ini"

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> VirtuosoServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        reason = virtuoso_available()
        if reason:
            raise RuntimeError(reason)
        (self.workdir / "db").mkdir(parents=True, exist_ok=True)
        (self.workdir / "vsp").mkdir(exist_ok=True)
        self.ini.write_text(
            _ini(
                self.workdir,
                http_port=self.http_port,
                sql_port=self.sql_port,
                buffers=self.buffers,
            )
        )
        self.log = open(self.workdir / "virtuoso.out", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [VIRTUOSO, "+foreground", "+configfile", str(self.ini)],
            cwd=self.workdir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_ready()
            if self.allow_anonymous_update:
                self.isql('GRANT SPARQL_UPDATE TO "SPARQL";')
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        sql_ready = False
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"virtuoso-t exited with {self.process.returncode}: {self.output()}"
                )
            if not sql_ready:
                sql_ready = self._try_isql()
            if sql_ready and self._http_answers():
                return
            time.sleep(0.2)
        raise RuntimeError(f"Virtuoso not ready after {READY_TIMEOUT_S} s: {self.output()}")

    def _try_isql(self) -> bool:
        try:
            self.isql("SELECT 1;", timeout_s=5)
            return True
        except (RuntimeError, subprocess.TimeoutExpired):
            return False

    def _http_answers(self) -> bool:
        try:
            with urllib.request.urlopen(
                self.sparql_url + "?query=ASK%7B%7D", timeout=5
            ) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.process = None
        self.log.close()

    def output(self) -> str:
        log = self.workdir / "db" / "virtuoso.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        return tail

    # -- SQL -------------------------------------------------------------------------------

    def isql(self, sql: str, *, timeout_s: float = 120) -> str:
        """Run SQL statements through isql-vt as dba; their output, or RuntimeError."""
        result = subprocess.run(
            [
                ISQL,
                f"127.0.0.1:{self.sql_port}",
                DBA_USER,
                DBA_PASSWORD,
                "VERBOSE=OFF",
                "BANNER=OFF",
                "PROMPT=OFF",
                "ECHO=OFF",
                "ERRORS=STDOUT",
                f"EXEC={sql}",
            ],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            cwd=self.workdir,
        )
        output = result.stdout + result.stderr
        if result.returncode != 0 or "*** Error" in output:
            raise RuntimeError(f"isql failed ({result.returncode}): {output.strip()[:1000]}")
        return output

    def bulk_load(
        self, nquads_or_trig_file: Path, *, graph: str = "urn:publisher:default"
    ) -> float:
        """Load one N-Quads/TriG file (optionally .gz) with the bulk loader; seconds taken.

        ld_dir registers the file, rdf_loader_run loads it, checkpoint makes it durable: the
        three together are what a Virtuoso operator runs. The file is linked (or copied) into
        the working directory, which DirsAllowed names. Triples outside a named graph go into
        `graph`.
        """
        source = Path(nquads_or_trig_file).resolve()
        inbox = self.workdir / "load"
        shutil.rmtree(inbox, ignore_errors=True)
        inbox.mkdir()
        target = inbox / source.name
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        started = time.perf_counter()
        self.isql(
            f"ld_dir('{inbox}', '{source.name}', '{graph}'); rdf_loader_run(); checkpoint;",
            timeout_s=3600,
        )
        elapsed = time.perf_counter() - started
        errors = self.isql(
            "SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST WHERE ll_error IS NOT NULL;"
        )
        if source.name in errors:
            raise RuntimeError(f"bulk load of {source} failed: {errors.strip()[:1000]}")
        return elapsed
