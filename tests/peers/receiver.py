"""An app's webhook endpoint: records every call and fails the first `fail_times` with 500."""

from __future__ import annotations

import json
from typing import Any

from peers.httpfake import Answer, FakeHttpPeer, Seen


class WebhookReceiver(FakeHttpPeer):
    def __init__(self, *, fail_times: int = 0) -> None:
        super().__init__()
        self.fail_times = fail_times

    def handle(self, request: Seen) -> Answer:
        if self.count("all") <= self.fail_times:
            return Answer(500, "not now")
        return Answer(204)

    def events(self) -> list[dict[str, Any]]:
        """Bodies of the calls answered 2xx, in arrival order."""
        answered = self.seen[self.fail_times :]
        return [json.loads(seen.body) for seen in answered]
