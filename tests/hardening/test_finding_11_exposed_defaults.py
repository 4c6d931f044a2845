"""Finding 11: bound to an address others can reach, `serve` says loudly that the developer
outbox and the open /metrics and /docs are defaults for one machine; an operations token
keeps /metrics and the API description off the public listener; the server stack's
dependency floors are past their published advisories."""

from __future__ import annotations

import subprocess
import time
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from support.served import OTPGATE, StartOtpgate, clean_environment, free_port

OPERATIONS_TOKEN = "operations-token-0123456789"
ROOT = Path(__file__).parents[2]


def test_serving_on_a_public_address_with_the_defaults_warns(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [OTPGATE, "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        env=clean_environment(tmp_path / "data"),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        seen = ""
        deadline = time.monotonic() + 30
        while "Uvicorn running" not in seen:
            assert time.monotonic() < deadline and process.poll() is None, seen
            seen += process.stderr.readline()
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert "WARNING: serving on 0.0.0.0 with the developer outbox" in seen
    assert "set OTPGATE_OPERATIONS_TOKEN" in seen


def test_the_operations_token_keeps_metrics_and_docs_to_its_holder(
    start_otpgate: StartOtpgate,
) -> None:
    served = start_otpgate(OTPGATE_OPERATIONS_TOKEN=OPERATIONS_TOKEN)
    holder = {"Authorization": f"Bearer {OPERATIONS_TOKEN}"}
    for path in ("/metrics", "/docs", "/redoc", "/openapi.json"):
        assert served.http.get(path).status_code == 401, path
        assert served.http.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert served.http.get(path, headers=holder).status_code == 200, path
    assert served.http.get("/healthz").status_code == 200  # probes need no token


def test_dependency_floors_are_past_the_published_advisories() -> None:
    floors = {
        Requirement(line).name: Requirement(line).specifier
        for line in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    # (last affected release, first fixed one) of the latest advisory each: CVE-2026-54283
    # (starlette), CVE-2026-42561 and GHSA-v9pg-7xvm-68hf (python-multipart), CVE-2025-43859
    # (h11), GHSA-cq5v-8q36-5273 (aiohttp's response parser, the HTTP gateway provider's client)
    fixed = {
        "starlette": ("1.3.0", "1.3.1"),
        "python-multipart": ("0.0.31", "0.0.32"),
        "h11": ("0.15.0", "0.16.0"),
        "aiohttp": ("3.14.2", "3.14.3"),
    }
    for name, (affected, first_fixed) in fixed.items():
        assert not floors[name].contains(affected), name
        assert floors[name].contains(first_fixed), name
    locked = dict(
        line.split("==")
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line
    )
    for name in fixed:
        assert floors[name].contains(locked[name]), name
