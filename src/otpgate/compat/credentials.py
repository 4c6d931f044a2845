"""Vendor credentials read from a request: HTTP Basic, or the key id and secret in headers."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic` header; None when absent or unreadable."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, separator, password = decoded.partition(":")
    return (user, password) if separator else None


def header_credentials(request: Request, user: str, password: str) -> tuple[str, str] | None:
    """A user name and password sent as two headers (dotdigital's jQuery sample)."""
    found = request.headers.get(user), request.headers.get(password)
    return (found[0], found[1]) if found[0] is not None and found[1] is not None else None
