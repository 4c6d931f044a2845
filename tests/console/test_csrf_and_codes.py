"""A form posted from another site changes nothing; no page but the outbox holds a code."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import expect
from support.browser import Console
from support.served import ServedOtpgate

# the console is served on 127.0.0.1; `localhost` is another site to the browser
ATTACKER_PAGE = """<!doctype html><html><body>
<form id="attack" method="post" action="{target}/console/apps">
  <input name="name" value="{name}"><input name="csrf" value="guessed">
</form>
<script>document.getElementById("attack").submit();</script>
</body></html>"""


@pytest.fixture
def attacker(served: ServedOtpgate) -> Iterator[Any]:
    """A page on another site whose form posts to the console as soon as it loads."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = ATTACKER_PAGE.format(target=served.url, name="planted-by-another-site")
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def app_names(served: ServedOtpgate) -> set[str]:
    assert served.first_start is not None
    answer = served.http.get(
        "/v1/apps", headers={"Authorization": f"Bearer {served.first_start['admin_token']}"}
    )
    assert answer.status_code == 200, answer.text
    return {app["name"] for app in answer.json()["apps"]}


def test_a_form_posted_from_another_site_changes_nothing(
    console: Console, served: ServedOtpgate, attacker: str
) -> None:
    console.sign_in()
    with console.page.expect_response(lambda r: r.url.endswith("/console/apps")) as posted:
        console.page.goto(attacker)
    assert posted.value.status == 403
    # and from our own site, signed in, a post without the session's token is refused too
    same_site = console.page.request.post(
        console.url + "/apps", form={"name": "planted-without-token"}, max_redirects=0
    )
    assert same_site.status == 403
    assert {"planted-by-another-site", "planted-without-token"}.isdisjoint(app_names(served))
    # the session itself is untouched
    console.open("/apps")
    expect(console.page.get_by_role("heading", name="Apps", exact=True)).to_be_visible()


def test_no_page_but_the_outbox_holds_a_code(console: Console, app_key: Any) -> None:
    console.sign_in()
    page = console.open("/apps")
    page.get_by_label("Name").fill("codes")
    page.get_by_role("button", name="Create app").click()
    app_id = page.url.split("/apps/")[1].split("?")[0]
    # ten digits: a code that no id, count or date on a page could hold by chance
    page.locator("#setting-code_length").fill("10")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Settings saved.")
    page.get_by_role("button", name="Create an API key").click()
    start = app_key(page.locator("#api-key").input_value())
    number = "+447400777001"
    started = start(to=number)
    assert started.status_code == 201, started.text
    verification_id = started.json()["id"]

    page = console.open("/outbox")
    row = page.locator("tr", has_text=verification_id)
    code = re.search(r"\b[0-9]{10}\b", row.locator("td.body").inner_text())
    assert code is not None, "the outbox page shows the message, code and all"

    pages = [
        "/",
        "/apps",
        f"/apps/{app_id}",
        f"/verifications?app={app_id}",
        f"/verifications?app={app_id}&to=%2B447400777001",
        f"/verifications/{app_id}/{verification_id}",
        "/analytics",
        f"/analytics?app={app_id}",
        f"/fraud?app={app_id}",
    ]
    for path in pages:
        answer = page.goto(console.url + path)
        assert answer.status == 200, path
        assert code.group(0) not in page.content(), f"{path} shows the code"
