"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from otpgate.api.auth import RuntimeDep
from otpgate.api.problems import OUTAGE_PROBLEMS, error_catalogue, problem

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(runtime: RuntimeDep) -> Response | dict[str, str]:
    def serve() -> Response | dict[str, str]:
        outage = runtime.unready()
        if outage is not None:
            _title, detail, retry_after = OUTAGE_PROBLEMS[outage]
            return problem(
                503, "not_ready", "Not ready", detail, headers={"Retry-After": str(retry_after)}
            )
        return {"status": "ready"}

    return await runtime.run(serve)


@router.get("/metrics", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    def serve() -> Response:
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return await runtime.run(serve)


@router.get("/docs/errors", response_class=HTMLResponse, include_in_schema=False)
async def error_codes() -> HTMLResponse:
    """The page every problem's `type` points at, one anchor per code."""
    rows = "".join(
        f'<tr id="{escape(code)}"><td><code>{escape(code)}</code></td><td>{status}</td>'
        f"<td>{escape(title)}</td></tr>"
        for code, status, title in error_catalogue()
    )
    return HTMLResponse(
        "<!doctype html><title>otpgate errors</title><h1>otpgate error codes</h1>"
        f"<table><tr><th>code</th><th>status</th><th>title</th></tr>{rows}</table>"
    )
