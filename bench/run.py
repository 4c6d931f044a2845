"""otpgate's benchmark: its speed, latency, memory and growth beside its own stack's ceiling.

Servers run pinned to core 0 (`taskset`), the load generator (wrk, with Lua scripts) to core 1,
every figure measured in the same run so ratios mean something on a noisy machine.
Usage: python bench/run.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import workflow_flows

from otpgate.serving import DEFAULT_SERVER

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV_BIN = Path(sys.executable).parent
SERVER_CORE, LOAD_CORE = "0", "1"
CONCURRENCY = 32
WRK_THREADS = 2
SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnop"
ADMIN_TOKEN = "bench-admin-token-0123456789"
RIGHT_CODE, WRONG_CODE = "246810", "135790"
# the abuse limits stay on and are counted; only their thresholds are out of a load test's way
BENCH_APP_SETTINGS = {
    "max_attempts": 20,
    "sends_per_app_minute": 1_000_000,
    "messages_per_day": 100_000_000,
    "messages_per_country_day": 100_000_000,
    "fraud_guard": False,
    # the workflow phase starts by WhatsApp and falls back to SMS
    "channels": ["sms", "whatsapp"],
}


# the HTTP SMS gateway's request, as otpgate's `http` provider is configured against it
GATEWAY_BODY = '{"to": "{to}", "text": "{body}"}'
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Profile:
    seconds: int
    rss_verifications: int
    growth_sizes: tuple[int, ...]
    delivered_messages: int  # queued, then delivered by one worker: its CPU per message
    workflow_flows: int  # two-step workflows (whatsapp, /next, sms, check)


FULL = Profile(
    seconds=10,
    rss_verifications=100_000,
    growth_sizes=(1_000, 100_000, 1_000_000),
    delivered_messages=5_000,
    workflow_flows=2_000,
)
QUICK = Profile(
    seconds=2,
    rss_verifications=2_000,
    growth_sizes=(1_000, 10_000),
    delivered_messages=300,
    workflow_flows=100,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(
    command: list[str], env: dict[str, str], port: int, ready_path: str = "/healthz"
) -> Iterator[int]:
    """Start a server pinned to the server core; yield its pid once `ready_path` answers."""
    process = subprocess.Popen(
        ["taskset", "-c", SERVER_CORE, *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    with httpx.Client(timeout=1) as probe:
        while not _answers(probe, f"http://127.0.0.1:{port}{ready_path}"):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                _, stderr = process.communicate()
                raise RuntimeError(f"server did not start: {stderr.decode()[-2000:]}")
            time.sleep(0.1)
    try:
        yield process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def pinned(command: list[str], env: dict[str, str], core: str) -> Iterator[subprocess.Popen]:
    """A process pinned to `core` (a worker, the SMS gateway), stopped when the block ends."""
    process = subprocess.Popen(
        ["taskset", "-c", core, *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and every process under it, from /proc."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except FileNotFoundError:
            continue
    return total


def with_cpu(pid: int, load: Callable[[], dict], operations: str = "requests") -> dict:
    """Run `load` and add the server's CPU µs per operation (its report's `operations`)."""
    before = cpu_seconds(pid)
    report = load()
    spent = cpu_seconds(pid) - before
    return {**report, "cpu_us": spent / max(report[operations], 1) * 1e6}


def _answers(probe: httpx.Client, url: str) -> bool:
    try:
        return probe.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def wrk(
    port: int,
    scenario: str | None,
    seconds: int,
    *,
    connections: int = CONCURRENCY,
    threads: int = WRK_THREADS,
    env: dict[str, str] | None = None,
    path: str = "/",
) -> dict:
    """Run wrk on the load core; returns its report line, with requests per second."""
    script = (BENCH / "lua" / "report.lua").read_text()
    if scenario is not None:
        script = (BENCH / "lua" / f"{scenario}.lua").read_text() + "\n" + script
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    command = [
        "taskset",
        "-c",
        LOAD_CORE,
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        file.name,
        f"http://127.0.0.1:{port}{path}",
    ]
    output = subprocess.run(
        command,
        env={**os.environ, **(env or {}), "BENCH_THREADS": str(threads)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(file.name)
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    report = json.loads(line.removeprefix("BENCH "))
    report["rps"] = report["requests"] / (report["duration_us"] / 1e6)
    return report


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@dataclass(frozen=True)
class Engine:
    name: str
    database_url: str | None  # None: the embedded default, SQLite in the data dir
    # memory and growth take most of a run; they are measured on the embedded default only
    measures_growth: bool = True

    def settings(self, data_dir: Path) -> dict[str, str]:
        url = {"OTPGATE_DATABASE_URL": self.database_url} if self.database_url else {}
        return {
            "OTPGATE_DATA_DIR": str(data_dir),
            "OTPGATE_SECRET_KEY": SECRET_KEY,
            "OTPGATE_ADMIN_TOKEN": ADMIN_TOKEN,
            "OTPGATE_LOG_LEVEL": "warning",
            "OTPGATE_FLOOD_REQUESTS_PER_MINUTE": "10000000",
            **url,
        }


def otpgate_env(engine: Engine, data_dir: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("OTPGATE_")},
        **engine.settings(data_dir),
    }


def prepare(
    engine: Engine,
    data_dir: Path,
    pools: dict[str, tuple[int, str | None, bool, int]],
    *,
    with_messages: bool = False,
) -> tuple[str, dict[str, Path]]:
    """Migrate, create the bench app and its key, seed verification pools (each with its
    outbox message, `with_messages`); returns the key and, per pool, a file of ids."""
    sys.path.insert(0, str(BENCH))
    from seed import seed_verifications

    from otpgate.config import Settings
    from otpgate.runtime import build_runtime, migrate

    runtime = build_runtime(
        Settings(
            data_dir=data_dir,
            secret_key=SECRET_KEY,
            admin_token=ADMIN_TOKEN,
            database_url=engine.database_url,
            _env_file=None,
        )
    )
    migrate(runtime)
    app = runtime.apps.create_app("bench", BENCH_APP_SETTINGS)
    key = runtime.apps.create_key(app.id)
    files = {}
    offset = 0
    for name, (count, code, pending, max_attempts) in pools.items():
        ids = seed_verifications(
            runtime.database,
            app.id,
            SECRET_KEY,
            count,
            code=code,
            pending=pending,
            max_attempts=max_attempts,
            number_offset=offset,
            with_messages=with_messages,
        )
        offset += count
        files[name] = data_dir / f"{name}.ids"
        files[name].write_text("\n".join(ids) + "\n")
    runtime.close()
    return key.api_key, files


def measure_ceiling(seconds: int) -> dict:
    """The hello-world app on `otpgate serve`'s default server, run as `serve` runs it."""
    port = free_port()
    if DEFAULT_SERVER == "granian":
        command = [
            str(VENV_BIN / "granian"),
            *("--interface", "asgi", "--port", str(port), "--loop", "uvloop"),
            *("--runtime-threads", "1", "--no-ws", "--log-level", "warning", "hello:app"),
        ]
    else:
        command = [
            str(VENV_BIN / "uvicorn"),
            *("--port", str(port), "--http", "httptools", "--loop", "uvloop"),
            *("--no-access-log", "--no-server-header", "--log-level", "warning", "hello:app"),
        ]
    env = {**os.environ, "PYTHONPATH": str(BENCH)}
    with server(command, env, port, ready_path="/hello"):
        return wrk(port, None, seconds, path="/hello")


@contextmanager
def fresh_database(engine: Engine, data_dir: Path) -> Iterator[Engine]:
    """An empty database for one measurement: a new data dir, or a new PostgreSQL database."""
    data_dir.mkdir(parents=True)
    if engine.database_url is None:
        yield engine
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"otpgate_bench_{data_dir.name}_{os.getpid()}"
    admin = create_engine(
        make_url(engine.database_url).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield Engine(
            engine.name,
            make_url(engine.database_url).set(database=name).render_as_string(hide_password=False),
            engine.measures_growth,
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def database_bytes(engine: Engine, data_dir: Path) -> int:
    """Bytes on disk: SQLite's files after a checkpoint, or PostgreSQL's relations."""
    from otpgate.store.database import open_database

    url = engine.database_url or f"sqlite:///{data_dir / 'otpgate.db'}"
    database = open_database(url)
    try:
        with database.read() as connection:
            if database.is_sqlite:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                return sum(path.stat().st_size for path in data_dir.glob("otpgate.db*"))
            return int(
                connection.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
            )
    finally:
        database.dispose()


def stored_verifications(engine: Engine, data_dir: Path) -> int:
    from otpgate.store.database import open_database

    database = open_database(engine.database_url or f"sqlite:///{data_dir / 'otpgate.db'}")
    try:
        with database.read() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM verifications").scalar())
    finally:
        database.dispose()


@contextmanager
def profiled(pid: int, svg: Path | None, seconds: int) -> Iterator[None]:
    """py-spy samples the server while the block's load runs; a flame graph goes to `svg`."""
    if svg is None:
        yield
        return
    spy = subprocess.Popen(
        [
            str(VENV_BIN / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "250",
            "--format",
            "flamegraph",
            "--output",
            str(svg),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.wait()


def measure_otpgate(
    profile: Profile, engine: Engine, data_dir: Path, flame_graphs: Path | None
) -> dict:
    expected_checks = 30_000 * profile.seconds // 10 + 5_000
    key, ids = prepare(
        engine,
        data_dir,
        {
            "right": (expected_checks, RIGHT_CODE, True, 20),
            "wrong": (expected_checks // 10 + 100, None, True, 20),
        },
    )
    port = free_port()
    env = {"BENCH_API_KEY": key}
    command = [
        *(str(VENV_BIN / "otpgate"), "serve", "--port", str(port)),
        *("--server", DEFAULT_SERVER),
    ]
    results = {}

    def flame(operation: str) -> Path | None:
        return flame_graphs and flame_graphs.with_name(
            f"{flame_graphs.name}-{engine.name}-{operation}.svg"
        )

    with server(command, otpgate_env(engine, data_dir), port) as pid:
        idle_rss = rss_mb(pid)
        with profiled(pid, flame("start"), profile.seconds):
            results["start"] = with_cpu(pid, partial(wrk, port, "start", profile.seconds, env=env))
        right = {**env, "BENCH_IDS": str(ids["right"]), "BENCH_CODE": RIGHT_CODE}
        with profiled(pid, flame("check"), profile.seconds):
            results["check_right"] = with_cpu(
                pid, partial(wrk, port, "check", profile.seconds, env=right)
            )
        wrong = {
            **env,
            "BENCH_IDS": str(ids["wrong"]),
            "BENCH_CODE": WRONG_CODE,
            "BENCH_REPEATS": "10",
        }
        results["check_wrong"] = with_cpu(
            pid, partial(wrk, port, "check", profile.seconds, env=wrong)
        )
        flow = with_cpu(
            pid,
            partial(wrk, port, "flow", profile.seconds, env={**env}, threads=CONCURRENCY),
            operations="flows",
        )
        flow["flows_per_second"] = flow["flows"] / (flow["duration_us"] / 1e6)
        results["flow"] = flow
        results["workflow_flow"] = with_cpu(
            pid,
            partial(workflow_flows.run, port, key, profile.workflow_flows, CONCURRENCY),
            operations="flows",
        )
        if not engine.measures_growth:
            return results
        # counted in the database: wrk's counts miss the requests in flight when it stops
        seeded = sum(len(path.read_text().split()) for path in ids.values())
        created = stored_verifications(engine, data_dir) - seeded
        size_before = database_bytes(engine, data_dir)
        remaining = max(0, profile.rss_verifications - created)
        # after its quota each wrk thread only asks /healthz: long enough at the start rate
        growth_seconds = max(5, int(remaining / max(results["start"]["rps"], 1) * 1.5) + 5)
        wrk(
            port,
            "start",
            growth_seconds,
            env={**env, "BENCH_QUOTA": str(remaining // WRK_THREADS + 1), "BENCH_OFFSET": "50"},
        )
        made = stored_verifications(engine, data_dir) - seeded - created
        results["memory"] = {
            "verifications": created + made,
            "rss_mb": rss_mb(pid),
            "idle_rss_mb": idle_rss,
            "db_bytes_per_1000": (database_bytes(engine, data_dir) - size_before) / made * 1000
            if made
            else None,
        }
    return results


def http_provider_env(engine: Engine, data_dir: Path, gateway_port: int) -> dict[str, str]:
    """otpgate with the `http` provider pointed at the bench's SMS gateway."""
    return {
        **otpgate_env(engine, data_dir),
        "OTPGATE_SMS_PROVIDER": "http",
        "OTPGATE_HTTP_URL": f"http://127.0.0.1:{gateway_port}/sms",
        "OTPGATE_HTTP_BODY": GATEWAY_BODY,
        # the http provider's receipts need their credential (docs/security.md)
        "OTPGATE_HTTP_RECEIPT_TOKEN": "bench-receipt-token-0123456789",
    }


def queue_messages(engine: Engine, data_dir: Path, env: dict[str, str], count: int) -> None:
    """Start `count` verifications in-process (no worker runs): their messages wait, queued."""
    from otpgate.config import Settings
    from otpgate.runtime import build_runtime
    from otpgate.service.verifications import StartRequest

    runtime = build_runtime(
        Settings(
            data_dir=data_dir,
            secret_key=SECRET_KEY,
            admin_token=ADMIN_TOKEN,
            database_url=engine.database_url,
            sms_provider=env["OTPGATE_SMS_PROVIDER"],
            http_url=env["OTPGATE_HTTP_URL"],
            http_body=GATEWAY_BODY,
            _env_file=None,
        )
    )
    app = next(app for app in runtime.apps.list_apps() if app.name == "bench")
    for index in range(count):
        runtime.verifications.start(app, StartRequest(to=f"+4473{index:08d}"))
    runtime.close()


def gateway_count(probe: httpx.Client, port: int) -> int:
    try:
        return int(probe.get(f"http://127.0.0.1:{port}/count").json()["messages"])
    except httpx.HTTPError:
        return -1


def measure_delivery(profile: Profile, engine: Engine, data_dir: Path) -> dict:
    """Delivery over HTTP to a local SMS gateway on the load core: one worker's CPU per message
    (claim, open the sealed text, the provider call, record the result), then full flows
    (start, the worker sends the SMS, the client reads the code from the gateway, check)."""
    key, _ = prepare(engine, data_dir, {})
    gateway = [sys.executable, str(BENCH / "sms_gateway.py")]
    results: dict = {}
    gateway_port = free_port()
    env = http_provider_env(engine, data_dir, gateway_port)
    queue_messages(engine, data_dir, env, profile.delivered_messages)
    wanted = profile.delivered_messages
    with (
        pinned([*gateway, "--port", str(gateway_port)], dict(os.environ), LOAD_CORE),
        httpx.Client(timeout=1) as probe,
    ):
        while gateway_count(probe, gateway_port) < 0:
            time.sleep(0.05)
        worker = [str(VENV_BIN / "otpgate"), "worker"]
        with pinned(worker, env, SERVER_CORE) as process:
            # from the first message on, so the worker's start-up is not counted
            deadline = time.monotonic() + 60 + wanted / 10
            while (first := gateway_count(probe, gateway_port)) < 1:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the worker delivered nothing")
                time.sleep(0.005)
            cpu_first, began = cpu_seconds(process.pid), time.monotonic()
            while (taken := gateway_count(probe, gateway_port)) < wanted:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            spent, elapsed = cpu_seconds(process.pid) - cpu_first, time.monotonic() - began
        delivered = taken - first
        results["worker"] = {
            "messages": delivered,
            "cpu_us": spent / max(delivered, 1) * 1e6,
            "messages_per_second": delivered / elapsed if elapsed else 0.0,
        }
    flows_port, port = free_port(), free_port()
    env = http_provider_env(engine, data_dir, flows_port)
    command = [
        *(str(VENV_BIN / "otpgate"), "serve", "--port", str(port)),
        *("--server", DEFAULT_SERVER),
    ]
    with server(command, env, port) as pid:
        client = [
            *gateway,
            "--port",
            str(flows_port),
            "--flows",
            f"http://127.0.0.1:{port}",
            "--key",
            key,
            "--seconds",
            str(profile.seconds),
            "--connections",
            str(CONCURRENCY),
        ]

        def flows() -> dict:
            with pinned(client, dict(os.environ), LOAD_CORE) as process:
                output, errors = process.communicate(timeout=profile.seconds + 120)
            if process.returncode != 0:
                raise RuntimeError(f"the flow client failed: {errors.decode()[-2000:]}")
            return json.loads(output.decode().strip().splitlines()[-1])

        results["flows"] = with_cpu(pid, flows, operations="flows")
    return results


def read_route_paths(ids: list[str], numbers: list[str]) -> dict[str, list[str]]:
    """Per read route, the paths a run cycles through (verifications and numbers that exist)."""
    encoded = [number.replace("+", "%2B") for number in numbers]
    return {
        "get a verification": [f"/v1/verifications/{i}" for i in ids],
        "its messages": [f"/v1/verifications/{i}/messages" for i in ids],
        "list, first page": ["/v1/verifications?limit=20"],
        "list by number": [f"/v1/verifications?limit=20&to={n}" for n in encoded],
        "outbox by number": [f"/v1/dev/outbox?limit=1&to={n}" for n in encoded],
    }


def measure_growth(profile: Profile, engine: Engine, data_dir: Path) -> list[dict]:
    """Check latency (wrong codes, one connection, then 32) as stored verifications grow."""
    sys.path.insert(0, str(BENCH))
    from seed import seed_verifications

    from otpgate.store.database import open_database

    pool = 3_000
    key, ids = prepare(engine, data_dir, {"pool": (pool, None, True, 20)}, with_messages=True)
    database = open_database(engine.database_url or f"sqlite:///{data_dir / 'otpgate.db'}")
    app_id = _app_id(database)
    # seed.py numbers the pool +4477 00000000 on
    paths = read_route_paths(
        ids["pool"].read_text().split(), [f"+4477{index:08d}" for index in range(pool)]
    )
    path_files = {}
    for route, route_paths in paths.items():
        path_files[route] = data_dir / f"paths-{len(path_files)}.txt"
        path_files[route].write_text("\n".join(route_paths) + "\n")
    stored = pool
    rows = []
    for size in profile.growth_sizes:
        if size > stored:
            seed_verifications(
                database,
                app_id,
                SECRET_KEY,
                size - stored,
                code=None,
                pending=False,
                number_offset=stored,
                with_messages=True,
            )
            stored = size
        port = free_port()
        env = {"BENCH_API_KEY": key, "BENCH_IDS": str(ids["pool"]), "BENCH_CODE": WRONG_CODE}
        with server(
            [str(VENV_BIN / "otpgate"), "serve", "--port", str(port)],
            otpgate_env(engine, data_dir),
            port,
        ):
            single = wrk(port, "check", 2, connections=1, threads=1, env=env)
            loaded = wrk(port, "check", 2, env=env)
            reads = {
                route: wrk(
                    port,
                    "paths",
                    2,
                    connections=1,
                    threads=1,
                    env={"BENCH_API_KEY": key, "BENCH_PATHS": str(path_file)},
                )["p50_us"]
                for route, path_file in path_files.items()
            }
        rows.append(
            {
                "stored": size,
                "reads_p50_us": reads,
                "p50_us_c1": single["p50_us"],
                "p99_us_c1": single["p99_us"],
                "p50_us_c32": loaded["p50_us"],
                "p99_us_c32": loaded["p99_us"],
                "rps_c32": loaded["rps"],
            }
        )
    database.dispose()
    return rows


def _app_id(database) -> str:
    with database.read() as connection:
        return str(connection.exec_driver_sql("SELECT id FROM apps WHERE name = 'bench'").scalar())


OPERATIONS = (
    ("start verification", "start"),
    ("check, right code", "check_right"),
    ("check, wrong code", "check_wrong"),
    ("full flow (requests)", "flow"),
)


def table(results: dict) -> str:
    ceiling = results["ceiling"]
    lines = [
        f"otpgate benchmark ({results['profile']}), commit {results['commit']}, "
        f"concurrency {CONCURRENCY}, {results.get('server', 'server')} on core {SERVER_CORE}, "
        f"wrk on core {LOAD_CORE}",
        f"hello-world ceiling: {ceiling['rps']:.0f} req/s (before {ceiling['before']:.0f}, "
        f"after {ceiling['after']:.0f}), p50 {ceiling['p50_us'] / 1000:.2f} ms, "
        f"p99 {ceiling['p99_us'] / 1000:.2f} ms",
    ]
    for engine, measured in results["engines"].items():
        lines += [
            "",
            f"{engine:<26}{'req/s':>10}{'x ceiling':>11}{'p50 ms':>9}{'p99 ms':>9}"
            f"{'CPU µs/op':>11}",
        ]
        for name, key in OPERATIONS:
            row = measured[key]
            lines.append(
                f"{name:<26}{row['rps']:>10.0f}{row['rps'] / ceiling['rps']:>11.2f}"
                f"{row['p50_us'] / 1000:>9.2f}{row['p99_us'] / 1000:>9.2f}"
                f"{row['cpu_us']:>11.0f}"
            )
        delivery = measured["delivery"]
        flows, worker = delivery["flows"], delivery["worker"]
        lines += [
            "(CPU µs/op: the server process's CPU over the run / operations answered; a full "
            "flow's is per flow)",
            f"full flows per second, developer outbox (start, read outbox, check): "
            f"{measured['flow']['flows_per_second']:.0f}, "
            f"{measured['flow']['cpu_us']:.0f} µs CPU per flow",
            f"two-step workflow flows per second (start [whatsapp 15 s, sms], /next, read the "
            f"sms from the outbox, check): {measured['workflow_flow']['flows_per_second']:.0f}, "
            f"{measured['workflow_flow']['cpu_us']:.0f} µs CPU per flow",
            f"full flows per second, real HTTP delivery (start, SMS to a local gateway, check): "
            f"{flows['flows_per_second']:.0f}, {flows['cpu_us']:.0f} µs CPU per flow, "
            f"p50 {flows['p50_us'] / 1000:.1f} ms, p99 {flows['p99_us'] / 1000:.1f} ms"
            + (f", {flows['failed']} failed" if flows["failed"] else ""),
            f"delivery of one message over HTTP: {worker['cpu_us']:.0f} µs CPU in one worker "
            f"({worker['messages']:,} messages, {worker['messages_per_second']:.0f}/s)",
        ]
        if "memory" not in measured:
            continue
        memory = measured["memory"]
        lines += [
            f"server RSS after {memory['verifications']:,} verifications: "
            f"{memory['rss_mb']:.0f} MB (idle after start: {memory['idle_rss_mb']:.0f} MB)",
            f"database bytes per verification (with its message and events): "
            f"{memory['db_bytes_per_1000'] / 1000:,.0f}",
            f"{'stored':>10}{'p50 c=1':>10}{'p99 c=1':>10}{'p50 c=32':>10}"
            f"{'p99 c=32':>10}{'req/s c=32':>12}   (check, wrong code; ms)",
        ]
        for row in measured["growth"]:
            lines.append(
                f"{row['stored']:>10,}{row['p50_us_c1'] / 1000:>10.2f}"
                f"{row['p99_us_c1'] / 1000:>10.2f}{row['p50_us_c32'] / 1000:>10.2f}"
                f"{row['p99_us_c32'] / 1000:>10.2f}{row['rps_c32']:>12.0f}"
            )
        first, last = measured["growth"][0], measured["growth"][-1]
        lines.append(
            f"check latency with {last['stored']:,} stored vs {first['stored']:,}: "
            f"{last['p50_us_c1'] / first['p50_us_c1']:.2f}x (p50, one connection)"
        )
        lines.append(
            f"{'read route (p50 ms, one connection)':<38}"
            + "".join(f"{row['stored']:>12,}" for row in measured["growth"])
            + f"{'ratio':>8}"
        )
        for route in first["reads_p50_us"]:
            values = [row["reads_p50_us"][route] for row in measured["growth"]]
            lines.append(
                f"{route:<38}"
                + "".join(f"{value / 1000:>12.2f}" for value in values)
                + f"{values[-1] / values[0]:>7.2f}x"
            )
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["hello world"]
    rows = [results["ceiling"]]
    for engine, measured in results["engines"].items():
        labels += [f"{engine}\n{name}" for name, _ in OPERATIONS]
        rows += [measured[key] for _, key in OPERATIONS]
    figure, (throughput, latency) = plt.subplots(1, 2, figsize=(13, 5))
    throughput.bar(
        labels, [row["rps"] for row in rows], color=["grey"] + ["tab:blue"] * (len(rows) - 1)
    )
    throughput.set_title("requests per second (concurrency 32, server on one core)")
    positions = range(len(rows))
    latency.bar(
        [x - 0.2 for x in positions],
        [row["p50_us"] / 1000 for row in rows],
        width=0.4,
        label="p50",
        color="tab:green",
    )
    latency.bar(
        [x + 0.2 for x in positions],
        [row["p99_us"] / 1000 for row in rows],
        width=0.4,
        label="p99",
        color="tab:red",
    )
    latency.set_xticks(list(positions), labels)
    latency.set_title("latency, ms")
    latency.legend()
    for axis in (throughput, latency):
        axis.tick_params(axis="x", labelrotation=70, labelsize=7)
    figure.suptitle(f"otpgate {results['commit']}, {results['date']} ({results['profile']})")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def postgres_engine(url: str) -> Engine | None:
    """PostgreSQL at `url`, if it answers; the benchmark then measures it beside SQLite."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    try:
        probe = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
        probe.dispose()
    except Exception as error:  # any failure to connect means: measure SQLite alone
        print(
            f"bench: PostgreSQL at {url} is not reachable ({type(error).__name__}); "
            "measuring SQLite only",
            file=sys.stderr,
        )
        return None
    return Engine("postgresql", url, measures_growth=False)


def measure_engine(
    profile: Profile, engine: Engine, workdir: Path, flame_graphs: Path | None
) -> dict:
    with fresh_database(engine, workdir / f"{engine.name}-main") as main_db:
        measured = measure_otpgate(profile, main_db, workdir / f"{engine.name}-main", flame_graphs)
    with fresh_database(engine, workdir / f"{engine.name}-delivery") as delivery_db:
        measured["delivery"] = measure_delivery(
            profile, delivery_db, workdir / f"{engine.name}-delivery"
        )
    if engine.measures_growth:
        with fresh_database(engine, workdir / f"{engine.name}-growth") as growth_db:
            measured["growth"] = measure_growth(
                profile, growth_db, workdir / f"{engine.name}-growth"
            )
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run, under a minute")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL server to measure beside SQLite (skipped if unreachable)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy flame graphs of start and check beside the results",
    )
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is not installed (make bench installs it)")
    profile = QUICK if arguments.quick else FULL
    commit = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        or "unknown"
    )
    date = dt.date.today().isoformat()
    out = BENCH / "results" / f"{date}-{commit}{'-quick' if arguments.quick else ''}"
    out.parent.mkdir(exist_ok=True)
    engines = [Engine("sqlite", None)]
    if (postgres := postgres_engine(arguments.postgres)) is not None:
        engines.append(postgres)
    workdir = Path(tempfile.mkdtemp(prefix="otpgate-bench-"))
    print(f"server: {DEFAULT_SERVER} (the hello-world ceiling's and otpgate serve's)", flush=True)
    try:
        before = measure_ceiling(profile.seconds)
        measured = {
            engine.name: measure_engine(
                profile, engine, workdir, out if arguments.profile else None
            )
            for engine in engines
        }
        after = measure_ceiling(profile.seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    # the ceiling is measured before and after: their mean is the reference, their
    # difference shows how much the machine drifted during the run
    ceiling = {key: (before[key] + after[key]) / 2 for key in ("rps", "p50_us", "p99_us")}
    results = {
        "profile": "quick" if arguments.quick else "full",
        "commit": commit,
        "date": date,
        "load_generator": "wrk",
        "concurrency": CONCURRENCY,
        "server": DEFAULT_SERVER,  # the ceiling's and otpgate's both
        "ceiling": {**ceiling, "before": before["rps"], "after": after["rps"]},
        "engines": measured,
    }
    print(table(results))
    out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    plot(results, out.with_suffix(".png"))
    print(
        f"\nresults: {out.with_suffix('.json').relative_to(ROOT)}, "
        f"plot: {out.with_suffix('.png').relative_to(ROOT)}"
    )


if __name__ == "__main__":
    main()
