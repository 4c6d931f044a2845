"""Prefixes the SMS-pumping guard blocked for an app: list and lift them; admin token only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from otpgate.api.auth import CredentialsDep, RuntimeDep, authorize_admin
from otpgate.api.schemas import FraudBlockList
from otpgate.service.abuse_alerts import block_fields

router = APIRouter(prefix="/v1", tags=["apps (admin)"])

AppId = Annotated[str, Path(max_length=64)]


@router.get("/apps/{app_id}/blocks", response_model=FraudBlockList)
async def list_blocks(
    app_id: AppId, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        authorize_admin(runtime, credentials)
        app = runtime.apps.get_app(app_id)
        blocks = runtime.abuse.blocks(app, runtime.clock.now())
        return {"blocks": [block_fields(block) for block in blocks]}

    return await runtime.run(serve)


@router.delete("/apps/{app_id}/blocks/{block_id}", status_code=204, response_class=Response)
async def lift_block(
    app_id: AppId,
    block_id: Annotated[str, Path(max_length=64)],
    runtime: RuntimeDep,
    credentials: CredentialsDep,
) -> Response:
    """Lift a block; the guard then leaves the prefix alone until the block would have ended."""

    def serve() -> Response:
        authorize_admin(runtime, credentials)
        app = runtime.apps.get_app(app_id)
        runtime.abuse.lift(app, block_id, runtime.clock.now())
        return Response(status_code=204)

    return await runtime.run(serve)
