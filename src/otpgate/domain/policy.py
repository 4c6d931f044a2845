"""App settings, their defaults and ranges, and the delivery policy they imply."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from otpgate.domain.channels import Channel, Step, parse_workflow
from otpgate.domain.codes import MAX_CODE_LENGTH, MIN_CODE_LENGTH, CodeAlphabet
from otpgate.domain.errors import (
    CountryBlocked,
    LineTypeBlocked,
    OptInCampaignMissing,
    SenderInvalid,
    SettingInvalid,
)
from otpgate.domain.lookups import LookupFailure, NetworkLookupMode
from otpgate.domain.message_settings import (
    MAX_SEGMENTS,
    parse_app_hash,
    parse_brand,
    parse_host_name,
    parse_locale,
    parse_templates,
)
from otpgate.domain.phone import LineType, PhoneNumber, normalize_country
from otpgate.domain.templates import validate_sender, validate_template

# the longest status_callback_url: the webhook table's url column holds as much
CALLBACK_URL_MAX_LENGTH = 2000

MAX_TTL_SECONDS = 86_400
MAX_LIST_ITEMS = 300
# the SMS providers otpgate speaks; which of them a server has configured is its own setting
PROVIDER_NAMES = ("outbox", "http", "twilio", "vonage", "smpp")
OPT_IN_KEYWORD = "YES"


@dataclass(frozen=True)
class AppSettings:
    code_length: int = 6
    code_alphabet: CodeAlphabet = CodeAlphabet.DIGITS
    ttl_seconds: int = 600
    max_attempts: int = 5
    max_sends: int = 5
    resend_cooldown_seconds: int = 30
    # the message text (docs/messages.md): None means otpgate's built-in text for the locale
    template: str | None = None
    templates: Mapping[str, str] = dataclasses.field(default_factory=dict)
    brand: str | None = None  # None: the app's name
    default_locale: str = "en"
    locale_from_number: bool = True
    webotp_domain: str | None = None
    webotp_embedded_domain: str | None = None
    android_app_hash: str | None = None
    max_segments: int = 2
    sender: str | None = None
    allowed_countries: tuple[str, ...] = ()
    blocked_countries: tuple[str, ...] = ()
    blocked_line_types: tuple[LineType, ...] = ()
    approved_senders: tuple[str, ...] = ()
    status_callback_url: str | None = None
    sms_campaign: Mapping[str, str] | None = None
    # empty: the server's provider list; otherwise this app's failover order
    sms_providers: tuple[str, ...] = ()
    # channels (docs/channels.md): those the app may use, and a start's default workflow
    # (None: one SMS step)
    channels: tuple[Channel, ...] = (Channel.SMS,)
    workflow: tuple[Step, ...] | None = None
    # premium-rate and shared-cost numbers are a voice-pumping favourite: no calls to them
    allow_premium_rate_calls: bool = False
    # abuse protection (docs/abuse.md): rate limits, spend caps, the SMS-pumping guard
    sends_per_number_10min: int = 5
    sends_per_number_day: int = 10
    failures_per_number_day: int = 20
    sends_per_ip_hour: int = 20
    checks_per_ip_hour: int = 60
    sends_per_app_minute: int = 300
    messages_per_day: int = 10_000
    messages_per_country_day: int = 5_000
    fraud_guard: bool = True
    fraud_prefix_digits: int = 3
    fraud_min_sends: int = 20
    fraud_velocity_factor: int = 5
    fraud_max_conversion_percent: int = 20
    fraud_block_seconds: int = 43_200
    safe_list: tuple[str, ...] = ()
    test_numbers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # network lookups (docs/lookups.md): when a start asks the lookup provider, and its budget
    network_lookup: NetworkLookupMode = NetworkLookupMode.WHEN_AMBIGUOUS
    lookup_cache_days: int = 30
    lookups_per_day: int = 10_000
    lookup_failure: LookupFailure = LookupFailure.ALLOW
    lookup_feeds_fraud_guard: bool = True  # unreachable or high-risk answers count as suspicion

    def to_mapping(self) -> dict[str, Any]:
        """Every setting with its value, as the API shows it."""
        values = dataclasses.asdict(self)
        for name, value in values.items():
            if isinstance(value, tuple):
                values[name] = list(value)
        values["sms_campaign"] = dict(self.sms_campaign) if self.sms_campaign else None
        values["test_numbers"] = dict(self.test_numbers)
        values["templates"] = dict(self.templates)
        return values


def _integer(low: int, high: int) -> Callable[[str, object], int]:
    def parse(name: str, value: object) -> int:
        # bool is an int in Python; `true` is not a length
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise SettingInvalid(
                f"{name} must be an integer from {low} to {high}", field=f"settings.{name}"
            )
        return value

    return parse


def _string_list(item: Callable[[str, str], str]) -> Callable[[str, object], tuple[str, ...]]:
    def parse(name: str, value: object) -> tuple[str, ...]:
        if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
            raise SettingInvalid(
                f"{name} must be a list of at most {MAX_LIST_ITEMS} strings",
                field=f"settings.{name}",
            )
        items = []
        for element in value:
            if not isinstance(element, str):
                raise SettingInvalid(f"{name} must hold only strings", field=f"settings.{name}")
            items.append(item(name, element))
        return tuple(dict.fromkeys(items))

    return parse


def _country(name: str, value: str) -> str:
    return normalize_country(value, field=f"settings.{name}")


def _line_type(name: str, value: str) -> str:
    try:
        return LineType(value)
    except ValueError:
        raise SettingInvalid(f"{value!r} is not a line type", field=f"settings.{name}") from None


def _sender(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise SettingInvalid(f"{name} must be a string", field=f"settings.{name}")
    return validate_sender(value, field=f"settings.{name}")


def _provider(name: str, value: str) -> str:
    if value not in PROVIDER_NAMES:
        raise SettingInvalid(
            f"{value!r} is not a provider; one of {', '.join(PROVIDER_NAMES)}",
            field=f"settings.{name}",
        )
    return value


def _channel(name: str, value: str) -> str:
    if value not in {channel.value for channel in Channel}:
        raise SettingInvalid(f"{value!r} is not sms, call or whatsapp", field=f"settings.{name}")
    return Channel(value)


def _channels(name: str, value: object) -> tuple[str, ...]:
    channels = _string_list(_channel)(name, value)
    if not channels:
        raise SettingInvalid(f"{name} must name at least one channel", field=f"settings.{name}")
    return channels


def _workflow(name: str, value: object) -> tuple[Step, ...]:
    return parse_workflow(value, field=f"settings.{name}")


def _optional(parse: Callable[[str, object], Any]) -> Callable[[str, object], Any]:
    return lambda name, value: None if value is None else parse(name, value)


def _alphabet(name: str, value: object) -> CodeAlphabet:
    if value not in {alphabet.value for alphabet in CodeAlphabet}:
        raise SettingInvalid(f"{name} must be 'digits' or 'alphanumeric'", field=f"settings.{name}")
    return CodeAlphabet(str(value))


def _template(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise SettingInvalid(f"{name} must be a string", field=f"settings.{name}")
    return validate_template(value, field=f"settings.{name}")


def _callback_url(name: str, value: object) -> str:
    url = (
        urlsplit(value)
        if isinstance(value, str) and len(value) <= CALLBACK_URL_MAX_LENGTH
        else None
    )
    if url is None or url.scheme not in ("http", "https") or not url.hostname:
        raise SettingInvalid(f"{name} must be an http or https URL", field=f"settings.{name}")
    return str(value)


def _campaign(name: str, value: object) -> Mapping[str, str]:
    keyword = value.get("opt_in_keyword") if isinstance(value, dict) else None
    if (
        not isinstance(value, dict)
        or set(value) != {"opt_in_keyword"}
        or not isinstance(keyword, str)
        or not 1 <= len(keyword.strip()) <= 20
    ):
        raise SettingInvalid(
            f'{name} must be null or {{"opt_in_keyword": "<1 to 20 chars>"}}',
            field=f"settings.{name}",
        )
    return {"opt_in_keyword": keyword.strip()}


def _choice(kind: type[StrEnum]) -> Callable[[str, object], Any]:
    def parse(name: str, value: object) -> StrEnum:
        words = [member.value for member in kind]
        if value not in words:
            raise SettingInvalid(
                f"{name} must be one of {', '.join(words)}", field=f"settings.{name}"
            )
        return kind(value)

    return parse


def _boolean(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise SettingInvalid(f"{name} must be true or false", field=f"settings.{name}")
    return value


def _number_prefix(name: str, value: str) -> str:
    # E.164 digits only: the same spelling the limits and the guard compare against
    if not _E164_PREFIX.fullmatch(value):
        raise SettingInvalid(
            f"{name} entries are + and 1 to 15 digits (a number or a prefix of one)",
            field=f"settings.{name}",
        )
    return value


def _test_numbers(name: str, value: object) -> Mapping[str, str]:
    if not isinstance(value, dict) or len(value) > MAX_LIST_ITEMS:
        raise SettingInvalid(
            f"{name} must map at most {MAX_LIST_ITEMS} numbers or prefixes to a fixed code, "
            'as {"+15005550006": "123456"}',
            field=f"settings.{name}",
        )
    numbers = {}
    for prefix, code in value.items():
        if not isinstance(code, str) or not _FIXED_CODE.fullmatch(code):
            raise SettingInvalid(
                f"{name}: the code for {prefix} must be {MIN_CODE_LENGTH} to "
                f"{MAX_CODE_LENGTH} digits or lower-case letters",
                field=f"settings.{name}",
            )
        numbers[_number_prefix(name, prefix)] = code
    return numbers


_E164_PREFIX = re.compile(r"\+[1-9][0-9]{0,14}")
_FIXED_CODE = re.compile(rf"[0-9a-z]{{{MIN_CODE_LENGTH},{MAX_CODE_LENGTH}}}")

_PARSERS: dict[str, Callable[[str, object], Any]] = {
    "code_length": _integer(MIN_CODE_LENGTH, MAX_CODE_LENGTH),
    "code_alphabet": _alphabet,
    "ttl_seconds": _integer(1, MAX_TTL_SECONDS),
    "max_attempts": _integer(1, 20),
    "max_sends": _integer(1, 20),
    "resend_cooldown_seconds": _integer(0, 3600),
    "template": _optional(_template),
    "templates": parse_templates,
    "brand": _optional(parse_brand),
    "default_locale": parse_locale,
    "locale_from_number": _boolean,
    "webotp_domain": _optional(parse_host_name),
    "webotp_embedded_domain": _optional(parse_host_name),
    "android_app_hash": _optional(parse_app_hash),
    "max_segments": _integer(1, MAX_SEGMENTS),
    "sender": _optional(_sender),
    "allowed_countries": _string_list(_country),
    "blocked_countries": _string_list(_country),
    "blocked_line_types": _string_list(_line_type),
    "approved_senders": _string_list(_sender),
    "status_callback_url": _optional(_callback_url),
    "sms_campaign": _optional(_campaign),
    "sms_providers": _string_list(_provider),
    "channels": _channels,
    "workflow": _optional(_workflow),
    "allow_premium_rate_calls": _boolean,
    "sends_per_number_10min": _integer(1, 1000),
    "sends_per_number_day": _integer(1, 10_000),
    "failures_per_number_day": _integer(1, 1000),
    "sends_per_ip_hour": _integer(1, 1_000_000),
    "checks_per_ip_hour": _integer(1, 1_000_000),
    "sends_per_app_minute": _integer(1, 1_000_000),
    "messages_per_day": _integer(1, 100_000_000),
    "messages_per_country_day": _integer(1, 100_000_000),
    "fraud_guard": _boolean,
    "fraud_prefix_digits": _integer(1, 8),
    "fraud_min_sends": _integer(5, 100_000),
    "fraud_velocity_factor": _integer(2, 1000),
    "fraud_max_conversion_percent": _integer(0, 100),
    "fraud_block_seconds": _integer(60, 7 * 86_400),
    "safe_list": _string_list(_number_prefix),
    "test_numbers": _test_numbers,
    "network_lookup": _choice(NetworkLookupMode),
    "lookup_cache_days": _integer(1, 365),
    "lookups_per_day": _integer(1, 100_000_000),
    "lookup_failure": _choice(LookupFailure),
    "lookup_feeds_fraud_guard": _boolean,
}


def apply_settings(base: AppSettings, changes: Mapping[str, object]) -> AppSettings:
    """Validate `changes` and return `base` with them applied; unknown names are refused."""
    if not isinstance(changes, Mapping):
        raise SettingInvalid("settings must be an object", field="settings")
    parsed = {}
    for name, value in changes.items():
        parser = _PARSERS.get(name)
        if parser is None:
            raise SettingInvalid(f"unknown setting {name!r}", field=f"settings.{name}")
        parsed[name] = parser(name, value)
    return dataclasses.replace(base, **parsed)


def enforce_destination_policy(settings: AppSettings, number: PhoneNumber) -> None:
    """Refuse a number the app may not send to, by country and by line type."""
    country = number.country or ""
    if settings.allowed_countries and country not in settings.allowed_countries:
        raise CountryBlocked(f"this app does not send to {country or 'this country'}", field="to")
    if country in settings.blocked_countries:
        raise CountryBlocked(f"this app does not send to {country}", field="to")
    if line_type_blocked(settings.blocked_line_types, number.line_type):
        raise LineTypeBlocked(f"this app does not send to {number.line_type} numbers", field="to")


def line_type_blocked(blocked: tuple[LineType, ...], line_type: LineType) -> bool:
    # landline_or_mobile is its own type: blocking landline must not block US mobiles, but
    # blocking both of the types it may be leaves nothing it could be
    if line_type is LineType.LANDLINE_OR_MOBILE:
        either = {LineType.LANDLINE, LineType.MOBILE}.issubset(blocked)
        return either or line_type in blocked
    return line_type in blocked


def enforce_sender_policy(settings: AppSettings, sender: str | None) -> None:
    if sender is not None and settings.approved_senders and sender not in settings.approved_senders:
        raise SenderInvalid(
            "the sender is not among the app's approved senders", reason="not_approved"
        )


def enforce_opt_in_campaign(settings: AppSettings) -> None:
    """An opt-in code is sent only under a global SMS campaign whose opt-in keyword is YES
    (SessionM's precondition); keywords are matched without case, as carriers match them."""
    keyword = (settings.sms_campaign or {}).get("opt_in_keyword", "")
    if keyword.upper() != OPT_IN_KEYWORD:
        raise OptInCampaignMissing(
            f"no global SMS campaign with opt-in keyword {OPT_IN_KEYWORD}", field="sms_campaign"
        )


@dataclass(frozen=True)
class Narrowing:
    """Per-request limits a caller adds on top of its app's settings; they never widen them."""

    allowed_countries: tuple[str, ...] = ()
    blocked_countries: tuple[str, ...] = ()
    blocked_line_types: tuple[LineType, ...] = ()


def narrow(settings: AppSettings, narrowing: Narrowing) -> AppSettings:
    allowed = settings.allowed_countries
    if narrowing.allowed_countries:
        allowed = (
            tuple(c for c in allowed if c in narrowing.allowed_countries)
            if allowed
            else narrowing.allowed_countries
        )
        # an empty intersection must still block everything, not fall back to "any country"
        allowed = allowed or ("--",)
    return dataclasses.replace(
        settings,
        allowed_countries=allowed,
        blocked_countries=tuple(
            dict.fromkeys(settings.blocked_countries + narrowing.blocked_countries)
        ),
        blocked_line_types=tuple(
            dict.fromkeys(settings.blocked_line_types + narrowing.blocked_line_types)
        ),
    )
