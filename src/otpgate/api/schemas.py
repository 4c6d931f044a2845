"""Request and response bodies of the native API, as the OpenAPI document shows them."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from otpgate.domain.channels import (
    DEFAULT_STEP_TIMEOUT,
    MAX_STEP_TIMEOUT,
    MAX_STEPS,
    MIN_STEP_TIMEOUT,
)
from otpgate.service.ports import OptIn
from otpgate.service.presentation import timestamp

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# JSON's "\ud800" escape decodes to a lone surrogate, text that no database, log line or
# response can encode: refused here, where it comes in, rather than failing there
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    if _SURROGATE.search(value):
        raise ValueError("must be valid Unicode (no lone surrogates)")
    return value


def holds_lone_surrogate(value: Any) -> bool:
    """Whether a string anywhere in free-form JSON, keys included, holds a lone surrogate."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and _SURROGATE.search(item):
            return True
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _valid_unicode(value: Any) -> Any:
    """Free-form JSON (settings): no string in it may hold a lone surrogate."""
    if holds_lone_surrogate(value):
        raise ValueError("must be valid Unicode (no lone surrogates)")
    return value


Text = Annotated[str, AfterValidator(_printable)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_valid_unicode)]


EndUserIp = Annotated[
    Text | None,
    Field(
        max_length=64,
        examples=["203.0.113.7"],
        description="the end user's IP address as your backend saw it; per-IP limits apply to it",
    ),
]


class Body(BaseModel):
    # strict: "6" is not a code length and true is not a number
    model_config = ConfigDict(extra="forbid", strict=True)


ChannelName = Literal["sms", "call", "whatsapp"]


class WorkflowStepIn(Body):
    channel: ChannelName
    timeout_seconds: Annotated[
        int,
        Field(
            ge=MIN_STEP_TIMEOUT,
            le=MAX_STEP_TIMEOUT,
            description="how long this step waits for an approval before the next goes out",
        ),
    ] = DEFAULT_STEP_TIMEOUT


class StartVerification(Body):
    to: Annotated[Text, Field(min_length=1, max_length=64, examples=["+447123123456"])]
    # neither channel nor workflow: the app's `workflow` setting, else one SMS
    channel: ChannelName | None = None
    workflow: Annotated[list[WorkflowStepIn] | None, Field(min_length=1, max_length=MAX_STEPS)] = (
        None
    )
    country: Annotated[Text | None, Field(min_length=2, max_length=3, examples=["GB"])] = None
    template: Annotated[
        Text | None, Field(max_length=2000, examples=["Your {app} code is {code}"])
    ] = None
    sender: Annotated[Text | None, Field(max_length=32, examples=["MAYFLOWER"])] = None
    code_length: Annotated[int | None, Field(ge=4, le=10)] = None
    ttl_seconds: Annotated[int | None, Field(ge=1, le=86400)] = None
    # a BCP 47 tag; the service parses it (a malformed one is `invalid_locale`)
    locale: Annotated[Text | None, Field(max_length=64, examples=["fr", "pt-BR"])] = None
    external_id: Annotated[Text | None, Field(max_length=128)] = None
    reference: Annotated[Text | None, Field(max_length=128)] = None
    idempotency_key: Annotated[Text | None, Field(min_length=1, max_length=255)] = None
    end_user_ip: EndUserIp = None

    @model_validator(mode="after")
    def _channel_or_workflow(self) -> StartVerification:
        if self.channel is not None and self.workflow is not None:
            raise ValueError("give channel or workflow, not both")
        return self


class CheckCode(Body):
    code: Annotated[str, Field(max_length=64)]
    end_user_ip: EndUserIp = None


class CheckCodeByNumber(CheckCode):
    to: Annotated[Text, Field(min_length=1, max_length=64)]
    country: Annotated[Text | None, Field(min_length=2, max_length=3)] = None


class NewApp(Body):
    name: Annotated[Text, Field(min_length=1, max_length=64)]
    settings: JsonObject = Field(default_factory=dict)


class AppChanges(Body):
    settings: JsonObject


class WorkflowStepOut(BaseModel):
    channel: ChannelName
    status: Literal["waiting", "sent", "delivered", "failed", "skipped"]
    sent_at: str | None


class VerificationOut(BaseModel):
    id: str
    to: str
    channel: Annotated[ChannelName, Field(description="the current step's channel")]
    status: str
    country: str | None
    line_type: str
    attempts: int
    max_attempts: int
    sends: int
    delivery_status: str
    external_id: str | None
    reference: str | None
    created_at: str
    expires_at: str
    approved_at: str | None
    locale: Annotated[str | None, Field(examples=["fr"])]
    workflow: Annotated[
        list[WorkflowStepOut] | None,
        Field(
            description="its steps, the first sent at the start; null in a status webhook "
            "of a workflow of several steps (read it with GET)"
        ),
    ]


class VerificationPage(BaseModel):
    verifications: list[VerificationOut]
    next_cursor: str | None


class OptInOut(BaseModel):
    external_id: str
    to: str
    verified_at: str
    source: Annotated[str, Field(examples=["sessionm"])]


class OptInPage(BaseModel):
    opt_ins: list[OptInOut]
    next_cursor: str | None


class CheckOut(BaseModel):
    id: str
    status: str
    valid: bool
    attempts_left: int


class CarrierOut(BaseModel):
    name: str | None
    mobile_country_code: str | None
    mobile_network_code: str | None


class LookupOut(BaseModel):
    number: str
    valid: bool
    country: str | None
    line_type: str
    national_format: str
    source: Literal["numbering_plan", "network", "cache"]
    carrier: CarrierOut | None
    reachable: bool | None
    checked_at: str


class AppOut(BaseModel):
    id: str
    name: str
    settings: dict[str, Any]
    created_at: str


class AppList(BaseModel):
    apps: list[AppOut]


class NewKeyOut(BaseModel):
    key_id: str
    secret: str
    api_key: str


class LocaleOut(BaseModel):
    tag: Annotated[str, Field(examples=["pt-BR"])]
    name: Annotated[str, Field(examples=["Portuguese (Brazil)"])]


class LocaleList(BaseModel):
    locales: list[LocaleOut]


class MessagePreviewRequest(Body):
    to: Annotated[Text, Field(min_length=1, max_length=64, examples=["+33612345678"])]
    country: Annotated[Text | None, Field(min_length=2, max_length=3)] = None
    locale: Annotated[Text | None, Field(max_length=64, examples=["fr"])] = None
    template: Annotated[Text | None, Field(max_length=2000)] = None


class MessagePreviewOut(BaseModel):
    locale: str
    body: Annotated[str, Field(description="rendered with the sample code 123456")]
    encoding: Literal["gsm7", "ucs2"]
    segments: int


class OutboxMessageOut(BaseModel):
    id: str
    to: str
    channel: Literal["sms", "call", "whatsapp"]
    sender: str | None
    body: str
    verification_id: str
    created_at: str


class OutboxOut(BaseModel):
    messages: list[OutboxMessageOut]


class FraudBlockOut(BaseModel):
    id: str
    app_id: str
    prefix: str
    country: str | None
    recent_sends: int
    baseline_per_hour: float
    started: int
    approved: int
    created_at: str
    expires_at: str
    lifted_at: str | None


class FraudBlockList(BaseModel):
    blocks: list[FraudBlockOut]


class Problem(BaseModel):
    type: str
    title: str
    status: int
    code: str
    detail: str
    field: str | None = None


def opt_in_out(opt_in: OptIn) -> dict[str, Any]:
    return {
        "external_id": opt_in.external_id,
        "to": opt_in.to,
        "verified_at": timestamp(opt_in.verified_at),
        "source": opt_in.source,
    }
