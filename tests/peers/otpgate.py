"""otpgate itself on a real port (uvicorn in a thread, delivery running), so providers can
call its receipt routes the way they would in production."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from otpgate.runtime import Runtime
from otpgate.server import create_app


@dataclass
class Credentials:
    app_id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


class LiveOtpgate:
    def __init__(self, runtime: Runtime, sock: socket.socket, admin_token: str) -> None:
        self.runtime = runtime
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._sock = sock
        self.admin_headers = {"Authorization": f"Bearer {admin_token}"}
        config = uvicorn.Config(create_app(runtime), log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def start(self) -> LiveOtpgate:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("otpgate did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.http.close()
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self.runtime.close()

    def create_app(self, settings: dict[str, Any] | None = None) -> Credentials:
        created = self.http.post(
            "/v1/apps",
            json={"name": f"app-{time.monotonic_ns()}", "settings": settings or {}},
            headers=self.admin_headers,
        )
        assert created.status_code == 201, created.text
        app_id = created.json()["id"]
        key = self.http.post(f"/v1/apps/{app_id}/keys", headers=self.admin_headers)
        assert key.status_code == 201, key.text
        return Credentials(app_id, key.json()["api_key"])

    def webhook_secret(self, app: Credentials, *, rotate: bool = False) -> str:
        path = f"/v1/apps/{app.app_id}/webhook-secret"
        answer = (self.http.post if rotate else self.http.get)(path, headers=self.admin_headers)
        assert answer.status_code == 200, answer.text
        secret: str = answer.json()["webhook_secret"]
        return secret

    def start_verification(self, app: Credentials, to: str, **fields: Any) -> dict[str, Any]:
        answer = self.http.post("/v1/verifications", json={"to": to, **fields}, headers=app.headers)
        assert answer.status_code in (200, 201), answer.text
        body: dict[str, Any] = answer.json()
        return body

    def verification(self, app: Credentials, verification_id: str) -> dict[str, Any]:
        answer = self.http.get(f"/v1/verifications/{verification_id}", headers=app.headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def messages(self, app: Credentials, verification_id: str) -> list[dict[str, Any]]:
        answer = self.http.get(f"/v1/verifications/{verification_id}/messages", headers=app.headers)
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["messages"]
        return found

    def wait_for_delivery(
        self, app: Credentials, verification_id: str, *statuses: str, timeout: float = 15.0
    ) -> dict[str, Any]:
        """Poll until the verification's delivery status is one of `statuses`."""
        return wait_until(
            lambda: self.verification(app, verification_id),
            lambda found: found["delivery_status"] in statuses,
            timeout,
            what=f"delivery status in {statuses}",
        )


StartOtpgate = Callable[..., LiveOtpgate]  # the `start_otpgate` fixture


def wait_until(
    read: Callable[[], Any], done: Callable[[Any], bool], timeout: float, *, what: str
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout}s for {what}; last: {value}")
        time.sleep(0.05)


def reserve_port() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def closed_port_url() -> str:
    """A URL nothing listens on: a provider that is down."""
    sock = reserve_port()
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"
