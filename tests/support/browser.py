"""The console in a browser tab, as the browser tests drive it (tests/console/)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.served import ServedOtpgate

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@dataclass
class Console:
    """The console in one browser tab, as an operator uses it."""

    page: Any
    served: ServedOtpgate

    @property
    def url(self) -> str:
        return self.served.url + "/console"

    def open(self, path: str = "/") -> Any:
        self.page.goto(self.url + path)
        return self.page

    def sign_in(self) -> None:
        self.open("/")
        self.page.get_by_label("Admin token").fill(self.admin_token)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(self.url + "/")

    @property
    def admin_token(self) -> str:
        assert self.served.first_start is not None
        token: str = self.served.first_start["admin_token"]
        return token

    def screenshot(self, name: str, *, full_page: bool = True) -> None:
        """Each page's picture for docs/console.md, when asked to refresh them."""
        if os.environ.get("OTPGATE_UPDATE_SCREENSHOTS"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    def reload_until(self, check: Callable[[], bool], timeout: float = 10.0) -> None:
        """Reload a server-drawn page until it shows what the delivery loop will make true."""
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"not shown within {timeout}s: {self.page.url}"
            time.sleep(0.1)
            self.page.reload()
