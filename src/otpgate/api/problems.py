"""Errors as RFC 9457 problem JSON: each error class mapped to a status in one table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from otpgate.domain import errors

PROBLEM_CONTENT_TYPE = "application/problem+json"
WWW_AUTHENTICATE = 'Bearer realm="otpgate", Basic realm="otpgate"'

# Most specific first: the first class an error is an instance of decides its status.
STATUS_BY_ERROR: tuple[tuple[type[errors.OtpgateError], int], ...] = (
    (errors.ValidationFailed, 400),
    (errors.CountryBlocked, 400),
    (errors.LineTypeBlocked, 400),
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.FraudBlocked, 403),
    (errors.NotFound, 404),
    (errors.NotPending, 409),
    (errors.NoNextStep, 409),
    (errors.IdempotencyConflict, 409),
    (errors.Conflict, 409),
    (errors.RateLimited, 429),
    (errors.LookupUnavailable, 503),
)

# Protocol-level refusals that no domain error stands for.
HTTP_PROBLEMS = {
    400: ("validation_error", "Invalid request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    408: ("request_timeout", "Request timeout"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
}

# Outages (api/outage.py), answered 503: code -> (title, detail, seconds to wait); PostgreSQL
# restarts in seconds, a full disk waits for a person
OUTAGE_PROBLEMS = {
    "database_unavailable": (
        "Database unavailable",
        "the database is unreachable; try again shortly",
        1,
    ),
    "storage_full": ("Storage full", "the database's disk is full; nothing was written", 30),
}


def status_for(error: errors.OtpgateError) -> int:
    return status_for_class(type(error))


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/docs/errors#{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    body.update(extra)
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": WWW_AUTHENTICATE}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_CONTENT_TYPE)


def problem_for(error: errors.OtpgateError) -> JSONResponse:
    extra: dict[str, Any] = {}
    headers = None
    if isinstance(error, errors.NotPending):
        extra["verification_status"] = error.status
    if isinstance(error, errors.RateLimited):
        headers = {"Retry-After": str(error.retry_after)}
        extra["retry_after"] = error.retry_after
        if error.limit is not None:
            extra["limit"] = error.limit
    if isinstance(error, errors.FraudBlocked):
        headers = {"Retry-After": str(error.retry_after)}
        extra.update(retry_after=error.retry_after, block_id=error.block_id, prefix=error.prefix)
    return problem(
        status_for(error),
        error.code,
        error.title,
        error.detail,
        field=error.field,
        headers=headers,
        **extra,
    )


def http_problem(
    status: int, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    code, title = HTTP_PROBLEMS.get(status, ("http_error", "HTTP error"))
    return problem(status, code, title, detail, headers=headers)


def validation_problem(exc: RequestValidationError) -> JSONResponse:
    error = exc.errors()[0]
    location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
    if error.get("type") == "json_invalid":
        return problem(
            400,
            "validation_error",
            "Malformed JSON",
            f"the body is not valid JSON: {error.get('msg', '')}",
        )
    field = ".".join(location[1:] if location[:1] in (["query"], ["path"]) else location)
    return problem(
        400,
        "validation_error",
        "Invalid request",
        f"{field or 'body'}: {error.get('msg', 'invalid')}",
        field=field or None,
    )


def register_problem_handlers(app: FastAPI) -> None:
    async def on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.OtpgateError)
        return problem_for(exc)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_problem(exc)

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return http_problem(exc.status_code, str(exc.detail), headers=exc.headers)

    app.add_exception_handler(errors.OtpgateError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


def error_catalogue() -> list[tuple[str, int, str]]:
    """(code, status, title) of every problem the native API answers, for /docs/errors."""
    rows = {
        error_class.code: (error_class.code, status, error_class.title)
        for error_class, status in STATUS_BY_ERROR
    }
    for subclass in _all_subclasses(errors.OtpgateError):
        rows.setdefault(subclass.code, (subclass.code, status_for_class(subclass), subclass.title))
    for status, (code, title) in HTTP_PROBLEMS.items():
        rows.setdefault(code, (code, status, title))
    for code, (title, _detail, _retry_after) in OUTAGE_PROBLEMS.items():
        rows.setdefault(code, (code, 503, title))
    return sorted(rows.values(), key=lambda row: (row[1], row[0]))


def status_for_class(error_class: type[errors.OtpgateError]) -> int:
    for known, status in STATUS_BY_ERROR:
        if issubclass(error_class, known):
            return status
    return 400


def _all_subclasses(cls: type[errors.OtpgateError]) -> list[type[errors.OtpgateError]]:
    found = []
    for subclass in cls.__subclasses__():
        found.append(subclass)
        found.extend(_all_subclasses(subclass))
    return found
