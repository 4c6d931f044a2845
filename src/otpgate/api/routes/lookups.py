"""Number lookups: parsing and line type, no message sent."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from otpgate.api.auth import CredentialsDep, RuntimeDep, authenticate_app
from otpgate.api.schemas import LookupOut
from otpgate.domain.phone import lookup_number, normalize_country

router = APIRouter(prefix="/v1", tags=["lookups"])


@router.get("/lookups/{number}", response_model=LookupOut)
async def lookup(
    number: Annotated[str, Path(max_length=64)],
    runtime: RuntimeDep,
    credentials: CredentialsDep,
    country: Annotated[str | None, Query(min_length=2, max_length=3)] = None,
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        authenticate_app(runtime, credentials)
        region = normalize_country(country) if country is not None else None
        found = lookup_number(number, region, field="number")
        return {
            "number": found.e164,
            "valid": found.valid,
            "country": found.country,
            "line_type": found.line_type.value,
            "national_format": found.national_format,
        }

    return await runtime.run(serve)
