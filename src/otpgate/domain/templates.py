"""Message text from a template by literal placeholder replacement, and sender rules."""

from __future__ import annotations

import re
from collections.abc import Mapping

from otpgate.domain.errors import SenderInvalid, TemplateInvalid, TemplateWithoutCode

MAX_TEMPLATE_LENGTH = 480  # three concatenated GSM-7 parts
CODE_PLACEHOLDER = "{code}"
PLACEHOLDERS = ("code", "minutes", "app", "app_hash")
MAX_EXTRA_VALUE_LENGTH = 100

# One pass over the template: a value that itself looks like "{code}" is never expanded again,
# and no format-string machinery ever sees user text. Names without a value stay as written.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,31})\}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_NUMERIC_SENDER = re.compile(r"^\+?[0-9]+$")
_TEXT_SENDER = re.compile(r"^[A-Za-z0-9 ._\-]+$")


def validate_template(template: str, *, field: str = "template") -> str:
    if not isinstance(template, str) or not template.strip():
        raise TemplateInvalid("the template is empty", field=field)
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise TemplateInvalid(
            f"the template is longer than {MAX_TEMPLATE_LENGTH} characters", field=field
        )
    if _CONTROL.search(template):
        raise TemplateInvalid("the template contains control characters", field=field)
    if CODE_PLACEHOLDER not in template:
        raise TemplateWithoutCode("the template must contain {code}", field=field)
    return template


def used_extra_values(
    template: str, values: Mapping[str, str], *, field: str = "template_values"
) -> dict[str, str]:
    """The caller-supplied placeholder values (a compatibility API's `{fn}`) that `template`
    uses, each short printable text; the built-in placeholders cannot be overridden."""
    used = {}
    for name in dict.fromkeys(_PLACEHOLDER.findall(template)):
        value = values.get(name)
        if name in PLACEHOLDERS or value is None:
            continue
        if len(value) > MAX_EXTRA_VALUE_LENGTH or not value.isprintable():
            raise TemplateInvalid(
                f"a template value is at most {MAX_EXTRA_VALUE_LENGTH} characters of text",
                field=f"{field}.{name}",
            )
        used[name] = value
    return used


def render_template(template: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)


def validate_sender(sender: str, *, field: str = "sender") -> str:
    """Numeric senders have 2 to 15 digits; text senders 2 to 11 of letters, digits, ' ._-'."""
    if not isinstance(sender, str) or not sender.strip():
        raise SenderInvalid("the sender is empty", reason="empty", field=field)
    if _NUMERIC_SENDER.fullmatch(sender):
        digits = sender.lstrip("+")
        if len(digits) > 15:
            raise SenderInvalid(
                "a numeric sender has at most 15 digits", reason="numeric_too_long", field=field
            )
        if len(digits) < 2:
            raise SenderInvalid(
                "a sender has at least 2 characters", reason="too_short", field=field
            )
        return sender
    if not _TEXT_SENDER.fullmatch(sender):
        raise SenderInvalid(
            "a text sender may hold only letters, digits, space and . _ -",
            reason="characters",
            field=field,
        )
    if len(sender) > 11:
        raise SenderInvalid(
            "a text sender has at most 11 characters", reason="text_too_long", field=field
        )
    if len(sender) < 2:
        raise SenderInvalid("a sender has at least 2 characters", reason="too_short", field=field)
    return sender


def is_numeric_sender(sender: str) -> bool:
    return bool(_NUMERIC_SENDER.fullmatch(sender))
