"""dotdigital's routes: send a code, validate it; credentials as Basic or as two headers."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from otpgate.api.auth import RuntimeDep
from otpgate.compat.bodies import Fields, read_fields, required_text
from otpgate.compat.credentials import basic_credentials, header_credentials
from otpgate.compat.dotdigital import answers
from otpgate.compat.dotdigital.fields import MAX_CODE, alias, new_request_id, start_request
from otpgate.compat.routing import ALL_METHODS, VendorApi, template_pattern
from otpgate.domain import errors
from otpgate.domain.lookups import LookupAnswer, NetworkAnswer, resolved
from otpgate.domain.phone import lookup_number
from otpgate.runtime import Runtime
from otpgate.service.ports import App
from otpgate.service.verifications import StartRequest

SEND_PATHS = ("/webapi/verify", "/webapi/verify/sendcode")
VALIDATE_PATH = "/webapi/verify/{request_id}/validate"
_ANY_PATH = "/webapi/{rest:path}"
_KNOWN_PATHS = re.compile(r"^/webapi/verify(/sendcode|/[^/]+/validate)?$")

router = APIRouter(include_in_schema=False)


@router.post(SEND_PATHS[0])
@router.post(SEND_PATHS[1])
async def send_code(request: Request, runtime: RuntimeDep) -> Response:
    return await _answer(runtime, request, partial(_send, runtime))


# the vendor's heading says PUT; its own samples use GET and POST with the same body
@router.api_route(VALIDATE_PATH, methods=["PUT", "POST", "GET"])
async def validate_code(request_id: str, request: Request, runtime: RuntimeDep) -> Response:
    return await _answer(runtime, request, partial(_validate, runtime, request_id))


@router.api_route(_ANY_PATH, methods=ALL_METHODS)
async def unknown_route(request: Request) -> Response:
    return answers.refusal(405 if _KNOWN_PATHS.match(request.url.path) else 404, "")


async def _answer(
    runtime: Runtime, request: Request, answer: Callable[[App, Fields], Awaitable[Response]]
) -> Response:
    """The answer for the authenticated app and the body's fields; wrong credentials and every
    failure in the vendor's words."""
    try:
        app = await runtime.run(lambda: _authenticate(runtime, request))
    except errors.Unauthorized:
        return answers.refusal(401, "")
    try:
        fields = await read_fields(request, lenient=True)
        return await answer(app, fields)
    except errors.OtpgateError as exc:
        return answers.failure_for(exc)


def _authenticate(runtime: Runtime, request: Request) -> App:
    """HTTP Basic `key_id:secret`, or the `username` and `password` headers."""
    found = basic_credentials(request) or header_credentials(request, "username", "password")
    key_id, secret = found or ("", "")
    return runtime.apps.authenticate(key_id, secret)


async def _send(runtime: Runtime, app: App, fields: Fields) -> Response:
    """The app is known and the fields read before the network is asked, here on the event
    loop (never in the executor, whose other calls it would hold up); then one call starts."""
    request_id = new_request_id()
    start = start_request(fields, request_id)
    try:
        lookup = await runtime.lookups.for_start(app, start)
    except errors.OtpgateError as refused:
        return _not_sent(runtime, request_id, start, None, refused)
    return await runtime.run(lambda: _start(runtime, app, request_id, start, lookup))


def _start(
    runtime: Runtime, app: App, request_id: str, start: StartRequest, lookup: LookupAnswer | None
) -> Response:
    network = None if lookup is None else lookup.network
    try:
        verification = runtime.verifications.start(app, start, lookup=lookup).verification
    except errors.OtpgateError as refused:
        return _not_sent(runtime, request_id, start, network, refused)
    return answers.sent(request_id, verification, network)


def _not_sent(
    runtime: Runtime,
    request_id: str,
    start: StartRequest,
    network: NetworkAnswer | None,
    refused: errors.OtpgateError,
) -> Response:
    """CodeNotSent for a refusal the vendor words so; any other is a failure (`_answer`)."""
    if not answers.is_not_sent(refused):
        raise refused
    # the service refused after reading the number; describe it for the answer
    number = resolved(lookup_number(start.to, start.country), network)
    return answers.not_sent(request_id, number, runtime.clock.now(), network)


async def _validate(runtime: Runtime, request_id: str, app: App, fields: Fields) -> Response:
    return await runtime.run(lambda: _check(runtime, request_id, app, fields))


def _check(runtime: Runtime, request_id: str, app: App, fields: Fields) -> Response:
    """200 with the outcome; 204 for an id that is unknown to this app or no longer pending."""
    code = required_text(fields, "code", max_length=MAX_CODE)
    vendor_alias = alias(request_id)
    found = None if vendor_alias is None else runtime.verifications.find_alias(vendor_alias)
    if vendor_alias is None or found is None or found[0] != app.id:
        return Response(status_code=204)
    try:
        result = runtime.verifications.check(app, found[1], code)
    except (errors.NotPending, errors.NotFound):
        return Response(status_code=204)
    return answers.checked(vendor_alias.value, result.verification, result.outcome)


API = VendorApi(
    router=router,
    templates=(*SEND_PATHS, VALIDATE_PATH, _ANY_PATH),
    refusals=lambda _runtime: [(template_pattern(_ANY_PATH), answers.refusal)],
)
