"""The shared pieces of the compatibility APIs: body reading (lenient and strict) and paths in any
case."""

from __future__ import annotations

from typing import Any

import pytest

from otpgate.compat.bodies import UnreadableBody, parse_json_fields
from otpgate.compat.dotdigital import API as DOTDIGITAL
from otpgate.compat.routing import CanonicalPaths
from otpgate.compat.sessionm import API as SESSIONM


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        (b'{"to": "1"}', {"to": "1"}),
        (b'[{"to": "1"}]', {"to": "1"}),
        (b'{"to": "1",}', {"to": "1"}),
        (b"{'to': '1'}", {"to": "1"}),
        (b'/* note */ {"to": "1"}', {"to": "1"}),
        ("{\u201cto\u201d: \u201c1\u201d}".encode(), {"to": "1"}),
        (b'\xef\xbb\xbf{"to": "1"}', {"to": "1"}),  # a byte order mark
        (b"", {}),
        (b"  \n", {}),
    ],
)
def test_bodies_are_read_strictly_then_as_leniently_as_vendors_clients_write_them(
    raw: bytes, fields: dict[str, Any]
) -> None:
    assert parse_json_fields(raw, lenient=True) == fields


@pytest.mark.parametrize(
    "raw", [b"[]", b"[{}, {}]", b'"to"', b"null", b"{", b"\xff", b"[" * 5000, b"{to: }"]
)
def test_anything_else_is_unreadable(raw: bytes) -> None:
    with pytest.raises(UnreadableBody):
        parse_json_fields(raw, lenient=True)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"to": "1",}',
        b"{'to': '1'}",
        b'/* note */ {"to": "1"}',
        "{\u201cto\u201d: \u201c1\u201d}".encode(),
        b'\xef\xbb\xbf{"to": "1"}',
        b'{"to": NaN}',
        b'{"to": "\\ud800"}',
        b'[{"to": ["\\udc00"]}]',
    ],
)
def test_strict_reading_refuses_what_lenient_reading_accepts(raw: bytes) -> None:
    parse_json_fields(raw, lenient=True)
    with pytest.raises(UnreadableBody):
        parse_json_fields(raw, lenient=False)


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/WebApi/Verify", "/webapi/verify"),
        ("/webapi/verify/", "/webapi/verify"),
        ("/WEBAPI/VERIFY/SENDCODE", "/webapi/verify/sendcode"),
        ("/WebApi/Verify/AB-Cd/Validate", "/webapi/verify/AB-Cd/validate"),
        ("/webapi/verify/{rest}/validate", "/webapi/verify/{rest}/validate"),
        ("/WebApi/Other/Thing", "/webapi/Other/Thing"),
        ("/PRIV/V1/Apps/key_Ab/Messaging_Events/SMS/Validation/Confirm",
         "/priv/v1/apps/key_Ab/messaging_events/sms/validation/confirm"),
        ("/v1/Verifications", None),
        ("/webapis/verify", None),
    ],
)  # fmt: skip
def test_vendor_paths_in_any_case_reach_their_route_and_parameters_keep_their_case(
    path: str, canonical: str | None
) -> None:
    paths = CanonicalPaths(app=None, templates=[*SESSIONM.templates, *DOTDIGITAL.templates])  # type: ignore[arg-type]
    assert paths.canonical(path) == canonical
