"""Credentials: app API keys (Bearer or Basic) and the admin token."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

from otpgate.domain.errors import Forbidden, Unauthorized
from otpgate.runtime import Runtime
from otpgate.service.ports import App

_bearer = HTTPBearer(auto_error=False, description="`<key_id>.<secret>`, or the admin token")
_basic = HTTPBasic(auto_error=False, description="key id as user name, secret as password")


@dataclass(frozen=True)
class Credentials:
    key_id: str
    secret: str
    bearer: str | None  # the raw Bearer token, which may be the admin token


async def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def read_credentials(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    basic: Annotated[HTTPBasicCredentials | None, Security(_basic)],
) -> Credentials:
    """Parse only; checking a key needs the database and happens in the endpoint's thread."""
    if bearer is not None:
        key_id, _, secret = bearer.credentials.partition(".")
        return Credentials(key_id, secret, bearer.credentials)
    if basic is not None:
        return Credentials(basic.username, basic.password, None)
    raise Unauthorized("missing API key: use Bearer <key_id>.<secret> or Basic auth")


CredentialsDep = Annotated[Credentials, Depends(read_credentials)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


def authenticate_app(runtime: Runtime, credentials: Credentials) -> App:
    return runtime.apps.authenticate(credentials.key_id, credentials.secret)


def authorize_admin(runtime: Runtime, credentials: Credentials) -> None:
    token = credentials.bearer or ""
    if hmac.compare_digest(
        token.encode(errors="surrogatepass"), runtime.secrets.admin_token.encode()
    ):
        return
    runtime.apps.authenticate(credentials.key_id, credentials.secret)  # 401 unless an app key
    raise Forbidden("this route needs the admin token, not an app key")
