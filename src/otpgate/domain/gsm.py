"""GSM 03.38: which texts fit the 7-bit alphabet, and the segments a text is sent as."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = "^{}\\[~]|€\f"
_BASIC = frozenset(BASIC) - {"\x1b"}
_EXTENSION = frozenset(EXTENSION)
# one SMS carries 140 bytes: 160 septets, or 70 UTF-16 units; a part of a concatenated message
# gives 6 of them to its header (UDH), leaving 153 septets or 67 units
SMS_PAYLOAD_BYTES = 140
_LIMITS = {"gsm7": (160, 153), "ucs2": (70, 67)}


class Encoding(StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


@dataclass(frozen=True)
class MessageSize:
    """How a text travels: its encoding, its length in that encoding's units, its segments."""

    encoding: Encoding
    units: int  # septets in GSM-7, UTF-16 code units in UCS-2
    segments: int

    @property
    def payload_bytes(self) -> int:
        """The bytes the text takes in one SMS's payload (what SMS Retriever's 140 counts)."""
        if self.encoding is Encoding.GSM7:
            return -(-self.units * 7 // 8)
        return self.units * 2


def is_gsm7(text: str) -> bool:
    return all(char in _BASIC or char in _EXTENSION for char in text)


def septets(text: str) -> int:
    """Length in GSM-7 septets: an extension character takes two (escape + character)."""
    return sum(2 if char in _EXTENSION else 1 for char in text)


def measure(text: str) -> MessageSize:
    """The encoding a text needs and the segments carriers send (and bill) it as. A part
    never splits an escape sequence or a surrogate pair, so a character costing two units
    that would straddle a part's end moves whole to the next part."""
    if is_gsm7(text):
        encoding, costs = Encoding.GSM7, [2 if char in _EXTENSION else 1 for char in text]
    else:
        encoding, costs = Encoding.UCS2, [2 if ord(char) > 0xFFFF else 1 for char in text]
    single, part = _LIMITS[encoding.value]
    units = sum(costs)
    segments = 1 if units <= single else _parts(costs, part)
    return MessageSize(encoding, units, segments)


def _parts(costs: Iterable[int], capacity: int) -> int:
    parts, used = 1, 0
    for cost in costs:
        if used + cost > capacity:
            parts, used = parts + 1, 0
        used += cost
    return parts
