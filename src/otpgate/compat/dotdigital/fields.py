"""dotdigital's send fields (to, from, countryIsoCode, body, validUntil) as the service's
StartRequest, and its request ids (GUIDs) as the service's vendor aliases."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from otpgate.compat.bodies import Fields, FieldUnreadable, required_text, text_field
from otpgate.domain import errors
from otpgate.domain.channels import Channel
from otpgate.domain.phone import normalize_country
from otpgate.service.verifications import StartRequest, VendorAlias

VENDOR = "dotdigital"
VALID_UNTIL_WITHIN_SECONDS = 30 * 60  # compat.md: validUntil at most 30 minutes ahead
MAX_CODE = 64
_MAX_NUMBER = 64
_MAX_TEXT = 64 * 1024  # the body limit: lengths of `from` and `body` are the service's rules
# the vendor's text when a send has no `body` and the app no template of its own
DEFAULT_TEMPLATE = "Your verification code is {code}"
# the vendor's placeholders in the service's spelling
_PLACEHOLDERS = {"{{code}}": "{code}", "{{validMinutes}}": "{minutes}"}
_PLACEHOLDER = re.compile("|".join(re.escape(name) for name in _PLACEHOLDERS))


def new_request_id() -> str:
    """A GUID names a verification to the client; it is an id, not a secret."""
    return str(uuid.uuid4())


def alias(request_id: str) -> VendorAlias | None:
    """GUIDs match in any case and with or without braces, as .NET parses them."""
    try:
        return VendorAlias(VENDOR, str(uuid.UUID(request_id)))
    except ValueError:
        return None


def start_request(fields: Fields, request_id: str) -> StartRequest:
    to = required_text(fields, "to", max_length=_MAX_NUMBER)
    sender = required_text(fields, "from", max_length=_MAX_TEXT)
    country = _country(text_field(fields, "countryIsoCode", max_length=3))
    body = text_field(fields, "body", max_length=_MAX_TEXT)
    if country is None and not to.strip().startswith("+"):
        to = "+" + to.strip()  # international digits, as the vendor writes them
    return StartRequest(
        to=to,
        channel=Channel.SMS,  # the vendor's API sends SMS only
        country=country,
        sender=sender,
        template=None if body is None else _template(body),
        default_template=DEFAULT_TEMPLATE,
        valid_until=_valid_until(text_field(fields, "validUntil", max_length=64)),
        valid_until_within_seconds=VALID_UNTIL_WITHIN_SECONDS,
        alias=VendorAlias(VENDOR, request_id),
    )


def _country(value: str | None) -> str | None:
    """ISO 3166-1 alpha-3, as the vendor documents it."""
    if value is None:
        return None
    if len(value.strip()) != 3:
        raise errors.CountryInvalid(f"{value!r} is not an ISO 3166-1 alpha-3 code")
    return normalize_country(value, field="countryIsoCode")


def _template(body: str) -> str:
    # one pass, so a code or a minute count is never read as a placeholder
    return _PLACEHOLDER.sub(lambda match: _PLACEHOLDERS[match.group(0)], body)


def _valid_until(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise FieldUnreadable("validUntil", "is not an ISO 8601 date and time") from None
