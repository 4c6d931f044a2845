"""`otpgate lookup --network` asks the lookup provider (Vonage Number Insight, local) for the
app; `otpgate send` consults it like any start."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cli.conftest import OtpgateCommand, create_app_in
from peers.number_insight import API_KEY, API_SECRET, FakeNumberInsight


@pytest.fixture
def with_insight(otpgate_command: OtpgateCommand) -> Iterator[FakeNumberInsight]:
    peer = FakeNumberInsight()
    peer.start()
    otpgate_command.env.update(
        OTPGATE_LOOKUP_PROVIDER="vonage",
        OTPGATE_VONAGE_API_KEY=API_KEY,
        OTPGATE_VONAGE_API_SECRET=API_SECRET,
        OTPGATE_VONAGE_INSIGHT_BASE_URL=peer.url,
        OTPGATE_VONAGE_INSIGHT_LEVEL="advanced",
    )
    create_app_in(otpgate_command.data_dir, "default")
    yield peer
    peer.stop()


def test_lookup_network_shows_what_the_provider_says(
    otpgate_command: OtpgateCommand, with_insight: FakeNumberInsight
) -> None:
    found = otpgate_command("lookup", "+447123123456", "--network", "--json").json()

    # the plan knows a UK mobile; --network asks anyway
    assert (found["source"], found["line_type"], found["reachable"]) == ("network", "mobile", True)
    assert found["carrier"]["mobile_country_code"] == "234"
    assert len(with_insight.lookups("447123123456")) == 1


def test_send_consults_the_lookup(
    otpgate_command: OtpgateCommand, with_insight: FakeNumberInsight
) -> None:
    sent = otpgate_command("send", "+12015550124", "--json").json()

    assert sent["line_type"] == "voip"
    assert len(with_insight.lookups("12015550124")) == 1
