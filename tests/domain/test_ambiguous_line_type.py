"""A number that may be a landline or a mobile (any US number) and the blocked line types."""

from __future__ import annotations

import pytest

from otpgate.domain.errors import LineTypeBlocked
from otpgate.domain.phone import LineType, parse_number
from otpgate.domain.policy import AppSettings, Narrowing, enforce_destination_policy, narrow

US_NUMBER = parse_number("+12015106000")


@pytest.mark.parametrize(
    "blocked",
    [
        (LineType.LANDLINE, LineType.MOBILE),
        (LineType.VOIP, LineType.MOBILE, LineType.LANDLINE),
        (LineType.LANDLINE_OR_MOBILE,),
    ],
)
def test_blocking_everything_it_may_be_blocks_an_ambiguous_number(
    blocked: tuple[LineType, ...],
) -> None:
    assert US_NUMBER.line_type is LineType.LANDLINE_OR_MOBILE
    with pytest.raises(LineTypeBlocked):
        enforce_destination_policy(AppSettings(blocked_line_types=blocked), US_NUMBER)


@pytest.mark.parametrize("blocked", [(LineType.LANDLINE,), (LineType.MOBILE,), (LineType.VOIP,)])
def test_blocking_one_of_the_types_it_may_be_lets_an_ambiguous_number_through(
    blocked: tuple[LineType, ...],
) -> None:
    enforce_destination_policy(AppSettings(blocked_line_types=blocked), US_NUMBER)


def test_a_request_narrowing_adds_to_the_apps_blocked_types() -> None:
    settings = narrow(
        AppSettings(blocked_line_types=(LineType.LANDLINE,)),
        Narrowing(blocked_line_types=(LineType.MOBILE,)),
    )
    with pytest.raises(LineTypeBlocked):
        enforce_destination_policy(settings, US_NUMBER)
