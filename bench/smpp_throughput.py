"""SMPP submit throughput of one delivery worker against the SMSC simulator, receipts flowing.

    .venv/bin/python bench/smpp_throughput.py [--messages 2000] [--window 64] [--batch 64]
                                              [--in-flight 2]

Prints two figures: the SMPP sender alone (concurrent sends straight into `SmppSender`), and
the whole worker (queue claim in SQLite, send, record results, apply receipts).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from peers.smsc_process import SmscProcess  # noqa: E402

from otpgate.config import Settings  # noqa: E402
from otpgate.delivery.protocol import InboundReceipt, OutgoingSms  # noqa: E402
from otpgate.delivery.senders.smpp import SmppConfig, SmppSender  # noqa: E402
from otpgate.logs import configure_logging  # noqa: E402
from otpgate.runtime import build_runtime, migrate  # noqa: E402
from otpgate.service.verifications import StartRequest  # noqa: E402

BENCH_APP_SETTINGS = {
    "sends_per_app_minute": 1_000_000,
    "messages_per_day": 100_000_000,
    "messages_per_country_day": 100_000_000,
    "fraud_guard": False,
}


def numbers(count: int) -> list[str]:
    # the simulator steers on some endings (0000, 0400, 0503, 0777): avoid them
    found = []
    suffix = 10001
    while len(found) < count:
        if not str(suffix).endswith(("0000", "0400", "0503", "0777")):
            found.append(f"+447123{suffix:06d}")
        suffix += 1
    return found


async def sender_alone(port: int, count: int, window: int) -> None:
    receipts = 0
    all_receipts = asyncio.Event()

    async def sink(_receipt: InboundReceipt) -> None:
        nonlocal receipts
        receipts += 1
        if receipts == count:
            all_receipts.set()

    sender = SmppSender(
        SmppConfig("127.0.0.1", port, "bench", "bench", window=window, timeout_seconds=30),
        sink,
    )
    await sender.send(OutgoingSms("warm-up", "app", "ver", "+447123999999", None, "hello"))
    receipts = 0
    started = time.perf_counter()
    await asyncio.gather(
        *(
            sender.send(OutgoingSms(f"m{n}", "app", "ver", to, "ACME", f"Your code is {n:06d}"))
            for n, to in enumerate(numbers(count))
        )
    )
    submitted = time.perf_counter() - started
    await asyncio.wait_for(all_receipts.wait(), 60)
    received = time.perf_counter() - started
    await sender.close()
    print(
        f"sender alone   : {count} submit_sm in {submitted:.2f}s = {count / submitted:,.0f}/s;"
        f" all receipts after {received:.2f}s (window {window})"
    )


def whole_worker(
    port: int, count: int, window: int, options_batch: int = 64, in_flight: int = 2
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            data_dir=Path(folder),
            admin_token="bench-admin-token-0123456789",
            secret_key="bench-secret-key-0123456789abcdefghijklmn",
            sms_provider="smpp",
            smpp_host="127.0.0.1",
            smpp_port=port,
            smpp_system_id="bench",
            smpp_password="bench",
            smpp_window=window,
            smpp_timeout_seconds=30,
            delivery_batch_size=options_batch,
            delivery_batches_in_flight=in_flight,
        )
        runtime = build_runtime(settings)
        migrate(runtime)
        # thousands of codes to one range in seconds, never entered: the abuse limits would
        # rightly refuse them; their thresholds are lifted out of the way, as in bench/run.py
        app = runtime.apps.create_app("bench", BENCH_APP_SETTINGS)
        queued = time.perf_counter()
        for to in numbers(count):
            runtime.verifications.start(app, StartRequest(to=to))
        queued = time.perf_counter() - queued

        async def drain() -> tuple[float, float]:
            # the worker's own loop, batches in flight as configured, until all are delivered
            stop = asyncio.Event()
            started = time.perf_counter()
            running = asyncio.ensure_future(runtime.worker.run(stop))
            sent = 0.0
            while True:
                await asyncio.sleep(0.05)
                with runtime.database.read() as connection:
                    statuses = dict(
                        connection.exec_driver_sql(
                            "SELECT status, count(*) FROM messages GROUP BY status"
                        ).all()
                    )
                if not sent and not statuses.get("queued") and not statuses.get("sending"):
                    sent = time.perf_counter() - started
                if statuses.get("delivered", 0) >= count or time.perf_counter() - started > 120:
                    break
            done = time.perf_counter() - started
            stop.set()
            await running
            return sent or done, done

        sent, done = asyncio.run(drain())
        runtime.close()
        print(
            f"whole worker   : {count} messages sent in {sent:.2f}s = {count / sent:,.0f}/s;"
            f" all delivered (receipts applied) after {done:.2f}s"
            f" (queued them in {queued:.1f}s; batch {options_batch}, {in_flight} in flight,"
            " SQLite)"
        )


def main() -> None:
    configure_logging("warning")
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--dlr-delay", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--in-flight", type=int, default=2, help="batches under way at once")
    options = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        SmscProcess(Path(folder) / "submits.jsonl", dlr_delay=options.dlr_delay) as smsc,
    ):
        asyncio.run(sender_alone(smsc.port, options.messages, options.window))
        whole_worker(smsc.port, options.messages, options.window, options.batch, options.in_flight)


if __name__ == "__main__":
    main()
