"""The one error tree of the domain and service; each refusal has a stable `code`.

Edges (the native API, each compat API, the CLI) map these classes to their own shapes in one
table each. Nothing here knows about HTTP.
"""

from __future__ import annotations


class OtpgateError(Exception):
    """A refusal the caller can act on. `code` is stable; `field` names the offending input."""

    code = "error"
    title = "Error"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class ValidationFailed(OtpgateError):
    code = "validation_error"
    title = "Invalid request"


class PhoneNumberInvalid(ValidationFailed):
    code = "invalid_phone_number"
    title = "Invalid phone number"


class PhoneNumberUnassigned(PhoneNumberInvalid):
    """The number has a possible length but is not in an assigned range (a 'dead' number)."""


class CountryInvalid(ValidationFailed):
    title = "Invalid country"


class TemplateInvalid(ValidationFailed):
    code = "invalid_template"
    title = "Invalid template"


class TemplateWithoutCode(TemplateInvalid):
    """The template has no place for the code (a compatibility API names that case apart)."""


class LocaleInvalid(ValidationFailed):
    """The locale is not a well-formed BCP 47 language tag."""

    code = "invalid_locale"
    title = "Invalid locale"


class SenderInvalid(ValidationFailed):
    code = "invalid_sender"
    title = "Invalid sender"

    def __init__(self, detail: str, *, reason: str, field: str | None = "sender") -> None:
        super().__init__(detail, field=field)
        # one of: empty, characters, numeric_too_long, text_too_long, too_short, not_approved
        self.reason = reason


class ExpiryInvalid(ValidationFailed):
    code = "invalid_expiry"
    title = "Invalid expiry"

    def __init__(self, detail: str, *, reason: str, field: str | None = "valid_until") -> None:
        super().__init__(detail, field=field)
        self.reason = reason  # "past" or "too_far"


class ChannelNotAllowed(ValidationFailed):
    """The channel is not among the app's `channels`."""

    code = "channel_not_allowed"
    title = "Channel not allowed"


class SettingInvalid(ValidationFailed):
    title = "Invalid setting"


class CountryBlocked(OtpgateError):
    code = "country_blocked"
    title = "Country blocked"


class LineTypeBlocked(OtpgateError):
    code = "line_type_blocked"
    title = "Line type blocked"


class OptInCampaignMissing(OtpgateError):
    """Opt-in verifications need the app's global SMS campaign with the opt-in keyword YES."""

    code = "opt_in_campaign_missing"
    title = "No opt-in campaign"


class Unauthorized(OtpgateError):
    code = "unauthorized"
    title = "Unauthorized"


class Forbidden(OtpgateError):
    code = "forbidden"
    title = "Forbidden"


class NotFound(OtpgateError):
    code = "not_found"
    title = "Not found"


class NotPending(OtpgateError):
    """The verification reached a final state before this call."""

    code = "not_pending"
    title = "Verification is not pending"

    def __init__(self, detail: str, *, status: str) -> None:
        super().__init__(detail)
        self.status = status


class NoNextStep(OtpgateError):
    """The verification's workflow has no step left to send."""

    code = "no_next_step"
    title = "No next step"


class RateLimited(OtpgateError):
    code = "rate_limited"
    title = "Too many requests"

    def __init__(
        self,
        detail: str,
        *,
        retry_after: int,
        field: str | None = None,
        limit: str | None = None,
    ) -> None:
        super().__init__(detail, field=field)
        self.retry_after = max(1, retry_after)
        # which limit refused (a setting's name, such as `sends_per_number_day`), when one did
        self.limit = limit


class FraudBlocked(OtpgateError):
    """The SMS-pumping guard blocked the number's prefix for this app for a while."""

    code = "fraud_blocked"
    title = "Destination blocked for suspected SMS pumping"

    def __init__(self, detail: str, *, block_id: str, prefix: str, retry_after: int) -> None:
        super().__init__(detail, field="to")
        self.block_id = block_id
        self.prefix = prefix
        self.retry_after = max(1, retry_after)


class IdempotencyConflict(OtpgateError):
    code = "idempotency_conflict"
    title = "Idempotency key reused with a different request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, field="idempotency_key")


class Conflict(OtpgateError):
    code = "conflict"
    title = "Conflict"


class LookupUnavailable(OtpgateError):
    """The lookup provider failed and the app's `lookup_failure` is `refuse`."""

    code = "lookup_unavailable"
    title = "Number lookup unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, field="to")
