"""Settings from the environment, a `.env` file or a TOML file, validated once at start."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROVIDERS = ("outbox", "http", "twilio", "vonage", "smpp")
CONFIG_FILE_VARIABLE = "OTPGATE_CONFIG"


class ConfigError(Exception):
    """A bad setting; the message is one line naming it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OTPGATE_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Path("./otpgate-data")
    database_url: str | None = None
    database_pool_size: int = Field(10, ge=1, le=200)
    redis_url: str | None = None
    redis_key_prefix: str = Field("otpgate:", min_length=1, max_length=64)
    # abuse protection (docs/abuse.md): who may speak for the caller, and the flood limit
    trusted_proxies: str = ""  # comma-separated CIDRs whose X-Forwarded-For is believed
    flood_requests_per_minute: int = Field(60_000, ge=1, le=10_000_000)
    # failed authentications from one caller address a minute, then 429 until the minute ends
    failed_authentications_per_minute: int = Field(30, ge=1, le=1_000_000)
    admin_token: str | None = Field(None, min_length=16)
    secret_key: str | None = Field(None, min_length=32)
    # comma-separated earlier secret keys, newest first: what they hashed or sealed still works
    previous_secret_keys: str = ""
    sms_provider: str = "outbox"
    # the providers (a failover order) of calls and of WhatsApp messages (docs/channels.md);
    # the start refuses a name it has no adapter for (runtime.py)
    voice_provider: str = "outbox"
    whatsapp_provider: str = "outbox"
    default_sender: str | None = None
    public_url: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["console", "json"] = "console"
    serve_delivers: bool = True  # `serve --no-worker` sets it false for its worker processes
    # receipts for unknown message ids wait for their message at most this many at once
    early_receipts_max: int = Field(10_000, ge=0, le=10_000_000)
    # a Bearer token /metrics and the API docs (/docs, /redoc, /openapi.json) then require
    operations_token: str | None = Field(None, min_length=16)
    # slow or stalled clients (docs/security.md): a connection that has not sent its request
    # headers, or its body, in time is closed; past the cap a new connection is answered 503
    serve_header_timeout_seconds: float = Field(30.0, gt=0, le=3600)
    serve_body_timeout_seconds: float = Field(60.0, gt=0, le=3600)
    serve_max_connections: int = Field(1000, ge=1, le=1_000_000)

    # delivery (docs/delivery.md): backoff base, and the per-provider circuit breaker
    delivery_retry_base_seconds: float = Field(1.0, gt=0, le=60)
    # how long a claimed message is a worker's before another may take it over
    delivery_lease_seconds: int = Field(30, ge=2, le=3600)
    delivery_batch_size: int = Field(64, ge=1, le=1000)  # messages claimed at once
    # batches one worker has under way at once: one is sent while another is claimed or recorded
    delivery_batches_in_flight: int = Field(2, ge=1, le=16)
    circuit_failure_threshold: int = Field(5, ge=1, le=1000)
    circuit_reset_seconds: float = Field(30.0, gt=0, le=3600)
    webhook_retry_base_seconds: float = Field(1.0, gt=0, le=600)  # status webhooks' backoff
    # how often pending verifications past expiry lose their code and are reported expired
    expiry_sweep_seconds: float = Field(5.0, gt=0, le=3600)
    # verifications (with their messages and webhooks) older than this are deleted
    retention_days: int = Field(30, ge=1, le=3650)
    retention_batch_size: int = Field(500, ge=1, le=10_000)  # rows per delete transaction
    # between sweeps; rows another transaction held during one are deleted by the next
    retention_sweep_seconds: float = Field(600.0, gt=0, le=86_400)

    # provider `http` (docs/providers/http.md)
    http_url: str | None = None
    http_method: Literal["GET", "POST", "PUT"] = "POST"
    http_body: str | None = None
    http_body_format: Literal["json", "form"] = "json"
    http_headers: dict[str, str] = Field(default_factory=dict)
    http_accepted_statuses: str = "2xx"
    http_message_id_path: str | None = None
    http_status_map: dict[str, str] = Field(
        # Kannel's dlr-url %d: 1 delivered, 2 not delivered, 4 queued at the SMSC,
        # 8 accepted by the SMSC, 16 refused by the SMSC
        default_factory=lambda: {
            "1": "delivered",
            "2": "undelivered",
            "4": "sent",
            "8": "sent",
            "16": "undelivered",
        }
    )
    http_receipt_id_field: str = "id"
    http_receipt_status_field: str = "status"
    http_receipt_token: str | None = Field(None, min_length=16)
    http_receipts: bool = True  # false: /v1/receipts/http is not served (no token needed)
    http_timeout_seconds: float = Field(10.0, gt=0, le=120)
    # provider `http` for calls (docs/providers/http-call.md): the same request template with
    # {speech} and {language}; its status callbacks are read as OTPGATE_HTTP_STATUS_MAP says
    http_voice_url: str | None = None
    http_voice_method: Literal["GET", "POST", "PUT"] = "POST"
    http_voice_body: str | None = None
    http_voice_body_format: Literal["json", "form"] = "json"
    http_voice_headers: dict[str, str] = Field(default_factory=dict)
    http_voice_accepted_statuses: str = "2xx"
    http_voice_message_id_path: str | None = None
    http_voice_from: str | None = None  # the calls' caller id, when the gateway takes one
    http_voice_timeout_seconds: float = Field(10.0, gt=0, le=120)

    # provider `twilio` (docs/providers/twilio.md)
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    # Twilio calls and WhatsApp (docs/providers/twilio-call.md, twilio-whatsapp.md)
    twilio_voice_from: str | None = None  # the calls' caller id; OTPGATE_TWILIO_FROM if unset
    twilio_whatsapp_from: str | None = None  # the WhatsApp sender's number, E.164
    twilio_content_sid: str | None = Field(None, pattern=r"^HX[0-9a-fA-F]{32}$")

    # provider `vonage` (docs/providers/vonage.md)
    vonage_api_key: str | None = None
    vonage_api_secret: str | None = None
    vonage_signature_secret: str | None = None
    vonage_receipts: bool = True  # false: /v1/receipts/vonage is not served (no secret needed)
    vonage_signature_method: Literal["md5hash", "md5", "sha1", "sha256", "sha512"] = "md5hash"
    vonage_base_url: str = "https://rest.nexmo.com"
    # a Vonage application, for calls and WhatsApp (docs/providers/vonage-call.md,
    # vonage-whatsapp.md); their webhooks are signed with OTPGATE_VONAGE_SIGNATURE_SECRET
    vonage_application_id: str | None = None
    vonage_private_key_file: Path | None = None  # the application's private key, PEM
    vonage_voice_from: str | None = None  # a number of the application, E.164
    vonage_whatsapp_from: str | None = None  # the WhatsApp Business number, E.164
    vonage_whatsapp_template: str | None = None  # an approved authentication template
    vonage_api_base_url: str = "https://api.nexmo.com"

    # provider `meta`: WhatsApp through Meta's Cloud API (docs/providers/meta-whatsapp.md)
    meta_access_token: str | None = None
    meta_phone_number_id: str | None = None
    meta_app_secret: str | None = None  # signs the webhooks (X-Hub-Signature-256)
    meta_verify_token: str | None = None  # answers the webhook subscription's handshake
    meta_template: str | None = None  # an approved authentication template
    meta_api_version: str = Field("v23.0", pattern=r"^v\d+\.\d+$")
    meta_base_url: str = "https://graph.facebook.com"

    # provider `smpp` (docs/providers/smpp.md)
    smpp_host: str | None = None
    smpp_port: int = Field(2775, ge=1, le=65535)
    smpp_system_id: str | None = None
    smpp_password: str | None = None
    smpp_system_type: str = ""
    smpp_tls: bool = False
    smpp_tls_ca_file: Path | None = None  # CAs for the SMSC's certificate; system CAs if unset
    smpp_tls_server_name: str | None = None  # the name its certificate carries; smpp_host if unset
    smpp_tls_check_hostname: bool = True  # off: any name on a certificate the CAs vouch for
    smpp_tls_cert_file: Path | None = None  # a client certificate, for SMSCs that ask for one
    smpp_tls_key_file: Path | None = None  # its key, when not in the certificate file
    smpp_throughput: float = Field(0.0, ge=0)  # messages per second; 0 = no cap
    smpp_window: int = Field(32, ge=1, le=1000)  # submit_sm awaiting their resp
    smpp_enquire_link_seconds: float = Field(30.0, gt=0, le=3600)
    smpp_timeout_seconds: float = Field(10.0, gt=0, le=120)

    # network lookups (docs/lookups.md): the provider, and the most a lookup adds to a start
    lookup_provider: Literal["none", "twilio", "vonage", "http"] = "none"
    lookup_timeout_seconds: float = Field(2.0, gt=0, le=30)
    twilio_lookup_base_url: str = "https://lookups.twilio.com"
    # comma-separated: line_type_intelligence, and line_status / sms_pumping_risk where the
    # account has them (each is charged on its own)
    twilio_lookup_fields: str = "line_type_intelligence"
    vonage_insight_level: Literal["standard", "advanced"] = "standard"
    vonage_insight_base_url: str = "https://api.nexmo.com"
    lookup_http_url: str | None = None  # a template with {to}
    lookup_http_headers: dict[str, str] = Field(default_factory=dict)
    lookup_http_line_type_path: str | None = None
    lookup_http_reachable_path: str | None = None
    lookup_http_carrier_path: str | None = None
    lookup_http_mcc_path: str | None = None
    lookup_http_mnc_path: str | None = None
    lookup_http_line_type_map: dict[str, str] = Field(default_factory=dict)
    lookup_http_reachable_map: dict[str, bool] = Field(default_factory=dict)

    @field_validator("sms_provider")
    @classmethod
    def _known_providers(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = [name for name in names if name not in PROVIDERS]
        if not names or unknown:
            raise ValueError(f"must be a comma-separated list of {', '.join(PROVIDERS)}")
        return ",".join(names)

    @field_validator("voice_provider", "whatsapp_provider")
    @classmethod
    def _provider_list(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        if not names:
            raise ValueError("must name a provider, or a comma-separated failover order")
        return ",".join(names)

    @field_validator("twilio_lookup_fields")
    @classmethod
    def _known_lookup_fields(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        known = ("line_type_intelligence", "line_status", "sms_pumping_risk")
        if not names or any(name not in known for name in names):
            raise ValueError(f"must be a comma-separated list of {', '.join(known)}")
        return ",".join(names)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(
            ("sqlite:", "postgresql:", "postgresql+psycopg:")
        ):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("previous_secret_keys")
    @classmethod
    def _previous_keys(cls, value: str) -> str:
        if any(len(key.strip()) < 32 for key in value.split(",") if key.strip()):
            raise ValueError("each key must be 32 characters or more")
        return value

    @property
    def previous_keys(self) -> list[str]:
        return [key.strip() for key in self.previous_secret_keys.split(",") if key.strip()]

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(f"{part.strip()!r} is not an IP address or CIDR") from None
        return value

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in self.trusted_proxies.split(",")
            if part.strip()
        )

    @property
    def providers(self) -> list[str]:
        return self.sms_provider.split(",")

    @property
    def voice_providers(self) -> list[str]:
        return self.voice_provider.split(",")

    @property
    def whatsapp_providers(self) -> list[str]:
        return self.whatsapp_provider.split(",")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'otpgate.db'}"


def require_receipt_credentials(settings: Settings) -> None:
    """The start refuses a provider whose receipts anyone could forge: the setting that
    authenticates them, or the one that turns them off, must be given."""
    used = {*settings.providers, *settings.voice_providers, *settings.whatsapp_providers}
    if "http" in used and settings.http_receipts and not settings.http_receipt_token:
        raise ConfigError(
            "OTPGATE_HTTP_RECEIPT_TOKEN: required to authenticate the http provider's "
            "receipts (or set OTPGATE_HTTP_RECEIPTS=false)"
        )
    if "vonage" in used and settings.vonage_receipts and not settings.vonage_signature_secret:
        raise ConfigError(
            "OTPGATE_VONAGE_SIGNATURE_SECRET: required to authenticate Vonage's receipts "
            "(or set OTPGATE_VONAGE_RECEIPTS=false)"
        )
    if "meta" in used and not settings.meta_app_secret:
        raise ConfigError(
            "OTPGATE_META_APP_SECRET: required to authenticate the WhatsApp Cloud API's "
            "status webhooks"
        )


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read settings once; the environment wins over the TOML file."""
    path = config_file or (
        Path(os.environ[CONFIG_FILE_VARIABLE]) if os.environ.get(CONFIG_FILE_VARIABLE) else None
    )
    from_file: dict[str, Any] = {}
    if path is not None:
        try:
            from_file = {
                key.lower().removeprefix("otpgate_"): value
                for key, value in tomllib.loads(path.read_text()).items()
            }
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"--config {path}: {exc}") from None
        from_file = {
            key: value
            for key, value in from_file.items()
            if f"OTPGATE_{key.upper()}" not in os.environ
        }
    try:
        return Settings(**{**from_file, **overrides})
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "OTPGATE_" + str(error["loc"][0]).upper() if error["loc"] else "settings"
        raise ConfigError(f"{name}: {error['msg']}") from None
