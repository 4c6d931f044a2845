"""Properties of number parsing over numbers hypothesis builds from every region's plan."""

from __future__ import annotations

import phonenumbers
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from otpgate.domain.errors import PhoneNumberInvalid
from otpgate.domain.phone import lookup_number, parse_number

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = [
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.VOIP,
]


@st.composite
def valid_numbers(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    """A region's example number of some type with its last digits redrawn, kept if valid."""
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(region, draw(st.sampled_from(TYPES)))
    assume(example is not None)
    national = str(example.national_number)
    tail = draw(st.integers(min_value=0, max_value=min(4, len(national) - 1)))
    digits = draw(st.text(alphabet="0123456789", min_size=tail, max_size=tail))
    number = phonenumbers.PhoneNumber(
        country_code=example.country_code,
        national_number=int(national[: len(national) - tail] + digits),
        italian_leading_zero=example.italian_leading_zero,
        number_of_leading_zeros=example.number_of_leading_zeros,
    )
    assume(phonenumbers.is_valid_number(number))
    return number


def e164_of(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=300, deadline=None)
@given(valid_numbers())
def test_the_e164_we_give_out_parses_back_to_itself(number: phonenumbers.PhoneNumber) -> None:
    first = parse_number(e164_of(number))
    again = parse_number(first.e164)
    assert again == first
    assert first.e164 == e164_of(number)


@settings(max_examples=300, deadline=None)
@given(valid_numbers())
def test_national_format_plus_country_is_the_international_number(
    number: phonenumbers.PhoneNumber,
) -> None:
    international = parse_number(e164_of(number))
    assume(international.country is not None)
    national = parse_number(international.national_format, international.country)
    assert national.e164 == international.e164
    assert national.line_type is international.line_type


@settings(max_examples=200, deadline=None)
@given(valid_numbers(), st.data())
def test_punctuation_between_digits_does_not_change_the_number(
    number: phonenumbers.PhoneNumber, data: st.DataObject
) -> None:
    e164 = e164_of(number)
    separators = data.draw(
        st.lists(
            st.sampled_from(["", " ", "-", ".", "/"]),
            min_size=len(e164) - 1,
            max_size=len(e164) - 1,
        )
    )
    typed = e164[0] + "".join(sep + digit for sep, digit in zip(separators, e164[1:], strict=True))
    assert parse_number(typed).e164 == e164


# mostly what people type into a number field, now and then anything at all
TYPED = st.text(alphabet=st.sampled_from("+0123456789 ()-./") | st.characters(), max_size=40)


@settings(max_examples=500, deadline=None)
@given(TYPED, st.sampled_from([None, "GB", "US", "DE", "IN"]))
def test_any_text_is_a_number_in_e164_or_a_refusal_naming_the_field(
    text: str, country: str | None
) -> None:
    try:
        found = lookup_number(text, country, field="number")
    except PhoneNumberInvalid as refused:
        assert refused.field == "number"
        return
    assert found.e164.startswith("+")
    assert found.e164[1:].isascii() and found.e164[1:].isdigit()
    assert lookup_number(found.e164) == found
