"""App settings as form fields and back: the console's spelling of the API's JSON values.

Each setting is one text field (a checkbox for true/false). A number field's text is sent as
an integer when it is one and as the text otherwise, so the API's own validation says what is
wrong with it; lists are comma-separated; maps and campaign objects are JSON.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from otpgate.domain.channels import Step, workflow_mapping
from otpgate.domain.policy import AppSettings

_INTEGER = re.compile(r"[+-]?[0-9]+")
# settings whose JSON value may be null: an empty field means null
_NULLABLE = {"sender", "status_callback_url", "sms_campaign", "workflow"}
# settings that are JSON objects or lists of them, not comma-separated words
_JSON = {"sms_campaign", "workflow"}


# the app page's sections, in order; a setting not named here goes under "Other"
SECTIONS = (
    (
        "Codes",
        (
            "code_length",
            "code_alphabet",
            "ttl_seconds",
            "max_attempts",
            "max_sends",
            "resend_cooldown_seconds",
        ),
    ),
    (
        "Message",
        (
            "template",
            "sender",
            "approved_senders",
            "sms_providers",
            "sms_campaign",
            "status_callback_url",
        ),
    ),
    ("Channels", ("channels", "workflow", "allow_premium_rate_calls")),
    ("Destinations", ("allowed_countries", "blocked_countries", "blocked_line_types")),
    (
        "Rate limits and spend caps",
        (
            "sends_per_number_10min",
            "sends_per_number_day",
            "failures_per_number_day",
            "sends_per_ip_hour",
            "checks_per_ip_hour",
            "sends_per_app_minute",
            "messages_per_day",
            "messages_per_country_day",
        ),
    ),
    (
        "SMS-pumping guard",
        (
            "fraud_guard",
            "fraud_prefix_digits",
            "fraud_min_sends",
            "fraud_velocity_factor",
            "fraud_max_conversion_percent",
            "fraud_block_seconds",
            "safe_list",
        ),
    ),
    ("Testing", ("test_numbers",)),
)


@dataclass(frozen=True)
class SettingField:
    name: str
    kind: str  # "integer", "text", "boolean", "list" or "json"
    text: str  # the value as the field shows it
    default: str
    help: str


def _kind(value: Any, name: str) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if name in _JSON or isinstance(value, Mapping):
        return "json"
    if isinstance(value, tuple | list):
        return "list"
    return "text"


def _text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "list":
        return ", ".join(str(item) for item in value)
    if kind == "json" and isinstance(value, tuple) and all(isinstance(v, Step) for v in value):
        return json.dumps(workflow_mapping(value))
    if kind == "json":
        return json.dumps(dict(value) if isinstance(value, Mapping) else value)
    return str(value)


_HELP = {
    "code_length": "digits (or characters) in a code",
    "code_alphabet": "digits or alphanumeric",
    "ttl_seconds": "how long a code is valid",
    "template": "must contain {code}; may use {minutes} and {app}",
    "sender": "numeric 2 to 15 digits, or 2 to 11 letters, digits, space - _ .; empty: the default",
    "allowed_countries": "ISO codes, comma-separated; empty: every country",
    "blocked_countries": "ISO codes, comma-separated",
    "blocked_line_types": "e.g. voip, landline, premium_rate",
    "status_callback_url": "webhooks go here; empty: none",
    "sms_campaign": 'null or {"opt_in_keyword": "YES"}',
    "safe_list": "numbers or prefixes the pumping guard never blocks",
    "test_numbers": 'JSON: {"+15005550006": "123456"}',
    "channels": "sms, call, whatsapp: the channels a start may use",
    "workflow": 'null or JSON: [{"channel": "whatsapp", "timeout_seconds": 60}, …]',
    "allow_premium_rate_calls": "calls to premium-rate and shared-cost numbers",
}


def setting_fields(
    settings: AppSettings, submitted: Mapping[str, str] | None = None
) -> list[SettingField]:
    """Every setting, in the order the API lists them, with what was typed if given."""
    defaults = AppSettings()
    fields = []
    for field in dataclasses.fields(AppSettings):
        value = getattr(settings, field.name)
        kind = _kind(getattr(defaults, field.name), field.name)
        shown = _text(value, kind)
        if submitted is not None and field.name in submitted:
            shown = submitted[field.name]
        default = _text(getattr(defaults, field.name), kind)
        fields.append(SettingField(field.name, kind, shown, default, _HELP.get(field.name, "")))
    return fields


def sections(fields: list[SettingField]) -> list[tuple[str, list[SettingField]]]:
    by_name = {field.name: field for field in fields}
    named = {name for _, names in SECTIONS for name in names}
    grouped = [(title, [by_name[n] for n in names if n in by_name]) for title, names in SECTIONS]
    rest = [field for field in fields if field.name not in named]
    return grouped + ([("Other", rest)] if rest else [])


def submitted_texts(form: FormData, settings: AppSettings) -> dict[str, str]:
    """Each setting's text as posted (an unchecked box posts nothing: false)."""
    texts = {}
    for field in setting_fields(settings):
        if field.kind == "boolean":
            texts[field.name] = "true" if form.get(field.name) == "true" else "false"
        else:
            value = form.get(field.name)
            texts[field.name] = value.strip() if isinstance(value, str) else field.text
    return texts


def changed_settings(settings: AppSettings, texts: Mapping[str, str]) -> dict[str, object]:
    """The settings whose text differs from what the field showed, as the API's values."""
    changes: dict[str, object] = {}
    for field in setting_fields(settings):
        typed = texts.get(field.name, field.text)
        if typed != field.text:
            changes[field.name] = _value(field, typed)
    return changes


def _value(field: SettingField, typed: str) -> object:
    if typed == "" and field.name in _NULLABLE:
        return None
    if field.kind == "boolean":
        return typed == "true"
    if field.kind == "integer":
        return int(typed) if _INTEGER.fullmatch(typed) else typed
    if field.kind == "list":
        return [item.strip() for item in typed.split(",") if item.strip()]
    if field.kind == "json":
        try:
            parsed: object = json.loads(typed)
        except ValueError:
            return typed  # the API says what shape it wants
        return parsed
    return typed
