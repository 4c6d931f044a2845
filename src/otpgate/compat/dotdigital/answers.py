"""What dotdigital's clients read: VerifyCode objects, ValidationFailure arrays and the
vendor's status words; every outcome and every refusal in one table each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.responses import Response

from otpgate.compat.bodies import FieldMissing, FieldUnreadable, UnreadableBody
from otpgate.domain import errors
from otpgate.domain.lookups import NetworkAnswer
from otpgate.domain.phone import LineType, PhoneNumber
from otpgate.domain.verification import CheckOutcome, Verification
from otpgate.service.presentation import timestamp

UNAUTHORIZED_TEXT = "No authorization header supplied or invalid username or password"

# Every 400 failure: (error class, its reason or field, or None for any) -> (property,
# failureCode). The first row the error matches decides, so specific rows come first.
FAILURES: tuple[tuple[type[Exception], str | None, str, str], ...] = (
    (UnreadableBody, None, "", "InvalidJson"),
    (FieldMissing, "to", "to", "ToEmpty"),
    (FieldUnreadable, "to", "to", "ToInvalid"),
    (errors.PhoneNumberInvalid, None, "to", "ToInvalid"),
    (FieldMissing, "from", "from", "FromEmpty"),
    (errors.SenderInvalid, "empty", "from", "FromEmpty"),
    (errors.SenderInvalid, "characters", "from", "FromContainsDisallowedCharacters"),
    (FieldUnreadable, "from", "from", "FromContainsDisallowedCharacters"),
    (errors.SenderInvalid, "numeric_too_long", "from", "FromExceedsMaxNumericLength"),
    (errors.SenderInvalid, "text_too_long", "from", "FromExceedsMaxTextLength"),
    (errors.SenderInvalid, "too_short", "from", "FromUnderMinTextLength"),
    (FieldUnreadable, "countryIsoCode", "countryIsoCode", "CountryIsoCodeInvalid"),
    (errors.CountryInvalid, None, "countryIsoCode", "CountryIsoCodeInvalid"),
    (errors.ExpiryInvalid, "past", "validUntil", "ValidUntilMinExceeded"),
    (errors.ExpiryInvalid, "too_far", "validUntil", "ValidUntilMaxExceeded"),
    (FieldUnreadable, "validUntil", "validUntil", "InvalidJson"),
    (FieldUnreadable, "body", "body", "BodyInvalid"),
    (errors.TemplateInvalid, None, "body", "BodyInvalid"),
    (errors.RateLimited, None, "to", "Throttled"),
    (errors.FraudBlocked, None, "to", "Throttled"),  # its prefix is refused for a cool-off
    (FieldMissing, "code", "verifyCode", "CodeEmpty"),
    (errors.ValidationFailed, "code", "verifyCode", "CodeInvalid"),
    (FieldUnreadable, "code", "verifyCode", "CodeInvalid"),
    (errors.OtpgateError, None, "", "InvalidRequest"),
)

# numberStatus from the line type; a number in no assigned range is "Dead"
ON = "On"
OFF = "Off"  # a mobile the network cannot reach now (switched off, absent)
NUMBER_STATUSES: dict[LineType, str] = {
    LineType.MOBILE: ON,
    LineType.LANDLINE_OR_MOBILE: ON,
}
NOT_ON_A_MOBILE_NETWORK = "NotProvisioned"
DEAD = "Dead"

# refusals of a send that answer 202 CodeNotSent: (error class, its reason or None for any)
NOT_SENT_REFUSALS: tuple[tuple[type[errors.OtpgateError], str | None], ...] = (
    (errors.PhoneNumberUnassigned, None),
    (errors.CountryBlocked, None),
    (errors.LineTypeBlocked, None),
    (errors.SenderInvalid, "not_approved"),
    (errors.LookupUnavailable, None),  # the app refuses starts the network cannot vouch for
)

# a validation's outcome as the vendor's status word
CHECK_STATUSES: dict[CheckOutcome, str] = {
    CheckOutcome.APPROVED: "CodeVerified",
    CheckOutcome.WRONG_CODE: "CodeNotVerified",
    CheckOutcome.LOCKED: "CodeLocked",
    CheckOutcome.EXPIRED: "CodeExpired",
}
SENT = "CodeNotVerified"
NOT_SENT = "CodeNotSent"

# refusals before any field is read, the wrong credentials, and the database out
_PLAIN_REFUSALS = {
    401: UNAUTHORIZED_TEXT,
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    503: "Service Unavailable",
}


def failure_for(error: Exception) -> JSONResponse:
    """400 with the one ValidationFailure the first matching row of FAILURES describes."""
    key = getattr(error, "reason", None) or getattr(error, "field", None)
    for error_class, row_key, property_name, code in FAILURES:
        if isinstance(error, error_class) and row_key in (None, key):
            details = (
                f"{property_name} cannot be null or empty"
                if isinstance(error, FieldMissing)
                else str(error)
            )
            failure = {"property": property_name, "failureCode": code, "details": details}
            headers = None
            if isinstance(error, (errors.RateLimited, errors.FraudBlocked)):
                headers = {"Retry-After": str(error.retry_after)}
            return JSONResponse([failure], status_code=400, headers=headers)
    raise AssertionError("the last row matches every refusal")  # pragma: no cover


def refusal(status: int, detail: str) -> Response:
    """Refusals made before a body is read (wrong credentials, route or method, a large
    body), and the database out (api/outage.py)."""
    if status in _PLAIN_REFUSALS:
        return PlainTextResponse(_PLAIN_REFUSALS[status], status_code=status)
    return JSONResponse([{"property": "", "failureCode": "InvalidJson", "details": detail}], 400)


def is_not_sent(error: errors.OtpgateError) -> bool:
    reason = getattr(error, "reason", None)
    return any(
        isinstance(error, error_class) and row_reason in (None, reason)
        for error_class, row_reason in NOT_SENT_REFUSALS
    )


def number_status(number: PhoneNumber, network: NetworkAnswer | None = None) -> str:
    if not number.valid:
        return DEAD
    return _line_status(number.line_type, network)


def _line_status(line_type: LineType, network: NetworkAnswer | None) -> str:
    """From the line type (as the network resolved it, when asked) and, for a mobile, whether
    the network reaches it now: `Off` only a live lookup can say."""
    status = NUMBER_STATUSES.get(line_type, NOT_ON_A_MOBILE_NETWORK)
    if status == ON and network is not None and network.reachable is False:
        return OFF
    return status


def sent(
    request_id: str, verification: Verification, network: NetworkAnswer | None = None
) -> JSONResponse:
    """202: the code is on its way (or a pending one was sent again)."""
    answer = _verify_code(request_id, verification, SENT, network)
    return JSONResponse(answer, status_code=202)


def not_sent(
    request_id: str, number: PhoneNumber, now: datetime, network: NetworkAnswer | None = None
) -> JSONResponse:
    """202 with CodeNotSent: a dead number, or one the app's policy refuses."""
    answer = {
        "requestId": request_id,
        "phoneNumber": number.e164.lstrip("+"),
        "status": NOT_SENT,
        "numberStatus": number_status(number, network),
        "created": timestamp(now),
    }
    return JSONResponse(answer, status_code=202)


def checked(request_id: str, verification: Verification, outcome: CheckOutcome) -> JSONResponse:
    """200: the VerifyCode with the outcome of this validation and when it was verified."""
    answer = _verify_code(request_id, verification, CHECK_STATUSES[outcome])
    return JSONResponse({**answer, "verified": timestamp(verification.approved_at)})


def _verify_code(
    request_id: str,
    verification: Verification,
    status: str,
    network: NetworkAnswer | None = None,
) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "phoneNumber": verification.to.lstrip("+"),
        "status": status,
        "numberStatus": _line_status(LineType(verification.line_type), network),
        "created": timestamp(verification.created_at),
    }
