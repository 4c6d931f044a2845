"""Apps, their settings and their API keys (stored only as keyed hashes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from otpgate.domain.errors import Conflict, NotFound, SettingInvalid, Unauthorized
from otpgate.domain.message_text import enforce_message_limits
from otpgate.domain.policy import AppSettings, apply_settings
from otpgate.service.ids import new_id
from otpgate.service.ports import ApiKeyRecord, App, AppStore, Clock, RandomSource

MAX_APP_NAME_LENGTH = 64
# how long `recognize` trusts a key it read: an app's settings reach checks within this
RECENT_KEY_SECONDS = 5


@dataclass(frozen=True)
class _RecentKey:
    secret_hash: str
    app: App
    read_until: datetime


@dataclass(frozen=True)
class NewApiKey:
    key_id: str
    secret: str

    @property
    def api_key(self) -> str:
        return f"{self.key_id}.{self.secret}"


class AppService:
    def __init__(
        self,
        store: AppStore,
        clock: Clock,
        random: RandomSource,
        key_hashing_key: bytes,
        configured_providers: Sequence[str],
    ) -> None:
        self._store = store
        self._configured_providers = configured_providers
        self._clock = clock
        self._random = random
        self._key_hashing_key = key_hashing_key
        # compared against when a key id is unknown, so both paths do the same work
        self._decoy_hash = self._hash_secret("decoy")
        self._recent_keys: dict[str, _RecentKey] = {}

    def create_app(self, name: str, settings: Mapping[str, object] | None = None) -> App:
        name = _validate_name(name)
        if self._store.get_app_by_name(name) is not None:
            raise Conflict(f"an app named {name!r} exists", field="name")
        now = self._clock.now()
        app = App(
            id=new_id("app", now, self._random),
            name=name,
            settings=self._settings(AppSettings(), settings or {}, name),
            webhook_secret=self._token(32),
            created_at=now,
        )
        self._store.insert_app(app)
        return app

    def list_apps(self) -> list[App]:
        return self._store.list_apps()

    def get_app(self, app_id: str) -> App:
        app = self._store.get_app(app_id)
        if app is None:
            raise NotFound("no such app")
        return app

    def find_app_by_name(self, name: str) -> App:
        app = self._store.get_app_by_name(name)
        if app is None:
            raise NotFound(f"no app named {name!r}", field="app")
        return app

    def update_settings(self, app_id: str, changes: Mapping[str, object]) -> App:
        app = self.get_app(app_id)
        settings = self._settings(app.settings, changes, app.name)
        self._store.update_settings(app.id, settings, self._clock.now())
        # at once on this process; other processes read them again within RECENT_KEY_SECONDS
        for key_id in [k for k, recent in self._recent_keys.items() if recent.app.id == app.id]:
            self._recent_keys.pop(key_id, None)
        return self.get_app(app.id)

    def _settings(
        self, base: AppSettings, changes: Mapping[str, object], app_name: str
    ) -> AppSettings:
        settings = apply_settings(base, changes)
        enforce_message_limits(settings, app_name)
        missing = [p for p in settings.sms_providers if p not in self._configured_providers]
        if missing:
            raise SettingInvalid(
                f"{missing[0]} is not configured on this server (OTPGATE_SMS_PROVIDER is "
                f"{','.join(self._configured_providers)})",
                field="settings.sms_providers",
            )
        return settings

    def create_key(self, app_id: str) -> NewApiKey:
        app = self.get_app(app_id)
        now = self._clock.now()
        key = NewApiKey(key_id=new_id("key", now, self._random), secret=self._token(32))
        self._store.insert_key(ApiKeyRecord(key.key_id, app.id, self._hash_secret(key.secret), now))
        return key

    def revoke_key(self, app_id: str | None, key_id: str) -> None:
        """Revoke at once; with no `app_id` (the operator's CLI), whichever app owns it."""
        if not self._store.revoke_key(app_id, key_id, self._clock.now()):
            raise NotFound("no such live key", field="key_id")

    def authenticate(self, key_id: str, secret: str) -> App:
        """The app a key belongs to; the same refusal, after the same work, for any failure."""
        found = self._find_key(key_id)
        return self._app_if_matches(found, secret)

    def recognize(self, key_id: str, secret: str) -> App:
        """The app a key belonged to when last read, up to RECENT_KEY_SECONDS ago, saving
        a check its database read. The key may have been revoked since: a caller proves it
        live in the statement that uses it, and authenticates before answering a refusal."""
        now = self._clock.now()
        recent = self._recent_keys.get(key_id)
        if recent is None or now >= recent.read_until:
            found = self._find_key(key_id)
            if found is None:
                return self._app_if_matches(None, secret)
            recent = _RecentKey(*found, read_until=now + timedelta(seconds=RECENT_KEY_SECONDS))
            self._recent_keys[key_id] = recent
        return self._app_if_matches((recent.secret_hash, recent.app), secret)

    def _find_key(self, key_id: str) -> tuple[str, App] | None:
        # no key id holds a NUL, and PostgreSQL refuses one in any string it is given
        return (
            self._store.find_key(key_id) if 0 < len(key_id) <= 64 and "\x00" not in key_id else None
        )

    def _app_if_matches(self, found: tuple[str, App] | None, secret: str) -> App:
        expected = found[0] if found else self._decoy_hash
        matches = hmac.compare_digest(self._hash_secret(secret), expected)
        if found is None or not matches:
            raise Unauthorized("missing or invalid API key")
        return found[1]

    def authenticate_api_key(self, api_key: str) -> App:
        key_id, _, secret = api_key.partition(".")
        return self.authenticate(key_id, secret)

    def _hash_secret(self, secret: str) -> str:
        # API secrets are 256-bit random tokens, so a keyed hash is as strong as a slow one
        return hmac.new(
            self._key_hashing_key, secret.encode(errors="surrogatepass"), hashlib.sha256
        ).hexdigest()

    def _token(self, count: int) -> str:
        return base64.urlsafe_b64encode(self._random.token_bytes(count)).decode().rstrip("=")


def _validate_name(name: str) -> str:
    if (
        not isinstance(name, str)
        or not name.strip()
        or len(name) > MAX_APP_NAME_LENGTH
        or not name.isprintable()
    ):
        raise SettingInvalid(
            f"an app name is 1 to {MAX_APP_NAME_LENGTH} printable characters", field="name"
        )
    return name.strip()
