"""The lookup cache: one row per number, the provider's newest answer, read by every node.

Lifetime: an answer is used while it is younger than the asking app's `lookup_cache_days`;
a newer answer replaces it; rows older than the longest lifetime (365 days) are purged. Every
node reads the same rows, so an answer one node paid for serves all of them at once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.engine import Row

from otpgate.domain.lookups import Carrier, NetworkAnswer
from otpgate.domain.phone import LineType
from otpgate.service.ports import Transaction
from otpgate.store.database import Database
from otpgate.store.tables import network_lookups
from otpgate.store.transaction import connection_of

n = network_lookups.c


def find_answer(connection: Connection, number: str, fresh_since: datetime) -> NetworkAnswer | None:
    row = connection.execute(
        select(network_lookups).where(n.number == number, n.checked_at >= fresh_since)
    ).first()
    return None if row is None else _answer(row)


def save_answer(connection: Connection, database: Database, answer: NetworkAnswer) -> None:
    carrier = answer.carrier or Carrier(None, None, None)
    values = {
        "provider": answer.provider,
        "line_type": answer.line_type.value,
        "reachable": answer.reachable,
        "carrier_name": (carrier.name or "")[:128] or None,
        "mobile_country_code": (carrier.mobile_country_code or "")[:8] or None,
        "mobile_network_code": (carrier.mobile_network_code or "")[:8] or None,
        "high_risk": answer.high_risk,
        "ported": answer.ported,
        "roaming": answer.roaming,
        "checked_at": answer.checked_at,
    }
    statement = database.insert(network_lookups).values(number=answer.number, **values)
    # two nodes that asked at once: the later answer stays
    connection.execute(statement.on_conflict_do_update(index_elements=[n.number], set_=values))


def purge_answers(connection: Connection, before: datetime) -> int:
    return int(connection.execute(delete(network_lookups).where(n.checked_at < before)).rowcount)


def _answer(row: Row[Any]) -> NetworkAnswer:
    fields = row._mapping
    carrier = None
    if fields["carrier_name"] or fields["mobile_country_code"] or fields["mobile_network_code"]:
        carrier = Carrier(
            fields["carrier_name"], fields["mobile_country_code"], fields["mobile_network_code"]
        )
    return NetworkAnswer(
        number=fields["number"],
        provider=fields["provider"],
        line_type=LineType(fields["line_type"]),
        reachable=fields["reachable"],
        carrier=carrier,
        checked_at=fields["checked_at"],
        high_risk=bool(fields["high_risk"]),
        ported=fields["ported"],
        roaming=fields["roaming"],
    )


class SqlLookupCache:
    """The `LookupCache` port: each call is one short statement, in the transaction its
    caller opened in an executor call of its own (never inside a start's transaction)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def find(self, number: str, fresh_since: datetime) -> NetworkAnswer | None:
        with self._database.read() as connection:
            return find_answer(connection, number, fresh_since)

    def save(self, tx: Transaction, answer: NetworkAnswer) -> None:
        save_answer(connection_of(tx), self._database, answer)

    def purge(self, tx: Transaction, before: datetime) -> int:
        return purge_answers(connection_of(tx), before)
