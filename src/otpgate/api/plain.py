"""Routes served by plain Starlette endpoints: each validates its own input with pydantic's
public API and declares its own OpenAPI operation, so no framework internals run per request
(FastAPI's per-request dependency solving was the largest cost of a check, and a subclass of
its route reaching into it could break silently on an upgrade: docs/performance.md)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from otpgate.api.problems import PROBLEM_CONTENT_TYPE
from otpgate.api.schemas import Problem

BodyModel = TypeVar("BodyModel", bound=BaseModel)
Value = TypeVar("Value")
Endpoint = Callable[[Request], Awaitable[Response]]
REF_TEMPLATE = "#/components/schemas/{model}"

# the refusals every keyed JSON route can answer, besides its own (docs/api.md)
COMMON_PROBLEMS: dict[int, str] = {
    400: "`validation_error` (the field is named) or another refusal of the input",
    401: "`unauthorized`: no valid API key",
    413: "`payload_too_large`: the body is over 64 KiB",
    415: "`unsupported_media_type`: the body is not JSON",
}


async def json_body(request: Request, model: type[BodyModel]) -> BodyModel:
    """The JSON body validated as `model`. Refusals are raised as FastAPI raises them on its
    own routes (the same error dicts, `body` first in each location), so a client sees one
    problem shape on every route."""
    raw = await request.body()
    if not raw:
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        invalid = {
            "type": "json_invalid",
            "loc": ("body", error.pos),
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": error.msg},
        }
        raise RequestValidationError([invalid], body=error.doc) from error
    except (ValueError, RecursionError) as error:  # not UTF-8, too deep, too long a number
        raise HTTPException(400, "There was an error parsing the body") from error
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise _located(error, "body") from None


def path_value(request: Request, name: str, adapter: TypeAdapter[str]) -> str:
    """A path parameter validated by `adapter` (its length, its pattern)."""
    try:
        return adapter.validate_python(request.path_params[name])
    except ValidationError as error:
        raise _located(error, "path", name) from None


def query_value(request: Request, name: str, adapter: TypeAdapter[Value], default: Value) -> Value:
    """A query parameter validated by `adapter` (text converted as FastAPI converts it: "5"
    is 5 for an integer), or `default` when it is absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return adapter.validate_python(raw)
    except ValidationError as error:
        raise _located(error, "query", name) from None


def _located(error: ValidationError, *prefix: str) -> RequestValidationError:
    return RequestValidationError(
        [{**detail, "loc": (*prefix, *detail["loc"])} for detail in error.errors(include_url=False)]
    )


class PlainRoute(Route):
    """A Starlette route that names itself in the scope it matched, as FastAPI's routes do,
    so the request guard's metrics and access log see its path."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


@dataclass(frozen=True)
class Operation:
    """One plain route and its OpenAPI description: what it takes, what it answers."""

    method: str
    path: str
    operation_id: str
    summary: str
    tags: tuple[str, ...]
    body: type[BaseModel] | None
    # status -> (the answer's model, or None for a problem; what it means)
    responses: Mapping[int, tuple[type[BaseModel] | None, str]]
    path_parameters: Mapping[str, tuple[str, TypeAdapter[str]]] = field(default_factory=dict)
    # name -> (what it means, its type and bounds)
    query_parameters: Mapping[str, tuple[str, TypeAdapter[Any]]] = field(default_factory=dict)

    def route(self, endpoint: Endpoint) -> Route:
        return PlainRoute(self.path, endpoint, methods=[self.method], name=self.operation_id)

    def models(self) -> list[type[BaseModel]]:
        answers = [model for model, _ in self.responses.values() if model is not None]
        return [*([self.body] if self.body else []), *answers, Problem]

    def description(self) -> dict[str, Any]:
        """The operation object of the OpenAPI document."""
        responses: dict[str, Any] = {}
        problems = _problems() if self.body else _problems(400, 401)
        for status, (model, meaning) in sorted({**problems, **self.responses}.items()):
            media_type = "application/json" if model is not None else PROBLEM_CONTENT_TYPE
            responses[str(status)] = {
                "description": meaning,
                "content": {media_type: {"schema": {"$ref": _ref(model or Problem)}}},
            }
        operation: dict[str, Any] = {
            "tags": list(self.tags),
            "summary": self.summary,
            "operationId": self.operation_id,
            "responses": responses,
            # `add_basic_scheme` adds HTTP Basic beside it, as on every keyed route
            "security": [{"HTTPBearer": []}],
        }
        if self.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": _ref(self.body)}}},
            }
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": meaning,
                "schema": adapter.json_schema(),
            }
            for name, (meaning, adapter) in self.path_parameters.items()
        ] + [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": meaning,
                "schema": adapter.json_schema(),
            }
            for name, (meaning, adapter) in self.query_parameters.items()
        ]
        if parameters:
            operation["parameters"] = parameters
        return operation


def describe(schema: dict[str, Any], operations: list[Operation]) -> dict[str, Any]:
    """Add the plain routes' operations, and the schemas they name, to FastAPI's document."""
    models = {model for operation in operations for model in operation.models()}
    _, definitions = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda model: model.__name__)],
        ref_template=REF_TEMPLATE,
    )
    components = schema.setdefault("components", {})
    for name, definition in definitions.get("$defs", {}).items():
        components.setdefault("schemas", {}).setdefault(name, definition)
    for operation in operations:
        schema["paths"].setdefault(operation.path, {})[operation.method.lower()] = (
            operation.description()
        )
    return schema


def _problems(*statuses: int) -> dict[int, tuple[type[BaseModel] | None, str]]:
    return {
        status: (None, meaning)
        for status, meaning in COMMON_PROBLEMS.items()
        if not statuses or status in statuses
    }


def _ref(model: type[BaseModel]) -> str:
    return REF_TEMPLATE.format(model=model.__name__)
