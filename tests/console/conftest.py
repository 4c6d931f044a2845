"""Browser tests: Debian's Chromium, driven by Playwright, against a real `otpgate serve`.

Chromium is the `chromium` apt package (`make browser` installs it; `.ci/run` reaches it):
never a browser build Playwright would download. Missing, its tests skip on a laptop and
fail under CI. With OTPGATE_UPDATE_SCREENSHOTS=1 the tests write docs/console/*.png.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.browser import LAPTOP, Console
from support.served import ServedOtpgate, serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


# a module's, not the session's: Playwright's sync API keeps an event loop running in this
# thread until it stops, and every later test's asyncio.run() would find it running
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedOtpgate]:
    """One `otpgate serve` (SQLite, the developer outbox) for a test module."""
    with serving(tmp_path_factory.mktemp("console")) as otpgate:
        yield otpgate


@pytest.fixture
def console(browser: Any, served: ServedOtpgate) -> Iterator[Console]:
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield Console(page, served)
    context.close()


@pytest.fixture
def app_key(served: ServedOtpgate) -> Callable[[str], Callable[..., httpx.Response]]:
    """Starts verifications through the API with an app key: `start(to=…)`."""

    def for_key(api_key: str) -> Callable[..., httpx.Response]:
        def start(**body: Any) -> httpx.Response:
            return served.http.post(
                "/v1/verifications", json=body, headers={"Authorization": f"Bearer {api_key}"}
            )

        return start

    return for_key
