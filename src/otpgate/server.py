"""The ASGI application: native API, compatibility APIs, error handlers, lifespan."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig

from otpgate import __version__
from otpgate.api.body_deadline import BodyDeadline
from otpgate.api.flood import FloodLimit
from otpgate.api.middleware import RequestGuard
from otpgate.api.openapi import describe_api
from otpgate.api.operations_token import OperationsToken
from otpgate.api.outage import DatabaseOutage
from otpgate.api.problems import register_problem_handlers
from otpgate.api.routes import (
    analytics,
    apps,
    blocks,
    locales,
    lookups,
    ops,
    outbox,
    verifications,
)
from otpgate.api.routes import messages as message_routes
from otpgate.api.routes import opt_ins as opt_in_routes
from otpgate.api.routes import receipts as receipt_routes
from otpgate.api.routes import webhooks as webhook_routes
from otpgate.compat import dotdigital, idresponse, ninety_nine, sessionm
from otpgate.compat.routing import CanonicalPaths
from otpgate.config import Settings, load_settings, require_receipt_credentials
from otpgate.connections import ConnectionLimits, HeaderDeadlineProtocol
from otpgate.console.app import create_console
from otpgate.logs import configure_logging
from otpgate.runtime import Runtime, build_runtime

log = structlog.get_logger("otpgate.server")

DESCRIPTION = """Phone verification by SMS one-time codes.

Every `/v1` route needs an app API key (`Authorization: Bearer <key_id>.<secret>`, or HTTP
Basic with the key id and secret); `/v1/apps` routes need the admin token as Bearer.
Errors are `application/problem+json` (RFC 9457)."""

NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}

# drop-in APIs of other vendors, on their own paths (docs/compat/)
VENDOR_APIS = (sessionm.API, dotdigital.API, ninety_nine.API, idresponse.API)


def routers() -> list[APIRouter]:
    """The FastAPI routers the app includes, in order (the plain routes come before them)."""
    return [
        verifications.router,
        lookups.router,
        locales.router,
        apps.router,
        ops.router,
        message_routes.router,
        receipt_routes.router,
        webhook_routes.router,
        opt_in_routes.router,
        *(vendor.router for vendor in VENDOR_APIS),
        blocks.router,
        analytics.router,
    ]


def create_app(runtime: Runtime, *, deliver: bool = True) -> FastAPI:
    """The ASGI app over a built runtime; `deliver` runs the delivery loop in this process."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # what start-up built lives as long as the process: kept out of the collector's way,
        # a full collection no longer walks it (it was a 100 ms pause at a check's p99)
        gc.freeze()
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.worker.run(stop)) if deliver else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            await runtime.aclose()
            # whichever server runs the app, this line says the shutdown was a graceful one
            log.info("shutdown_complete")

    app = FastAPI(
        title="otpgate",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=JSONResponse,
        responses={400: {"description": "problem+json"}},
        # metrics are Prometheus's (/metrics); FastAPI's OpenTelemetry would ask each request
        # whether a provider was configured since
        telemetry=NO_TELEMETRY,
        # first, so the hot routes are matched before any other
        routes=[*verifications.plain_routes, *outbox.plain_routes],
    )
    app.state.runtime = runtime
    describe_api(app, [*verifications.PLAIN_OPERATIONS, *outbox.PLAIN_OPERATIONS])
    register_problem_handlers(app)
    for router in routers():
        app.include_router(router)
    app.mount("/console", create_console(runtime))
    # the request guard, added after it, wraps it: flood refusals are timed and logged too
    app.add_middleware(OperationsToken, token=runtime.settings.operations_token)
    refusals = [refusal for vendor in VENDOR_APIS for refusal in vendor.refusals(runtime)]
    app.add_middleware(FloodLimit, runtime=runtime, refusals=refusals)
    # around every route and the flood limit's counters: an outage is a 503 (in a vendor's
    # words on its paths), timed and logged
    app.add_middleware(DatabaseOutage, outage_of=runtime.outage_of, refusals=refusals)
    app.add_middleware(RequestGuard, metrics=runtime.metrics, refusals=refusals)
    app.add_middleware(
        CanonicalPaths,
        templates=[template for vendor in VENDOR_APIS for template in vendor.templates],
    )
    # outermost, so the request guard's body read is held to it too, on either server
    app.add_middleware(BodyDeadline, seconds=runtime.settings.serve_body_timeout_seconds)
    return app


def connection_limits(settings: Settings) -> ConnectionLimits:
    """How long a request's headers and body may take, and how many connections stay open."""
    return ConnectionLimits(
        header_seconds=settings.serve_header_timeout_seconds,
        body_seconds=settings.serve_body_timeout_seconds,
        max_connections=settings.serve_max_connections,
    )


def app_from_environment() -> Any:
    """Factory for `uvicorn --factory` and for `serve --workers N`: settings from the env."""
    settings = load_settings()
    require_receipt_credentials(settings)
    configure_logging(settings.log_level, settings.log_format)
    # in each worker process, before it takes connections
    HeaderDeadlineProtocol.use(connection_limits(settings))
    return create_app(build_runtime(settings), deliver=settings.serve_delivers)
