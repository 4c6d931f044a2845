"""Fault 3: SQLite's disk fills up under load. Writes are refused with 503 `storage_full`
(and Retry-After), reads go on, the database stays intact (`PRAGMA integrity_check`), and the
service writes again as soon as space is freed, without a restart. Meanwhile `/readyz` says
503, and ready again once space is freed."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from peers.faulty_gateway import FaultyGateway
from support.fault_load import (
    ADMIN_TOKEN,
    MAX_ATTEMPTS,
    SECRET_KEY,
    START_TIMEOUT_SECONDS,
    VerificationLoad,
    acknowledged_ids,
    fault_settings,
    final_state,
    load_app,
    wait_for_answers,
)
from support.history import History, Operation, check
from support.numbers import new_mobile
from support.served import launch

pytestmark = pytest.mark.e2e

DISK_MEGABYTES = 16
REFUSALS_WANTED = 20
WRITES_AGAIN_WITHIN_SECONDS = 5.0
STARTS_UNTIL_REFUSED = 200  # what the WAL still had room for goes in first


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a filesystem of DISK_MEGABYTES of its own (tmpfs; mounting needs root)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MEGABYTES}m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        reason = f"cannot mount a small filesystem: {mounted.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the filesystem has no space left; returns it."""
    filler = disk / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError as error:
                assert error.errno == errno.ENOSPC
                break
    return filler


def storage_full_refusals(history: History) -> list[Operation]:
    return [
        operation
        for operation in list(history.operations)
        if operation.status == 503 and operation.body.get("code") == "storage_full"
    ]


def read_while_full(http: httpx.Client, headers: dict[str, str]) -> list[httpx.Response]:
    """Reads until one is answered (at most 50, 20 ms apart), while the load goes on writing."""
    reads: list[httpx.Response] = []
    for _ in range(50):
        reads.append(http.get("/v1/verifications", params={"limit": 5}, headers=headers))
        if reads[-1].status_code == 200:
            break
        time.sleep(0.02)
    return reads


def test_a_full_disk_refuses_writes_with_503_and_the_service_writes_again_once_freed(
    tmp_path: Path, small_disk: Path, gateway: FaultyGateway, record_property: object
) -> None:
    data_dir = small_disk / "data"
    served = launch(
        data_dir,
        tmp_path / "serve.log",
        start_timeout=START_TIMEOUT_SECONDS,
        **fault_settings(gateway),
    )
    headers = load_app(served.http)
    history = History()
    load = VerificationLoad(served.url, headers, history, gateway).start()
    try:
        wait_for_answers(history, 30, after=0, timeout=30)
        filler = fill(small_disk)
        deadline = time.monotonic() + 60
        while len(storage_full_refusals(history)) < REFUSALS_WANTED:
            assert time.monotonic() < deadline, "writes went on with the disk full"
            time.sleep(0.05)
        reads = read_while_full(served.http, headers)
        filler.unlink()
        freed_at = time.monotonic()
        writing_at = wait_for_answers(history, 30, after=freed_at, timeout=30)
    finally:
        load.stop()
    try:
        with httpx.Client(base_url=served.url, timeout=30) as http:
            final, messages = final_state(http, headers, acknowledged_ids(history))
    finally:
        served.stop()
    with sqlite3.connect(data_dir / "otpgate.db") as database:
        integrity = database.execute("PRAGMA integrity_check").fetchall()

    verdict = check(history, final, gateway.deliveries(), messages, max_attempts=MAX_ATTEMPTS)
    row = verdict.row("SQLite disk full, then freed", 1)
    print(row, f"writes again {writing_at - freed_at:.1f} s after space was freed")
    record_property("reliability", row)  # type: ignore[operator]
    assert verdict.violations == [], "\n".join(verdict.violations)
    # a full disk still reads; a read that shared its group commit with writes that could not
    # be written is refused with them (it may have seen them), as a 503 storage_full
    assert 200 in [read.status_code for read in reads], [read.text for read in reads]
    assert all(read.json()["code"] == "storage_full" for read in reads if read.status_code != 200)
    assert integrity == [("ok",)]
    assert writing_at - freed_at <= WRITES_AGAIN_WITHIN_SECONDS
    refusal = storage_full_refusals(history)[0]
    assert refusal.headers["retry-after"].isdigit()


def start_until_refused(http: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    """Starts on fresh numbers until one is refused (at most STARTS_UNTIL_REFUSED)."""
    for _ in range(STARTS_UNTIL_REFUSED):
        started = http.post("/v1/verifications", json={"to": new_mobile()}, headers=headers)
        if started.status_code != 201:
            return started
    raise AssertionError(f"{STARTS_UNTIL_REFUSED} starts written with the disk full")


def test_readiness_fails_while_the_disk_is_full_and_returns_once_space_is_freed(
    tmp_path: Path, small_disk: Path
) -> None:
    served = launch(
        small_disk / "data",
        tmp_path / "serve.log",
        start_timeout=START_TIMEOUT_SECONDS,
        OTPGATE_SECRET_KEY=SECRET_KEY,
        OTPGATE_ADMIN_TOKEN=ADMIN_TOKEN,
        OTPGATE_LOG_LEVEL="warning",
    )
    try:
        headers = load_app(served.http)
        ready_before = served.http.get("/readyz")
        filler = fill(small_disk)
        unready = served.http.get("/readyz")
        refused = start_until_refused(served.http, headers)
        unready_after_refusal = served.http.get("/readyz")
        filler.unlink()
        ready_again = served.http.get("/readyz")
        written = served.http.post("/v1/verifications", json={"to": new_mobile()}, headers=headers)
    finally:
        served.stop()

    assert ready_before.status_code == 200
    for answer in (unready, unready_after_refusal):
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "not_ready"
        assert answer.json()["detail"] == "the database's disk is full; nothing was written"
        assert answer.headers["retry-after"] == "30"
    assert (refused.status_code, refused.json()["code"]) == (503, "storage_full")
    assert ready_again.status_code == 200, ready_again.text
    assert written.status_code == 201, written.text
