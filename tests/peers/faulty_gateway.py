"""An SMS gateway (otpgate's `http` provider, default JSON body) that fails on command: it
answers at once, too slowly, with a 5xx, or cuts the connection mid-answer; or it flaps
between up and down. It records every message it took, as a phone would receive it.

A slow answer and a cut one are taken (the SMS goes out) before the answer is lost, as with a
real gateway: the sender cannot tell, retries, and the phone gets the message twice. Those are
the duplicates that at-least-once delivery allows; the fault tests count them."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support.history import Delivery

MODES = ("up", "slow", "error", "cut", "flap")
_CODE = re.compile(r"\b[0-9a-z]{4,10}\b(?=[^0-9a-z]*$)")


@dataclass
class Taken:
    delivery: Delivery
    text: str
    mode: str  # what the gateway was doing as it took the message


class FaultyGateway:
    def __init__(self, *, slow_seconds: float = 3.0, flap_seconds: float = 2.0) -> None:
        self.mode = "up"
        self.slow_seconds = slow_seconds
        self.flap_seconds = flap_seconds  # up, then down, for this long each
        self.taken: list[Taken] = []
        self.refused = 0  # requests answered 5xx or cut before the message was taken
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                try:
                    fields = json.loads(self.rfile.read(length))
                except (ValueError, OSError):  # the sender died mid-request (kill -9)
                    _reply(self, 400, {"error": "unreadable"})
                    return
                gateway._answer(self, fields)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/sms"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FaultyGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return [taken.delivery for taken in self.taken]

    def taken_by_mode(self) -> dict[str, int]:
        with self._lock:
            return dict(Counter(taken.mode for taken in self.taken))

    def code_for(self, to: str) -> str | None:
        """The code in the newest message to `to`, as the person would read it."""
        with self._lock:
            texts = [taken.text for taken in self.taken if taken.delivery.to == to]
        if not texts:
            return None
        found = _CODE.search(texts[-1])
        assert found, texts[-1]
        return found.group(0)

    def _mode_now(self) -> str:
        if self.mode != "flap":
            return self.mode
        return "up" if int(time.monotonic() / self.flap_seconds) % 2 == 0 else "error"

    def _take(self, fields: dict[str, Any], mode: str) -> None:
        delivery = Delivery(str(fields["reference"]), str(fields["to"]), time.monotonic())
        with self._lock:
            self.taken.append(Taken(delivery, str(fields["text"]), mode))

    def _answer(self, handler: BaseHTTPRequestHandler, fields: dict[str, Any]) -> None:
        mode = self._mode_now()
        if mode == "error":
            with self._lock:
                self.refused += 1
            _reply(handler, 503, {"error": "try later"})
            return
        self._take(fields, mode)
        if mode == "slow":
            time.sleep(self.slow_seconds)
        if mode == "cut":
            # headers that promise a body, half of it, then the connection is gone
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "64")
            handler.end_headers()
            handler.wfile.write(b'{"messages": [')
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return
        _reply(handler, 200, {"messages": [{"id": fields["reference"], "status": "accepted"}]})


def _reply(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
    except OSError:
        pass  # the sender gave up waiting (a slow answer past its timeout)
