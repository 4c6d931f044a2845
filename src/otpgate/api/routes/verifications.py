"""Verifications: start (or re-send), read, list, check, check by number, cancel."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from otpgate.api.auth import CredentialsDep, RuntimeDep, authenticate_app
from otpgate.api.direct import DirectRoute
from otpgate.api.query import query_number
from otpgate.api.schemas import (
    CheckCode,
    CheckCodeByNumber,
    CheckOut,
    Problem,
    StartVerification,
    VerificationOut,
    VerificationPage,
    check_out,
    verification_out,
)
from otpgate.domain.errors import NotPending, OtpgateError
from otpgate.domain.phone import normalize_country, parse_number
from otpgate.domain.verification import CheckOutcome, CheckResult, Status
from otpgate.service.ports import ListQuery
from otpgate.service.verifications import StartRequest, StartResult

router = APIRouter(prefix="/v1", tags=["verifications"])
# start and check, the routes every verification takes, served without FastAPI's per-request
# dependency solving (api/direct.py)
hot_router = APIRouter(prefix="/v1", tags=["verifications"], route_class=DirectRoute)

VerificationId = Annotated[str, Path(max_length=64)]
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": Problem, "description": "`rate_limited`: a limit refused; see Retry-After"}
}
REFUSED_SENDS: dict[int | str, dict[str, Any]] = {
    **RATE_LIMITED,
    403: {"model": Problem, "description": "`fraud_blocked`: the number's prefix is blocked"},
    503: {"model": Problem, "description": "`lookup_unavailable`: the lookup provider failed"},
}


@hot_router.post(
    "/verifications",
    status_code=201,
    response_model=VerificationOut,
    responses={
        200: {"model": VerificationOut, "description": "the pending verification was re-sent"},
        **REFUSED_SENDS,
    },
)
async def start_verification(
    body: StartVerification, runtime: RuntimeDep, credentials: CredentialsDep
) -> JSONResponse:
    lookup = None
    if runtime.lookups.configured:
        # the network is asked on the event loop, before the start's call to the executor
        known = await runtime.run(partial(authenticate_app, runtime, credentials))
        lookup = await runtime.lookups.for_start(known, _start_request(body))

    def start() -> StartResult:
        app = authenticate_app(runtime, credentials)
        return runtime.verifications.start(app, _start_request(body), lookup=lookup)

    result = await runtime.run(start)
    # answered as built: `verification_out` is the response model's shape already, and
    # validating it again is a visible share of a start's CPU (docs/performance.md)
    return JSONResponse(
        verification_out(result.verification), status_code=201 if result.created else 200
    )


def _start_request(body: StartVerification) -> StartRequest:
    country = normalize_country(body.country) if body.country is not None else None
    return StartRequest(
        to=body.to,
        country=country,
        channel=body.channel,
        template=body.template,
        sender=body.sender,
        code_length=body.code_length,
        ttl_seconds=body.ttl_seconds,
        locale=body.locale,
        external_id=body.external_id,
        reference=body.reference,
        idempotency_key=body.idempotency_key,
        end_user_ip=body.end_user_ip,
    )


@router.get("/verifications/{verification_id}", response_model=VerificationOut)
def get_verification(
    verification_id: VerificationId, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    app = authenticate_app(runtime, credentials)
    return verification_out(runtime.verifications.get(app, verification_id))


@router.get("/verifications", response_model=VerificationPage)
def list_verifications(
    runtime: RuntimeDep,
    credentials: CredentialsDep,
    to: Annotated[str | None, Query(max_length=64)] = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    app = authenticate_app(runtime, credentials)
    number = parse_number(query_number(to)).e164 if to is not None else None
    found = runtime.verifications.list(
        app, ListQuery(to=number, status=status, limit=limit, before_id=cursor)
    )
    return {
        "verifications": [verification_out(v) for v in found],
        "next_cursor": found[-1].id if len(found) == limit else None,
    }


@hot_router.post(
    "/verifications/{verification_id}/check", response_model=CheckOut, responses=RATE_LIMITED
)
async def check_verification(
    verification_id: VerificationId,
    body: CheckCode,
    runtime: RuntimeDep,
    credentials: CredentialsDep,
) -> JSONResponse:
    def check() -> CheckResult:
        # one statement: the key read a moment ago is proven live by the check's own UPDATE
        app = runtime.apps.recognize(credentials.key_id, credentials.secret)
        try:
            return runtime.verifications.check(
                app,
                verification_id,
                body.code,
                end_user_ip=body.end_user_ip,
                key_id=credentials.key_id,
            )
        except OtpgateError:
            authenticate_app(runtime, credentials)  # a key revoked since: 401, not this
            raise

    return JSONResponse(_answer(await runtime.run(check)))  # as built, like a start


@router.post("/verification-checks", response_model=CheckOut, responses=RATE_LIMITED)
def check_by_number(
    body: CheckCodeByNumber, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    app = authenticate_app(runtime, credentials)
    country = normalize_country(body.country) if body.country is not None else None
    return _answer(
        runtime.verifications.check_by_number(
            app, body.to, country, body.code, end_user_ip=body.end_user_ip
        )
    )


@router.post("/verifications/{verification_id}/cancel", response_model=VerificationOut)
def cancel_verification(
    verification_id: VerificationId, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    app = authenticate_app(runtime, credentials)
    return verification_out(runtime.verifications.cancel(app, verification_id))


def _answer(result: CheckResult) -> dict[str, Any]:
    # the native API reports a code checked after expiry like any other final state
    if result.outcome is CheckOutcome.EXPIRED:
        raise NotPending("the verification is expired", status=Status.EXPIRED)
    return check_out(result)
