"""A worker keeps more than one batch under way: a slow send does not hold up the next."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from peers.httpfake import Answer, FakeHttpPeer, Seen
from peers.otpgate import StartOtpgate


class HoldingGateway(FakeHttpPeer):
    """Answers the first SMS only once a second one has arrived (or after `patience`)."""

    def __init__(self, patience: float = 5.0) -> None:
        super().__init__()
        self.patience = patience
        self._second = threading.Event()
        self.first_waited_for_second: bool | None = None

    def handle(self, request: Seen) -> Answer:
        if self.first_waited_for_second is None:
            self.first_waited_for_second = False
            self.first_waited_for_second = self._second.wait(self.patience)
        else:
            self._second.set()
        return Answer(200, {"id": f"gw-{self.count('all')}"})


@pytest.fixture
def gateway() -> Iterator[HoldingGateway]:
    peer = HoldingGateway(patience=2.0)
    peer.start()
    yield peer
    peer.stop()


@pytest.mark.parametrize(("in_flight", "overlapped"), [(2, True), (1, False)])
def test_the_next_batch_is_sent_while_one_waits_for_its_provider(
    start_otpgate: StartOtpgate, gateway: HoldingGateway, in_flight: int, overlapped: bool
) -> None:
    otpgate = start_otpgate(
        sms_provider="http",
        http_url=gateway.url + "/sms",
        http_body='{"to": "{to}", "text": "{body}"}',
        http_message_id_path="id",
        delivery_batch_size=1,
        delivery_batches_in_flight=in_flight,
    )
    app = otpgate.create_app()
    first = otpgate.start_verification(app, "+447123120141")
    second = otpgate.start_verification(app, "+447123120142")

    for started in (first, second):
        otpgate.wait_for_delivery(app, started["id"], "sent", timeout=15)

    assert gateway.first_waited_for_second is overlapped
