"""Limit keys and windows: addresses, prefixes, SMS parts, test numbers and the safe list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from otpgate.domain.errors import SettingInvalid, ValidationFailed
from otpgate.domain.fraud import PrefixTraffic, PumpingThresholds, is_surge, looks_like_pumping
from otpgate.domain.limits import Quota, destination_prefix, ip_subject, longest_match
from otpgate.domain.phone import lookup_number
from otpgate.domain.policy import AppSettings, apply_settings


def test_ipv6_addresses_in_one_64_share_a_key_and_ipv4_stays_whole() -> None:
    assert ip_subject("2001:db8:1:2:aaaa::1") == ip_subject("2001:db8:1:2:ffff:1:2:3")
    assert ip_subject("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert ip_subject("2001:db8:1:3::1") != ip_subject("2001:db8:1:2::1")
    assert ip_subject(" 203.0.113.7 ") == "203.0.113.7"
    assert ip_subject("::ffff:203.0.113.7") == "203.0.113.7"
    assert ip_subject("203.0.113.7") != ip_subject("203.0.113.8")


@pytest.mark.parametrize("text", ["", "localhost", "1.2.3", "203.0.113.7/24", "::g", "٣.1.1.1"])
def test_anything_but_an_address_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        ip_subject(text)
    assert refused.value.field == "end_user_ip"


def test_a_prefix_is_the_country_code_and_the_leading_national_digits() -> None:
    uk = lookup_number("+447400123456")
    us = lookup_number("+12015550123")
    assert destination_prefix(uk.e164, uk.calling_code, 3) == "+44740"
    assert destination_prefix(us.e164, us.calling_code, 3) == "+1201"
    assert destination_prefix(uk.e164, uk.calling_code, 1) == "+447"


def test_a_window_starts_on_its_boundary_and_retry_after_counts_to_its_end() -> None:
    quota = Quota("sends_per_number_10min", "app:+44", 5, 600)
    now = datetime(2026, 1, 1, 12, 7, 30, tzinfo=UTC)
    assert quota.retry_after(now) == 150
    assert quota.bucket(now).key == f"sends_per_number_10min:app:+44:{int(now.timestamp()) - 450}"
    day = Quota("sends_per_number_day", "x", 10, 86_400)
    assert day.retry_after(now) == 11 * 3600 + 52 * 60 + 30  # until 00:00 UTC


def test_the_longest_matching_entry_wins() -> None:
    entries = {"+1500555": "111111", "+15005550006": "222222"}
    assert longest_match("+15005550006", entries) == "+15005550006"
    assert longest_match("+15005550007", entries) == "+1500555"
    assert longest_match("+447400123456", entries) is None


def test_test_numbers_and_the_safe_list_take_only_e164_digits() -> None:
    settings = apply_settings(
        AppSettings(), {"test_numbers": {"+1500555": "123456"}, "safe_list": ["+4474"]}
    )
    assert settings.test_numbers == {"+1500555": "123456"}
    assert settings.to_mapping()["safe_list"] == ["+4474"]
    for bad in ({"1500555": "123456"}, {"+1 500": "123456"}, {"+1500555": "12"},
                {"+1500555": 123456}, ["+1500555"], {"+1500555": "ABCDEF"}):  # fmt: skip
        with pytest.raises(SettingInvalid) as refused:
            apply_settings(AppSettings(), {"test_numbers": bad})
        assert refused.value.field == "settings.test_numbers"
    with pytest.raises(SettingInvalid):
        apply_settings(AppSettings(), {"safe_list": ["+44 74"]})
    with pytest.raises(SettingInvalid):
        apply_settings(AppSettings(), {"fraud_guard": "yes"})


THRESHOLDS = PumpingThresholds(min_sends=20, velocity_factor=5, max_conversion=0.2,
                               block_seconds=3600)  # fmt: skip


def test_a_surge_needs_both_the_minimum_and_the_factor_over_the_baseline() -> None:
    assert not is_surge(19, 0.0, THRESHOLDS)
    assert is_surge(20, 0.0, THRESHOLDS)
    assert not is_surge(49, 10.0, THRESHOLDS)
    assert is_surge(50, 10.0, THRESHOLDS)


def test_a_surge_that_converts_is_not_pumping() -> None:
    assert looks_like_pumping(PrefixTraffic(40, 0.0, 40, 0), THRESHOLDS)
    assert looks_like_pumping(PrefixTraffic(40, 0.0, 0, 0), THRESHOLDS)
    assert looks_like_pumping(PrefixTraffic(40, 0.0, 40, 7), THRESHOLDS)
    assert not looks_like_pumping(PrefixTraffic(40, 0.0, 40, 8), THRESHOLDS)
    assert not looks_like_pumping(PrefixTraffic(19, 0.0, 19, 0), THRESHOLDS)
