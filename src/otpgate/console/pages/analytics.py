"""Analytics: conversion by day as a chart; by country, channel and provider as tables;
for one app or all; and each provider's delivery success and latency."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otpgate.console import web
from otpgate.console.charts import conversion_chart
from otpgate.domain.errors import OtpgateError, ValidationFailed
from otpgate.runtime import Runtime

DEFAULT_DAYS = 14


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("a date, as 2026-01-31", field=field) from None


def _read(runtime: Runtime, app_id: str, start_text: str, end_text: str) -> dict[str, Any]:
    apps = runtime.apps.list_apps()
    app = next((app for app in apps if app.id == app_id), None)
    today = runtime.clock.now().date()
    context: dict[str, Any] = {"apps": apps, "app": app, "errors": {}}
    try:
        first = _day(start_text, "from") or today - timedelta(days=DEFAULT_DAYS - 1)
        last = _day(end_text, "to") or today
        start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        summaries = {
            group: runtime.analytics.summary(app, start=start, end=end, group_by=group)
            for group in ("day", "country", "channel", "provider")
        }
    except OtpgateError as refused:
        context["errors"] = web.field_errors(refused, "from")
        first, last, summaries = today, today, {}
    context.update(first=first.isoformat(), last=last.isoformat(), summaries=summaries)
    if summaries:
        context["chart"] = conversion_chart(summaries["day"].groups)
        context["total"] = summaries["day"].total
    context["providers"] = runtime.analytics.providers()
    return context


async def analytics(request: Request) -> Response:
    session = await web.session_of(request)
    runtime = web.runtime_of(request)
    params = request.query_params
    app_id, start, end = params.get("app", ""), params.get("from", ""), params.get("to", "")
    found = await runtime.run(lambda: _read(runtime, app_id, start, end))
    status = 400 if found["errors"] else 200
    return web.render(
        request, "analytics.html", session, {"title": "Analytics", **found}, status=status
    )


routes = [Route("/analytics", analytics, methods=["GET"])]
