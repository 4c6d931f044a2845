"""The OpenAPI document: what FastAPI derives from its routes, the operations the plain routes
declare (api/plain.py), and HTTP Basic beside Bearer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from otpgate.api.plain import Operation, describe

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


def describe_api(app: FastAPI, plain_operations: list[Operation]) -> None:
    derive = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_basic_scheme(describe(derive(), plain_operations))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
