"""The SMPP provider over TLS, against the SMSC simulator served behind TLS with a test CA."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from peers.otpgate import Credentials, LiveOtpgate, StartOtpgate, wait_until
from peers.smsc_process import SmscProcess
from support.certificates import TestAuthority


@pytest.fixture
def authority(tmp_path: Path) -> TestAuthority:
    return TestAuthority(tmp_path / "ca")


@pytest.fixture
def tls_smsc(tmp_path: Path, authority: TestAuthority) -> Iterator[SmscProcess]:
    certificate = authority.issue("localhost", "127.0.0.1")
    with SmscProcess(tmp_path / "submits.jsonl", tls=certificate) as process:
        yield process


def started_and_delivered(otpgate: LiveOtpgate, app: Credentials, to: str) -> dict[str, Any]:
    started = otpgate.start_verification(app, to)
    otpgate.wait_for_delivery(app, started["id"], "delivered")
    return started


def tls_settings(smsc: SmscProcess, ca_file: Path, **more: object) -> dict[str, object]:
    return {
        "sms_provider": "smpp",
        "smpp_host": "localhost",
        "smpp_port": smsc.port,
        "smpp_system_id": "otpgate",
        "smpp_password": "secret",
        "smpp_timeout_seconds": 2.0,
        "smpp_tls": True,
        "smpp_tls_ca_file": ca_file,
        **more,
    }


def test_submit_sm_and_its_receipt_travel_over_tls(
    start_otpgate: StartOtpgate, tls_smsc: SmscProcess, authority: TestAuthority
) -> None:
    otpgate = start_otpgate(**tls_settings(tls_smsc, authority.ca_file))
    app = otpgate.create_app()
    started = started_and_delivered(otpgate, app, "+447123120131")

    [submit] = tls_smsc.accepted()
    assert submit["destination"] == "447123120131"
    [message] = otpgate.messages(app, started["id"])
    assert message["provider_message_id"] == submit["id"]


def test_a_dropped_tls_link_is_rebound(
    start_otpgate: StartOtpgate, tls_smsc: SmscProcess, authority: TestAuthority
) -> None:
    otpgate = start_otpgate(**tls_settings(tls_smsc, authority.ca_file))
    app = otpgate.create_app()
    started_and_delivered(otpgate, app, "+447123120132")

    tls_smsc.drop_links()
    later = otpgate.start_verification(app, "+447123120133")

    otpgate.wait_for_delivery(app, later["id"], "delivered", timeout=30)


def test_a_certificate_from_another_ca_is_refused_with_the_reason(
    start_otpgate: StartOtpgate, tls_smsc: SmscProcess, tmp_path: Path
) -> None:
    stranger = TestAuthority(tmp_path / "other-ca", name="some other CA")
    otpgate = start_otpgate(**tls_settings(tls_smsc, stranger.ca_file))
    app = otpgate.create_app()
    started = otpgate.start_verification(app, "+447123120134")

    found = first_error(otpgate, app, started["id"])

    assert "TLS certificate refused" in found and "unable to get local issuer" in found
    assert tls_smsc.submits() == []


def test_a_certificate_for_another_name_is_refused(
    start_otpgate: StartOtpgate, tmp_path: Path, authority: TestAuthority
) -> None:
    certificate = authority.issue("smsc.example.net")
    with SmscProcess(tmp_path / "submits.jsonl", tls=certificate) as smsc:
        otpgate = start_otpgate(**tls_settings(smsc, authority.ca_file))
        app = otpgate.create_app()
        started = otpgate.start_verification(app, "+447123120135")

        found = first_error(otpgate, app, started["id"])

        assert "TLS certificate refused" in found and "Hostname mismatch" in found


@pytest.mark.parametrize(
    ("name_setting", "to"),
    [
        ({"smpp_tls_server_name": "smsc.example.net"}, "+447123120136"),
        ({"smpp_tls_check_hostname": False}, "+447123120137"),
    ],
    ids=["the expected server name given", "the name check turned off"],
)
def test_a_certificate_for_another_name_is_accepted_when_told(
    start_otpgate: StartOtpgate,
    tmp_path: Path,
    authority: TestAuthority,
    name_setting: dict[str, object],
    to: str,
) -> None:
    certificate = authority.issue("smsc.example.net")
    with SmscProcess(tmp_path / "submits.jsonl", tls=certificate) as smsc:
        otpgate = start_otpgate(**tls_settings(smsc, authority.ca_file, **name_setting))

        started_and_delivered(otpgate, otpgate.create_app(), to)


def test_a_client_certificate_is_shown_to_an_smsc_that_asks(
    start_otpgate: StartOtpgate, tmp_path: Path, authority: TestAuthority
) -> None:
    clients = TestAuthority(tmp_path / "client-ca", name="client CA")
    client = clients.issue("otpgate")
    server = authority.issue("localhost")
    smsc = SmscProcess(tmp_path / "submits.jsonl", tls=server, tls_client_ca=clients.ca_file)
    with smsc:
        otpgate = start_otpgate(
            **tls_settings(
                smsc,
                authority.ca_file,
                smpp_tls_cert_file=client.cert_file,
                smpp_tls_key_file=client.key_file,
            )
        )

        started_and_delivered(otpgate, otpgate.create_app(), "+447123120138")


def first_error(otpgate: LiveOtpgate, app: Credentials, verification_id: str) -> str:
    """The error recorded on the verification's message, once there is one."""
    [message] = wait_until(
        lambda: otpgate.messages(app, verification_id),
        lambda found: found and found[0]["last_error"],
        15,
        what="an error on the message",
    )
    error: str = message["last_error"]
    return error
