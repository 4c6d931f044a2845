"""IDResponse PhoneMatch 5.0 SMS as one app's client sees it, over `TestClient` or httpx."""

from __future__ import annotations

import re
from typing import Any

GATEWAY = "/process/comprehensive/gateway"
CONTINUE = "/process/continue"
META_KEYS = ["confirmation", "reference", "service", "timestamp", "company", "user"]
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def assert_envelope(body: dict[str, Any], action: str, detail: str) -> None:
    """The vendor's envelope, field by field."""
    pending = action == "PENDING"
    expected = ["meta", "result", "output", *(["continuations"] if pending else [])]
    assert list(body) == expected, body
    assert list(body["meta"]) == META_KEYS
    assert body["meta"]["service"] == "PhoneMatch5.0.SMS"
    assert TIMESTAMP.fullmatch(body["meta"]["timestamp"])
    assert list(body["result"]) == ["action", "detail", "issues"]
    assert (body["result"]["action"], body["result"]["detail"]) == (action, detail), body
    assert all(isinstance(issue, str) for issue in body["result"]["issues"])
    assert body["output"] == {"outofband": {}}
    if pending:
        continuation = body["continuations"]["outofband"]
        assert list(continuation) == ["url", "template", "instructions"]
        assert continuation["url"] == "/process/continue"
        assert list(continuation["template"]) == ["token", "codematch"]
        assert continuation["template"]["codematch"] == {"key": None}
        token = continuation["template"]["token"]
        assert re.fullmatch(r"[a-z0-9]{32}", token)


class IdResponse:
    def __init__(self, http: Any, user: str, password: str) -> None:
        self.http = http
        self.user = user
        self.password = password

    def request(
        self,
        phone: str,
        *,
        message: str | None = None,
        types: list[str] | None = None,
        blacklist: list[str] | None = None,
        whitelist: list[str] | None = None,
        reference: str = "ref-1",
        **target: Any,
    ) -> dict[str, Any]:
        outofband: dict[str, Any] = {}
        if message is not None:
            outofband["message"] = message
        if types is not None:
            outofband["do_not_send_to_types"] = types
        if blacklist is not None or whitelist is not None:
            outofband["country"] = {"blacklist": blacklist or [], "whitelist": whitelist or []}
        return {
            "user": self.user,
            "pass": self.password,
            "service": "PhoneMatch5.0.SMS",
            "reference": reference,
            "options": {"outofband": outofband},
            "target": {"fn": "John", "ln": "Smith", "phone": phone, **target},
        }

    def gateway_raw(self, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        answer = self.http.post(GATEWAY, json=body)
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/json"
        result: dict[str, Any] = answer.json()
        return result

    def gateway(self, phone: str, **options: Any) -> dict[str, Any]:
        return self.gateway_raw(self.request(phone, **options))

    def pending(self, phone: str, **options: Any) -> str:
        """Start a transaction that must be PENDING; its token."""
        body = self.gateway(phone, **options)
        assert_envelope(body, "PENDING", "TRANSACTION REQUIRES FURTHER ATTENTION")
        token: str = body["continuations"]["outofband"]["template"]["token"]
        return token

    def continue_(self, token: Any, key: Any) -> dict[str, Any]:
        answer = self.http.post(CONTINUE, json={"token": token, "codematch": {"key": key}})
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result
