"""99 digital's Verify SMS as one app's client sees it, over `TestClient` or `httpx.Client`."""

from __future__ import annotations

from typing import Any

PATH = "/sms/verifySMS"
SEND_KEYS = {"status", "unique", "timestamp", "from", "reason"}
CHECK_KEYS = {"status", "phone"}


class NinetyNine:
    def __init__(self, http: Any, api_key: str) -> None:
        self.http = http
        self.api_key = api_key

    def post(self, fields: dict[str, Any], *, encoding: str = "urlencoded") -> dict[str, Any]:
        """POST the form (url-encoded, multipart or JSON); every answer is HTTP 200 JSON."""
        if encoding == "multipart":
            answer = self.http.post(PATH, files={k: (None, v) for k, v in fields.items()})
        elif encoding == "json":
            answer = self.http.post(PATH, json=fields)
        else:
            answer = self.http.post(PATH, data=fields)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json"
        body: dict[str, Any] = answer.json()
        return body

    def send(self, to: str, **fields: Any) -> dict[str, Any]:
        answer = self.post({"apiKey": self.api_key, "from": "Shop", "to": to, **fields})
        assert set(answer) == SEND_KEYS, answer
        return answer

    def check(self, to: str, code: str, **fields: Any) -> dict[str, Any]:
        answer = self.post({"apiKey": self.api_key, "to": to, "code": code, **fields})
        assert set(answer) == CHECK_KEYS, answer
        return answer
