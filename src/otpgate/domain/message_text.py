"""What a message says: the text for its locale, the app hash, the origin-bound last line."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

from otpgate.domain.codes import MAX_CODE_LENGTH
from otpgate.domain.errors import TemplateInvalid
from otpgate.domain.gsm import SMS_PAYLOAD_BYTES, MessageSize, measure
from otpgate.domain.locales import english_name, resolve_locale
from otpgate.domain.message_settings import MAX_BRAND_LENGTH
from otpgate.domain.policy import AppSettings
from otpgate.domain.templates import render_template, validate_template

APP_HASH_PLACEHOLDER = "{app_hash}"
SAMPLE_CODE = "123456"  # the code a preview shows; never one that was sent
_TEXTS_FOLDER = "texts"  # package data: one <tag>.txt a locale


@cache
def builtin_texts() -> Mapping[str, str]:
    """otpgate's own text for each locale it ships, by BCP 47 tag."""
    folder = resources.files(__package__).joinpath(_TEXTS_FOLDER)
    texts = {
        entry.name.removesuffix(".txt"): entry.read_text(encoding="utf-8").strip()
        for entry in folder.iterdir()
        if entry.name.endswith(".txt")
    }
    return MappingProxyType(dict(sorted(texts.items())))


@cache
def builtin_locales() -> tuple[tuple[str, str], ...]:
    """(tag, English name) of every built-in locale, by tag."""
    return tuple((tag, english_name(tag)) for tag in builtin_texts())


@dataclass(frozen=True)
class MessageOptions:
    """What an app adds to every text: its brand, its app hash and its origin-bound line."""

    brand: str
    webotp_domain: str | None = None
    webotp_embedded_domain: str | None = None
    android_app_hash: str | None = None

    @classmethod
    def of(cls, settings: AppSettings, app_name: str) -> MessageOptions:
        return cls(
            brand=settings.brand or app_name[:MAX_BRAND_LENGTH].strip(),
            webotp_domain=settings.webotp_domain,
            webotp_embedded_domain=settings.webotp_embedded_domain,
            android_app_hash=settings.android_app_hash,
        )


@dataclass(frozen=True)
class ChosenText:
    locale: str
    template: str


def choose_text(
    settings: AppSettings,
    *,
    locale: str | None,
    country: str | None,
    template: str | None = None,
    default_template: str | None = None,
) -> ChosenText:
    """The locale of a message and its template: the request's template, the app's text for
    the locale, the app's `template`, then `default_template` (a compatibility API's vendor
    text) or otpgate's built-in text for the locale."""
    texts = builtin_texts()
    chosen = resolve_locale(
        locale,
        country,
        from_number=settings.locale_from_number,
        default_locale=settings.default_locale,
        available=texts.keys() | settings.templates.keys() if settings.templates else texts,
    )
    own = (template, settings.templates.get(chosen), settings.template, default_template)
    # a locale only the app's templates have is found among them, so a built-in is there
    return ChosenText(chosen, next((t for t in own if t is not None), None) or texts[chosen])


def compose(template: str, values: Mapping[str, str], options: MessageOptions, code: str) -> str:
    """The text as sent: the template rendered, the app hash where the template puts
    `{app_hash}` or on a line of its own, and the origin-bound line last."""
    app_hash = options.android_app_hash
    body = render_template(
        template, {**values, "code": code, "app": options.brand, "app_hash": app_hash or ""}
    )
    if app_hash is not None and APP_HASH_PLACEHOLDER not in template:
        body = f"{body}\n{app_hash}"
    if options.webotp_domain is not None:
        body = f"{body}\n\n{origin_bound_line(options, code)}"
    return body


def origin_bound_line(options: MessageOptions, code: str) -> str:
    """`@example.com #123456`, with ` %embedded.example` for a code used in an iframe."""
    line = f"@{options.webotp_domain} #{code}"
    if options.webotp_embedded_domain is not None:
        line += f" %{options.webotp_embedded_domain}"
    return line


def longest_size(
    template: str, options: MessageOptions, *, code_length: int, ttl_seconds: int
) -> MessageSize:
    """The size of the longest message a template gives under these settings."""
    minutes = str(math.ceil(ttl_seconds / 60))
    return measure(compose(template, {"minutes": minutes}, options, "0" * code_length))


def enforce_message_limits(settings: AppSettings, app_name: str) -> None:
    """Refuse settings under which some text the app may send needs more than `max_segments`,
    or, with an app hash, a template of the app's takes more than the 140 bytes Android's SMS
    Retriever reads (a built-in text is not refused for that: docs/messages.md)."""
    if settings.webotp_embedded_domain is not None and settings.webotp_domain is None:
        raise TemplateInvalid(
            "webotp_embedded_domain needs webotp_domain (the top-level site)",
            field="settings.webotp_embedded_domain",
        )
    options = MessageOptions.of(settings, app_name)
    texts: dict[str, str] = {}
    if settings.template is not None:
        texts["settings.template"] = settings.template
    else:
        texts.update({f"built-in text {tag!r}": text for tag, text in builtin_texts().items()})
    texts.update({f"settings.templates.{tag}": text for tag, text in settings.templates.items()})
    for name, template in texts.items():
        size = longest_size(
            template, options, code_length=MAX_CODE_LENGTH, ttl_seconds=settings.ttl_seconds
        )
        field = name if name.startswith("settings.") else "settings"
        if size.segments > settings.max_segments:
            raise TemplateInvalid(
                f"{name} needs {size.segments} SMS segments at its longest, more than "
                f"max_segments ({settings.max_segments})",
                field=field,
            )
        if (
            settings.android_app_hash is not None
            and name.startswith("settings.")
            and size.payload_bytes > SMS_PAYLOAD_BYTES
        ):
            raise TemplateInvalid(
                f"{name} takes {size.payload_bytes} bytes at its longest; the SMS Retriever "
                f"reads messages of at most {SMS_PAYLOAD_BYTES} (shorten the text or the brand)",
                field=field,
            )


@dataclass(frozen=True)
class MessagePreview:
    locale: str
    body: str
    size: MessageSize


def preview_message(
    settings: AppSettings,
    app_name: str,
    *,
    country: str | None,
    locale: str | None = None,
    template: str | None = None,
) -> MessagePreview:
    """The message an app would send to a number of `country`, with the sample code."""
    chosen = choose_text(
        settings,
        locale=locale,
        country=country,
        template=None if template is None else validate_template(template),
    )
    minutes = str(math.ceil(settings.ttl_seconds / 60))
    options = MessageOptions.of(settings, app_name)
    body = compose(chosen.template, {"minutes": minutes}, options, SAMPLE_CODE)
    return MessagePreview(chosen.locale, body, measure(body))
