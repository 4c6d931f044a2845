"""Apps for the compatibility APIs: on a real `otpgate serve` process (the vendors' samples are
replayed over HTTP) and on the in-process app (flows that move the clock)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.native import NativeApi
from support.served import ServedOtpgate, launch

SESSIONM_SETTINGS = {"sms_campaign": {"opt_in_keyword": "YES"}}


@dataclass
class VendorApp:
    """An app's key as a vendor's client holds it: key id and secret, plus the native API."""

    id: str
    key_id: str
    secret: str
    native: NativeApi

    @property
    def basic(self) -> tuple[str, str]:
        return (self.key_id, self.secret)


MakeVendorApp = Callable[..., VendorApp]
_names = itertools.count(1)


def _vendor_app(http: Any, admin_headers: dict[str, str], settings: dict[str, Any]) -> VendorApp:
    created = http.post(
        "/v1/apps",
        json={"name": f"vendor-{next(_names)}", "settings": settings},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    key = http.post(f"/v1/apps/{created.json()['id']}/keys", headers=admin_headers).json()
    native = NativeApi(http, {"Authorization": f"Bearer {key['api_key']}"})
    return VendorApp(created.json()["id"], key["key_id"], key["secret"], native)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedOtpgate]:
    """One `otpgate serve` for the sample replays (each test makes its own app)."""
    root = tmp_path_factory.mktemp("compat")
    process = launch(root / "data", root / "serve.log")
    yield process
    process.stop()


@pytest.fixture
def served_app(served: ServedOtpgate) -> MakeVendorApp:
    return lambda **settings: _vendor_app(served.http, served.admin_headers, settings)


@pytest.fixture
def vendor_app(client: TestClient, admin_headers: dict[str, str]) -> MakeVendorApp:
    """An app on the in-process server, whose clock the test moves."""
    return lambda **settings: _vendor_app(client, admin_headers, settings)
