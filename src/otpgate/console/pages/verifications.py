"""Verifications: search by app, number, status and time, newest first; one verification's page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otpgate.console import web
from otpgate.domain.errors import OtpgateError, ValidationFailed
from otpgate.domain.phone import parse_number
from otpgate.domain.verification import Status, Verification
from otpgate.runtime import Runtime
from otpgate.service.ids import first_id_at
from otpgate.service.ports import App, ListQuery

PAGE_SIZE = 25


@dataclass(frozen=True)
class Search:
    app_id: str
    to: str
    status: str
    before: str  # a datetime-local value, UTC: "2026-01-31T12:00"
    cursor: str

    def query(self) -> ListQuery:
        number = parse_number(self.to).e164 if self.to else None
        if self.status and self.status not in {status.value for status in Status}:
            raise ValidationFailed("not a verification status", field="status")
        before_id = self.cursor or None
        if self.before and before_id is None:
            before_id = first_id_at("ver", _before(self.before))
        return ListQuery(number, self.status or None, PAGE_SIZE, before_id)


def _before(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise ValidationFailed("a date and time, as 2026-01-31T12:00", field="before") from None


def _search(runtime: Runtime, search: Search) -> dict[str, Any]:
    apps = runtime.apps.list_apps()
    chosen = next((app for app in apps if app.id == search.app_id), apps[0] if apps else None)
    found: list[Verification] = []
    errors: dict[str, str] = {}
    if chosen is not None:
        try:
            found = runtime.verifications.list(chosen, search.query())
        except OtpgateError as refused:
            errors = web.field_errors(refused, "to")
    return {
        "apps": apps,
        "app": chosen,
        "verifications": found,
        "errors": errors,
        "next_cursor": found[-1].id if len(found) == PAGE_SIZE else None,
    }


async def search_verifications(request: Request) -> Response:
    session = await web.session_of(request)
    runtime = web.runtime_of(request)
    params = request.query_params
    search = Search(
        app_id=params.get("app", ""),
        to=params.get("to", "").strip(),
        status=params.get("status", ""),
        before=params.get("before", ""),
        cursor=params.get("cursor", ""),
    )
    found = await runtime.run(lambda: _search(runtime, search))
    context = {
        "title": "Verifications",
        "search": search,
        "statuses": [status.value for status in Status],
        **found,
    }
    status = 400 if found["errors"] else 200
    return web.render(request, "verifications.html", session, context, status=status)


def _detail(runtime: Runtime, app_id: str, verification_id: str) -> dict[str, Any]:
    app: App = runtime.apps.get_app(app_id)
    verification = runtime.verifications.get(app, verification_id)
    messages = runtime.deliveries.messages(app, verification_id)
    webhooks = [
        {**event, "event": json.loads(event["body"])}
        for event in runtime.webhooks.events_of(verification_id)
    ]
    history = [(verification.created_at, "created: pending")]
    for message in messages:
        history.append((message.created_at, f"message {message.id} queued"))
        if message.sent_at is not None:
            history.append(
                (message.sent_at, f"message {message.id} accepted by {message.provider}")
            )
        if message.status.value in ("delivered", "undelivered", "failed"):
            history.append((message.updated_at, f"message {message.id} {message.status.value}"))
    if verification.approved_at is not None:
        history.append((verification.approved_at, "approved"))
    history.sort(key=lambda item: item[0])
    return {
        "app": app,
        "verification": verification.seen_at(runtime.clock.now()),
        "messages": messages,
        "webhooks": webhooks,
        "history": history,
    }


async def show_verification(request: Request) -> Response:
    session = await web.session_of(request)
    runtime = web.runtime_of(request)
    app_id, verification_id = request.path_params["app_id"], request.path_params["id"]
    found = await runtime.run(lambda: _detail(runtime, app_id, verification_id))
    context = {"title": verification_id, **found}
    return web.render(request, "verification.html", session, context)


routes = [
    Route("/verifications", search_verifications, methods=["GET"]),
    Route("/verifications/{app_id}/{id}", show_verification, methods=["GET"]),
]
