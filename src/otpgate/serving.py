"""How `otpgate serve` runs the ASGI app, on uvicorn or on granian, each with a deadline for a
request's headers and a cap on open connections (the body's deadline is the app's own,
api/body_deadline.py): docs/performance.md, "Serving stack", says what each holds and how."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from typing import Any, Literal

from otpgate.connections import ConnectionLimits

Server = Literal["granian", "uvicorn"]
# granian costs a request a third less CPU, but two of finding 6's protections hold only on
# uvicorn: docs/performance.md, "Serving stack"
DEFAULT_SERVER: Server = "uvicorn"
FACTORY = "otpgate.server:app_from_environment"
# granian's lines go where otpgate's own go (standard error, `logs.configure_logging`), not to
# standard output, which is the first start's announcement's
GRANIAN_LOGS: dict[str, Any] = {
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": True},
    }
}


@dataclass(frozen=True)
class Listen:
    """Which server, where, and how much it logs."""

    server: Server
    host: str
    port: int
    log_level: str
    limits: ConnectionLimits


def serve_app(app: Any, listen: Listen) -> None:
    """Serve an app built in this process, until SIGINT or SIGTERM."""
    if listen.server == "uvicorn":
        import uvicorn

        uvicorn.run(app, **_uvicorn_options(listen))
        return
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server.embed import Server as EmbeddedGranian

    async def run() -> None:
        granian = EmbeddedGranian(
            app,
            address=listen.host,
            port=listen.port,
            interface=Interfaces.ASGI,
            websockets=False,
            runtime_threads=1,
            log_level=LogLevels(listen.log_level),
            log_dictconfig=GRANIAN_LOGS,
            log_access=False,  # the request guard writes otpgate's own access line
            http1_settings=_granian_http1(listen.limits),
            backpressure=listen.limits.max_connections,
        )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, granian.stop)
        await granian.serve()

    _run_on_uvloop(run())


def serve_processes(listen: Listen, workers: int) -> None:
    """Serve `workers` processes, each building its app from the environment."""
    if listen.server == "uvicorn":
        import uvicorn

        uvicorn.run(FACTORY, factory=True, workers=workers, **_uvicorn_options(listen))
        return
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels

    Granian(
        FACTORY,
        factory=True,
        address=listen.host,
        port=listen.port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        websockets=False,
        runtime_threads=1,
        log_level=LogLevels(listen.log_level),
        log_dictconfig=GRANIAN_LOGS,
        log_access=False,
        http1_settings=_granian_http1(listen.limits),
        backpressure=listen.limits.max_connections,  # granian's is per worker process
    ).serve()


def _granian_http1(limits: ConnectionLimits) -> Any:
    from granian.http import HTTP1Settings

    return HTTP1Settings(header_read_timeout=int(limits.header_seconds * 1000))


def _uvicorn_options(listen: Listen) -> dict[str, Any]:
    from otpgate.connections import HeaderDeadlineProtocol

    HeaderDeadlineProtocol.use(listen.limits)  # uvicorn builds one per connection from the class
    return {
        "host": listen.host,
        "port": listen.port,
        "access_log": False,
        "log_level": listen.log_level,
        "server_header": False,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 and rewrite the peer address;
        # otpgate reads it itself, and only from OTPGATE_TRUSTED_PROXIES (docs/abuse.md)
        "proxy_headers": False,
        "http": HeaderDeadlineProtocol,  # the header deadline
        # uvicorn counts the connection asking too: past `max_connections` others, a request
        # is answered 503
        "limit_concurrency": listen.limits.max_connections + 1,
    }


def _run_on_uvloop(main: Any) -> None:
    import uvloop

    uvloop.run(main)
