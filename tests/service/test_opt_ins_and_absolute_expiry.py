"""The core rules the compatibility APIs lean on, through the real services and SQLite: an
absolute expiry with the caller's bound, the opt-in campaign, opt-in records per customer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from otpgate.domain.errors import (
    ExpiryInvalid,
    OptInCampaignMissing,
    ValidationFailed,
)
from otpgate.domain.policy import AppSettings, enforce_opt_in_campaign
from otpgate.runtime import Runtime
from otpgate.service.ports import App
from otpgate.service.verifications import StartRequest

CAMPAIGN = {"sms_campaign": {"opt_in_keyword": "YES"}}


def new_app(runtime: Runtime, **settings: Any) -> App:
    return runtime.apps.create_app(f"app-{len(runtime.apps.list_apps())}", settings)


def test_valid_until_sets_the_expiry_exactly(runtime: Runtime, clock: Any) -> None:
    app = new_app(runtime)
    until = clock.now() + timedelta(minutes=12, seconds=30)
    started = runtime.verifications.start(
        app, StartRequest(to="+447123123456", valid_until=until, valid_until_within_seconds=1800)
    )
    assert started.verification.expires_at == until


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(timedelta(0), "past"), (timedelta(seconds=-1), "past"), (timedelta(seconds=1801), "too_far")],
)
def test_valid_until_outside_now_and_the_bound_is_refused(
    runtime: Runtime, clock: Any, offset: timedelta, reason: str
) -> None:
    request = StartRequest(
        to="+447123123456", valid_until=clock.now() + offset, valid_until_within_seconds=1800
    )
    with pytest.raises(ExpiryInvalid) as refused:
        runtime.verifications.start(new_app(runtime), request)
    assert refused.value.reason == reason
    assert refused.value.field == "valid_until"


def test_a_valid_until_without_an_offset_is_utc(runtime: Runtime, clock: Any) -> None:
    until = (clock.now() + timedelta(minutes=5)).replace(tzinfo=None)
    started = runtime.verifications.start(
        new_app(runtime), StartRequest(to="+447123123456", valid_until=until)
    )
    assert started.verification.expires_at == clock.now() + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("campaign", "allowed"),
    [(None, False), ({"opt_in_keyword": "NO"}, False), ({"opt_in_keyword": "YES"}, True),
     ({"opt_in_keyword": "Yes"}, True)],
)  # fmt: skip
def test_only_a_campaign_with_keyword_yes_allows_opt_ins(
    campaign: dict[str, str] | None, allowed: bool
) -> None:
    settings = AppSettings(sms_campaign=campaign)
    if allowed:
        enforce_opt_in_campaign(settings)
    else:
        with pytest.raises(OptInCampaignMissing):
            enforce_opt_in_campaign(settings)


def test_an_opt_in_start_needs_the_campaign_and_an_external_id(runtime: Runtime) -> None:
    with pytest.raises(OptInCampaignMissing):
        runtime.opt_ins.start(new_app(runtime), StartRequest(to="+447123123456", external_id="c"))
    with pytest.raises(ValidationFailed):
        runtime.opt_ins.start(new_app(runtime, **CAMPAIGN), StartRequest(to="+447123123456"))


def test_an_opt_in_start_for_another_customer_cancels_the_pending_one(runtime: Runtime) -> None:
    app = new_app(runtime, **CAMPAIGN, resend_cooldown_seconds=0)
    first = runtime.opt_ins.start(app, StartRequest(to="+447123123456", external_id="a"))
    again = runtime.opt_ins.start(app, StartRequest(to="+447123123456", external_id="a"))
    assert again.verification.id == first.verification.id  # the same customer: a re-send
    other = runtime.opt_ins.start(app, StartRequest(to="+447123123456", external_id="b"))
    assert other.created and other.verification.id != first.verification.id
    assert runtime.verifications.get(app, first.verification.id).status == "canceled"
