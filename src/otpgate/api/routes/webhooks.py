"""An app's webhook secret (admin): read it to check `Otpgate-Signature`, or rotate it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel

from otpgate.api.auth import CredentialsDep, RuntimeDep, authorize_admin

router = APIRouter(prefix="/v1", tags=["apps"])

AppId = Annotated[str, Path(max_length=64)]


class WebhookSecretOut(BaseModel):
    webhook_secret: str


@router.get("/apps/{app_id}/webhook-secret", response_model=WebhookSecretOut)
async def read_webhook_secret(
    app_id: AppId, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        authorize_admin(runtime, credentials)
        return {"webhook_secret": runtime.webhook_secrets.secret(app_id)}

    return await runtime.run(serve)


@router.post("/apps/{app_id}/webhook-secret", response_model=WebhookSecretOut)
async def rotate_webhook_secret(
    app_id: AppId, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    """A new secret, used for every webhook sent from now on; the old one stops at once."""

    def serve() -> dict[str, Any]:
        authorize_admin(runtime, credentials)
        return {"webhook_secret": runtime.webhook_secrets.rotate(app_id)}

    return await runtime.run(serve)
