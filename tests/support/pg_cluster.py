"""A PostgreSQL cluster of one test's own (`initdb` and `pg_ctl` on a spare port, in a
temporary directory), which the test may stop, start and cut off at will: the shared server
on 5432 is never touched. As root, PostgreSQL's programs run as the `postgres` user."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from support.served import free_port

DATABASE = "otpgate"


def pg_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: on the PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    return Path(versions[-1]).parent if versions else None


@contextmanager
def own_cluster() -> Iterator[OwnCluster]:
    """A cluster made for the block and destroyed after it; without PostgreSQL's server
    programs, a failure under CI and a skip elsewhere."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        reason = "initdb/pg_ctl not found (PostgreSQL's server package)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    cluster = OwnCluster(bin_dir).create()
    try:
        yield cluster
    finally:
        cluster.destroy()


class OwnCluster:
    def __init__(self, bin_dir: Path) -> None:
        self._bin = bin_dir
        self.port = free_port()
        self._root = Path(tempfile.mkdtemp(prefix="otpgate-pg-"))
        self._data = self._root / "data"
        self._log = self._root / "server.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self._root, "postgres", "postgres")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def create(self) -> OwnCluster:
        self._run("initdb", "-D", str(self._data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        with psycopg.connect(self._admin_url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self._root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self._data), "-l", str(self._log), "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        """A fast shutdown: sessions are ended, as in a restart or a failover."""
        self._run("pg_ctl", "-D", str(self._data), "-m", "fast", "-w", "stop")

    def terminate_connections(self) -> int:
        """`pg_terminate_backend` on every session of the database; how many there were."""
        with psycopg.connect(self._admin_url(), autocommit=True) as connection:
            ended = connection.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (DATABASE,),
            ).fetchone()
        assert ended is not None
        return int(ended[0])

    def destroy(self) -> None:
        if (self._data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self._data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self._root, ignore_errors=True)

    def log(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def _admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self._bin / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"{program}: {done.stdout}{done.stderr}{self.log()}"
