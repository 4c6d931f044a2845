"""The app page's channel settings: a workflow is a JSON field, read back as it was shown."""

from __future__ import annotations

import json

from otpgate.console.settings_form import changed_settings, setting_fields
from otpgate.domain.policy import AppSettings, apply_settings

WORKFLOW = [
    {"channel": "whatsapp", "timeout_seconds": 60},
    {"channel": "sms", "timeout_seconds": 120},
]


def test_a_workflow_is_shown_as_json_and_an_untouched_form_changes_nothing() -> None:
    settings = apply_settings(
        AppSettings(), {"channels": ["sms", "whatsapp"], "workflow": WORKFLOW}
    )
    fields = {field.name: field for field in setting_fields(settings)}
    assert (fields["workflow"].kind, json.loads(fields["workflow"].text)) == ("json", WORKFLOW)
    assert (fields["channels"].kind, fields["channels"].text) == ("list", "sms, whatsapp")
    assert changed_settings(settings, {name: field.text for name, field in fields.items()}) == {}


def test_a_typed_workflow_is_sent_as_json_and_an_empty_one_as_null() -> None:
    settings = apply_settings(AppSettings(), {"workflow": WORKFLOW})
    assert changed_settings(settings, {"workflow": '[{"channel": "call"}]'}) == {
        "workflow": [{"channel": "call"}]
    }
    assert changed_settings(settings, {"workflow": ""}) == {"workflow": None}
