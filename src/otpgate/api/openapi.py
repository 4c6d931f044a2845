"""The OpenAPI document: what FastAPI derives from its routes, the operations the plain routes
declare (api/plain.py), HTTP Basic beside Bearer, the refusals every operation may answer (any
4xx and a 503, all problem JSON), and the links from a started verification to what can be done
with it (schemathesis follows them)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from otpgate.api.plain import Operation, describe
from otpgate.api.schemas import Problem

BEARER: dict[str, list[str]] = {"HTTPBearer": []}
BASIC_SCHEME = {
    "type": "http",
    "scheme": "basic",
    "description": "key id as user name, secret as password",
}


def add_basic_scheme(schema: dict[str, Any]) -> dict[str, Any]:
    """Every operation that takes a Bearer key takes Basic too (`auth.ApiCredentials`
    parses both in one dependency, so FastAPI sees only the first)."""
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["HTTPBasic"] = (
        BASIC_SCHEME
    )
    for operations in schema["paths"].values():
        for operation in operations.values():
            if BEARER in operation.get("security", []):
                operation["security"].append({"HTTPBasic": []})
    return schema


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_CONTENT = {"application/problem+json": {"schema": PROBLEM_REF}}
REFUSALS: dict[str, dict[str, Any]] = {
    # validation is answered 400 (api/problems.py), never FastAPI's 422
    "4XX": {
        "description": "refused: a problem whose `code` says why (docs/api.md, /docs/errors)",
        "content": PROBLEM_CONTENT,
    },
    "503": {
        "description": "`database_unavailable` or `storage_full`: try again after Retry-After",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": PROBLEM_CONTENT,
    },
}
# from a started (or re-sent) verification to the operations on it, by operationId
VERIFICATION_LINKS = {
    "read": "get_verification_v1_verifications__verification_id__get",
    "check": "check_verification_v1_verifications__verification_id__check_post",
    "cancel": "cancel_verification_v1_verifications__verification_id__cancel_post",
    "messages": "list_messages_v1_verifications__verification_id__messages_get",
    "next": "send_next_step_v1_verifications__verification_id__next_post",
}


def add_refusals_and_links(schema: dict[str, Any]) -> dict[str, Any]:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Problem", Problem.model_json_schema())
    for operations in schema["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            for status in [status for status in responses if status.startswith("4")]:
                if "content" not in responses[status] or status == "422":
                    del responses[status]  # the range below describes them
                else:  # a refusal described on its own: problem JSON all the same
                    responses[status]["content"] = PROBLEM_CONTENT
            for status, refusal in REFUSALS.items():
                responses.setdefault(status, refusal)
    started = schema["paths"]["/v1/verifications"]["post"]["responses"]
    links = {
        name: {"operationId": target, "parameters": {"verification_id": "$response.body#/id"}}
        for name, target in VERIFICATION_LINKS.items()
    }
    for status in ("200", "201"):
        started[status]["links"] = links
    return schema


def describe_api(app: FastAPI, plain_operations: list[Operation]) -> None:
    derive = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_refusals_and_links(
                add_basic_scheme(describe(derive(), plain_operations))
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
