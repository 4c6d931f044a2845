"""The network lookup a vendor's start consults, for routes whose answer runs in a worker
thread: the lookup itself is awaited on the event loop (never in the database executor)."""

from __future__ import annotations

from anyio import from_thread

from otpgate.domain.lookups import LookupAnswer
from otpgate.runtime import Runtime
from otpgate.service.ports import App
from otpgate.service.verifications import StartRequest


def network_lookup(runtime: Runtime, app: App, request: StartRequest) -> LookupAnswer | None:
    """What the network says of the start's number; None without a lookup provider."""
    if not runtime.lookups.configured:
        return None
    return from_thread.run(runtime.lookups.for_start, app, request)
