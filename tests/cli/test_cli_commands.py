"""The `otpgate` command line: every command with --json, and errors on stderr."""

from __future__ import annotations

import re

import pytest
from cli.conftest import OtpgateCommand, create_app_in
from support.numbers import UK_MOBILE
from support.outbox import code_in, wrong_code


def test_apps_and_keys_are_created_listed_and_revoked(otpgate_command: OtpgateCommand) -> None:
    created = otpgate_command(
        "apps", "create", "shop", "--settings", '{"max_attempts": 3}', "--json"
    ).json()
    assert created["id"].startswith("app_") and created["name"] == "shop"
    assert created["settings"]["max_attempts"] == 3
    listed, key = otpgate_command.together(
        [("apps", "list", "--json"), ("keys", "create", "shop", "--json")]
    )
    assert listed.json() == {"apps": [{"id": created["id"], "name": "shop"}]}
    key_id, secret, api_key = (key.json()[name] for name in ("key_id", "secret", "api_key"))
    assert api_key == f"{key_id}.{secret}"
    revoked = otpgate_command("keys", "revoke", key_id, "--json").json()
    assert revoked == {"revoked": key_id}
    again = otpgate_command("keys", "revoke", key_id, "--json")
    assert (again.status, again.stdout) == (1, "")
    assert again.stderr.startswith("otpgate: not_found")


def test_send_outbox_and_check_make_a_whole_verification(
    otpgate_command: OtpgateCommand,
) -> None:
    create_app_in(otpgate_command.data_dir, "shop", code_length=8)
    sent = otpgate_command("send", "07123 123456", "--country", "GBR", "--app", "shop", "--json")
    verification = sent.json()
    assert (verification["to"], verification["status"], verification["sends"]) == (
        UK_MOBILE,
        "pending",
        1,
    )
    messages = otpgate_command("outbox", "--json").json_lines()
    assert [(m["to"], m["verification_id"]) for m in messages] == [(UK_MOBILE, verification["id"])]
    code = code_in(messages[0]["body"])
    assert re.fullmatch(r"[0-9]{8}", code)

    wrong = otpgate_command(
        "check", verification["id"], wrong_code(code), "--app", "shop", "--json"
    )
    assert wrong.status == 1  # a wrong code is an answer, and a failure for a script
    assert (wrong.stderr, wrong.stdout.count("\n")) == ("", 1)
    assert '"valid": false' in wrong.stdout

    right = otpgate_command("check", verification["id"], code, "--app", "shop", "--json")
    assert right.json() == {
        "id": verification["id"],
        "status": "approved",
        "valid": True,
        "attempts_left": 3,
    }


def test_lookup_and_migrate_answer_as_json_and_as_text(otpgate_command: OtpgateCommand) -> None:
    as_json, as_text, migrated = otpgate_command.together(
        [
            ("lookup", "+12015550123", "--json"),
            ("lookup", "07123123456", "--country", "GB"),
            ("migrate", "--json"),
        ]
    )
    found = as_json.json()
    assert found.pop("checked_at").endswith("Z")
    assert found == {
        "number": "+12015550123",
        "valid": True,
        "country": "US",
        "line_type": "landline_or_mobile",
        "national_format": "(201) 555-0123",
        "source": "numbering_plan",
        "carrier": None,
        "reachable": None,
    }
    assert (
        as_text.stdout.strip()
        == "+447123123456  valid=true  GB  mobile  07123 123456  source=numbering_plan"
    )
    assert migrated.json() == {"migrated": True}


ERRORS = [
    (("send", "+4412", "--json"), "invalid_phone_number"),
    (("send", UK_MOBILE, "--app", "nosuch", "--json"), "not_found"),
    (("check", "ver_unknown", "123456", "--json"), "not_found"),
    (("lookup", "not-a-number", "--json"), "invalid_phone_number"),
    (("apps", "create", "shop", "--settings", "{not json", "--json"), "--settings"),
    (("apps", "create", "shop", "--settings", '{"code_length": 99}', "--json"), "code_length"),
]


@pytest.fixture
def with_default_app(otpgate_command: OtpgateCommand) -> OtpgateCommand:
    create_app_in(otpgate_command.data_dir, "default")
    return otpgate_command


def test_an_error_is_one_line_on_stderr_with_a_nonzero_exit(
    with_default_app: OtpgateCommand,
) -> None:
    answers = with_default_app.together([args for args, _ in ERRORS])
    for (args, expected), ran in zip(ERRORS, answers, strict=True):
        assert ran.status != 0, args
        assert ran.stdout == "", args
        lines = ran.stderr.strip().splitlines()
        assert len(lines) == 1, (args, ran.stderr)
        assert lines[0].startswith("otpgate: ") and expected in lines[0], (args, lines)
