"""Vendor request bodies read tolerantly: JSON (or a one-element JSON array), url-encoded or
multipart form data, into one mapping of field names to values."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from otpgate.domain.errors import ValidationFailed

MAX_FORM_FIELDS = 50
# JSON's "\ud800" escape decodes to a lone surrogate, text no database or answer can encode
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class UnreadableBody(ValidationFailed):
    """The body is not a form or JSON object a vendor's client would send."""

    def __init__(self, detail: str, *, field: str | None = "body") -> None:
        super().__init__(detail, field=field)


async def read_fields(request: Request) -> dict[str, Any]:
    """The body's fields; an empty body has none. Raises UnreadableBody."""
    body = await request.body()
    if not body.strip():
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        return await _multipart(request)
    if content_type == "application/x-www-form-urlencoded":
        return _urlencoded(body)
    # a client that names no type (or text/plain) still usually sends JSON
    return _json(body)


class FieldMissing(ValidationFailed):
    """A field the vendor requires is absent or blank."""


def required_text(fields: dict[str, Any], name: str) -> str:
    value = text_field(fields, name)
    if value is None or not value.strip():
        raise FieldMissing(f"{name} is empty", field=name)
    return value


def text_field(fields: dict[str, Any], name: str) -> str | None:
    """A field as text: None when absent or null; a JSON integer is its digits."""
    value = fields.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise UnreadableBody(f"{name} must be text", field=name)


def _json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise UnreadableBody(f"the body is not valid JSON: {exc}") from None
    if isinstance(parsed, list) and len(parsed) == 1:
        parsed = parsed[0]
    if not isinstance(parsed, dict):
        raise UnreadableBody("the body must be a JSON object")
    _refuse_surrogates(parsed)
    return parsed


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are Python's extension, not JSON, and no answer could echo them
    raise ValueError(f"{name} is not JSON")


def _urlencoded(body: bytes) -> dict[str, Any]:
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise UnreadableBody(f"the form cannot be read: {exc}") from None
    fields: dict[str, Any] = {}
    for name, value in pairs:
        fields.setdefault(name, value)  # a repeated field counts once, as first given
    return fields


async def _multipart(request: Request) -> dict[str, Any]:
    try:
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    except (MultiPartException, HTTPException, ValueError) as exc:
        raise UnreadableBody(f"the form cannot be read: {exc}") from None
    fields: dict[str, Any] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            raise UnreadableBody("files are not accepted", field=name)
        fields.setdefault(name, value)
    _refuse_surrogates(fields)
    return fields


def _refuse_surrogates(value: Any) -> None:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and _SURROGATE.search(item):
            raise UnreadableBody("the body holds text that is not valid Unicode")
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
