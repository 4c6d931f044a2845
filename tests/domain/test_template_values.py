"""Caller-supplied placeholder values (IDResponse's `{fn}`) and the template without a code."""

from __future__ import annotations

import pytest

from otpgate.domain.errors import TemplateInvalid, TemplateWithoutCode
from otpgate.domain.templates import (
    MAX_EXTRA_VALUE_LENGTH,
    render_template,
    used_extra_values,
    validate_template,
)


def test_only_the_values_a_template_uses_are_kept() -> None:
    values = {"fn": "John", "ln": "Smith", "address": "x" * 500}
    assert used_extra_values("Hello {fn}, {code}", values) == {"fn": "John"}


def test_built_in_placeholders_cannot_be_overridden_by_a_caller_value() -> None:
    assert used_extra_values("{code} {app} {minutes}", {"code": "1", "app": "evil"}) == {}


@pytest.mark.parametrize("value", ["x" * (MAX_EXTRA_VALUE_LENGTH + 1), "a\nb", "a\x00b", "\ud800"])
def test_a_used_value_that_is_long_or_not_printable_is_refused(value: str) -> None:
    with pytest.raises(TemplateInvalid) as refused:
        used_extra_values("{fn} {code}", {"fn": value})
    assert refused.value.field == "template_values.fn"


def test_a_caller_value_is_rendered_once_and_never_expanded_again() -> None:
    values = {"fn": "{code}", "code": "482913", "minutes": "10", "app": "shop"}
    assert render_template("Hello {fn}, {code} {ln}", values) == "Hello {code}, 482913 {ln}"


def test_a_template_without_the_code_says_so_by_its_class() -> None:
    with pytest.raises(TemplateWithoutCode) as refused:
        validate_template("Hello {fn}")
    assert refused.value.code == "invalid_template"
