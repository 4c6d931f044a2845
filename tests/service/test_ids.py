"""Identifiers sort by creation time as text, which is what cursors and "newest first" rely on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from otpgate.service.ids import new_id

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


class FixedBytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def choice(self, symbols: str) -> str:
        return symbols[0]

    def token_bytes(self, count: int) -> bytes:
        return self.data[:count].ljust(count, b"\0")


@given(
    st.integers(0, 10**11),
    st.integers(1, 10**9),
    st.binary(min_size=9, max_size=9),
    st.binary(min_size=9, max_size=9),
)
def test_a_later_id_sorts_after_an_earlier_one_whatever_its_random_part(
    millis: int, later_by: int, first_random: bytes, second_random: bytes
) -> None:
    earlier = new_id("ver", EPOCH + timedelta(milliseconds=millis), FixedBytes(first_random))
    later = new_id(
        "ver", EPOCH + timedelta(milliseconds=millis + later_by), FixedBytes(second_random)
    )
    assert earlier < later


def test_an_id_is_its_prefix_and_24_url_safe_characters() -> None:
    made = new_id("app", EPOCH, FixedBytes(b"\xff" * 9))
    prefix, _, token = made.partition("_")
    assert prefix == "app"
    assert len(token) == 24
    assert token.isalnum() and token.islower()
