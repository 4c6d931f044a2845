"""Operator console sessions: begun with the admin token, ended at sign-out or when idle."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from otpgate.domain.errors import Unauthorized
from otpgate.service.ports import Clock, RandomSource, Transaction, Transactions

IDLE_LIMIT = timedelta(hours=12)
# a page view moves the expiry only when it has aged this much: not a write per click
EXTEND_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class ConsoleSession:
    csrf_token: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class OpenedSession:
    cookie: str  # "<token>.<signature>": the token is random, the signature the server's
    session: ConsoleSession


class ConsoleSessionStore(Protocol):
    def insert(self, tx: Transaction, session: ConsoleSession, token_hash: str) -> None: ...

    def find(self, token_hash: str, now: datetime) -> ConsoleSession | None: ...

    def extend(self, tx: Transaction, token_hash: str, expires_at: datetime) -> None: ...

    def delete(self, tx: Transaction, token_hash: str) -> None: ...


class ConsoleSessions:
    def __init__(
        self,
        transactions: Transactions,
        store: ConsoleSessionStore,
        clock: Clock,
        random: RandomSource,
        admin_token: str,
        signing_key: bytes,
    ) -> None:
        self._transactions = transactions
        self._store = store
        self._clock = clock
        self._random = random
        self._admin_token = admin_token.encode()
        self._signing_key = signing_key

    def sign_in(self, token: str) -> OpenedSession:
        """A new session for the right admin token; Unauthorized for any other."""
        if not hmac.compare_digest(token.encode(errors="surrogatepass"), self._admin_token):
            raise Unauthorized("that is not the admin token", field="token")
        now = self._clock.now()
        secret = self._token()
        session = ConsoleSession(self._token(), now, now + IDLE_LIMIT)
        with self._transactions() as tx:
            self._store.insert(tx, session, _hash(secret))
        return OpenedSession(f"{secret}.{self._sign(secret)}", session)

    def find(self, cookie: str) -> ConsoleSession | None:
        """The live session a cookie names (its use moves the idle limit), or None."""
        secret = self._verified(cookie)
        if secret is None:
            return None
        now = self._clock.now()
        session = self._store.find(_hash(secret), now)
        if session is not None and session.expires_at - now < IDLE_LIMIT - EXTEND_AFTER:
            with self._transactions() as tx:
                self._store.extend(tx, _hash(secret), now + IDLE_LIMIT)
        return session

    def sign_out(self, cookie: str) -> None:
        secret = self._verified(cookie)
        if secret is not None:
            with self._transactions() as tx:
                self._store.delete(tx, _hash(secret))

    def login_token(self) -> str:
        """A signed random value for the sign-in form and its cookie (no session yet)."""
        value = self._token()
        return f"{value}.{self._sign(value)}"

    def login_token_valid(self, value: str) -> bool:
        return self._verified(value) is not None

    def _verified(self, signed: str) -> str | None:
        secret, _, signature = signed.partition(".")
        if not secret or not hmac.compare_digest(signature.encode(), self._sign(secret).encode()):
            return None
        return secret

    def _sign(self, value: str) -> str:
        digest = hmac.new(self._signing_key, value.encode(errors="surrogatepass"), hashlib.sha256)
        return digest.hexdigest()

    def _token(self) -> str:
        return base64.urlsafe_b64encode(self._random.token_bytes(32)).decode().rstrip("=")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
