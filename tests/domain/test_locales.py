"""Locale resolution: the request's tag, the number's country (CLDR), the app's default, en."""

from __future__ import annotations

import dataclasses

import pytest

from otpgate.domain.errors import LocaleInvalid
from otpgate.domain.locales import fallback_chain, parse_tag
from otpgate.domain.message_text import builtin_texts, choose_text
from otpgate.domain.phone import lookup_number
from otpgate.domain.policy import AppSettings, apply_settings

BUILT_IN = set(builtin_texts())


def resolve(requested: str | None, country: str | None, **settings: object) -> str:
    app = apply_settings(AppSettings(), settings)
    return choose_text(app, locale=requested, country=country).locale


@pytest.mark.parametrize(
    ("number", "locale"),
    [
        ("+33612345678", "fr"),  # France
        ("+4915123456789", "de"),  # Germany
        ("+5511987654321", "pt-BR"),  # Brazil
        ("+972502345678", "he"),  # Israel
        ("+447123123456", "en"),
        ("+886912345678", "zh-Hant"),  # Taiwan
        ("+4791234567", "nb"),  # Norway: CLDR's "no" first, then Bokmål, which otpgate has
    ],
)
def test_a_number_gets_the_main_language_of_its_country(number: str, locale: str) -> None:
    country = lookup_number(number).country
    assert resolve(None, country) == locale


@pytest.mark.parametrize("number", ["+33612345678", "+4915123456789", "+5511987654321"])
def test_without_locale_from_number_the_app_default_is_used(number: str) -> None:
    country = lookup_number(number).country
    assert resolve(None, country, locale_from_number=False) == "en"
    assert resolve(None, country, locale_from_number=False, default_locale="it") == "it"


def test_a_tag_falls_back_along_its_chain_then_to_the_default_then_to_english() -> None:
    assert resolve("es-MX", "FR") == "es"  # the request's locale wins over the number's
    assert resolve("es", None) == "es"
    assert resolve("tlh", None, default_locale="de") == "de"  # well-formed, but not offered
    assert resolve("tlh", None, default_locale="tlh-Latn") == "en"
    assert resolve("es-MX", None, templates={"es-MX": "Tu código {app}: {code}"}) == "es-MX"


@pytest.mark.parametrize(
    ("tag", "locale"),
    [
        ("zh-TW", "zh-Hant"),  # Taiwan writes Traditional Chinese (CLDR's likely subtags)
        ("zh-Hant-HK", "zh-Hant"),
        ("zh-CN", "zh"),
        ("zh-Hans", "zh"),
        ("pt", "pt-BR"),  # CLDR: Portuguese without a region is Brazil's
        ("pt-PT", "pt-PT"),
        ("PT-br", "pt-BR"),  # tags match in any case
        ("pt_BR", "pt-BR"),
        ("iw", "he"),  # the deprecated code of Hebrew
        ("tl", "fil"),
        ("de-DE-u-co-phonebk", "de"),  # an extension says nothing about the language
        ("en-x-private", "en"),
        ("sr-Latn", "en"),  # a script is never dropped: Latin Serbian is not Cyrillic Serbian
    ],
)
def test_tags_are_matched_as_bcp_47_and_cldr_say(tag: str, locale: str) -> None:
    assert resolve(tag, None) == locale


@pytest.mark.parametrize("tag", ["", "e", "abcd", "en--us", "en_", "123", "en-toolongsubtag", "x!"])
def test_a_tag_that_is_not_well_formed_is_refused(tag: str) -> None:
    with pytest.raises(LocaleInvalid) as refused:
        resolve(tag, None)
    assert refused.value.code == "invalid_locale" and refused.value.field == "locale"


def test_the_chain_of_a_regional_tag_ends_with_its_language() -> None:
    assert fallback_chain(parse_tag("es-MX"))[0] == "es-MX"
    assert fallback_chain(parse_tag("es-MX"))[-1] == "es"
    assert "zh" not in fallback_chain(parse_tag("zh-TW"))


def test_an_apps_text_for_a_locale_makes_that_locale_available() -> None:
    settings = dataclasses.replace(AppSettings(), templates={"gsw": "Din {app}-Code: {code}"})
    chosen = choose_text(settings, locale="gsw-CH", country=None)
    assert (chosen.locale, chosen.template) == ("gsw", "Din {app}-Code: {code}")
    assert "gsw" not in BUILT_IN


def test_the_default_locale_setting_is_a_well_formed_tag() -> None:
    assert apply_settings(AppSettings(), {"default_locale": "PT-br"}).default_locale == "pt-BR"
    with pytest.raises(LocaleInvalid) as refused:
        apply_settings(AppSettings(), {"default_locale": "not a tag"})
    assert refused.value.field == "settings.default_locale"
