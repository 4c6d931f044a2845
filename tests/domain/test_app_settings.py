"""App settings: defaults, ranges, and the delivery policy they imply."""

from __future__ import annotations

from typing import Any

import pytest
from support.channel_settings import CHANNEL_DEFAULTS
from support.lookup_settings import LOOKUP_DEFAULTS, LOOKUP_RANGES
from support.message_settings import MESSAGE_DEFAULTS
from support.settings import ABUSE_DEFAULTS, ABUSE_RANGES

from otpgate.domain.errors import (
    CountryBlocked,
    LineTypeBlocked,
    SenderInvalid,
    SettingInvalid,
    TemplateInvalid,
    ValidationFailed,
)
from otpgate.domain.phone import LineType, lookup_number
from otpgate.domain.policy import (
    AppSettings,
    Narrowing,
    apply_settings,
    enforce_destination_policy,
    enforce_sender_policy,
    narrow,
)

UK_MOBILE = lookup_number("+447123123456")
UK_LANDLINE = lookup_number("+441212345678")
US_NUMBER = lookup_number("+12015550123")
DE_MOBILE = lookup_number("+4915123456789")


def test_every_setting_has_the_contracts_default() -> None:
    assert AppSettings().to_mapping() == {
        "code_length": 6,
        "code_alphabet": "digits",
        "ttl_seconds": 600,
        "max_attempts": 5,
        "max_sends": 5,
        "resend_cooldown_seconds": 30,
        "sender": None,
        "allowed_countries": [],
        "blocked_countries": [],
        "blocked_line_types": [],
        "approved_senders": [],
        "status_callback_url": None,
        "sms_campaign": None,
        "sms_providers": [],
        **ABUSE_DEFAULTS,
        **MESSAGE_DEFAULTS,
        **LOOKUP_DEFAULTS,
        **CHANNEL_DEFAULTS,
    }


RANGES = [
    ("code_length", 4, 10),
    ("ttl_seconds", 1, 86_400),
    ("max_attempts", 1, 20),
    ("max_sends", 1, 20),
    ("resend_cooldown_seconds", 0, 3600),
    *ABUSE_RANGES,
    *LOOKUP_RANGES,
]


@pytest.mark.parametrize(("name", "low", "high"), RANGES)
def test_an_integer_setting_accepts_both_ends_of_its_range(name: str, low: int, high: int) -> None:
    assert getattr(apply_settings(AppSettings(), {name: low}), name) == low
    assert getattr(apply_settings(AppSettings(), {name: high}), name) == high


@pytest.mark.parametrize(("name", "low", "high"), RANGES)
@pytest.mark.parametrize(
    "pick",
    [
        lambda lo, hi: lo - 1,
        lambda lo, hi: hi + 1,
        lambda lo, hi: str(lo),
        lambda lo, hi: float(lo),
        lambda lo, hi: True,
        lambda lo, hi: None,
    ],
    ids=["below", "above", "string", "float", "bool", "null"],
)
def test_an_integer_setting_refuses_anything_else_naming_it(
    name: str, low: int, high: int, pick: Any
) -> None:
    with pytest.raises(SettingInvalid) as refused:
        apply_settings(AppSettings(), {name: pick(low, high)})
    assert refused.value.field == f"settings.{name}"
    assert refused.value.code == "validation_error"


def test_changing_some_settings_keeps_the_others() -> None:
    base = apply_settings(AppSettings(), {"code_length": 8, "sender": "SHOP"})
    changed = apply_settings(base, {"max_attempts": 3})
    assert (changed.code_length, changed.sender, changed.max_attempts) == (8, "SHOP", 3)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code_alphabet": "hex"}, "settings.code_alphabet"),
        ({"code_alphabet": None}, "settings.code_alphabet"),
        ({"template": "no placeholder"}, "settings.template"),
        ({"template": 6}, "settings.template"),
        ({"sender": "TOO LONG SENDER"}, "settings.sender"),
        ({"sender": 447123123456}, "settings.sender"),
        ({"allowed_countries": "GB"}, "settings.allowed_countries"),
        ({"allowed_countries": ["GB", "UK"]}, "settings.allowed_countries"),
        ({"blocked_countries": [44]}, "settings.blocked_countries"),
        ({"blocked_countries": ["GB"] * 301}, "settings.blocked_countries"),
        ({"blocked_line_types": ["fax"]}, "settings.blocked_line_types"),
        ({"blocked_line_types": "voip"}, "settings.blocked_line_types"),
        ({"approved_senders": ["OK", "!"]}, "settings.approved_senders"),
        ({"status_callback_url": "ftp://example.com/hook"}, "settings.status_callback_url"),
        ({"status_callback_url": "not a url"}, "settings.status_callback_url"),
        ({"status_callback_url": "https://" + "a" * 2050}, "settings.status_callback_url"),
        ({"sms_campaign": {"opt_in_keyword": ""}}, "settings.sms_campaign"),
        ({"sms_campaign": {"opt_in_keyword": "YES", "more": 1}}, "settings.sms_campaign"),
        ({"sms_campaign": "YES"}, "settings.sms_campaign"),
        ({"sms_providers": ["pigeon"]}, "settings.sms_providers"),
        ({"sms_providers": "smpp"}, "settings.sms_providers"),
        ({"colour": "blue"}, "settings.colour"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        apply_settings(AppSettings(), changes)
    assert refused.value.field == field


def test_the_refusal_of_a_template_or_sender_setting_has_its_own_code() -> None:
    with pytest.raises(TemplateInvalid):
        apply_settings(AppSettings(), {"template": "none"})
    with pytest.raises(SenderInvalid):
        apply_settings(AppSettings(), {"sender": "!"})


def test_settings_must_be_an_object() -> None:
    with pytest.raises(SettingInvalid) as refused:
        apply_settings(AppSettings(), ["code_length", 6])  # type: ignore[arg-type]
    assert refused.value.field == "settings"


def test_countries_are_kept_as_alpha2_without_duplicates() -> None:
    settings = apply_settings(
        AppSettings(), {"allowed_countries": ["GBR", "gb", "DE", "deu"], "blocked_countries": []}
    )
    assert settings.allowed_countries == ("GB", "DE")


def test_every_line_type_can_be_blocked() -> None:
    every = [line_type.value for line_type in LineType]
    assert (
        list(apply_settings(AppSettings(), {"blocked_line_types": every}).blocked_line_types)
        == every
    )


def test_accepted_settings_show_in_the_mapping() -> None:
    changes: dict[str, Any] = {
        "code_length": 8,
        "code_alphabet": "alphanumeric",
        "sender": "+447123123456",
        "approved_senders": ["SHOP", "+447123123456"],
        "status_callback_url": "https://example.com/hook",
        "sms_campaign": {"opt_in_keyword": " YES "},
        "blocked_line_types": ["voip"],
    }
    shown = apply_settings(AppSettings(), changes).to_mapping()
    assert {name: shown[name] for name in changes} == {
        **changes,
        "sms_campaign": {"opt_in_keyword": "YES"},
    }


def test_an_allow_list_refuses_every_other_country() -> None:
    settings = AppSettings(allowed_countries=("GB",))
    enforce_destination_policy(settings, UK_MOBILE)
    with pytest.raises(CountryBlocked) as refused:
        enforce_destination_policy(settings, DE_MOBILE)
    assert refused.value.field == "to"


def test_a_block_list_refuses_its_countries_only() -> None:
    settings = AppSettings(blocked_countries=("DE",))
    enforce_destination_policy(settings, UK_MOBILE)
    with pytest.raises(CountryBlocked):
        enforce_destination_policy(settings, DE_MOBILE)


def test_a_number_without_country_is_refused_by_an_allow_list() -> None:
    with pytest.raises(CountryBlocked):
        enforce_destination_policy(
            AppSettings(allowed_countries=("GB",)), lookup_number("+80012345678")
        )


def test_blocking_landline_refuses_landlines() -> None:
    with pytest.raises(LineTypeBlocked) as refused:
        enforce_destination_policy(
            AppSettings(blocked_line_types=(LineType.LANDLINE,)), UK_LANDLINE
        )
    assert refused.value.code == "line_type_blocked"


def test_blocking_landline_does_not_block_landline_or_mobile() -> None:
    settings = AppSettings(blocked_line_types=(LineType.LANDLINE,))
    enforce_destination_policy(settings, US_NUMBER)
    enforce_destination_policy(settings, UK_MOBILE)


def test_landline_or_mobile_can_be_blocked_on_its_own() -> None:
    with pytest.raises(LineTypeBlocked):
        enforce_destination_policy(
            AppSettings(blocked_line_types=(LineType.LANDLINE_OR_MOBILE,)), US_NUMBER
        )


def test_with_approved_senders_only_those_may_send() -> None:
    settings = AppSettings(approved_senders=("SHOP",))
    enforce_sender_policy(settings, "SHOP")
    enforce_sender_policy(settings, None)  # the provider's default sender
    with pytest.raises(SenderInvalid) as refused:
        enforce_sender_policy(settings, "OTHER")
    assert refused.value.reason == "not_approved"


def test_without_approved_senders_any_valid_sender_may_send() -> None:
    enforce_sender_policy(AppSettings(), "ANYONE")


def test_a_narrowing_never_widens_the_apps_countries() -> None:
    settings = AppSettings(allowed_countries=("GB", "DE"))
    narrowed = narrow(settings, Narrowing(allowed_countries=("DE", "FR")))
    assert narrowed.allowed_countries == ("DE",)
    with pytest.raises(CountryBlocked):
        enforce_destination_policy(narrowed, UK_MOBILE)


def test_a_narrowing_with_nothing_in_common_blocks_every_country() -> None:
    narrowed = narrow(AppSettings(allowed_countries=("GB",)), Narrowing(allowed_countries=("FR",)))
    for number in (UK_MOBILE, DE_MOBILE, US_NUMBER):
        with pytest.raises(CountryBlocked):
            enforce_destination_policy(narrowed, number)


def test_a_narrowing_adds_blocked_countries_and_line_types() -> None:
    narrowed = narrow(
        AppSettings(blocked_countries=("FR",)),
        Narrowing(blocked_countries=("GB",), blocked_line_types=(LineType.LANDLINE,)),
    )
    assert narrowed.blocked_countries == ("FR", "GB")
    with pytest.raises(CountryBlocked):
        enforce_destination_policy(narrowed, UK_MOBILE)
