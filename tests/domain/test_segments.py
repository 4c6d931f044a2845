"""Segments as carriers count them: GSM-7 (extension characters cost two septets) or UCS-2."""

from __future__ import annotations

import pytest

from otpgate.domain.gsm import Encoding, MessageSize, measure


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, Encoding.GSM7, 160, 1),
        ("a" * 161, Encoding.GSM7, 161, 2),
        ("a" * 306, Encoding.GSM7, 306, 2),  # 153 a part once concatenated
        ("a" * 307, Encoding.GSM7, 307, 3),
        ("€" * 80, Encoding.GSM7, 160, 1),  # an extension character is escape + character
        ("€" * 81, Encoding.GSM7, 162, 2),
        ("{[~]}^|\\", Encoding.GSM7, 16, 1),  # the whole extension table
        ("é" * 160, Encoding.GSM7, 160, 1),  # é is in the basic table
        ("ą" * 70, Encoding.UCS2, 70, 1),
        ("ą" * 71, Encoding.UCS2, 71, 2),
        ("ą" * 134, Encoding.UCS2, 134, 2),  # 67 a part once concatenated
        ("ą" * 135, Encoding.UCS2, 135, 3),
        ("😀" * 35, Encoding.UCS2, 70, 1),  # outside the BMP: two UTF-16 units
        ("😀" * 36, Encoding.UCS2, 72, 2),
    ],
)
def test_a_text_is_counted_in_its_encodings_units_and_segments(
    text: str, encoding: Encoding, units: int, segments: int
) -> None:
    assert measure(text) == MessageSize(encoding, units, segments)


def test_an_escape_sequence_is_never_split_between_two_parts() -> None:
    # 152 septets, then "€" (2) would straddle the 153rd: it moves whole to the next part
    text = "a" * 152 + "€" + "a" * 151 + "€"
    assert measure(text).units == 307
    assert measure(text).segments == 3
    assert measure("a" * 151 + "€" + "a" * 153).segments == 2  # 153 + 153


def test_a_surrogate_pair_is_never_split_between_two_parts() -> None:
    text = "ą" * 66 + "😀" + "ą" * 66 + "😀"  # 66 + 2 would straddle the 67th unit
    assert measure(text).units == 136
    assert measure(text).segments == 3


def test_one_character_outside_gsm7_makes_the_whole_text_ucs2() -> None:
    assert measure("Your code is 123456").encoding is Encoding.GSM7
    assert measure("Your code is 123456 ✓").encoding is Encoding.UCS2


@pytest.mark.parametrize(
    "text",
    ["קוד האימות שלך: 123456", "رمز التحقق: 123456", "کد تأیید: 123456", "تصدیقی کوڈ 123456"],
)
def test_a_right_to_left_text_is_ucs2_and_counted_in_utf16_units(text: str) -> None:
    size = measure(text)
    assert size.encoding is Encoding.UCS2
    assert size.units == len(text.encode("utf-16-le")) // 2
    filled = text + " " * (70 - size.units)  # spaces are GSM-7, yet count 1 unit in UCS-2
    assert measure(filled).segments == 1
    assert measure(filled + " ").segments == 2


def test_the_payload_of_one_sms_is_140_bytes_in_either_encoding() -> None:
    assert measure("a" * 160).payload_bytes == 140
    assert measure("a" * 161).payload_bytes == 141
    assert measure("ą" * 70).payload_bytes == 140
