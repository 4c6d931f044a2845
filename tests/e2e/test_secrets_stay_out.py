"""A full flow against `otpgate serve` at debug level: the code and the full number appear in
no log line, no API answer but the developer outbox, and no metric."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from support.numbers import new_mobile
from support.outbox import code_in, wrong_code
from support.served import StartOtpgate

pytestmark = pytest.mark.e2e


def spellings(number: str) -> list[str]:
    """Ways a full number could show: E.164, without +, the national significant number."""
    return [number, number[1:], number[3:]]  # +44 numbers in these tests


def test_neither_code_nor_number_leaks_from_a_full_flow(start_otpgate: StartOtpgate) -> None:
    served = start_otpgate(OTPGATE_LOG_LEVEL="debug")
    answers: list[tuple[str, httpx.Response]] = []

    def keep(response: httpx.Response) -> None:
        response.read()
        answers.append((response.request.url.path, response))

    served.http.event_hooks["response"].append(keep)
    shop = served.new_app("shop", resend_cooldown_seconds=0, template="{app} code: {code}")
    to, other = new_mobile(), new_mobile()

    # a 10-character code: too long to turn up in a timestamp or an id by chance
    verification = shop.started(to=to, code_length=10, external_id="cust-1", reference="r-1")
    code = shop.code_of(verification)
    assert re.fullmatch(r"[0-9]{10}", code)
    assert shop.start(to=to).status_code == 200  # the same code sent again
    assert shop.check(verification["id"], wrong_code(code)).json()["valid"] is False
    shop.get(verification["id"])
    shop.list(to=to)
    assert shop.check_by_number(to, code).json()["valid"] is True
    assert shop.check(verification["id"], code).status_code == 409
    served.http.get(f"/v1/verifications/{verification['id']}/messages", headers=shop.headers)

    second = shop.started(to=other, code_length=10)
    second_code = shop.code_of(second)
    for _ in range(5):
        shop.check(second["id"], wrong_code(second_code))
    assert shop.check(second["id"], second_code).json()["verification_status"] == "locked"
    shop.lookup(to)
    shop.start(to="+4412")  # a refusal, with the number in the request
    shop.cancel(shop.started(to=other, code_length=10)["id"])
    metrics = served.http.get("/metrics").text
    served.stop()

    logs = served.logs()
    assert "delivery_started" in logs and "message_sent" in logs  # the logs were captured
    assert len(re.findall(r"\] request +method=", logs)) >= len(answers)
    assert "Traceback" not in logs
    codes = [code, second_code]
    for secret in codes + spellings(to) + spellings(other):
        assert secret not in logs, f"{secret} is in the logs"
        assert secret not in metrics, f"{secret} is in /metrics"
    shown: list[str] = []
    for path, response in answers:
        text = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
        if path == "/v1/dev/outbox":
            shown += [code_in(m["body"]) for m in response.json()["messages"]]
            continue
        for secret in codes:
            assert secret not in text, f"the code is in the answer to {path}"
    assert set(shown) == set(codes)  # the outbox is where the codes were read


def test_a_failing_provider_leaks_no_number_into_json_logs(start_otpgate: StartOtpgate) -> None:
    served = start_otpgate(
        OTPGATE_LOG_LEVEL="debug",
        OTPGATE_LOG_FORMAT="json",
        OTPGATE_SMS_PROVIDER="http",
        OTPGATE_HTTP_URL="http://127.0.0.1:9/send",  # nothing listens: every send fails
        OTPGATE_HTTP_RECEIPTS="false",  # receipts are not what it tests
        OTPGATE_DELIVERY_RETRY_BASE_SECONDS="0.05",
    )
    to = new_mobile()
    verification = served.default_app().started(to=to)
    deadline = time.monotonic() + 10
    while "message_retry" not in served.logs():
        assert time.monotonic() < deadline, served.logs()
        time.sleep(0.05)
    served.stop()
    events = [json.loads(line) for line in served.logs().splitlines() if line.startswith("{")]
    requests = [e for e in events if e["event"] == "request"]
    assert requests and all(e["request_id"] for e in requests)
    assert any(e["event"] == "message_retry" for e in events)
    for secret in spellings(to):
        assert secret not in served.logs()
    assert verification["id"]  # the verification exists, its message keeps failing
