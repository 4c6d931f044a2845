"""A small local HTTP SMS gateway for the benchmark, and the load client that reads codes from it.

otpgate's `http` provider posts `{"to": …, "text": …}` to `/sms`; the gateway keeps the code of
each message by number. Alone (`--port`) it only counts what it took (`GET /count`). With
`--flows URL` the same process also runs full flows against otpgate: start a verification,
wait for the gateway to receive its message, check the code; a flow counts when the check
approves. One JSON line with the figures is printed at the end.

The HTTP on both sides is a few lines of asyncio streams, not an HTTP library: the client has
to cost little beside the server it measures (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

CODE = re.compile(r"code is (\w+)")
WAIT_FOR_MESSAGE_SECONDS = 30


@dataclass
class Gateway:
    """The messages otpgate sent, by number, until a client takes the code."""

    taken: int = 0
    codes: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, asyncio.Future[str]] = field(default_factory=dict)

    def deliver(self, to: str, text: str) -> None:
        self.taken += 1
        found = CODE.search(text)
        code = found.group(1) if found else ""
        waiter = self.waiting.pop(to, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(code)
        else:
            self.codes[to] = code

    async def code_for(self, to: str) -> str:
        if to in self.codes:
            return self.codes.pop(to)
        waiter = asyncio.get_running_loop().create_future()
        self.waiting[to] = waiter
        return await asyncio.wait_for(waiter, WAIT_FOR_MESSAGE_SECONDS)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                method, path, _headers, body = await read_request(reader)
                if method == "POST" and path == "/sms":
                    message = json.loads(body)
                    self.deliver(message["to"], message["text"])
                    answer = json.dumps({"id": f"gw{self.taken}"}).encode()
                elif path == "/count":
                    answer = json.dumps({"messages": self.taken}).encode()
                else:
                    answer = b"{}"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer)
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers = dict(_header(line) for line in lines[1:] if line)
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return method, path, headers, body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(_header(line) for line in lines[1:] if line)
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(lines[0].split(" ", 2)[1]), body


def _header(line: str) -> tuple[str, str]:
    name, _, value = line.partition(":")
    return name.strip().lower(), value.strip()


@dataclass
class Flows:
    done: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # why, e.g. "start 429"
    seconds: list[float] = field(default_factory=list)


async def run_flows(
    gateway: Gateway, url: str, key: str, client: int, until: float, flows: Flows
) -> None:
    """One connection doing flows one after the other until `until`."""
    address = urlsplit(url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)

    async def post(path: str, document: dict[str, str]) -> tuple[int, bytes]:
        body = json.dumps(document).encode()
        writer.write(
            b"POST %s HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (path.encode(), key.encode(), len(body), body)
        )
        return await read_response(reader)

    sequence = 0
    while time.monotonic() < until:
        sequence += 1
        number = f"+4475{client + 500:03d}{sequence:05d}"  # UK mobiles no other phase uses
        began = time.monotonic()
        status, body = await post("/v1/verifications", {"to": number})
        if status not in (200, 201):
            flows.failed[f"start {status}"] += 1
            continue
        verification_id = json.loads(body)["id"]
        try:
            code = await gateway.code_for(number)
        except TimeoutError:
            flows.failed["no message"] += 1
            continue
        status, body = await post(f"/v1/verifications/{verification_id}/check", {"code": code})
        if status == 200 and json.loads(body)["valid"] is True:
            flows.done += 1
            flows.seconds.append(time.monotonic() - began)
        else:
            flows.failed[f"check {status} {body[:80].decode(errors='replace')}"] += 1
    writer.close()


async def main(arguments: argparse.Namespace) -> None:
    gateway = Gateway()
    listening = await asyncio.start_server(gateway.serve, "127.0.0.1", arguments.port)
    if arguments.flows is None:
        async with listening:
            await listening.serve_forever()
        return
    flows = Flows()
    began = time.monotonic()
    until = began + arguments.seconds
    await asyncio.gather(
        *(
            run_flows(gateway, arguments.flows, arguments.key, client, until, flows)
            for client in range(arguments.connections)
        )
    )
    elapsed = time.monotonic() - began
    listening.close()
    latencies = sorted(flows.seconds) or [0.0]
    print(
        json.dumps(
            {
                "flows": flows.done,
                "failed": sum(flows.failed.values()),
                "failures": dict(flows.failed),
                "messages": gateway.taken,
                "duration_us": elapsed * 1e6,
                "flows_per_second": flows.done / elapsed,
                "p50_us": latencies[len(latencies) // 2] * 1e6,
                "p99_us": latencies[int(len(latencies) * 0.99)] * 1e6,
            }
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--flows", help="otpgate's base URL: run full flows against it")
    parser.add_argument("--key", default="", help="the bench app's API key")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    try:
        from uvloop import run
    except ImportError:  # uvicorn[standard] brings it; plain asyncio does too, a little slower
        from asyncio import run
    run(main(parser.parse_args()))
