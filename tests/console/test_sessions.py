"""Console sessions over HTTP (no browser): signing in, idling out, signing out for good."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from otpgate.config import Settings
from otpgate.domain.channels import Channel
from otpgate.runtime import Runtime, build_runtime, migrate
from otpgate.server import create_app
from otpgate.service.verifications import StartRequest

ADMIN_TOKEN = "test-admin-token-0123456789"  # the `settings` fixture's


def signed_in(client: TestClient, token: str = ADMIN_TOKEN) -> Any:
    form = client.get("/console/")
    login = re.search(r'name="login" value="([^"]+)"', form.text)
    assert login is not None, form.text
    return client.post(
        "/console/login", data={"login": login.group(1), "token": token}, follow_redirects=False
    )


def test_the_right_token_opens_a_session_with_a_strict_cookie(client: TestClient) -> None:
    answer = signed_in(client)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # OTPGATE_PUBLIC_URL is not https here
    assert client.get("/console/apps").status_code == 200


def test_a_wrong_token_is_401_and_opens_nothing(client: TestClient) -> None:
    answer = signed_in(client, "not-the-admin-token-at-all")

    assert answer.status_code == 401
    assert "that is not the admin token" in answer.text
    assert client.get("/console/apps", follow_redirects=False).status_code == 303


def test_a_sign_in_without_its_form_value_is_refused(client: TestClient) -> None:
    answer = client.post("/console/login", data={"token": ADMIN_TOKEN}, follow_redirects=False)

    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers


def test_a_session_ends_after_twelve_idle_hours_and_use_extends_it(
    client: TestClient, clock: Any
) -> None:
    signed_in(client)
    clock.advance(11 * 3600)
    assert client.get("/console/apps").status_code == 200  # used: twelve more hours
    clock.advance(11 * 3600)
    assert client.get("/console/apps").status_code == 200
    clock.advance(12 * 3600 + 1)

    assert client.get("/console/apps", follow_redirects=False).status_code == 303


def test_signing_out_ends_the_session_even_for_a_copied_cookie(client: TestClient) -> None:
    signed_in(client)
    copied = client.cookies.get("otpgate_console")
    page = client.get("/console/apps").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None

    assert client.post("/console/logout", data={"csrf": csrf.group(1)}).status_code == 200

    assert copied is not None
    client.cookies.set("otpgate_console", copied)
    replay = client.get("/console/apps", follow_redirects=False)
    assert replay.status_code == 303


def test_a_forged_cookie_is_no_session(client: TestClient) -> None:
    signed_in(client)
    token = client.cookies.get("otpgate_console")
    assert token is not None
    forged = token.split(".")[0] + "." + "0" * 64
    client.cookies.clear()
    client.cookies.set("otpgate_console", forged)

    answer = client.get("/console/apps", follow_redirects=False)
    assert answer.status_code == 303


def served_with(settings: Settings, clock: Any, **changes: Any) -> Runtime:
    runtime = build_runtime(settings.model_copy(update=changes), clock=clock)
    migrate(runtime)
    return runtime


def wrong_sign_in(client: TestClient) -> int:
    """The status of a sign-in with a wrong token: the form's own once the caller is refused
    (a refused address is refused on every path, the form included)."""
    form = client.get("/console/")
    if form.status_code == 429:
        return form.status_code
    return signed_in(client, "wrong-token-0123456").status_code


def test_wrong_tokens_are_throttled_like_wrong_api_keys(settings: Settings, clock: Any) -> None:
    runtime = served_with(settings, clock, failed_authentications_per_minute=3)
    try:
        with TestClient(create_app(runtime)) as client:
            answers = [wrong_sign_in(client) for _ in range(5)]
    finally:
        runtime.close()

    # the failure that passes the limit is still answered; the caller is refused from then on
    assert answers[:4] == [401, 401, 401, 401]
    assert answers[4:] == [429]


@pytest.mark.parametrize("https", [True, False])
def test_the_cookie_is_secure_when_the_public_url_is_https(
    settings: Settings, clock: Any, https: bool
) -> None:
    public_url = "https://otp.example.com" if https else "http://otp.example.com"
    runtime = served_with(settings, clock, public_url=public_url)
    try:
        with TestClient(create_app(runtime), base_url="https://testserver") as client:
            answer = signed_in(client)
    finally:
        runtime.close()

    assert ("Secure" in answer.headers["set-cookie"]) is https


def test_the_outbox_page_shows_only_the_channels_whose_provider_is_the_outbox(
    settings: Settings, clock: Any
) -> None:
    runtime = served_with(settings, clock, sms_provider="http", http_url="http://127.0.0.1:9/")
    try:
        app = runtime.apps.create_app("shop", {"channels": ["sms", "call"]})
        runtime.verifications.start(app, StartRequest(to="+447400123456"))
        runtime.verifications.start(app, StartRequest(to="+447400123457", channel=Channel.CALL))
        with TestClient(create_app(runtime, deliver=False)) as client:
            signed_in(client)
            overview = client.get("/console/")
            outbox = client.get("/console/outbox")
    finally:
        runtime.close()

    # calls still go to the outbox (OTPGATE_VOICE_PROVIDER's default); the SMS goes by http
    assert 'href="/console/outbox"' in overview.text
    assert outbox.status_code == 200
    assert "+447400123457" in outbox.text and "+447400123456" not in outbox.text
