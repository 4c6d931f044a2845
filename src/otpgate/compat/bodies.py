"""Vendor request bodies read as their clients send them: JSON (or a one-element JSON array),
url-encoded or multipart forms, into one mapping of field names; and the text fields in it.

Each vendor reads either strictly or leniently (`lenient=`): SessionM's and dotdigital's
samples rely on .NET's lenient JSON reader, while IDResponse's page prints a body with comments
that its service refuses, and 99 digital's and IDResponse's answers echo fields that must be
valid JSON text (so NaN, Infinity and lone surrogates are refused anywhere in those bodies).
"""

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

from otpgate.api.schemas import holds_lone_surrogate
from otpgate.domain.errors import ValidationFailed

Fields = Mapping[str, Any]

# lenient readers take up to 100 form fields, the last of a repeated one; strict readers 50,
# the first (each as its vendor API was first built)
_LENIENT_FORM_FIELDS = 100
_STRICT_FORM_FIELDS = 50
# typographic double quotes, as SessionM's own sample request uses for JSON delimiters
_TYPOGRAPHIC_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"'})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class UnreadableBody(ValidationFailed):
    """The body is not a form or JSON object a vendor's client would send."""

    def __init__(self, detail: str, *, field: str | None = "body") -> None:
        super().__init__(detail, field=field)


class FieldMissing(ValidationFailed):
    """A field the vendor requires is absent, null or blank."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is required", field=field)


class FieldUnreadable(ValidationFailed):
    """A field is present but is not text of the accepted length and characters."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field} {detail}", field=field)


async def read_fields(request: Request, *, lenient: bool) -> Fields:
    """The body's fields; an empty body has none. Raises UnreadableBody."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if not lenient and not raw.strip():
        return {}  # of any type; a lenient reader parses a blank form as its type says
    if content_type == "multipart/form-data":
        return await _multipart(request, lenient=lenient)
    if content_type == "application/x-www-form-urlencoded":
        return _urlencoded(raw, lenient=lenient)
    # a client that names no type (or text/plain) still usually sends JSON
    return parse_json_fields(raw, lenient=lenient)


def parse_json_fields(raw: bytes, *, lenient: bool) -> Fields:
    """A JSON object, or the only object of a one-element array (RestSharp sends `new[] {…}`).

    Lenient reading tries strict JSON first; then the leniency of .NET's JSON reader that
    vendors' samples rely on (a trailing comma, comments, single quotes, a byte order mark)
    and typographic quotes as delimiters.
    """
    if not raw.strip():
        return {}
    value = _lenient_json(raw) if lenient else _strict_json(raw)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict):
        raise UnreadableBody("the body must be a JSON object")
    if not lenient:
        _refuse_surrogates(value)
    return value


def text_field(fields: Fields, name: str, *, max_length: int | None = None) -> str | None:
    """The field as text; None when absent, null or blank. A whole number is read as its
    digits (a phone number sent as a JSON number); anything else is refused.

    With `max_length` the text must also be printable and no longer, and a number at most 256
    bits (str() of a huge one is slow): SessionM and dotdigital word those refusals per field.
    Without it the service's rules decide, and 99 digital and IDResponse word its refusals.
    """
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if max_length is not None and value.bit_length() > 256:
            raise FieldUnreadable(name, "is too long")
        value = str(value)
    if not isinstance(value, str):
        raise FieldUnreadable(name, "must be a string")
    if max_length is not None:
        if holds_lone_surrogate(value) or _CONTROL.search(value):
            raise FieldUnreadable(name, "must be printable Unicode text")
        if len(value) > max_length:
            raise FieldUnreadable(name, f"must be at most {max_length} characters")
    return value if value.strip() else None


def required_text(fields: Fields, name: str, *, max_length: int | None = None) -> str:
    """The field as `text_field` reads it; FieldMissing when absent, null or blank."""
    value = text_field(fields, name, max_length=max_length)
    if value is None:
        raise FieldMissing(name)
    return value


def echoed_text(fields: Fields, name: str) -> str | None:
    """A field as the client sent it, for an answer that echoes it: text (blank or not), or a
    whole number's digits; None for anything else."""
    value = fields.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None


def _strict_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise UnreadableBody(f"the body is not valid JSON: {exc}") from None


def _lenient_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableBody("the body is not UTF-8") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        try:
            return pyjson5.loads(text.translate(_TYPOGRAPHIC_QUOTES))
        except (pyjson5.Json5Exception, ValueError, RecursionError):
            raise UnreadableBody("the body is not valid JSON") from None


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are Python's extension, not JSON, and no answer could echo them
    raise ValueError(f"{name} is not JSON")


def _urlencoded(raw: bytes, *, lenient: bool) -> Fields:
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            # lenient reading takes a broken %-escape as U+FFFD
            errors="replace" if lenient else "strict",
            max_num_fields=_LENIENT_FORM_FIELDS if lenient else _STRICT_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise UnreadableBody(f"the form cannot be read: {exc}") from None
    return _one_value_each(pairs, lenient=lenient)


async def _multipart(request: Request, *, lenient: bool) -> Fields:
    try:
        # max_files=0: the parser refuses a file part, so every value is text
        form = await request.form(
            max_files=0,
            max_fields=_LENIENT_FORM_FIELDS if lenient else _STRICT_FORM_FIELDS,
        )
    except (MultiPartException, HTTPException, ValueError) as exc:
        raise UnreadableBody(f"the form cannot be read: {exc}") from None
    pairs = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    fields = _one_value_each(pairs, lenient=lenient)
    if not lenient:
        _refuse_surrogates(fields)
    return fields


def _one_value_each(pairs: list[tuple[str, Any]], *, lenient: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in pairs:
        if lenient:
            fields[name] = value
        else:
            fields.setdefault(name, value)
    return fields


def _refuse_surrogates(value: Any) -> None:
    if holds_lone_surrogate(value):
        raise UnreadableBody("the body holds text that is not valid Unicode")
