"""Conversion and delivery analytics: an app's summary (app key), providers' health (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from otpgate.api.auth import CredentialsDep, RuntimeDep, authenticate_app, authorize_admin
from otpgate.domain.errors import ValidationFailed
from otpgate.domain.phone import normalize_country
from otpgate.service.analytics import ProviderHealth, Summary, SummaryRow
from otpgate.service.presentation import timestamp

router = APIRouter(prefix="/v1", tags=["analytics"])

GroupBy = Literal["day", "country", "channel", "provider", "prefix"]


class Counts(BaseModel):
    verifications: int
    approved: int
    conversion_rate: float | None = Field(description="approved / verifications; null with none")
    messages: int
    delivered: int
    undelivered: int = Field(description="messages the provider reported undelivered or failed")


class SummaryGroup(Counts):
    key: str = Field(description="the day (YYYY-MM-DD), country, channel, provider or prefix")


class AnalyticsSummaryOut(Counts):
    from_: str = Field(alias="from")
    to: str
    groups: list[SummaryGroup]


class ProviderHealthOut(BaseModel):
    provider: str
    channel: str
    window: Literal["hour", "day"]
    messages: int
    delivered_share: float | None
    failed_share: float | None
    accepted_seconds_p50: float | None
    accepted_seconds_p95: float | None
    delivered_seconds_p50: float | None
    delivered_seconds_p95: float | None


class ProviderHealthList(BaseModel):
    providers: list[ProviderHealthOut]


def parse_moment(value: str | None, field: str) -> datetime | None:
    """RFC 3339 with its offset (`Z` or `+02:00`); a time without one is refused."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationFailed(
            f"{field} must be an RFC 3339 time with its offset, as 2026-01-31T00:00:00Z",
            field=field,
        )
    return moment


def row_out(row: SummaryRow) -> dict[str, Any]:
    return {
        "verifications": row.verifications,
        "approved": row.approved,
        "conversion_rate": row.conversion_rate,
        "messages": row.messages,
        "delivered": row.delivered,
        "undelivered": row.undelivered,
    }


def summary_out(summary: Summary) -> dict[str, Any]:
    return {
        "from": timestamp(summary.start),
        "to": timestamp(summary.end),
        **row_out(summary.total),
        "groups": [{"key": group.key, **row_out(group)} for group in summary.groups],
    }


def health_out(health: ProviderHealth) -> dict[str, Any]:
    return {
        "provider": health.provider,
        "channel": health.channel,
        "window": health.window,
        "messages": health.messages,
        "delivered_share": health.delivered_share,
        "failed_share": health.failed_share,
        "accepted_seconds_p50": health.accepted_p50,
        "accepted_seconds_p95": health.accepted_p95,
        "delivered_seconds_p50": health.delivered_p50,
        "delivered_seconds_p95": health.delivered_p95,
    }


@router.get("/analytics/summary", response_model=AnalyticsSummaryOut)
async def analytics_summary(
    runtime: RuntimeDep,
    credentials: CredentialsDep,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
    group_by: GroupBy | None = None,
    country: Annotated[str | None, Query(max_length=3)] = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
) -> dict[str, Any]:
    """The app's verifications created in [from, to) (default: the last 30 days), their
    approvals and messages; `conversion_rate` is approved / verifications, null with none."""
    start, end = parse_moment(from_, "from"), parse_moment(to, "to")
    wanted = normalize_country(country, field="country") if country is not None else None

    def summarize() -> Summary:
        app = authenticate_app(runtime, credentials)
        return runtime.analytics.summary(
            app, start=start, end=end, group_by=group_by, country=wanted, channel=channel
        )

    return summary_out(await runtime.run(summarize))


@router.get("/analytics/providers", response_model=ProviderHealthList)
async def analytics_providers(runtime: RuntimeDep, credentials: CredentialsDep) -> dict[str, Any]:
    """Per provider and channel, for the last hour and the last day: messages, delivered and
    failed shares, and p50/p95 seconds from queued to accepted and from queued to delivered."""

    def read() -> list[ProviderHealth]:
        authorize_admin(runtime, credentials)
        return runtime.analytics.providers()

    return {"providers": [health_out(health) for health in await runtime.run(read)]}
