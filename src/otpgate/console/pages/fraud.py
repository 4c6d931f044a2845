"""Fraud: an app's active prefix blocks (lift one), its safe list (add, remove), and the
refusals by limit this node counted."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otpgate.console import web
from otpgate.domain.errors import OtpgateError
from otpgate.runtime import Runtime
from otpgate.service.console_sessions import ConsoleSession

NOTICES = {
    "lifted": "The block was lifted: the guard leaves the prefix alone until it would have ended.",
    "added": "Added to the safe list.",
    "removed": "Removed from the safe list.",
}


def refusals_by_limit(runtime: Runtime, app_id: str) -> list[tuple[str, int]]:
    """The refusals this process counted for the app since it started (Prometheus's counter:
    every node has its own; /metrics sums them across nodes)."""
    counts: dict[str, int] = {}
    for metric in runtime.metrics.rate_limited.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels.get("app") == app_id:
                counts[sample.labels["limit"]] = int(sample.value)
    return sorted(counts.items(), key=lambda item: -item[1])


def _read(runtime: Runtime, app_id: str) -> dict[str, Any]:
    apps = runtime.apps.list_apps()
    app = next((app for app in apps if app.id == app_id), apps[0] if apps else None)
    if app is None:
        return {"apps": apps, "app": None}
    return {
        "apps": apps,
        "app": app,
        "blocks": runtime.abuse.blocks(app, runtime.clock.now()),
        "safe_list": list(app.settings.safe_list),
        "refusals": refusals_by_limit(runtime, app.id),
    }


async def fraud(request: Request) -> Response:
    session = await web.session_of(request)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return await _page(request, session, request.query_params.get("app", ""), notice=notice)


async def _page(
    request: Request,
    session: ConsoleSession,
    app_id: str,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    typed: str = "",
    status: int = 200,
) -> Response:
    runtime = web.runtime_of(request)
    found = await runtime.run(lambda: _read(runtime, app_id))
    context = {"title": "Fraud", "notice": notice, "errors": errors or {}, "typed": typed}
    return web.render(request, "fraud.html", session, {**context, **found}, status=status)


async def lift_block(request: Request) -> Response:
    await web.posted_form(request)
    runtime = web.runtime_of(request)
    app_id, block_id = request.path_params["app_id"], request.path_params["block_id"]

    def lift() -> None:
        runtime.abuse.lift(runtime.apps.get_app(app_id), block_id, runtime.clock.now())

    await runtime.run(lift)
    return web.see_other(f"/fraud?app={app_id}&notice=lifted")


async def add_safe(request: Request) -> Response:
    session, form = await web.posted_form(request)
    runtime = web.runtime_of(request)
    app_id, entry = request.path_params["app_id"], web.text(form, "entry")

    def add() -> None:
        app = runtime.apps.get_app(app_id)
        runtime.apps.update_settings(app_id, {"safe_list": [*app.settings.safe_list, entry]})

    try:
        await runtime.run(add)
    except OtpgateError as refused:
        errors = web.field_errors(refused, "safe_list")
        return await _page(request, session, app_id, errors=errors, typed=entry, status=400)
    return web.see_other(f"/fraud?app={app_id}&notice=added")


async def remove_safe(request: Request) -> Response:
    _session, form = await web.posted_form(request)
    runtime = web.runtime_of(request)
    app_id, entry = request.path_params["app_id"], web.text(form, "entry")

    def remove() -> None:
        app = runtime.apps.get_app(app_id)
        kept = [item for item in app.settings.safe_list if item != entry]
        runtime.apps.update_settings(app_id, {"safe_list": kept})

    await runtime.run(remove)
    return web.see_other(f"/fraud?app={app_id}&notice=removed")


routes = [
    Route("/fraud", fraud, methods=["GET"]),
    Route("/fraud/{app_id}/blocks/{block_id}/lift", lift_block, methods=["POST"]),
    Route("/fraud/{app_id}/safe-list", add_safe, methods=["POST"]),
    Route("/fraud/{app_id}/safe-list/remove", remove_safe, methods=["POST"]),
]
