"""Finding 2: a provider whose receipts anyone could forge (http without a token, vonage
without a signature secret) stops the start, naming the setting, unless its receipts are
turned off; early receipts (for ids with no message yet) are bounded in format and count."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy
from support.served import OTPGATE, StartOtpgate, clean_environment

HTTP = {"OTPGATE_SMS_PROVIDER": "http", "OTPGATE_HTTP_URL": "http://127.0.0.1:9/send"}
VONAGE = {
    "OTPGATE_SMS_PROVIDER": "vonage",
    "OTPGATE_VONAGE_API_KEY": "key",
    "OTPGATE_VONAGE_API_SECRET": "secret",
}
TOKEN = "receipt-token-0123456789"


@pytest.mark.parametrize(
    ("provider", "setting"),
    [(HTTP, "OTPGATE_HTTP_RECEIPT_TOKEN"), (VONAGE, "OTPGATE_VONAGE_SIGNATURE_SECRET")],
)
def test_a_provider_with_unauthenticated_receipts_stops_the_start(
    tmp_path: Path, provider: dict[str, str], setting: str
) -> None:
    finished = subprocess.run(
        [OTPGATE, "serve", "--port", "1"],
        env=clean_environment(tmp_path / "data", **provider),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 2
    assert finished.stderr.strip().startswith(f"otpgate: {setting}:"), finished.stderr


def test_receipts_turned_off_are_not_taken(start_otpgate: StartOtpgate) -> None:
    served = start_otpgate(**HTTP, OTPGATE_HTTP_RECEIPTS="false")
    forged = served.http.get("/v1/receipts/http", params={"id": "msg_x", "status": "1"})
    assert forged.status_code == 404


def early_receipts(served_settings: dict[str, str], data_dir: Path) -> int:
    url = served_settings.get("OTPGATE_DATABASE_URL") or f"sqlite:///{data_dir / 'otpgate.db'}"
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM early_receipts").scalar())
    finally:
        engine.dispose()


def test_early_receipts_are_bounded_in_format_and_count(
    engine_settings: Callable[[], dict[str, str]], start_otpgate: StartOtpgate
) -> None:
    settings = {
        **engine_settings(),
        **HTTP,
        "OTPGATE_HTTP_RECEIPT_TOKEN": TOKEN,
        "OTPGATE_EARLY_RECEIPTS_MAX": "3",
    }
    served = start_otpgate(**settings)

    def receipt(message_id: str) -> int:
        params = {"id": message_id, "status": "1", "token": TOKEN}
        return served.http.get("/v1/receipts/http", params=params).status_code

    # ids that cannot be a message's (too long, not our format) are not kept
    assert receipt("x" * 5000) == 204
    assert receipt("not a message id") == 204
    assert early_receipts(settings, served.data_dir) == 0
    # well-formed ids of messages not recorded yet wait, up to the cap
    for number in range(6):
        assert receipt(f"msg_{number:024d}") == 204
    assert early_receipts(settings, served.data_dir) == 3
