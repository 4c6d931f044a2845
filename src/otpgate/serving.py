"""How `otpgate serve` runs the ASGI app: on granian (the default: a request costs the
process about a third less CPU than on uvicorn, docs/performance.md) or on uvicorn."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from typing import Any, Literal

Server = Literal["granian", "uvicorn"]
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
    ).serve()


def _uvicorn_options(listen: Listen) -> dict[str, Any]:
    return {
        "host": listen.host,
        "port": listen.port,
        "access_log": False,
        "log_level": listen.log_level,
        "server_header": False,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 and rewrite the peer address;
        # otpgate reads it itself, and only from OTPGATE_TRUSTED_PROXIES (docs/abuse.md)
        "proxy_headers": False,
    }


def _run_on_uvloop(main: Any) -> None:
    import uvloop

    uvloop.run(main)
