"""A table of malformed requests: each gets a 4xx problem naming the field, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.bodies import app_request, verification_request
from support.postgres import ENGINES

from otpgate.config import Settings
from otpgate.runtime import build_runtime, migrate
from otpgate.server import create_app

ADMIN_TOKEN = "malformed-admin-token-0123456789"
PROBLEM_MEMBERS = {"type", "title", "status", "code", "detail"}


@dataclass(frozen=True)
class Malformed:
    """One request and the refusal it must get."""

    name: str
    method: str
    path: str
    status: int
    field: str | None = None  # the `field` the problem names; None: it names none
    code: str | None = None  # the problem `code`, when the test pins it
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] | None = None
    who: str = "app"  # whose credentials: app, admin or none


def create(
    name: str, status: int = 400, at: str | None = None, code: str | None = None, **overrides: Any
) -> Malformed:
    """A create whose body is a valid request with `overrides` applied (None removes a field)."""
    body = {k: v for k, v in verification_request(**overrides).items() if v is not None}
    return Malformed(name, "POST", "/v1/verifications", status, at, code, json=body)


def raw(
    name: str,
    content: bytes,
    status: int = 400,
    at: str | None = None,
    content_type: str = "application/json",
    code: str | None = None,
    path: str = "/v1/verifications",
    who: str = "app",
) -> Malformed:
    """A request with exactly these bytes as its body (for what `json=` cannot send)."""
    headers = {"Content-Type": content_type} if content_type else {}
    return Malformed(
        name, "POST", path, status, at, code, content=content, headers=headers, who=who
    )


def check(name: str, body: Any, at: str | None = "code") -> Malformed:
    return Malformed(name, "POST", "/v1/verifications/ver_unknown/check", 400, at, json=body)


def new_app(name: str, at: str, body: Any, code: str | None = None) -> Malformed:
    return Malformed(name, "POST", "/v1/apps", 400, at, code, json=body, who="admin")


def settings(name: str, at: str, code: str | None = None, **changes: Any) -> Malformed:
    return new_app(name, at, app_request(f"app-{name}", **changes), code)


def query(name: str, path: str, at: str | None, status: int = 400) -> Malformed:
    return Malformed(name, "GET", path, status, at)


def lone_surrogate(text: str) -> str:
    """JSON for `text` with its first character replaced by the escape of a lone surrogate."""
    return "\\ud800" + json.dumps(text)[2:-1]


TABLE = [
    # the body as a whole
    raw("broken JSON", b'{"to": "+447123123456"', code="validation_error"),
    raw("a JSON array", b'["+447123123456"]'),
    raw("a JSON string", b'"+447123123456"'),
    raw("an empty body", b""),
    raw("bytes that are not UTF-8", b'{"to": "\xff\xfe"}'),
    raw("NaN for a number", b'{"to": "+447400111111", "code_length": NaN}', at="code_length"),
    raw(
        "a number too large for a float",
        b'{"to": "+447400111112", "ttl_seconds": 1e400}',
        at="ttl_seconds",
    ),
    raw(
        "text/plain",
        b'{"to": "+447123123456"}',
        415,
        content_type="text/plain",
        code="unsupported_media_type",
    ),
    raw("a form", b"to=%2B447123123456", 415, content_type="application/x-www-form-urlencoded"),
    raw("XML", b"<to>+447123123456</to>", 415, content_type="application/xml"),
    raw("no content type", b'{"to": "+447123123456"}', 415, content_type=""),
    raw("JSON nested 30000 deep", b"[" * 30_000 + b"]" * 30_000),
    raw(
        "an integer of 5000 digits", b'{"to": "+447400111113", "ttl_seconds": ' + b"9" * 5000 + b"}"
    ),
    raw("over 64 KiB", b'{"to": "' + b"1" * 70_000 + b'"}', 413, code="payload_too_large"),
    raw("over 64 KiB of anything", b"x" * 65_537, 413, content_type="text/plain"),
    # the number
    create("no number", at="to", to=None),
    create("a number as a JSON number", at="to", to=447123123456),
    create("a number as a list", at="to", to=["+447123123456"]),
    create("an empty number", at="to", to=""),
    create("a huge number", at="to", to="+44" + "7" * 10_000),
    create(
        "fullwidth digits",
        at="to",
        to="+" + "".join(chr(0xFF10 + int(d)) for d in "447123123456"),
    ),
    create(
        "Arabic-Indic digits",
        at="to",
        to="+" + "".join(chr(0x0660 + int(d)) for d in "447123123456"),
    ),
    create("a NUL byte in the number", at="to", to="+447123\x00123456"),
    create("letters in the number", at="to", code="invalid_phone_number", to="+44 7123 CALLME"),
    create("a national number without country", at="to", to="07123 123456"),
    create("a number too short", at="to", code="invalid_phone_number", to="+4412"),
    create("an unassigned number", at="to", code="invalid_phone_number", to="+447700900123"),
    create("an extension", at="to", to="+447123123456;ext=12"),
    create("scientific notation", at="to", to="4.47e11"),
    create("a lone surrogate in the number", at="to", to="\ud800447123123456"),
    # the other fields of a create
    create("an unknown country", at="country", to="07123123456", country="XX"),
    create("a one-letter country", at="country", to="07123123456", country="G"),
    create("a country as a number", at="country", country=826),
    create(
        "a template without {code}",
        at="template",
        code="invalid_template",
        template="Your code is {CODE}",
    ),
    create(
        "an over-long template",
        at="template",
        code="invalid_template",
        template="{code}" + "x" * 600,
    ),
    create("a template over the schema limit", at="template", template="{code}" + "x" * 3000),
    create("a NUL byte in the template", at="template", template="{code}\x00"),
    create("an empty template", at="template", code="invalid_template", template=""),
    create("a text sender too long", at="sender", code="invalid_sender", sender="MAYFLOWERSHOP"),
    create("a one-letter sender", at="sender", code="invalid_sender", sender="M"),
    create("a sender with an emoji", at="sender", code="invalid_sender", sender="SHOP\U0001f6d2"),
    create("a numeric sender too long", at="sender", sender="1234567890123456"),
    create("a code length as text", at="code_length", code_length="6"),
    create("a code length too short", at="code_length", code_length=3),
    create("a code length too long", at="code_length", code_length=11),
    create("a code length as a float", at="code_length", code_length=6.0),
    create("a code length as a boolean", at="code_length", code_length=True),
    create("a ttl of zero", at="ttl_seconds", ttl_seconds=0),
    create("a ttl over a day", at="ttl_seconds", ttl_seconds=86_401),
    create("a negative ttl", at="ttl_seconds", ttl_seconds=-1),
    create("a voice channel", at="channel", channel="voice"),
    create("an unknown field", at="colour", colour="blue"),
    create("a malformed locale", at="locale", locale="not a locale!"),
    create("an over-long external id", at="external_id", external_id="e" * 129),
    create("a reference as a number", at="reference", reference=9),
    create("an empty idempotency key", at="idempotency_key", idempotency_key=""),
    create(
        "a lone surrogate in the idempotency key",
        at="idempotency_key",
        idempotency_key="\ud800key",
    ),
    create("a lone surrogate in the external id", at="external_id", external_id="\udfffid"),
    create("a lone surrogate in the reference", at="reference", reference="ref\ud800"),
    create("a lone surrogate in the template", at="template", template="\ud800 {code}"),
    # checks
    check("a code as a number", {"code": 123456}),
    check("an empty code", {"code": ""}),
    check("no code", {}),
    check("a code too long", {"code": "1" * 65}),
    check("a code in Arabic-Indic digits", {"code": "".join(chr(0x0660 + d) for d in range(6))}),
    check("a NUL byte in the code", {"code": "12\x003456"}),
    check("a lone surrogate in the code", {"code": "\ud800"}),
    check("an unknown field in a check", {"code": "123456", "extra": 1}, at="extra"),
    Malformed(
        "an over-long verification id",
        "POST",
        "/v1/verifications/" + "v" * 65 + "/check",
        400,
        "verification_id",
        json={"code": "123456"},
    ),
    Malformed(
        "a check by number without number",
        "POST",
        "/v1/verification-checks",
        400,
        "to",
        json={"code": "123456"},
    ),
    Malformed(
        "a check by number with a bad number",
        "POST",
        "/v1/verification-checks",
        400,
        "to",
        json={"to": "+4412", "code": "123456"},
    ),
    # apps and settings
    new_app("an app without name", "name", {"settings": {}}),
    new_app("an empty app name", "name", {"name": ""}),
    new_app("an app name of spaces", "name", {"name": "   "}),
    new_app("an over-long app name", "name", {"name": "n" * 65}),
    new_app("a NUL byte in the app name", "name", {"name": "shop\x00"}),
    new_app("settings as a list", "settings", {"name": "listed", "settings": ["code_length"]}),
    settings("code length 11", "settings.code_length", code_length=11),
    settings("code length as text", "settings.code_length", code_length="6"),
    settings("a hex alphabet", "settings.code_alphabet", code_alphabet="hex"),
    settings("max attempts 0", "settings.max_attempts", max_attempts=0),
    settings("max sends 21", "settings.max_sends", max_sends=21),
    settings("a negative cooldown", "settings.resend_cooldown_seconds", resend_cooldown_seconds=-1),
    settings("a ttl of two days", "settings.ttl_seconds", ttl_seconds=172_800),
    settings(
        "a template setting without {code}",
        "settings.template",
        "invalid_template",
        template="Your code",
    ),
    settings(
        "an over-long template setting",
        "settings.template",
        "invalid_template",
        template="{code}" + "x" * 500,
    ),
    settings("a bad sender setting", "settings.sender", "invalid_sender", sender="SHOP!"),
    settings(
        "a bad approved sender",
        "settings.approved_senders",
        "invalid_sender",
        approved_senders=["OK", "NOT OK!"],
    ),
    settings("a fax line type", "settings.blocked_line_types", blocked_line_types=["fax"]),
    settings("countries as a string", "settings.allowed_countries", allowed_countries="GB"),
    settings("an unknown country setting", "settings.blocked_countries", blocked_countries=["UK"]),
    settings(
        "a javascript callback",
        "settings.status_callback_url",
        status_callback_url="javascript:alert(1)",
    ),
    settings("a campaign without keyword", "settings.sms_campaign", sms_campaign={}),
    settings("an unknown setting", "settings.colour", colour="blue"),
    raw(
        "a lone surrogate in a template setting",
        b'{"name": "surrogate", "settings": {"template": "'
        + lone_surrogate("x {code}").encode()
        + b'"}}',
        at="settings",
        path="/v1/apps",
        who="admin",
    ),
    raw(
        "a lone surrogate in a callback setting",
        b'{"name": "callback", "settings": {"status_callback_url": "https://'
        + lone_surrogate("x.example/").encode()
        + b'"}}',
        at="settings",
        path="/v1/apps",
        who="admin",
    ),
    Malformed(
        "a patch without settings",
        "PATCH",
        "/v1/apps/{app_id}",
        400,
        "settings",
        json={},
        who="admin",
    ),
    # query strings and paths
    query("limit 0", "/v1/verifications?limit=0", "limit"),
    query("limit as a word", "/v1/verifications?limit=ten", "limit"),
    query("limit as a fraction", "/v1/verifications?limit=1.5", "limit"),
    query("an unknown status", "/v1/verifications?status=done", "status"),
    query("a NUL byte as number", "/v1/verifications?to=%00", "to"),
    query("a bad UTF-8 number", "/v1/verifications?to=%ED%A0%80", "to"),
    query("an over-long cursor", "/v1/verifications?cursor=" + "c" * 65, "cursor"),
    query("a limit of 5000 digits", "/v1/verifications?limit=" + "9" * 5000, "limit"),
    query("a lookup of 5000 digits", "/v1/lookups/" + "1" * 5000, "number"),
    query("an outbox limit of 1000", "/v1/dev/outbox?limit=1000", "limit"),
    query("a lookup of a word", "/v1/lookups/hello", "number"),
    query("a lookup with an unknown country", "/v1/lookups/%2B447123123456?country=ZZZ", "country"),
    query("a lookup of a NUL byte", "/v1/lookups/%00", "number"),
    # routes and methods
    query("an unknown route", "/v1/nothing-here", None, 404),
    query("an unknown top-level route", "/wp-admin", None, 404),
    Malformed(
        "DELETE on the collection", "DELETE", "/v1/verifications", 405, code="method_not_allowed"
    ),
    Malformed("PUT on a verification", "PUT", "/v1/verifications/ver_x", 405, json={}),
    Malformed("GET on a check", "GET", "/v1/verifications/ver_x/check", 405),
    Malformed("POST on health", "POST", "/healthz", 405),
]


@pytest.fixture(scope="module", params=ENGINES)
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """One app for the whole table, per engine: each row sends its own number, so rows never
    meet."""
    with ExitStack() as cleanup:
        database_url = None
        if request.param == "postgresql":
            databases = request.getfixturevalue("postgres_databases")
            database_url = cleanup.enter_context(databases.fresh())
        yield from _shared_app(Path(tmp_path_factory.mktemp("malformed")), database_url)


def _shared_app(
    data_dir: Path, database_url: str | None
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        secret_key="malformed-secret-key-0123456789abcdefghij",
        _env_file=None,  # type: ignore[call-arg]
    )
    runtime = build_runtime(settings)
    migrate(runtime)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        app_id = client.post("/v1/apps", json={"name": "table"}, headers=admin).json()["id"]
        key = client.post(f"/v1/apps/{app_id}/keys", headers=admin).json()
        ids = {"app_id": app_id, "api_key": key["api_key"]}
        yield client, ids
    runtime.close()


def test_the_table_has_at_least_40_rows() -> None:
    assert len(TABLE) >= 40
    assert len({row.name for row in TABLE}) == len(TABLE)


@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
def test_a_malformed_request_gets_a_4xx_problem_naming_the_field(
    shared: tuple[TestClient, dict[str, str]], row: Malformed
) -> None:
    client, ids = shared
    credentials = {
        "app": {"Authorization": f"Bearer {ids['api_key']}"},
        "admin": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
        "none": {},
    }[row.who]
    content, headers = row.content, row.headers or {}
    if content is None and row.json is not None:
        # json.dumps, not httpx: it writes a lone surrogate as the \ud800 escape a client can send
        content, headers = json.dumps(row.json).encode(), {"Content-Type": "application/json"}
    answer = client.request(
        row.method,
        row.path.format(app_id=ids["app_id"]),
        content=content,
        headers={**credentials, **headers},
    )
    assert answer.status_code == row.status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert set(problem) >= PROBLEM_MEMBERS, problem
    assert problem["status"] == row.status
    assert problem["type"] == f"/docs/errors#{problem['code']}"
    assert problem.get("field") == row.field, problem
    if row.code is not None:
        assert problem["code"] == row.code
