"""A receipt that came on a provider's own session is acknowledged before it is written (SMPP's
deliver_sm_resp), and the provider never sends it again: with PostgreSQL (a cluster of the
test's own) stopped, the inbox keeps it and tries again until, the database back, it is
recorded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from peers.faulty_gateway import FaultyGateway
from peers.otpgate import LiveOtpgate, StartOtpgate
from support.numbers import new_mobile
from support.pg_cluster import OwnCluster, own_cluster

from otpgate.delivery.protocol import InboundReceipt
from otpgate.domain.verification import DeliveryStatus

pytestmark = pytest.mark.postgresql

RETRIES_WANTED = 2  # failed tries before the database comes back: it goes on trying


@pytest.fixture
def cluster() -> Iterator[OwnCluster]:
    """Asked for before `start_otpgate`, so it outlives the otpgate that uses it."""
    with own_cluster() as made:
        yield made


@pytest.fixture
def gateway() -> Iterator[FaultyGateway]:
    peer = FaultyGateway().start()
    yield peer
    peer.stop()


def retries(live: LiveOtpgate) -> float:
    found = live.runtime.metrics.registry.get_sample_value("otpgate_receipt_retries_total")
    return found or 0.0


async def record_across_the_outage(
    live: LiveOtpgate, cluster: OwnCluster, receipt: InboundReceipt
) -> None:
    """Hand the receipt to the inbox, as the SMPP session does after acknowledging it; start
    the database once the inbox failed to write it a few times; wait until it has."""
    recording = asyncio.ensure_future(live.runtime.receipts.sink(receipt))
    deadline = time.monotonic() + 30
    while retries(live) < RETRIES_WANTED:
        assert not recording.done(), "recorded with the database down"
        assert time.monotonic() < deadline, "the inbox did not try again"
        await asyncio.sleep(0.05)
    await asyncio.to_thread(cluster.start)
    await asyncio.wait_for(recording, timeout=30)


def test_a_receipt_acknowledged_while_the_database_is_down_is_recorded_once_it_is_back(
    cluster: OwnCluster, gateway: FaultyGateway, start_otpgate: StartOtpgate
) -> None:
    live = start_otpgate(
        database_url=cluster.url,
        database_pool_size=4,
        sms_provider="http",
        http_url=gateway.url,
        http_receipt_token="receipts-outage-token-0123",
    )
    app = live.create_app()
    verification_id = live.start_verification(app, new_mobile())["id"]
    live.wait_for_delivery(app, verification_id, "sent")
    [sent] = live.messages(app, verification_id)
    receipt = InboundReceipt(
        provider="http",
        status=DeliveryStatus.DELIVERED,
        provider_message_id=sent["provider_message_id"],
    )
    cluster.stop()

    asyncio.run(record_across_the_outage(live, cluster, receipt))

    [delivered] = live.messages(app, verification_id)
    assert delivered["status"] == "delivered"
    assert live.verification(app, verification_id)["delivery_status"] == "delivered"
