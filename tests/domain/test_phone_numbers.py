"""Phone numbers: E.164 and national formats, countries, line types, valid vs unassigned."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from otpgate.domain.errors import CountryInvalid, PhoneNumberInvalid, PhoneNumberUnassigned
from otpgate.domain.phone import (
    LineType,
    lookup_number,
    mask_number,
    normalize_country,
    parse_number,
)


def test_an_e164_number_gives_its_country_line_type_and_national_format() -> None:
    number = parse_number("+447123123456")
    assert number.e164 == "+447123123456"
    assert number.country == "GB"
    assert number.line_type is LineType.MOBILE
    assert number.valid
    assert number.national_format == "07123 123456"


@pytest.mark.parametrize(
    ("typed", "country"),
    [
        ("07123 123456", "GB"),
        ("07123123456", "GB"),
        ("7123 123456", "GB"),
        ("0044 7123 123456", "GB"),  # the international prefix dialled from the UK
        ("011 44 7123 123456", "US"),  # the same number dialled from the US
        ("+44 7123 123456", "US"),  # a leading + wins over the country
        ("+44 (0)7123 123456", None),
        ("+44-7123-123456", None),
        ("+44.7123.123456", None),
        ("+44/7123/123456", None),
        ("  +447123123456  ", None),
    ],
)
def test_every_usual_spelling_of_a_number_gives_the_same_e164(
    typed: str, country: str | None
) -> None:
    assert parse_number(typed, country).e164 == "+447123123456"


def test_a_national_number_needs_a_country() -> None:
    with pytest.raises(PhoneNumberInvalid) as refused:
        parse_number("07123 123456")
    assert refused.value.field == "to"
    assert "country" in refused.value.detail


@pytest.mark.parametrize(
    ("given", "alpha2"),
    [
        ("GB", "GB"),
        ("gb", "GB"),
        ("GBR", "GB"),
        ("gbr", "GB"),
        (" us ", "US"),
        ("USA", "US"),
        ("DEU", "DE"),
        ("CH", "CH"),
    ],
)
def test_a_country_is_alpha2_or_alpha3_in_any_case(given: str, alpha2: str) -> None:
    assert normalize_country(given) == alpha2


def test_an_alpha3_country_reads_a_national_number_like_its_alpha2() -> None:
    by_alpha3 = parse_number("(201) 555-0123", normalize_country("USA"))
    assert by_alpha3 == parse_number("(201) 555-0123", "US")
    assert by_alpha3.e164 == "+12015550123"


@pytest.mark.parametrize("given", ["UK", "XX", "G", "GBRR", "", "12", "ÜK", "G B"])
def test_a_country_that_is_not_iso_3166_is_refused_naming_the_field(given: str) -> None:
    with pytest.raises(CountryInvalid) as refused:
        normalize_country(given, field="settings.allowed_countries")
    assert refused.value.field == "settings.allowed_countries"
    assert refused.value.code == "validation_error"


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def arabic_indic(digits: str) -> str:
    return "".join(chr(0x0660 + int(d)) for d in digits)


# One example of each line type, from the offline numbering plan (libphonenumber).
@pytest.mark.parametrize(
    ("number", "line_type", "country"),
    [
        ("+447400123456", LineType.MOBILE, "GB"),
        ("+441212345678", LineType.LANDLINE, "GB"),
        ("+12015550123", LineType.LANDLINE_OR_MOBILE, "US"),
        ("+445612345678", LineType.VOIP, "GB"),
        ("+448001234567", LineType.TOLL_FREE, "GB"),
        ("+449012345678", LineType.PREMIUM_RATE, "GB"),
        ("+4918012345", LineType.SHARED_COST, "DE"),
        ("+447012345678", LineType.PERSONAL, "GB"),
        ("+447640123456", LineType.PAGER, "GB"),
        ("+445512345678", LineType.UAN, "GB"),
        ("+49177991234567", LineType.VOICEMAIL, "DE"),
        ("+447700900123", LineType.UNKNOWN, "GB"),  # possible but unassigned
    ],
)
def test_each_line_type_of_the_contract(number: str, line_type: LineType, country: str) -> None:
    found = lookup_number(number)
    assert found.line_type is line_type
    assert found.country == country


def test_the_line_types_are_exactly_the_contracts() -> None:
    assert {t.value for t in LineType} == {
        "mobile",
        "landline",
        "landline_or_mobile",
        "voip",
        "toll_free",
        "premium_rate",
        "shared_cost",
        "personal",
        "pager",
        "uan",
        "voicemail",
        "unknown",
    }


_EXPECTED = {
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


@pytest.mark.parametrize("phone_type", sorted(_EXPECTED), ids=lambda t: str(_EXPECTED[t]))
def test_every_example_number_of_every_region_gets_its_line_type(phone_type: int) -> None:
    """All of libphonenumber's example numbers of a type, in every region that has one."""
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number_for_type(region, phone_type)
        if example is None or phonenumbers.number_type(example) != phone_type:
            continue
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        found = lookup_number(e164)
        assert (found.valid, found.line_type) == (True, _EXPECTED[phone_type]), (region, e164)
        checked += 1
    assert checked > 0


def test_us_numbers_are_landline_or_mobile_because_the_plan_cannot_tell() -> None:
    for number in ("+12015550123", "+14155552671", "+12125551234"):
        assert lookup_number(number).line_type is LineType.LANDLINE_OR_MOBILE


def test_a_possible_but_unassigned_number_is_looked_up_as_not_valid() -> None:
    found = lookup_number("+447700900123")
    assert (found.valid, found.line_type, found.country) == (False, LineType.UNKNOWN, "GB")
    assert found.e164 == "+447700900123"
    assert found.national_format == "07700 900123"


def test_a_possible_but_unassigned_number_gets_no_code() -> None:
    with pytest.raises(PhoneNumberUnassigned) as refused:
        parse_number("+447700900123")
    assert refused.value.code == "invalid_phone_number"
    assert refused.value.field == "to"


@pytest.mark.parametrize(
    "typed",
    [
        "+4471231234567",  # one digit too many for the UK
        "+4412",  # too short anywhere
        "+999123456789",  # no such country code
    ],
)
def test_an_impossible_number_is_invalid_not_merely_unassigned(typed: str) -> None:
    with pytest.raises(PhoneNumberInvalid) as refused:
        lookup_number(typed)
    assert not isinstance(refused.value, PhoneNumberUnassigned)


def test_a_non_geographic_number_has_no_country() -> None:
    found = lookup_number("+80012345678")  # international freephone
    assert (found.valid, found.country, found.line_type) == (True, None, LineType.TOLL_FREE)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "+",
        "++447123123456",
        "+44 7123 CALLME",  # vanity letters
        "+" + fullwidth("447123123456"),
        "+" + arabic_indic("447123123456"),
        "+447123123456\x00",
        "+447123\x00123456",
        "+447123123456;ext=5",
        "+44 7123 123456 ext 5",
        "tel:+447123123456",
        "+1" + "2" * 40,
        "+()",
    ],
)
def test_text_that_is_not_a_typed_number_is_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(PhoneNumberInvalid) as refused:
        lookup_number(typed, field="number")
    assert refused.value.field == "number"


@pytest.mark.parametrize(
    ("number", "masked"),
    [("+447123123456", "********3456"), ("+12015550123", "*******0123"), ("123", "123")],
)
def test_a_masked_number_keeps_only_its_last_four_digits(number: str, masked: str) -> None:
    assert mask_number(number) == masked


def test_a_number_is_valid_exactly_when_libphonenumber_says_so() -> None:
    """lookup_number reads validity from the number's type, asking libphonenumber once: for an
    example number of every region and type, and for each with one digit changed, that is
    `is_valid_number`'s answer."""
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
            numbers += [e164] + [e164[:-2] + str(digit) + e164[-1] for digit in range(10)]
    for number in numbers:
        parsed = phonenumbers.parse(number)
        if not phonenumbers.is_possible_number(parsed):
            continue
        assert lookup_number(number).valid == phonenumbers.is_valid_number(parsed), number
