"""What every console page needs: the signed-in session, CSRF, rendering and redirects."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from otpgate.domain.errors import OtpgateError
from otpgate.runtime import Runtime
from otpgate.service.console_sessions import IDLE_LIMIT, ConsoleSession

PREFIX = "/console"
SESSION_COOKIE = "otpgate_console"
LOGIN_COOKIE = "otpgate_console_login"
CSRF_FIELD = "csrf"

templates = Environment(
    loader=PackageLoader("otpgate.console", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


templates.filters.update(when=when, percent=percent, seconds=seconds)


class NotSignedIn(Exception):
    """The request carries no live session: GET pages answer with the sign-in page."""


class CsrfRefused(Exception):
    """A state-changing request without its session's CSRF token: 403, nothing changed."""


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def session_of(request: Request) -> ConsoleSession:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise NotSignedIn
    runtime = runtime_of(request)
    session = await runtime.run(lambda: runtime.console_sessions.find(cookie))
    if session is None:
        raise NotSignedIn
    return session


async def posted_form(request: Request) -> tuple[ConsoleSession, FormData]:
    """The form of a state-changing request, once its CSRF token matched its session's."""
    form = await request.form()
    try:
        session = await session_of(request)
    except NotSignedIn:
        raise CsrfRefused from None
    token = form.get(CSRF_FIELD)
    if not isinstance(token, str) or not hmac.compare_digest(
        token.encode(errors="surrogatepass"), session.csrf_token.encode()
    ):
        raise CsrfRefused
    return session, form


def render(
    request: Request,
    template: str,
    session: ConsoleSession | None,
    context: Mapping[str, Any],
    *,
    status: int = 200,
) -> HTMLResponse:
    runtime = runtime_of(request)
    page = templates.get_template(template).render(
        prefix=PREFIX,
        csrf=session.csrf_token if session else "",
        signed_in=session is not None,
        outbox_enabled=runtime.outbox is not None,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(page, status_code=status)


def see_other(path: str) -> RedirectResponse:
    """Post/redirect/get: the browser's back and reload never post a form twice."""
    return RedirectResponse(PREFIX + path, status_code=303)


def field_errors(error: OtpgateError, default_field: str) -> dict[str, str]:
    """The API's own message, keyed by the field the API names (`settings.` dropped)."""
    field = (error.field or default_field).removeprefix("settings.")
    return {field: error.detail}


def set_session_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=int(IDLE_LIMIT.total_seconds()),
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def set_login_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        value,
        max_age=3600,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def forget_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name, path=PREFIX, httponly=True, samesite="strict", secure=_secure(request)
    )


def _secure(request: Request) -> bool:
    public_url = runtime_of(request).settings.public_url or ""
    return public_url.startswith("https://")


Page = Callable[[Request, ConsoleSession], Awaitable[Response]]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
