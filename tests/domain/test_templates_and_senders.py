"""Message templates (literal, single-pass replacement; `{code}` required) and sender rules."""

from __future__ import annotations

import pytest

from otpgate.domain.errors import SenderInvalid, TemplateInvalid
from otpgate.domain.templates import (
    MAX_TEMPLATE_LENGTH,
    is_numeric_sender,
    render_template,
    validate_sender,
    validate_template,
)

VALUES = {"code": "482913", "minutes": "10", "app": "shop"}


def test_each_placeholder_is_replaced_by_its_value() -> None:
    rendered = render_template("{app}: {code} is valid for {minutes} min. {code}", VALUES)
    assert rendered == "shop: 482913 is valid for 10 min. 482913"


def test_replacement_is_a_single_pass_so_a_value_is_never_expanded_again() -> None:
    rendered = render_template("{app} says {code}", {**VALUES, "app": "{code}{minutes}"})
    assert rendered == "{code}{minutes} says 482913"


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ("{code} {0} {}", "482913 {0} {}"),
        ("{code.__class__} {code}", "{code.__class__} 482913"),
        ("{code!r} {code:>10} {code}", "{code!r} {code:>10} 482913"),
        ("%s %(code)s {code}", "%s %(code)s 482913"),
        ("{{code}}", "{482913}"),
        ("${code} {{ code }} {% if %}", "$482913 {{ code }} {% if %}"),
        ("{CODE} { code } {code}", "{CODE} { code } 482913"),
        ("{unknown} {code}", "{unknown} 482913"),
    ],
)
def test_no_format_string_or_template_engine_sees_the_text(template: str, rendered: str) -> None:
    assert render_template(template, VALUES) == rendered


@pytest.mark.parametrize(
    "template", ["Your code is {CODE}", "Your code is { code }", "Your code is {code", "code}"]
)
def test_a_template_without_the_exact_code_placeholder_is_refused(template: str) -> None:
    with pytest.raises(TemplateInvalid) as refused:
        validate_template(template)
    assert refused.value.code == "invalid_template"
    assert refused.value.field == "template"


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("Your code is", "{code}"),
        ("{minutes} {app}", "{code}"),
        ("{code}" + "x" * (MAX_TEMPLATE_LENGTH - 5), "longer"),
        ("{code}\x00", "control"),
        ("{code}\t", "control"),
        ("{code}\x1b[31m", "control"),
        ("{code}\x7f", "control"),
    ],
)
def test_a_bad_template_is_refused_saying_why(template: str, reason: str) -> None:
    with pytest.raises(TemplateInvalid) as refused:
        validate_template(template, field="settings.template")
    assert reason in refused.value.detail
    assert refused.value.field == "settings.template"


@pytest.mark.parametrize(
    "template",
    [
        "{code}",
        "Your code is {code}\nDo not share it.",
        "{code}" + "x" * (MAX_TEMPLATE_LENGTH - 6),  # exactly the longest
        "Ihr Code: {code} (gültig {minutes} Min.) \u2013 {app} 🔐",
    ],
)
def test_a_good_template_is_accepted_unchanged(template: str) -> None:
    assert validate_template(template) == template


@pytest.mark.parametrize(
    "sender",
    [
        "MAYFLOWER",
        "AB",
        "12",
        "+447123123456",
        "123456789012345",
        "ABCDEFGHIJK",
        "My Shop",
        "a.b_c-d",
        "Shop 24",
    ],
)
def test_a_valid_sender_is_accepted_unchanged(sender: str) -> None:
    assert validate_sender(sender) == sender


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("A", "too_short"),
        ("1", "too_short"),
        ("+1", "too_short"),
        ("1234567890123456", "numeric_too_long"),
        ("ABCDEFGHIJKL", "text_too_long"),
        ("MAY!FLOWER", "characters"),
        ("Müller", "characters"),
        ("MAY\x00", "characters"),
        ("+ABC", "characters"),
        ("SHOP\n", "characters"),
        ("".join(chr(ord(c) + 0xFEE0) for c in "SHOP"), "characters"),  # fullwidth
    ],
)
def test_an_invalid_sender_is_refused_with_its_reason(sender: str, reason: str) -> None:
    with pytest.raises(SenderInvalid) as refused:
        validate_sender(sender, field="settings.sender")
    assert refused.value.reason == reason
    assert refused.value.code == "invalid_sender"
    assert refused.value.field == "settings.sender"


@pytest.mark.parametrize(
    ("sender", "numeric"),
    [("+447123123456", True), ("4471", True), ("MAYFLOWER", False), ("12 34", False)],
)
def test_a_sender_of_digits_only_is_numeric(sender: str, numeric: bool) -> None:
    assert is_numeric_sender(sender) is numeric
