"""A provider's HTTP API on 127.0.0.1, in a thread: records every request, answers through
`handle`, and calls back (receipts) from a thread of its own, as a provider does."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    json: Any = None


@dataclass
class Answer:
    status: int
    body: Any = None  # dict/list: JSON; str/bytes: as is
    headers: Mapping[str, str] = field(default_factory=dict)


class FakeHttpPeer:
    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.callbacks: list[tuple[str, int]] = []  # (url, status our server answered)
        self._lock = threading.Lock()
        self._counters: dict[str, int] = {}
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                kind = seen.headers.get("content-type", "").split(";")[0]
                if kind == "application/x-www-form-urlencoded":
                    seen.form = dict(parse_qsl(body.decode(), keep_blank_values=True))
                elif kind == "application/json" and body:
                    seen.json = json.loads(body)
                with peer._lock:
                    peer.seen.append(seen)
                answer = peer.handle(seen)
                payload = answer.body
                content_type = "text/plain"
                if isinstance(payload, dict | list):
                    payload = json.dumps(payload).encode()
                    content_type = "application/json"
                elif isinstance(payload, str):
                    payload = payload.encode()
                elif payload is None:
                    payload = b""
                self.send_response(answer.status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeHttpPeer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, request: Seen) -> Answer:
        raise NotImplementedError

    def count(self, key: str) -> int:
        """How many times `key` was seen before, counting this one (for fail-N-times rules)."""
        with self._lock:
            self._counters[key] = self._counters.get(key, 0) + 1
            return self._counters[key]

    def call_back(
        self,
        steps: list[tuple[float, Callable[[httpx.Client], httpx.Response]]],
    ) -> None:
        """Run callback requests after their delays, in order, from a thread of their own."""

        def run() -> None:
            with httpx.Client(timeout=10) as client:
                for delay, make in steps:
                    time.sleep(delay)
                    try:
                        response = make(client)
                        status = response.status_code
                        url = str(response.request.url)
                    except httpx.HTTPError as exc:
                        status, url = -1, repr(exc)
                    with self._lock:
                        self.callbacks.append((url, status))

        threading.Thread(target=run, daemon=True).start()
