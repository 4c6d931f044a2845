"""Network lookups: the lookup port, its cache, and the use case that asks a provider at most
once at a time per number, within the app's daily budget and a bounded time.

Runs on the event loop: the provider call is awaited there, never inside a database call or
a transaction; the cache and the budget are short calls handed to the executor (`run`), and a
start receives the answer as an argument (docs/lookups.md)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol, TypeVar

from otpgate.domain.errors import LookupUnavailable, OtpgateError
from otpgate.domain.limits import DAY, Bucket, Quota
from otpgate.domain.lookups import (
    LookupAnswer,
    LookupFailure,
    LookupSource,
    NetworkAnswer,
    needs_network,
    resolved,
)
from otpgate.domain.phone import PhoneNumber, parse_number
from otpgate.domain.policy import AppSettings, narrow
from otpgate.service.ports import App, Clock, Counters, Transaction, Transactions
from otpgate.service.verifications import StartRequest

T = TypeVar("T")


class Run(Protocol):
    """The runtime's executor: a blocking call, off the event loop (`Runtime.run`)."""

    def __call__(self, call: Callable[[], T], /) -> Awaitable[T]: ...


class LookupFailed(Exception):
    """The provider did not answer usefully: a timeout, a 5xx, an error status, bad JSON."""


class NumberLookup(Protocol):
    """One lookup provider (delivery/lookups/): asks the network about one valid number."""

    name: str

    async def look_up(self, number: PhoneNumber, now: datetime) -> NetworkAnswer:
        """The provider's answer in otpgate's words; raises LookupFailed."""
        ...

    async def close(self) -> None: ...


class LookupCache(Protocol):
    """Answers kept in the database, shared by every node (store/lookups.py)."""

    def find(self, number: str, fresh_since: datetime) -> NetworkAnswer | None: ...

    def save(self, tx: Transaction, answer: NetworkAnswer) -> None: ...


class LookupObserver(Protocol):
    def lookup_finished(self, provider: str, outcome: str, seconds: float) -> None:
        """outcome: answered, cached, capped, timeout, failed."""
        ...


class NetworkLookups:
    """The lookup use case; with no provider configured every answer is the numbering plan's."""

    def __init__(
        self,
        provider: NumberLookup | None,
        transactions: Transactions,
        cache: LookupCache,
        counters: Counters,
        run: Run,
        clock: Clock,
        observer: LookupObserver,
        *,
        timeout_seconds: float,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._provider = provider
        self._transactions = transactions
        self._cache = cache
        self._counters = counters
        self._run = run
        self._clock = clock
        self._observer = observer
        self._timeout = timeout_seconds
        self._timer = timer
        # the call under way per number: concurrent lookups of one number share it
        self._in_flight: dict[str, asyncio.Future[NetworkAnswer | None]] = {}

    @property
    def configured(self) -> bool:
        return self._provider is not None

    async def for_start(self, app: App, request: StartRequest) -> LookupAnswer | None:
        """The lookup a start consults before its policy; None when it asks nothing (the
        start then refuses a number it cannot parse in its own words)."""
        if self._provider is None:
            return None
        try:
            number = parse_number(request.to, request.country)
        except OtpgateError:
            return None
        settings = app.settings
        if request.narrowing is not None:
            settings = narrow(settings, request.narrowing)
        answer = await self.look_up(app, number, settings=settings)
        return None if answer.network is None else answer

    async def look_up(
        self,
        app: App,
        number: PhoneNumber,
        *,
        settings: AppSettings | None = None,
        force: bool = False,
    ) -> LookupAnswer:
        """The number as the network resolves it, when the app's settings (or `force`) ask
        the network; the numbering plan's answer otherwise, or when the provider fails and
        the app allows that."""
        settings = settings or app.settings
        plan = LookupAnswer(number, LookupSource.NUMBERING_PLAN, None)
        wanted = force or needs_network(
            settings.network_lookup, number, settings.blocked_line_types
        )
        if self._provider is None or not number.valid or not wanted:
            return plan
        provider = self._provider.name
        since = self._clock.now() - timedelta(days=settings.lookup_cache_days)
        cached = await self._run(partial(self._cache.find, number.e164, since))
        if cached is not None:
            self._observer.lookup_finished(provider, "cached", 0.0)
            return LookupAnswer(resolved(number, cached), LookupSource.CACHE, cached)
        try:
            network = await asyncio.shield(self._shared_call(app, settings, number))
        except LookupFailed as failure:
            if settings.lookup_failure is LookupFailure.REFUSE:
                raise LookupUnavailable(f"the number lookup failed: {failure}") from None
            return plan
        if network is None:  # the app's daily budget is spent
            return plan
        return LookupAnswer(resolved(number, network), LookupSource.NETWORK, network)

    def _shared_call(
        self, app: App, settings: AppSettings, number: PhoneNumber
    ) -> asyncio.Future[NetworkAnswer | None]:
        flight = self._in_flight.get(number.e164)
        if flight is None:
            flight = asyncio.ensure_future(self._ask(app, settings, number))
            self._in_flight[number.e164] = flight
            flight.add_done_callback(partial(self._landed, number.e164))
        return flight

    def _landed(self, e164: str, flight: asyncio.Future[NetworkAnswer | None]) -> None:
        self._in_flight.pop(e164, None)
        if not flight.cancelled():
            flight.exception()  # retrieved: every waiter may have left before it failed

    async def _ask(
        self, app: App, settings: AppSettings, number: PhoneNumber
    ) -> NetworkAnswer | None:
        assert self._provider is not None
        provider = self._provider.name
        now = self._clock.now()
        budget = Quota("lookups_per_day", app.id, settings.lookups_per_day, DAY).bucket(now)
        refused = await self._run(partial(self._spend, budget, now))
        if refused is not None:
            self._observer.lookup_finished(provider, "capped", 0.0)
            return None
        started = self._timer()
        try:
            answer = await asyncio.wait_for(self._provider.look_up(number, now), self._timeout)
        except TimeoutError:
            self._observer.lookup_finished(provider, "timeout", self._timer() - started)
            raise LookupFailed(f"no answer within {self._timeout:g} s") from None
        except LookupFailed:
            self._observer.lookup_finished(provider, "failed", self._timer() - started)
            raise
        self._observer.lookup_finished(provider, "answered", self._timer() - started)
        await self._run(partial(self._save, answer))
        return answer

    def _spend(self, budget: Bucket, now: datetime) -> int | None:
        with self._transactions() as tx:
            return self._counters.acquire(tx, [budget], now)

    def _save(self, answer: NetworkAnswer) -> None:
        with self._transactions() as tx:
            self._cache.save(tx, answer)

    async def close(self) -> None:
        if self._provider is not None:
            await self._provider.close()
