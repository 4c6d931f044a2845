"""Fault 5: schemathesis against the served /openapi.json, within a bounded budget: every
operation, positive and negative data, the stateful links the document declares. No answer
is a server error, and every answer matches its documented status, headers and schema."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.served import ServedOtpgate, serving

pytestmark = pytest.mark.e2e

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
SEED = "15"
EXAMPLES_PER_OPERATION = "8"
# Starlette answers a method a path does not have with the Allow of the first route on that
# path only (FastAPI declares GET and POST of one path as two routes): a known gap
# (docs/reliability.md). A phone number that fits the schema's string need not be a number,
# so schema-valid data is not always accepted.
LEFT_OUT_CHECKS = "allow_header_conformance,positive_data_acceptance"
ADMIN_PATHS = "^/v1/apps"
GENERATED = re.compile(r"(\d+) generated")
# one app takes every request from one address: its abuse limits are for other tests
OPEN_LIMITS = {
    "sends_per_ip_hour": 1_000_000,
    "checks_per_ip_hour": 1_000_000,
    "sends_per_app_minute": 1_000_000,
    "sends_per_number_10min": 1000,
    "sends_per_number_day": 10_000,
    "resend_cooldown_seconds": 0,
    "max_sends": 20,
    "fraud_guard": False,
}


def fuzz(served: ServedOtpgate, token: str, budget_seconds: int, *filters: str) -> str:
    """Run schemathesis with `token` as Bearer; the output, asserting it found nothing."""
    done = subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{served.url}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--exclude-checks",
            LEFT_OUT_CHECKS,
            "--max-examples",
            EXAMPLES_PER_OPERATION,
            "--max-time",
            str(budget_seconds),
            "--seed",
            SEED,
            # one worker: hypothesis describes its filters from source, which is not thread-safe
            "--workers",
            "1",
            "--no-color",
            *filters,
        ],
        capture_output=True,
        text=True,
        timeout=budget_seconds * 3 + 60,
        cwd=served.data_dir.parent,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-20_000:]
    return output


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    tmp_path: Path, record_property: object
) -> None:
    # schemathesis sends wrong credentials on purpose, and expects them answered 401: the
    # throttle on repeated failures (tested on its own, finding 7) is lifted out of its way
    with serving(tmp_path, OTPGATE_FAILED_AUTHENTICATIONS_PER_MINUTE="1000000") as served:
        assert served.first_start is not None
        admin = served.first_start["admin_token"]
        [default] = served.http.get("/v1/apps", headers=served.admin_headers).json()["apps"]
        patched = served.http.patch(
            f"/v1/apps/{default['id']}",
            json={"settings": OPEN_LIMITS},
            headers=served.admin_headers,
        )
        assert patched.status_code == 200, patched.text
        outputs = [
            fuzz(served, served.first_start["api_key"], 30, "--exclude-path-regex", ADMIN_PATHS),
            fuzz(served, admin, 10, "--include-path-regex", ADMIN_PATHS),
        ]
        logs = served.logs()
    generated = sum(int(found) for out in outputs for found in GENERATED.findall(out))
    row = f"| fuzzing (schemathesis, seed {SEED}) | 2 | {generated} | 0 | - | - |"
    print(row)
    record_property("reliability", row)  # type: ignore[operator]
    assert generated > 0
    assert "Traceback" not in logs
