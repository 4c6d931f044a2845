"""The overview: today against yesterday, the message queue, providers and fraud blocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otpgate.console import web
from otpgate.runtime import Runtime
from otpgate.service.analytics import Backlog, ProviderHealth, SummaryRow
from otpgate.service.ports import App, FraudBlock


@dataclass(frozen=True)
class Overview:
    apps: list[App]
    today: SummaryRow
    yesterday: SummaryRow
    backlog: Backlog
    providers: list[ProviderHealth]
    blocks: list[tuple[App, FraudBlock]]


def read_overview(runtime: Runtime) -> Overview:
    now = runtime.clock.now()
    midnight = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    yesterday = midnight - timedelta(days=1)
    apps = runtime.apps.list_apps()
    return Overview(
        apps=apps,
        today=runtime.analytics.summary(None, start=midnight).total,
        yesterday=runtime.analytics.summary(None, start=yesterday, end=midnight).total,
        backlog=runtime.analytics.backlog(),
        providers=[p for p in runtime.analytics.providers() if p.window == "hour"],
        blocks=[(app, block) for app in apps for block in runtime.abuse.blocks(app, now)],
    )


async def overview(request: Request) -> Response:
    session = await web.session_of(request)
    runtime = web.runtime_of(request)
    found = await runtime.run(lambda: read_overview(runtime))
    return web.render(request, "overview.html", session, {"title": "Overview", "o": found})


routes = [Route("/", overview, methods=["GET"])]
