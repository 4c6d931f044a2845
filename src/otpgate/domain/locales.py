"""BCP 47 language tags: parsing, fallback chains, a country's languages (CLDR, via babel).

babel is a pure library over the CLDR data it ships; like phonenumbers it reads only its own
package data, so it belongs here beside the rules that use it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache, lru_cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global, parse_locale
from babel.languages import get_official_languages

from otpgate.domain.errors import LocaleInvalid

FALLBACK_LOCALE = "en"
MAX_TAG_LENGTH = 35
# RFC 5646: subtags of 1 to 8 letters or digits; a singleton (one character) opens an
# extension or private use, which say nothing about the language and are set aside
_SUBTAG = re.compile(r"[A-Za-z0-9]{1,8}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}|[A-Za-z]{5,8}")
# Parsing and CLDR look-ups cost a start about 0.25 ms; their answers depend only on their
# arguments and on the CLDR data babel ships, so they are memoised for the process's life (no
# invalidation: the data changes only with babel), bounded where a caller picks the argument.
_MEMO_SIZE = 1024


@dataclass(frozen=True)
class LanguageTag:
    language: str
    script: str | None = None
    region: str | None = None

    def __str__(self) -> str:
        return "-".join(part for part in (self.language, self.script, self.region) if part)


@lru_cache(maxsize=_MEMO_SIZE)
def parse_tag(tag: str, *, field: str = "locale") -> LanguageTag:
    """A well-formed tag's language, script and region in their canonical case; `iw` is `he`."""
    subtags = tag.replace("_", "-").split("-") if isinstance(tag, str) else []
    if (
        not subtags
        or len(tag) > MAX_TAG_LENGTH
        or not all(_SUBTAG.fullmatch(subtag) for subtag in subtags)
        or not _LANGUAGE.fullmatch(subtags[0])
    ):
        raise LocaleInvalid(f"{tag!r} is not a BCP 47 language tag", field=field)
    singleton = next((i for i, subtag in enumerate(subtags) if len(subtag) == 1), len(subtags))
    try:
        language, region, script = parse_locale("-".join(subtags[:singleton]), sep="-")[:3]
    except ValueError:
        raise LocaleInvalid(f"{tag!r} is not a BCP 47 language tag", field=field) from None
    language = _language_aliases().get(language, language)
    return LanguageTag(language, script, region)


def normalize_tag(tag: str, *, field: str = "locale") -> str:
    return str(parse_tag(tag, field=field))


@lru_cache(maxsize=_MEMO_SIZE)
def fallback_chain(tag: LanguageTag) -> tuple[str, ...]:
    """The tags to try for `tag`, most specific first: `es-MX`, `es`; `zh-TW`, `zh-Hant`.
    A script other than the language's usual one is never dropped (`sr-Latn` is not `sr`),
    as CLDR's parent locales have it."""
    likely = _likely(tag)
    script = tag.script or likely.script
    chain = [
        tag,
        LanguageTag(tag.language, script, tag.region or likely.region),
        LanguageTag(tag.language, script),
    ]
    if script == _likely(LanguageTag(tag.language)).script:
        chain += [LanguageTag(tag.language, None, tag.region or likely.region)]
        chain += [LanguageTag(tag.language)]
    return tuple(dict.fromkeys(str(candidate) for candidate in chain))


@cache  # one entry a country
def country_languages(country: str) -> tuple[LanguageTag, ...]:
    """The languages of a country, the most spoken first (CLDR's official and de-facto ones),
    each as spoken there: `BR` gives `pt-BR`, `TW` gives `zh-Hant-TW`."""
    tags = []
    for identifier in get_official_languages(country, de_facto=True):
        language, _region, script = parse_locale(identifier)[:3]
        tags.append(LanguageTag(language, script, country))
    return tuple(tags)


def best_available(tag: LanguageTag, available: Collection[str]) -> str | None:
    return next((candidate for candidate in fallback_chain(tag) if candidate in available), None)


def resolve_locale(
    requested: str | None,
    country: str | None,
    *,
    from_number: bool,
    default_locale: str,
    available: Collection[str],
) -> str:
    """The locale of a message: the request's (along its chain), else the number's country's
    languages when `from_number`, else the app's default, else English."""
    if requested is not None:
        wanted: tuple[LanguageTag, ...] = (parse_tag(requested),)
    elif from_number and country:
        wanted = country_languages(country)
    else:
        wanted = ()
    for tag in (*wanted, parse_tag(default_locale, field="settings.default_locale")):
        found = best_available(tag, available)
        if found is not None:
            return found
    return FALLBACK_LOCALE


def english_name(tag: str) -> str:
    """`fr` is French, `pt-BR` Portuguese (Brazil), `zh-Hant` Chinese (Traditional)."""
    try:
        name = Locale.parse(tag, sep="-").english_name
    except (ValueError, UnknownLocaleError):
        name = None
    return name or tag


def _likely(tag: LanguageTag) -> LanguageTag:
    """CLDR's likely subtags: `zh-TW` is written in Hant, `pt` is spoken in BR."""
    likely = get_global("likely_subtags")
    for key in (
        f"{tag.language}_{tag.script}_{tag.region}",
        f"{tag.language}_{tag.region}",
        f"{tag.language}_{tag.script}",
        tag.language,
    ):
        if "None" not in key and key in likely:
            language, region, script = parse_locale(likely[key])[:3]
            return LanguageTag(language, script, region)
    return tag


@cache
def _language_aliases() -> dict[str, str]:
    # only plain language-to-language aliases (`iw` to `he`, `tl` to `fil`), not whole locales
    return {
        old: new
        for old, new in get_global("language_aliases").items()
        if isinstance(new, str) and _LANGUAGE.fullmatch(new) and "_" not in old
    }


@lru_cache(maxsize=_MEMO_SIZE)
def with_region(tag: str) -> str:
    """The tag with a region, as text-to-speech voices are named: the tag's own, else its
    language's most likely one in CLDR (`fr` -> `fr-FR`, `zh-Hant` -> `zh-TW`)."""
    parsed = parse_tag(tag)
    if parsed.region is not None:
        return f"{parsed.language}-{parsed.region}"
    likely = get_global("likely_subtags")
    key = parsed.language if parsed.script is None else f"{parsed.language}_{parsed.script}"
    found = likely.get(key) or likely.get(parsed.language)
    region = None if found is None else parse_locale(found)[1]
    return parsed.language if region is None else f"{parsed.language}-{region}"
