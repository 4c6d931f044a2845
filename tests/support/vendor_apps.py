"""Apps as a compatibility API's client holds them: a key id and a secret (and, for the test
to look behind the vendor API, the same app's native API)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from support.native import NativeApi

SESSIONM_SETTINGS = {"sms_campaign": {"opt_in_keyword": "YES"}}

_names = itertools.count(1)


@dataclass
class VendorApp:
    id: str
    key_id: str
    secret: str
    native: NativeApi

    @property
    def basic(self) -> tuple[str, str]:
        return (self.key_id, self.secret)


MakeVendorApp = Callable[..., VendorApp]  # the `vendor_app` / `served_app` fixtures


def create_vendor_app(
    http: Any, admin_headers: dict[str, str], settings: dict[str, Any]
) -> VendorApp:
    """A new app with `settings` and one key, through the admin API."""
    created = http.post(
        "/v1/apps",
        json={"name": f"vendor-{next(_names)}", "settings": settings},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    key = http.post(f"/v1/apps/{created.json()['id']}/keys", headers=admin_headers).json()
    native = NativeApi(http, {"Authorization": f"Bearer {key['api_key']}"})
    return VendorApp(created.json()["id"], key["key_id"], key["secret"], native)
