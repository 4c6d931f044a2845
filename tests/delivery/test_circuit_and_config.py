"""The circuit breaker's states, and provider settings that stop the start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from otpgate.config import ConfigError, Settings
from otpgate.delivery.circuit import CircuitBreaker
from otpgate.runtime import build_runtime

SMPP_TLS = {"sms_provider": "smpp", "smpp_host": "h", "smpp_system_id": "otp", "smpp_tls": True}


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_circuit_opens_after_a_run_of_failures_and_lets_one_message_try_later() -> None:
    ticks = Ticks()
    breaker = CircuitBreaker(failure_threshold=3, reset_seconds=10, monotonic=ticks)
    for _ in range(2):
        breaker.failed()
    assert breaker.allows()
    breaker.failed()
    assert not breaker.allows() and breaker.is_open

    ticks.now = 10.0
    assert breaker.allows()  # half-open: one trial
    assert not breaker.allows()  # and only one
    breaker.failed()
    assert not breaker.allows()

    ticks.now = 20.0
    assert breaker.allows()
    breaker.succeeded()
    assert breaker.allows() and breaker.allows() and not breaker.is_open


def test_the_wait_for_a_trial_is_the_rest_of_the_reset_or_all_of_it_while_one_is_on() -> None:
    ticks = Ticks()
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=10, monotonic=ticks)
    assert breaker.seconds_until_trial() == 0.0  # closed
    breaker.failed()
    ticks.now = 4.0
    assert breaker.seconds_until_trial() == 6.0
    ticks.now = 10.0
    assert breaker.allows()  # the trial
    assert breaker.seconds_until_trial() == 10.0  # it may fail and shut the circuit again
    breaker.succeeded()
    assert breaker.seconds_until_trial() == 0.0


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_seconds=10)
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    assert breaker.allows()


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"sms_provider": "http"}, "OTPGATE_HTTP_URL"),
        (
            {"sms_provider": "http", "http_url": "http://x", "http_accepted_statuses": "ok"},
            "OTPGATE_HTTP_ACCEPTED_STATUSES",
        ),
        (
            {"sms_provider": "http", "http_url": "http://x", "http_status_map": {"1": "done"}},
            "OTPGATE_HTTP_STATUS_MAP",
        ),
        ({"sms_provider": "twilio", "twilio_account_sid": "AC1"}, "OTPGATE_TWILIO_AUTH_TOKEN"),
        (
            {"sms_provider": "twilio", "twilio_account_sid": "AC1", "twilio_auth_token": "t"},
            "OTPGATE_TWILIO_FROM",
        ),
        ({"sms_provider": "vonage", "vonage_api_key": "k"}, "OTPGATE_VONAGE_API_SECRET"),
        ({"sms_provider": "smpp", "smpp_system_id": "otp"}, "OTPGATE_SMPP_HOST"),
        (
            {
                "sms_provider": "smpp",
                "smpp_host": "h",
                "smpp_system_id": "otp",
                "smpp_password": "longer-than-8",
            },
            "OTPGATE_SMPP_PASSWORD",
        ),
        (
            {**SMPP_TLS, "smpp_tls_ca_file": "/nonexistent/ca.pem"},
            "OTPGATE_SMPP_TLS_CA_FILE",
        ),
        (
            {**SMPP_TLS, "smpp_tls_cert_file": "/nonexistent/client.pem"},
            "OTPGATE_SMPP_TLS_CERT_FILE",
        ),
        (
            {**SMPP_TLS, "smpp_tls_key_file": "/nonexistent/client.key"},
            "OTPGATE_SMPP_TLS_KEY_FILE",
        ),
        # a call or WhatsApp provider this version has no adapter for
        ({"voice_provider": "outbox,carrier-pigeon"}, "OTPGATE_VOICE_PROVIDER"),
        ({"whatsapp_provider": "carrier-pigeon"}, "OTPGATE_WHATSAPP_PROVIDER"),
    ],
)
def test_a_missing_or_bad_provider_setting_stops_the_start_naming_it(
    tmp_path: Path, settings: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        build_runtime(Settings(_env_file=None, data_dir=tmp_path, **settings))  # type: ignore[call-arg]
    assert str(refused.value).startswith(named + ":")


def test_no_log_level_lets_httpx_print_request_urls() -> None:
    import logging

    import structlog

    from otpgate.logs import configure_logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        for name in ("debug", "info"):
            configure_logging(name)
            assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    finally:  # leave logging as the other tests found it
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("httpx").setLevel(logging.NOTSET)
        structlog.reset_defaults()
