"""The locales otpgate has built-in message texts for."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from otpgate.api.auth import CredentialsDep, RuntimeDep, authenticate_app
from otpgate.api.schemas import LocaleList
from otpgate.domain.message_text import builtin_locales

router = APIRouter(prefix="/v1", tags=["message text"])


@router.get("/locales", response_model=LocaleList)
async def list_locales(runtime: RuntimeDep, credentials: CredentialsDep) -> dict[str, Any]:
    await runtime.run(lambda: authenticate_app(runtime, credentials))
    return {"locales": [{"tag": tag, "name": name} for tag, name in builtin_locales()]}
