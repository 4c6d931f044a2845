"""The serving stack measured part by part: HTTP servers and their parsers and loops, the JSON
encoding of an answer, the ASGI middleware, the SQLite driver under SQLAlchemy Core, and the
HTTP client of the generic gateway provider.

Each figure is CPU time per operation (server process CPU from /proc over a wrk run for the
servers, `time.process_time` in-process for the rest), which a busy machine disturbs far less
than requests per second; requests per second are printed beside it. Numbers only: nothing is
asserted. Usage: python bench/serving_stack.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import (  # noqa: E402  (bench/ is not a package)
    GATEWAY_BODY,
    RIGHT_CODE,
    SECRET_KEY,
    VENV_BIN,
    WRONG_CODE,
    Engine,
    free_port,
    otpgate_env,
    prepare,
    server,
    with_cpu,
    wrk,
)


# name -> the command serving `app` ("module:attribute") on a port; uvicorn as otpgate runs it
def uvicorn_command(http: str, loop: str) -> Callable[[str, int, bool], list[str]]:
    def command(app: str, port: int, factory: bool) -> list[str]:
        return [
            str(VENV_BIN / "uvicorn"),
            *(["--factory"] if factory else []),
            app,
            "--port",
            str(port),
            "--http",
            http,
            "--loop",
            loop,
            "--no-access-log",
            "--no-server-header",
            "--no-proxy-headers",
            "--log-level",
            "warning",
        ]

    return command


def granian_command(app: str, port: int, factory: bool) -> list[str]:
    return [
        str(VENV_BIN / "granian"),
        "--interface",
        "asgi",
        *(["--factory"] if factory else []),
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--workers",
        "1",
        "--runtime-threads",
        "1",
        "--no-ws",
        "--log-level",
        "warning",
        app,
    ]


SERVERS = {
    "uvicorn, httptools, uvloop (otpgate's default)": uvicorn_command("httptools", "uvloop"),
    "uvicorn, h11, uvloop": uvicorn_command("h11", "uvloop"),
    "uvicorn, httptools, asyncio": uvicorn_command("httptools", "asyncio"),
    "granian (Rust HTTP), uvloop": granian_command,
}


def measure_servers(seconds: int, workdir: Path) -> list[dict]:
    """The hello-world route and otpgate's check (wrong code, seeded) on each server."""
    engine = Engine("sqlite", None)
    data_dir = workdir / "servers"
    data_dir.mkdir()
    key, ids = prepare(engine, data_dir, {"wrong": (6_000, None, True, 1_000)})
    otpgate = {
        **otpgate_env(engine, data_dir),
        "PYTHONPATH": str(BENCH),
        "OTPGATE_SERVE_DELIVERS": "0",
    }
    load = {"BENCH_API_KEY": key, "BENCH_IDS": str(ids["wrong"]), "BENCH_CODE": WRONG_CODE}
    rows = []
    for name, command in SERVERS.items():
        row: dict[str, Any] = {"server": name}
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(BENCH)}
        with server(command("hello:app", port, False), env, port, ready_path="/hello") as pid:
            row["hello"] = with_cpu(pid, partial(wrk, port, None, seconds, path="/hello"))
        port = free_port()
        factory = command("otpgate.server:app_from_environment", port, True)
        with server(factory, otpgate, port) as pid:
            row["check"] = with_cpu(
                pid, partial(wrk, port, "check", seconds, env={**load, "BENCH_REPEATS": "20"})
            )
        rows.append(row)
    return rows


def measure_json(repeats: int) -> list[dict]:
    """A start's and a check's answer encoded as Starlette's JSONResponse does, and by orjson."""
    from starlette.responses import JSONResponse

    from otpgate.domain.verification import (
        CheckOutcome,
        CheckResult,
        DeliveryStatus,
        Status,
        Verification,
    )
    from otpgate.service.presentation import check_document, verification_document

    now = datetime.now(UTC)
    verification = Verification(
        id="ver_01JF8ZQ8Y0V6A2N4C1XWQK9T3M",
        app_id="app_01JF8ZQ8Y0V6A2N4C1XWQK9T3N",
        to="+447123123456",
        channel="sms",
        status=Status.PENDING,
        country="GB",
        line_type="mobile",
        attempts=0,
        max_attempts=5,
        sends=1,
        delivery_status=DeliveryStatus.QUEUED,
        external_id=None,
        reference="order-1234",
        created_at=now,
        expires_at=now + timedelta(minutes=10),
        approved_at=None,
        last_sent_at=now,
    )
    documents = {
        "start's answer": verification_document(verification),
        "check's answer": check_document(CheckResult(verification, CheckOutcome.WRONG_CODE)),
    }
    encoders: dict[str, Callable[[Any], bytes]] = {
        "json (stdlib, as JSONResponse)": JSONResponse(None).render,
    }
    try:
        import orjson

        encoders["orjson"] = orjson.dumps
    except ImportError:
        print("bench: orjson is not installed (the bench extra has it)", file=sys.stderr)
    rows = []
    for document_name, document in documents.items():
        for encoder_name, encode in encoders.items():
            rows.append(
                {
                    "what": f"{document_name}, {encoder_name}",
                    "cpu_us": _cpu_us(lambda: encode(document), repeats),  # noqa: B023
                    "bytes": len(encode(document)),
                }
            )
    return rows


def measure_middleware(repeats: int, workdir: Path) -> list[dict]:
    """Each of otpgate's ASGI middlewares in-process, and all of them in create_app's order,
    around an app that answers at once, on a check's request (a JSON body the request guard
    reads and replays)."""
    from otpgate.api.body_deadline import BodyDeadline
    from otpgate.api.flood import FloodLimit
    from otpgate.api.middleware import RequestGuard
    from otpgate.api.operations_token import OperationsToken
    from otpgate.api.outage import DatabaseOutage
    from otpgate.compat.routing import CanonicalPaths
    from otpgate.config import Settings
    from otpgate.logs import configure_logging
    from otpgate.runtime import build_runtime
    from otpgate.server import VENDOR_APIS

    configure_logging("warning", "console")
    runtime = build_runtime(
        Settings(
            data_dir=workdir / "middleware",
            secret_key=SECRET_KEY,
            admin_token="bench-admin-token-0123456789",
            flood_requests_per_minute=10_000_000,
            _env_file=None,
        )
    )

    async def answer(_scope: dict, _receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    templates = [template for vendor in VENDOR_APIS for template in vendor.templates]
    stacks: dict[str, Any] = {
        "an app that answers at once, alone": answer,
        "request guard (id, body, log, latency metric)": RequestGuard(answer, runtime.metrics),
        "flood limit (the caller's count)": FloodLimit(answer, runtime),
        "vendor paths (canonical case)": CanonicalPaths(answer, templates),
        "body deadline": BodyDeadline(answer, seconds=30),
        "database outage (503)": DatabaseOutage(answer, runtime.outage_of),
        "operations token": OperationsToken(answer, token="bench-operations-token"),
        "all six, as create_app stacks them": BodyDeadline(
            CanonicalPaths(
                RequestGuard(
                    DatabaseOutage(
                        FloodLimit(OperationsToken(answer, "bench-operations-token"), runtime),
                        runtime.outage_of,
                    ),
                    runtime.metrics,
                ),
                templates,
            ),
            seconds=30,
        ),
    }
    body = b'{"code":"135790"}'
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/verifications/ver_01JF8ZQ8Y0V6A2N4C1XWQK9T3M/check",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", b"Bearer key_bench.secret"),
        ],
        "client": ("127.0.0.1", 50000),
    }

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(_message: dict) -> None:
        return None

    async def serve(target: Any) -> float:
        started = time.process_time()
        for _ in range(repeats):
            await target(dict(scope), receive, send)
        return (time.process_time() - started) / repeats * 1e6

    async def each() -> list[dict]:
        rows = []
        for name, target in stacks.items():
            await serve(target)  # warm
            # the least of three: other processes only ever add to a figure
            rows.append({"what": name, "cpu_us": min([await serve(target) for _ in range(3)])})
        return rows

    rows = asyncio.run(each())
    runtime.close()
    return rows


def measure_sqlite_driver(repeats: int, workdir: Path) -> list[dict]:
    """The two hot statements (a check's UPDATE … RETURNING with its live-key EXISTS, and a
    start's INSERT of the verification) through SQLAlchemy Core as the store runs them, and
    as the store runs them now, on the driver (store/driver.py), and the same compiled SQL on
    the sqlite3 driver directly."""
    from seed import seed_verifications
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    from otpgate.domain.codes import CodeHasher
    from otpgate.service.sealing import derive_key
    from otpgate.store import verifications as store
    from otpgate.store.database import open_database
    from otpgate.store.migrate import upgrade
    from otpgate.store.tables import api_keys, apps

    data_dir = workdir / "driver"
    data_dir.mkdir()
    database = open_database(f"sqlite:///{data_dir / 'otpgate.db'}")
    upgrade(database)
    now = datetime.now(UTC)
    with database.transaction() as tx:
        connection = tx.connection
        connection.execute(
            apps.insert().values(
                id="app_bench",
                name="bench",
                settings="{}",
                webhook_secret="x",
                created_at=now,
                updated_at=now,
            )
        )
        connection.execute(
            api_keys.insert().values(
                key_id="key_bench", app_id="app_bench", secret_hash="x", created_at=now
            )
        )
    ids = seed_verifications(
        database, "app_bench", SECRET_KEY, 2 * repeats, code=RIGHT_CODE, pending=True,
        max_attempts=1_000,
    )  # fmt: skip
    hasher = CodeHasher(derive_key(SECRET_KEY, "code-hash"))
    on_driver = store._check_statement(key_must_be_live=True, hashes=1)
    statement = on_driver.statement
    compiled = statement.compile(dialect=sqlite_dialect.dialect())
    # the driver is handed what SQLAlchemy's type processing would hand it
    naive_now = now.replace(tzinfo=None).isoformat(" ")

    def check_params(verification_id: str) -> dict[str, Any]:
        return {
            "verification_id": verification_id,
            "owner_id": "app_bench",
            "key_id": "key_bench",
            "submitted_hash_0": hasher.hash(verification_id, WRONG_CODE),
            "now": now,
        }

    rows = []
    with database.transaction() as tx:
        connection = tx.connection
        params = [check_params(verification_id) for verification_id in ids[: repeats // 2]]
        started = time.process_time()
        for values in params:
            connection.execute(statement, values).first()
        rows.append(_per("check UPDATE … RETURNING, SQLAlchemy Core", started, len(params)))
        params = [check_params(verification_id) for verification_id in ids[repeats // 2 : repeats]]
        started = time.process_time()
        for values in params:
            on_driver.execute(connection, values)
        rows.append(_per("check UPDATE … RETURNING, store/driver.py", started, len(params)))
        raw = connection.connection.driver_connection
        sql = str(compiled)
        driver_params = [
            _positional(compiled, {**check_params(verification_id), "now": naive_now})
            for verification_id in ids[repeats:]
        ]
        started = time.process_time()
        for values in driver_params:
            raw.execute(sql, values).fetchone()
        rows.append(_per("check UPDATE … RETURNING, sqlite3 directly", started, repeats))
        insert_rows = [_verification_row(index, now) for index in range(2 * repeats)]
        started = time.process_time()
        for row in insert_rows[:repeats]:
            connection.execute(store._INSERT_VERIFICATION.statement, row)
        rows.append(_per("start INSERT of a verification, SQLAlchemy Core", started, repeats))
        insert = store._INSERT_VERIFICATION.statement.compile(
            dialect=sqlite_dialect.dialect(), column_keys=list(insert_rows[0])
        )
        insert_sql = str(insert)
        raw_rows = [
            _positional(
                insert,
                {
                    name: value.replace(tzinfo=None) if isinstance(value, datetime) else value
                    for name, value in row.items()
                },
            )
            for row in insert_rows[repeats:]
        ]
        started = time.process_time()
        for values in raw_rows:
            raw.execute(insert_sql, values)
        rows.append(_per("start INSERT of a verification, sqlite3 directly", started, repeats))
    database.dispose()
    return rows


def _positional(compiled: Any, values: dict[str, Any]) -> tuple[Any, ...]:
    """The statement's parameters in its placeholders' order, literals included."""
    every = compiled.construct_params(values)
    return tuple(
        value.isoformat(" ") if isinstance(value, datetime) else value
        for value in (every[name] for name in compiled.positiontup)
    )


def _verification_row(index: int, now: datetime) -> dict[str, Any]:
    return {
        "id": f"ver_driver_{index:08d}",
        "app_id": "app_bench",
        "to_number": f"+4478{index:08d}",
        "channel": "sms",
        "status": "pending",
        "country": "GB",
        "line_type": "mobile",
        "attempts": 0,
        "max_attempts": 5,
        "sends": 1,
        "delivery_status": "queued",
        "external_id": None,
        "reference": None,
        "code_hash": "0" * 64,
        "code_sealed": b"sealed",
        "last_message_id": None,
        "created_at": now,
        "expires_at": now + timedelta(minutes=10),
        "approved_at": None,
        "last_sent_at": now,
        "updated_at": now,
    }


def measure_provider_clients(messages: int) -> list[dict]:
    """One SMS to bench/sms_gateway.py, 128 in flight (two delivery batches), through the
    generic HTTP provider as it sends (aiohttp) and through httpx with its default pool, which
    the provider used before; CPU of this process per message, the gateway's not counted."""
    import subprocess

    import httpx

    from otpgate.delivery.protocol import OutgoingSms
    from otpgate.delivery.senders.http import HttpGatewayConfig, HttpGatewaySender

    port = free_port()
    gateway = subprocess.Popen([sys.executable, str(BENCH / "sms_gateway.py"), "--port", str(port)])
    url = f"http://127.0.0.1:{port}/sms"
    in_flight = [
        OutgoingSms(
            message_id=f"msg_{index}",
            app_id="app_bench",
            verification_id=f"ver_{index}",
            to=f"+4471{index:08d}",
            sender=None,
            body="Your code is 246810",
        )
        for index in range(128)
    ]

    async def each() -> list[dict]:
        with httpx.Client() as probe:
            while True:
                try:
                    probe.get(f"http://127.0.0.1:{port}/count")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)
        sender = HttpGatewaySender(HttpGatewayConfig(url=url, body=GATEWAY_BODY))
        client = httpx.AsyncClient(timeout=10, follow_redirects=False)

        async def through_httpx(sms: OutgoingSms) -> None:
            body = f'{{"to": "{sms.to}", "text": "{sms.body}"}}'.encode()
            answer = await client.post(
                url, content=body, headers={"Content-Type": "application/json"}
            )
            answer.raise_for_status()

        rows = []
        for name, send in (
            ("generic HTTP provider (aiohttp), 128 in flight", sender.send),
            ("httpx AsyncClient, default pool, 128 in flight", through_httpx),
        ):
            await asyncio.gather(*(send(sms) for sms in in_flight))  # connections opened
            started = time.process_time()
            for _ in range(max(1, messages // len(in_flight))):
                await asyncio.gather(*(send(sms) for sms in in_flight))
            sent = max(1, messages // len(in_flight)) * len(in_flight)
            rows.append(_per(name, started, sent))
        await sender.close()
        await client.aclose()
        return rows

    try:
        return asyncio.run(each())
    finally:
        gateway.terminate()
        gateway.wait()


def _cpu_us(call: Callable[[], Any], repeats: int) -> float:
    started = time.process_time()
    for _ in range(repeats):
        call()
    return (time.process_time() - started) / repeats * 1e6


def _per(what: str, started: float, repeats: int) -> dict:
    return {"what": what, "cpu_us": (time.process_time() - started) / repeats * 1e6}


def table(results: dict) -> str:
    lines = [
        "serving stack (CPU µs per request of the server process; req/s at concurrency 32, "
        "server on one core)",
        f"{'server':<48}{'hello µs':>10}{'hello r/s':>11}{'check µs':>10}{'check r/s':>11}",
    ]
    for row in results["servers"]:
        hello, check = row["hello"], row["check"]
        lines.append(
            f"{row['server']:<48}{hello['cpu_us']:>10.0f}{hello['rps']:>11.0f}"
            f"{check['cpu_us']:>10.0f}{check['rps']:>11.0f}"
        )
    for title, key in (
        ("JSON encoding of an answer", "json"),
        ("ASGI middleware, each alone, in-process", "middleware"),
        ("SQLite: the two hot statements, in-process", "driver"),
        ("HTTP provider: one SMS to a local gateway, in-process", "clients"),
    ):
        lines += ["", f"{title:<66}{'CPU µs':>8}"]
        for row in results[key]:
            size = f"  ({row['bytes']} bytes)" if "bytes" in row else ""
            lines.append(f"{row['what'] + size:<66}{row['cpu_us']:>8.1f}")
    return "\n".join(lines)


@contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="otpgate-stack-") as directory:
        yield Path(directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs, a smoke test")
    arguments = parser.parse_args()
    seconds, repeats = (2, 2_000) if arguments.quick else (5, 20_000)
    with workspace() as workdir:
        results = {
            "json": measure_json(repeats * 5),
            "middleware": measure_middleware(repeats, workdir),
            "driver": measure_sqlite_driver(repeats // 4, workdir),
            "clients": measure_provider_clients(repeats // 4),
            "servers": measure_servers(seconds, workdir),
        }
    print(table(results))


if __name__ == "__main__":
    main()
