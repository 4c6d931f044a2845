"""Apps: the list, creating one, an app's settings and message preview, and its API keys."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otpgate.console import web
from otpgate.console.settings_form import (
    changed_settings,
    sections,
    setting_fields,
    submitted_texts,
)
from otpgate.domain.errors import OtpgateError
from otpgate.domain.message_text import preview_message
from otpgate.runtime import Runtime
from otpgate.service.apps import NewApiKey
from otpgate.service.console_sessions import ConsoleSession
from otpgate.service.ports import App

NOTICES = {
    "created": "The app was created. Create an API key for it below.",
    "saved": "Settings saved.",
    "revoked": "The key was revoked: requests with it are refused from now on.",
}


async def list_apps(request: Request) -> Response:
    session = await web.session_of(request)
    runtime = web.runtime_of(request)
    found = await runtime.run(runtime.apps.list_apps)
    return _apps_page(request, session, found)


async def create_app(request: Request) -> Response:
    session, form = await web.posted_form(request)
    runtime = web.runtime_of(request)
    name = web.text(form, "name")
    try:
        app = await runtime.run(lambda: runtime.apps.create_app(name))
    except OtpgateError as refused:
        found = await runtime.run(runtime.apps.list_apps)
        errors = web.field_errors(refused, "name")
        return _apps_page(request, session, found, errors=errors, name=name, status=400)
    return web.see_other(f"/apps/{app.id}?notice=created")


def _apps_page(
    request: Request,
    session: ConsoleSession,
    found: list[App],
    *,
    errors: dict[str, str] | None = None,
    name: str = "",
    status: int = 200,
) -> Response:
    context = {"title": "Apps", "apps": found, "errors": errors or {}, "name": name}
    return web.render(request, "apps.html", session, context, status=status)


async def show_app(request: Request) -> Response:
    session = await web.session_of(request)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return await _app_page(request, session, notice=notice)


async def save_settings(request: Request) -> Response:
    session, form = await web.posted_form(request)
    runtime = web.runtime_of(request)
    app_id = request.path_params["app_id"]
    app = await runtime.run(lambda: runtime.apps.get_app(app_id))
    texts = submitted_texts(form, app.settings)
    changes = changed_settings(app.settings, texts)
    try:
        await runtime.run(lambda: runtime.apps.update_settings(app_id, changes))
    except OtpgateError as refused:
        errors = web.field_errors(refused, "settings")
        return await _app_page(request, session, errors=errors, typed=texts, status=400)
    return web.see_other(f"/apps/{app_id}?notice=saved")


async def create_key(request: Request) -> Response:
    """The secret is in this answer once, never in a URL, a log or a later page."""
    session, _form = await web.posted_form(request)
    runtime = web.runtime_of(request)
    app_id = request.path_params["app_id"]
    key = await runtime.run(lambda: runtime.apps.create_key(app_id))
    return await _app_page(request, session, new_key=key, status=201)


async def revoke_key(request: Request) -> Response:
    await web.posted_form(request)
    runtime = web.runtime_of(request)
    app_id, key_id = request.path_params["app_id"], request.path_params["key_id"]
    await runtime.run(lambda: runtime.apps.revoke_key(app_id, key_id))
    return web.see_other(f"/apps/{app_id}?notice=revoked")


def _read_app(runtime: Runtime, app_id: str) -> dict[str, Any]:
    app = runtime.apps.get_app(app_id)
    return {"app": app, "keys": runtime.apps.list_keys(app.id)}


async def _app_page(
    request: Request,
    session: ConsoleSession,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    new_key: NewApiKey | None = None,
    status: int = 200,
) -> Response:
    runtime = web.runtime_of(request)
    app_id = request.path_params["app_id"]
    found = await runtime.run(lambda: _read_app(runtime, app_id))
    app: App = found["app"]
    # the app's default text (its default locale), as the admin API's message-preview shows it
    preview = preview_message(app.settings, app.name, country=None).body
    context = {
        "title": app.name,
        "sections": sections(setting_fields(app.settings, typed)),
        "errors": errors or {},
        "notice": notice,
        "new_key": new_key,
        "preview": preview,
        **found,
    }
    return web.render(request, "app.html", session, context, status=status)


routes = [
    Route("/apps", list_apps, methods=["GET"]),
    Route("/apps", create_app, methods=["POST"]),
    Route("/apps/{app_id}", show_app, methods=["GET"]),
    Route("/apps/{app_id}/settings", save_settings, methods=["POST"]),
    Route("/apps/{app_id}/keys", create_key, methods=["POST"]),
    Route("/apps/{app_id}/keys/{key_id}/revoke", revoke_key, methods=["POST"]),
]
