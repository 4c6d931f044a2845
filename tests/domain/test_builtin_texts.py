"""otpgate's built-in texts: one a locale, each naming the brand, holding the code once, short."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otpgate.domain.gsm import Encoding, measure
from otpgate.domain.locales import parse_tag
from otpgate.domain.message_text import (
    MessageOptions,
    builtin_locales,
    builtin_texts,
    compose,
)
from otpgate.domain.policy import AppSettings
from otpgate.domain.templates import validate_template

TEXTS = builtin_texts()
RIGHT_TO_LEFT = ("ar", "fa", "he", "ur")


def test_there_are_at_least_40_locales_right_to_left_ones_among_them() -> None:
    assert len(TEXTS) >= 40
    assert set(RIGHT_TO_LEFT) <= set(TEXTS)
    for tag in RIGHT_TO_LEFT:
        assert any(unicodedata.bidirectional(char) in ("R", "AL") for char in TEXTS[tag])


def test_each_tag_is_canonical_bcp_47_and_has_an_english_name() -> None:
    for tag, name in builtin_locales():
        assert str(parse_tag(tag)) == tag
        assert name != tag and name.isprintable()
    assert dict(builtin_locales())["pt-BR"] == "Portuguese (Brazil)"


@pytest.mark.parametrize("tag", sorted(TEXTS))
def test_a_built_in_text_renders_with_the_code_once_in_one_segment(tag: str) -> None:
    template = validate_template(TEXTS[tag])
    assert template.count("{code}") == 1 and template.count("{app}") == 1
    assert not any(char.isdigit() for char in template)  # so a code can be found in it
    assert unicodedata.is_normalized("NFC", template)
    body = compose(template, {}, MessageOptions(brand="B" * 30), "0123456789")
    assert body.count("0123456789") == 1 and "B" * 30 in body
    size = measure(body)
    assert size.segments == 1, (tag, size)


@pytest.mark.parametrize("tag", RIGHT_TO_LEFT)
def test_a_right_to_left_text_is_sent_as_ucs2(tag: str) -> None:
    body = compose(TEXTS[tag], {}, MessageOptions(brand="Shop"), "123456")
    assert measure(body).encoding is Encoding.UCS2


_BRANDS = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Nd", "No", "Nl", "Co", "Cn")
    ),
    min_size=1,
    max_size=30,
).filter(lambda brand: brand.strip() and brand.isprintable())
# a code has a digit, and no built-in text has one, so the code cannot hide in the text
_CODES = st.from_regex(r"[0-9]{4,10}|[a-z0-9]{3,9}[0-9]", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(tag=st.sampled_from(sorted(TEXTS)), code=_CODES, brand=_BRANDS)
def test_any_code_and_brand_give_the_code_once_within_max_segments(
    tag: str, code: str, brand: str
) -> None:
    body = compose(TEXTS[tag], {}, MessageOptions(brand=brand), code)
    assert body.count(code) == 1
    assert measure(body).segments <= AppSettings().max_segments


def test_docs_list_every_built_in_locale_with_its_text() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "messages.md").read_text(encoding="utf-8")
    for tag, name in builtin_locales():
        assert f"| `{tag}` | {name} | {TEXTS[tag]} |" in docs, tag
