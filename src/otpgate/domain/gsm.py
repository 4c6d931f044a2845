"""GSM 03.38: which texts fit the 7-bit alphabet, their length, and the SMS they take."""

from __future__ import annotations

BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = "^{}\\[~]|€\f"
_BASIC = frozenset(BASIC) - {"\x1b"}
_EXTENSION = frozenset(EXTENSION)


def is_gsm7(text: str) -> bool:
    return all(char in _BASIC or char in _EXTENSION for char in text)


def septets(text: str) -> int:
    """Length in GSM-7 septets: an extension character takes two (escape + character)."""
    return sum(2 if char in _EXTENSION else 1 for char in text)


def sms_parts(text: str) -> int:
    """How many SMS a text is sent as: 160 septets in one (153 a part when concatenated) in
    GSM-7, otherwise 70 UCS-2 units (67 a part); what a provider bills."""
    if is_gsm7(text):
        length, single, part = septets(text), 160, 153
    else:
        # UCS-2 counts UTF-16 units: a character outside the BMP takes two
        length, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if length <= single else -(-length // part)
