"""The native v1 API as one app sees it, over the in-process `TestClient` or a real
`httpx.Client`: the calls every test makes, so no test spells out the same JSON twice."""

from __future__ import annotations

from typing import Any

from support.bodies import verification_request
from support.outbox import read_code


class NativeApi:
    def __init__(self, http: Any, headers: dict[str, str]) -> None:
        self.http = http
        self.headers = headers

    def start(self, **fields: Any) -> Any:
        """`POST /v1/verifications` for a fresh number unless `to` is given."""
        return self.http.post(
            "/v1/verifications", json=verification_request(**fields), headers=self.headers
        )

    def started(self, **fields: Any) -> dict[str, Any]:
        answer = self.start(**fields)
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def get(self, verification_id: str) -> Any:
        return self.http.get(f"/v1/verifications/{verification_id}", headers=self.headers)

    def list(self, **params: Any) -> Any:
        return self.http.get("/v1/verifications", params=params, headers=self.headers)

    def check(self, verification_id: str, code: str, **fields: Any) -> Any:
        return self.http.post(
            f"/v1/verifications/{verification_id}/check",
            json={"code": code, **fields},
            headers=self.headers,
        )

    def check_by_number(self, to: str, code: str, **fields: Any) -> Any:
        return self.http.post(
            "/v1/verification-checks", json={"to": to, "code": code, **fields}, headers=self.headers
        )

    def cancel(self, verification_id: str) -> Any:
        return self.http.post(f"/v1/verifications/{verification_id}/cancel", headers=self.headers)

    def lookup(self, number: str, **params: Any) -> Any:
        return self.http.get(f"/v1/lookups/{number}", params=params, headers=self.headers)

    def outbox(self, **params: Any) -> Any:
        return self.http.get("/v1/dev/outbox", params=params, headers=self.headers)

    def code_of(self, verification: dict[str, Any], *, timeout: float = 2.0) -> str:
        """The code the person holding `verification["to"]` received for it."""
        return read_code(
            self.http,
            self.headers,
            verification["to"],
            verification_id=verification["id"],
            timeout=timeout,
        )
