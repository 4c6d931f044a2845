"""The one cache of apps, by app id and by API key id, that hot paths read instead of the database.

Lifetime and invalidation, in one place:

- An entry is read from the database on first use and trusted for `TTL_SECONDS` (5 s).
- A change made through this process (its settings, a revoked key)
  calls `forget_app` (or `forget_key`): this process sees it on its next request.
- Another node (or process) on the same database sees it when its own entry runs out: within
  `TTL_SECONDS`. Until then it may route a message, pick a webhook URL or recognize a revoked
  key with what it read before; a check by a revoked key is still refused, because the check
  statement proves the key live itself (store/verifications.py), and `authenticate` always
  reads the database.
- Unknown keys are not cached (a key created on another node works at once); an unknown app
  id is, as "no app", for the same TTL.

Reads from several threads only swap whole entries in dicts, so no lock is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from otpgate.service.ports import App, AppStore, Clock, Transaction

TTL_SECONDS = 5


@dataclass(frozen=True)
class _Entry:
    app: App | None
    read_until: datetime


@dataclass(frozen=True)
class _KeyEntry:
    secret_hash: str
    app: App
    read_until: datetime


class AppDirectory:
    def __init__(self, store: AppStore, clock: Clock, ttl_seconds: float = TTL_SECONDS) -> None:
        self._store = store
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)
        self._apps: dict[str, _Entry] = {}
        self._keys: dict[str, _KeyEntry] = {}

    def app(self, app_id: str, tx: Transaction | None = None) -> App | None:
        """The app as read within the TTL (None: no such app); read again in `tx`, when
        given, so a caller inside a transaction takes no second connection."""
        now = self._clock.now()
        entry = self._apps.get(app_id)
        if entry is None or now >= entry.read_until:
            entry = _Entry(self._store.get_app(app_id, tx), now + self._ttl)
            self._apps[app_id] = entry
        return entry.app

    def key(self, key_id: str) -> tuple[str, App] | None:
        """The secret hash of a live key and its app, as read within the TTL."""
        now = self._clock.now()
        entry = self._keys.get(key_id)
        if entry is None or now >= entry.read_until:
            found = self._store.find_key(key_id)
            if found is None:
                self._keys.pop(key_id, None)
                return None
            entry = _KeyEntry(found[0], found[1], now + self._ttl)
            self._keys[key_id] = entry
        return entry.secret_hash, entry.app

    def forget_app(self, app_id: str) -> None:
        """Read the app, and every key of it, again on next use."""
        self._apps.pop(app_id, None)
        for key_id in [k for k, entry in self._keys.items() if entry.app.id == app_id]:
            self._keys.pop(key_id, None)

    def forget_key(self, key_id: str) -> None:
        self._keys.pop(key_id, None)
