"""Parse and normalise phone numbers, countries and line types with `phonenumbers`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from iso3166 import countries_by_alpha2, countries_by_alpha3
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from otpgate.domain.errors import CountryInvalid, PhoneNumberInvalid, PhoneNumberUnassigned


class LineType(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    LANDLINE_OR_MOBILE = "landline_or_mobile"
    VOIP = "voip"
    TOLL_FREE = "toll_free"
    PREMIUM_RATE = "premium_rate"
    SHARED_COST = "shared_cost"
    PERSONAL = "personal"
    PAGER = "pager"
    UAN = "uan"
    VOICEMAIL = "voicemail"
    UNKNOWN = "unknown"


_LINE_TYPES = {
    PhoneNumberType.MOBILE: LineType.MOBILE,
    PhoneNumberType.FIXED_LINE: LineType.LANDLINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: LineType.LANDLINE_OR_MOBILE,
    PhoneNumberType.VOIP: LineType.VOIP,
    PhoneNumberType.TOLL_FREE: LineType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE: LineType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST: LineType.SHARED_COST,
    PhoneNumberType.PERSONAL_NUMBER: LineType.PERSONAL,
    PhoneNumberType.PAGER: LineType.PAGER,
    PhoneNumberType.UAN: LineType.UAN,
    PhoneNumberType.VOICEMAIL: LineType.VOICEMAIL,
}

# Only ASCII digits and the punctuation people type; phonenumbers would also accept letters
# (vanity numbers) and non-ASCII digits, which we refuse so one number has one spelling.
_TYPED_NUMBER = re.compile(r"^\+?[0-9 ()\-./]{1,30}$")


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    country: str | None
    line_type: LineType
    valid: bool
    national_format: str
    calling_code: int  # the country calling code: 44 for +44 …, 1 for every NANP country


def normalize_country(value: str, *, field: str = "country") -> str:
    """Return the ISO 3166-1 alpha-2 code for an alpha-2 or alpha-3 code, any case."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if len(code) == 2 and code in countries_by_alpha2:
        return code
    if len(code) == 3 and code in countries_by_alpha3:
        return str(countries_by_alpha3[code].alpha2)
    raise CountryInvalid(
        f"{value!r} is not an ISO 3166-1 alpha-2 or alpha-3 country code", field=field
    )


def lookup_number(raw: str, country: str | None = None, *, field: str = "to") -> PhoneNumber:
    """Parse a number; a possible but unassigned number comes back with `valid=False`.

    Without a `country` the number must be international (E.164, starting with `+`).
    Raises PhoneNumberInvalid when the text cannot be a phone number at all.
    """
    if not isinstance(raw, str) or not _TYPED_NUMBER.fullmatch(raw.strip()):
        raise PhoneNumberInvalid("not a phone number: use E.164 such as +447123123456", field=field)
    text = raw.strip()
    if not text.startswith("+") and country is None:
        raise PhoneNumberInvalid(
            "a number without a leading + needs a country (ISO 3166-1 alpha-2 or alpha-3)",
            field=field,
        )
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else country)
    except NumberParseException as exc:
        raise PhoneNumberInvalid(f"not a phone number: {exc._msg}", field=field) from None
    if not phonenumbers.is_possible_number(parsed):
        raise PhoneNumberInvalid("not a possible phone number for its country", field=field)
    # a number is valid exactly when it has a type (is_valid_number asks the same patterns
    # number_type does: asking both matched every pattern of the region twice)
    line_type = phonenumbers.number_type(parsed)
    valid = line_type != PhoneNumberType.UNKNOWN
    region = (
        phonenumbers.region_code_for_number(parsed)
        if valid
        else phonenumbers.region_code_for_country_code(parsed.country_code or 0)
    )
    return PhoneNumber(
        e164=phonenumbers.format_number(parsed, PhoneNumberFormat.E164),
        # "001" and "ZZ" are libphonenumber's words for non-geographic and unknown
        country=region if region in countries_by_alpha2 else None,
        line_type=_LINE_TYPES.get(line_type, LineType.UNKNOWN),
        valid=valid,
        national_format=phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL),
        calling_code=parsed.country_code or 0,
    )


def parse_number(raw: str, country: str | None = None, *, field: str = "to") -> PhoneNumber:
    """Parse a number that must be valid to receive a code."""
    number = lookup_number(raw, country, field=field)
    if not number.valid:
        raise PhoneNumberUnassigned(
            "the number has a possible length but is not in an assigned range", field=field
        )
    return number


def mask_number(number: str) -> str:
    """Keep only the last 4 digits, for logs."""
    digits = [c for c in number if c.isdigit()]
    return "*" * max(0, len(digits) - 4) + "".join(digits[-4:])
