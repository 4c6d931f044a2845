"""What `otpgate serve` does on its first start, on the next one, and with a bad setting."""

from __future__ import annotations

import signal
import stat
import subprocess
from pathlib import Path

import pytest
from support.served import OTPGATE, ServedOtpgate, StartOtpgate, clean_environment

pytestmark = pytest.mark.e2e


def test_the_first_start_prints_the_key_and_admin_token_once(
    start_otpgate: StartOtpgate, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = start_otpgate(data_dir=data_dir)
    assert first.first_start is not None
    assert set(first.first_start) == {"app", "api_key", "admin_token"}
    assert first.first_start["app"] == "default"
    api = first.default_app()
    assert api.start().status_code == 201
    apps = first.http.get("/v1/apps", headers=first.admin_headers).json()["apps"]
    assert [app["name"] for app in apps] == ["default"]
    printed = first.first_start
    # uvicorn re-raises SIGTERM after a graceful shutdown, so a supervisor sees the signal
    assert first.stop() in (0, -signal.SIGTERM)
    assert "shutdown_complete" in first.logs()

    second = start_otpgate(data_dir=data_dir)
    assert second.first_start is None
    assert second.stdout == b""
    assert printed["api_key"] not in second.logs()
    assert printed["admin_token"] not in second.logs()
    # the secrets printed the first time still work on the second start
    assert second.http.get("/v1/apps", headers=first.admin_headers).status_code == 200
    still = second.http.get("/v1/verifications", headers=api.headers)
    assert still.status_code == 200 and len(still.json()["verifications"]) == 1


def test_generated_secrets_are_files_only_the_owner_can_read(otpgate: ServedOtpgate) -> None:
    assert otpgate.first_start is not None
    for name in ("secret_key", "admin_token"):
        path = otpgate.data_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    written = (otpgate.data_dir / "admin_token").read_text().strip()
    assert written == otpgate.first_start["admin_token"]


def test_an_admin_token_from_the_environment_is_not_printed(
    start_otpgate: StartOtpgate, tmp_path: Path
) -> None:
    token = "operator-chosen-admin-token-123"
    served = start_otpgate(OTPGATE_ADMIN_TOKEN=token)
    assert served.first_start is not None
    assert served.first_start["admin_token"] is None
    assert served.first_start["api_key"]
    assert not (served.data_dir / "admin_token").exists()
    headers = {"Authorization": f"Bearer {token}"}
    assert served.http.get("/v1/apps", headers=headers).status_code == 200


BAD_SETTINGS = {
    "OTPGATE_LOG_LEVEL": "loud",
    "OTPGATE_SMS_PROVIDER": "carrier-pigeon",
    "OTPGATE_ADMIN_TOKEN": "short",
    "OTPGATE_DATABASE_URL": "mysql://db/otpgate",
}


def test_a_bad_setting_stops_the_start_with_one_line_naming_it(tmp_path: Path) -> None:
    starts = {  # side by side: each start is a Python process that imports everything
        variable: subprocess.Popen(
            [OTPGATE, "serve", "--port", "1"],
            env=clean_environment(tmp_path / variable, **{variable: value}),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for variable, value in BAD_SETTINGS.items()
    }
    for variable, start in starts.items():
        stdout, stderr = start.communicate(timeout=60)
        assert start.returncode != 0, variable
        assert stdout == b"", variable
        lines = stderr.decode().strip().splitlines()
        assert len(lines) == 1, (variable, lines)
        assert lines[0].startswith(f"otpgate: {variable}: "), lines[0]
