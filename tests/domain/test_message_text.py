"""The origin-bound last line, the app hash, and the settings that shape a message's text."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from otpgate.domain.errors import LocaleInvalid, SettingInvalid, TemplateInvalid
from otpgate.domain.message_text import (
    MessageOptions,
    builtin_texts,
    compose,
    enforce_message_limits,
    preview_message,
)
from otpgate.domain.policy import AppSettings, apply_settings

HASH = "FA+9qCX9VSu"


def parse_origin_bound(message: str) -> tuple[str, str, str | None] | None:
    """WICG "Origin-bound one-time codes delivered via SMS", its parsing algorithm: normalise
    newlines, take the last line; it is `@`, the top-level host (no whitespace), one space, `#`,
    the code (no whitespace), then optionally one space, `%` and the embedded host; anything
    after that is ignored. Answers (top-level host, code, embedded host) or None (failure)."""
    line = message.replace("\r\n", "\n").replace("\r", "\n").split("\n")[-1]
    position = 0

    def collect() -> str:
        nonlocal position
        start = position
        while position < len(line) and line[position] not in " \t\n\f\r":
            position += 1
        return line[start:position]

    if not line.startswith("@"):
        return None
    position = 1
    top_level = collect()
    if not top_level or line[position : position + 2] != " #":
        return None
    position += 2
    code = collect()
    if not code:
        return None
    if line[position : position + 2] != " %":
        return top_level, code, None
    position += 2
    embedded = collect()
    return top_level, code, embedded or None


def settings_with(**changes: Any) -> AppSettings:
    return apply_settings(AppSettings(), changes)


def test_the_origin_bound_line_is_last_after_an_empty_line() -> None:
    options = MessageOptions(brand="Shop", webotp_domain="example.com")
    body = compose("Your {app} code is {code}", {}, options, "747723")
    assert body == "Your Shop code is 747723\n\n@example.com #747723"
    assert parse_origin_bound(body) == ("example.com", "747723", None)


def test_an_embedded_domain_follows_the_code_after_a_percent_sign() -> None:
    options = MessageOptions("Shop", webotp_domain="example.com", webotp_embedded_domain="pay.io")
    body = compose(builtin_texts()["fr"], {}, options, "747723")
    assert body.endswith("\n\n@example.com #747723 %pay.io")
    assert parse_origin_bound(body) == ("example.com", "747723", "pay.io")
    assert parse_origin_bound(body.replace("\n", "\r\n")) == ("example.com", "747723", "pay.io")


def test_the_parser_refuses_what_the_format_does_not_allow() -> None:
    assert parse_origin_bound("code 747723") is None
    assert parse_origin_bound("x @example.com #747723") is None  # nothing before the @
    assert parse_origin_bound("@example.com  #747723") is None  # exactly one space
    assert parse_origin_bound("@example.com #747723 trailing") == ("example.com", "747723", None)


def test_the_app_hash_goes_where_the_template_puts_it() -> None:
    options = MessageOptions(brand="Shop", android_app_hash=HASH, webotp_domain="example.com")
    body = compose("<#> {app}: {code} {app_hash}", {}, options, "1234")
    assert body == f"<#> Shop: 1234 {HASH}\n\n@example.com #1234"
    assert body.count(HASH) == 1


def test_without_a_place_the_app_hash_is_a_line_before_the_origin_bound_line() -> None:
    options = MessageOptions(brand="Shop", android_app_hash=HASH, webotp_domain="example.com")
    body = compose("Your {app} code is {code}", {}, options, "1234")
    assert body.split("\n") == ["Your Shop code is 1234", HASH, "", "@example.com #1234"]
    assert parse_origin_bound(body) == ("example.com", "1234", None)


@pytest.mark.parametrize(
    ("value", "stored"),
    [("example.com", "example.com"), ("Shop.Example.COM.", "shop.example.com"),
     ("bücher.example", "xn--bcher-kva.example"), ("localhost", "localhost")],
)  # fmt: skip
def test_a_webotp_domain_is_a_host_name(value: str, stored: str) -> None:
    assert settings_with(webotp_domain=value).webotp_domain == stored


@pytest.mark.parametrize(
    "value",
    ["https://example.com", "example.com/login", "example.com:443", "-bad.example", "a..b",
     "203.0.113.7", "", "exa mple.com", "a" * 64 + ".com", 42],
)  # fmt: skip
def test_a_url_or_anything_but_a_host_name_is_refused_as_a_webotp_domain(value: object) -> None:
    for name in ("webotp_domain", "webotp_embedded_domain"):
        with pytest.raises(SettingInvalid) as refused:
            settings_with(**{name: value})
        assert refused.value.field == f"settings.{name}"


@pytest.mark.parametrize("value", ["FA+9qCX9VS", "FA+9qCX9VSuu", "FA-9qCX9VSu", "FA=9qCX9VSu", 7])
def test_an_app_hash_is_exactly_11_characters_of_its_alphabet(value: object) -> None:
    assert settings_with(android_app_hash=HASH).android_app_hash == HASH
    with pytest.raises(SettingInvalid) as refused:
        settings_with(android_app_hash=value)
    assert refused.value.field == "settings.android_app_hash"


@pytest.mark.parametrize("value", ["", "   ", "B" * 31, "Sh\nop", 5])
def test_a_brand_is_1_to_30_printable_characters(value: object) -> None:
    assert settings_with(brand=" Shop ").brand == "Shop"
    with pytest.raises(SettingInvalid):
        settings_with(brand=value)


def test_templates_are_keyed_by_well_formed_tags_and_each_needs_the_code() -> None:
    assert settings_with(templates={"PT-br": "Código {code}"}).templates == {
        "pt-BR": "Código {code}"
    }
    with pytest.raises(TemplateInvalid) as refused:
        settings_with(templates={"fr": "Votre code"})
    assert refused.value.field == "settings.templates.fr"
    with pytest.raises(LocaleInvalid):
        settings_with(templates={"not a tag": "{code}"})
    with pytest.raises(SettingInvalid):
        settings_with(templates=["{code}"])


def test_max_segments_refuses_a_template_whose_longest_rendering_is_longer() -> None:
    long_text = "Your code is {code}. " + "x" * 140  # 165 septets with a 10-digit code
    enforce_message_limits(settings_with(template=long_text), "shop")
    with pytest.raises(TemplateInvalid) as refused:
        enforce_message_limits(settings_with(template=long_text, max_segments=1), "shop")
    assert refused.value.field == "settings.template" and refused.value.code == "invalid_template"
    with pytest.raises(TemplateInvalid) as refused:
        enforce_message_limits(settings_with(templates={"fr": long_text}, max_segments=1), "s")
    assert refused.value.field == "settings.templates.fr"


def test_the_built_in_texts_are_held_to_max_segments_too() -> None:
    # a long origin-bound line pushes a right-to-left text (UCS-2) past one segment
    settings = settings_with(max_segments=1, webotp_domain="a" * 40 + ".example.com")
    with pytest.raises(TemplateInvalid) as refused:
        enforce_message_limits(settings, "shop")
    assert "built-in text" in refused.value.detail
    enforce_message_limits(dataclasses.replace(settings, max_segments=2), "shop")


def test_with_an_app_hash_a_template_must_fit_the_140_bytes_sms_retriever_reads() -> None:
    # 159 septets with a 10-digit code, 171 with the hash's line: 150 bytes
    fits = "<#> Your code is {code}. " + "x" * 130
    enforce_message_limits(settings_with(template=fits), "shop")
    with pytest.raises(TemplateInvalid) as refused:
        enforce_message_limits(settings_with(template=fits, android_app_hash=HASH), "shop")
    assert "150 bytes" in refused.value.detail and "at most 140" in refused.value.detail
    shorter = "<#> Your code is {code} " + "x" * 100  # 141 septets with the hash: 124 bytes
    enforce_message_limits(settings_with(template=shorter, android_app_hash=HASH), "shop")


def test_an_embedded_domain_needs_the_top_level_domain() -> None:
    with pytest.raises(TemplateInvalid) as refused:
        enforce_message_limits(settings_with(webotp_embedded_domain="pay.example"), "shop")
    assert refused.value.field == "settings.webotp_embedded_domain"


def test_the_brand_is_the_apps_name_unless_set() -> None:
    assert MessageOptions.of(AppSettings(), "Mayflower").brand == "Mayflower"
    assert MessageOptions.of(settings_with(brand="MF"), "Mayflower").brand == "MF"
    assert MessageOptions.of(AppSettings(), "N" * 64).brand == "N" * 30


def test_a_preview_renders_the_sample_code_in_the_numbers_language() -> None:
    shown = preview_message(AppSettings(), "Shop", country="DE")
    assert shown.locale == "de"
    assert shown.body == "Ihr Bestätigungscode für Shop lautet 123456"
    assert (shown.size.encoding.value, shown.size.segments) == ("gsm7", 1)
    own = preview_message(AppSettings(), "Shop", country="DE", template="{code} in {minutes} min")
    assert own.body == "123456 in 10 min"
