"""The IDResponse gateway request body, and its options in otpgate's words: the per-request
narrowing (line types and countries) and the target fields a message may name."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from otpgate.compat.bodies import UnreadableBody
from otpgate.domain.phone import LineType, normalize_country
from otpgate.domain.policy import MAX_LIST_ITEMS, Narrowing

# The vendor's line type words (voip, mobile, landline) are otpgate's names too; otpgate's
# other names (toll_free, premium_rate, …) are accepted as well.
LINE_TYPES = {line_type.value: line_type for line_type in LineType}

Texts = Annotated[list[StrictStr], Field(max_length=MAX_LIST_ITEMS)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")  # other vendor options are not ours to refuse


class CountryLists(_Part):
    blacklist: Texts | None = None
    whitelist: Texts | None = None


class OutOfBandOptions(_Part):
    message: StrictStr | None = None
    do_not_send_to_types: Texts | None = None
    country: CountryLists | None = None


class Options(_Part):
    outofband: OutOfBandOptions | None = None


class GatewayRequest(_Part):
    service: StrictStr
    reference: StrictStr | StrictInt | None = None
    options: Options | None = None
    target: dict[str, Any]

    @property
    def outofband(self) -> OutOfBandOptions:
        return (self.options and self.options.outofband) or OutOfBandOptions()

    @property
    def message(self) -> str | None:
        return self.outofband.message

    @property
    def phone(self) -> str:
        phone = self.target.get("phone")
        if isinstance(phone, int) and not isinstance(phone, bool):
            return str(phone)
        if not isinstance(phone, str) or not phone.strip():
            raise UnreadableBody("target.phone is required", field="target.phone")
        return phone


def narrowing_of(request: GatewayRequest) -> Narrowing:
    """The request's exclusions, which narrow the app's settings and never widen them."""
    options = request.outofband
    countries = options.country or CountryLists()
    field = "options.outofband.country"
    blocked_types = []
    for word in options.do_not_send_to_types or []:
        line_type = LINE_TYPES.get(word.strip().lower())
        if line_type is None:
            raise UnreadableBody(
                f"{word!r} is not a line type (voip, mobile, landline, …)",
                field="options.outofband.do_not_send_to_types",
            )
        blocked_types.append(line_type)
    return Narrowing(
        allowed_countries=tuple(
            normalize_country(c, field=f"{field}.whitelist") for c in countries.whitelist or []
        ),
        blocked_countries=tuple(
            normalize_country(c, field=f"{field}.blacklist") for c in countries.blacklist or []
        ),
        blocked_line_types=tuple(blocked_types),
    )


def template_values_of(request: GatewayRequest) -> tuple[tuple[str, str], ...]:
    """Target fields a message may name as `{fn}`: those that are text or whole numbers."""
    return tuple(
        (name, str(value))
        for name, value in request.target.items()
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    )
