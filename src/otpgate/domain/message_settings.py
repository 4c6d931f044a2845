"""The app settings that shape a message's text: locales, brand, WebOTP domains, app hash."""

from __future__ import annotations

import re
from collections.abc import Mapping

from otpgate.domain.errors import SettingInvalid, TemplateInvalid
from otpgate.domain.locales import normalize_tag
from otpgate.domain.templates import validate_template

MAX_BRAND_LENGTH = 30
MAX_LOCALE_TEMPLATES = 100
MAX_SEGMENTS = 10
APP_HASH_LENGTH = 11
# RFC 1123 host names: labels of letters, digits and inner hyphens; the last label is not all
# digits, so an IPv4 address is not taken for a host name
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_APP_HASH = re.compile(rf"[A-Za-z0-9+/]{{{APP_HASH_LENGTH}}}")


def parse_brand(name: str, value: object) -> str:
    if (
        not isinstance(value, str)
        or not 1 <= len(value.strip()) <= MAX_BRAND_LENGTH
        or not value.isprintable()
    ):
        raise SettingInvalid(
            f"{name} is 1 to {MAX_BRAND_LENGTH} printable characters", field=f"settings.{name}"
        )
    return value.strip()


def parse_locale(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise SettingInvalid(f"{name} must be a BCP 47 tag such as 'fr'", field=f"settings.{name}")
    return normalize_tag(value, field=f"settings.{name}")


def parse_templates(name: str, value: object) -> Mapping[str, str]:
    """`{"fr": "Votre code {app} : {code}", "pt-BR": …}`: tags normalised, texts validated."""
    if not isinstance(value, dict) or len(value) > MAX_LOCALE_TEMPLATES:
        raise SettingInvalid(
            f"{name} must map at most {MAX_LOCALE_TEMPLATES} locales to a template, "
            'as {"fr": "Votre code {app} : {code}"}',
            field=f"settings.{name}",
        )
    templates = {}
    for tag, template in value.items():
        field = f"settings.{name}.{tag}"
        if not isinstance(template, str):
            raise TemplateInvalid("a template must be a string", field=field)
        templates[normalize_tag(tag, field=field)] = validate_template(template, field=field)
    return templates


def parse_host_name(name: str, value: object) -> str:
    """A host name (`example.com`), not a URL; an internationalised one in its A-label form,
    which is how a browser compares it with the page's origin."""
    host = value.strip().rstrip(".").lower() if isinstance(value, str) else ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        host = ""
    labels = host.split(".")
    if (
        not host
        or len(host) > 253
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise SettingInvalid(
            f"{name} must be a host name such as example.com (no scheme, port or path)",
            field=f"settings.{name}",
        )
    return host


def parse_app_hash(name: str, value: object) -> str:
    if not isinstance(value, str) or not _APP_HASH.fullmatch(value):
        raise SettingInvalid(
            f"{name} is exactly {APP_HASH_LENGTH} characters of A-Z a-z 0-9 + / "
            "(the hash Android's SMS Retriever computes for your app)",
            field=f"settings.{name}",
        )
    return value
