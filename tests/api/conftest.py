"""API tests talk to the real ASGI app in-process, as one app (`api`) or several."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.native import NativeApi


@pytest.fixture
def api(client: TestClient, app: Any) -> NativeApi:
    """The native API as the `app` fixture's app sees it."""
    return NativeApi(client, app.headers)


@pytest.fixture
def api_with(client: TestClient, make_app: Any) -> Callable[..., NativeApi]:
    """The native API as a new app with the given settings sees it."""

    def make(**settings: Any) -> NativeApi:
        return NativeApi(client, make_app(settings).headers)

    return make
