"""The store's one-statement check agrees with the domain's `check_transition`, on every
engine, for any verification state, attempt count, expiry and code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from otpgate.domain.verification import (
    DeliveryStatus,
    Status,
    Verification,
    check_transition,
)
from otpgate.runtime import Runtime
from otpgate.store.tables import verifications as verifications_table
from otpgate.store.verifications import SqlVerificationStore

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
RIGHT_HASH = "right-code-hash"
_ids = count()


@st.composite
def verifications(draw: st.DrawFn) -> Verification:
    max_attempts = draw(st.integers(min_value=1, max_value=6))
    return Verification(
        id=f"ver_{next(_ids):012d}",
        app_id="",  # set per test: the app it is stored under
        to=f"+4471231{next(_ids) % 100000:05d}",
        channel="sms",
        # one pending at most per number: each example gets a number of its own
        status=draw(st.sampled_from(list(Status))),
        country="GB",
        line_type="mobile",
        attempts=draw(st.integers(min_value=0, max_value=max_attempts - 1)),
        max_attempts=max_attempts,
        sends=1,
        delivery_status=DeliveryStatus.SENT,
        external_id=None,
        reference=None,
        created_at=NOW - timedelta(minutes=10),
        # expired a moment ago, expiring right now, or still valid
        expires_at=NOW + timedelta(seconds=draw(st.sampled_from([-60, -1, 0, 1, 600]))),
        approved_at=None,
        last_sent_at=NOW - timedelta(minutes=10),
    )


@pytest.fixture
def app_id(runtime: Runtime) -> str:
    return runtime.apps.create_app("transitions").id


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(verification=verifications(), code_matches=st.booleans())
def test_the_check_statement_agrees_with_the_domain_transition(
    runtime: Runtime, app_id: str, verification: Verification, code_matches: bool
) -> None:
    store = SqlVerificationStore(runtime.database)
    stored = Verification(**{**verification.__dict__, "app_id": app_id})
    with store.transaction() as tx:
        store.insert(tx, stored, RIGHT_HASH, b"sealed", None)
    submitted = RIGHT_HASH if code_matches else "wrong-code-hash"

    with store.transaction() as tx:
        updated = store.check(tx, app_id, stored.id, submitted, NOW)

    assert updated == check_transition(stored, code_matches, NOW)
    with runtime.database.read() as connection:
        code = connection.scalar(
            select(verifications_table.c.code_sealed).where(verifications_table.c.id == stored.id)
        )
    # a verification the check ended keeps no code; one still pending (or untouched) does
    assert (code is not None) == (updated is None or updated.status is Status.PENDING)
