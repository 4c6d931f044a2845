"""The ASGI application: native API, compatibility APIs, error handlers, lifespan."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig

from otpgate import __version__
from otpgate.api.flood import FloodLimit
from otpgate.api.middleware import RequestGuard
from otpgate.api.openapi import describe_basic_too
from otpgate.api.operations_token import OperationsToken
from otpgate.api.problems import register_problem_handlers
from otpgate.api.routes import apps, blocks, lookups, ops, outbox, verifications
from otpgate.api.routes import messages as message_routes
from otpgate.api.routes import opt_ins as opt_in_routes
from otpgate.api.routes import receipts as receipt_routes
from otpgate.api.routes import webhooks as webhook_routes
from otpgate.compat import dotdigital, idresponse, ninety_nine, sessionm
from otpgate.compat.routing import CanonicalPaths
from otpgate.config import Settings, load_settings, require_receipt_credentials
from otpgate.connections import ConnectionLimits, LimitedHttpProtocol
from otpgate.logs import configure_logging
from otpgate.runtime import Runtime, build_runtime

DESCRIPTION = """Phone verification by SMS one-time codes.

Every `/v1` route needs an app API key (`Authorization: Bearer <key_id>.<secret>`, or HTTP
Basic with the key id and secret); `/v1/apps` routes need the admin token as Bearer.
Errors are `application/problem+json` (RFC 9457)."""

NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}

# drop-in APIs of other vendors, on their own paths (docs/compat/)
VENDOR_APIS = (sessionm.API, dotdigital.API, ninety_nine.API, idresponse.API)


def create_app(runtime: Runtime, *, deliver: bool = True) -> FastAPI:
    """The ASGI app over a built runtime; `deliver` runs the delivery loop in this process."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # what start-up built lives as long as the process: kept out of the collector's way,
        # a full collection no longer walks it (it was a 100 ms pause at a check's p99)
        gc.freeze()
        # a thread per pooled connection for the routes that run in threads: more would
        # only wait for a connection, each holding its own stack and malloc arena meanwhile
        to_thread.current_default_thread_limiter().total_tokens = (
            runtime.settings.database_pool_size
        )
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.worker.run(stop)) if deliver else None
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task

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
    )
    app.state.runtime = runtime
    describe_basic_too(app)
    register_problem_handlers(app)
    for router in (
        verifications.hot_router,
        verifications.router,
        lookups.router,
        outbox.router,
        apps.router,
        ops.router,
    ):
        app.include_router(router)
    app.include_router(message_routes.router)
    app.include_router(receipt_routes.router)
    app.include_router(webhook_routes.router)
    app.include_router(opt_in_routes.router)
    for vendor in VENDOR_APIS:
        app.include_router(vendor.router)
    app.include_router(blocks.router)
    # the request guard, added after it, wraps it: flood refusals are timed and logged too
    app.add_middleware(OperationsToken, token=runtime.settings.operations_token)
    refusals = [refusal for vendor in VENDOR_APIS for refusal in vendor.refusals(runtime)]
    app.add_middleware(
        FloodLimit,
        guard=runtime.flood,
        failures=runtime.failed_authentications,
        trusted=runtime.settings.trusted_networks,
        metrics=runtime.metrics,
        refusals=refusals,
    )
    app.add_middleware(RequestGuard, metrics=runtime.metrics, refusals=refusals)
    app.add_middleware(
        CanonicalPaths,
        templates=[template for vendor in VENDOR_APIS for template in vendor.templates],
    )
    return app


def limit_connections(settings: Settings) -> type[LimitedHttpProtocol]:
    """The HTTP protocol class for uvicorn, with this process's connection limits set."""
    LimitedHttpProtocol.use(
        ConnectionLimits(
            header_seconds=settings.serve_header_timeout_seconds,
            body_seconds=settings.serve_body_timeout_seconds,
            max_connections=settings.serve_max_connections,
        )
    )
    return LimitedHttpProtocol


def app_from_environment() -> Any:
    """Factory for `uvicorn --factory` and for `serve --workers N`: settings from the env."""
    settings = load_settings()
    require_receipt_credentials(settings)
    configure_logging(settings.log_level, settings.log_format)
    limit_connections(settings)  # in each worker process, before it takes connections
    return create_app(build_runtime(settings), deliver=settings.serve_delivers)
