"""Apps for the compatibility APIs: on a real `otpgate serve` process (the vendors' samples are
replayed over HTTP) and on the in-process app (flows that move the clock)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from support.served import ServedOtpgate, serving
from support.vendor_apps import MakeVendorApp, create_vendor_app


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedOtpgate]:
    """One `otpgate serve` for the sample replays (each test makes its own app)."""
    with serving(tmp_path_factory.mktemp("compat")) as otpgate:
        yield otpgate


@pytest.fixture
def served_app(served: ServedOtpgate) -> MakeVendorApp:
    return lambda **settings: create_vendor_app(served.http, served.admin_headers, settings)


@pytest.fixture
def vendor_app(client: TestClient, admin_headers: dict[str, str]) -> MakeVendorApp:
    """An app on the in-process server, whose clock the test moves."""
    return lambda **settings: create_vendor_app(client, admin_headers, settings)
