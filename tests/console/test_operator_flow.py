"""The operator's round trip in a real browser, from signing in to signing out."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from support.browser import PHONE, Console

PREFIX_NUMBERS = [f"+4474009{index:05d}" for index in range(1, 30)]  # all in prefix +44740


def create_app(console: Console, name: str) -> str:
    page = console.open("/apps")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create app").click()
    expect(page.get_by_role("status")).to_contain_text("The app was created")
    return str(page.url.split("/apps/")[1].split("?")[0])


def save_settings(console: Console, **values: str) -> Any:
    page = console.page
    for name, value in values.items():
        page.locator(f"#setting-{name}").fill(value)
    page.get_by_role("button", name="Save settings").click()
    return page


def test_an_operator_runs_otpgate_from_the_console(console: Console, app_key: Any) -> None:
    page = console.open("/")
    expect(page.get_by_role("heading", name="otpgate console")).to_be_visible()
    console.screenshot("sign-in")
    console.sign_in()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    app_id = create_app(console, "shop")
    # a bad value: the API's own message, beside the field, and nothing saved
    save_settings(console, code_length="99")
    expect(page.locator("#code_length-error")).to_have_text(
        "code_length must be an integer from 4 to 10"
    )
    expect(page.locator("#setting-code_length")).to_have_attribute("aria-invalid", "true")
    console.screenshot("app-settings-error")
    console.open(f"/apps/{app_id}")
    expect(page.locator("#setting-code_length")).to_have_value("6")
    # a guard that blocks a prefix after five sends with no code entered
    save_settings(console, fraud_min_sends="5", fraud_velocity_factor="2")
    expect(page.get_by_role("status")).to_have_text("Settings saved.")

    page.get_by_role("button", name="Create an API key").click()
    api_key = page.locator("#api-key").input_value()
    assert api_key.count(".") == 1
    console.screenshot("app")
    # console.js has put the app's own address in the history: a reload is a GET, and the
    # secret is gone
    page.reload()
    assert page.url == f"{console.url}/apps/{app_id}"
    assert api_key.split(".")[1] not in page.content()
    expect(page.get_by_role("cell", name="live")).to_have_count(1)

    start = app_key(api_key)
    number = PREFIX_NUMBERS[0]
    started = start(to=number)
    assert started.status_code == 201, started.text

    page = console.open(f"/verifications?app={app_id}")
    page.get_by_label("Number").fill(number)
    page.get_by_role("button", name="Search").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(number)
    console.screenshot("verifications")
    rows.first.get_by_role("link").click()
    console.reload_until(lambda: page.locator(".badge-delivered").count() > 0)
    expect(page.get_by_role("heading", name=started.json()["id"])).to_be_visible()
    expect(page.locator("table").first).to_contain_text("outbox")
    console.screenshot("verification")

    page = console.open(f"/analytics?app={app_id}")
    expect(page.locator("#total-verifications")).to_have_text("1")
    expect(page.locator("svg rect.started")).not_to_have_count(0)
    console.screenshot("analytics")

    # sends surge to +44740… and no code is entered: the guard blocks the prefix
    refused = None
    for to in PREFIX_NUMBERS[1:]:
        answer = start(to=to)
        if answer.status_code == 403:
            refused = answer.json()
            break
        assert answer.status_code == 201, answer.text
    assert refused is not None and refused["code"] == "fraud_blocked"
    page = console.open(f"/fraud?app={app_id}")
    lift = page.get_by_role("button", name="Lift +44740")
    expect(lift).to_be_visible()
    console.screenshot("fraud")
    lift.click()
    expect(page.get_by_role("status")).to_contain_text("The block was lifted")
    expect(page.get_by_role("button", name="Lift +44740")).to_have_count(0)
    assert start(to=PREFIX_NUMBERS[-1]).status_code == 201

    page = console.open("/")
    expect(page.get_by_role("heading", name="Verifications today")).to_be_visible()
    console.screenshot("overview")
    page = console.open("/apps")
    console.screenshot("apps")

    page = console.open("/outbox")
    live = page.locator("#live-state")
    expect(live).to_have_text("Updating live.")
    arriving = "+33612345678"
    assert start(to=arriving).status_code == 201
    # no reload: console.js fetches the rows
    expect(page.locator("tbody tr").first).to_contain_text(arriving, timeout=10_000)
    console.screenshot("outbox")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="otpgate console")).to_be_visible()
    console.open("/apps")
    expect(page.get_by_label("Admin token")).to_be_visible()


def test_the_pages_fit_a_phone(console: Console) -> None:
    console.page.set_viewport_size(PHONE)
    console.sign_in()
    page = console.open("/analytics")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"
    console.screenshot("phone-analytics", full_page=False)


def test_a_wrong_token_shows_the_form_again_with_an_error(console: Console) -> None:
    page = console.open("/")
    page.get_by_label("Admin token").fill("not-the-admin-token")
    with page.expect_response(lambda response: response.url.endswith("/console/login")) as posted:
        page.get_by_role("button", name="Sign in").click()
    assert posted.value.status == 401
    expect(page.locator("#token-error")).to_have_text("that is not the admin token")


def test_every_page_sends_the_security_headers(console: Console) -> None:
    console.sign_in()
    for path in ("/", "/apps", "/verifications", "/analytics", "/fraud", "/outbox"):
        answer = console.page.goto(console.url + path)
        headers = answer.headers
        assert "script-src 'self'" in headers["content-security-policy"], path
        assert "unsafe-inline" not in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
    cookie = next(c for c in console.page.context.cookies() if c["name"] == "otpgate_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
