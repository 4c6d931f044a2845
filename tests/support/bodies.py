"""Request bodies of the native API, built from defaults plus what a test changes."""

from __future__ import annotations

from typing import Any

from support.numbers import new_mobile


def verification_request(**fields: Any) -> dict[str, Any]:
    """`POST /v1/verifications` for a fresh number; `to` and any other field may be given."""
    return {"to": new_mobile(), **fields}


def app_request(name: str, **settings: Any) -> dict[str, Any]:
    """`POST /v1/apps` with the given settings."""
    return {"name": name, "settings": settings}
