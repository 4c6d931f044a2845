"""Hot routes that FastAPI describes but does not drive per request.

A start and a check spend most of their CPU in FastAPI's per-request dependency solving
(docs/performance.md). A `DirectRoute` is declared like any route, so its OpenAPI
description and its validation errors are FastAPI's own, but it serves each request in a
few steps: validate the path parameters and the JSON body with FastAPI's own functions, call
each dependency (each takes only the request), call the endpoint, send the `Response` it
returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.dependencies.utils import request_body_to_args, request_params_to_args
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


class DirectRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        dependant = self.dependant
        dependencies: list[tuple[str, Callable[[Request], Any]]] = []
        for dependency in dependant.dependencies:
            # what a direct route can call with the request alone
            assert dependency.call is not None and dependency.request_param_name is not None
            assert not dependency.dependencies, f"{dependency.name} has dependencies"
            dependencies.append((str(dependency.name), dependency.call))
        assert len(dependant.body_params) <= 1, "a direct route takes at most one body"
        assert not (dependant.query_params or dependant.header_params or dependant.cookie_params)
        endpoint = dependant.call
        assert endpoint is not None
        path_fields, body_fields = dependant.path_params, dependant.body_params

        async def handle(request: Request) -> Response:
            values, errors = request_params_to_args(path_fields, request.path_params)
            if body_fields:
                body, body_errors = await request_body_to_args(
                    body_fields, await _json_body(request), embed_body_fields=False
                )
                values.update(body)
                errors.extend(body_errors)
            if errors:
                raise RequestValidationError(errors)
            for name, call in dependencies:
                values[name] = await call(request)
            response = await endpoint(**values)
            assert isinstance(response, Response), "a direct route's endpoint returns a Response"
            return response

        return handle


async def _json_body(request: Request) -> Any:
    """The parsed body, or None when there is none (the guard has refused other types)."""
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        # as FastAPI words it, so a client sees one shape on every route
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", error.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": error.msg},
                }
            ],
            body=error.doc,
        ) from error
    except Exception as error:  # too deep, too long a number, not UTF-8: as FastAPI answers
        raise HTTPException(400, "There was an error parsing the body") from error
