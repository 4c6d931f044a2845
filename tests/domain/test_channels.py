"""What each channel's message says, and the workflow a start or an app may give."""

from __future__ import annotations

from datetime import timedelta

import pytest

from otpgate.domain.channels import (
    Channel,
    ChannelMessage,
    Step,
    parse_workflow,
    spoken_code,
)
from otpgate.domain.errors import ValidationFailed
from otpgate.domain.locales import with_region
from otpgate.domain.message_text import MessageOptions, builtin_texts
from otpgate.service.channel_messages import MessageText


@pytest.mark.parametrize("tag", sorted(builtin_texts()))
def test_every_shipped_locale_has_a_voice_language_with_a_region(tag: str) -> None:
    language, _, region = with_region(tag).partition("-")
    assert language == tag.split("-")[0]
    assert region.isupper() or region.isdigit(), with_region(tag)


@pytest.mark.parametrize(
    ("tag", "voice"),
    [("fr", "fr-FR"), ("en", "en-US"), ("pt-BR", "pt-BR"), ("zh-Hant", "zh-TW"), ("ja", "ja-JP")],
)
def test_a_voice_language_is_the_tags_own_region_or_its_likeliest(tag: str, voice: str) -> None:
    assert with_region(tag) == voice


def test_a_code_is_spoken_one_character_at_a_time() -> None:
    assert spoken_code("042917") == "0, 4, 2, 9, 1, 7"
    assert spoken_code("ab3d") == "A, B, 3, D"


def text(locale: str = "fr", **options: str) -> MessageText:
    return MessageText(
        builtin_texts()[locale],
        {},
        timedelta(minutes=10),
        locale,
        MessageOptions(brand="Shop", **options),
    )


def test_a_call_says_the_text_twice_without_the_lines_only_a_phone_reads() -> None:
    said = text(webotp_domain="example.com", android_app_hash="AbCdEfGhIjK").content(
        Channel.CALL, "123456", 10
    )
    once = "Votre code de vérification Shop : 1, 2, 3, 4, 5, 6"
    assert (said.body, said.language, said.code) == (f"{once} {once}", "fr-FR", None)


def test_a_whatsapp_message_carries_its_code_for_the_template_and_its_text() -> None:
    message = text("en").content(Channel.WHATSAPP, "123456", 10)
    assert (message.code, message.language) == ("123456", "en")
    assert message.body == "Your Shop verification code is 123456"


def test_an_sms_is_sealed_as_its_text_and_the_others_with_what_their_provider_needs() -> None:
    sms = ChannelMessage(Channel.SMS, "Your code is 1234")
    assert sms.pack() == "Your code is 1234"
    for message in (
        ChannelMessage(Channel.CALL, "1, 2, 3, 4", language="en-US"),
        ChannelMessage(Channel.WHATSAPP, "code 1234", language="en", code="1234"),
        sms,
    ):
        assert ChannelMessage.unpack(message.channel, message.pack()) == message


def test_a_workflow_step_waits_120_seconds_unless_told() -> None:
    steps = parse_workflow(
        [{"channel": "whatsapp", "timeout_seconds": 15}, {"channel": "sms"}], field="workflow"
    )
    assert steps == (Step(Channel.WHATSAPP, 15), Step(Channel.SMS, 120))


@pytest.mark.parametrize(
    "value",
    [
        [],
        [{"channel": "sms"}] * 4,
        [{"channel": "pigeon"}],
        [{"channel": "sms", "timeout_seconds": 901}],
        [{"channel": "sms", "timeout_seconds": True}],
        [{"channel": "sms", "delay": 3}],
        {"channel": "sms"},
    ],
)
def test_a_malformed_workflow_is_refused(value: object) -> None:
    with pytest.raises(ValidationFailed):
        parse_workflow(value, field="workflow")
