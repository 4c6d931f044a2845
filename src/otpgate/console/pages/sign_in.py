"""Signing in with the admin token, and signing out."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otpgate.console import web
from otpgate.domain.errors import Unauthorized

LOGIN_FIELD = "login"


async def sign_in_page(request: Request, *, error: str | None = None) -> Response:
    """The form; its hidden field and a cookie carry the same signed value (no session yet:
    a site that cannot read our cookie cannot post a sign-in of its own)."""
    runtime = web.runtime_of(request)
    login = runtime.console_sessions.login_token()
    response = web.render(
        request,
        "sign_in.html",
        None,
        {"title": "Sign in", "login": login, "error": error},
        status=200 if error is None else 401,
    )
    web.set_login_cookie(request, response, login)
    return response


async def sign_in(request: Request) -> Response:
    runtime = web.runtime_of(request)
    form = await request.form()
    login, cookie = web.text(form, LOGIN_FIELD), request.cookies.get(web.LOGIN_COOKIE, "")
    if not (
        login
        and hmac.compare_digest(login.encode(errors="surrogatepass"), cookie.encode())
        and runtime.console_sessions.login_token_valid(login)
    ):
        raise web.CsrfRefused
    token = web.text(form, "token")
    try:
        opened = await runtime.run(lambda: runtime.console_sessions.sign_in(token))
    except Unauthorized as refused:
        return await sign_in_page(request, error=refused.detail)
    response = web.see_other("/")
    web.set_session_cookie(request, response, opened.cookie)
    web.forget_cookie(request, response, web.LOGIN_COOKIE)
    return response


async def sign_out(request: Request) -> Response:
    runtime = web.runtime_of(request)
    await web.posted_form(request)
    cookie = request.cookies.get(web.SESSION_COOKIE, "")
    await runtime.run(lambda: runtime.console_sessions.sign_out(cookie))
    response = web.see_other("/")
    web.forget_cookie(request, response, web.SESSION_COOKIE)
    return response


routes = [
    Route("/login", sign_in, methods=["POST"]),
    Route("/logout", sign_out, methods=["POST"]),
]
