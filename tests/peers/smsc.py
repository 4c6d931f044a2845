"""An SMSC simulator on smpp34's server, run as its own process by the test fixtures.

It accepts any bind, answers each submit_sm with a message id and, when a receipt is asked
for, sends a deliver_sm receipt (`stat:DELIVRD`, or `stat:UNDELIV` for a destination ending
0000) with the receipted_message_id and message_state TLVs after `--dlr-delay` seconds.
Destinations steer it further: ending 0400 is refused with ESME_RINVDSTADR; ending 0503 is
answered ESME_RTHROTTLED the first `--throttle-times` times; ending 0777 gets its receipt
*before* its submit_sm_resp, as real SMSCs sometimes do. SIGUSR1 unbinds every session (the
SMSC dropping the link mid-stream). Every submit_sm is appended to `--log` as a JSON line.
With `--tls-cert` and `--tls-key` it is served behind TLS on `--port` (smpp34's server has
no TLS: a relay in this process terminates it in front of the simulator's own port), and
with `--tls-client-ca` it also asks the client for a certificate.

    python -m peers.smsc --port 2775 --log submits.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import signal
import socket
import ssl
import sys
import time
from typing import Any

import smpp34

STATE_DELIVERED, STATE_UNDELIVERABLE = 2, 5
RESPONSE_TIMER_SECONDS = 5.0


class Simulator:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.sessions: dict[str, Any] = {}
        self.ids = itertools.count(1)
        self.throttled: dict[str, int] = {}
        self.log = open(options.log, "a", buffering=1)  # noqa: SIM115 - lives as long as we do
        self.tasks: set[asyncio.Task[None]] = set()
        # receipts whose session went away wait for the next bind, as an SMSC's do
        self.undelivered_receipts: list[tuple[str, bytes, str, list[Any]]] = []
        self.tls_front: asyncio.Server | None = None

    async def run(self) -> None:
        port = self.options.port
        if self.options.tls_cert:
            port = free_port()
            self.tls_front = await serve_tls_in_front(self.options, port)
        server = smpp34.Server(host="127.0.0.1", port=port, system_id="SIMSMSC")
        await server.start()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR1, self.drop_all)
        print("ready", flush=True)
        while True:
            event = await server.next()
            if isinstance(event, smpp34.Esme):
                self.sessions[event.session_id] = event
                waiting, self.undelivered_receipts = self.undelivered_receipts, []
                for receipt in waiting:
                    self.spawn(self.push(event, *receipt))
            elif isinstance(event, smpp34.SubmitSmEvent):
                self.submitted(event)
            elif isinstance(event, smpp34.Unbound):
                self.sessions.pop(event.session_id, None)

    def drop_all(self) -> None:
        for session in list(self.sessions.values()):
            self.spawn(session.unbind())
        self.sessions.clear()

    def spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def submitted(self, event: Any) -> None:
        destination = event.destination_addr
        record = {
            "at": time.time(),
            "source": event.source_addr,
            "destination": destination,
            "data_coding": event.data_coding,
            "esm_class": event.esm_class,
            "registered_delivery": event.registered_delivery,
            "short_message": event.short_message.hex(),
            "tlvs": {f"{tlv.tag:04x}": tlv.value.hex() for tlv in event.tlvs},
        }
        if destination.endswith("0400"):
            event.reject(smpp34.ESME_RINVDSTADR)
            self.log.write(json.dumps({**record, "status": "rejected"}) + "\n")
            return
        if destination.endswith("0503"):
            seen = self.throttled.get(destination, 0)
            if seen < self.options.throttle_times:
                self.throttled[destination] = seen + 1
                event.reject(smpp34.ESME_RTHROTTLED)
                self.log.write(json.dumps({**record, "status": "throttled"}) + "\n")
                return
        message_id = f"{next(self.ids):08X}"
        self.log.write(json.dumps({**record, "status": "accepted", "id": message_id}) + "\n")
        wants_receipt = event.registered_delivery & 1
        if destination.endswith("0777") and wants_receipt:
            self.spawn(self.receipt_then_accept(event, message_id))
            return
        event.accept(message_id=message_id)
        if wants_receipt:
            self.spawn(self.receipt(event, message_id, self.options.dlr_delay))

    async def receipt_then_accept(self, event: Any, message_id: str) -> None:
        await self.receipt(event, message_id, 0)
        event.accept(message_id=message_id)

    async def receipt(self, event: Any, message_id: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        now = time.strftime("%y%m%d%H%M")
        delivered = not event.destination_addr.endswith("0000")
        stat = "DELIVRD" if delivered else "UNDELIV"
        text = (
            f"id:{message_id} sub:001 dlvrd:{'001' if delivered else '000'} submit date:{now} "
            f"done date:{now} stat:{stat} err:{'000' if delivered else '001'} text:"
        )
        state = STATE_DELIVERED if delivered else STATE_UNDELIVERABLE
        tlvs = [
            smpp34.Tlv(smpp34.TLV_RECEIPTED_MESSAGE_ID, message_id.encode() + b"\0"),
            smpp34.Tlv(smpp34.TLV_MESSAGE_STATE, bytes([state])),
        ]
        receipt = (event.source_addr, text.encode(), event.destination_addr, tlvs)
        session = self.sessions.get(event.session_id) or next(iter(self.sessions.values()), None)
        if session is None:
            self.undelivered_receipts.append(receipt)  # the link is gone: for the next bind
            return
        await self.push(session, *receipt)

    async def push(self, session: Any, to: str, text: bytes, source: str, tlvs: list[Any]) -> None:
        for _ in range(50):
            try:
                # a killed ESME never answers: its receipt goes to another session once the
                # response timer runs out, as an SMSC's does
                await asyncio.wait_for(
                    session.deliver_sm(to, text, source_addr=source, esm_class=0x04, tlvs=tlvs),
                    RESPONSE_TIMER_SECONDS,
                )
                return
            except Exception as exc:  # a session closing under us: try another live one
                print(f"receipt not sent yet: {exc!r}", file=sys.stderr, flush=True)
                await asyncio.sleep(0.2)
                # a killed ESME's session can stay listed until its Unbound comes: the first
                # listed session may be the very one that failed
                live = list(self.sessions.values())
                if not live:
                    break
                others = [other for other in live if other is not session]
                session = random.choice(others or live)
        self.undelivered_receipts.append((to, text, source, tlvs))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def serve_tls_in_front(options: argparse.Namespace, plain_port: int) -> asyncio.Server:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(options.tls_cert, options.tls_key)
    if options.tls_client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(options.tls_client_ca)

    async def relay(tls_reader: asyncio.StreamReader, tls_writer: asyncio.StreamWriter) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", plain_port)
        except OSError:
            tls_writer.close()
            return
        # either side ending ends both, as one TCP link would
        await asyncio.wait(
            [
                asyncio.ensure_future(pump(tls_reader, writer)),
                asyncio.ensure_future(pump(reader, tls_writer)),
            ],
            return_when=asyncio.FIRST_COMPLETED,
        )
        writer.close()
        tls_writer.close()

    return await asyncio.start_server(relay, "127.0.0.1", options.port, ssl=context)


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (OSError, ssl.SSLError):
        pass  # the link broke: the caller closes both ends


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--dlr-delay", type=float, default=0.05)
    parser.add_argument("--throttle-times", type=int, default=2)
    parser.add_argument("--tls-cert", help="PEM certificate: serve behind TLS")
    parser.add_argument("--tls-key", help="PEM key of --tls-cert")
    parser.add_argument("--tls-client-ca", help="PEM CA: ask clients for a certificate it signed")
    asyncio.run(Simulator(parser.parse_args()).run())


if __name__ == "__main__":
    main()
