"""Number lookups: parsing and line type, and the network's answer when asked; no message sent."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from otpgate.api.auth import CredentialsDep, RuntimeDep, authenticate_app
from otpgate.api.schemas import LookupOut, Problem
from otpgate.domain.phone import lookup_number, normalize_country
from otpgate.service.presentation import lookup_document

router = APIRouter(prefix="/v1", tags=["lookups"])


@router.get(
    "/lookups/{number}",
    response_model=LookupOut,
    responses={503: {"model": Problem, "description": "`lookup_unavailable`: the provider failed"}},
)
async def lookup(
    number: Annotated[str, Path(max_length=64)],
    runtime: RuntimeDep,
    credentials: CredentialsDep,
    country: Annotated[str | None, Query(min_length=2, max_length=3)] = None,
    network: Annotated[
        bool, Query(description="ask the lookup provider even when the app's setting would not")
    ] = False,
) -> dict[str, Any]:
    app = await runtime.run(partial(authenticate_app, runtime, credentials))
    region = normalize_country(country) if country is not None else None
    found = lookup_number(number, region, field="number")
    # on the event loop: the provider's answer is awaited here, never in the executor
    answer = await runtime.lookups.look_up(app, found, force=network)
    return lookup_document(answer, runtime.clock.now())
