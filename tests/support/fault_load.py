"""Load for the fault tests: client threads that start verifications, re-send some, flood
wrong codes at some, check the right code (read from the SMS gateway, as a phone would) on
the rest, and record every request and answer in a `History`. After the load, `final_state`
reads back what the service kept and what it sent."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from peers.faulty_gateway import FaultyGateway

from support.history import History
from support.numbers import new_mobile

SECRET_KEY = "faults-secret-key-0123456789abcdefghijklmn"
ADMIN_TOKEN = "faults-admin-token-0123456789"
RECEIPT_TOKEN = "faults-receipt-token-0123456789"


MAX_ATTEMPTS = 5
# one app takes the whole load from one address: the abuse limits are for other tests
LOAD_APP_SETTINGS: dict[str, Any] = {
    "fraud_guard": False,
    "resend_cooldown_seconds": 0,
    "max_attempts": MAX_ATTEMPTS,
    "sends_per_ip_hour": 1_000_000,
    "checks_per_ip_hour": 1_000_000,
    "sends_per_app_minute": 1_000_000,
    "messages_per_day": 100_000_000,
    "messages_per_country_day": 100_000_000,
}
# a start of `serve` on a machine the whole suite keeps busy (the default is 20 s)
START_TIMEOUT_SECONDS = 90.0
CLIENT_TIMEOUT_SECONDS = 10.0
CODE_WAIT_SECONDS = 3.0
FINAL_READERS = 4  # clients reading the final state at once
NO_ANSWER_PAUSE_SECONDS = 0.05  # between tries while the server is gone, as a client backs off


class VerificationLoad:
    """`clients` threads driving one app through `url` until `stop`."""

    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        history: History,
        gateway: FaultyGateway,
        *,
        clients: int = 4,
        seed: int = 15,
    ) -> None:
        self.url = url
        self.headers = headers
        self.history = history
        self.gateway = gateway
        self._random = random.Random(seed)
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(self._random.random(),), daemon=True)
            for _ in range(clients)
        ]

    def start(self) -> VerificationLoad:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=CLIENT_TIMEOUT_SECONDS * (MAX_ATTEMPTS + 3))

    def _client(self, seed: float) -> None:
        choose = random.Random(seed)
        with httpx.Client(base_url=self.url, timeout=CLIENT_TIMEOUT_SECONDS) as http:
            while not self._stopping.is_set():
                self._one_verification(http, choose)

    def _one_verification(self, http: httpx.Client, choose: random.Random) -> None:
        to = new_mobile()
        started = self._start(http, to)
        if started is None:
            time.sleep(NO_ANSWER_PAUSE_SECONDS)
            return
        if choose.random() < 0.2:
            self._start(http, to)  # a re-send: the same code in a second message
        code = self._wait_for_code(to)
        plan = choose.random()
        if plan < 0.3:  # a wrong-code flood: more than the attempts allowed
            for _ in range(MAX_ATTEMPTS + 2):
                self._check(http, started, _wrong(code), right=False)
        else:
            for _ in range(choose.randrange(0, 3)):
                self._check(http, started, _wrong(code), right=False)
            if code is not None:
                self._check(http, started, code, right=True)

    def _start(self, http: httpx.Client, to: str) -> str | None:
        operation = self.history.call(
            "start",
            lambda: http.post("/v1/verifications", json={"to": to}, headers=self.headers),
            to=to,
        )
        return operation.verification_id

    def _check(self, http: httpx.Client, verification_id: str, code: str, *, right: bool) -> None:
        self.history.call(
            "check",
            lambda: http.post(
                f"/v1/verifications/{verification_id}/check",
                json={"code": code},
                headers=self.headers,
            ),
            verification_id=verification_id,
            right_code=right,
        )

    def _wait_for_code(self, to: str) -> str | None:
        deadline = time.monotonic() + CODE_WAIT_SECONDS
        while not self._stopping.is_set() and time.monotonic() < deadline:
            code = self.gateway.code_for(to)
            if code is not None:
                return code
            time.sleep(0.02)
        return None


def _wrong(code: str | None) -> str:
    return "000000" if code != "000000" else "111111"


def load_app(http: httpx.Client) -> dict[str, str]:
    """A new app with LOAD_APP_SETTINGS, through the admin API; its key's headers."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    created = http.post(
        "/v1/apps",
        json={"name": f"load-{new_mobile()}", "settings": LOAD_APP_SETTINGS},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    key = http.post(f"/v1/apps/{created.json()['id']}/keys", headers=admin)
    assert key.status_code == 201, key.text
    return {"Authorization": f"Bearer {key.json()['api_key']}"}


def acknowledged_ids(history: History) -> set[str]:
    return {
        operation.verification_id
        for operation in history.operations
        if operation.kind == "start" and operation.status in (200, 201)
        if operation.verification_id is not None
    }


def final_state(
    http: httpx.Client, headers: dict[str, str], ids: set[str], *, settle_seconds: float = 120.0
) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Every verification in `ids`, and its messages, once none of its messages waits for
    delivery any more (so the gateway has had every chance); read by a few clients at once."""
    deadline = time.monotonic() + settle_seconds
    final: dict[str, dict[str, Any]] = {}
    messages: dict[str, list[dict[str, Any]]] = {}

    def read(verification_id: str) -> bool:
        """Read one; True when it is settled (or gone: the invariant check says so)."""
        found = http.get(f"/v1/verifications/{verification_id}", headers=headers)
        if found.status_code == 404:
            return True
        listed = http.get(f"/v1/verifications/{verification_id}/messages", headers=headers)
        if found.status_code != 200 or listed.status_code != 200:
            return False
        final[verification_id] = found.json()
        messages[verification_id] = listed.json()["messages"]
        return all(m["status"] not in ("queued", "sending") for m in messages[verification_id])

    waiting = sorted(ids)
    with ThreadPoolExecutor(FINAL_READERS) as readers:
        while waiting:
            settled = list(readers.map(read, waiting))
            waiting = [vid for vid, done in zip(waiting, settled, strict=True) if not done]
            if not waiting or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    return final, messages


def wait_for_answers(history: History, count: int, *, after: float, timeout: float) -> float:
    """Wait until `count` starts or checks ended after `after` with a 2xx answer;
    returns when the first of them ended (the service was back), in monotonic seconds."""
    deadline = time.monotonic() + timeout
    while True:
        ends = sorted(
            operation.ended
            for operation in list(history.operations)
            if operation.ended > after and operation.status is not None and operation.status < 300
        )
        if len(ends) >= count:
            return ends[0]
        assert time.monotonic() < deadline, f"fewer than {count} answers in {timeout}s"
        time.sleep(0.02)


class Prober:
    """Asks `path` every `interval` seconds in a thread; keeps (time, status or None)."""

    def __init__(self, url: str, path: str, interval: float = 0.1) -> None:
        self.seen: list[tuple[float, int | None]] = []
        self._url, self._path, self._interval = url, path, interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._probe, daemon=True)

    def start(self) -> Prober:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)

    def statuses_between(self, start: float, end: float) -> set[int | None]:
        return {status for moment, status in self.seen if start <= moment <= end}

    def _probe(self) -> None:
        with httpx.Client(base_url=self._url, timeout=2) as http:
            while not self._stopping.wait(self._interval):
                try:
                    status: int | None = http.get(self._path).status_code
                except httpx.TransportError:
                    status = None
                self.seen.append((time.monotonic(), status))


def fault_settings(gateway: FaultyGateway, **more: str) -> dict[str, str]:
    """What every served process of a fault test runs with: fixed secrets (a restart keeps
    them), the faulty gateway as SMS provider, short leases so a message a crash stranded goes
    out again within seconds (10 s). The gateway runs in the busy test process: a generous timeout,
    and a circuit that closes again within a second, so that a slow moment of the test's own
    does not use up a message's eight tries (each try skipped by an open circuit counts)."""
    return {
        "OTPGATE_SECRET_KEY": SECRET_KEY,
        "OTPGATE_ADMIN_TOKEN": ADMIN_TOKEN,
        "OTPGATE_SMS_PROVIDER": "http",
        "OTPGATE_HTTP_URL": gateway.url,
        "OTPGATE_HTTP_TIMEOUT_SECONDS": "5",
        "OTPGATE_CIRCUIT_RESET_SECONDS": "1",
        "OTPGATE_HTTP_RECEIPT_TOKEN": RECEIPT_TOKEN,
        # longer than a send may take (the timeout): a lease that ran out mid-send would let a
        # second lane send the same message, and count a try for it each time
        "OTPGATE_DELIVERY_LEASE_SECONDS": "10",
        "OTPGATE_DELIVERY_RETRY_BASE_SECONDS": "1",
        "OTPGATE_LOG_LEVEL": "warning",
        **more,
    }
