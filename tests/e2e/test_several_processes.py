"""What one process or one command changes, every process of `serve --workers 2` sees at once."""

from __future__ import annotations

import subprocess

import httpx
import pytest
from support.bodies import verification_request
from support.served import OTPGATE, ServedOtpgate

pytestmark = pytest.mark.e2e


def on_new_connections(served: ServedOtpgate, count: int = 8) -> list[httpx.Client]:
    """Clients that each open their own connection, so requests land on either process."""
    return [httpx.Client(base_url=served.url, timeout=30) for _ in range(count)]


def test_a_key_revoked_by_the_command_line_fails_at_once_on_every_process(
    two_processes: ServedOtpgate,
) -> None:
    created = two_processes.http.post(
        "/v1/apps", json={"name": "revoked-by-cli"}, headers=two_processes.admin_headers
    ).json()
    key = two_processes.http.post(
        f"/v1/apps/{created['id']}/keys", headers=two_processes.admin_headers
    ).json()
    headers = {"Authorization": f"Bearer {key['api_key']}"}
    clients = on_new_connections(two_processes)
    assert {c.get("/v1/verifications", headers=headers).status_code for c in clients} == {200}

    revoked = subprocess.run(
        [OTPGATE, "keys", "revoke", key["key_id"]],
        env=two_processes.command_environment(),
        cwd=two_processes.data_dir.parent,
        capture_output=True,
        timeout=60,
    )
    assert revoked.returncode == 0, revoked.stderr

    assert {c.get("/v1/verifications", headers=headers).status_code for c in clients} == {401}
    for client in clients:
        client.close()


def test_changed_settings_apply_at_once_on_every_process(two_processes: ServedOtpgate) -> None:
    api = two_processes.new_app("patched-everywhere")
    clients = on_new_connections(two_processes)
    for client in clients:  # each process has now read (and may cache) the app's settings
        assert client.get("/v1/verifications", headers=api.headers).status_code == 200
    app_id = two_processes.http.get("/v1/apps", headers=two_processes.admin_headers).json()
    app_id = next(a["id"] for a in app_id["apps"] if a["name"] == "patched-everywhere")
    patched = two_processes.http.patch(
        f"/v1/apps/{app_id}",
        json={"settings": {"max_attempts": 2}},
        headers=two_processes.admin_headers,
    )
    assert patched.status_code == 200
    started = [
        client.post("/v1/verifications", json=verification_request(), headers=api.headers).json()
        for client in clients
    ]
    assert {v["max_attempts"] for v in started} == {2}
    for client in clients:
        client.close()
