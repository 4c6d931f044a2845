"""Apps, their settings and their API keys (stored only as keyed hashes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from otpgate.domain.errors import Conflict, NotFound, SettingInvalid, Unauthorized
from otpgate.domain.message_text import enforce_message_limits
from otpgate.domain.policy import AppSettings, apply_settings
from otpgate.service.app_directory import TTL_SECONDS, AppDirectory
from otpgate.service.ids import new_id
from otpgate.service.ports import ApiKeyInfo, ApiKeyRecord, App, AppStore, Clock, RandomSource

MAX_APP_NAME_LENGTH = 64
# how long `recognize` trusts a key it read: an app's settings reach checks within this
RECENT_KEY_SECONDS = TTL_SECONDS


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
        directory: AppDirectory | None = None,
        previous_key_hashing_keys: Sequence[bytes] = (),
    ) -> None:
        self._store = store
        self._directory = directory or AppDirectory(store, clock)
        self._configured_providers = configured_providers
        self._clock = clock
        self._random = random
        self._key_hashing_key = key_hashing_key
        # keys hashed under a secret key since rotated out still authenticate
        self._live_key_hashing_keys = (key_hashing_key, *previous_key_hashing_keys)
        # compared against when a key id is unknown, so both paths do the same work
        self._decoy_hash = self._hash_secret("decoy")

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
        with self._store.transaction() as tx:
            self._store.insert_app(tx, app)
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
        with self._store.transaction() as tx:
            self._store.update_settings(tx, app.id, settings, self._clock.now())
        self._directory.forget_app(app.id)  # other processes: within the directory's TTL
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
        record = ApiKeyRecord(key.key_id, app.id, self._hash_secret(key.secret), now)
        with self._store.transaction() as tx:
            self._store.insert_key(tx, record)
        return key

    def list_keys(self, app_id: str) -> list[ApiKeyInfo]:
        """The app's keys, newest first, revoked ones included; never a secret."""
        return self._store.list_keys(self.get_app(app_id).id)

    def revoke_key(self, app_id: str | None, key_id: str) -> None:
        """Revoke at once; with no `app_id` (the operator's CLI), whichever app owns it."""
        with self._store.transaction() as tx:
            revoked = self._store.revoke_key(tx, app_id, key_id, self._clock.now())
        self._directory.forget_key(key_id)
        if not revoked:
            raise NotFound("no such live key", field="key_id")

    def authenticate(self, key_id: str, secret: str) -> App:
        """The app a key belongs to; the same refusal, after the same work, for any failure."""
        found = self._find_key(key_id)
        return self._app_if_matches(found, secret)

    def recognize(self, key_id: str, secret: str) -> App:
        """The app a key belonged to when last read, up to RECENT_KEY_SECONDS ago, saving
        a check its database read. The key may have been revoked since: a caller proves it
        live in the statement that uses it, and authenticates before answering a refusal."""
        found = self._directory.key(key_id) if _plausible_key_id(key_id) else None
        return self._app_if_matches(found, secret)

    def _find_key(self, key_id: str) -> tuple[str, App] | None:
        return self._store.find_key(key_id) if _plausible_key_id(key_id) else None

    def _app_if_matches(self, found: tuple[str, App] | None, secret: str) -> App:
        expected = found[0] if found else self._decoy_hash
        # every live key is tried, matching or not, so both paths do the same work
        matches = any(
            [
                hmac.compare_digest(self._hash_secret(secret, key), expected)
                for key in self._live_key_hashing_keys
            ]
        )
        if found is None or not matches:
            raise Unauthorized("missing or invalid API key")
        return found[1]

    def authenticate_api_key(self, api_key: str) -> App:
        key_id, _, secret = api_key.partition(".")
        return self.authenticate(key_id, secret)

    def _hash_secret(self, secret: str, key: bytes | None = None) -> str:
        # API secrets are 256-bit random tokens, so a keyed hash is as strong as a slow one
        return hmac.new(
            key or self._key_hashing_key, secret.encode(errors="surrogatepass"), hashlib.sha256
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


def _plausible_key_id(key_id: str) -> bool:
    """Key ids are short ASCII tokens: anything else (a NUL, a lone surrogate, from a vendor
    body or Basic auth) is no key, and never reaches a database that cannot store it."""
    return 0 < len(key_id) <= 64 and key_id.isascii() and key_id.isprintable()
