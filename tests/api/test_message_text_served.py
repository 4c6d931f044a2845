"""Message text through the API: locales, the origin-bound line, app hashes, segments."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.numbers import israeli_e164, new_israeli_mobile
from support.outbox import wait_for_messages

from otpgate.domain.message_text import builtin_texts

FRENCH = "+33612345678"
GERMAN = "+4915123456789"
BRAZILIAN = "+5511987654321"
HASH = "FA+9qCX9VSu"


class MessageApp:
    """An app's key, name and admin id, and the calls these tests make with them."""

    def __init__(self, client: TestClient, handle: Any, admin_headers: dict[str, str]) -> None:
        self.client, self.handle, self.admin = client, handle, admin_headers

    def start(self, **fields: Any) -> Any:
        return self.client.post("/v1/verifications", json=fields, headers=self.handle.headers)

    def body_to(self, to: str) -> str:
        newest = wait_for_messages(self.client, self.handle.headers, to)[0]
        body: str = newest["body"]
        return body

    def messages_of(self, verification_id: str) -> list[dict[str, Any]]:
        answer = self.client.get(
            f"/v1/verifications/{verification_id}/messages", headers=self.handle.headers
        )
        assert answer.status_code == 200, answer.text
        messages: list[dict[str, Any]] = answer.json()["messages"]
        return messages

    def change(self, **settings: Any) -> Any:
        return self.client.patch(
            f"/v1/apps/{self.handle.id}", json={"settings": settings}, headers=self.admin
        )

    def preview(self, **fields: Any) -> Any:
        return self.client.post(
            f"/v1/apps/{self.handle.id}/message-preview", json=fields, headers=self.admin
        )


@pytest.fixture
def message_app(client: TestClient, make_app: Any, admin_headers: dict[str, str]) -> Any:
    def make(**settings: Any) -> MessageApp:
        return MessageApp(client, make_app(settings), admin_headers)

    return make


def built_in(tag: str, brand: str, code: str) -> str:
    return builtin_texts()[tag].replace("{app}", brand).replace("{code}", code)


@pytest.mark.parametrize(
    ("to", "locale"),
    [(FRENCH, "fr"), (GERMAN, "de"), (BRAZILIAN, "pt-BR"),
     (israeli_e164(new_israeli_mobile()), "he")],
)  # fmt: skip
def test_a_number_gets_its_countrys_language_by_default(
    message_app: Any, to: str, locale: str
) -> None:
    app = message_app()
    created = app.start(to=to)
    assert created.status_code == 201, created.text
    assert created.json()["locale"] == locale
    assert (
        app.client.get(
            f"/v1/verifications/{created.json()['id']}", headers=app.handle.headers
        ).json()["locale"]
        == locale
    )
    body = app.body_to(to)
    code = body.rsplit(" ", 1)[-1]
    assert body == built_in(locale, app.handle.name, code)


@pytest.mark.parametrize("to", [FRENCH, GERMAN, BRAZILIAN, israeli_e164(new_israeli_mobile())])
def test_with_locale_from_number_false_every_number_gets_english(message_app: Any, to: str) -> None:
    app = message_app(locale_from_number=False)
    created = app.start(to=to)
    assert created.json()["locale"] == "en"
    body = app.body_to(to)
    assert body == built_in("en", app.handle.name, body.rsplit(" ", 1)[-1])


def test_the_requests_locale_falls_back_along_its_chain(message_app: Any) -> None:
    app = message_app(brand="Mayflower", default_locale="de")
    assert app.start(to=FRENCH, locale="es-MX").json()["locale"] == "es"
    assert app.body_to(FRENCH).startswith("Tu código de Mayflower es ")
    assert app.start(to=GERMAN, locale="tlh").json()["locale"] == "de"


@pytest.mark.parametrize("locale", ["x!", "en--US", "abcd", "e"])
def test_a_locale_that_is_not_bcp_47_is_a_400_invalid_locale(message_app: Any, locale: str) -> None:
    refused = message_app().start(to=FRENCH, locale=locale)
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert (refused.json()["code"], refused.json()["field"]) == ("invalid_locale", "locale")


def test_the_apps_text_for_a_locale_comes_before_its_template(message_app: Any) -> None:
    app = message_app(template="Code: {code}", templates={"fr": "Votre code {app} : {code}"})
    app.start(to=FRENCH)
    assert app.body_to(FRENCH).startswith(f"Votre code {app.handle.name} : ")
    app.start(to=GERMAN)
    assert app.body_to(GERMAN).startswith("Code: ")
    app.start(to=BRAZILIAN, template="Seu código: {code}")
    assert app.body_to(BRAZILIAN).startswith("Seu código: ")


def test_every_message_ends_with_the_origin_bound_line_and_holds_the_app_hash(
    message_app: Any,
) -> None:
    app = message_app(
        webotp_domain="shop.example", webotp_embedded_domain="pay.example", android_app_hash=HASH
    )
    app.start(to=GERMAN)
    text, app_hash, empty, last = app.body_to(GERMAN).split("\n")
    code = text.rsplit(" ", 1)[-1]
    assert (app_hash, empty, last) == (HASH, "", f"@shop.example #{code} %pay.example")


def test_each_message_shows_its_encoding_and_segments_never_its_text(message_app: Any) -> None:
    app = message_app()
    english = app.start(to="+447123123456").json()
    hebrew = app.start(to=israeli_e164(new_israeli_mobile())).json()
    [gsm] = app.messages_of(english["id"])
    [ucs] = app.messages_of(hebrew["id"])
    assert (gsm["encoding"], gsm["segments"]) == ("gsm7", 1)
    assert (ucs["encoding"], ucs["segments"]) == ("ucs2", 1)
    assert "body" not in gsm and "text" not in gsm


def test_a_request_template_longer_than_max_segments_is_refused(message_app: Any) -> None:
    app = message_app(max_segments=1)
    refused = app.start(to=GERMAN, template="{code} " + "x" * 160)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_template"
    two = message_app().start(to=GERMAN, template="{code} " + "x" * 160)
    assert two.status_code == 201


def test_settings_under_which_a_template_is_too_long_are_refused(message_app: Any) -> None:
    app = message_app(template="{code} " + "x" * 160)
    refused = app.change(max_segments=1)
    assert refused.status_code == 400
    assert (refused.json()["code"], refused.json()["field"]) == (
        "invalid_template",
        "settings.template",
    )
    hashed = app.change(android_app_hash=HASH)
    assert hashed.status_code == 400 and "140" in hashed.json()["detail"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"webotp_domain": "https://shop.example"}, "settings.webotp_domain"),
     ({"android_app_hash": "short"}, "settings.android_app_hash"),
     ({"brand": "B" * 31}, "settings.brand"),
     ({"max_segments": 11}, "settings.max_segments"),
     ({"locale_from_number": "yes"}, "settings.locale_from_number"),
     ({"templates": {"fr": "no code"}}, "settings.templates.fr")],
)  # fmt: skip
def test_a_bad_message_setting_is_a_400_naming_it(
    message_app: Any, changes: dict[str, Any], field: str
) -> None:
    refused = message_app().change(**changes)
    assert refused.status_code == 400, refused.text
    assert refused.json()["field"] == field


def test_a_bad_default_locale_is_invalid_locale(message_app: Any) -> None:
    refused = message_app().change(default_locale="not a tag")
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_locale")


def test_the_locales_are_listed_with_their_english_names(
    client: TestClient, message_app: Any
) -> None:
    app = message_app()
    answer = client.get("/v1/locales", headers=app.handle.headers)
    assert answer.status_code == 200
    locales = answer.json()["locales"]
    assert len(locales) >= 40
    assert {"tag": "fr", "name": "French"} in locales
    assert {"tag": "pt-BR", "name": "Portuguese (Brazil)"} in locales
    assert client.get("/v1/locales").status_code == 401


def test_an_admin_previews_the_message_with_the_sample_code(message_app: Any) -> None:
    app = message_app(brand="Mayflower", webotp_domain="shop.example")
    shown = app.preview(to=FRENCH, locale=None, template=None)
    assert shown.status_code == 200, shown.text
    assert shown.json() == {
        "locale": "fr",
        "body": "Votre code de vérification Mayflower : 123456\n\n@shop.example #123456",
        "encoding": "gsm7",
        "segments": 1,
    }
    hebrew = app.preview(to="0502345678", country="IL").json()
    assert (hebrew["locale"], hebrew["encoding"]) == ("he", "ucs2")
    own = app.preview(to=FRENCH, locale="de", template="{code} für {app}").json()
    assert (own["locale"], own["body"].split("\n")[0]) == ("de", "123456 für Mayflower")


def test_a_preview_needs_the_admin_token_and_valid_input(message_app: Any) -> None:
    app = message_app()
    as_app = app.client.post(
        f"/v1/apps/{app.handle.id}/message-preview",
        json={"to": FRENCH},
        headers=app.handle.headers,
    )
    assert as_app.status_code in (401, 403)
    assert app.preview(to=FRENCH, locale="x!").json()["code"] == "invalid_locale"
    assert app.preview(to="not a number").json()["code"] == "invalid_phone_number"
    assert app.preview(to=FRENCH, template="no code").json()["code"] == "invalid_template"
    unknown = app.client.post(
        "/v1/apps/app_nope/message-preview", json={"to": FRENCH}, headers=app.admin
    )
    assert unknown.status_code == 404
