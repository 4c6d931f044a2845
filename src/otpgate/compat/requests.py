"""Reading vendor request bodies as their clients send them: JSON (strict, then lenient), a
one-element JSON array, multipart or url-encoded forms; and the text fields in them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import pyjson5
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# typographic double quotes, as SessionM's own sample request uses for JSON delimiters
_TYPOGRAPHIC_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"'})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

Fields = Mapping[str, Any]


class BodyUnreadable(Exception):
    """The body is not JSON, a form, or a JSON object (or a one-element array of one)."""


class FieldMissing(Exception):
    """A required field is absent, null or blank."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is required")
        self.field = field


class FieldUnreadable(Exception):
    """A field is present but is not text of the accepted length and characters."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field} {detail}")
        self.field = field


async def read_fields(request: Request) -> Fields:
    """The body's fields; an empty body has none (a GET with no body is a valid request)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        try:
            form = await request.form(max_files=0, max_fields=100)
        except (HTTPException, MultiPartException, ValueError) as exc:
            raise BodyUnreadable(f"the form cannot be read: {exc}") from None
        return {name: value for name, value in form.items() if isinstance(value, str)}
    raw = await request.body()
    if content_type in _FORM_TYPES:
        try:
            return dict(parse_qsl(raw.decode(), keep_blank_values=True, max_num_fields=100))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BodyUnreadable(f"the form cannot be read: {exc}") from None
    return parse_json_fields(raw)


def parse_json_fields(raw: bytes) -> Fields:
    """A JSON object, or the only object of a one-element array (RestSharp sends `new[] {…}`).

    Strict JSON first; then the leniency of .NET's JSON reader that vendors' samples rely on
    (a trailing comma, comments, single quotes) and typographic quotes as delimiters.
    """
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BodyUnreadable("the body is not UTF-8") from None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        try:
            value = pyjson5.loads(text.translate(_TYPOGRAPHIC_QUOTES))
        except (pyjson5.Json5Exception, ValueError, RecursionError):
            raise BodyUnreadable("the body is not valid JSON") from None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict):
        raise BodyUnreadable("the body must be a JSON object")
    return value


def text_field(fields: Fields, name: str, *, max_length: int) -> str | None:
    """The field as text; None when absent, null or blank. Numbers are read as their digits
    (a phone number sent as a JSON number), anything else is refused."""
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > 256:  # str() of a huge int is slow, then refused by Python
            raise FieldUnreadable(name, "is too long")
        value = str(value)
    if not isinstance(value, str):
        raise FieldUnreadable(name, "must be a string")
    if _SURROGATE.search(value) or _CONTROL.search(value):
        raise FieldUnreadable(name, "must be printable Unicode text")
    if len(value) > max_length:
        raise FieldUnreadable(name, f"must be at most {max_length} characters")
    return value if value.strip() else None


def required_text(fields: Fields, name: str, *, max_length: int) -> str:
    value = text_field(fields, name, max_length=max_length)
    if value is None:
        raise FieldMissing(name)
    return value
