"""Opt-in records: numbers proven by a code and consented for a customer (SessionM's API)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from otpgate.api.auth import CredentialsDep, RuntimeDep, authenticate_app
from otpgate.api.query import query_number
from otpgate.api.schemas import OptInPage, Text, opt_in_out
from otpgate.domain.phone import lookup_number
from otpgate.service.ports import ListQuery

router = APIRouter(prefix="/v1", tags=["opt-ins"])


@router.get("/opt-ins", response_model=OptInPage)
async def list_opt_ins(
    runtime: RuntimeDep,
    credentials: CredentialsDep,
    external_id: Annotated[Text | None, Query(max_length=128)] = None,
    to: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        app = authenticate_app(runtime, credentials)
        # an opt-in outlives its number's range: filter on the spelling, not on validity
        number = lookup_number(query_number(to)).e164 if to is not None else None
        found = runtime.opt_ins.list(
            app, external_id, ListQuery(to=number, status=None, limit=limit, before_id=cursor)
        )
        return {
            "opt_ins": [opt_in_out(opt_in) for opt_in in found],
            "next_cursor": found[-1].id if len(found) == limit else None,
        }

    return await runtime.run(serve)
