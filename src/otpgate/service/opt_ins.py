"""Opt-in records: a number proven by a code and consented for a customer (SessionM's flow)."""

from __future__ import annotations

from contextlib import suppress

from otpgate.domain.errors import NotPending, ValidationFailed
from otpgate.domain.lookups import LookupAnswer
from otpgate.domain.phone import parse_number
from otpgate.domain.policy import enforce_opt_in_campaign
from otpgate.domain.verification import CheckResult, Status
from otpgate.service.ids import new_id
from otpgate.service.ports import App, Clock, ListQuery, OptIn, OptInStore, RandomSource
from otpgate.service.verifications import StartRequest, StartResult, VerificationService


class OptInService:
    def __init__(
        self,
        store: OptInStore,
        verifications: VerificationService,
        clock: Clock,
        random: RandomSource,
    ) -> None:
        self._store = store
        self._verifications = verifications
        self._clock = clock
        self._random = random

    def start(
        self, app: App, request: StartRequest, *, lookup: LookupAnswer | None = None
    ) -> StartResult:
        """Send an opt-in code for (external id, number), under the app's opt-in campaign."""
        if not (request.external_id or "").strip():
            raise ValidationFailed("an opt-in needs an external_id", field="external_id")
        enforce_opt_in_campaign(app.settings)
        self._end_pending_of_other_customer(app, request)
        return self._verifications.start(app, request, lookup=lookup)

    def _end_pending_of_other_customer(self, app: App, request: StartRequest) -> None:
        """A pending code for the same number but another external id belongs to another
        customer: cancel it, so this request gets its own code instead of a re-send of theirs."""
        number = parse_number(request.to, request.country)
        pending = self._verifications.list(
            app, ListQuery(to=number.e164, status=Status.PENDING, limit=1, before_id=None)
        )
        if pending and pending[0].external_id != request.external_id:
            # it may have ended meanwhile; the start below makes a new one either way
            with suppress(NotPending):
                self._verifications.cancel(app, pending[0].id)

    def confirm(
        self, app: App, external_id: str, to: str, code: str, *, source: str
    ) -> CheckResult:
        """Check the code of the pending verification for (external id, number); a right code
        records the number as verified and opted in for that external id."""
        result = self._verifications.check_by_number(app, to, None, code, external_id=external_id)
        if result.valid:
            now = self._clock.now()
            opt_in = OptIn(
                id=new_id("opt", now, self._random),
                app_id=app.id,
                external_id=external_id,
                to=result.verification.to,
                verified_at=now,
                source=source,
            )
            with self._store.transaction() as tx:
                self._store.record(tx, opt_in)
        return result

    def list(self, app: App, external_id: str | None, query: ListQuery) -> list[OptIn]:
        return self._store.list(app.id, external_id, query.to, query.limit, query.before_id)
