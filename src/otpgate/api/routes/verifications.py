"""Verifications: start (or re-send), read, list, check, check by number, cancel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import Field, TypeAdapter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from otpgate.api.auth import (
    CredentialsDep,
    RuntimeDep,
    authenticate_app,
    credentials_in,
    runtime_in,
)
from otpgate.api.plain import Operation, json_body, path_value
from otpgate.api.query import query_number
from otpgate.api.schemas import (
    CheckCode,
    CheckCodeByNumber,
    CheckOut,
    Problem,
    StartVerification,
    VerificationOut,
    VerificationPage,
)
from otpgate.domain.channels import Channel, Step
from otpgate.domain.errors import NotPending, OtpgateError
from otpgate.domain.phone import normalize_country, parse_number
from otpgate.domain.verification import CheckOutcome, CheckResult, Status
from otpgate.service.ports import ListQuery
from otpgate.service.presentation import check_document, verification_document
from otpgate.service.verifications import StartRequest, StartResult

router = APIRouter(prefix="/v1", tags=["verifications"])

VerificationId = Annotated[str, Path(max_length=64)]
VERIFICATION_ID = TypeAdapter(Annotated[str, Field(max_length=64, title="Verification Id")])
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": Problem, "description": "`rate_limited`: a limit refused; see Retry-After"}
}
_RATE_LIMITED = (None, RATE_LIMITED[429]["description"])

# start and check, the routes every verification takes, are plain Starlette endpoints
# (api/plain.py): FastAPI's per-request dependency solving was most of their cost
START = Operation(
    method="POST",
    path="/v1/verifications",
    operation_id="start_verification_v1_verifications_post",
    summary="Start Verification",
    tags=("verifications",),
    body=StartVerification,
    responses={
        201: (VerificationOut, "a verification was started and its message queued"),
        200: (VerificationOut, "the pending verification was re-sent"),
        403: (None, "`fraud_blocked`: the number's prefix is blocked"),
        409: (None, "`idempotency_conflict`: the key was used with another request"),
        429: _RATE_LIMITED,
        503: (None, "`lookup_unavailable`: the lookup provider failed"),
    },
)
CHECK = Operation(
    method="POST",
    path="/v1/verifications/{verification_id}/check",
    operation_id="check_verification_v1_verifications__verification_id__check_post",
    summary="Check Verification",
    tags=("verifications",),
    body=CheckCode,
    responses={
        200: (CheckOut, "the code was checked: `valid` says whether it was right"),
        404: (None, "`not_found`: no such verification for this app"),
        409: (None, "`not_pending`: the verification is approved, expired, canceled or failed"),
        429: _RATE_LIMITED,
    },
    path_parameters={"verification_id": ("the verification's id", VERIFICATION_ID)},
)


async def start_verification(request: Request) -> Response:
    body = await json_body(request, StartVerification)
    runtime, credentials = runtime_in(request), credentials_in(request)
    start_request = _start_request(body)
    lookup = None
    if runtime.lookups.configured:
        # the network is asked on the event loop, before the start's call to the executor
        known = await runtime.run(lambda: authenticate_app(runtime, credentials))
        lookup = await runtime.lookups.for_start(known, start_request)

    def start() -> StartResult:
        app = authenticate_app(runtime, credentials)
        return runtime.verifications.start(app, start_request, lookup=lookup)

    result = await runtime.run(start)
    # answered as built: `verification_document` is the response model's shape already, and
    # validating it again is a visible share of a start's CPU (docs/performance.md)
    return JSONResponse(
        verification_document(result.verification), status_code=201 if result.created else 200
    )


def _start_request(body: StartVerification) -> StartRequest:
    country = normalize_country(body.country) if body.country is not None else None
    return StartRequest(
        to=body.to,
        country=country,
        channel=None if body.channel is None else Channel(body.channel),
        workflow=None
        if body.workflow is None
        else tuple(Step(Channel(step.channel), step.timeout_seconds) for step in body.workflow),
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
async def get_verification(
    verification_id: VerificationId, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        app = authenticate_app(runtime, credentials)
        return verification_document(runtime.verifications.get(app, verification_id))

    return await runtime.run(serve)


@router.get("/verifications", response_model=VerificationPage)
async def list_verifications(
    runtime: RuntimeDep,
    credentials: CredentialsDep,
    to: Annotated[str | None, Query(max_length=64)] = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        app = authenticate_app(runtime, credentials)
        number = parse_number(query_number(to)).e164 if to is not None else None
        found = runtime.verifications.list(
            app, ListQuery(to=number, status=status, limit=limit, before_id=cursor)
        )
        return {
            "verifications": [verification_document(v) for v in found],
            "next_cursor": found[-1].id if len(found) == limit else None,
        }

    return await runtime.run(serve)


async def check_verification(request: Request) -> Response:
    verification_id = path_value(request, "verification_id", VERIFICATION_ID)
    body = await json_body(request, CheckCode)
    runtime, credentials = runtime_in(request), credentials_in(request)

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


PLAIN_OPERATIONS = [START, CHECK]
plain_routes = [START.route(start_verification), CHECK.route(check_verification)]


@router.post("/verification-checks", response_model=CheckOut, responses=RATE_LIMITED)
async def check_by_number(
    body: CheckCodeByNumber, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        app = authenticate_app(runtime, credentials)
        country = normalize_country(body.country) if body.country is not None else None
        return _answer(
            runtime.verifications.check_by_number(
                app, body.to, country, body.code, end_user_ip=body.end_user_ip
            )
        )

    return await runtime.run(serve)


@router.post("/verifications/{verification_id}/cancel", response_model=VerificationOut)
async def cancel_verification(
    verification_id: VerificationId, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        app = authenticate_app(runtime, credentials)
        return verification_document(runtime.verifications.cancel(app, verification_id))

    return await runtime.run(serve)


@router.post(
    "/verifications/{verification_id}/next",
    response_model=VerificationOut,
    responses={
        409: {
            "model": Problem,
            "description": "`no_next_step`: the workflow has no step left; `not_pending`: "
            "the verification is approved, expired, canceled or failed",
        },
        **RATE_LIMITED,
    },
)
async def send_next_step(
    verification_id: VerificationId, runtime: RuntimeDep, credentials: CredentialsDep
) -> dict[str, Any]:
    """Send the workflow's next step now, without waiting for the current one's timeout."""

    def serve() -> dict[str, Any]:
        app = authenticate_app(runtime, credentials)
        return verification_document(runtime.workflows.send_next(app, verification_id))

    return await runtime.run(serve)


def _answer(result: CheckResult) -> dict[str, Any]:
    # the native API reports a code checked after expiry like any other final state
    if result.outcome is CheckOutcome.EXPIRED:
        raise NotPending("the verification is expired", status=Status.EXPIRED)
    return check_document(result)
