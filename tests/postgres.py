"""The PostgreSQL server the tests use: its port on 127.0.0.1, where user postgres gets in without a password.

The machine's own on 5432 when it lets us in (as on the project's machines). Otherwise a throwaway cluster of this
test run's own: initdb into a temporary folder, the server on a free port with trust auth for user postgres (as an
unprivileged user when we are root: PostgreSQL refuses to run as root), stopped and deleted when the run ends. The
machine's own server and its settings are never touched.

The port reaches every process of the run through OUTREACH_TEST_PG_PORT: pytest-xdist's workers (and what they
start) inherit it from the process that chose it, so a run starts one cluster at most. Set it yourself to point the
tests at another server on 127.0.0.1.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from glob import glob
from pathlib import Path

from tests.servers import free_port

ENV = "OUTREACH_TEST_PG_PORT"
MACHINE_PORT = 5432


def admin_dsn(port: int | str, dbname: str = "postgres") -> str:
    return f"host=127.0.0.1 port={port} user=postgres dbname={dbname} connect_timeout=3"


def why_not(port: int | str) -> str | None:
    """Why user postgres can't use the server on `port`, or None when it can."""
    import psycopg

    try:
        with psycopg.connect(admin_dsn(port), autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as err:
        return f"PostgreSQL on 127.0.0.1:{port} does not let user postgres in: {str(err).strip().splitlines()[0]}"
    return None


def server_programs() -> Path | None:
    """The folder holding initdb and postgres (Debian: /usr/lib/postgresql/<version>/bin, the newest)."""
    folders = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if folders:
        return Path(folders[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


_LIBC = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    """In the server's process before exec: stop at once if pytest dies, even by SIGKILL (Linux's prctl)."""
    _LIBC.prctl(1, signal.SIGQUIT)  # 1: PR_SET_PDEATHSIG; SIGQUIT: PostgreSQL's immediate shutdown


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary folder, on a free port, for as long as this process runs."""

    def __init__(self, programs: Path) -> None:
        self.programs = programs
        self.folder = Path(tempfile.mkdtemp(prefix="outreach-test-pg-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        # As root, run as an unprivileged user: the one Debian's package made, else nobody.
        self.user = None
        if os.geteuid() == 0:
            self.user = next(u for u in map(_user, ("postgres", "nobody")) if u)
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)

    def _as_user(self) -> dict:
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []} if self.user else {}

    def start(self) -> None:
        data, log = self.folder / "data", self.folder / "server.log"
        subprocess.run(
            [
                self.programs / "initdb",
                "-D",
                data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            cwd=self.folder,
            **self._as_user(),
        )
        # Durability is worth nothing in a cluster deleted after the run: no fsync makes it faster.
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [
                    self.programs / "postgres",
                    "-D",
                    data,
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-k",
                    self.folder,
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=200",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                preexec_fn=_die_with_parent,
                **self._as_user(),
            )
        atexit.register(self.stop)
        deadline = time.monotonic() + 30
        while why_not(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the throwaway PostgreSQL did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown: ends the sessions still open
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


def _user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def choose_server() -> tuple[int, str | None]:
    """(port, None) for a server the tests can use, or (port, why there is none); see the module docstring."""
    if os.environ.get(ENV):
        return int(os.environ[ENV]), None
    reason = why_not(MACHINE_PORT)
    if reason is None:
        os.environ[ENV] = str(MACHINE_PORT)
        return MACHINE_PORT, None
    programs = server_programs()
    if programs is None:
        return MACHINE_PORT, (
            f"{reason}; and PostgreSQL's server programs, to start one of the tests' own, are "
            "not installed (Debian: apt-get install postgresql)"
        )
    cluster = ThrowawayCluster(programs)
    try:
        cluster.start()
    except (OSError, subprocess.CalledProcessError, RuntimeError) as err:
        cluster.stop()
        detail = getattr(err, "stderr", None) or str(err)
        return MACHINE_PORT, f"{reason}; and a throwaway cluster with {programs} failed: {str(detail).strip()[:500]}"
    os.environ[ENV] = str(cluster.port)
    return cluster.port, None
