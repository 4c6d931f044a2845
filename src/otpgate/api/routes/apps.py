"""Apps, their settings and keys; admin token only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from otpgate.api.auth import CredentialsDep, RuntimeDep, authorize_admin
from otpgate.api.schemas import (
    AppChanges,
    AppList,
    AppOut,
    MessagePreviewOut,
    MessagePreviewRequest,
    NewApp,
    NewKeyOut,
)
from otpgate.domain.message_text import preview_message
from otpgate.domain.phone import normalize_country, parse_number
from otpgate.service.ports import App
from otpgate.service.presentation import timestamp

router = APIRouter(prefix="/v1", tags=["apps (admin)"])

AppId = Annotated[str, Path(max_length=64)]


def app_out(app: App) -> dict[str, Any]:
    return {
        "id": app.id,
        "name": app.name,
        "settings": app.settings.to_mapping(),
        "created_at": timestamp(app.created_at),
    }


@router.post("/apps", status_code=201, response_model=AppOut)
async def create_app(
    body: NewApp, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        authorize_admin(runtime, credentials)
        return app_out(runtime.apps.create_app(body.name, body.settings))

    return await runtime.run(serve)


@router.get("/apps", response_model=AppList)
async def list_apps(runtime: RuntimeDep, credentials: CredentialsDep) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        authorize_admin(runtime, credentials)
        return {"apps": [app_out(app) for app in runtime.apps.list_apps()]}

    return await runtime.run(serve)


@router.get("/apps/{app_id}", response_model=AppOut)
async def get_app(
    app_id: AppId, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        authorize_admin(runtime, credentials)
        return app_out(runtime.apps.get_app(app_id))

    return await runtime.run(serve)


@router.patch("/apps/{app_id}", response_model=AppOut)
async def update_app(
    app_id: AppId, body: AppChanges, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        authorize_admin(runtime, credentials)
        return app_out(runtime.apps.update_settings(app_id, body.settings))

    return await runtime.run(serve)


@router.post("/apps/{app_id}/message-preview", response_model=MessagePreviewOut)
async def preview(
    app_id: AppId, body: MessagePreviewRequest, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    """The message the app would send to `to`, rendered with the sample code 123456."""

    def find_app() -> App:
        authorize_admin(runtime, credentials)
        return runtime.apps.get_app(app_id)

    app = await runtime.run(find_app)
    country = None if body.country is None else normalize_country(body.country)
    number = parse_number(body.to, country)
    shown = preview_message(
        app.settings, app.name, country=number.country, locale=body.locale, template=body.template
    )
    return {
        "locale": shown.locale,
        "body": shown.body,
        "encoding": shown.size.encoding.value,
        "segments": shown.size.segments,
    }


@router.post("/apps/{app_id}/keys", status_code=201, response_model=NewKeyOut)
async def create_key(
    app_id: AppId, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        authorize_admin(runtime, credentials)
        key = runtime.apps.create_key(app_id)
        return {"key_id": key.key_id, "secret": key.secret, "api_key": key.api_key}

    return await runtime.run(serve)


@router.delete("/apps/{app_id}/keys/{key_id}", status_code=204, response_class=Response)
async def revoke_key(
    app_id: AppId,
    key_id: Annotated[str, Path(max_length=64)],
    runtime: RuntimeDep,
    credentials: CredentialsDep,
) -> Response:
    def serve() -> Response:
        authorize_admin(runtime, credentials)
        runtime.apps.revoke_key(app_id, key_id)
        return Response(status_code=204)

    return await runtime.run(serve)
